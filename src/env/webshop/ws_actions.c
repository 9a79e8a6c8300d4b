/* WebShop's actions: the name[arg] grammar (spec §6.1), search (with the debug prefixes) and the page
 * transitions of §6.2. */
#include "env/webshop/ws.h"

#include <stdlib.h>
#include <string.h>

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

void ws_clear_options(ws_state *st) {
    for (int i = 0; i < WS_MAX_OPT_GROUPS; i++) st->chosen[i] = -1;
    st->n_clicked = 0;
}

void ws_to_search(ws_state *st) {
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

void ws_apply(ws_env *e, const char *action) {
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
