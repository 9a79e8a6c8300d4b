/* hiper study — a grid of training runs (method × environment × seed) from one shared warm start, at an
 * equal budget of training episodes per cell, run a few at a time, resumed cell by cell, each finished cell
 * summarised in a small JSON file, and the tables regenerated from those summaries alone
 * (docs/results.md, issue 13).
 *
 *   hiper study plan   STUDY.json             the cells, their state and exact commands
 *   hiper study run    STUDY.json [--only GLOBS] [--jobs N] [--threads N]
 *   hiper study table  STUDY.json|DIR [--out FILE] [--reference METHOD]
 *   hiper study report STUDY.json --out PAGE.html   every cell's run overlaid (hiper report)
 *
 * Each cell is one `hiper train` process (this binary) writing runs/…/CELL; a warm start given as a recipe
 * is one `hiper train` with trainer.total_steps=0 whose ref/ every cell of it then loads. */
#include "cli.h"
#include "study.h"

#include "hiper/eval.h"
#include "hiper/runcfg.h"
#include "hiper/stats.h"
#include "hiper/train.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <fcntl.h>
#include <fnmatch.h>
#include <math.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static const char USAGE[] =
    "usage: hiper study plan STUDY.json [--only GLOBS]\n"
    "       hiper study run STUDY.json [--only GLOBS] [--jobs N] [--threads N]\n"
    "       hiper study table STUDY.json|STUDY_DIR [--out FILE] [--reference METHOD]\n"
    "       hiper study report STUDY.json --out PAGE.html [--only GLOBS]\n"
    "A study is a grid of `hiper train` runs (method x environment x seed) from one shared warm start per\n"
    "environment, each cell trained on the same number of episodes (budget.episodes), run --jobs at a\n"
    "time with --threads threads each. `run` resumes cell by cell: a cell with a summary is done, one with\n"
    "a checkpoint continues with --resume. Each finished cell writes STUDY_DIR/cells/CELL.json (success\n"
    "per task type with Wilson intervals on the full evaluation splits, every game's outcome, the learning\n"
    "curve, wall time, the exact command); `table` rebuilds the markdown tables from those files alone\n"
    "(mean +- sd over seeds, pooled intervals, paired McNemar tests of the reference method against each\n"
    "other). The STUDY.json format: docs/results.md.";

/* ---- the study ----------------------------------------------------------------------------------- */

typedef struct kv {
    char *key, *val;
} kv;

typedef struct keys {
    kv *kv;
    int n, cap;
} keys;

typedef struct warm {
    char *name;
    char *model, *tokenizer; /* given */
    char *config;            /* or a recipe: trained once into dir */
    keys keys;
    char *dir;
    bool needed;
} warm;

typedef struct cell {
    char *name, *method, *env, *config, *run_dir, *summary, *log, *state;
    int method_index, env_index, warm;
    int64_t seed, steps, per_step;
    keys keys; /* every key=value of its command, in order */
    char *estimator, *env_name;
} cell;

typedef struct study {
    char *path, *name, *description, *dir, *runs, *reference, *hiper;
    int64_t jobs, threads, warm_threads, episodes, eval_episodes;
    warm *warm;
    int n_warm;
    cell *cells;
    int n_cells;
} study;

static void keys_set(keys *k, const char *key, const char *val) {
    for (int i = 0; i < k->n; i++)
        if (!strcmp(k->kv[i].key, key)) {
            /* later wins, and moves to the end (the order a reader expects) */
            kv x = k->kv[i];
            memmove(k->kv + i, k->kv + i + 1, (size_t)(k->n - i - 1) * sizeof *k->kv);
            free(x.val);
            x.val = hp_xstrdup(val);
            k->kv[k->n - 1] = x;
            return;
        }
    if (k->n == k->cap) {
        k->cap = k->cap ? 2 * k->cap : 16;
        k->kv = hp_xrealloc(k->kv, (size_t)k->cap * sizeof *k->kv);
    }
    k->kv[k->n++] = (kv){hp_xstrdup(key), hp_xstrdup(val)};
}

static void keys_free(keys *k) {
    for (int i = 0; i < k->n; i++) free(k->kv[i].key), free(k->kv[i].val);
    free(k->kv);
    memset(k, 0, sizeof *k);
}

/* A JSON object of configuration keys (flat dotted names; nested objects are flattened) added to k. */
static int keys_add_json(keys *k, const cJSON *o, const char *prefix, const char *where, hp_err *err) {
    if (!o) return HP_OK;
    if (!cJSON_IsObject(o)) return hp_fail(err, "%s: \"keys\" must be an object of configuration keys", where);
    const cJSON *x;
    cJSON_ArrayForEach(x, o) {
        char key[512];
        snprintf(key, sizeof key, "%s%s%s", prefix, prefix[0] ? "." : "", x->string ? x->string : "");
        if (cJSON_IsObject(x) && !hp_runcfg_find(key)) {
            if (keys_add_json(k, x, key, where, err)) return HP_FAIL;
            continue;
        }
        char *val;
        if (cJSON_IsString(x)) val = hp_xstrdup(x->valuestring);
        else {
            char *s = cJSON_PrintUnformatted(x);
            val = hp_xstrdup(s);
            cJSON_free(s);
        }
        keys_set(k, key, val);
        free(val);
    }
    return HP_OK;
}

static void keys_copy(keys *dst, const keys *src) {
    for (int i = 0; i < src->n; i++) keys_set(dst, src->kv[i].key, src->kv[i].val);
}

static char **keys_assignments(const keys *k) {
    char **a = hp_xcalloc((size_t)k->n + 1, sizeof *a);
    for (int i = 0; i < k->n; i++) {
        hp_buf b = {0};
        hp_buf_printf(&b, "%s=%s", k->kv[i].key, k->kv[i].val);
        a[i] = hp_buf_take(&b);
    }
    return a;
}

static void free_strv(char **a, int n) {
    for (int i = 0; a && i < n; i++) free(a[i]);
    free(a);
}

static void study_free(study *s) {
    for (int i = 0; i < s->n_warm; i++) {
        warm *w = &s->warm[i];
        free(w->name), free(w->model), free(w->tokenizer), free(w->config), free(w->dir);
        keys_free(&w->keys);
    }
    for (int i = 0; i < s->n_cells; i++) {
        cell *c = &s->cells[i];
        free(c->name), free(c->method), free(c->env), free(c->config), free(c->run_dir), free(c->summary);
        free(c->log), free(c->state), free(c->estimator), free(c->env_name);
        keys_free(&c->keys);
    }
    free(s->warm), free(s->cells);
    free(s->path), free(s->name), free(s->description), free(s->dir), free(s->runs), free(s->reference), free(s->hiper);
    memset(s, 0, sizeof *s);
}

static const char *jstr(const cJSON *o, const char *k) {
    const cJSON *x = cJSON_GetObjectItemCaseSensitive(o, k);
    return cJSON_IsString(x) ? x->valuestring : NULL;
}

