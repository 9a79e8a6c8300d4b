/* Synthetic goals as WebShop builds them (spec §3.3): per instruction product one price bound, then one
 * goal per combination of its option values (names sorted, first name slowest); then a fixed shuffle
 * and the splits test = 0-499, eval = 500-1499, train = the rest. */
#include "env/webshop/ws.h"

#include <stdlib.h>
#include <string.h>

/* Price bound: the larger of two distinct draws among the first four multiples of 10 above the price. */
static double ws_price_bound(hp_rng *r, double price) {
    int m[4], n = 0;
    for (int v = 10; v <= 990 && n < 4; v += 10)
        if (v > price) m[n++] = v;
    if (n < 2) return 1e6;
    int i = (int)hp_rng_below(r, (uint64_t)n), j = (int)hp_rng_below(r, (uint64_t)(n - 1));
    if (j >= i) j++;
    return m[i > j ? i : j];
}

static int ws_str_ptr_cmp(const void *a, const void *b) {
    return strcmp((*(const ws_option *const *)a)->name, (*(const ws_option *const *)b)->name);
}

typedef struct ws_goal_list {
    ws_goal *v;
    int n, cap;
} ws_goal_list;

static void ws_goals_of(ws_world *w, int pi, hp_rng *r, ws_goal_list *out) {
    const ws_product *p = &w->products[pi];
    double bound = ws_price_bound(r, p->reward_price);
    char price_text[96] = "";
    if (bound < 1e6) snprintf(price_text, sizeof price_text, ", and price lower than %.2f dollars", bound);
    const ws_option *sorted[WS_MAX_OPT_GROUPS];
    int no = p->n_options < WS_MAX_OPT_GROUPS ? p->n_options : WS_MAX_OPT_GROUPS;
    long combos = 1;
    for (int o = 0; o < no; o++) sorted[o] = &p->options[o], combos *= p->options[o].n_values;
    if (combos > 100000) combos = 0; /* absurd option tables: no goals rather than a blow-up */
    qsort(sorted, (size_t)no, sizeof *sorted, ws_str_ptr_cmp);
    char *kw = ws_lower(p->instruction);
    const char *k = hp_str_starts(kw, "find me ") ? kw + 8 : kw;
    const char *keywords = ws_arena_strdup(&w->arena, k);
    free(kw);
    hp_buf b = {0};
    for (long c = 0; c < combos; c++) {
        if (out->n == out->cap) out->v = hp_xrealloc(out->v, (size_t)(out->cap = out->cap ? out->cap * 2 : 1024) * sizeof(ws_goal));
        ws_goal *g = &out->v[out->n++];
        memset(g, 0, sizeof *g);
        g->product = pi;
        g->keywords = keywords;
        g->attrs = p->ins_attrs;
        g->n_attrs = p->n_ins_attrs;
        g->price_upper = bound;
        g->n_opts = no;
        g->opt_names = ws_arena_alloc(&w->arena, (size_t)(no ? no : 1) * sizeof(char *));
        g->opt_values = ws_arena_alloc(&w->arena, (size_t)(no ? no : 1) * sizeof(char *));
        long rest = c;
        for (int o = no - 1; o >= 0; o--) { /* last name varies fastest */
            int nv = sorted[o]->n_values;
            g->opt_names[o] = sorted[o]->name;
            g->opt_values[o] = sorted[o]->values[rest % nv];
            rest /= nv;
        }
        hp_buf_clear(&b);
        hp_buf_puts(&b, p->instruction);
        for (int o = 0; o < no; o++) hp_buf_printf(&b, "%s%s: %s", o ? ", and " : " with ", g->opt_names[o], g->opt_values[o]);
        hp_buf_puts(&b, price_text);
        g->text = ws_arena_strdup(&w->arena, b.data);
    }
    hp_buf_free(&b);
}

int ws_goals_build(ws_world *w, uint64_t seed, hp_err *err) {
    hp_rng r;
    hp_rng_seed(&r, seed, 0x676f616c73ull);
    ws_goal_list list = {0};
    for (int i = 0; i < w->n_products; i++)
        if (w->products[i].instruction && w->products[i].n_ins_attrs > 0) ws_goals_of(w, i, &r, &list);
    if (!list.n) {
        free(list.v);
        return hp_fail(err, "%s: no product has a synthetic instruction, so there are no goals", w->source);
    }
    hp_rng_seed(&r, seed, 0x73687566666c65ull); /* re-seeded before the shuffle, as WebShop does */
    hp_rng_shuffle(&r, list.v, (size_t)list.n, sizeof(ws_goal));
    w->goals = ws_arena_alloc(&w->arena, (size_t)list.n * sizeof(ws_goal));
    memcpy(w->goals, list.v, (size_t)list.n * sizeof(ws_goal));
    w->n_goals = list.n;
    free(list.v);
    return HP_OK;
}

int ws_split_range(const ws_world *w, const char *split, int *lo, int *hi, hp_err *err) {
    int n = w->n_goals, a = n < 500 ? n : 500, b = n < 1500 ? n : 1500;
    if (!split) return hp_fail(err, "webshop: no split given (expected test, eval or train)");
    if (!strcmp(split, "test")) *lo = 0, *hi = a;
    else if (!strcmp(split, "eval")) *lo = a, *hi = b;
    else if (!strcmp(split, "train")) *lo = b, *hi = n;
    else return hp_fail(err, "webshop: unknown split '%s' (expected test, eval or train)", split);
    return HP_OK;
}
