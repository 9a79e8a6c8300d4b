/* The reward of spec §7 per component and combined, on hand-built products whose expected values are
 * worked out by hand from the spec's formula (and the upstream test_goal.py expectations). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "env/webshop/ws.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#define P " \xE2\x80\xBA " /* the category separator */

static const char *sizes[] = {"x-small", "small", "medium"};
static const char *colors[] = {"black", "navy blue", "redwood"};
static ws_option dress_opts[] = {{"size", sizes, 3}, {"color", colors, 3}};
static const char *dress_attrs[] = {"polyester spandex", "daily wear", "machine wash"};
static const char *dress_bullets[] = {"Soft fabric", "Hand wash only"};
static const char *dress_nouns[] = {"shein", "dress", "women"};
static const char *dress2_nouns[] = {"zara", "dress"};
static const char *table_nouns[] = {"vhomes", "table"};
static const char *mixed_nouns[] = {"shein", "table", "lamp", "desk", "chair", "sofa", "rug"};

static ws_world *world(void) {
    ws_world *w = hp_xcalloc(1, sizeof *w);
    w->n_products = 4;
    w->products = hp_xcalloc(4, sizeof(ws_product));
    ws_product *p = w->products;
    /* 0: the target */
    p[0] = (ws_product){.asin = "B000000000", .title = "SheIn Women's Bodycon Dress", .desc = "", .bullets = dress_bullets,
                        .n_bullets = 2, .query = "women's dresses", .category = "fashion",
                        .product_category = "Clothing" P "Women" P "Dresses", .price_tag = "$19.99", .reward_price = 19.99,
                        .options = dress_opts, .n_options = 2, .attrs = dress_attrs, .n_attrs = 3, .nouns = dress_nouns,
                        .n_nouns = 3};
    /* 1: same type, other brand, no attributes; "daily wear" only in its description; dearer */
    p[1] = (ws_product){.asin = "B000000001", .title = "Zara Dress", .desc = "Great for Daily Wear.", .bullets = NULL,
                        .n_bullets = 0, .query = "women's dresses", .category = "fashion",
                        .product_category = "Clothing" P "Women" P "Dresses", .price_tag = "$99.0", .reward_price = 99.0,
                        .nouns = dress2_nouns, .n_nouns = 2};
    /* 2: another type entirely */
    p[2] = (ws_product){.asin = "B000000002", .title = "Vhomes Console Table", .desc = "", .query = "console tables",
                        .category = "garden", .product_category = "Home & Kitchen" P "Furniture", .price_tag = "$10.0",
                        .reward_price = 10.0, .nouns = table_nouns, .n_nouns = 2};
    /* 3: another type sharing one of seven title nouns with the goal's (title score 1/7) */
    p[3] = (ws_product){.asin = "B000000003", .title = "x", .desc = "", .query = "furniture sets", .category = "garden",
                        .product_category = "Home & Kitchen" P "Furniture", .price_tag = "$10.0", .reward_price = 10.0,
                        .nouns = dress_nouns, .n_nouns = 1};
    return w;
}

static ws_goal goal(const char *const *names, const char *const *values, int n) {
    static const char *gattrs[] = {"polyester spandex", "daily wear"};
    return (ws_goal){.product = 0, .text = "", .keywords = "", .attrs = gattrs, .n_attrs = 2,
                     .opt_names = (const char **)names, .opt_values = (const char **)values, .n_opts = n, .price_upper = 40.0};
}

static double reward(const ws_world *w, const ws_goal *g, int product, int size, int color, ws_reward_parts *parts) {
    int chosen[WS_MAX_OPT_GROUPS];
    for (int i = 0; i < WS_MAX_OPT_GROUPS; i++) chosen[i] = -1;
    chosen[0] = size, chosen[1] = color;
    return ws_reward(w, g, product, chosen, parts);
}

static void test_components(void **state) {
    (void)state;
    ws_world *w = world();
    const char *names[] = {"color", "size"}, *values[] = {"black", "x-small"};
    ws_goal g = goal(names, values, 2);
    ws_reward_parts r;
    /* the target with both options: (2 + 2 + 1) / 5 */
    assert_true(reward(w, &g, 0, 0, 0, &r) == 1.0);
    assert_int_equal(r.attr_matches, 2);
    assert_int_equal(r.option_matches, 2);
    assert_true(r.price_ok);
    assert_true(r.r_type == 1.0);
    /* one option missing: 4/5 */
    assert_true(fabs(reward(w, &g, 0, -1, 0, &r) - 0.8) < 1e-12);
    assert_int_equal(r.option_matches, 1);
    /* "small" satisfies the pair ("size", "x-small")... */
    assert_true(reward(w, &g, 0, 1, 0, &r) == 1.0);
    /* ...but "x-small" does not satisfy ("size", "small") (83 < 86) */
    const char *values2[] = {"black", "small"};
    ws_goal g2 = goal(names, values2, 2);
    reward(w, &g2, 0, 0, 0, &r);
    assert_int_equal(r.option_matches, 1);
    /* "navy blue" bought: normalised to "blue", still a token of the goal pair "color navy blue" */
    const char *values3[] = {"navy blue", "x-small"};
    ws_goal g3 = goal(names, values3, 2);
    assert_true(reward(w, &g3, 0, 0, 1, &r) == 1.0);
    /* the spec's unwinnable case: "redwood" -> "red" is not a token of "color redwood" */
    const char *values4[] = {"redwood", "x-small"};
    ws_goal g4 = goal(names, values4, 2);
    assert_true(fabs(reward(w, &g4, 0, 0, 2, &r) - 0.8) < 1e-12);
    /* attribute by substring of the description, price over the bound, no options: (1 + 0 + 0) / 5;
     * r_type 1 (same query), title score |{dress}| / 3 */
    assert_true(fabs(reward(w, &g, 1, -1, -1, &r) - 0.2) < 1e-12);
    assert_int_equal(r.attr_matches, 1);
    assert_false(r.price_ok);
    assert_true(r.r_type == 1.0);
    free(w->products);
    free(w);
}