static bool good_name(const char *s) {
    if (!s || !s[0]) return false;
    for (const char *c = s; *c; c++)
        if (!((*c >= 'a' && *c <= 'z') || (*c >= 'A' && *c <= 'Z') || (*c >= '0' && *c <= '9') || *c == '_' || *c == '.'))
            return false;
    return true;
}

/* s with every {env} and {method} replaced. */
static char *expand(const char *s, const char *env, const char *method) {
    hp_buf b = {0};
    hp_buf_puts(&b, "");
    for (const char *c = s; *c;) {
        if (!strncmp(c, "{env}", 5)) hp_buf_puts(&b, env), c += 5;
        else if (!strncmp(c, "{method}", 8)) hp_buf_puts(&b, method), c += 8;
        else hp_buf_putc(&b, *c++);
    }
    return hp_buf_take(&b);
}

/* This binary's path, relative to the working directory when it lies under it. */
static char *self_path(void) {
    char buf[4096];
    ssize_t n = readlink("/proc/self/exe", buf, sizeof buf - 1);
    if (n <= 0) return hp_xstrdup("hiper");
    buf[n] = 0;
    char cwd[4096];
    if (getcwd(cwd, sizeof cwd)) {
        size_t l = strlen(cwd);
        if (!strncmp(buf, cwd, l) && buf[l] == '/') return hp_xstrdup(buf + l + 1);
    }
    return hp_xstrdup(buf);
}

static int int_key(const cJSON *o, const char *k, int64_t def, int64_t lo, int64_t *out, const char *where, hp_err *err) {
    const cJSON *x = cJSON_GetObjectItemCaseSensitive(o, k);
    if (!x) {
        *out = def;
        return HP_OK;
    }
    if (!cJSON_IsNumber(x) || x->valuedouble != floor(x->valuedouble) || x->valuedouble < (double)lo)
        return hp_fail(err, "%s: \"%s\" must be an integer >= %lld", where, k, (long long)lo);
    *out = (int64_t)x->valuedouble;
    return HP_OK;
}

static int find_warm(const study *s, const char *name) {
    for (int i = 0; i < s->n_warm; i++)
        if (!strcmp(s->warm[i].name, name)) return i;
    return -1;
}

/* The keys the runner sets on every cell (after the study's own, so they win). */
static void forced_keys(const study *s, const cell *c, keys *k) {
    const warm *w = &s->warm[c->warm];
    char num[64];
    if (w->config) {
        char *ref = hp_path_join(w->dir, "ref");
        keys_set(k, "model.path", ref);
        keys_set(k, "model.tokenizer", ref); /* the warm start's tokenizer, copied next to its weights */
        free(ref);
    } else {
        keys_set(k, "model.path", w->model);
        if (w->tokenizer) keys_set(k, "model.tokenizer", w->tokenizer);
    }
    keys_set(k, "sft.enable", "false");
    snprintf(num, sizeof num, "%lld", (long long)c->seed);
    keys_set(k, "trainer.seed", num);
    /* the estimators' upstream defaults differ here (hae 6, the others 0): one value for every cell, so
     * that seed s of each method draws the same training tasks and evaluation games */
    keys_set(k, "env.seed", "0");
    snprintf(num, sizeof num, "%lld", (long long)s->threads);
    keys_set(k, "trainer.threads", num);
    snprintf(num, sizeof num, "%lld", (long long)s->eval_episodes);
    keys_set(k, "trainer.final_eval_episodes", num);
    keys_set(k, "trainer.experiment_name", c->name);
    keys_set(k, "trainer.project_name", s->name);
}

/* Resolve a cell's configuration to learn its episodes per step (and that the keys are valid). */
static int resolve_cell(const study *s, cell *c, hp_err *err) {
    char **ov = keys_assignments(&c->keys);
    hp_runcfg *cfg = hp_xcalloc(1, sizeof *cfg);
    int rc = hp_runcfg_load(cfg, c->config, (const char *const *)ov, c->keys.n, err);
    if (rc) hp_err_wrap(err, "cell %s", c->name);
    if (rc == HP_OK) {
        c->per_step = cfg->data.train_batch_size * cfg->env.rollout.n;
        c->estimator = hp_xstrdup(cfg->algorithm.adv_estimator);
        c->env_name = hp_xstrdup(cfg->env.name);
        if (s->episodes % c->per_step)
            rc = hp_fail(err, "cell %s: budget.episodes %lld is not a whole number of steps of %lld episodes "
                         "(data.train_batch_size %lld x env.rollout.n %lld): every cell must train on the same "
                         "number of episodes", c->name, (long long)s->episodes, (long long)c->per_step,
                         (long long)cfg->data.train_batch_size, (long long)cfg->env.rollout.n);
        c->steps = s->episodes / c->per_step;
    }
    free(cfg);
    free_strv(ov, c->keys.n);
    if (rc == HP_OK) {
        char num[64];
        snprintf(num, sizeof num, "%lld", (long long)c->steps);
        keys_set(&c->keys, "trainer.total_steps", num);
    }
    return rc;
}

static char **warm_argv(const study *s, const warm *w, bool resume, int *argc);

