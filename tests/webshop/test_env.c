/* The WebShop environment end to end: options, splits, the action grammar and transitions of spec §6,
 * reward shaping, the step limit, clones, bad input, and the expert's score on the test split. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "env/webshop/ws.h"

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static cJSON *opts_with(const char *extra) {
    char buf[1024];
    snprintf(buf, sizeof buf, "{\"data_dir\": \"%s/data/webshop\"%s%s}", HP_SOURCE_DIR, extra ? ", " : "", extra ? extra : "");
    cJSON *o = cJSON_Parse(buf);
    assert_non_null(o);
    return o;
}

static hp_env *open_env(const char *extra) {
    cJSON *o = opts_with(extra);
    hp_err err = {{0}};
    hp_env *e = hp_webshop_open(o, &err);
    cJSON_Delete(o);
    if (!e) fail_msg("%s", err.msg);
    return e;
}

static const hp_env_view *step(hp_env *e, const char *a) {
    hp_err err = {{0}};
    if (hp_env_step(e, a, &err)) fail_msg("step '%s': %s", a, err.msg);
    return hp_env_get_view(e);
}

static void test_open_and_splits(void **state) {
    (void)state;
    hp_env *e = open_env(NULL);
    hp_err err = {{0}};
    const ws_world *w = ((ws_env *)e)->world;
    assert_int_equal(w->n_products, 1000);
    assert_true(w->n_goals > 1500);
    assert_int_equal(hp_env_split_size(e, "test", &err), 500);
    assert_int_equal(hp_env_split_size(e, "eval", &err), 1000);
    assert_int_equal(hp_env_split_size(e, "train", &err), w->n_goals - 1500);
    assert_int_equal(hp_env_split_size(e, "valid_seen", &err), -1);
    assert_non_null(strstr(err.msg, "valid_seen"));
    assert_int_equal(hp_env_reset(e, "test", 500, 0, &err), HP_FAIL);
    assert_int_equal(hp_env_reset(e, "test", 3, 0, &err), HP_OK);
    const hp_env_view *v = hp_env_get_view(e);
    assert_string_equal(v->observation, "'Search'");
    assert_int_equal(v->n_admissible, 2);
    assert_string_equal(v->admissible[0], "search[<your query>]");
    assert_string_equal(v->admissible[1], "click[search]");
    assert_true(hp_str_starts(v->task, "Find me "));
    assert_int_equal(v->max_steps, 15);
    assert_true(v->task_type >= 0 && v->task_type < 5);
    /* every goal of the catalog: text ends with the price clause when bounded, options are the target's */
    for (int i = 0; i < w->n_goals; i++) {
        const ws_goal *g = &w->goals[i];
        assert_true(g->price_upper > w->products[g->product].reward_price);
        assert_true(g->n_attrs >= 2);
    }
    hp_env_free(e);
}

static void test_determinism(void **state) {
    (void)state;
    hp_env *a = open_env(NULL), *b = open_env(NULL), *c = open_env("\"catalog_seed\": 2");
    const ws_world *wa = ((ws_env *)a)->world, *wb = ((ws_env *)b)->world, *wc = ((ws_env *)c)->world;
    assert_int_equal(wa->n_goals, wb->n_goals);
    for (int i = 0; i < wa->n_goals; i++) assert_string_equal(wa->goals[i].text, wb->goals[i].text);
    for (int i = 0; i < wa->n_products; i++) assert_string_equal(wa->products[i].title, wb->products[i].title);
    assert_string_not_equal(wa->products[0].title, wc->products[0].title);
    hp_env_free(a), hp_env_free(b), hp_env_free(c);
}

static void test_bad_options(void **state) {
    (void)state;
    static const char *bad[] = {"{\"nope\": 1}", "{\"max_steps\": 0}", "{\"max_steps\": 1.5}", "{\"observation\": \"html\"}",
                                "{\"num_products\": \"many\"}", "{\"data_dir\": \"/nonexistent/dir\"}",
                                "{\"catalog_dir\": \"/nonexistent/dir\"}", "[1, 2]"};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        cJSON *o = cJSON_Parse(bad[i]);
        hp_err err = {{0}};
        hp_env *e = hp_webshop_open(o, &err);
        cJSON_Delete(o);
        if (e) fail_msg("accepted %s", bad[i]);
        assert_true(strlen(err.msg) > 0);
    }
}

