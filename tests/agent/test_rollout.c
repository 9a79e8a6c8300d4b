/* Rollouts with a scripted policy on a small corridor environment defined here: records are
 * well-formed, group members share their task, a fixed seed gives the same rollout, the recorded
 * actions replayed on a fresh environment give the recorded rewards, and the projected subgoal feeds
 * the next prompt; and the turn itself (hp_turn_play), which demonstrations play too. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "hiper/rollout.h"
#include "hiper/turn.h"

#include <stdlib.h>
#include <string.h>

/* ---- a corridor: rooms 0..9, start in room 0, the task is to reach room `goal` ------------------- */

typedef struct corridor {
    hp_env base;
    int room, goal, steps, max_steps;
    int64_t index;
    bool done, won;
    double reward;
    char obs[128], task[64];
    hp_env_view view;
} corridor;

static const char *const ADM[] = {"go forward", "go back", "look", "help"};
static const char *const TYPES[] = {"near", "mid", "far"};

static const hp_env_view *c_view(const hp_env *e) { return &((const corridor *)e)->view; }

static void c_refresh(corridor *c) {
    c->view = (hp_env_view){.observation = c->obs, .task = c->task, .task_type = (int)(c->index % 3),
                            .task_type_name = TYPES[c->index % 3], .admissible = ADM, .n_admissible = 4,
                            .reward = c->reward, .score = c->won ? 1 : 0, .steps = c->steps,
                            .max_steps = c->max_steps, .done = c->done, .won = c->won, .truncated = false};
}

static int c_reset(hp_env *e, const char *split, int64_t index, uint64_t seed, hp_err *err) {
    (void)seed;
    corridor *c = (corridor *)e;
    if (strcmp(split, "train") != 0) return hp_fail(err, "corridor: unknown split '%s'", split);
    c->index = index;
    c->goal = (int)(index % 3) + 1;
    c->room = 0;
    c->steps = 0;
    c->done = c->won = false;
    c->reward = 0;
    snprintf(c->task, sizeof c->task, "reach room %d.", c->goal);
    snprintf(c->obs, sizeof c->obs, "You are in room 0. Your task is to: reach room %d.", c->goal);
    c_refresh(c);
    return HP_OK;
}

static int c_step(hp_env *e, const char *action, hp_err *err) {
    corridor *c = (corridor *)e;
    if (c->done) return hp_fail(err, "corridor: step after done");
    c->steps++;
    if (!strcmp(action, "go forward") && c->room < 9) c->room++;
    else if (!strcmp(action, "go back") && c->room > 0) c->room--;
    else if (strcmp(action, "look") != 0) {
        snprintf(c->obs, sizeof c->obs, "Nothing happens.");
        c->reward = 0;
        c->done = c->steps >= c->max_steps;
        c_refresh(c);
        return HP_OK;
    }
    snprintf(c->obs, sizeof c->obs, "You are in room %d.", c->room);
    c->won = c->room == c->goal;
    c->reward = c->won ? 10 : 0;
    c->done = c->won || c->steps >= c->max_steps;
    c_refresh(c);
    return HP_OK;
}

static hp_env *c_clone(const hp_env *e, hp_err *err) {
    (void)err;
    corridor *c = hp_xmalloc(sizeof *c);
    *c = *(const corridor *)e;
    c_refresh(c);
    return &c->base;
}
static void c_free(hp_env *e) { free(e); }
static int64_t c_split_size(const hp_env *e, const char *split, hp_err *err) {
    (void)e;
    return strcmp(split, "train") ? hp_fail(err, "corridor: unknown split '%s'", split) : 30;
}

static const hp_env_ops CORRIDOR_OPS = {.name = "corridor", .reset = c_reset, .step = c_step, .view = c_view,
                                       .clone = c_clone, .free = c_free, .split_size = c_split_size};

static hp_env *corridor_new(int max_steps) {
    corridor *c = hp_xcalloc(1, sizeof *c);
    c->base.ops = &CORRIDOR_OPS;
    c->max_steps = max_steps;
    return &c->base;
}

/* ---- a scripted policy: picks one of a few canned responses from its sequence's RNG stream -------- */

typedef struct script {
    const hp_tok *tok;
    int calls;
} script;

static const char *const RESPONSES[] = {
    "<switch>SWITCH</switch>\n<subgoal>walk ahead</subgoal>\n<action>go forward</action>",
    "<switch>KEEP</switch>\n<subgoal>walk ahead</subgoal>\n<action>Go Forward</action>",
    "<switch>SWITCH</switch>\n<subgoal>look around</subgoal>\n<action>look</action>",
    "<switch>KEEP</switch>\n<subgoal>step back</subgoal>\n<action>go back</action>",
    "I am not sure what to do",
};

