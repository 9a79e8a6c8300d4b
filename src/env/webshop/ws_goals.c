/* Synthetic goals as WebShop builds them (spec §3.3): per instruction product one price bound, then one
 * goal per combination of its option values (names sorted, first name slowest); then a fixed shuffle
 * and the splits test = 0-499, eval = 500-1499, train = the rest. Optionally the same goals phrased in
 * the style of the human instructions (lead-ins harvested from human_goals.json, bare option values). */
#include "env/webshop/ws.h"

#include <stdlib.h>
#include <string.h>

/* Price bound: the larger of random.sample(first four multiples of 10 above the price, 2). */
static double ws_price_bound(ws_pyrandom *r, double price) {
    double m[4], pick[2];
    int n = 0;
    for (int v = 10; v <= 990 && n < 4; v += 10)
        if (v > price) m[n++] = v;
    if (n < 2) return 1e6; /* no draw consumed */
    ws_py_sample_small(r, m, n, 2, pick);
    return pick[0] > pick[1] ? pick[0] : pick[1];
}

static int ws_str_ptr_cmp(const void *a, const void *b) {
    return strcmp((*(const ws_option *const *)a)->name, (*(const ws_option *const *)b)->name);
}

typedef struct ws_goal_list {
    ws_goal *v;
    int n, cap;
} ws_goal_list;

/* ---- human-style phrasing ---------------------------------------------------------------------- */

static const char *const ws_lead_ends[] = {"for", "need", "want", "like", "me", "in", "of", "buy", "get"};

/* The lead-in of a human instruction: the longest prefix of at most 5 words ending in a lead word. */
static size_t ws_lead_len(const char *s) {
    size_t best = 0, pos = 0;
    for (int wi = 0; wi < 5 && s[pos]; wi++) {
        size_t b = pos;
        while (s[pos] && s[pos] != ' ') pos++;
        for (size_t k = 0; k < sizeof ws_lead_ends / sizeof *ws_lead_ends; k++)
            if (pos - b == strlen(ws_lead_ends[k]) && !memcmp(s + b, ws_lead_ends[k], pos - b)) best = pos;
        while (s[pos] == ' ') pos++;
    }
    return best;
}

int ws_leads_load(ws_leads *l, const char *path, hp_err *err) {
    memset(l, 0, sizeof *l);
    char *data;
    size_t len;
    if (hp_read_file(path, &data, &len, err)) return HP_FAIL;
    cJSON *root = cJSON_ParseWithLength(data, len);
    free(data);
    if (!cJSON_IsArray(root)) {
        cJSON_Delete(root);
        return hp_fail(err, "%s: expected a JSON list of instruction strings", path);
    }
    const cJSON *it;
    cJSON_ArrayForEach(it, root) {
        if (!cJSON_IsString(it)) continue;
        size_t n = ws_lead_len(it->valuestring);
        if (!n) continue;
        int k = 0;
        while (k < l->n && (strlen(l->text[k]) != n || memcmp(l->text[k], it->valuestring, n))) k++;
        if (k == l->n) {
            l->text = hp_xrealloc(l->text, (size_t)(l->n + 1) * sizeof(char *));
            l->count = hp_xrealloc(l->count, (size_t)(l->n + 1) * sizeof(int));
            l->text[l->n] = hp_xstrndup(it->valuestring, n);
            l->count[l->n++] = 0;
        }
        l->count[k]++;
    }
    cJSON_Delete(root);
    /* keep the common ones (seen at least 20 times) */
    int o = 0;
    for (int k = 0; k < l->n; k++) {
        if (l->count[k] >= 20) {
            l->text[o] = l->text[k], l->count[o] = l->count[k], l->total += l->count[k];
            o++;
        } else {
            free(l->text[k]);
        }
    }
    l->n = o;
    if (!o) return hp_fail(err, "%s: no common instruction lead-in found", path);
    return HP_OK;
}

void ws_leads_free(ws_leads *l) {
    for (int k = 0; k < l->n; k++) free(l->text[k]);
    free(l->text);
    free(l->count);
    memset(l, 0, sizeof *l);
}

static const char *ws_pick_lead(const ws_leads *l, hp_rng *r) {
    long x = (long)hp_rng_below(r, (uint64_t)l->total);
    for (int k = 0; k < l->n; k++)
        if ((x -= l->count[k]) < 0) return l->text[k];
    return l->text[0];
}