/* Malformed catalog files: a clear error that names the file. */
static void write_file(const char *dir, const char *name, const char *text) {
    char *p = hp_path_join(dir, name);
    hp_err err;
    if (hp_write_file_atomic(p, text, strlen(text), &err)) fail_msg("%s", err.msg);
    free(p);
}

static void expect_error(const char *dir, bool catalog, const char *needle) {
    char buf[512];
    snprintf(buf, sizeof buf, "{\"%s\": \"%s\"}", catalog ? "catalog_dir" : "data_dir", dir);
    cJSON *o = cJSON_Parse(buf);
    hp_err err = {{0}};
    hp_env *e = hp_webshop_open(o, &err);
    cJSON_Delete(o);
    if (e) fail_msg("accepted a bad catalog in %s", dir);
    if (!strstr(err.msg, needle)) fail_msg("error '%s' does not name '%s'", err.msg, needle);
}

static void test_malformed_catalogs(void **state) {
    (void)state;
    char dir[256];
    snprintf(dir, sizeof dir, "%s/ws_bad_%d", HP_BINARY_DIR, (int)getpid());
    hp_err err;
    assert_int_equal(hp_mkdirs(dir, &err), HP_OK);
    write_file(dir, "items_ins_v2_1000.json", "{\"B000000001\": {\"attributes\": [\"gluten free\"]");
    expect_error(dir, false, "items_ins_v2_1000.json");
    write_file(dir, "items_ins_v2_1000.json", "[\"not\", \"an object\"]");
    expect_error(dir, false, "items_ins_v2_1000.json");
    write_file(dir, "items_ins_v2_1000.json",
               "{\"B000000001\": {\"attributes\": [\"gluten free\", \"sugar free\"], \"instruction\": \"Find me gluten "
               "free snacks\", \"instruction_attributes\": [\"gluten free\", \"sugar free\"]}}");
    write_file(dir, "items_shuffle_1000.json", "[{\"asin\": \"B000000001\", \"name\": \"x\"");
    expect_error(dir, true, "items_shuffle_1000.json");
    write_file(dir, "items_shuffle_1000.json", "[{\"asin\": 5}]");
    expect_error(dir, true, "items_shuffle_1000.json: record 0");
    write_file(dir, "items_shuffle_1000.json", "[{\"asin\": \"B000000001\", \"customization_options\": {\"size\": 3}}]");
    expect_error(dir, true, "option 'size'");
    write_file(dir, "items_shuffle_1000.json", "\x01\x02\xff\xfe binary");
    expect_error(dir, true, "items_shuffle_1000.json");
    assert_int_equal(hp_remove_tree(dir, &err), HP_OK);
}