static int script_generate(void *self, int n, const hp_ids *prompts, const hp_policy_opts *opts, const uint64_t *seeds,
                           hp_gen_out *outs, hp_err *err) {
    script *s = self;
    s->calls++;
    for (int i = 0; i < n; i++) {
        assert_true(prompts[i].len > 0);
        hp_rng r;
        hp_rng_seed(&r, seeds[i], 0);
        const char *text = RESPONSES[hp_rng_below(&r, 5)];
        if (hp_tok_encode(s->tok, text, strlen(text), &outs[i].ids, err)) return HP_FAIL;
        assert_true(opts->n_stop >= 1);
        hp_ids_push(&outs[i].ids, opts->stop_ids[0]);
        outs[i].logprobs = hp_xmalloc(outs[i].ids.len * sizeof(float));
        for (size_t j = 0; j < outs[i].ids.len; j++) outs[i].logprobs[j] = -(float)hp_rng_uniform(&r);
    }
    return HP_OK;
}

static hp_tok *load_tok(void) {
    hp_err e = {{0}};
    hp_tok *t = hp_tok_load(HP_SOURCE_DIR "/tests/agent/data/tiny_tokenizer.json", &e);
    if (!t) fail_msg("%s", e.msg);
    return t;
}

static void run(hp_tok *tok, uint64_t seed, int n_tasks, int group_n, int max_steps, hp_rollout *r) {
    hp_env **envs = hp_xcalloc((size_t)(n_tasks * group_n), sizeof *envs);
    for (int i = 0; i < n_tasks * group_n; i++) envs[i] = corridor_new(50);
    script s = {.tok = tok};
    hp_policy pol = {.self = &s, .generate = script_generate};
    hp_rollout_cfg cfg = hp_rollout_cfg_default(HP_FMT_HIPER, HP_FAM_OTHER);
    cfg.n_tasks = n_tasks;
    cfg.group_n = group_n;
    cfg.max_steps = max_steps;
    cfg.seed = seed;
    cfg.prompt.max_prompt_tokens = 100000;
    hp_err e = {{0}};
    if (hp_rollout_run(envs, tok, &pol, &cfg, r, &e)) fail_msg("%s", e.msg);
    assert_true(s.calls <= max_steps);
    for (int i = 0; i < n_tasks * group_n; i++) hp_env_free(envs[i]);
    free(envs);
}

static void test_records(void **state) {
    (void)state;
    hp_tok *tok = load_tok();
    hp_rollout r;
    run(tok, 7, 3, 4, 12, &r);
    assert_int_equal(r.n_trajs, 12);
    size_t next = 0;
    int n_invalid = 0, n_won = 0;
    for (int i = 0; i < r.n_trajs; i++) {
        const hp_traj *tr = &r.trajs[i];
        /* group members play the same task */
        assert_int_equal(tr->group, i / 4);
        assert_int_equal(tr->task_index, r.trajs[tr->group * 4].task_index);
        assert_string_equal(tr->task, r.trajs[tr->group * 4].task);
        /* trajectory-major, consecutive turns */
        assert_int_equal(tr->first_turn, (int)next);
        assert_true(tr->n_turns >= 1 && tr->n_turns <= 12);
        next += (size_t)tr->n_turns;
        for (int k = 0; k < tr->n_turns; k++) {
            const hp_turn *u = &r.turns[tr->first_turn + k];
            assert_int_equal(u->traj, i);
            assert_int_equal(u->t, k);
            assert_true(u->prompt.len > 0 && u->response.len > 0);
            assert_non_null(u->logprobs);
            assert_true(hp_str_starts(u->prompt_text, "<|im_start|>system\n"));
            assert_true(hp_str_ends(u->prompt_text, "<|im_start|>assistant\n"));
            assert_int_equal(u->task_type, (int)(tr->task_index % 3));
            /* only the last turn may be done; turns after done are never recorded */
            if (k < tr->n_turns - 1) assert_false(u->done);
            /* the anchor observation is the one the prompt showed */
            assert_non_null(strstr(u->prompt_text, u->anchor_obs));
            if (k == 0) assert_true(hp_str_starts(u->anchor_obs, "You are in room 0."));
            n_invalid += !u->valid;
            /* switch recorded only on valid-switch turns */
            if (u->valid) assert_true(!strcmp(u->switch_word, "KEEP") || !strcmp(u->switch_word, "SWITCH"));
            /* the recorded subgoal is the next prompt's current subgoal */
            if (k + 1 < tr->n_turns) {
                char want[160];
                snprintf(want, sizeof want, "Your current sub-goal is:\n%s\n", u->subgoal);
                assert_non_null(strstr(r.turns[tr->first_turn + k + 1].prompt_text, want));
            }
        }
        const hp_turn *last = &r.turns[tr->first_turn + tr->n_turns - 1];
        assert_true(last->done || last->truncated);
        assert_int_equal(tr->won, last->won);
        n_won += tr->won;
    }
    assert_int_equal(next, r.n_turns);
    assert_true(n_invalid > 0 && n_won > 0); /* the script makes both happen with this seed */
    hp_rollout_free(&r);
    hp_tok_free(tok);
}

