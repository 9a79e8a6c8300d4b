/* Page texts and clickables against page_renders.txt (rendered with the real WebShop templates), and
 * verl-agent's observation form against the spec's Appendix A. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "env/webshop/ws.h"

#include <stdlib.h>
#include <string.h>

#define INSTR "i need a black x-small bodycon dress, and price lower than 40.00 dollars"

static ws_world *fixture(void) {
    ws_world *w = hp_xcalloc(1, sizeof *w);
    w->products = hp_xcalloc(2, sizeof(ws_product));
    w->n_products = 2;
    static const char *b0[] = {"One shoulder dresses for women/ Black mini dress ", "Pull On closure "};
    static const char *b1[] = {"Material:SOLID WOOD ", "Weight:41 "};
    static const char *sizes[] = {"x-small", "small", "medium", "large", "x-large"};
    static const char *colors[] = {"black", "light blue", "pink"};
    static ws_option opts[] = {{"size", sizes, 5}, {"color", colors, 3}};
    static const char *dummy[] = {"DUMMY_ATTR"};
    ws_product *p = w->products;
    snprintf(p[0].asin, sizeof p[0].asin, "B08ZRR3DZT");
    p[0].title = "SheIn Women's Sexy One Shoulder Sleeveless Cutout Mini Club Pencil Bodycon Dress";
    p[0].price_tag = "$19.99 to $27.99";
    p[0].desc = "";
    p[0].bullets = b0, p[0].n_bullets = 2;
    p[0].options = opts, p[0].n_options = 2;
    p[0].attrs = dummy, p[0].n_attrs = 1;
    p[0].category = "fashion", p[0].query = "women's dresses";
    p[0].product_category = "Clothing, Shoes & Jewelry \xE2\x80\xBA Women \xE2\x80\xBA Clothing \xE2\x80\xBA Dresses \xE2\x80\xBA Club & Night Out";
    snprintf(p[1].asin, sizeof p[1].asin, "B06Y3VLDFB");
    p[1].title = "Vhomes Lights Reclaimed Wood Console Table The Genessis Collection Sofa-Tables";
    p[1].price_tag = "$877.8";
    p[1].desc = "Solid, Reclaimed Fir Wood In Natural, Sun Bleached Finish With Light Antiquing Glaze.";
    p[1].bullets = b1, p[1].n_bullets = 2;
    p[1].attrs = dummy, p[1].n_attrs = 1;
    p[1].category = "garden", p[1].query = "console tables", p[1].product_category = "Home & Kitchen";
    return w;
}

/* Render the page a golden record names; false if the record is not a page this env can show. */
static bool render(ws_pv *pv, const ws_world *w, const char *name) {
    static const int p01[] = {0, 1}, p1[] = {1};
    int prod = strstr(name, "B06Y3VLDFB") ? 1 : 0;
    if (!strcmp(name, "search")) ws_page_search(pv, INSTR);
    else if (!strcmp(name, "results_p1")) ws_page_results(pv, w, INSTR, 1, 50, p01, 2);
    else if (!strcmp(name, "results_p2")) ws_page_results(pv, w, INSTR, 2, 50, p1, 1);
    else if (!strcmp(name, "results_p6")) ws_page_results(pv, w, INSTR, 6, 50, NULL, 0);
    else if (hp_str_starts(name, "item_B")) ws_page_item(pv, w, INSTR, prod, false);
    else if (!strcmp(name, "item_showattrs")) ws_page_item(pv, w, INSTR, 1, true);
    else if (hp_str_starts(name, "description_page")) ws_page_sub(pv, w, INSTR, prod, WS_DESC);
    else if (hp_str_starts(name, "features_page")) ws_page_sub(pv, w, INSTR, prod, WS_FEAT);
    else if (hp_str_starts(name, "review_page")) ws_page_sub(pv, w, INSTR, prod, WS_REVIEWS);
    else if (hp_str_starts(name, "attributes_page")) ws_page_sub(pv, w, INSTR, prod, WS_ATTRS);
    else if (!strcmp(name, "done")) {
        int chosen[WS_MAX_OPT_GROUPS], order[1] = {1};
        for (int i = 0; i < WS_MAX_OPT_GROUPS; i++) chosen[i] = -1;
        chosen[1] = 0; /* color: black */
        ws_page_done(pv, w, 0, chosen, order, 1, 2.0 / 3.0);
    } else return false; /* review_with_one: reviews are always empty in WebShop's data */
    return true;
}