/* A small real-format catalog through the loader: prices, options, goals and the reward. */
static void test_real_format_loader(void **state) {
    (void)state;
    char dir[256];
    snprintf(dir, sizeof dir, "%s/ws_real_%d", HP_BINARY_DIR, (int)getpid());
    hp_err err = {{0}};
    assert_int_equal(hp_mkdirs(dir, &err), HP_OK);
    write_file(dir, "items_ins_v2_1000.json",
               "{\"B08ZRR3DZT\": {\"attributes\": [\"polyester spandex\", \"daily wear\"], \"instruction\": \"Find me "
               "women's dresses with polyester spandex for daily wear\", \"instruction_attributes\": [\"polyester "
               "spandex\", \"daily wear\"]}, \"B06Y3VLDFB\": {\"attributes\": []}}");
    write_file(dir, "items_shuffle_1000.json",
               "[{\"asin\": \"B08ZRR3DZT\", \"name\": \"SheIn Women's Bodycon Dress\", \"full_description\": \"\", "
               "\"pricing\": \"$19.99$27.99\", \"small_description\": [\"Pull On closure \"], \"query\": \"Women's "
               "Dresses \", \"category\": \"fashion\", \"product_category\": \"Clothing \\u203a Women\", "
               "\"customization_options\": {\"Size\": [{\"value\": \"X-Small\"}, {\"value\": \"Small\"}], \"Color\": "
               "[{\"value\": \"Black/White\"}, {\"value\": \"Pink\"}], \"Style\": null}},"
               " {\"asin\": \"B06Y3VLDFB\", \"name\": \"Console Table\", \"pricing\": \"$877.80\", \"small_description\": "
               "\"Weight:41\", \"query\": \"console tables\", \"category\": \"garden\", \"product_category\": \"Home\", "
               "\"customization_options\": \"\"}, {\"asin\": \"nan\"}, {\"asin\": \"B08ZRR3DZT\", \"name\": \"dup\"}]");
    char buf[1024];
    snprintf(buf, sizeof buf, "{\"catalog_dir\": \"%s\"}", dir);
    cJSON *o = cJSON_Parse(buf);
    hp_env *e = hp_webshop_open(o, &err);
    cJSON_Delete(o);
    if (!e) fail_msg("%s", err.msg);
    const ws_world *w = ((ws_env *)e)->world;
    assert_int_equal(w->n_products, 2);
    assert_string_equal(w->products[0].price_tag, "$19.99 to $27.99");
    assert_string_equal(w->products[1].price_tag, "$877.8");
    assert_string_equal(w->products[0].query, "women's dresses");
    assert_int_equal(w->products[0].n_options, 2);
    assert_string_equal(w->products[0].options[1].values[0], "black | white");
    assert_int_equal(w->n_goals, 4); /* 2 sizes x 2 colours, names sorted: color first */
    /* WebShop's own procedure run in CPython 3.11 (random.seed(233), uniform price draw, sample of the
     * bounds, re-seed, shuffle) gives this hidden price and this goal order */
    assert_true(w->products[0].reward_price == 25.44981531157882);
    static const char *order[] = {"pink, and size: small", "black | white, and size: x-small", "pink, and size: x-small",
                                  "black | white, and size: small"};
    for (int i = 0; i < 4; i++) {
        char want[512];
        snprintf(want, sizeof want, "Find me women's dresses with polyester spandex for daily wear with color: %s, and "
                                    "price lower than 50.00 dollars", order[i]);
        assert_string_equal(w->goals[i].text, want);
    }
    hp_env_free(e);
    /* human-goal mode (spec §3.3): one goal per human instruction with attributes; the order, bounds and
     * texts below come from WebShop's procedure run in CPython 3.11 on the same data */
    write_file(dir, "items_human_ins.json",
               "{\"B08ZRR3DZT\": [{\"instruction\": \"i need a black x-small bodycon dress\", \"instruction_attributes\": "
               "[\"bodycon dress\"], \"instruction_options\": [\"black\", \"x-small\"]}, {\"instruction\": \"no attributes "
               "here\", \"instruction_attributes\": [], \"instruction_options\": []}, {\"instruction\": \"..i need a pink "
               "dress.\", \"instruction_attributes\": [\"pink dress\"], \"instruction_options\": [\"pink\"]}], "
               "\"B06Y3VLDFB\": [{\"instruction\": \"reclaimed wood console table.\", \"instruction_attributes\": "
               "[\"reclaimed wood\"], \"instruction_options\": []}]}");
    snprintf(buf, sizeof buf, "{\"catalog_dir\": \"%s\", \"goals\": \"human\"}", dir);
    o = cJSON_Parse(buf);
    e = hp_webshop_open(o, &err);
    cJSON_Delete(o);
    if (!e) fail_msg("%s", err.msg);
    w = ((ws_env *)e)->world;
    assert_int_equal(w->n_goals, 3);
    assert_string_equal(w->goals[0].text, "i need a pink dress, and price lower than 60.00 dollars");
    assert_string_equal(w->goals[1].text, "i need a black x-small bodycon dress, and price lower than 50.00 dollars");
    assert_string_equal(w->goals[2].text, "reclaimed wood console table, and price lower than 890.00 dollars");
    /* buying the target with "black" and "x-small": bare values match; attribute "bodycon dress" is in the title */
    hp_env_reset(e, "test", 1, 0, &err);
    step(e, "search[bodycon dress]");
    step(e, "click[b08zrr3dzt]");
    step(e, "click[black | white]");
    step(e, "click[x-small]");
    const hp_env_view *v = step(e, "click[buy now]");
    assert_true(v->done);
    /* attribute 1/1, options: "black | white" -> "black" passes, "x-small" passes, price 25.4 < 50: 4/4 */
    assert_true(v->score == 1.0);
    assert_true(v->won);
    hp_env_free(e);
    /* a title-noun side file (spaCy's tags for exact r_type) replaces the heuristic nouns */
    write_file(dir, "nouns.json", "{\"B08ZRR3DZT\": [\"SheIn\", \"women\", \"dress\"], \"B06Y3VLDFB\": 3}");
    snprintf(buf, sizeof buf, "{\"catalog_dir\": \"%s\", \"title_nouns\": \"%s/nouns.json\"}", dir, dir);
    o = cJSON_Parse(buf);
    e = hp_webshop_open(o, &err);
    cJSON_Delete(o);
    assert_null(e);
    assert_non_null(strstr(err.msg, "nouns.json: ASIN B06Y3VLDFB"));
    write_file(dir, "nouns.json", "{\"B08ZRR3DZT\": [\"SheIn\", \"women\", \"dress\"]}");
    o = cJSON_Parse(buf);
    e = hp_webshop_open(o, &err);
    cJSON_Delete(o);
    if (!e) fail_msg("%s", err.msg);
    w = ((ws_env *)e)->world;
    assert_int_equal(w->products[0].n_nouns, 3);
    assert_string_equal(w->products[0].nouns[0], "shein");
    hp_env_free(e);
    assert_int_equal(hp_remove_tree(dir, &err), HP_OK);
}

