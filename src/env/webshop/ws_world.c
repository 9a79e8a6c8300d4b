/* The WebShop world: options, the data folder, and building the shared catalog + goals + index. */
#include "env/webshop/ws.h"

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

void ws_world_release(ws_world *w) {
    if (!w || atomic_fetch_sub(&w->refs, 1) != 1) return;
    ws_index_free(w->index);
    free(w->products);
    ws_arena_free(&w->arena);
    free(w);
}

static const char *ws_categories[] = {"beauty", "electronics", "fashion", "garden", "grocery"};

int ws_category_index(const char *c) {
    for (int i = 0; i < 5; i++)
        if (!strcmp(c, ws_categories[i])) return i;
    return -1;
}

#ifndef HP_DATA_DIR
#define HP_DATA_DIR "" /* set by the build: the source tree's data/ folder */
#endif
#ifndef HP_INSTALL_DATA_DIR
#define HP_INSTALL_DATA_DIR "" /* set by the build: <prefix>/share/hiper/data */
#endif

/* dir/webshop when it holds items_ins_v2_1000.json, else NULL. */
static char *ws_data_in(const char *dir) {
    if (!dir || !*dir) return NULL;
    char *ws = hp_path_join(dir, "webshop");
    char *p = hp_path_join(ws, "items_ins_v2_1000.json");
    bool ok = hp_path_exists(p);
    free(p);
    if (ok) return ws;
    free(ws);
    return NULL;
}

/* <dir of the running executable>/../share/hiper/data: an installed tree that was moved elsewhere. */
static char *ws_data_beside_exe(void) {
    char exe[4096];
    ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
    if (n <= 0) return NULL;
    exe[n] = 0;
    char *slash = strrchr(exe, '/');
    if (!slash) return NULL;
    *slash = 0;
    char *data = hp_path_join(exe, "../share/hiper/data");
    char *ws = ws_data_in(data);
    free(data);
    return ws;
}

/* The WebShop data folder when the options do not name one: $HP_WEBSHOP_DATA, else data/webshop of the
 * source tree the binary was built from, else share/hiper/data/webshop of the installation (beside the
 * executable, then under the configured prefix). NULL when none holds the files. */
static char *ws_default_data_dir(void) {
    const char *env = getenv("HP_WEBSHOP_DATA");
    if (env && *env) return hp_xstrdup(env);
    char *d = ws_data_in(HP_DATA_DIR);
    if (!d) d = ws_data_beside_exe();
    if (!d) d = ws_data_in(HP_INSTALL_DATA_DIR);
    return d;
}

typedef struct ws_opts {
    const char *data_dir, *catalog_dir, *observation, *style, *goals, *nouns;
    int64_t num_products, catalog_seed, goal_seed, max_steps;
    bool debug_search, show_attrs;
} ws_opts;

static int ws_opt_int(const cJSON *it, int64_t lo, int64_t hi, int64_t *out, hp_err *err) {
    if (!cJSON_IsNumber(it) || it->valuedouble != (double)(int64_t)it->valuedouble || it->valuedouble < (double)lo ||
        it->valuedouble > (double)hi)
        return hp_fail(err, "webshop option '%s': expected an integer in [%lld, %lld]", it->string, (long long)lo, (long long)hi);
    *out = (int64_t)it->valuedouble;
    return HP_OK;
}

static int ws_parse_opts(const cJSON *o, ws_opts *x, hp_err *err) {
    *x = (ws_opts){NULL, NULL, "agent", "synthetic", "synthetic", NULL, 1000, 1, 233, 15, false, false};
    if (!o || cJSON_IsNull(o)) return HP_OK;
    if (!cJSON_IsObject(o)) return hp_fail(err, "webshop options: expected a JSON object");
    const cJSON *it;
    cJSON_ArrayForEach(it, o) {
        const char *k = it->string;
        int rc = HP_OK;
        if (!strcmp(k, "data_dir") || !strcmp(k, "catalog_dir") || !strcmp(k, "observation") ||
            !strcmp(k, "instruction_style") || !strcmp(k, "goals") || !strcmp(k, "title_nouns")) {
            if (!cJSON_IsString(it)) return hp_fail(err, "webshop option '%s': expected a string", k);
            if (!strcmp(k, "data_dir")) x->data_dir = it->valuestring;
            else if (!strcmp(k, "catalog_dir")) x->catalog_dir = it->valuestring;
            else if (!strcmp(k, "observation")) x->observation = it->valuestring;
            else if (!strcmp(k, "goals")) x->goals = it->valuestring;
            else if (!strcmp(k, "title_nouns")) x->nouns = it->valuestring;
            else x->style = it->valuestring;
        } else if (!strcmp(k, "num_products")) rc = ws_opt_int(it, 10, 1000000, &x->num_products, err);
        else if (!strcmp(k, "catalog_seed")) rc = ws_opt_int(it, 0, INT64_MAX / 2, &x->catalog_seed, err);
        else if (!strcmp(k, "goal_seed")) rc = ws_opt_int(it, 0, INT64_MAX / 2, &x->goal_seed, err);
        else if (!strcmp(k, "max_steps")) rc = ws_opt_int(it, 1, 100000, &x->max_steps, err);
        else if (!strcmp(k, "debug_search") || !strcmp(k, "show_attrs")) {
            if (!cJSON_IsBool(it)) return hp_fail(err, "webshop option '%s': expected true or false", k);
            *(!strcmp(k, "debug_search") ? &x->debug_search : &x->show_attrs) = cJSON_IsTrue(it);
        } else
            return hp_fail(err, "webshop: unknown option '%s' (known: data_dir, catalog_dir, num_products, catalog_seed, "
                                "goal_seed, max_steps, observation, goals, instruction_style, title_nouns, debug_search, show_attrs)", k);
        if (rc) return rc;
    }
    if (strcmp(x->observation, "agent") && strcmp(x->observation, "raw"))
        return hp_fail(err, "webshop option 'observation': expected \"agent\" or \"raw\", got \"%s\"", x->observation);
    if (strcmp(x->goals, "synthetic") && strcmp(x->goals, "human"))
        return hp_fail(err, "webshop option 'goals': expected \"synthetic\" or \"human\", got \"%s\"", x->goals);
    if (!strcmp(x->goals, "human") && !x->catalog_dir)
        return hp_fail(err, "webshop option 'goals': \"human\" needs the real items_human_ins.json in 'catalog_dir'");
    if (!strcmp(x->goals, "human") && !strcmp(x->style, "human"))
        return hp_fail(err, "webshop options 'goals' and 'instruction_style' cannot both be \"human\"");
    if (strcmp(x->style, "synthetic") && strcmp(x->style, "human"))
        return hp_fail(err, "webshop option 'instruction_style': expected \"synthetic\" or \"human\", got \"%s\"", x->style);
    return HP_OK;
}