/* jobs, threads: the command line's (0 = the study's). */
static int study_load(study *s, const char *path, int64_t jobs, int64_t threads, hp_err *err) {
    memset(s, 0, sizeof *s);
    s->path = hp_xstrdup(path);
    char *text = NULL;
    size_t len = 0;
    if (hp_read_file(path, &text, &len, err)) return HP_FAIL;
    cJSON *o = cJSON_ParseWithLength(text, len);
    free(text);
    if (!cJSON_IsObject(o)) {
        cJSON_Delete(o);
        return hp_fail(err, "%s: not a JSON object", path);
    }
    int rc = HP_OK;
    static const char *const KNOWN[] = {"name", "description", "dir", "runs", "jobs", "threads", "warm_threads", "eval_episodes",
                                        "budget", "seeds", "reference", "keys", "warm_starts", "envs", "methods",
                                        "cells", NULL};
    const cJSON *x;
    cJSON_ArrayForEach(x, o) {
        bool ok = false;
        for (int i = 0; KNOWN[i] && !ok; i++) ok = !strcmp(KNOWN[i], x->string);
        if (!ok && rc == HP_OK) rc = hp_fail(err, "%s: unknown key \"%s\"", path, x->string);
    }
    const char *name = jstr(o, "name");
    if (rc == HP_OK && !good_name(name))
        rc = hp_fail(err, "%s: \"name\" must be a name of letters, digits, '_' and '.'", path);
    if (rc == HP_OK) {
        s->name = hp_xstrdup(name);
        s->description = jstr(o, "description") ? hp_xstrdup(jstr(o, "description")) : NULL;
        hp_buf b = {0};
        hp_buf_printf(&b, "studies/%s", name);
        s->dir = jstr(o, "dir") ? hp_xstrdup(jstr(o, "dir")) : hp_buf_take(&b);
        hp_buf_free(&b);
        hp_buf_printf(&b, "runs/study_%s", name);
        s->runs = jstr(o, "runs") ? hp_xstrdup(jstr(o, "runs")) : hp_buf_take(&b);
        hp_buf_free(&b);
        s->hiper = self_path();
    }
    if (rc == HP_OK) rc = int_key(o, "jobs", 2, 1, &s->jobs, path, err);
    if (rc == HP_OK) rc = int_key(o, "threads", 1, 1, &s->threads, path, err);
    if (rc == HP_OK) rc = int_key(o, "warm_threads", 0, 0, &s->warm_threads, path, err);
    const cJSON *ee = cJSON_GetObjectItemCaseSensitive(o, "eval_episodes");
    s->eval_episodes = -1;
    if (rc == HP_OK && ee && (!cJSON_IsNumber(ee) || ee->valuedouble != floor(ee->valuedouble) || ee->valuedouble < -1 ||
                              ee->valuedouble == 0))
        rc = hp_fail(err, "%s: \"eval_episodes\": -1 (every game of each split, the default) or a number of games", path);
    if (rc == HP_OK && ee) s->eval_episodes = (int64_t)ee->valuedouble;
    if (jobs > 0) s->jobs = jobs;
    if (threads > 0) s->threads = threads;
    const cJSON *budget = cJSON_GetObjectItemCaseSensitive(o, "budget");
    if (rc == HP_OK && (!cJSON_IsObject(budget) || !cJSON_GetObjectItemCaseSensitive(budget, "episodes")))
        rc = hp_fail(err, "%s: \"budget\": {\"episodes\": N} (training episodes per cell) is required", path);
    if (rc == HP_OK) rc = int_key(budget, "episodes", 0, 1, &s->episodes, path, err);
    const cJSON *seeds = cJSON_GetObjectItemCaseSensitive(o, "seeds");
    if (rc == HP_OK && (!cJSON_IsArray(seeds) || !cJSON_GetArraySize(seeds)))
        rc = hp_fail(err, "%s: \"seeds\" must be a non-empty array of integers", path);
    /* warm starts */
    const cJSON *ws = cJSON_GetObjectItemCaseSensitive(o, "warm_starts");
    if (rc == HP_OK && (!cJSON_IsObject(ws) || !ws->child))
        rc = hp_fail(err, "%s: \"warm_starts\" must name at least one warm start", path);
    if (rc == HP_OK) {
        s->warm = hp_xcalloc((size_t)cJSON_GetArraySize(ws), sizeof *s->warm);
        cJSON_ArrayForEach(x, ws) {
            if (rc) break;
            warm *w = &s->warm[s->n_warm++];
            w->name = hp_xstrdup(x->string);
            const char *model = jstr(x, "model"), *tok = jstr(x, "tokenizer"), *conf = jstr(x, "config");
            if (!good_name(x->string)) rc = hp_fail(err, "%s: warm start \"%s\": a name of letters, digits, '_', '.'", path, x->string);
            else if (!!model == !!conf)
                rc = hp_fail(err, "%s: warm start \"%s\": either \"model\" (and \"tokenizer\") or a recipe \"config\" "
                             "(and \"keys\")", path, x->string);
            if (rc) break;
            if (model) w->model = hp_xstrdup(model);
            if (tok) w->tokenizer = hp_xstrdup(tok);
            if (conf) {
                w->config = hp_xstrdup(conf);
                char where[600];
                snprintf(where, sizeof where, "%s: warm start %s", path, w->name);
                rc = keys_add_json(&w->keys, cJSON_GetObjectItemCaseSensitive(x, "keys"), "", where, err);
                char *d = hp_path_join(s->runs, "warm_start");
                w->dir = hp_path_join(d, w->name);
                free(d);
                /* its keys are checked now, not when the study reaches it */
                int argc = 0;
                char **argv = rc == HP_OK ? warm_argv(s, w, false, &argc) : NULL;
                hp_runcfg *cfg = hp_xcalloc(1, sizeof *cfg);
                if (argv && hp_runcfg_load(cfg, w->config, (const char *const *)argv + 6, argc - 6, err))
                    rc = hp_err_wrap(err, "warm start %s", w->name);
                free(cfg);
                free_strv(argv, argc);
            }
        }
    }
    const cJSON *envs = cJSON_GetObjectItemCaseSensitive(o, "envs"), *methods = cJSON_GetObjectItemCaseSensitive(o, "methods");
    const cJSON *cells = cJSON_GetObjectItemCaseSensitive(o, "cells");
    if (rc == HP_OK && (!cJSON_IsObject(envs) || !envs->child))
        rc = hp_fail(err, "%s: \"envs\" must name at least one environment, e.g. {\"alfworld\": {\"warm_start\": \"w\"}}", path);
    if (rc == HP_OK && (!cJSON_IsObject(methods) || !methods->child))
        rc = hp_fail(err, "%s: \"methods\" must name at least one method, e.g. {\"hiper\": {\"config\": \"configs/...\"}}", path);
    if (rc == HP_OK && cells && !cJSON_IsObject(cells)) rc = hp_fail(err, "%s: \"cells\" must be an object", path);
    const char *ref = jstr(o, "reference");
    if (rc == HP_OK) s->reference = hp_xstrdup(ref ? ref : methods->child->string);
    if (rc == HP_OK && !cJSON_GetObjectItemCaseSensitive(methods, s->reference))
        rc = hp_fail(err, "%s: \"reference\": no method \"%s\"", path, s->reference);
    keys global = {0};
    if (rc == HP_OK) rc = keys_add_json(&global, cJSON_GetObjectItemCaseSensitive(o, "keys"), "", path, err);
    int n_cells = rc == HP_OK ? cJSON_GetArraySize(envs) * cJSON_GetArraySize(methods) * cJSON_GetArraySize(seeds) : 0;
    s->cells = hp_xcalloc((size_t)(n_cells ? n_cells : 1), sizeof *s->cells);
    int ei = 0;
    const cJSON *e;
    cJSON_ArrayForEach(e, envs) {
        if (rc) break;
        if (!good_name(e->string)) rc = hp_fail(err, "%s: environment \"%s\": a name of letters, digits, '_', '.'", path, e->string);
        int mi = 0;
        const cJSON *m;
        cJSON_ArrayForEach(m, methods) {
            if (rc) break;
            if (!good_name(m->string)) {
                rc = hp_fail(err, "%s: method \"%s\": a name of letters, digits, '_', '.'", path, m->string);
                break;
            }
            const char *conf = jstr(m, "config");
            if (!conf) {
                rc = hp_fail(err, "%s: method %s: \"config\" (a run configuration file; {env} is replaced) is required",
                             path, m->string);
                break;
            }
            const char *wname = jstr(m, "warm_start") ? jstr(m, "warm_start") : jstr(e, "warm_start");
            char *wexp = wname ? expand(wname, e->string, m->string) : NULL;
            int wi = wexp ? find_warm(s, wexp) : s->n_warm == 1 ? 0 : -1;
            if (wi < 0) {
                rc = hp_fail(err, "%s: method %s on %s: warm start %s%s%s", path, m->string, e->string,
                             wexp ? "\"" : "not named (give \"warm_start\" in the environment or the method)",
                             wexp ? wexp : "", wexp ? "\" is not in \"warm_starts\"" : "");
                free(wexp);
                break;
            }
            free(wexp);
            const cJSON *sd;
            cJSON_ArrayForEach(sd, seeds) {
                if (!cJSON_IsNumber(sd) || sd->valuedouble != floor(sd->valuedouble) || sd->valuedouble < 0) {
                    rc = hp_fail(err, "%s: \"seeds\": integers >= 0 only", path);
                    break;
                }
                cell *c = &s->cells[s->n_cells++];
                c->method = hp_xstrdup(m->string);
                c->env = hp_xstrdup(e->string);
                c->method_index = mi, c->env_index = ei, c->warm = wi;
                c->seed = (int64_t)sd->valuedouble;
                hp_buf b = {0};
                hp_buf_printf(&b, "%s-%s-s%lld", c->method, c->env, (long long)c->seed);
                c->name = hp_buf_take(&b);
                c->config = expand(conf, e->string, m->string);
                c->run_dir = hp_path_join(s->runs, c->name);
                char *cd = hp_path_join(s->dir, "cells");
                hp_buf_printf(&b, "%s/%s.json", cd, c->name);
                c->summary = hp_buf_take(&b);
                free(cd);
                hp_buf_printf(&b, "%s/%s.log", s->runs, c->name);
                c->log = hp_buf_take(&b);
                hp_buf_printf(&b, "%s/%s.state.json", s->runs, c->name);
                c->state = hp_buf_take(&b);
                char where[700];
                snprintf(where, sizeof where, "%s: %s", path, c->name);
                keys_copy(&c->keys, &global);
                rc = keys_add_json(&c->keys, cJSON_GetObjectItemCaseSensitive(e, "keys"), "", where, err);
                if (rc == HP_OK) rc = keys_add_json(&c->keys, cJSON_GetObjectItemCaseSensitive(m, "keys"), "", where, err);
                const cJSON *extra = cells ? cJSON_GetObjectItemCaseSensitive(cells, c->name) : NULL;
                if (rc == HP_OK && extra)
                    rc = keys_add_json(&c->keys, cJSON_GetObjectItemCaseSensitive(extra, "keys"), "", where, err);
                if (rc == HP_OK) forced_keys(s, c, &c->keys);
                if (rc == HP_OK) rc = resolve_cell(s, c, err);
                if (rc) break;
            }
            mi++;
        }
        ei++;
    }
    /* a "cells" entry naming no cell is a typo */
    cJSON_ArrayForEach(x, cells) {
        if (rc) break;
        bool found = false;
        for (int i = 0; i < s->n_cells && !found; i++) found = !strcmp(s->cells[i].name, x->string);
        if (!found) rc = hp_fail(err, "%s: \"cells\": no cell \"%s\" (cells are METHOD-ENV-sSEED)", path, x->string);
    }
    keys_free(&global);
    cJSON_Delete(o);
    return rc;
}

