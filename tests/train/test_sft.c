/* SFT's training loop (src/train/sft.c, hiper/sft_train.h): on expert demonstrations a tiny random Qwen2's
 * response loss falls; the schedule is hp_lr_at, PPO's, and gives the values SFT's own schedule gave, bit
 * for bit; and the non-finite policy PPO shares: a non-finite gradient skips the step (the run goes on), a
 * non-finite loss stops it naming the step. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "hiper/agent.h"
#include "hiper/model.h"
#include "hiper/sft_train.h"

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

/* A few demonstration turns for the tests below. */
static hp_sft_set small_set(void) {
    hp_err e = {{0}};
    hp_env **envs = open_envs(1);
    hp_expert ex;
    if (hp_expert_open("alfworld", &ex, &e)) fail_msg("%s", e.msg);
    hp_demo_cfg dc = hp_demo_cfg_default(HP_FMT_HIPER, HP_FAM_ALFWORLD);
    dc.prompt.style = HP_STYLE_COMPACT;
    dc.n_episodes = 2;
    dc.max_steps = 6;
    dc.seed = 4;
    hp_sft_set set;
    if (hp_sft_collect(envs[0], &ex, &dc, &set, &e)) fail_msg("%s", e.msg);
    hp_expert_close(&ex);
    close_envs(envs, 1);
    return set;
}

static void test_sft_lowers_loss(void **state) {
    fixture *f = *state;
    hp_err e = {{0}};
    hp_env **envs = open_envs(1);
    hp_expert ex;
    if (hp_expert_open("alfworld", &ex, &e)) fail_msg("%s", e.msg);
    hp_demo_cfg dc = hp_demo_cfg_default(HP_FMT_HIPER, HP_FAM_ALFWORLD);
    dc.prompt.style = HP_STYLE_COMPACT;
    dc.n_episodes = 3;
    dc.max_steps = 8;
    dc.noise = 0.25;
    dc.seed = 4;
    hp_sft_set set;
    if (hp_sft_collect(envs[0], &ex, &dc, &set, &e)) fail_msg("%s", e.msg);
    assert_int_equal(set.n_episodes, 3);
    assert_true(set.n > 0 && set.n + set.n_noisy_turns <= 24);
    /* targets are well-formed: the projection accepts every one of them */
    int n_switch = 0;
    for (int i = 0; i < set.n; i++) {
        hp_proj p;
        hp_project(HP_FMT_HIPER, HP_FAM_ALFWORLD, set.ex[i].response, &p);
        assert_true(p.valid);
        n_switch += !strcmp(p.switch_word, "SWITCH");
        assert_true(hp_str_ends(set.ex[i].prompt, "<|im_start|>assistant\n"));
        hp_proj_free(&p);
    }
    assert_true(n_switch >= 1);
    /* tokenised: weights exactly on the response and the closing <|im_end|> */
    hp_sft_tokens tk;
    if (hp_sft_tokenize(f->tok, &set.ex[0], 0, &tk, &e)) fail_msg("%s", e.msg);
    assert_int_equal(tk.ids.data[tk.ids.len - 1], hp_tok_im_end(f->tok));
    for (size_t i = 0; i < tk.ids.len; i++) assert_true(tk.weight[i] == (i >= (size_t)tk.n_prompt ? 1.0f : 0.0f));
    hp_sft_tokens_free(&tk);

    hp_model *m = hp_model_clone(f->model);
    hp_model_free(m); /* the clone is frozen; train a fresh model of the same shape instead */
    hp_config c = *hp_model_config(f->model);
    m = hp_model_init_random(&c, 5, &e);
    double before, after;
    /* prompts keep their last 192 tokens (the current state and the generation prompt) */
    if (hp_sft_eval_loss(m, f->tok, &set, 192, &before, &e)) fail_msg("%s", e.msg);
    hp_sft_cfg sc = hp_sft_cfg_default();
    sc.epochs = 6;
    sc.batch = 4;
    sc.lr = 1e-2;
    sc.max_len = 192;
    hp_sft_report rep;
    if (hp_sft_train(m, f->tok, &set, &sc, &rep, &e)) fail_msg("%s", e.msg);
    if (hp_sft_eval_loss(m, f->tok, &set, 192, &after, &e)) fail_msg("%s", e.msg);
    fprintf(stderr, "sft: %d examples before %.3f after %.3f first %.3f last %.3f steps %d tokens %lld %.1fs\n", set.n, before, after, rep.first_loss, rep.last_loss, rep.steps, (long long)rep.tokens, rep.seconds);
    /* a random model starts near log(vocab) ≈ 6.3 nats per token */
    assert_true(before > 5.0);
    assert_true(after < 0.6 * before);
    assert_true(rep.last_loss < rep.first_loss);
    assert_int_equal(rep.steps, 6 * ((set.n + 3) / 4));
    hp_model_free(m);
    hp_sft_set_free(&set);
    hp_expert_close(&ex);
    close_envs(envs, 1);
}