static void test_golden_pages(void **state) {
    (void)state;
    char path[1024], *data;
    size_t len;
    hp_err err;
    snprintf(path, sizeof path, "%s/tests/webshop/fixtures/page_renders.txt", HP_SOURCE_DIR);
    if (hp_read_file(path, &data, &len, &err)) fail_msg("%s", err.msg);
    ws_world *w = fixture();
    ws_pv pv = {0};
    int checked = 0;
    char *save = NULL;
    char *name = NULL, *text = NULL;
    for (char *line = strtok_r(data, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
        if (hp_str_starts(line, "===== ")) {
            name = line + 6;
            text = NULL;
            continue;
        }
        if (!text) {
            text = line + 1;
            text[strlen(text) - 1] = 0; /* strip the repr quotes (no escapes occur) */
            continue;
        }
        /* clickables: (True, ['a', 'b']) */
        if (!render(&pv, w, name)) continue;
        if (strcmp(pv.raw.data, text)) fail_msg("%s:\n got  %s\n want %s", name, pv.raw.data, text);
        bool bar = hp_str_starts(line, "clickables: (True");
        assert_int_equal(bar, pv.search_bar);
        int k = 0;
        for (char *q = strchr(line, '['); q && *q;) {
            char *a = strpbrk(q, "'\"");
            if (!a) break;
            char *b = strchr(a + 1, *a);
            *b = 0;
            if (k >= pv.n_click) fail_msg("%s: missing clickable %s", name, a + 1);
            assert_string_equal(pv.click[k], a + 1);
            k++;
            q = b + 1;
        }
        assert_int_equal(k, pv.n_click);
        checked++;
    }
    assert_int_equal(checked, 17);
    ws_pv_free(&pv);
    free(w->products);
    free(w);
    free(data);
}

static void test_agent_form(void **state) {
    (void)state;
    ws_world *w = fixture();
    ws_pv pv = {0};
    hp_buf out = {0};
    static const int p01[] = {0, 1};
    ws_page_search(&pv, INSTR);
    ws_agent_observation(pv.raw.data, INSTR, &out);
    assert_string_equal(out.data, "'Search'");
    ws_page_results(&pv, w, INSTR, 1, 50, p01, 2);
    ws_agent_observation(pv.raw.data, INSTR, &out);
    assert_true(hp_str_starts(out.data, "'Back to Search' [SEP] 'Page 1 (Total results: 50)' [SEP] 'Next >' [SEP] "
                                        "'B08ZRR3DZT' [SEP] 'SheIn Women's Sexy One Shoulder Sleeveless Cutout Mini "
                                        "Club Pencil Bodycon Dress' [SEP] '$19.99 to $27.99' [SEP] 'B06Y3VLDFB' [SEP] "));
    ws_page_done(&pv, w, 1, (int[WS_MAX_OPT_GROUPS]){-1}, NULL, 0, 0.0);
    ws_agent_observation(pv.raw.data, INSTR, &out);
    assert_string_equal(out.data, pv.raw.data); /* no instruction on the done page: unchanged */
    assert_non_null(strstr(out.data, "[SEP] options [SEP] {} [SEP]"));
    hp_buf_free(&out);
    ws_pv_free(&pv);
    free(w->products);
    free(w);
}

int main(void) {
    const struct CMUnitTest tests[] = {cmocka_unit_test(test_golden_pages), cmocka_unit_test(test_agent_form)};
    return cmocka_run_group_tests(tests, NULL, NULL);
}
