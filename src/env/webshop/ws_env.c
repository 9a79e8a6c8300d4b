/* The WebShop environment: options, world construction, the episode state machine (spec §6) and the
 * hp_env operations (hiper/env.h), with verl-agent's observation, admissible list and reward shaping. */
#include "env/webshop/ws.h"

#include <stdlib.h>
#include <string.h>

static const hp_env_ops ws_ops;

bool ws_is_webshop(const hp_env *e) { return e && e->ops == &ws_ops; }

/* ---- world --------------------------------------------------------------------------------------- */

static void ws_world_release(ws_world *w) {
    if (!w || atomic_fetch_sub(&w->refs, 1) != 1) return;
    ws_index_free(w->index);
    free(w->products);
    ws_arena_free(&w->arena);
    free(w);
}

static const char *ws_categories[] = {"beauty", "electronics", "fashion", "garden", "grocery"};

static int ws_category_index(const char *c) {
    for (int i = 0; i < 5; i++)
        if (!strcmp(c, ws_categories[i])) return i;
    return -1;
}

/* Find ../shared/data/webshop from the working directory upwards. */
static char *ws_default_data_dir(void) {
    const char *env = getenv("HP_WEBSHOP_DATA");
    if (env && *env) return hp_xstrdup(env);
    static const char *const cands[] = {"../shared/data/webshop", "../../shared/data/webshop",
                                        "../../../shared/data/webshop", "shared/data/webshop",
                                        "../../../../shared/data/webshop"};
    for (size_t i = 0; i < sizeof cands / sizeof *cands; i++) {
        char *p = hp_path_join(cands[i], "items_ins_v2_1000.json");
        bool ok = hp_path_exists(p);
        free(p);
        if (ok) return hp_xstrdup(cands[i]);
    }
    return NULL;
}

typedef struct ws_opts {
    const char *data_dir, *catalog_dir, *observation, *style;
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
    *x = (ws_opts){NULL, NULL, "agent", "synthetic", 1000, 1, 233, 15, false, false};
    if (!o || cJSON_IsNull(o)) return HP_OK;
    if (!cJSON_IsObject(o)) return hp_fail(err, "webshop options: expected a JSON object");
    const cJSON *it;
    cJSON_ArrayForEach(it, o) {
        const char *k = it->string;
        int rc = HP_OK;
        if (!strcmp(k, "data_dir") || !strcmp(k, "catalog_dir") || !strcmp(k, "observation") ||
            !strcmp(k, "instruction_style")) {
            if (!cJSON_IsString(it)) return hp_fail(err, "webshop option '%s': expected a string", k);
            if (!strcmp(k, "data_dir")) x->data_dir = it->valuestring;
            else if (!strcmp(k, "catalog_dir")) x->catalog_dir = it->valuestring;
            else if (!strcmp(k, "observation")) x->observation = it->valuestring;
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
                                "goal_seed, max_steps, observation, instruction_style, debug_search, show_attrs)", k);
        if (rc) return rc;
    }
    if (strcmp(x->observation, "agent") && strcmp(x->observation, "raw"))
        return hp_fail(err, "webshop option 'observation': expected \"agent\" or \"raw\", got \"%s\"", x->observation);
    if (strcmp(x->style, "synthetic") && strcmp(x->style, "human"))
        return hp_fail(err, "webshop option 'instruction_style': expected \"synthetic\" or \"human\", got \"%s\"", x->style);
    return HP_OK;
}

