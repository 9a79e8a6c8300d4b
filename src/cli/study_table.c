/* study_table.c — the markdown tables of a study, from its cell summaries alone (STUDY_DIR/cells/CELL.json,
 * written by `hiper study run`; see study.h and docs/results.md): per environment and evaluation split,
 * success per task type as mean ± sd over seeds with the pooled games' Wilson interval, the paired exact
 * McNemar test of the reference method against each other method on the same games (seed s against seed
 * s), the learning curve by quarter of the budget, the budget and wall time, and the commands. */
#include "cli.h"
#include "study.h"

#include "hiper/stats.h"

#include <cjson/cJSON.h>
#include <dirent.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

static const cJSON *get(const cJSON *o, const char *k) { return o ? cJSON_GetObjectItemCaseSensitive(o, k) : NULL; }
static const char *str(const cJSON *o, const char *k) {
    const cJSON *x = get(o, k);
    return cJSON_IsString(x) ? x->valuestring : "";
}
static double num(const cJSON *o, const char *k) {
    const cJSON *x = get(o, k);
    return cJSON_IsNumber(x) ? x->valuedouble : NAN;
}

static int cmp_names(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

cJSON *hp_study_load_summaries(const char *dir, hp_err *err) {
    char *cells = hp_path_join(dir, "cells");
    DIR *d = opendir(cells);
    if (!d) {
        hp_fail(err, "%s: no such directory: the study has no cell summary yet", cells);
        free(cells);
        return NULL;
    }
    char **names = NULL;
    size_t n = 0, cap = 0;
    for (struct dirent *e; (e = readdir(d));) {
        if (e->d_name[0] == '.' || !hp_str_ends(e->d_name, ".json")) continue;
        if (n == cap) names = hp_xrealloc(names, (cap = cap ? 2 * cap : 64) * sizeof *names);
        names[n++] = hp_xstrdup(e->d_name);
    }
    closedir(d);
    qsort(names, n, sizeof *names, cmp_names);
    cJSON *all = cJSON_CreateArray();
    int rc = HP_OK;
    for (size_t i = 0; i < n; i++) {
        char *p = hp_path_join(cells, names[i]), *text = NULL;
        size_t len = 0;
        if (rc == HP_OK && hp_read_file(p, &text, &len, err) == HP_OK) {
            cJSON *o = cJSON_ParseWithLength(text, len);
            if (!cJSON_IsObject(o) || !cJSON_IsString(get(o, "method")) || !cJSON_IsString(get(o, "env")) ||
                !cJSON_IsObject(get(o, "eval_after"))) {
                rc = hp_fail(err, "%s: not a cell summary (method, env and eval_after expected)", p);
                cJSON_Delete(o);
            } else {
                cJSON_AddItemToArray(all, o);
            }
        } else {
            rc = HP_FAIL;
        }
        free(text);
        free(p);
        free(names[i]);
    }
    free(names);
    free(cells);
    if (rc) {
        cJSON_Delete(all);
        return NULL;
    }
    return all;
}

/* ---- small statistics ---------------------------------------------------------------------------- */

typedef struct acc {
    double s, ss;
    int n;
} acc;

static void acc_add(acc *a, double v) {
    if (!isfinite(v)) return;
    a->s += v, a->ss += v * v, a->n++;
}

/* "45.7 ± 3.1" (percent), "45.7" for one value, "–" for none. */
static void put_pct(hp_buf *b, const acc *a) {
    if (!a->n) {
        hp_buf_puts(b, " – |");
        return;
    }
    double m = a->s / a->n;
    if (a->n == 1) {
        hp_buf_printf(b, " %.1f |", 100 * m);
        return;
    }
    double var = (a->ss - a->n * m * m) / (a->n - 1);
    hp_buf_printf(b, " %.1f ± %.1f |", 100 * m, 100 * sqrt(var > 0 ? var : 0));
}

static void put_p(hp_buf *b, double p) {
    if (p >= 0.001) hp_buf_printf(b, " %.3g |", p);
    else hp_buf_printf(b, " %.1e |", p);
}

/* ---- the tables ---------------------------------------------------------------------------------- */

typedef struct row {
    const cJSON *o;
    const char *method, *env;
    int method_index, env_index;
    double seed;
} row;

static int cmp_rows(const void *pa, const void *pb) {
    const row *a = pa, *b = pb;
    if (a->env_index != b->env_index) return a->env_index - b->env_index;
    int c = strcmp(a->env, b->env);
    if (c) return c;
    if (a->method_index != b->method_index) return a->method_index - b->method_index;
    if ((c = strcmp(a->method, b->method))) return c;
    return a->seed < b->seed ? -1 : a->seed > b->seed;
}

/* Distinct strings in order of first appearance. */
typedef struct names {
    const char *v[64];
    int n;
} names;

static void names_add(names *ns, const char *s) {
    for (int i = 0; i < ns->n; i++)
        if (!strcmp(ns->v[i], s)) return;
    if (ns->n < 64) ns->v[ns->n++] = s;
}

/* One evaluation split of a summary (after or before RL). */
static const cJSON *split_of(const cJSON *o, const char *which, const char *split) { return get(get(o, which), split); }

/* A table row: success per type, all, pooled games and Wilson interval (and the score on WebShop). */
static void success_row(hp_buf *b, const char *label, const row *rs, int n, const char *which, const char *split,
                        const names *types, bool score) {
    acc per_type[64] = {{0}}, all = {0}, sc = {0};
    int seeds = 0, games = -1, won_sum = 0, games_sum = 0;
    bool same_games = true;
    for (int i = 0; i < n; i++) {
        const cJSON *e = split_of(rs[i].o, which, split);
        if (!e) continue;
        seeds++;
        int g = (int)num(e, "games");
        if (games >= 0 && g != games) same_games = false;
        games = g;
        won_sum += (int)num(e, "won"), games_sum += g;
        acc_add(&all, num(e, "success"));
        acc_add(&sc, num(e, "mean_score"));
        for (int t = 0; t < types->n; t++) acc_add(&per_type[t], num(get(get(e, "types"), types->v[t]), "success"));
    }
    if (!seeds) return;
    hp_buf_printf(b, "| %s | %d | ", label, seeds);
    if (same_games) hp_buf_printf(b, "%d |", games);
    else hp_buf_puts(b, "varies |");
    if (score) put_pct(b, &sc);
    for (int t = 0; t < types->n; t++) put_pct(b, &per_type[t]);
    put_pct(b, &all);
    double lo, hi;
    hp_wilson(won_sum, games_sum, 1.96, &lo, &hi);
    hp_buf_printf(b, " %d/%d = %.1f [%.1f, %.1f] |\n", won_sum, games_sum, games_sum ? 100.0 * won_sum / games_sum : 0.0,
                  100 * lo, 100 * hi);
}

/* Games of one split that both summaries played in the same order: counts of each discordant kind. */
static bool pair_split(const cJSON *a, const cJSON *b, int *n, int *only_a, int *only_b) {
    const char *oa = str(a, "outcomes"), *ob = str(b, "outcomes");
    size_t la = strlen(oa), lb = strlen(ob);
    if (!la || la != lb) return false;
    const cJSON *ta = get(a, "tasks"), *tb = get(b, "tasks");
    if ((ta || tb) && !(ta && tb && cJSON_Compare(ta, tb, true))) return false;
    for (size_t i = 0; i < la; i++) {
        (*n)++;
        if (oa[i] == '1' && ob[i] != '1') (*only_a)++;
        if (oa[i] != '1' && ob[i] == '1') (*only_b)++;
    }
    return true;
}

static void paired_tables(hp_buf *b, const row *rs, int n, const names *methods, const char *ref, const names *splits) {
    hp_buf_printf(b, "\n**%s against each other method, paired on the same games** (cell of seed s against cell of "
                     "seed s, the same games of each split; two-sided exact McNemar test on the games won by one side "
                     "only; the games of all seeds are pooled, so a game counts once per seed):\n\n"
                     "| comparison | split | seeds | games paired | %s only | other only | difference (points) | "
                     "McNemar p |\n|---|---|---|---|---|---|---|---|\n", ref, ref);
    for (int m = 0; m < methods->n; m++) {
        if (!strcmp(methods->v[m], ref)) continue;
        for (int sp = 0; sp <= splits->n; sp++) {
            int pairs = 0, oa = 0, ob = 0, seeds = 0;
            for (int i = 0; i < n; i++) {
                if (strcmp(rs[i].method, ref)) continue;
                for (int j = 0; j < n; j++) {
                    if (strcmp(rs[j].method, methods->v[m]) || rs[j].seed != rs[i].seed) continue;
                    bool any = false;
                    for (int k = 0; k < splits->n; k++) {
                        if (sp < splits->n && k != sp) continue;
                        const cJSON *a = split_of(rs[i].o, "eval_after", splits->v[k]);
                        const cJSON *c = split_of(rs[j].o, "eval_after", splits->v[k]);
                        if (a && c) any |= pair_split(a, c, &pairs, &oa, &ob);
                    }
                    seeds += any;
                }
            }
            if (!pairs) continue;
            hp_buf_printf(b, "| %s vs %s | %s | %d | %d | %d | %d | %+.1f |", ref, methods->v[m],
                          sp < splits->n ? splits->v[sp] : "all splits", seeds, pairs, oa, ob, 100.0 * (oa - ob) / pairs);
            put_p(b, hp_mcnemar_exact(oa, ob));
            hp_buf_puts(b, "\n");
        }
    }
}

/* Training success by quarter of the budget (the mean of its steps, then mean ± sd over seeds). */
static void curve_table(hp_buf *b, const row *rs, int n, const names *methods) {
    hp_buf_puts(b, "\n**Learning curve**: training success (the episodes of each step), mean over the steps of each "
                   "quarter of the budget, then mean ± sd over seeds, %:\n\n"
                   "| method | seeds | 1st quarter | 2nd | 3rd | 4th | last validation |\n|---|---|---|---|---|---|---|\n");
    for (int m = 0; m < methods->n; m++) {
        acc q[4] = {{0}}, last = {0};
        int seeds = 0;
        for (int i = 0; i < n; i++) {
            if (strcmp(rs[i].method, methods->v[m])) continue;
            const cJSON *su = get(get(rs[i].o, "curve"), "success"), *vs = get(get(rs[i].o, "curve"), "val_success");
            int len = cJSON_GetArraySize(su);
            if (len < 1) continue;
            seeds++;
            for (int k = 0; k < 4; k++) {
                /* quarters of the steps; under 4 steps each quarter still takes the step it falls in */
                int a = k * len / 4, z = (k + 1) * len / 4;
                if (z <= a) z = a + 1;
                acc part = {0};
                for (int j = a; j < z; j++) {
                    const cJSON *x = cJSON_GetArrayItem(su, j);
                    if (cJSON_IsNumber(x)) acc_add(&part, x->valuedouble);
                }
                if (part.n) acc_add(&q[k], part.s / part.n);
            }
            const cJSON *lv = cJSON_GetArrayItem(vs, cJSON_GetArraySize(vs) - 1);
            if (cJSON_IsNumber(lv)) acc_add(&last, lv->valuedouble);
        }
        if (!seeds) continue;
        hp_buf_printf(b, "| %s | %d |", methods->v[m], seeds);
        for (int k = 0; k < 4; k++) put_pct(b, &q[k]);
        put_pct(b, &last);
        hp_buf_puts(b, "\n");
    }
}

static void budget_table(hp_buf *b, const row *rs, int n, const names *methods) {
    hp_buf_puts(b, "\n**Budget and time** (wall time per cell, summed over its invocations; `jobs` cells ran side by "
                   "side with `threads` threads each):\n\n| method | estimator | seeds | training episodes | steps x "
                   "episodes per step | wall per cell, s (mean, min–max) | threads x jobs |\n|---|---|---|---|---|---|---|\n");
    for (int m = 0; m < methods->n; m++) {
        double lo = INFINITY, hi = -INFINITY, s = 0;
        int k = 0;
        const cJSON *first = NULL;
        for (int i = 0; i < n; i++) {
            if (strcmp(rs[i].method, methods->v[m])) continue;
            if (!first) first = rs[i].o;
            double w = num(rs[i].o, "wall_s");
            if (!isfinite(w)) continue;
            s += w, k++;
            lo = w < lo ? w : lo, hi = w > hi ? w : hi;
        }
        if (!first) continue;
        const cJSON *bu = get(first, "budget");
        hp_buf_printf(b, "| %s | %s | %d | %.0f | %.0f x %.0f |", methods->v[m], str(first, "adv_estimator"), k,
                      num(bu, "episodes"), num(bu, "steps"), num(bu, "episodes_per_step"));
        if (k) hp_buf_printf(b, " %.0f (%.0f–%.0f) |", s / k, lo, hi);
        else hp_buf_puts(b, " – |");
        hp_buf_printf(b, " %.0f x %.0f |\n", num(first, "threads"), num(first, "jobs"));
    }
}

static void commands(hp_buf *b, const row *rs, int n, const names *methods) {
    hp_buf_puts(b, "\n**Commands** (the warm start, then each method's first seed; the other seeds differ only in "
                   "`trainer.seed`, `trainer.experiment_name` and `--out`; every cell's own command is in its "
                   "summary):\n\n```sh\n");
    names warms = {0};
    for (int i = 0; i < n; i++) {
        const cJSON *w = get(rs[i].o, "warm_start");
        const char *name = str(w, "name");
        int before = warms.n;
        names_add(&warms, name);
        if (warms.n == before) continue;
        if (str(w, "command")[0]) hp_buf_printf(b, "# warm start %s\n%s\n", name, str(w, "command"));
        else hp_buf_printf(b, "# warm start %s: the model %s (tokenizer %s)\n", name, str(w, "model"),
                           str(w, "tokenizer")[0] ? str(w, "tokenizer") : "its own");
    }
    for (int m = 0; m < methods->n; m++)
        for (int i = 0; i < n; i++)
            if (!strcmp(rs[i].method, methods->v[m])) {
                hp_buf_printf(b, "# %s\n%s\n", str(rs[i].o, "cell"), str(rs[i].o, "command"));
                break;
            }
    hp_buf_puts(b, "```\n");
}

int hp_study_tables(const char *dir, const char *reference, hp_buf *out, hp_err *err) {
    cJSON *all = hp_study_load_summaries(dir, err);
    if (!all) return HP_FAIL;
    int n = cJSON_GetArraySize(all);
    if (!n) {
        cJSON_Delete(all);
        return hp_fail(err, "%s/cells: no cell summary yet", dir);
    }
    row *rs = hp_xcalloc((size_t)n, sizeof *rs);
    int k = 0;
    const cJSON *o;
    cJSON_ArrayForEach(o, all) {
        rs[k] = (row){.o = o, .method = str(o, "method"), .env = str(o, "env"), .method_index = (int)num(o, "method_index"),
                      .env_index = (int)num(o, "env_index"), .seed = num(o, "seed")};
        k++;
    }
    qsort(rs, (size_t)n, sizeof *rs, cmp_rows);
    const char *study = str(rs[0].o, "study");
    hp_buf_printf(out, "# Study %s\n\nGenerated by `hiper study table %s` from the %d cell summaries in %s/cells/ "
                       "(nothing else is read). Success is in %%, after RL on the evaluation splits (`games` per seed: the "
                       "whole split unless the study set eval_episodes); \"mean ± sd\" is over the seeds (sd with "
                       "n − 1), \"pooled\" counts the games of all seeds together with their 95%% Wilson interval.\n", study[0] ? study : "?", dir, n, dir);
    names envs = {0};
    for (int i = 0; i < n; i++) names_add(&envs, rs[i].env);
    for (int e = 0; e < envs.n; e++) {
        int a = 0;
        while (strcmp(rs[a].env, envs.v[e])) a++;
        int z = a;
        while (z < n && !strcmp(rs[z].env, envs.v[e])) z++;
        const row *er = rs + a;
        int en = z - a;
        names methods = {0}, splits = {0}, warms = {0};
        for (int i = 0; i < en; i++) {
            names_add(&methods, er[i].method);
            names_add(&warms, str(get(er[i].o, "warm_start"), "name"));
            const cJSON *sp;
            cJSON_ArrayForEach(sp, get(er[i].o, "eval_after")) names_add(&splits, sp->string);
        }
        const char *ref = reference ? reference : str(er[0].o, "reference");
        bool ref_here = false;
        for (int m = 0; m < methods.n; m++) ref_here |= !strcmp(methods.v[m], ref);
        if (!ref_here) ref = methods.v[0];
        bool score = !strcmp(str(er[0].o, "env_name"), "webshop");
        hp_buf_printf(out, "\n## %s (%s)\n", envs.v[e], str(er[0].o, "env_name"));
        for (int sp = 0; sp < splits.n; sp++) {
            names types = {0};
            for (int i = 0; i < en; i++) {
                const cJSON *t;
                cJSON_ArrayForEach(t, get(split_of(er[i].o, "eval_after", splits.v[sp]), "types")) names_add(&types, t->string);
            }
            hp_buf_printf(out, "\n**%s**, success %% (mean ± sd over seeds)%s:\n\n| method | seeds | games |%s",
                          splits.v[sp], score ? " and mean score ×100" : "", score ? " score |" : "");
            for (int t = 0; t < types.n; t++) hp_buf_printf(out, " %s |", types.v[t]);
            hp_buf_puts(out, " all | pooled [95% CI] |\n|---|---|---|");
            for (int t = 0; t < types.n + 2 + score; t++) hp_buf_puts(out, "---|");
            hp_buf_puts(out, "\n");
            /* the warm starts before RL (each cell evaluated its warm start with its own seed) */
            for (int w = 0; w < warms.n; w++) {
                row *sel = hp_xcalloc((size_t)en, sizeof *sel);
                int ns = 0;
                for (int i = 0; i < en; i++)
                    if (!strcmp(str(get(er[i].o, "warm_start"), "name"), warms.v[w])) sel[ns++] = er[i];
                hp_buf lab = {0};
                hp_buf_printf(&lab, "before RL (warm start %s, every cell's evaluation)", warms.v[w]);
                success_row(out, lab.data, sel, ns, "eval_before", splits.v[sp], &types, score);
                hp_buf_free(&lab);
                free(sel);
            }
            for (int m = 0; m < methods.n; m++) {
                row *sel = hp_xcalloc((size_t)en, sizeof *sel);
                int ns = 0;
                for (int i = 0; i < en; i++)
                    if (!strcmp(er[i].method, methods.v[m])) sel[ns++] = er[i];
                success_row(out, methods.v[m], sel, ns, "eval_after", splits.v[sp], &types, score);
                free(sel);
            }
        }
        if (methods.n > 1) paired_tables(out, er, en, &methods, ref, &splits);
        curve_table(out, er, en, &methods);
        budget_table(out, er, en, &methods);
        commands(out, er, en, &methods);
    }
    free(rs);
    cJSON_Delete(all);
    return HP_OK;
}