/* Replace the title nouns by those of a side file (ASIN -> list of lowercased NOUN/PROPN tokens, e.g.
 * precomputed with spaCy en_core_web_sm) for exact r_type; products it does not list keep theirs. */
static int ws_load_nouns(ws_world *w, const char *path, hp_err *err) {
    char *data;
    size_t len;
    if (hp_read_file(path, &data, &len, err)) return HP_FAIL;
    cJSON *root = cJSON_ParseWithLength(data, len);
    free(data);
    if (!cJSON_IsObject(root)) {
        cJSON_Delete(root);
        return hp_fail(err, "%s: expected a JSON object ASIN -> list of title nouns", path);
    }
    for (int i = 0; i < w->n_products; i++) {
        const cJSON *l = cJSON_GetObjectItemCaseSensitive(root, w->products[i].asin);
        if (!l) continue;
        if (!cJSON_IsArray(l)) {
            cJSON_Delete(root);
            return hp_fail(err, "%s: ASIN %s: expected a list of strings", path, w->products[i].asin);
        }
        int n = cJSON_GetArraySize(l), k = 0;
        const char **v = ws_arena_alloc(&w->arena, (size_t)(n ? n : 1) * sizeof(char *));
        const cJSON *it;
        cJSON_ArrayForEach(it, l) if (cJSON_IsString(it)) {
            char *low = ws_lower(it->valuestring);
            v[k++] = ws_arena_strdup(&w->arena, low);
            free(low);
        }
        w->products[i].nouns = v;
        w->products[i].n_nouns = k;
    }
    cJSON_Delete(root);
    return HP_OK;
}

static ws_world *ws_world_build(const ws_opts *o, hp_err *err) {
    ws_world *w = hp_xcalloc(1, sizeof *w);
    atomic_init(&w->refs, 1);
    w->max_steps = (int)o->max_steps;
    w->raw_observation = !strcmp(o->observation, "raw");
    w->debug_search = o->debug_search;
    w->show_attrs = o->show_attrs;
    w->human_goals = !strcmp(o->goals, "human");
    int rc = HP_OK;
    char *dir = o->data_dir ? hp_xstrdup(o->data_dir) : ws_default_data_dir();
    bool need_dir = !o->catalog_dir || !strcmp(o->style, "human");
    if (need_dir && !dir)
        rc = hp_fail(err, "webshop: cannot find the WebShop data (items_ins_v2_1000.json) in %s/webshop or an installed "
                          "share/hiper/data/webshop; set the option data_dir or HP_WEBSHOP_DATA to the folder holding it "
                          "(the repository's data/webshop)", *HP_DATA_DIR ? HP_DATA_DIR : "the source tree's data");
    if (!rc && o->catalog_dir) {
        rc = ws_catalog_load(w, o->catalog_dir, (uint64_t)o->goal_seed, err);
    } else if (!rc) {
        char *attr = hp_path_join(dir, "items_ins_v2_1000.json");
        rc = ws_catalog_generate(w, (int)o->num_products, (uint64_t)o->catalog_seed, attr, err);
        free(attr);
    }
    if (!rc && o->nouns) rc = ws_load_nouns(w, o->nouns, err);
    ws_leads leads = {0};
    if (!rc && !strcmp(o->style, "human")) {
        char *hg = hp_path_join(dir, "human_goals.json");
        rc = ws_leads_load(&leads, hg, err);
        free(hg);
    }
    if (!rc) rc = ws_goals_build(w, (uint64_t)o->goal_seed, leads.n ? &leads : NULL, err);
    ws_leads_free(&leads);
    free(dir);
    if (rc) {
        ws_world_release(w);
        return NULL;
    }
    w->index = ws_index_build(w->products, w->n_products);
    return w;
}

ws_world *ws_world_open(const cJSON *options, hp_err *err) {
    ws_opts o;
    if (ws_parse_opts(options, &o, err)) return NULL;
    return ws_world_build(&o, err);
}
