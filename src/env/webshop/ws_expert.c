/* The scripted WebShop expert: search with the goal's key words, open the result that would earn the
 * highest reward, select the goal's options, buy. It reads only the env's current state, so it can take
 * over from any state; every action comes with a subgoal label from a small fixed vocabulary. */
#include "env/webshop/ws.h"

#include <stdlib.h>
#include <string.h>

struct hp_webshop_expert {
    hp_buf action, subgoal;
    /* cache: best result for (world, goal, keywords) */
    const ws_world *c_world;
    int c_goal;
    char *c_keywords;
    int c_best; /* rank in the results, -1 if none */
};

void ws_best_choice(const ws_world *w, const ws_goal *g, int product, int *chosen) {
    const ws_product *p = &w->products[product];
    int no = p->n_options < WS_MAX_OPT_GROUPS ? p->n_options : WS_MAX_OPT_GROUPS;
    for (int o = 0; o < WS_MAX_OPT_GROUPS; o++) chosen[o] = -1;
    hp_buf pair = {0};
    for (int i = 0; i < g->n_opts; i++) {
        int bo = -1, bv = -1, bs = 85; /* only values that pass the reward's test */
        const char *gc = g->plain_opts ? ws_normalize_color(g->opt_values[i])
                                       : ws_normalize_color_pair(g->opt_names[i], g->opt_values[i]);
        hp_buf_clear(&pair);
        if (gc) hp_buf_puts(&pair, gc);
        else hp_buf_printf(&pair, "('%s', '%s')", g->opt_names[i], g->opt_values[i]);
        for (int o = 0; o < no && bs < 1000; o++) {
            if (chosen[o] >= 0) continue;
            bool same_name = !strcmp(p->options[o].name, g->opt_names[i]);
            for (int v = 0; v < p->options[o].n_values; v++) {
                const char *val = p->options[o].values[v];
                int s = same_name && !strcmp(val, g->opt_values[i]) ? 1000
                                                                     : ws_fuzz_token_set_ratio(ws_normalize_color(val), pair.data);
                if (s > bs) bs = s, bo = o, bv = v;
            }
        }
        if (bo >= 0) chosen[bo] = bv;
    }
    hp_buf_free(&pair);
}

hp_webshop_expert *hp_webshop_expert_create(hp_err *err) {
    (void)err;
    hp_webshop_expert *ex = hp_xcalloc(1, sizeof *ex);
    ex->c_goal = -1;
    return ex;
}

void hp_webshop_expert_free(hp_webshop_expert *ex) {
    if (!ex) return;
    hp_buf_free(&ex->action);
    hp_buf_free(&ex->subgoal);
    free(ex->c_keywords);
    free(ex);
}

/* The goal's key words as a query: the instruction without "find me", options, price and commas. */
static char *ws_expert_query(const ws_goal *g) {
    hp_buf b = {0};
    for (const char *s = g->keywords; *s; s++)
        if (*s != ',') hp_buf_putc(&b, *s);
    hp_buf_putc(&b, 0), b.len--;
    return hp_buf_take(&b);
}

static int ws_best_result(hp_webshop_expert *ex, const ws_env *e) {
    const ws_state *st = &e->st;
    if (ex->c_world == e->world && ex->c_goal == st->goal && ex->c_keywords && st->keywords &&
        !strcmp(ex->c_keywords, st->keywords))
        return ex->c_best;
    int n, best = -1, chosen[WS_MAX_OPT_GROUPS];
    const int *r = ws_state_results(st, &n);
    const ws_goal *g = &e->world->goals[st->goal];
    double bs = -1;
    for (int i = 0; i < n; i++) {
        ws_best_choice(e->world, g, r[i], chosen);
        double s = ws_reward(e->world, g, r[i], chosen, NULL);
        if (s > bs) bs = s, best = i;
    }
    free(ex->c_keywords);
    ex->c_world = e->world;
    ex->c_goal = st->goal;
    ex->c_keywords = hp_xstrdup(st->keywords ? st->keywords : "");
    ex->c_best = best;
    return best;
}

static void ws_say(hp_webshop_expert *ex, const char *action, const char *subgoal) {
    hp_buf_clear(&ex->action);
    hp_buf_clear(&ex->subgoal);
    hp_buf_puts(&ex->action, action);
    hp_buf_puts(&ex->subgoal, subgoal);
}

static void ws_act_item(hp_webshop_expert *ex, const ws_env *e) {
    const ws_state *st = &e->st;
    const ws_product *p = &e->world->products[st->product];
    int want[WS_MAX_OPT_GROUPS];
    ws_best_choice(e->world, &e->world->goals[st->goal], st->product, want);
    for (int o = 0; o < p->n_options && o < WS_MAX_OPT_GROUPS; o++) {
        if (want[o] < 0 || st->chosen[o] == want[o]) continue;
        const char *val = p->options[o].values[want[o]];
        int v;
        if (ws_option_group_of(p, val, &v) != o) continue; /* a later group owns this label */
        hp_buf_clear(&ex->action);
        hp_buf_clear(&ex->subgoal);
        hp_buf_printf(&ex->action, "click[%s]", val);
        hp_buf_printf(&ex->subgoal, "select %s '%s'", p->options[o].name, val);
        return;
    }
    ws_say(ex, "click[buy now]", "buy the item");
}

int hp_webshop_expert_act(hp_webshop_expert *ex, const hp_env *env, const char **action, const char **subgoal, hp_err *err) {
    if (!ws_is_webshop(env)) return hp_fail(err, "webshop expert: not a webshop environment");
    const ws_env *e = (const ws_env *)env;
    if (!e->started || e->view.done) return hp_fail(err, "webshop expert: no episode in progress (reset first)");
    const ws_state *st = &e->st;
    char *query = ws_expert_query(&e->world->goals[st->goal]);
    bool our_search = st->keywords && !strcmp(st->keywords, query);
    int best = our_search ? ws_best_result(ex, e) : -1;
    int n;
    const int *r = ws_state_results(st, &n);
    switch (st->page) {
    case WS_SEARCH:
        hp_buf_clear(&ex->action);
        hp_buf_clear(&ex->subgoal);
        hp_buf_printf(&ex->action, "search[%s]", query);
        hp_buf_printf(&ex->subgoal, "search for %s", query);
        break;
    case WS_RESULTS:
        if (!our_search || best < 0) {
            ws_say(ex, "click[back to search]", "go back to search");
        } else if (st->page_no < best / WS_PER_PAGE + 1) {
            ws_say(ex, "click[next >]", "go to the next page");
        } else if (st->page_no > best / WS_PER_PAGE + 1) {
            ws_say(ex, "click[< prev]", "go to the previous page");
        } else {
            char low[16];
            snprintf(low, sizeof low, "%s", e->world->products[r[best]].asin);
            ws_lower_inplace(low);
            hp_buf_clear(&ex->action);
            hp_buf_printf(&ex->action, "click[%s]", low);
            hp_buf_clear(&ex->subgoal);
            hp_buf_puts(&ex->subgoal, "open the best match");
        }
        break;
    case WS_ITEM:
        if (best < 0 || st->product != r[best]) ws_say(ex, "click[< prev]", "go back to the results");
        else ws_act_item(ex, e);
        break;
    default:
        ws_say(ex, "click[< prev]", "go back to the item");
        break;
    }
    free(query);
    *action = ex->action.data;
    *subgoal = ex->subgoal.data;
    return HP_OK;
}
