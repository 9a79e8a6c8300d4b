/* Run configuration: defaults from the spec's tables, strict parsing, overrides, round trip, and
 * every shipped config in configs/ loading cleanly. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <dirent.h>
#include <stdlib.h>
#include <string.h>

#include "hiper/runcfg.h"

static hp_runcfg *new_cfg(void) { return calloc(1, sizeof(hp_runcfg)); }

/* hiper.md §6.3, ALFWorld column. */
static void test_hiper_defaults(void **state) {
    (void)state;
    hp_runcfg *c = new_cfg();
    hp_err err = {{0}};
    assert_int_equal(hp_runcfg_load(c, NULL, NULL, 0, &err), HP_OK);
    assert_string_equal(c->algorithm.adv_estimator, "hae");
    assert_true(c->algorithm.gamma == 1.0 && c->algorithm.lam == 1.0 && c->algorithm.hae.lam_seg == 0.95);
    assert_true(c->algorithm.hae.norm_adv && c->algorithm.hae.bootstrap_truncated);
    assert_true(c->algorithm.hae.keep_penalty == -0.3 && c->algorithm.hae.keep_consistency_penalty == -0.3);
    assert_string_equal(c->algorithm.hae.keep_penalty_mode, "normalized");
    assert_true(c->algorithm.invalid_action_penalty_coef == 0.1 && c->algorithm.hae.heads == 3);
    assert_true(c->actor.optim.lr == 1e-6 && c->critic.optim.lr == 1e-5);
    assert_true(c->actor.clip_ratio == 0.2 && c->actor.clip_ratio_c == 3.0 && c->critic.cliprange_value == 0.5);
    assert_true(c->actor.kl_loss_coef == 0.01 && c->actor.entropy_coeff == 0.001);
    assert_string_equal(c->actor.kl_loss_type, "low_var_kl");
    assert_string_equal(c->actor.loss_agg_mode, "token-mean");
    assert_true(c->actor.ppo_epochs == 1 && c->actor.ppo_mini_batch_size == 256 && c->actor.ppo_micro_batch_size == 16);
    assert_true(c->data.train_batch_size == 128 && c->env.rollout.n == 1 && c->env.max_steps == 50);
    assert_true(c->env.history_length == 2 && c->data.max_prompt_length == 2048 && c->data.max_response_length == 512);
    assert_true(c->rollout.temperature == 1.0 && c->rollout.val_temperature == 0.4);
    assert_true(c->trainer.total_steps == 150 && c->trainer.test_freq == 5 && c->env.seed == 6);
    assert_string_equal(c->env.format, "hiper");
    free(c);
}

/* WebShop column of §6.3, and baselines.md §4 for the estimators. */
static void test_estimator_env_defaults(void **state) {
    (void)state;
    hp_runcfg *c = new_cfg();
    hp_err err = {{0}};
    const char *ws[] = {"env.name=webshop"};
    assert_int_equal(hp_runcfg_load(c, NULL, ws, 1, &err), HP_OK);
    assert_true(c->algorithm.hae.keep_penalty == -3.5 && !c->algorithm.hae.bootstrap_truncated);
    assert_true(c->env.max_steps == 50);
    const char *gi[] = {"algorithm.adv_estimator=gigpo"};
    assert_int_equal(hp_runcfg_load(c, NULL, gi, 1, &err), HP_OK);
    assert_true(c->algorithm.gamma == 0.95 && c->env.rollout.n == 8 && c->data.train_batch_size == 16);
    assert_string_equal(c->algorithm.gigpo.mode, "mean_std_norm");
    assert_string_equal(c->env.format, "think");
    assert_true(c->actor.ppo_micro_batch_size == 32);
    const char *giws[] = {"algorithm.adv_estimator=gigpo", "env.name=webshop"};
    assert_int_equal(hp_runcfg_load(c, NULL, giws, 2, &err), HP_OK);
    assert_string_equal(c->algorithm.gigpo.mode, "mean_norm");
    assert_true(c->env.max_steps == 15 && c->actor.ppo_mini_batch_size == 64 && c->actor.ppo_micro_batch_size == 8);
    assert_true(c->data.max_prompt_length == 4096);
    const char *ppo[] = {"algorithm.adv_estimator=gae"};
    assert_int_equal(hp_runcfg_load(c, NULL, ppo, 1, &err), HP_OK);
    assert_true(c->data.train_batch_size == 128 && c->env.rollout.n == 1 && c->algorithm.gamma == 1.0);
    assert_true(c->actor.ppo_micro_batch_size == 16 && c->critic.optim.lr == 1e-5);
    free(c);
}

static void test_good_file_nested_and_flat(void **state) {
    (void)state;
    hp_runcfg *c = new_cfg();
    hp_err err = {{0}};
    const char *json = "{\"algorithm\": {\"adv_estimator\": \"grpo\", \"gamma\": 0.9},\n"
                       " \"actor.optim.lr\": 2e-6, \"env\": {\"rollout\": {\"n\": 4}, \"name\": \"webshop\"},\n"
                       " \"trainer.val_before_train\": false, \"env.options\": \"{\\\"catalog\\\": 100}\"}";
    const char *ov[] = {"actor.optim.lr=5e-6", "trainer.total_steps=7"};
    assert_int_equal(hp_runcfg_load_text(c, json, "good.json", ov, 2, &err), HP_OK);
    assert_string_equal(c->algorithm.adv_estimator, "grpo");
    assert_true(c->algorithm.gamma == 0.9 && c->env.rollout.n == 4);
    assert_true(c->actor.optim.lr == 5e-6 && c->trainer.total_steps == 7 && !c->trainer.val_before_train);
    assert_string_equal(c->env.name, "webshop");
    assert_true(c->env.max_steps == 15); /* webshop baseline default, from the file's env.name */
    free(c);
}