/* SFT's own schedule before it became hp_lr_at's: kept here to show that SFT's runs keep their bits. */
static double sft_lr_before(const hp_sft_cfg *cfg, int step, int total) {
    int warm = (int)(cfg->warmup_ratio * total + 0.5);
    if (step < warm) return cfg->lr * (step + 1) / (warm + 1);
    int span = total - warm - 1;
    double p = span > 0 ? (double)(step - warm) / span : 1.0;
    double cosine = 0.5 * (1.0 + cos(M_PI * p));
    return cfg->lr * (cfg->min_lr_ratio + (1.0 - cfg->min_lr_ratio) * cosine);
}

/* PPO's cosine before (min_lr_ratio 0, as update.c sets it): the same bits after. */
static double ppo_cosine_before(double lr, int64_t warmup, int64_t total, int64_t step) {
    double span = (double)(total - warmup);
    double prog = span > 0 ? (double)(step - warmup) / span : 1.0;
    if (prog < 0) prog = 0;
    if (prog > 1) prog = 1;
    double lo = lr * 0.0;
    return lo + (lr - lo) * 0.5 * (1.0 + cos(M_PI * prog));
}

/* The SFT schedule (verl's warm-up + cosine with min_lr_ratio): warm-up climbs linearly to lr, the
 * cosine is at its midpoint halfway through the decay and ends at lr * min_lr_ratio. It is hp_lr_at's. */
static void test_sft_lr_schedule(void **state) {
    (void)state;
    hp_sft_cfg c = hp_sft_cfg_default();
    c.lr = 1e-3;
    c.warmup_ratio = 0.1;
    c.min_lr_ratio = 0.2;
    /* 101 steps: 10 of warm-up, then steps 10..100 decay */
    hp_lr_sched s = hp_sft_lr_sched(&c, 101);
    assert_float_equal(hp_lr_at(&s, 0), 1e-3 / 11, 1e-12);
    assert_float_equal(hp_lr_at(&s, 9), 1e-3 * 10 / 11, 1e-12);
    assert_float_equal(hp_lr_at(&s, 10), 1e-3, 1e-12);
    assert_float_equal(hp_lr_at(&s, 55), 1e-3 * 0.6, 1e-12);
    assert_float_equal(hp_lr_at(&s, 100), 2e-4, 1e-12);
    c.min_lr_ratio = 1;
    c.warmup_ratio = 0;
    s = hp_sft_lr_sched(&c, 7);
    for (int k = 0; k < 7; k++) assert_float_equal(hp_lr_at(&s, k), 1e-3, 1e-15);
    /* bit for bit what SFT computed before, over the main job's and other settings */
    const double lrs[] = {3e-3, 2e-3, 6e-3, 1e-3, 0.1};
    const double warm[] = {0.03, 0, 0.1, 0.5, 0.99};
    const double mins[] = {0.1, 0, 1, 0.37};
    const int totals[] = {1, 2, 3, 12, 88, 101, 2139};
    for (int a = 0; a < 5; a++)
        for (int b = 0; b < 5; b++)
            for (int m = 0; m < 4; m++)
                for (int t = 0; t < 7; t++) {
                    c.lr = lrs[a];
                    c.warmup_ratio = warm[b];
                    c.min_lr_ratio = mins[m];
                    s = hp_sft_lr_sched(&c, totals[t]);
                    for (int k = 0; k < totals[t]; k++) {
                        double x = hp_lr_at(&s, k), y = sft_lr_before(&c, k, totals[t]);
                        if (memcmp(&x, &y, sizeof x) != 0)
                            fail_msg("lr %g warm-up %g min %g, step %d of %d: %.17g, before %.17g", c.lr,
                                     c.warmup_ratio, c.min_lr_ratio, k, totals[t], x, y);
                    }
                }
    /* PPO's cosine (no warm-up, min 0): the same bits as before */
    for (int64_t total = 1; total < 40; total += 3)
        for (int64_t k = 0; k <= total + 2; k++) {
            hp_lr_sched p = {HP_LR_COSINE, 3e-5, 0, total, 0.0};
            double x = hp_lr_at(&p, k), y = ppo_cosine_before(3e-5, 0, total, k);
            assert_memory_equal(&x, &y, sizeof x);
        }
}