static void test_replay(void **state) {
    (void)state;
    hp_tok *tok = load_tok();
    hp_rollout r;
    run(tok, 11, 2, 3, 20, &r);
    hp_err e = {{0}};
    for (int i = 0; i < r.n_trajs; i++) {
        const hp_traj *tr = &r.trajs[i];
        hp_env *env = corridor_new(50);
        assert_int_equal(hp_env_reset(env, "train", tr->task_index, 0, &e), HP_OK);
        for (int k = 0; k < tr->n_turns; k++) {
            const hp_turn *u = &r.turns[tr->first_turn + k];
            assert_int_equal(hp_env_step(env, u->action, &e), HP_OK);
            const hp_env_view *v = hp_env_get_view(env);
            assert_true(v->reward == u->reward);
            assert_int_equal(v->done, u->done);
            assert_int_equal(v->won, u->won);
        }
        hp_env_free(env);
    }
    hp_rollout_free(&r);
    hp_tok_free(tok);
}

static bool same_rollout(const hp_rollout *a, const hp_rollout *b) {
    if (a->n_turns != b->n_turns || a->n_trajs != b->n_trajs) return false;
    for (size_t i = 0; i < a->n_turns; i++) {
        const hp_turn *x = &a->turns[i], *y = &b->turns[i];
        if (strcmp(x->response_text, y->response_text) || strcmp(x->prompt_text, y->prompt_text) ||
            x->response.len != y->response.len || memcmp(x->logprobs, y->logprobs, x->response.len * sizeof(float)))
            return false;
    }
    for (int i = 0; i < a->n_trajs; i++)
        if (a->trajs[i].task_index != b->trajs[i].task_index) return false;
    return true;
}

static void test_determinism(void **state) {
    (void)state;
    hp_tok *tok = load_tok();
    hp_rollout a, b, c;
    run(tok, 5, 4, 2, 10, &a);
    run(tok, 5, 4, 2, 10, &b);
    run(tok, 6, 4, 2, 10, &c);
    assert_true(same_rollout(&a, &b));
    assert_false(same_rollout(&a, &c));
    hp_rollout_free(&a);
    hp_rollout_free(&b);
    hp_rollout_free(&c);
    hp_tok_free(tok);
}

static void test_truncation_and_jsonl(void **state) {
    (void)state;
    hp_tok *tok = load_tok();
    hp_rollout r;
    run(tok, 3, 2, 2, 2, &r);
    for (int i = 0; i < r.n_trajs; i++) {
        const hp_traj *tr = &r.trajs[i];
        const hp_turn *last = &r.turns[tr->first_turn + tr->n_turns - 1];
        if (!last->done) {
            assert_int_equal(tr->n_turns, 2);
            assert_true(last->truncated && tr->truncated);
        }
    }
    char path[512];
    snprintf(path, sizeof path, "%s/agent_rollout_test.jsonl", HP_BINARY_DIR);
    hp_err e = {{0}};
    assert_int_equal(hp_rollout_write_jsonl(&r, path, &e), HP_OK);
    char *text;
    size_t len;
    assert_int_equal(hp_read_file(path, &text, &len, &e), HP_OK);
    int lines = 0;
    for (size_t i = 0; i < len; i++) lines += text[i] == '\n';
    assert_int_equal(lines, r.n_trajs);
    assert_non_null(strstr(text, "\"response\":\""));
    assert_non_null(strstr(text, "\"subgoal\":"));
    assert_non_null(strstr(text, "Your task is to: reach room"));
    free(text);
    remove(path);
    hp_rollout_free(&r);
    hp_tok_free(tok);
}