static void expect_error(const char *json, const char *const *ov, int n_ov, const char *want1, const char *want2) {
    hp_runcfg *c = new_cfg();
    hp_err err = {{0}};
    assert_int_equal(hp_runcfg_load_text(c, json, "bad.json", ov, n_ov, &err), HP_FAIL);
    if (want1 && !strstr(err.msg, want1)) fail_msg("message '%s' lacks '%s'", err.msg, want1);
    if (want2 && !strstr(err.msg, want2)) fail_msg("message '%s' lacks '%s'", err.msg, want2);
    free(c);
}

static void test_errors(void **state) {
    (void)state;
    expect_error("{\"actor\": {\"optim\": {\"lrr\": 1}}}", NULL, 0, "bad.json", "actor.optim.lrr");
    expect_error("{\"algorithm.gamma\": \"0.9\"}", NULL, 0, "bad.json", "algorithm.gamma");
    expect_error("{\"env.max_steps\": 1.5}", NULL, 0, "env.max_steps", "integer");
    expect_error("{\"sft.enable\": \"yes\"}", NULL, 0, "sft.enable", "true or false");
    expect_error("{\"env.format\": \"json\"}", NULL, 0, "env.format", "hiper|think|action");
    expect_error("{\"algorithm.adv_estimator\": \"ppo\"}", NULL, 0, "bad.json", "ppo");
    expect_error("{\"env.max_steps\": 3, \"env\": {\"max_steps\": 4}}", NULL, 0, "env.max_steps", "twice");
    expect_error("{\"a\": 1,\n \"b\": }", NULL, 0, "bad.json:2", "JSON");
    expect_error("[1, 2]", NULL, 0, "bad.json", "object");
    expect_error("{\"unknown\": {}}", NULL, 0, "bad.json", "unknown");
    expect_error("{\"algorithm.gamma\": 1.5}", NULL, 0, "bad.json", "algorithm.gamma");
    expect_error("{\"algorithm.hae.heads\": 4}", NULL, 0, "algorithm.hae.heads", NULL);
    expect_error("{\"env.options\": \"[1]\"}", NULL, 0, "env.options", NULL);
    const char *ov1[] = {"actor.optim.lrr=1"};
    expect_error("{}", ov1, 1, "actor.optim.lrr", "unknown");
    const char *ov2[] = {"env.max_steps=ten"};
    expect_error("{}", ov2, 1, "env.max_steps", "ten");
    const char *ov3[] = {"no_equals_sign"};
    expect_error("{}", ov3, 1, "no_equals_sign", "key=value");
    const char *ov4[] = {"algorithm.adv_estimator=gigpo", "env.format=hiper", "algorithm.adv_estimator=hae",
                         "env.format=think"};
    expect_error("{}", ov4, 4, "env.format", "hiper format");
    hp_runcfg *c = new_cfg();
    hp_err err = {{0}};
    assert_int_equal(hp_runcfg_load(c, "/nonexistent/run.json", NULL, 0, &err), HP_FAIL);
    assert_non_null(strstr(err.msg, "/nonexistent/run.json"));
    free(c);
}

static void test_round_trip(void **state) {
    (void)state;
    hp_runcfg *a = new_cfg(), *b = new_cfg();
    hp_err err = {{0}};
    int n;
    const char *const *ov = hp_runcfg_small_overrides(false, &n);
    assert_int_equal(hp_runcfg_load(a, NULL, ov, n, &err), HP_OK);
    const char *extra[] = {"actor.optim.lr=1.2345678901234e-7", "env.options={\"x\": \"a\\\"b\"}"};
    for (int i = 0; i < 2; i++) assert_int_equal(hp_runcfg_set(a, extra[i], &err), HP_OK);
    char *json = hp_runcfg_to_json(a);
    if (hp_runcfg_load_text(b, json, "round", NULL, 0, &err)) fail_msg("%s", err.msg);
    assert_memory_equal(a, b, sizeof *a);
    free(json);
    free(a);
    free(b);
}

/* Each shipped config loads; the small ones equal the built-in main job. */
static void test_shipped_configs(void **state) {
    (void)state;
    const char *dir = HP_SOURCE_DIR "/configs";
    DIR *d = opendir(dir);
    assert_non_null(d);
    int n_files = 0;
    struct dirent *e;
    hp_runcfg *c = new_cfg();
    while ((e = readdir(d))) {
        if (!hp_str_ends(e->d_name, ".json")) continue;
        char *p = hp_path_join(dir, e->d_name);
        hp_err err = {{0}};
        if (hp_runcfg_load(c, p, NULL, 0, &err)) fail_msg("%s", err.msg);
        free(p);
        n_files++;
    }
    closedir(d);
    assert_true(n_files >= 10);
    for (int q = 0; q < 2; q++) {
        hp_runcfg *builtin = new_cfg();
        int n;
        const char *const *ov = hp_runcfg_small_overrides(q, &n);
        hp_err err = {{0}};
        assert_int_equal(hp_runcfg_load(builtin, NULL, ov, n, &err), HP_OK);
        char *p = hp_path_join(dir, q ? "hiper_alfworld_quick.json" : "hiper_alfworld_small.json");
        if (hp_runcfg_load(c, p, NULL, 0, &err)) fail_msg("%s", err.msg);
        assert_memory_equal(c, builtin, sizeof *c);
        free(p);
        free(builtin);
    }
    free(c);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_hiper_defaults),          cmocka_unit_test(test_estimator_env_defaults),
        cmocka_unit_test(test_good_file_nested_and_flat), cmocka_unit_test(test_errors),
        cmocka_unit_test(test_round_trip),              cmocka_unit_test(test_shipped_configs),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