/* The action grammar and transitions, on the target product of goal test/0. */
static void test_actions(void **state) {
    (void)state;
    hp_env *e = open_env(NULL);
    ws_env *we = (ws_env *)e;
    hp_err err = {{0}};
    assert_int_equal(hp_env_step(e, "click[search]", &err), HP_FAIL); /* before reset */
    assert_int_equal(hp_env_reset(e, "test", 0, 0, &err), HP_OK);
    const ws_goal *g = &we->world->goals[we->st.goal];
    const ws_product *t = &we->world->products[g->product];
    const hp_env_view *v;
    char *obs0 = hp_xstrdup(hp_env_get_view(e)->observation);
    /* no-ops: listed but inert, unknown names, bad grammar, case, empty, huge, binary */
    static const char *noops[] = {"click[search]", "click[]", "Click[back to search]", "search[a [b] c]", "", "[]",
                                  "buy now", "click[buy now]", "click[next >]", "\x01\x02\xff[\xfe]"};
    for (size_t i = 0; i < sizeof noops / sizeof *noops; i++) {
        v = step(e, noops[i]);
        assert_string_equal(v->observation, obs0);
        assert_false(v->done);
    }
    hp_env_reset(e, "test", 0, 0, &err);
    char *huge = hp_xmalloc(1 << 20);
    memset(huge, 'a', (1 << 20) - 1);
    memcpy(huge, "search[", 7);
    huge[(1 << 20) - 2] = ']';
    huge[(1 << 20) - 1] = 0;
    v = step(e, huge); /* a huge query: a results page, no crash */
    assert_true(hp_str_starts(v->observation, "'Back to Search' [SEP] 'Page 1 (Total results: "));
    free(huge);
    /* search for the target's title: it must be among the results */
    hp_buf a = {0};
    hp_buf_printf(&a, "search[%s]", t->title);
    v = step(e, a.data);
    assert_true(hp_str_starts(v->observation, "'Back to Search' [SEP] 'Page 1 (Total results: 50)' [SEP] 'Next >'"));
    assert_non_null(strstr(v->observation, t->asin));
    assert_string_equal(v->admissible[0], "click[back to search]");
    assert_string_equal(v->admissible[1], "click[next >]");
    /* "search[...]" works from any page; "search[x] trailing" ignores the tail */
    char low[16];
    snprintf(low, sizeof low, "%s", t->asin);
    ws_lower_inplace(low);
    hp_buf_clear(&a);
    hp_buf_printf(&a, "click[%s] thanks", low);
    v = step(e, a.data);
    assert_int_equal(we->st.page, WS_ITEM);
    assert_int_equal(we->st.product, g->product);
    /* choose the goal's options, visit sub-pages, options persist */
    for (int i = 0; i < g->n_opts; i++) {
        hp_buf_clear(&a);
        hp_buf_printf(&a, "click[%s]", g->opt_values[i]);
        step(e, a.data);
    }
    int chosen_before[WS_MAX_OPT_GROUPS];
    memcpy(chosen_before, we->st.chosen, sizeof chosen_before);
    step(e, "click[features]");
    assert_int_equal(we->st.page, WS_FEAT);
    assert_int_equal(hp_env_get_view(e)->n_admissible, 2);
    step(e, "click[< prev]");
    assert_int_equal(we->st.page, WS_ITEM);
    assert_memory_equal(chosen_before, we->st.chosen, sizeof chosen_before);
    step(e, "click[description]");
    step(e, "click[< prev]");
    v = step(e, "click[buy now]");
    assert_true(v->done);
    assert_false(v->truncated);
    ws_reward_parts parts;
    double r = ws_reward(we->world, g, g->product, we->st.chosen, &parts);
    assert_true(v->score == r);
    assert_true(v->reward == (r == 1.0 ? 10.0 : 0.0));
    assert_true(v->won == (r == 1.0));
    assert_int_equal(v->n_admissible, 0);
    assert_true(hp_str_starts(v->observation, "Thank you for shopping with us! [SEP] Your code: [SEP] None"));
    assert_int_equal(hp_env_step(e, "click[buy now]", &err), HP_FAIL); /* after done */
    hp_buf_free(&a);
    free(obs0);
    hp_env_free(e);
}