static ws_world *ws_world_build(const ws_opts *o, hp_err *err) {
    ws_world *w = hp_xcalloc(1, sizeof *w);
    atomic_init(&w->refs, 1);
    w->max_steps = (int)o->max_steps;
    w->raw_observation = !strcmp(o->observation, "raw");
    w->debug_search = o->debug_search;
    w->show_attrs = o->show_attrs;
    int rc = HP_OK;
    char *dir = o->data_dir ? hp_xstrdup(o->data_dir) : ws_default_data_dir();
    bool need_dir = !o->catalog_dir || !strcmp(o->style, "human");
    if (need_dir && !dir)
        rc = hp_fail(err, "webshop: cannot find ../shared/data/webshop (items_ins_v2_1000.json) from the working "
                          "directory; set the option data_dir or HP_WEBSHOP_DATA");
    if (!rc && o->catalog_dir) {
        rc = ws_catalog_load(w, o->catalog_dir, (uint64_t)o->goal_seed, err);
    } else if (!rc) {
        char *attr = hp_path_join(dir, "items_ins_v2_1000.json");
        rc = ws_catalog_generate(w, (int)o->num_products, (uint64_t)o->catalog_seed, attr, err);
        free(attr);
    }
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

/* ---- action parsing (spec §6.1) ------------------------------------------------------------------ */

bool ws_parse_action(const char *action, char **name, char **arg) {
    size_t len = strcspn(action, "\n"); /* "." does not match newlines: the match lives on the first line */
    const char *close = NULL;
    for (size_t i = len; i-- > 0;)
        if (action[i] == ']') {
            close = action + i;
            break;
        }
    if (!close) return false;
    /* the last "[" with at least one character before it and one before the closing "]" */
    for (const char *p = close - 2; p >= action + 1; p--)
        if (*p == '[') {
            *name = hp_xstrndup(action, (size_t)(p - action));
            *arg = hp_xstrndup(p + 1, (size_t)(close - p - 1));
            ws_lower_inplace(*arg);
            return true;
        }
    return false;
}

/* ---- search -------------------------------------------------------------------------------------- */

const int *ws_state_results(const ws_state *st, int *n) {
    *n = st->n_results;
    return st->big_results ? st->big_results : st->results;
}

static void ws_set_big(ws_state *st, const ws_world *w, const char *field_is, bool by_query) {
    free(st->big_results);
    st->big_results = hp_xmalloc((size_t)(w->n_products ? w->n_products : 1) * sizeof(int));
    st->n_results = 0;
    for (int i = 0; i < w->n_products; i++)
        if (!strcmp(by_query ? w->products[i].query : w->products[i].category, field_is)) st->big_results[st->n_results++] = i;
}

/* WebShop's debug prefixes (only with debug_search): <r> random 50, <c> category, <q> query. */
static bool ws_debug_search(const ws_world *w, ws_state *st, const char *kw) {
    if (!w->debug_search) return false;
    if (hp_str_starts(kw, "<r>")) {
        st->n_results = 0;
        for (int i = 0; i < WS_TOP_N && w->n_products; i++) {
            st->rng_state = st->rng_state * 6364136223846793005ull + 1442695040888963407ull;
            st->results[st->n_results++] = (int)((st->rng_state >> 33) % (uint64_t)w->n_products);
        }
        return true;
    }
    if (hp_str_starts(kw, "<c> ") || hp_str_starts(kw, "<q> ")) {
        const char *rest = kw + 4;
        char word[256];
        size_t n = strcspn(rest, " ");
        snprintf(word, sizeof word, "%.*s", (int)(n < 255 ? n : 255), rest);
        ws_set_big(st, w, kw[1] == 'c' ? word : rest, kw[1] == 'q');
        return true;
    }
    if (hp_str_starts(kw, "<c>") || hp_str_starts(kw, "<a>")) { /* upstream crashes here: no results */
        st->n_results = 0;
        return true;
    }
    return false;
}

void ws_run_search(const ws_world *w, ws_state *st, const char *keywords) {
    free(st->big_results);
    st->big_results = NULL;
    if (st->keywords != keywords) {
        free(st->keywords);
        st->keywords = hp_xstrdup(keywords);
    }
    if (ws_debug_search(w, st, st->keywords)) return;
    st->n_results = st->scratch ? ws_index_search_with(w->index, w->products, st->keywords, WS_TOP_N, st->results, st->scratch)
                                : ws_index_search(w->index, w->products, st->keywords, WS_TOP_N, st->results);
}

/* ---- state machine (spec §6.2) ------------------------------------------------------------------- */

static void ws_clear_options(ws_state *st) {
    for (int i = 0; i < WS_MAX_OPT_GROUPS; i++) st->chosen[i] = -1;
    st->n_clicked = 0;
}

static void ws_to_search(ws_state *st) {
    free(st->keywords);
    free(st->big_results);
    st->keywords = NULL, st->big_results = NULL;
    st->n_results = 0;
    st->page = WS_SEARCH;
    st->page_no = 1;
    st->product = -1;
    ws_clear_options(st);
}

int ws_option_group_of(const ws_product *p, const char *value, int *value_index) {
    int g = -1;
    for (int o = 0; o < p->n_options && o < WS_MAX_OPT_GROUPS; o++)
        for (int v = 0; v < p->options[o].n_values; v++)
            if (!strcmp(p->options[o].values[v], value)) {
                g = o, *value_index = v;
                break;
            }
    return g;
}

static bool ws_is_click(const ws_env *e, const char *arg) {
    for (int i = 0; i < e->pv.n_click; i++)
        if (!strcmp(e->pv.click[i], arg)) return true;
    return false;
}

static void ws_click_item(ws_env *e, const char *arg) {
    ws_state *st = &e->st;
    const ws_world *w = e->world;
    if (st->page == WS_RESULTS) {
        int n;
        const int *r = ws_state_results(st, &n);
        for (int i = 0; i < n; i++) {
            char low[16];
            snprintf(low, sizeof low, "%s", w->products[r[i]].asin);
            ws_lower_inplace(low);
            if (!strcmp(low, arg)) {
                st->product = r[i];
                st->page = WS_ITEM;
                return;
            }
        }
    } else if (st->page == WS_ITEM && st->product >= 0) {
        int v, g = ws_option_group_of(&w->products[st->product], arg, &v);
        if (g < 0) return;
        bool seen = false;
        for (int i = 0; i < st->n_clicked; i++) seen |= st->click_order[i] == g;
        if (!seen) st->click_order[st->n_clicked++] = g;
        st->chosen[g] = v;
    }
}

static void ws_click(ws_env *e, const char *arg) {
    ws_state *st = &e->st;
    bool sub = st->page == WS_DESC || st->page == WS_FEAT || st->page == WS_REVIEWS || st->page == WS_ATTRS;
    if (!strcmp(arg, "buy now")) {
        if (st->product < 0) return;
        st->raw_reward = ws_reward(e->world, &e->world->goals[st->goal], st->product, st->chosen, NULL);
        st->page = WS_DONE;
    } else if (!strcmp(arg, "back to search")) {
        ws_to_search(st);
    } else if (!strcmp(arg, "next >") && st->page == WS_RESULTS) {
        st->page_no++;
        if (st->keywords && hp_str_starts(st->keywords, "<r>")) ws_run_search(e->world, st, st->keywords);
    } else if (!strcmp(arg, "< prev") && st->page == WS_RESULTS) {
        if (st->page_no > 1) st->page_no--;
        if (st->keywords && hp_str_starts(st->keywords, "<r>")) ws_run_search(e->world, st, st->keywords);
    } else if (!strcmp(arg, "< prev") && sub) {
        st->page = WS_ITEM;
    } else if (!strcmp(arg, "< prev") && st->page == WS_ITEM) {
        st->page = WS_RESULTS;
        st->product = -1;
        ws_clear_options(st);
        if (st->keywords && hp_str_starts(st->keywords, "<r>")) ws_run_search(e->world, st, st->keywords);
    } else if (st->product >= 0 && (!strcmp(arg, "description") || !strcmp(arg, "features") ||
                                    !strcmp(arg, "reviews") || !strcmp(arg, "attributes"))) {
        st->page = arg[0] == 'd' ? WS_DESC : arg[0] == 'f' ? WS_FEAT : arg[0] == 'r' ? WS_REVIEWS : WS_ATTRS;
    } else {
        ws_click_item(e, arg);
    }
}

static void ws_apply(ws_env *e, const char *action) {
    char *name = NULL, *arg = NULL;
    if (!ws_parse_action(action, &name, &arg)) return;
    if (!strcmp(name, "search")) {
        ws_state *st = &e->st;
        ws_run_search(e->world, st, arg);
        st->page = WS_RESULTS;
        st->page_no = 1;
        st->product = -1;
        ws_clear_options(st);
    } else if (!strcmp(name, "click") && strcmp(arg, "search") && ws_is_click(e, arg)) {
        ws_click(e, arg);
    }
    free(name);
    free(arg);
}

/* ---- rendering ----------------------------------------------------------------------------------- */

static void ws_add_admissible(ws_env *e, const char *prefix, const char *key, const char *suffix) {
    if (e->n_admissible == e->cap_admissible)
        e->admissible = hp_xrealloc(e->admissible, (size_t)(e->cap_admissible = e->cap_admissible ? e->cap_admissible * 2 : 32) * sizeof(char *));
    hp_buf b = {0};
    hp_buf_printf(&b, "%s%s%s", prefix, key, suffix);
    e->admissible[e->n_admissible++] = hp_buf_take(&b);
}

void ws_render(ws_env *e) {
    const ws_world *w = e->world;
    ws_state *st = &e->st;
    const ws_goal *g = &w->goals[st->goal];
    switch (st->page) {
    case WS_SEARCH: ws_page_search(&e->pv, g->text); break;
    case WS_RESULTS: {
        int n;
        const int *r = ws_state_results(st, &n);
        int lo = (st->page_no - 1) * WS_PER_PAGE, hi = lo + WS_PER_PAGE;
        if (lo > n) lo = n;
        if (hi > n) hi = n;
        ws_page_results(&e->pv, w, g->text, st->page_no, n, r + lo, hi - lo);
        break;
    }
    case WS_ITEM: ws_page_item(&e->pv, w, g->text, st->product, w->show_attrs); break;
    case WS_DESC: case WS_FEAT: case WS_REVIEWS: case WS_ATTRS: ws_page_sub(&e->pv, w, g->text, st->product, st->page); break;
    case WS_DONE: ws_page_done(&e->pv, w, st->product, st->chosen, st->click_order, st->n_clicked, st->raw_reward); break;
    }
    ws_agent_observation(e->pv.raw.data, g->text, &e->agent);
    for (int i = 0; i < e->n_admissible; i++) free(e->admissible[i]);
    e->n_admissible = 0;
    if (st->page != WS_DONE) {
        if (e->pv.search_bar) ws_add_admissible(e, "", "search[<your query>]", "");
        for (int i = 0; i < e->pv.n_click; i++) ws_add_admissible(e, "click[", e->pv.click[i], "]");
    }
    hp_env_view *v = &e->view;
    v->observation = w->raw_observation ? e->pv.raw.data : e->agent.data;
    v->task = g->text;
    v->task_type = ws_category_index(w->products[g->product].category);
    v->task_type_name = w->products[g->product].category;
    v->admissible = (const char *const *)e->admissible;
    v->n_admissible = e->n_admissible;
    v->steps = e->steps;
    v->max_steps = w->max_steps;
}

/* ---- hp_env operations --------------------------------------------------------------------------- */

static int ws_reset(hp_env *base, const char *split, int64_t index, uint64_t seed, hp_err *err) {
    ws_env *e = (ws_env *)base;
    int lo, hi;
    if (ws_split_range(e->world, split, &lo, &hi, err)) return HP_FAIL;
    if (index < 0 || index >= hi - lo)
        return hp_fail(err, "webshop: index %lld out of range for split '%s' (%d goals)", (long long)index, split, hi - lo);
    ws_to_search(&e->st);
    e->st.goal = lo + (int)index;
    e->st.rng_state = seed ^ 0x9E3779B97F4A7C15ull;
    e->st.raw_reward = 0;
    e->steps = 0;
    e->started = true;
    e->view = (hp_env_view){0};
    ws_render(e);
    return HP_OK;
}

static int ws_step(hp_env *base, const char *action, hp_err *err) {
    ws_env *e = (ws_env *)base;
    if (!e->started) return hp_fail(err, "webshop: step before reset");
    if (e->view.done) return hp_fail(err, "webshop: the episode is over (reset first)");
    if (!action) action = "";
    e->steps++;
    ws_apply(e, action);
    hp_env_view *v = &e->view;
    v->reward = 0;
    if (e->st.page == WS_DONE) {
        v->done = true;
        v->score = e->st.raw_reward;
        v->won = e->st.raw_reward == 1.0;
        v->reward = v->won ? 10.0 : 0.0;
    } else if (e->steps >= e->world->max_steps) {
        v->done = true;
        v->truncated = true;
    }
    ws_render(e);
    return HP_OK;
}

static const hp_env_view *ws_view(const hp_env *base) { return &((const ws_env *)base)->view; }

static ws_env *ws_env_new(ws_world *w) {
    ws_env *e = hp_xcalloc(1, sizeof *e);
    e->base.ops = &ws_ops;
    e->world = w;
    e->st.scratch = &e->scratch;
    e->st.product = -1;
    e->st.page_no = 1;
    ws_clear_options(&e->st);
    return e;
}

static hp_env *ws_clone(const hp_env *base, hp_err *err) {
    (void)err;
    const ws_env *s = (const ws_env *)base;
    atomic_fetch_add(&s->world->refs, 1);
    ws_env *e = ws_env_new(s->world);
    e->st = s->st;
    e->st.scratch = &e->scratch;
    e->st.keywords = s->st.keywords ? hp_xstrdup(s->st.keywords) : NULL;
    if (s->st.big_results) {
        e->st.big_results = hp_xmalloc((size_t)(s->st.n_results ? s->st.n_results : 1) * sizeof(int));
        memcpy(e->st.big_results, s->st.big_results, (size_t)s->st.n_results * sizeof(int));
    }
    e->steps = s->steps;
    e->started = s->started;
    e->view = s->view;
    if (e->started) ws_render(e);
    return &e->base;
}

static void ws_free(hp_env *base) {
    ws_env *e = (ws_env *)base;
    free(e->st.keywords);
    free(e->st.big_results);
    ws_pv_free(&e->pv);
    ws_scratch_free(&e->scratch);
    hp_buf_free(&e->agent);
    for (int i = 0; i < e->n_admissible; i++) free(e->admissible[i]);
    free(e->admissible);
    ws_world_release(e->world);
    free(e);
}

static int64_t ws_split_size(const hp_env *base, const char *split, hp_err *err) {
    int lo, hi;
    if (ws_split_range(((const ws_env *)base)->world, split, &lo, &hi, err)) return -1;
    return hi - lo;
}

static const hp_env_ops ws_ops = {"webshop", ws_reset, ws_step, ws_view, ws_clone, ws_free, ws_split_size, NULL};

hp_env *hp_webshop_open(const cJSON *options, hp_err *err) {
    ws_opts o;
    if (ws_parse_opts(options, &o, err)) return NULL;
    ws_world *w = ws_world_build(&o, err);
    if (!w) return NULL;
    return &ws_env_new(w)->base;
}

const char *hp_webshop_raw_observation(const hp_env *env) {
    if (!ws_is_webshop(env)) return NULL;
    const ws_env *e = (const ws_env *)env;
    return e->pv.raw.data ? e->pv.raw.data : "";
}
