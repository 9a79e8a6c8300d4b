/* The agent with a real model and a real environment: a tiny random Qwen2 plays the built-in ALFWorld
 * (records well-formed, recorded log-probs equal the model's scoring pass, deterministic, group members
 * share the task), expert demonstrations are well-formed, and evaluation counts episodes per task type.
 * Training on the demonstrations is tested with the SFT loop in tests/train/test_sft.c. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "hiper/agent.h"
#include "hiper/alfworld.h"
#include "hiper/model.h"

#include <math.h>
#include <omp.h>
#include <stdlib.h>
#include <string.h>

typedef struct fixture {
    hp_tok *tok;
    hp_model *model;
} fixture;

static int setup(void **state) {
    /* one thread: the model is tiny, and OpenMP spin-waiting on a busy 2-core machine costs 20x */
    omp_set_num_threads(1);
    fixture *f = hp_xcalloc(1, sizeof *f);
    hp_err e = {{0}};
    f->tok = hp_tok_load(HP_SOURCE_DIR "/tests/agent/data/tiny_tokenizer.json", &e);
    if (!f->tok) fail_msg("%s", e.msg);
    hp_config c;
    hp_config_default(&c);
    c.hidden_size = 64;
    c.intermediate_size = 128;
    c.num_hidden_layers = 2;
    c.num_attention_heads = 4;
    c.num_key_value_heads = 2;
    c.vocab_size = hp_tok_vocab_size(f->tok);
    c.max_position_embeddings = 4096;
    c.tie_word_embeddings = true;
    if (hp_config_validate(&c, "test", &e)) fail_msg("%s", e.msg);
    f->model = hp_model_init_random(&c, 3, &e);
    if (!f->model) fail_msg("%s", e.msg);
    *state = f;
    return 0;
}

static int teardown(void **state) {
    fixture *f = *state;
    hp_model_free(f->model);
    hp_tok_free(f->tok);
    free(f);
    return 0;
}

static hp_env **open_envs(int n) {
    hp_env **envs = hp_xcalloc((size_t)n, sizeof *envs);
    hp_err e = {{0}};
    for (int i = 0; i < n; i++)
        if (!(envs[i] = hp_env_open("alfworld", NULL, &e))) fail_msg("%s", e.msg);
    return envs;
}

static void close_envs(hp_env **envs, int n) {
    for (int i = 0; i < n; i++) hp_env_free(envs[i]);
    free(envs);
}

static hp_rollout_cfg small_cfg(void) {
    hp_rollout_cfg cfg = hp_rollout_cfg_default(HP_FMT_HIPER, HP_FAM_ALFWORLD);
    cfg.prompt.style = HP_STYLE_COMPACT;
    cfg.prompt.max_prompt_tokens = 200; /* keeps the sanitizer build fast: prompts lose their oldest tokens */
    cfg.prompt.truncate_prompt = true;
    cfg.n_tasks = 2;
    cfg.group_n = 2;
    cfg.max_steps = 3;
    cfg.prompt.max_response_tokens = 12;
    cfg.seed = 9;
    return cfg;
}

static void test_rollout_with_model(void **state) {
    fixture *f = *state;
    hp_env **envs = open_envs(4);
    hp_policy pol = hp_policy_model(f->model);
    hp_rollout_cfg cfg = small_cfg();
    hp_rollout a, b;
    hp_err e = {{0}};
    if (hp_rollout_run(envs, f->tok, &pol, &cfg, &a, &e)) fail_msg("%s", e.msg);
    if (hp_rollout_run(envs, f->tok, &pol, &cfg, &b, &e)) fail_msg("%s", e.msg);
    assert_int_equal(a.n_trajs, 4);
    assert_int_equal(a.n_turns, b.n_turns);
    for (int i = 0; i < 4; i++) {
        const hp_traj *tr = &a.trajs[i];
        const hp_traj *lead = &a.trajs[(i / 2) * 2];
        assert_int_equal(tr->task_index, lead->task_index);
        /* group members start from the same state: identical first prompts */
        assert_string_equal(a.turns[tr->first_turn].prompt_text, a.turns[lead->first_turn].prompt_text);
        assert_true(tr->task_type >= 0 && tr->task_type < 6);
    }
    for (size_t i = 0; i < a.n_turns; i++) {
        const hp_turn *u = &a.turns[i], *w = &b.turns[i];
        assert_true(u->response.len >= 1 && u->response.len <= 12);
        assert_true(u->prompt.len <= 200);
        /* deterministic for a fixed seed */
        assert_int_equal(u->response.len, w->response.len);
        assert_memory_equal(u->response.data, w->response.data, u->response.len * sizeof(int32_t));
        /* recorded log-probs = the model's scoring pass over prompt + response */
        size_t n = u->prompt.len + u->response.len;
        int32_t *ids = hp_xmalloc(n * sizeof *ids);
        memcpy(ids, u->prompt.data, u->prompt.len * sizeof *ids);
        memcpy(ids + u->prompt.len, u->response.data, u->response.len * sizeof *ids);
        int64_t off[2] = {0, (int64_t)n};
        hp_batch bt = {.ids = ids, .offsets = off, .n_seq = 1};
        float *lp = hp_xmalloc(n * sizeof *lp);
        if (hp_model_score(f->model, &bt, lp, NULL, NULL, &e)) fail_msg("%s", e.msg);
        for (size_t j = 0; j < u->response.len; j++) {
            assert_true(u->logprobs[j] <= 0 && isfinite(u->logprobs[j]));
            assert_float_equal(u->logprobs[j], lp[u->prompt.len - 1 + j], 2e-3);
        }
        free(lp);
        free(ids);
    }
    hp_rollout_free(&a);
    hp_rollout_free(&b);
    close_envs(envs, 4);
}