/* ---- commands ------------------------------------------------------------------------------------ */

static char **train_argv(const study *s, const char *config, const char *out, const keys *k, bool resume, int *argc) {
    char **a = hp_xcalloc((size_t)k->n + 9, sizeof *a);
    int n = 0;
    a[n++] = hp_xstrdup(s->hiper);
    a[n++] = hp_xstrdup("train");
    a[n++] = hp_xstrdup("--config");
    a[n++] = hp_xstrdup(config);
    a[n++] = hp_xstrdup("--out");
    a[n++] = hp_xstrdup(out);
    if (resume) a[n++] = hp_xstrdup("--resume");
    char **as = keys_assignments(k);
    for (int i = 0; i < k->n; i++) a[n++] = as[i];
    free(as);
    *argc = n;
    return a;
}

/* One shell word: as is when it is plain, else in single quotes. */
static void shell_word(hp_buf *b, const char *w) {
    bool plain = w[0] != 0;
    for (const char *c = w; *c && plain; c++)
        plain = (*c >= 'a' && *c <= 'z') || (*c >= 'A' && *c <= 'Z') || (*c >= '0' && *c <= '9') || strchr("_-./=,:+@%", *c);
    if (plain) {
        hp_buf_puts(b, w);
        return;
    }
    hp_buf_putc(b, '\'');
    for (const char *c = w; *c; c++) {
        if (*c == '\'') hp_buf_puts(b, "'\\''");
        else hp_buf_putc(b, *c);
    }
    hp_buf_putc(b, '\'');
}

static char *shell_line(char *const *argv, int argc) {
    hp_buf b = {0};
    for (int i = 0; i < argc; i++) {
        if (i) hp_buf_putc(&b, ' ');
        shell_word(&b, argv[i]);
    }
    return hp_buf_take(&b);
}

static bool has(const char *dir, const char *name) {
    char *p = hp_path_join(dir, name);
    bool ok = hp_path_exists(p);
    free(p);
    return ok;
}

/* Whether a run directory holds a checkpoint to resume from. */
static bool resumable(const char *dir) {
    return has(dir, "run_config.json") && (has(dir, "ckpt/latest") || has(dir, "ckpt/latest.tmp"));
}

static bool warm_done(const warm *w) {
    if (!w->config) return true;
    char *ref = hp_path_join(w->dir, "ref");
    bool ok = has(ref, "config.json");
    free(ref);
    return ok;
}

static char **warm_argv(const study *s, const warm *w, bool resume, int *argc) {
    keys k = {0};
    keys_copy(&k, &w->keys);
    char num[64];
    keys_set(&k, "trainer.total_steps", "0");
    keys_set(&k, "trainer.final_eval_episodes", "0");
    snprintf(num, sizeof num, "%lld", (long long)(s->warm_threads ? s->warm_threads : s->jobs * s->threads));
    keys_set(&k, "trainer.threads", num);
    hp_buf b = {0};
    hp_buf_printf(&b, "warm_start-%s", w->name);
    keys_set(&k, "trainer.experiment_name", b.data);
    keys_set(&k, "trainer.project_name", s->name);
    hp_buf_free(&b);
    char **a = train_argv(s, w->config, w->dir, &k, resume, argc);
    keys_free(&k);
    return a;
}

/* ---- running ------------------------------------------------------------------------------------- */

static volatile sig_atomic_t g_stop = 0;
static void on_signal(int sig) { g_stop = sig; }