static void test_r_type(void **state) {
    (void)state;
    ws_world *w = world();
    ws_goal g = goal(NULL, NULL, 0);
    ws_reward_parts r;
    /* no common title noun -> 0 whatever else matches */
    assert_true(reward(w, &g, 2, -1, -1, &r) == 0.0);
    assert_true(r.r_type == 0.0);
    /* 1/3 of the goal's nouns, other query and category: 0.5 factor needs title score <= 0.2, so use a
     * goal title with 7 nouns and a product sharing one (score 1/7: < 0.2 and >= 0.1) */
    w->products[0].nouns = mixed_nouns;
    w->products[0].n_nouns = 7;
    reward(w, &g, 3, -1, -1, &r);
    assert_true(r.r_type == 0.5);
    /* the same product with a matching category path (two common levels) -> 1.0 */
    w->products[3].product_category = "Women" P "Clothing" P "Shoes";
    reward(w, &g, 3, -1, -1, &r);
    assert_true(r.r_type == 1.0);
    /* title score below 0.1 -> 0.1: one of 11 nouns (a duplicate-heavy goal title) */
    static const char *many[] = {"shein", "a", "b", "c", "d", "e", "f", "g", "h", "i", "j"};
    w->products[0].nouns = many;
    w->products[0].n_nouns = 11;
    reward(w, &g, 3, -1, -1, &r);
    assert_true(r.r_type == 0.1);
    /* empty goal noun list -> title score 0.2 */
    w->products[0].n_nouns = 0;
    assert_true(ws_title_score(&w->products[0], &w->products[3]) == 0.2);
    free(w->products);
    free(w);
}

/* Category paths (upstream test_goal.py): "a › b › c" against others, two common levels needed. */
static void test_category_paths(void **state) {
    (void)state;
    ws_world *w = world();
    ws_goal g = goal(NULL, NULL, 0);
    ws_reward_parts r;
    static const char *dummy_nouns[] = {"q", "r", "s", "t", "u", "v", "shein"}; /* title score 1/7 */
    w->products[0].nouns = dummy_nouns;
    w->products[0].n_nouns = 7;
    w->products[0].product_category = "a" P "b" P "c";
    static const struct {
        const char *path;
        bool match;
    } cases[] = {{"b" P "c" P "a", true}, {"a" P "d" P "b", true}, {"a" P "a" P "b", true},
                 {"d" P "e" P "f", false}, {"a" P "a" P "d", false}};
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        w->products[3].product_category = cases[i].path;
        reward(w, &g, 3, -1, -1, &r);
        assert_true(r.r_type == (cases[i].match ? 1.0 : 0.5));
    }
    free(w->products);
    free(w);
}

/* Combined values like upstream's 1.0, 2/3, 4/7: attributes + options + price over n + 1. */
static void test_combined(void **state) {
    (void)state;
    ws_world *w = world();
    const char *names[] = {"color", "size"}, *values[] = {"black", "medium"};
    ws_goal g = goal(names, values, 2);
    ws_reward_parts r;
    /* 2 attrs + 1 of 2 options + price = 4 of 5 ... with a third goal attribute absent: 4/6 = 2/3 */
    static const char *gattrs3[] = {"polyester spandex", "daily wear", "gluten free"};
    g.attrs = gattrs3;
    g.n_attrs = 3;
    assert_true(fabs(reward(w, &g, 0, 0, 0, &r) - 4.0 / 6.0) < 1e-12);
    /* three options, one chosen right: (2 + 1 + 1) / 7 = 4/7 */
    const char *names3[] = {"color", "size", "style"}, *values3[] = {"black", "medium", "classic"};
    ws_goal g3 = goal(names3, values3, 3);
    g3.attrs = gattrs3;
    g3.n_attrs = 3;
    assert_true(fabs(reward(w, &g3, 0, 0, 0, &r) - 4.0 / 7.0) < 1e-12);
    /* and the same with r_type 0.5: 2/7 */
    static const char *seven[] = {"shein", "p", "q", "r", "s", "t", "u"};
    w->products[0].nouns = seven;
    w->products[0].n_nouns = 7;
    w->products[3].options = dress_opts;
    w->products[3].n_options = 2;
    w->products[3].attrs = dress_attrs;
    w->products[3].n_attrs = 3;
    w->products[3].reward_price = 19.99;
    assert_true(fabs(reward(w, &g3, 3, 0, 0, &r) - 2.0 / 7.0) < 1e-12);
    assert_true(r.r_type == 0.5);
    free(w->products);
    free(w);
}

int main(void) {
    const struct CMUnitTest tests[] = {cmocka_unit_test(test_components), cmocka_unit_test(test_r_type),
                                       cmocka_unit_test(test_category_paths), cmocka_unit_test(test_combined)};
    return cmocka_run_group_tests(tests, NULL, NULL);
}