static void test_paging_and_limit(void **state) {
    (void)state;
    hp_env *e = open_env("\"max_steps\": 12");
    ws_env *we = (ws_env *)e;
    hp_err err = {{0}};
    hp_env_reset(e, "eval", 7, 0, &err);
    const hp_env_view *v = step(e, "search[black]");
    assert_int_equal(we->st.n_results, 50);
    for (int p = 2; p <= 7; p++) step(e, "click[next >]"); /* past the end: empty but valid */
    v = hp_env_get_view(e);
    assert_string_equal(v->observation, "'Back to Search' [SEP] 'Page 7 (Total results: 50)' [SEP] '< Prev' [SEP] 'Next >'");
    step(e, "click[< prev]");
    assert_int_equal(we->st.page_no, 6);
    step(e, "click[back to search]");
    assert_int_equal(we->st.page, WS_SEARCH);
    assert_false(hp_env_get_view(e)->done);
    for (int i = 0; i < 2; i++) v = step(e, "click[search]");
    assert_int_equal(v->steps, 11);
    v = step(e, "think[nothing]");
    assert_true(v->done);
    assert_true(v->truncated);
    assert_true(v->reward == 0.0);
    hp_env_free(e);
}

static void test_clone_independent(void **state) {
    (void)state;
    hp_env *e = open_env(NULL);
    hp_err err = {{0}};
    hp_env_reset(e, "train", 11, 0, &err);
    step(e, "search[red]");
    hp_env *c = hp_env_clone(e, &err);
    assert_non_null(c);
    assert_string_equal(hp_env_get_view(c)->observation, hp_env_get_view(e)->observation);
    step(c, "click[back to search]");
    assert_string_not_equal(hp_env_get_view(c)->observation, hp_env_get_view(e)->observation);
    assert_int_equal(hp_env_get_view(c)->steps, 2);
    assert_int_equal(hp_env_get_view(e)->steps, 1);
    hp_env_free(e);
    step(c, "search[blue]"); /* the shared world outlives the original */
    hp_env_free(c);
}

static void test_raw_observation_option(void **state) {
    (void)state;
    hp_env *e = open_env("\"observation\": \"raw\"");
    hp_err err = {{0}};
    hp_env_reset(e, "test", 1, 0, &err);
    const hp_env_view *v = hp_env_get_view(e);
    assert_true(hp_str_starts(v->observation, "WebShop [SEP] Instruction: [SEP] "));
    assert_string_equal(v->observation, hp_webshop_raw_observation(e));
    hp_env_free(e);
}

/* The expert on the whole test split: mean score >= 0.95, and it recovers from a detour. */
static void test_expert(void **state) {
    (void)state;
    hp_env *e = open_env(NULL);
    hp_err err = {{0}};
    hp_webshop_expert *ex = hp_webshop_expert_create(&err);
    int n = (int)hp_env_split_size(e, "test", &err), won = 0;
    double score = 0;
    int steps = 0;
    for (int i = 0; i < n; i++) {
        assert_int_equal(hp_env_reset(e, "test", i, 0, &err), HP_OK);
        if (i % 10 == 0) { /* start from a wrong state */
            step(e, "search[garden hose]");
            step(e, "click[next >]");
        }
        const hp_env_view *v = hp_env_get_view(e);
        while (!v->done) {
            const char *action, *subgoal;
            assert_int_equal(hp_webshop_expert_act(ex, e, &action, &subgoal, &err), HP_OK);
            bool listed = hp_str_starts(action, "search[");
            for (int k = 0; k < v->n_admissible; k++) listed |= !strcmp(v->admissible[k], action);
            if (!listed) fail_msg("expert action '%s' is not admissible", action);
            v = step(e, action);
            steps++;
        }
        score += v->score;
        won += v->won;
    }
    const char *a, *s;
    assert_int_equal(hp_webshop_expert_act(ex, e, &a, &s, &err), HP_FAIL); /* episode over */
    print_message("expert on test: mean score %.4f, success %.3f, %.2f steps per episode\n", score / n, (double)won / n,
                  (double)steps / n);
    assert_true(score / n >= 0.95);
    hp_webshop_expert_free(ex);
    hp_env_free(e);
}