static void test_prompt_limit(void **state) {
    (void)state;
    hp_tok *tok = load_tok();
    hp_env *env = corridor_new(50);
    script s = {.tok = tok};
    hp_policy pol = {.self = &s, .generate = script_generate};
    hp_rollout_cfg cfg = hp_rollout_cfg_default(HP_FMT_HIPER, HP_FAM_OTHER);
    cfg.prompt.max_prompt_tokens = 50;
    hp_rollout r;
    hp_err e = {{0}};
    assert_int_equal(hp_rollout_run(&env, tok, &pol, &cfg, &r, &e), HP_FAIL);
    assert_non_null(strstr(e.msg, "exceeds max_prompt_tokens = 50"));
    assert_non_null(strstr(e.msg, "turn 0"));
    cfg.prompt.truncate_prompt = true;
    cfg.max_steps = 3;
    assert_int_equal(hp_rollout_run(&env, tok, &pol, &cfg, &r, &e), HP_OK);
    assert_int_equal(r.n_prompt_truncated, (int)r.n_turns);
    for (size_t i = 0; i < r.n_turns; i++) assert_int_equal(r.turns[i].prompt.len, 50);
    hp_rollout_free(&r);
    hp_env_free(env);
    hp_tok_free(tok);
}

static void test_prompt_build_shrinks_history(void **state) {
    (void)state;
    hp_tok *tok = load_tok();
    hp_err e = {{0}};
    hp_env *env = corridor_new(50);
    assert_int_equal(hp_env_reset(env, "train", 4, 0, &e), HP_OK);
    hp_memory m = {0};
    hp_memory_reset(&m, HP_FAM_OTHER, hp_env_get_view(env));
    for (int i = 0; i < 3; i++) {
        assert_int_equal(hp_env_step(env, "look", &e), HP_OK);
        hp_memory_push(&m, "look", hp_env_get_view(env));
    }
    hp_prompt_cfg cfg = hp_prompt_cfg_default(HP_FMT_HIPER, HP_FAM_OTHER);
    cfg.max_prompt_tokens = 0;
    char *text;
    hp_ids full = {0}, none = {0}, got = {0};
    bool tr;
    assert_int_equal(hp_prompt_build(&cfg, tok, &m, hp_env_get_view(env), &text, &full, &tr, &e), HP_OK);
    assert_false(tr);
    free(text);
    cfg.history_length = 0;
    assert_int_equal(hp_prompt_build(&cfg, tok, &m, hp_env_get_view(env), &text, &none, &tr, &e), HP_OK);
    free(text);
    /* a limit between the no-history and the full prompt: remembered steps go first, nothing is cut */
    cfg.history_length = 2;
    cfg.max_prompt_tokens = (int)(none.len + full.len) / 2;
    cfg.truncate_prompt = true;
    assert_int_equal(hp_prompt_build(&cfg, tok, &m, hp_env_get_view(env), &text, &got, &tr, &e), HP_OK);
    assert_true(tr);
    assert_true(got.len < full.len && got.len <= (size_t)cfg.max_prompt_tokens);
    assert_true(hp_str_starts(text, "<|im_start|>system\n"));
    assert_null(strstr(text, "Observation 2:"));
    assert_non_null(strstr(text, "[Observation 3: "));
    free(text);
    /* the same limit without truncation is an error naming the numbers */
    cfg.truncate_prompt = false;
    assert_int_equal(hp_prompt_build(&cfg, tok, &m, hp_env_get_view(env), &text, &got, &tr, &e), HP_FAIL);
    assert_non_null(strstr(e.msg, "exceeds max_prompt_tokens"));
    free(text);
    hp_ids_free(&full);
    hp_ids_free(&none);
    hp_ids_free(&got);
    hp_memory_free(&m);
    hp_env_free(env);
    hp_tok_free(tok);
}

/* hp_turn_play, the turn of rollouts and demonstrations alike: with a tokenizer (rollouts) and without
 * (demonstrations) the same prompts and memory; the subgoal rule, faithful or keep_holds_subgoal; the
 * executed command stripped while the memory keeps the projection; a prompt over the limit names the
 * agent and the turn. */
typedef struct canned {
    const char *const *text;
    int calls;
} canned;

static int canned_respond(void *ctx, hp_turn_agent *a, int n, hp_err *err) {
    (void)err;
    canned *c = ctx;
    for (int k = 0; k < n; k++) {
        assert_non_null(a[k].prompt);
        assert_null(a[k].response);
        a[k].response = c->text[c->calls];
    }
    c->calls++;
    return HP_OK;
}

