/* The WebShop environment: the hp_env operations (hiper/env.h) over a shared world, with verl-agent's
 * observation, admissible list and reward shaping. */
#include "env/webshop/ws.h"

#include <stdlib.h>
#include <string.h>

static const hp_env_ops ws_ops;

bool ws_is_webshop(const hp_env *e) { return e && e->ops == &ws_ops; }

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

static const hp_env_ops ws_ops = {.name = "webshop", .reset = ws_reset, .step = ws_step, .view = ws_view,
                                  .clone = ws_clone, .free = ws_free, .split_size = ws_split_size};

hp_env *hp_webshop_open(const cJSON *options, hp_err *err) {
    ws_world *w = ws_world_open(options, err);
    if (!w) return NULL;
    return &ws_env_new(w)->base;
}

const char *hp_webshop_raw_observation(const hp_env *env) {
    if (!ws_is_webshop(env)) return NULL;
    const ws_env *e = (const ws_env *)env;
    return e->pv.raw.data ? e->pv.raw.data : "";
}