/* Start argv with stdout and stderr appended to log (a header line first). */
static pid_t spawn(char *const *argv, int argc, const char *log, int64_t threads, hp_err *err) {
    FILE *f = fopen(log, "a");
    if (!f) return hp_fail(err, "%s: cannot open for appending: %s", log, strerror(errno)), -1;
    time_t now = time(NULL);
    char when[64];
    strftime(when, sizeof when, "%Y-%m-%d %H:%M:%S", localtime(&now));
    char *line = shell_line(argv, argc);
    fprintf(f, "==== %s: %s\n", when, line);
    free(line);
    fflush(f);
    pid_t pid = fork();
    if (pid < 0) {
        fclose(f);
        return hp_fail(err, "fork: %s", strerror(errno)), -1;
    }
    if (pid == 0) {
        int fd = fileno(f);
        dup2(fd, STDOUT_FILENO);
        dup2(fd, STDERR_FILENO);
        char num[32];
        snprintf(num, sizeof num, "%lld", (long long)threads);
        setenv("OMP_NUM_THREADS", num, 1);
        signal(SIGINT, SIG_DFL);
        signal(SIGTERM, SIG_DFL);
        execv(argv[0], argv);
        fprintf(stderr, "hiper study: cannot run %s: %s\n", argv[0], strerror(errno));
        _exit(127);
    }
    fclose(f);
    return pid;
}

/* A cell's accumulated wall time and invocations (RUNS/CELL.state.json). */
static void state_read(const char *path, double *wall, int64_t *runs) {
    *wall = 0, *runs = 0;
    char *text = NULL;
    size_t len = 0;
    hp_err e = {{0}};
    if (!hp_path_exists(path) || hp_read_file(path, &text, &len, &e)) return;
    cJSON *o = cJSON_ParseWithLength(text, len);
    const cJSON *w = cJSON_GetObjectItemCaseSensitive(o, "wall_s"), *r = cJSON_GetObjectItemCaseSensitive(o, "invocations");
    if (cJSON_IsNumber(w)) *wall = w->valuedouble;
    if (cJSON_IsNumber(r)) *runs = (int64_t)r->valuedouble;
    cJSON_Delete(o);
    free(text);
}

static void state_add(const char *path, double seconds) {
    double wall;
    int64_t runs;
    state_read(path, &wall, &runs);
    cJSON *o = cJSON_CreateObject();
    cJSON_AddNumberToObject(o, "wall_s", wall + seconds);
    cJSON_AddNumberToObject(o, "invocations", (double)(runs + 1));
    char *s = cJSON_Print(o);
    hp_err e = {{0}};
    if (hp_write_text_atomic(path, s, &e)) fprintf(stderr, "hiper: warning: %s\n", e.msg);
    cJSON_free(s);
    cJSON_Delete(o);
}

static double round_to(double v, double q) { return isfinite(v) ? round(v / q) * q : 0.0; }

/* One evaluation (a split of eval_after.json) as the summary keeps it. */
static cJSON *eval_summary(const hp_eval_result *r) {
    cJSON *o = cJSON_CreateObject();
    double lo, hi;
    hp_wilson(r->n_won, r->n_episodes, 1.96, &lo, &hi);
    cJSON_AddNumberToObject(o, "games", r->n_episodes);
    cJSON_AddNumberToObject(o, "won", r->n_won);
    cJSON_AddNumberToObject(o, "success", round_to(r->success, 1e-6));
    cJSON_AddNumberToObject(o, "lo95", round_to(lo, 1e-6));
    cJSON_AddNumberToObject(o, "hi95", round_to(hi, 1e-6));
    cJSON_AddNumberToObject(o, "mean_score", round_to(r->mean_score, 1e-6));
    cJSON_AddNumberToObject(o, "mean_turns", round_to(r->mean_turns, 1e-4));
    cJSON_AddNumberToObject(o, "invalid_rate", round_to(r->invalid_rate, 1e-6));
    cJSON *types = cJSON_AddObjectToObject(o, "types");
    for (int k = 0; k < r->n_types && k < HP_EVAL_MAX_TYPES; k++) {
        if (!r->type_n[k]) continue;
        cJSON *t = cJSON_AddObjectToObject(types, r->type_name[k]);
        hp_wilson(r->type_won[k], r->type_n[k], 1.96, &lo, &hi);
        cJSON_AddNumberToObject(t, "games", r->type_n[k]);
        cJSON_AddNumberToObject(t, "won", r->type_won[k]);
        cJSON_AddNumberToObject(t, "success", round_to((double)r->type_won[k] / r->type_n[k], 1e-6));
        cJSON_AddNumberToObject(t, "lo95", round_to(lo, 1e-6));
        cJSON_AddNumberToObject(t, "hi95", round_to(hi, 1e-6));
    }
    /* every game's outcome in play order ('1' won), and its task when the order is not 0, 1, 2, ... */
    char *bits = hp_xmalloc((size_t)r->n_episodes + 1);
    bool identity = true;
    for (int i = 0; i < r->n_episodes; i++) {
        bits[i] = r->ep_won && r->ep_won[i] ? '1' : '0';
        identity = identity && r->ep_task && r->ep_task[i] == i;
    }
    bits[r->n_episodes] = 0;
    cJSON_AddStringToObject(o, "outcomes", bits);
    free(bits);
    if (!identity && r->ep_task) {
        cJSON *t = cJSON_AddArrayToObject(o, "tasks");
        for (int i = 0; i < r->n_episodes; i++) cJSON_AddItemToArray(t, cJSON_CreateNumber((double)r->ep_task[i]));
    }
    return o;
}

static int evals_summary(const char *dir, const char *file, cJSON *into, const char *key, hp_err *err) {
    char *p = hp_path_join(dir, file), *text = NULL;
    size_t len = 0;
    int rc = HP_OK;
    if (!hp_path_exists(p)) {
        free(p);
        return HP_OK;
    }
    if ((rc = hp_read_file(p, &text, &len, err))) {
        free(p);
        return rc;
    }
    cJSON *o = cJSON_ParseWithLength(text, len), *out = cJSON_AddObjectToObject(into, key);
    free(text);
    if (!cJSON_IsObject(o)) rc = hp_fail(err, "%s: not a JSON object", p);
    const cJSON *sp, *from = rc == HP_OK ? o : NULL;
    cJSON_ArrayForEach(sp, from) {
        hp_eval_result r = {0};
        if ((rc = hp_eval_from_json(sp, &r, err))) {
            hp_err_wrap(err, "%s: %s", p, sp->string);
            break;
        }
        cJSON_AddItemToObject(out, sp->string, eval_summary(&r));
        hp_eval_result_free(&r);
    }
    cJSON_Delete(o);
    free(p);
    return rc;
}

