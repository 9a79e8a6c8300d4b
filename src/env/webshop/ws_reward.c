/* WebShop's reward (spec §7): r = r_type * (attribute matches + option matches + price) / (|attrs| +
 * |options| + 1), with thefuzz token_set_ratio > 85 and normalize_color as upstream. */
#include "env/webshop/ws.h"

#include <stdlib.h>
#include <string.h>

#define WS_FUZZ_PASS 85

static bool ws_attr_matches(const ws_product *p, const char *g, const char *title, const char *bullets, const char *desc) {
    for (int i = 0; i < p->n_attrs; i++)
        if (ws_fuzz_token_set_ratio(p->attrs[i], g) > WS_FUZZ_PASS) return true;
    return strstr(title, g) || strstr(bullets, g) || strstr(desc, g);
}

/* Split a category path on U+203A and strip the pieces. */
static int ws_path_pieces(const char *path, char pieces[][128], int max) {
    int n = 0;
    const char *s = path;
    while (n < max) {
        const char *e = strstr(s, "\xE2\x80\xBA");
        size_t len = e ? (size_t)(e - s) : strlen(s);
        char tmp[128];
        size_t c = len < sizeof tmp - 1 ? len : sizeof tmp - 1;
        memcpy(tmp, s, c);
        tmp[c] = 0;
        size_t sl;
        const char *st = ws_strip(tmp, &sl);
        memcpy(pieces[n], st, sl);
        pieces[n][sl] = 0;
        n++;
        if (!e) break;
        s = e + 3;
    }
    return n;
}

static bool ws_category_match(const char *a, const char *b) {
    char pa[16][128], pb[16][128];
    int na = ws_path_pieces(a, pa, 16), nb = ws_path_pieces(b, pb, 16), common = 0;
    for (int i = 0; i < na; i++) {
        bool dup = false;
        for (int k = 0; k < i && !dup; k++) dup = !strcmp(pa[k], pa[i]);
        if (dup) continue;
        for (int j = 0; j < nb; j++)
            if (!strcmp(pa[i], pb[j])) {
                common++;
                break;
            }
    }
    return common >= 2;
}

double ws_title_score(const ws_product *goal_target, const ws_product *bought) {
    if (!goal_target->n_nouns) return 0.2;
    int common = 0;
    for (int i = 0; i < goal_target->n_nouns; i++) {
        bool dup = false;
        for (int k = 0; k < i && !dup; k++) dup = !strcmp(goal_target->nouns[k], goal_target->nouns[i]);
        if (dup) continue;
        for (int j = 0; j < bought->n_nouns; j++)
            if (!strcmp(goal_target->nouns[i], bought->nouns[j])) {
                common++;
                break;
            }
    }
    return (double)common / goal_target->n_nouns;
}

static double ws_r_type(const ws_product *t, const ws_product *p) {
    bool query_match = !strcmp(t->query, p->query);
    bool cat_match = ws_category_match(p->product_category, t->product_category);
    double ts = ws_title_score(t, p), r = 1.0;
    if (!(query_match || cat_match || ts > 0.2)) r = 0.5;
    if (ts < 0.1) r = 0.1;
    if (ts == 0.0) r = 0.0;
    return r;
}

double ws_reward(const ws_world *w, const ws_goal *g, int product, const int *chosen, ws_reward_parts *parts) {
    const ws_product *p = &w->products[product], *t = &w->products[g->product];
    ws_reward_parts r = {0};
    char *title = ws_lower(p->title), *desc = ws_lower(p->desc);
    hp_buf bl = {0};
    for (int i = 0; i < p->n_bullets; i++) {
        if (i) hp_buf_putc(&bl, ' ');
        hp_buf_puts(&bl, p->bullets[i]);
    }
    hp_buf_putc(&bl, 0), bl.len--;
    ws_lower_inplace(bl.data);
    for (int i = 0; i < g->n_attrs; i++) r.attr_matches += ws_attr_matches(p, g->attrs[i], title, bl.data, desc);
    const char *bought[WS_MAX_OPT_GROUPS];
    int nb = 0;
    for (int o = 0; o < p->n_options && o < WS_MAX_OPT_GROUPS; o++)
        if (chosen && chosen[o] >= 0) bought[nb++] = ws_normalize_color(p->options[o].values[chosen[o]]);
    hp_buf pair = {0};
    for (int i = 0; i < g->n_opts; i++) {
        const char *gc = g->plain_opts ? ws_normalize_color(g->opt_values[i])
                                       : ws_normalize_color_pair(g->opt_names[i], g->opt_values[i]);
        hp_buf_clear(&pair);
        if (gc) hp_buf_puts(&pair, gc);
        else hp_buf_printf(&pair, "('%s', '%s')", g->opt_names[i], g->opt_values[i]);
        for (int k = 0; k < nb; k++)
            if (ws_fuzz_token_set_ratio(bought[k], pair.data) > WS_FUZZ_PASS) {
                r.option_matches++;
                break;
            }
    }
    r.price_ok = p->reward_price <= g->price_upper;
    r.r_type = ws_r_type(t, p);
    r.total = (double)(r.attr_matches + r.option_matches + (r.price_ok ? 1 : 0)) / (double)(g->n_attrs + g->n_opts + 1);
    r.total *= r.r_type;
    hp_buf_free(&pair);
    hp_buf_free(&bl);
    free(title);
    free(desc);
    if (parts) *parts = r;
    return r.total;
}