/* A gradient that is not finite skips that optimizer step, as PPO's update does: the run goes on, the
 * step is counted, and the optimizer has taken one step fewer. */
static void test_sft_skips_nonfinite_gradient(void **state) {
    fixture *f = *state;
    hp_err e = {{0}};
    hp_sft_set set = small_set();
    hp_config c = *hp_model_config(f->model);
    hp_model *m = hp_model_init_random(&c, 5, &e);
    hp_sft_cfg sc = hp_sft_cfg_default();
    sc.epochs = 2;
    sc.batch = 4;
    sc.max_len = 192;
    /* HIPER_TEST_NAN_GRAD (src/train/optstep.c): optimizer step 3 of "sft" gets a NaN gradient */
    setenv("HIPER_TEST_NAN_GRAD", "sft@3", 1);
    hp_sft_report rep;
    int rc = hp_sft_train(m, f->tok, &set, &sc, &rep, &e);
    unsetenv("HIPER_TEST_NAN_GRAD");
    if (rc) fail_msg("%s", e.msg);
    assert_int_equal(rep.steps, 2 * ((set.n + 3) / 4));
    assert_true(rep.steps >= 4);
    assert_int_equal(rep.skipped_steps, 1);
    assert_int_equal(hp_model_optim_step_count(m), rep.steps - 1);
    assert_true(isfinite(rep.first_loss) && isfinite(rep.last_loss));
    for (int i = 0; i < hp_model_n_tensors(m); i++) {
        hp_tensor_info t;
        hp_model_tensor(m, i, &t);
        for (int64_t k = 0; k < t.numel; k++)
            if (!isfinite(t.data[k])) fail_msg("%s[%lld] = %g after a skipped step", t.name, (long long)k, t.data[k]);
    }
    hp_model_free(m);
    hp_sft_set_free(&set);
}

/* A loss that is not finite stops SFT with an error naming the step and the tensor (the model's forward
 * pass refuses the non-finite log-prob; PPO's update stops on it too). */
static void test_sft_stops_on_nonfinite_loss(void **state) {
    fixture *f = *state;
    hp_err e = {{0}};
    hp_sft_set set = small_set();
    hp_config c = *hp_model_config(f->model);
    hp_model *m = hp_model_init_random(&c, 5, &e);
    hp_tensor_info t;
    assert_true(hp_model_find_tensor(m, "model.norm.weight", &t));
    t.data[0] = NAN;
    hp_sft_cfg sc = hp_sft_cfg_default();
    sc.epochs = 1;
    sc.batch = 4;
    sc.max_len = 192;
    hp_sft_report rep;
    assert_int_equal(hp_sft_train(m, f->tok, &set, &sc, &rep, &e), HP_FAIL);
    assert_non_null(strstr(e.msg, "sft: step 1 (epoch 1): forward: "));
    assert_non_null(strstr(e.msg, "'model.norm.weight' is not finite"));
    assert_int_equal(hp_model_optim_step_count(m), 0);
    hp_model_free(m);
    hp_sft_set_free(&set);
}

int main(void) {
    const struct CMUnitTest tests[] = {cmocka_unit_test(test_sft_lowers_loss), cmocka_unit_test(test_sft_lr_schedule),
                                       cmocka_unit_test(test_sft_skips_nonfinite_gradient),
                                       cmocka_unit_test(test_sft_stops_on_nonfinite_loss)};
    return cmocka_run_group_tests(tests, setup, teardown);
}