/* The learning curve: per training step the success and reward, per validation its success. */
static void curve_summary(const char *dir, int64_t per_step, cJSON *into) {
    char *p = hp_path_join(dir, "metrics.jsonl"), *text = NULL;
    size_t len = 0;
    hp_err e = {{0}};
    cJSON *c = cJSON_AddObjectToObject(into, "curve");
    cJSON *ts = cJSON_AddArrayToObject(c, "step"), *te = cJSON_AddArrayToObject(c, "episodes");
    cJSON *tsu = cJSON_AddArrayToObject(c, "success"), *tr = cJSON_AddArrayToObject(c, "reward");
    cJSON *ti = cJSON_AddArrayToObject(c, "invalid_rate");
    cJSON *vs = cJSON_AddArrayToObject(c, "val_step"), *vsu = cJSON_AddArrayToObject(c, "val_success");
    if (hp_path_exists(p) && hp_read_file(p, &text, &len, &e) == HP_OK) {
        char *save = NULL;
        for (char *line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
            cJSON *o = cJSON_Parse(line);
            const char *kind = jstr(o, "kind");
            const cJSON *step = cJSON_GetObjectItemCaseSensitive(o, "step");
            if (!kind || !cJSON_IsNumber(step)) {
                cJSON_Delete(o);
                continue;
            }
            double v;
            if (!strcmp(kind, "train")) {
                cJSON_AddItemToArray(ts, cJSON_CreateNumber(step->valuedouble));
                cJSON_AddItemToArray(te, cJSON_CreateNumber(step->valuedouble * (double)per_step));
                const char *ks[3] = {"success", "reward", "invalid_rate"};
                cJSON *as[3] = {tsu, tr, ti};
                for (int k = 0; k < 3; k++) {
                    const cJSON *x = cJSON_GetObjectItemCaseSensitive(o, ks[k]);
                    v = cJSON_IsNumber(x) ? x->valuedouble : NAN;
                    cJSON_AddItemToArray(as[k], isfinite(v) ? cJSON_CreateNumber(round_to(v, 1e-5)) : cJSON_CreateNull());
                }
            } else if (!strcmp(kind, "val")) {
                const cJSON *x = cJSON_GetObjectItemCaseSensitive(o, "val_success");
                cJSON_AddItemToArray(vs, cJSON_CreateNumber(step->valuedouble));
                cJSON_AddItemToArray(vsu, cJSON_IsNumber(x) ? cJSON_CreateNumber(round_to(x->valuedouble, 1e-5))
                                                            : cJSON_CreateNull());
            }
            cJSON_Delete(o);
        }
    }
    free(text);
    free(p);
}

static int write_summary(const study *s, const cell *c, hp_err *err) {
    const warm *w = &s->warm[c->warm];
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "study", s->name);
    cJSON_AddStringToObject(o, "cell", c->name);
    cJSON_AddStringToObject(o, "method", c->method);
    cJSON_AddNumberToObject(o, "method_index", c->method_index);
    cJSON_AddStringToObject(o, "env", c->env);
    cJSON_AddNumberToObject(o, "env_index", c->env_index);
    cJSON_AddStringToObject(o, "env_name", c->env_name);
    cJSON_AddNumberToObject(o, "seed", (double)c->seed);
    cJSON_AddStringToObject(o, "reference", s->reference);
    cJSON_AddStringToObject(o, "adv_estimator", c->estimator);
    cJSON_AddStringToObject(o, "config", c->config);
    cJSON *b = cJSON_AddObjectToObject(o, "budget");
    cJSON_AddNumberToObject(b, "episodes", (double)s->episodes);
    cJSON_AddNumberToObject(b, "steps", (double)c->steps);
    cJSON_AddNumberToObject(b, "episodes_per_step", (double)c->per_step);
    cJSON *ws = cJSON_AddObjectToObject(o, "warm_start");
    cJSON_AddStringToObject(ws, "name", w->name);
    if (w->config) {
        int argc;
        char **argv = warm_argv(s, w, false, &argc);
        char *line = shell_line(argv, argc);
        cJSON_AddStringToObject(ws, "command", line);
        free(line);
        free_strv(argv, argc);
    } else {
        cJSON_AddStringToObject(ws, "model", w->model);
        if (w->tokenizer) cJSON_AddStringToObject(ws, "tokenizer", w->tokenizer);
    }
    int argc;
    char **argv = train_argv(s, c->config, c->run_dir, &c->keys, false, &argc);
    char *line = shell_line(argv, argc);
    cJSON_AddStringToObject(o, "command", line);
    free(line);
    free_strv(argv, argc);
    double wall;
    int64_t runs;
    state_read(c->state, &wall, &runs);
    cJSON_AddNumberToObject(o, "threads", (double)s->threads);
    cJSON_AddNumberToObject(o, "jobs", (double)s->jobs);
    cJSON_AddNumberToObject(o, "eval_episodes", (double)s->eval_episodes);
    cJSON_AddNumberToObject(o, "wall_s", round_to(wall, 0.1));
    cJSON_AddNumberToObject(o, "invocations", (double)runs);
    cJSON_AddStringToObject(o, "hiper_version", HIPER_VERSION);
    int rc = evals_summary(c->run_dir, "eval_after.json", o, "eval_after", err);
    if (rc == HP_OK) rc = evals_summary(c->run_dir, "eval_before.json", o, "eval_before", err);
    if (rc == HP_OK && !cJSON_GetObjectItemCaseSensitive(o, "eval_after"))
        rc = hp_fail(err, "%s: no eval_after.json: the run did not finish its evaluation", c->run_dir);
    if (rc == HP_OK) curve_summary(c->run_dir, c->per_step, o);
    char *cells = hp_path_join(s->dir, "cells");
    if (rc == HP_OK) rc = hp_mkdirs(cells, err);
    free(cells);
    if (rc == HP_OK) {
        char *text = cJSON_Print(o);
        rc = hp_write_text_atomic(c->summary, text, err);
        cJSON_free(text);
    }
    cJSON_Delete(o);
    return rc ? hp_err_wrap(err, "summary of cell %s", c->name) : HP_OK;
}

/* ---- the subcommands ----------------------------------------------------------------------------- */

/* Whether a cell is selected by --only (comma-separated globs; NULL = all). */
static bool selected(const cell *c, const char *only) {
    if (!only) return true;
    char *list = hp_xstrdup(only);
    bool ok = false;
    for (char *save = NULL, *g = strtok_r(list, ",", &save); g && !ok; g = strtok_r(NULL, ",", &save))
        ok = fnmatch(g, c->name, 0) == 0;
    free(list);
    return ok;
}

static int write_tables(const study *s, hp_err *err) {
    hp_buf md = {0};
    int rc = hp_study_tables(s->dir, NULL, &md, err);
    char *p = hp_path_join(s->dir, "tables.md");
    if (rc == HP_OK) rc = hp_write_file_atomic(p, md.data, md.len, err);
    if (rc == HP_OK) printf("tables: %s\n", p);
    free(p);
    hp_buf_free(&md);
    return rc;
}