/* Human-style phrasing: lead-ins from human_goals.json, bare option values, same goals otherwise. */
static void test_human_style(void **state) {
    (void)state;
    hp_env *h = open_env("\"instruction_style\": \"human\""), *s = open_env(NULL);
    const ws_world *wh = ((ws_env *)h)->world, *ws = ((ws_env *)s)->world;
    assert_int_equal(wh->n_goals, ws->n_goals);
    int leads = 0;
    for (int i = 0; i < wh->n_goals; i++) {
        const char *t = wh->goals[i].text;
        leads += hp_str_starts(t, "i am looking for ") || hp_str_starts(t, "im looking for ") ||
                 hp_str_starts(t, "i would like ") || hp_str_starts(t, "i need ") || hp_str_starts(t, "i want ");
        assert_true(wh->goals[i].plain_opts);
        assert_null(strstr(t, "Find me"));
    }
    assert_true(leads > wh->n_goals * 8 / 10);
    /* the expert still wins; bare values are matched like human goals */
    hp_err err = {{0}};
    hp_webshop_expert *ex = hp_webshop_expert_create(&err);
    double score = 0;
    for (int i = 0; i < 60; i++) {
        hp_env_reset(h, "test", i, 0, &err);
        const hp_env_view *v = hp_env_get_view(h);
        while (!v->done) {
            const char *a, *sg;
            assert_int_equal(hp_webshop_expert_act(ex, h, &a, &sg, &err), HP_OK);
            v = step(h, a);
        }
        score += v->score;
    }
    assert_true(score / 60 >= 0.95);
    hp_webshop_expert_free(ex);
    cJSON *o = opts_with("\"instruction_style\": \"poetic\"");
    assert_null(hp_webshop_open(o, &err));
    assert_non_null(strstr(err.msg, "instruction_style"));
    cJSON_Delete(o);
    hp_env_free(h), hp_env_free(s);
}

/* Clones share the world: stepping them from several threads gives the same results as one thread. */
static double expert_episodes(hp_env *e, int from, int n) {
    hp_err err = {{0}};
    hp_webshop_expert *ex = hp_webshop_expert_create(&err);
    double score = 0;
    for (int i = from; i < from + n; i++) {
        hp_env_reset(e, "eval", i, 0, &err);
        const hp_env_view *v = hp_env_get_view(e);
        while (!v->done) {
            const char *a, *sg;
            if (hp_webshop_expert_act(ex, e, &a, &sg, &err) || hp_env_step(e, a, &err)) return -1;
            v = hp_env_get_view(e);
        }
        score += v->score;
    }
    hp_webshop_expert_free(ex);
    return score;
}

static void test_threads(void **state) {
    (void)state;
    hp_env *e = open_env(NULL);
    hp_err err = {{0}};
    hp_env *c[4];
    double par[4], seq = 0, sum = 0;
    for (int t = 0; t < 4; t++) c[t] = hp_env_clone(e, &err);
    hp_env_free(e);
#pragma omp parallel for num_threads(4)
    for (int t = 0; t < 4; t++) par[t] = expert_episodes(c[t], t * 10, 10);
    for (int t = 0; t < 4; t++) seq += expert_episodes(c[0], t * 10, 10), sum += par[t];
    assert_true(sum == seq);
    for (int t = 0; t < 4; t++) hp_env_free(c[t]);
}

static void test_stats(void **state) {
    (void)state;
    cJSON *o = opts_with(NULL);
    hp_err err = {{0}};
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    assert_int_equal(hp_webshop_stats(f, o, &err), HP_OK);
    fclose(f);
    print_message("%s", buf);
    assert_non_null(strstr(buf, "products: 1000"));
    assert_non_null(strstr(buf, "split test : goals 0-499 (500)"));
    free(buf);
    cJSON_Delete(o);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_open_and_splits),   cmocka_unit_test(test_determinism),
        cmocka_unit_test(test_bad_options),       cmocka_unit_test(test_malformed_catalogs),
        cmocka_unit_test(test_real_format_loader), cmocka_unit_test(test_actions),
        cmocka_unit_test(test_paging_and_limit),  cmocka_unit_test(test_clone_independent),
        cmocka_unit_test(test_raw_observation_option), cmocka_unit_test(test_expert),
        cmocka_unit_test(test_human_style),      cmocka_unit_test(test_threads),
        cmocka_unit_test(test_stats),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