/* "i am looking for sulfate free and paraben free shampoo with argan oil in black and large". */
static void ws_human_text(hp_buf *b, const char *lead, const char *keywords, const ws_goal *g, const char *price) {
    hp_buf_clear(b);
    hp_buf_printf(b, "%s ", lead);
    for (const char *s = keywords; *s; s++) {
        if (s[0] == ',' && s[1] == ' ') {
            hp_buf_puts(b, " and");
            continue;
        }
        hp_buf_putc(b, *s);
    }
    for (int o = 0; o < g->n_opts; o++) hp_buf_printf(b, "%s%s", o ? " and " : " in ", g->opt_values[o]);
    hp_buf_puts(b, price);
}

static void ws_goals_of(ws_world *w, int pi, ws_pyrandom *r, hp_rng *style, const ws_leads *leads, ws_goal_list *out) {
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
        if (leads) {
            g->plain_opts = true;
            ws_human_text(&b, ws_pick_lead(leads, style), keywords, g, price_text);
        } else {
            hp_buf_clear(&b);
            hp_buf_puts(&b, p->instruction);
            for (int o = 0; o < no; o++) hp_buf_printf(&b, "%s%s: %s", o ? ", and " : " with ", g->opt_names[o], g->opt_values[o]);
            hp_buf_puts(&b, price_text);
        }
        g->text = ws_arena_strdup(&w->arena, b.data);
    }
    hp_buf_free(&b);
}

/* Human mode: one goal per human instruction with attributes; text without leading/trailing "." plus
 * the price clause; options are the bare instruction_options. */
static void ws_human_goals_of(ws_world *w, int pi, ws_pyrandom *r, ws_goal_list *out) {
    const ws_product *p = &w->products[pi];
    for (int h = 0; h < p->n_human; h++) {
        const ws_human_ins *hi = &p->human[h];
        if (!hi->n_attrs) continue;
        double bound = ws_price_bound(r, p->reward_price);
        char price_text[96] = "";
        if (bound < 1e6) snprintf(price_text, sizeof price_text, ", and price lower than %.2f dollars", bound);
        const char *s = hi->text, *e = s + strlen(s);
        while (s < e && *s == '.') s++;
        while (e > s && e[-1] == '.') e--;
        if (out->n == out->cap) out->v = hp_xrealloc(out->v, (size_t)(out->cap = out->cap ? out->cap * 2 : 1024) * sizeof(ws_goal));
        ws_goal *g = &out->v[out->n++];
        memset(g, 0, sizeof *g);
        g->product = pi;
        g->keywords = ws_arena_strndup(&w->arena, s, (size_t)(e - s));
        hp_buf b = {0};
        hp_buf_printf(&b, "%s%s", g->keywords, price_text);
        g->text = ws_arena_strdup(&w->arena, b.data);
        hp_buf_free(&b);
        g->attrs = hi->attrs;
        g->n_attrs = hi->n_attrs;
        g->n_opts = hi->n_opts;
        g->opt_values = hi->opts;
        g->opt_names = ws_arena_alloc(&w->arena, (size_t)(hi->n_opts ? hi->n_opts : 1) * sizeof(char *));
        for (int o = 0; o < hi->n_opts; o++) g->opt_names[o] = "";
        g->plain_opts = true;
        g->price_upper = bound;
    }
}

int ws_goals_build(ws_world *w, uint64_t seed, const ws_leads *leads, hp_err *err) {
    /* Python's random: seeded with the env seed (verl-agent) before the catalog's price draws (real data:
     * the loader seeded and drew already), then one sample per instruction product, then re-seeded for
     * the shuffle */
    if (!w->py_seeded) ws_py_seed(&w->py, seed);
    hp_rng style;
    hp_rng_seed(&style, seed, 0x7374796c65ull);
    ws_goal_list list = {0};
    for (int i = 0; i < w->n_products; i++) {
        if (w->human_goals) ws_human_goals_of(w, i, &w->py, &list);
        else if (w->products[i].instruction && w->products[i].n_ins_attrs > 0) ws_goals_of(w, i, &w->py, &style, leads, &list);
    }
    if (!list.n) {
        free(list.v);
        return hp_fail(err, "%s: no product has a %s instruction with attributes, so there are no goals", w->source,
                       w->human_goals ? "human" : "synthetic");
    }
    ws_py_seed(&w->py, seed); /* re-seeded before the shuffle, as WebShop does */
    ws_py_shuffle(&w->py, list.v, (size_t)list.n, sizeof(ws_goal));
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