static int cmd_plan(const study *s, const char *only) {
    int n_m = s->n_cells ? s->cells[s->n_cells - 1].method_index + 1 : 0;
    int n_e = s->n_cells ? s->cells[s->n_cells - 1].env_index + 1 : 0;
    printf("study %s: %d cells (%d methods x %d environments x %d seeds), %lld training episodes each, %lld at a "
           "time, %lld thread%s each\nsummaries: %s/cells/   runs: %s/\n", s->name, s->n_cells, n_m, n_e,
           n_m > 0 && n_e > 0 ? s->n_cells / (n_m * n_e) : 0, (long long)s->episodes, (long long)s->jobs, (long long)s->threads,
           s->threads == 1 ? "" : "s", s->dir, s->runs);
    for (int i = 0; i < s->n_warm; i++) {
        const warm *w = &s->warm[i];
        if (!w->config) {
            printf("warm start %s: %s (tokenizer %s)\n", w->name, w->model, w->tokenizer ? w->tokenizer : "the model's");
            continue;
        }
        int argc;
        char **argv = warm_argv(s, w, false, &argc);
        char *line = shell_line(argv, argc);
        printf("warm start %s: %s\n  %s\n", w->name, warm_done(w) ? "done" : resumable(w->dir) ? "to resume" : "to train", line);
        free(line);
        free_strv(argv, argc);
    }
    for (int i = 0; i < s->n_cells; i++) {
        const cell *c = &s->cells[i];
        if (!selected(c, only)) continue;
        const char *st = hp_path_exists(c->summary) ? "done" : resumable(c->run_dir) ? "to resume" : "to run";
        int argc;
        char **argv = train_argv(s, c->config, c->run_dir, &c->keys, false, &argc);
        char *line = shell_line(argv, argc);
        printf("%s: %s, %lld steps of %lld episodes\n  %s\n", c->name, st, (long long)c->steps, (long long)c->per_step, line);
        free(line);
        free_strv(argv, argc);
    }
    return HP_EXIT_OK;
}

typedef struct slot {
    pid_t pid;
    int cell; /* -1: a warm start */
    int warm;
    double t0;
} slot;

/* Wait for one child; returns its slot index, or -1 when interrupted. Polls, so that a signal arriving
 * just before the wait is never missed. */
static int wait_one(slot *slots, int n, int *status) {
    for (;;) {
        if (g_stop) return -1;
        pid_t pid = waitpid(-1, status, WNOHANG);
        if (pid < 0 && errno != EINTR) return -1;
        for (int i = 0; pid > 0 && i < n; i++)
            if (slots[i].pid == pid) return i;
        if (pid <= 0) {
            struct timespec ts = {0, 100 * 1000 * 1000};
            nanosleep(&ts, NULL);
        }
    }
}

static void stop_all(slot *slots, int n, const study *s) {
    for (int i = 0; i < n; i++)
        if (slots[i].pid > 0) kill(slots[i].pid, SIGTERM);
    for (int i = 0; i < n; i++) {
        if (slots[i].pid <= 0) continue;
        int st;
        while (waitpid(slots[i].pid, &st, 0) < 0 && errno == EINTR) {}
        if (slots[i].cell >= 0) state_add(s->cells[slots[i].cell].state, hp_now() - slots[i].t0);
        slots[i].pid = 0;
    }
}

static const char *exit_text(int status, char *buf, size_t n) {
    if (WIFEXITED(status)) snprintf(buf, n, "exit %d", WEXITSTATUS(status));
    else if (WIFSIGNALED(status)) snprintf(buf, n, "killed by signal %d", WTERMSIG(status));
    else snprintf(buf, n, "status %d", status);
    return buf;
}

static int cmd_run(study *s, const char *only, hp_err *err) {
    if (hp_mkdirs(s->runs, err)) return HP_EXIT_ERROR;
    char *cells_dir = hp_path_join(s->dir, "cells");
    int mk = hp_mkdirs(cells_dir, err);
    free(cells_dir);
    if (mk) return HP_EXIT_ERROR;
    int *todo = hp_xcalloc((size_t)s->n_cells + 1, sizeof *todo), n_todo = 0, n_done = 0;
    for (int i = 0; i < s->n_cells; i++) {
        if (!selected(&s->cells[i], only)) continue;
        if (hp_path_exists(s->cells[i].summary)) n_done++;
        else todo[n_todo++] = i, s->warm[s->cells[i].warm].needed = true;
    }
    printf("study %s: %d cells selected, %d done, %d to run, %lld at a time\n", s->name, n_todo + n_done, n_done, n_todo,
           (long long)s->jobs);
    fflush(stdout);
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal; /* no SA_RESTART: waitpid returns on a signal */
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    slot *slots = hp_xcalloc((size_t)s->jobs, sizeof *slots);
    int failed = 0, rc = HP_EXIT_OK;
    /* 1. the warm starts these cells need, one at a time with every thread */
    for (int i = 0; i < s->n_warm && !g_stop; i++) {
        warm *w = &s->warm[i];
        if (!w->needed || warm_done(w)) continue;
        int argc;
        bool res = resumable(w->dir);
        char **argv = warm_argv(s, w, res, &argc);
        char *log = NULL;
        hp_buf b = {0};
        hp_buf_printf(&b, "%s.log", w->dir);
        log = hp_buf_take(&b);
        char *wd = hp_path_join(s->runs, "warm_start");
        int mrc = hp_mkdirs(wd, err);
        free(wd);
        printf("warm start %s: training once (%s), log %s\n", w->name, res ? "resumed" : "new", log);
        fflush(stdout);
        pid_t pid = mrc ? -1 : spawn(argv, argc, log, s->warm_threads ? s->warm_threads : s->jobs * s->threads, err);
        free_strv(argv, argc);
        if (pid < 0) {
            free(log);
            rc = hp_cli_error(err);
            break;
        }
        slots[0] = (slot){.pid = pid, .cell = -1, .warm = i, .t0 = hp_now()};
        int status;
        int k = wait_one(slots, 1, &status);
        if (k < 0) {
            stop_all(slots, 1, s);
            free(log);
            break;
        }
        slots[0].pid = 0;
        char why[64];
        if (!(WIFEXITED(status) && WEXITSTATUS(status) == 0) || !warm_done(w)) {
            fprintf(stderr, "hiper: error: warm start %s failed (%s): see %s\n", w->name, exit_text(status, why, sizeof why), log);
            rc = HP_EXIT_ERROR;
        } else {
            printf("warm start %s: done in %.0f s\n", w->name, hp_now() - slots[0].t0);
        }
        free(log);
        if (rc) break;
    }
    /* 2. the cells, s->jobs at a time */
    int next = 0, running = 0;
    while (rc == HP_EXIT_OK && !g_stop && (next < n_todo || running > 0)) {
        while (next < n_todo && running < s->jobs && !g_stop) {
            cell *c = &s->cells[todo[next++]];
            bool res = resumable(c->run_dir);
            int argc;
            char **argv = train_argv(s, c->config, c->run_dir, &c->keys, res, &argc);
            pid_t pid = spawn(argv, argc, c->log, s->threads, err);
            free_strv(argv, argc);
            if (pid < 0) {
                fprintf(stderr, "hiper: error: %s: %s\n", c->name, err->msg);
                failed++;
                continue;
            }
            int k = 0;
            while (slots[k].pid > 0) k++;
            slots[k] = (slot){.pid = pid, .cell = (int)(c - s->cells), .t0 = hp_now()};
            running++;
            printf("%s: %s (%lld steps), log %s\n", c->name, res ? "resumed" : "started", (long long)c->steps, c->log);
            fflush(stdout);
        }
        if (!running) break;
        int status;
        int k = wait_one(slots, (int)s->jobs, &status);
        if (k < 0) break;
        cell *c = &s->cells[slots[k].cell];
        double dt = hp_now() - slots[k].t0;
        slots[k].pid = 0;
        running--;
        state_add(c->state, dt);
        char why[64];
        if (WIFEXITED(status) && WEXITSTATUS(status) == 0) {
            hp_err e = {{0}};
            if (write_summary(s, c, &e)) {
                fprintf(stderr, "hiper: error: %s\n", e.msg);
                failed++;
            } else {
                printf("%s: finished in %.0f s: %s\n", c->name, dt, c->summary);
            }
        } else {
            fprintf(stderr, "hiper: error: cell %s failed (%s): see %s\n", c->name, exit_text(status, why, sizeof why), c->log);
            failed++;
        }
        fflush(stdout);
    }
    if (g_stop) {
        stop_all(slots, (int)s->jobs, s);
        fprintf(stderr, "hiper study: interrupted (signal %d); the same command resumes it cell by cell\n", (int)g_stop);
        rc = 130;
    }
    free(slots);
    free(todo);
    signal(SIGINT, SIG_DFL);
    signal(SIGTERM, SIG_DFL);
    if (rc == HP_EXIT_OK || rc == 130) {
        hp_err e = {{0}};
        if (write_tables(s, &e)) fprintf(stderr, "hiper: warning: tables not written: %s\n", e.msg);
    }
    if (rc == HP_EXIT_OK && failed) {
        fprintf(stderr, "hiper: error: %d cell%s failed (their logs say why); the same command retries them\n", failed,
                failed > 1 ? "s" : "");
        rc = HP_EXIT_ERROR;
    }
    return rc;
}