static void test_eval_counts(void **state) {
    fixture *f = *state;
    hp_env **envs = open_envs(2);
    hp_policy pol = hp_policy_model(f->model);
    hp_eval_cfg ec = hp_eval_cfg_default(HP_FMT_HIPER, HP_FAM_ALFWORLD);
    ec.rollout = small_cfg();
    ec.rollout.split = "valid_seen";
    ec.rollout.gen.temperature = 0.4;
    ec.n_episodes = 5;
    ec.batch = 2;
    hp_eval_result res;
    hp_err e = {{0}};
    if (hp_eval_run_envs(envs, 2, f->tok, &pol, &ec, &res, &e)) fail_msg("%s", e.msg);
    assert_int_equal(res.n_episodes, 5);
    int sum = 0;
    for (int t = 0; t < res.n_types; t++) sum += res.type_n[t];
    assert_int_equal(sum, 5);
    assert_true(res.success >= 0 && res.success <= 1);
    assert_true(res.mean_turns >= 1 && res.mean_turns <= 3);
    char *js = hp_eval_json(&res);
    assert_non_null(strstr(js, "\"episodes\":5"));
    free(js);
    hp_eval_result_free(&res);
    /* a batch larger than the environments given is an error, not a crash */
    ec.batch = 3;
    assert_int_equal(hp_eval_run_envs(envs, 2, f->tok, &pol, &ec, &res, &e), HP_FAIL);
    close_envs(envs, 2);
}

/* Demonstrations go through the same projection as rollouts (lower-casing included): with no noise the
 * experts still win, and every target is a valid response. */
static void test_demos_win(void **state) {
    (void)state;
    const char *kinds[] = {"alfworld", "webshop"};
    for (int k = 0; k < 2; k++) {
        hp_err e = {{0}};
        hp_env *env = hp_env_open(kinds[k], NULL, &e);
        if (!env) fail_msg("%s", e.msg);
        hp_expert ex;
        if (hp_expert_open(kinds[k], &ex, &e)) fail_msg("%s", e.msg);
        hp_env_family fam = hp_env_family_of(kinds[k]);
        for (int f = 0; f < 3; f++) {
            hp_demo_cfg dc = hp_demo_cfg_default((hp_fmt)f, fam);
            dc.n_episodes = 6;
            dc.max_steps = fam == HP_FAM_WEBSHOP ? 15 : 50;
            dc.noise = 0;
            dc.seed = 2;
            hp_sft_set set;
            if (hp_sft_collect(env, &ex, &dc, &set, &e)) fail_msg("%s: %s", kinds[k], e.msg);
            if (set.n_won < 4) fail_msg("%s/%s: the expert won only %d of 6 demonstrations", kinds[k], hp_fmt_name(dc.prompt.fmt), set.n_won);
            for (int i = 0; i < set.n; i++) {
                hp_proj p;
                hp_project(dc.prompt.fmt, fam, set.ex[i].response, &p);
                assert_true(p.valid);
                hp_proj_free(&p);
            }
            hp_sft_set_free(&set);
        }
        hp_expert_close(&ex);
        hp_env_free(env);
    }
}

/* A repeated-action detour replays the previous command: with every step a detour and every detour a
 * repeat, each target after the first names the first action, and the environment answers the
 * repeats of a completed "go to" with "Nothing happens.". */
static void test_demos_repeat_detour(void **state) {
    (void)state;
    hp_err e = {{0}};
    hp_env *env = hp_env_open("alfworld", NULL, &e);
    if (!env) fail_msg("%s", e.msg);
    hp_expert ex;
    if (hp_expert_open("alfworld", &ex, &e)) fail_msg("%s", e.msg);
    hp_demo_cfg dc = hp_demo_cfg_default(HP_FMT_ACTION, HP_FAM_ALFWORLD);
    dc.n_episodes = 3;
    dc.max_steps = 4;
    dc.noise = 1;
    dc.noise_repeat = 1;
    dc.keep_noisy_targets = true;
    hp_sft_set set;
    if (hp_sft_collect(env, &ex, &dc, &set, &e)) fail_msg("%s", e.msg);
    assert_int_equal(set.n, 12);
    assert_int_equal(set.n_noisy_turns, 12);
    for (int ep = 0; ep < 3; ep++) {
        const char *first = set.ex[4 * ep].response;
        for (int t = 1; t < 4; t++) assert_string_equal(set.ex[4 * ep + t].response, first);
        if (strstr(first, "go to")) assert_non_null(strstr(set.ex[4 * ep + 2].prompt, "Nothing happens."));
    }
    hp_sft_set_free(&set);
    dc.noise_repeat = 1.5;
    assert_int_equal(hp_sft_collect(env, &ex, &dc, &set, &e), HP_FAIL);
    assert_non_null(strstr(e.msg, "noise_repeat"));
    hp_expert_close(&ex);
    hp_env_free(env);
}

int main(void) {
    const struct CMUnitTest tests[] = {cmocka_unit_test(test_rollout_with_model), cmocka_unit_test(test_eval_counts),
                                       cmocka_unit_test(test_demos_win), cmocka_unit_test(test_demos_repeat_detour)};
    return cmocka_run_group_tests(tests, setup, teardown);
}
