/* `hiper env stats` for WebShop: what the catalog and its goals look like, and how fast search is. */
#include "env/webshop/ws.h"

#include <string.h>

int hp_webshop_stats(FILE *out, const cJSON *options, hp_err *err) {
    double t0 = hp_now();
    hp_env *env = hp_webshop_open(options, err);
    if (!env) return HP_FAIL;
    double t_open = hp_now() - t0;
    const ws_world *w = ((const ws_env *)env)->world;
    static const char *const cats[] = {"beauty", "electronics", "fashion", "garden", "grocery"};
    int per_cat[6] = {0}, with_opts = 0, with_ins = 0, ranged = 0, groups = 0;
    for (int i = 0; i < w->n_products; i++) {
        const ws_product *p = &w->products[i];
        int c = 5;
        for (int k = 0; k < 5; k++)
            if (!strcmp(p->category, cats[k])) c = k;
        per_cat[c]++;
        with_opts += p->n_options > 0;
        groups += p->n_options;
        with_ins += p->instruction != NULL;
        ranged += strstr(p->price_tag, " to ") != NULL;
    }
    /* goals the target itself cannot win with the goal's own options (spec §7 exception) */
    int unwinnable = 0, chosen[WS_MAX_OPT_GROUPS];
    for (int i = 0; i < w->n_goals; i++) {
        const ws_goal *g = &w->goals[i];
        const ws_product *t = &w->products[g->product];
        for (int o = 0; o < WS_MAX_OPT_GROUPS; o++) chosen[o] = -1;
        for (int k = 0; k < g->n_opts; k++)
            for (int o = 0; o < t->n_options && o < WS_MAX_OPT_GROUPS; o++)
                for (int v = 0; v < t->options[o].n_values; v++)
                    if ((g->plain_opts || !strcmp(t->options[o].name, g->opt_names[k])) &&
                        !strcmp(t->options[o].values[v], g->opt_values[k]))
                        chosen[o] = v;
        unwinnable += ws_reward(w, g, g->product, chosen, NULL) != 1.0;
    }
    double attrs = 0, opts = 0;
    for (int i = 0; i < w->n_goals; i++) attrs += w->goals[i].n_attrs, opts += w->goals[i].n_opts;
    int lo, hi;
    fprintf(out, "catalog: %s\n", w->source);
    fprintf(out, "products: %d (", w->n_products);
    for (int k = 0; k < 5; k++) fprintf(out, "%s%s %d", k ? ", " : "", cats[k], per_cat[k]);
    if (per_cat[5]) fprintf(out, ", other %d", per_cat[5]);
    fprintf(out, ")\n");
    fprintf(out, "products with options: %d (%.2f groups per product), with a price range: %d, with an instruction: %d\n",
            with_opts, w->n_products ? (double)groups / w->n_products : 0.0, ranged, with_ins);
    fprintf(out, "goals: %d (mean %.2f attributes, %.2f options); unwinnable by their own target: %d\n", w->n_goals,
            w->n_goals ? attrs / w->n_goals : 0.0, w->n_goals ? opts / w->n_goals : 0.0, unwinnable);
    static const char *const splits[] = {"test", "eval", "train"};
    for (int s = 0; s < 3; s++) {
        ws_split_range(w, splits[s], &lo, &hi, err);
        fprintf(out, "split %-5s: goals %d-%d (%d)\n", splits[s], lo, hi - 1, hi - lo);
    }
    int nq = w->n_goals < 200 ? w->n_goals : 200, res[WS_TOP_N];
    long hits = 0;
    double t1 = hp_now();
    for (int i = 0; i < nq; i++) hits += ws_index_search(w->index, w->products, w->goals[i].keywords, WS_TOP_N, res);
    double t_search = nq ? (hp_now() - t1) / nq : 0;
    fprintf(out, "build: %.3f s; search: %.1f us per query (%d goal queries, %.1f results each)\n", t_open,
            t_search * 1e6, nq, nq ? (double)hits / nq : 0.0);
    hp_env_free(env);
    return HP_OK;
}