static int cmd_report_overlay(const study *s, const char *only, const char *out, hp_err *err) {
    const char **dirs = hp_xcalloc((size_t)s->n_cells + 1, sizeof *dirs), **labels = hp_xcalloc((size_t)s->n_cells + 1, sizeof *labels);
    int n = 0;
    for (int i = 0; i < s->n_cells; i++) {
        const cell *c = &s->cells[i];
        if (!selected(c, only) || !(has(c->run_dir, "metrics.jsonl") || has(c->run_dir, "run_config.json"))) continue;
        dirs[n] = c->run_dir;
        labels[n++] = c->method;
    }
    hp_buf title = {0};
    hp_buf_printf(&title, "study %s", s->name);
    int rc = n ? hp_train_report_overlay(dirs, labels, n, NULL, title.data, out, err)
               : hp_fail(err, "study %s: no cell has a run directory under %s yet", s->name, s->runs);
    if (rc == HP_OK) printf("%s (%d runs)\n", out, n);
    hp_buf_free(&title);
    free(dirs);
    free(labels);
    return rc;
}

int hp_cmd_study(int argc, char **argv) {
    const char *only = NULL, *out = NULL, *reference = NULL;
    int64_t jobs = 0, threads = 0;
    const hp_opt opts[] = {
        {"only", HP_OPT_STR, &only, "comma-separated globs of the cells to take (e.g. 'hiper-*,gigpo-alfworld-s1')"},
        {"jobs", HP_OPT_INT_POS, &jobs, "cells run at a time (the study's \"jobs\", else 2)"},
        {"threads", HP_OPT_INT_POS, &threads, "threads per cell (the study's \"threads\", else 1)"},
        {"out", HP_OPT_STR, &out, "table: write the markdown here (default: stdout); report: the page to write"},
        {"reference", HP_OPT_STR, &reference, "table: the method compared with the others (the study's \"reference\")"},
        {NULL, HP_OPT_FLAG, NULL, NULL},
    };
    const char *pos[4];
    int n_pos = 0;
    int pr = hp_args_parse(argc, argv, 2, opts, USAGE, pos, 4, &n_pos);
    if (pr == 1) return HP_EXIT_OK;
    if (pr == 2) return HP_EXIT_USAGE;
    if (n_pos != 2) return hp_cli_usage_error("study", "expected an action (plan, run, table, report) and a STUDY.json");
    const char *act = pos[0], *path = pos[1];
    if (strcmp(act, "plan") && strcmp(act, "run") && strcmp(act, "table") && strcmp(act, "report"))
        return hp_cli_usage_error("study", "unknown action '%s' (plan, run, table, report)", act);
    hp_err err = {{0}};
    if (!strcmp(act, "table")) {
        /* from the summaries alone: STUDY_DIR, or the study file naming it */
        char *dir = NULL;
        if (hp_is_dir(path)) dir = hp_xstrdup(path);
        else {
            char *text = NULL;
            size_t len = 0;
            if (hp_read_file(path, &text, &len, &err)) return hp_cli_error(&err);
            cJSON *o = cJSON_ParseWithLength(text, len);
            free(text);
            const char *d = jstr(o, "dir"), *name = jstr(o, "name");
            hp_buf b = {0};
            if (d) hp_buf_puts(&b, d);
            else if (name) hp_buf_printf(&b, "studies/%s", name);
            dir = hp_buf_take(&b);
            cJSON_Delete(o);
            if (!dir || !dir[0]) {
                free(dir);
                return hp_cli_errorf("%s: neither a study directory nor a study file with \"name\"", path);
            }
        }
        hp_buf md = {0};
        int rc = hp_study_tables(dir, reference, &md, &err);
        if (rc == HP_OK && out) rc = hp_write_file_atomic(out, md.data, md.len, &err);
        else if (rc == HP_OK) rc = hp_cli_write(md.data, md.len, &err);
        hp_buf_free(&md);
        free(dir);
        return rc ? hp_cli_error(&err) : HP_EXIT_OK;
    }
    if (reference) return hp_cli_usage_error("study", "--reference belongs to 'table'");
    study s;
    if (study_load(&s, path, jobs, threads, &err)) {
        study_free(&s);
        return hp_cli_error(&err);
    }
    int rc;
    if (!strcmp(act, "plan")) rc = cmd_plan(&s, only);
    else if (!strcmp(act, "run")) rc = cmd_run(&s, only, &err);
    else if (!out) rc = hp_cli_usage_error("study", "report needs --out PAGE.html");
    else rc = cmd_report_overlay(&s, only, out, &err) ? hp_cli_error(&err) : HP_EXIT_OK;
    study_free(&s);
    return rc;
}