static void test_turn_play(void **state) {
    (void)state;
    static const char *const SCRIPT[] = {
        "<switch>SWITCH</switch>\n<subgoal>walk ahead</subgoal>\n<action>Go Forward</action>",
        "<switch>KEEP</switch>\n<subgoal>something else</subgoal>\n<action>look</action>",
        "I will   go back  ",
    };
    hp_tok *tok = load_tok();
    hp_err e = {{0}};
    for (int keep = 0; keep < 2; keep++) {
        hp_env *env[2] = {corridor_new(50), corridor_new(50)};
        hp_memory m[2] = {{0}};
        for (int i = 0; i < 2; i++) {
            assert_int_equal(hp_env_reset(env[i], "train", 4, 0, &e), HP_OK);
            hp_memory_reset(&m[i], HP_FAM_OTHER, hp_env_get_view(env[i]));
        }
        hp_prompt_cfg pc = hp_prompt_cfg_default(HP_FMT_HIPER, HP_FAM_OTHER);
        pc.max_prompt_tokens = 100000;
        canned c[2] = {{SCRIPT, 0}, {SCRIPT, 0}};
        hp_turn_cfg with = {.prompt = &pc, .tok = tok, .keep_holds_subgoal = keep, .respond = canned_respond,
                            .ctx = &c[0]};
        hp_turn_cfg without = with;
        without.tok = NULL;
        without.ctx = &c[1];
        static const char *const EXEC[] = {"go forward", "look", "i will   go back"};
        for (int t = 0; t < 3; t++) {
            hp_turn_agent a = {.env = env[0], .mem = &m[0]}, b = {.env = env[1], .mem = &m[1]};
            double secs = 0;
            assert_int_equal(hp_turn_play(&with, t, &a, 1, &secs, &e), HP_OK);
            assert_int_equal(hp_turn_play(&without, t, &b, 1, NULL, &e), HP_OK);
            assert_string_equal(a.prompt, b.prompt);
            assert_true(a.prompt_ids.len > 0 && b.prompt_ids.len == 0);
            assert_string_equal(a.exec, EXEC[t]);
            assert_string_equal(b.exec, EXEC[t]);
            assert_string_equal(m[0].subgoal, m[1].subgoal);
            assert_true(secs >= 0);
            if (t == 1) /* the KEEP turn recorded another subgoal */
                assert_string_equal(m[0].subgoal, keep ? "walk ahead" : "something else");
            hp_turn_agent_clear(&a);
            hp_turn_agent_clear(&b);
        }
        /* the fallback action runs stripped; the memory keeps the projection as it was */
        assert_string_equal(m[0].steps[2].action, "i will   go back  ");
        assert_string_equal(hp_env_get_view(env[0])->observation, "Nothing happens.");
        assert_int_equal(m[0].n_steps, 3);
        for (int i = 0; i < 2; i++) {
            hp_memory_free(&m[i]);
            hp_env_free(env[i]);
        }
    }
    /* over the prompt limit: the agent and the turn are named, nothing is stepped */
    hp_env *env = corridor_new(50);
    hp_memory m = {0};
    assert_int_equal(hp_env_reset(env, "train", 4, 0, &e), HP_OK);
    hp_memory_reset(&m, HP_FAM_OTHER, hp_env_get_view(env));
    hp_prompt_cfg pc = hp_prompt_cfg_default(HP_FMT_HIPER, HP_FAM_OTHER);
    pc.max_prompt_tokens = 50;
    canned c = {SCRIPT, 0};
    hp_turn_cfg tc = {.prompt = &pc, .tok = tok, .respond = canned_respond, .ctx = &c};
    hp_turn_agent a[2] = {{.env = env, .mem = &m, .name = "corridor 7"}, {.env = env, .mem = &m}};
    assert_int_equal(hp_turn_play(&tc, 3, a, 1, NULL, &e), HP_FAIL);
    assert_non_null(strstr(e.msg, "corridor 7 turn 3: "));
    assert_non_null(strstr(e.msg, "exceeds max_prompt_tokens = 50"));
    assert_int_equal(hp_turn_play(&tc, 0, a + 1, 1, NULL, &e), HP_FAIL);
    assert_non_null(strstr(e.msg, "agent 0 turn 0: "));
    assert_int_equal(c.calls, 0);
    assert_int_equal(m.n_steps, 0);
    for (int k = 0; k < 2; k++) hp_turn_agent_clear(&a[k]);
    hp_memory_free(&m);
    hp_env_free(env);
    hp_tok_free(tok);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_records),     cmocka_unit_test(test_replay),
        cmocka_unit_test(test_determinism), cmocka_unit_test(test_truncation_and_jsonl),
        cmocka_unit_test(test_prompt_limit),         cmocka_unit_test(test_prompt_build_shrinks_history),
        cmocka_unit_test(test_turn_play),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
