/* hiper gradvar's arithmetic (train/gradvar.c, hiper/gradvar.h) against a direct computation on a small
 * case: a tiny random policy and 3-head critic, six hand-made trajectories in the HiPER format, three
 * disjoint mini-batches. The direct side takes each estimator's advantages and loss mask from the rows
 * (the trainer's code, checked elsewhere against the spec), reads the critic's values itself (head 0 for
 * the GAE estimators), writes d loss / d logp = −A·mask / N at every response position of a mini-batch,
 * runs the engine's forward and backward, keeps every mini-batch's gradient vector and computes the
 * per-group variances and squared mean norms in two passes. Also: the mini-batch partition, turn-level
 * GAE's rows against hp_adv_turn_gae, and the refusals. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "hiper/advantage.h"
#include "hiper/gradvar.h"
#include "hiper/model.h"
#include "hiper/rollout.h"
#include "hiper/spans.h"
#include "train/train_internal.h"

static hp_tok *g_tok;
static hp_model *g_actor, *g_critic;
static char g_dir[256];

enum { N_TRAJ = 6, N_BATCH = 3 };

static hp_model *tiny_model(uint64_t seed) {
    hp_config c;
    hp_config_default(&c);
    c.hidden_size = 32;
    c.intermediate_size = 64;
    c.num_hidden_layers = 2;
    c.num_attention_heads = 2;
    c.num_key_value_heads = 1;
    c.vocab_size = hp_tok_vocab_size(g_tok);
    c.max_position_embeddings = 512;
    c.tie_word_embeddings = true;
    c.eos_token_id = hp_tok_im_end(g_tok);
    hp_err e = {{0}};
    if (hp_config_validate(&c, "test", &e)) fail_msg("%s", e.msg);
    hp_model *m = hp_model_init_random(&c, seed, &e);
    if (!m) fail_msg("%s", e.msg);
    return m;
}

static int setup(void **state) {
    (void)state;
    snprintf(g_dir, sizeof g_dir, "%s/test_gradvar_tok_%ld", HP_BINARY_DIR, (long)getpid());
    hp_buf text = {0};
    for (int i = 0; i < 30; i++)
        hp_buf_puts(&text, "<switch>SWITCH</switch>\n<subgoal>find mug</subgoal>\n<action>go to desk 1</action>\n"
                           "<switch>KEEP</switch>\n<subgoal>clean mug</subgoal>\n<action>take mug 1 from desk 1</action>\n"
                           "You are in the middle of a room. Your task is to: put a clean mug in the coffeemachine.\n");
    hp_err err = {{0}};
    if (hp_tok_train(text.data, text.len, 400, g_dir, &err)) fail_msg("%s", err.msg);
    hp_buf_free(&text);
    g_tok = hp_tok_load(g_dir, &err);
    if (!g_tok) fail_msg("%s", err.msg);
    g_actor = tiny_model(3);
    g_critic = tiny_model(4);
    if (hp_model_add_value_head(g_critic, 3, 5, &err)) fail_msg("%s", err.msg);
    /* a value head of scale ~1 instead of 0.02, so that the values matter */
    hp_tensor_info w;
    assert_true(hp_model_find_tensor(g_critic, "score.weight", &w));
    for (int64_t i = 0; i < w.numel; i++) w.data[i] *= 50.0f;
    return 0;
}

static int teardown(void **state) {
    (void)state;
    hp_model_free(g_actor);
    hp_model_free(g_critic);
    hp_tok_free(g_tok);
    hp_err err;
    hp_remove_tree(g_dir, &err);
    return 0;
}

static void make_turn(hp_turn *t, int traj, int turn, const char *prompt_text, const char *resp, double reward,
                      bool done) {
    memset(t, 0, sizeof *t);
    t->traj = traj, t->group = traj, t->t = turn, t->reward = reward, t->done = done, t->valid = true;
    hp_err err = {{0}};
    hp_buf p = {0};
    hp_buf_printf(&p, "<|im_start|>user\n%s<|im_end|>\n<|im_start|>assistant\n", prompt_text);
    assert_int_equal(hp_tok_encode(g_tok, p.data, p.len, &t->prompt, &err), HP_OK);
    hp_buf_free(&p);
    assert_int_equal(hp_tok_encode(g_tok, resp, strlen(resp), &t->response, &err), HP_OK);
    hp_ids_push(&t->response, hp_tok_im_end(g_tok));
    t->anchor_obs = "obs";
}

/* Six trajectories of 2-4 turns, switching and keeping subgoals, three of them won (reward 10). */
static void make_rollout(hp_rollout *ro) {
    memset(ro, 0, sizeof *ro);
    static const int LEN[N_TRAJ] = {3, 2, 4, 2, 3, 4};
    static const char *const SG[3] = {"find mug", "clean mug", "take mug"};
    int n = 0;
    for (int k = 0; k < N_TRAJ; k++) n += LEN[k];
    ro->turns = calloc((size_t)n, sizeof *ro->turns);
    ro->trajs = calloc(N_TRAJ, sizeof *ro->trajs);
    ro->n_trajs = N_TRAJ;
    int i = 0;
    for (int k = 0; k < N_TRAJ; k++) {
        ro->trajs[k] = (hp_traj){.group = k, .first_turn = i, .n_turns = LEN[k], .won = k % 2 == 0, .done = true,
                                 .ret = k % 2 == 0 ? 10.0 : 0.0};
        for (int t = 0; t < LEN[k]; t++, i++) {
            char resp[200], prompt[120];
            bool sw = t == 0 || (t + k) % 3 == 0;
            snprintf(resp, sizeof resp, "<switch>%s</switch>\n<subgoal>%s</subgoal>\n<action>go to desk %d</action>",
                     sw ? "SWITCH" : "KEEP", SG[(t + k) % 3], 1 + (t * 7 + k) % 5);
            snprintf(prompt, sizeof prompt, "Your task is to: put a clean mug %d. You are in room %d.", k, t);
            bool last = t == LEN[k] - 1;
            make_turn(&ro->turns[i], k, t, prompt, resp, last && k % 2 == 0 ? 10.0 : 0.0, last);
        }
    }
    ro->n_turns = (size_t)n;
}

static void free_rollout(hp_rollout *ro) {
    for (size_t i = 0; i < ro->n_turns; i++) hp_ids_free(&ro->turns[i].prompt), hp_ids_free(&ro->turns[i].response);
    free(ro->turns);
    free(ro->trajs);
}

static hp_runcfg *load_cfg(void) {
    hp_runcfg *cfg = calloc(1, sizeof *cfg);
    hp_err err = {{0}};
    const char *ov[] = {"algorithm.gamma=0.95", "algorithm.lam=0.9"};
    if (hp_runcfg_load(cfg, NULL, ov, 2, &err)) fail_msg("%s", err.msg);
    return cfg;
}

/* The group of a tensor, decided here from its name independently of hp_gradvar_group_of. */
static int my_group(const char *name) {
    if (!strcmp(name, "model.embed_tokens.weight")) return HP_GRADVAR_EMBED;
    if (strstr(name, "_proj.") && (strstr(name, "q_proj") || strstr(name, "k_proj") || strstr(name, "v_proj") ||
                                   strstr(name, "o_proj")))
        return HP_GRADVAR_ATTN;
    if (strstr(name, "gate_proj") || strstr(name, "up_proj") || strstr(name, "down_proj")) return HP_GRADVAR_MLP;
    if (strstr(name, "norm")) return HP_GRADVAR_NORM;
    return HP_GRADVAR_OTHER;
}

/* The direct computation for one estimator: variances and squared mean norms per group (and total). */
static void direct(const hp_rollout *ro, const hp_runcfg *base, const char *est, double *var, double *msq) {
    hp_err err = {{0}};
    hp_runcfg *cfg = malloc(sizeof *cfg);
    *cfg = *base;
    snprintf(cfg->algorithm.adv_estimator, sizeof cfg->algorithm.adv_estimator, "%s", est);
    hp_learn_cfg lc;
    if (hp_learn_cfg_resolve(cfg, &lc, &err)) fail_msg("%s", err.msg);
    hp_rows r;
    if (hp_rows_build(&r, ro, g_tok, &lc.adv, &err)) fail_msg("%s", err.msg);
    /* the critic's values at every value position of every row, read here */
    for (int i = 0; i < r.n; i++) {
        int64_t off[2] = {0, r.offsets[i + 1] - r.offsets[i]};
        hp_batch b = {.ids = r.ids.data + r.offsets[i], .offsets = off, .n_seq = 1};
        float *v = calloc((size_t)off[1] * 3, sizeof *v);
        if (hp_model_score(g_critic, &b, NULL, NULL, v, &err)) fail_msg("%s", err.msg);
        for (int j = 0; j <= r.n_resp[i]; j++)
            for (int k = 0; k < r.K; k++)
                r.v_old[(r.val_off[i] + j) * r.K + k] = v[(r.n_prompt[i] + j - 1) * 3 + k];
        free(v);
    }
    hp_adv_stats st;
    if (hp_rows_advantages(&r, ro, &lc.adv, &st, &err)) fail_msg("%s", err.msg);
    size_t n_grad = 0;
    hp_model_grad_data(g_actor, &n_grad);
    float *G = calloc(N_BATCH * n_grad, sizeof *G);
    for (int m = 0; m < N_BATCH; m++) {
        int a = ro->trajs[2 * m].first_turn, b = ro->trajs[2 * m + 1].first_turn + ro->trajs[2 * m + 1].n_turns;
        int64_t *offs = calloc((size_t)(b - a + 1), sizeof *offs), N = 0;
        for (int i = a; i <= b; i++) offs[i - a] = r.offsets[i] - r.offsets[a];
        for (int i = a; i < b; i++)
            for (int j = 0; j < r.n_resp[i]; j++) N += r.mask[r.tok_off[i] + j] != 0;
        assert_true(N > 0);
        hp_batch bt = {.ids = r.ids.data + r.offsets[a], .offsets = offs, .n_seq = b - a};
        int64_t ntok = offs[b - a];
        float *lp = calloc((size_t)ntok, sizeof *lp), *dlp = calloc((size_t)ntok, sizeof *dlp);
        hp_model_zero_grad(g_actor);
        if (hp_model_forward(g_actor, &bt, lp, NULL, NULL, &err)) fail_msg("%s", err.msg);
        for (int i = a; i < b; i++)
            for (int j = 0; j < r.n_resp[i]; j++) {
                size_t s = (size_t)r.tok_off[i] + (size_t)j;
                if (r.mask[s]) dlp[r.offsets[i] - r.offsets[a] + r.n_prompt[i] + j - 1] = (float)(-r.adv[s] / (double)N);
            }
        if (hp_model_backward(g_actor, &bt, dlp, NULL, NULL, &err)) fail_msg("%s", err.msg);
        memcpy(G + (size_t)m * n_grad, hp_model_grad_data(g_actor, &n_grad), n_grad * sizeof *G);
        free(offs), free(lp), free(dlp);
    }
    for (int g = 0; g <= HP_GRADVAR_GROUPS; g++) var[g] = msq[g] = 0;
    size_t off = 0;
    for (int t = 0; t < hp_model_n_tensors(g_actor); t++) {
        hp_tensor_info ti;
        hp_model_tensor(g_actor, t, &ti);
        if (!ti.grad) continue;
        int g = my_group(ti.name);
        for (int64_t j = 0; j < ti.numel; j++) {
            double mean = 0, ss = 0;
            for (int m = 0; m < N_BATCH; m++) mean += G[(size_t)m * n_grad + off + (size_t)j] / N_BATCH;
            for (int m = 0; m < N_BATCH; m++) {
                double d = G[(size_t)m * n_grad + off + (size_t)j] - mean;
                ss += d * d;
            }
            var[g] += ss / (N_BATCH - 1);
            msq[g] += mean * mean;
        }
        off += (size_t)ti.numel;
    }
    for (int g = 0; g < HP_GRADVAR_GROUPS; g++) var[HP_GRADVAR_TOTAL] += var[g], msq[HP_GRADVAR_TOTAL] += msq[g];
    free(G);
    hp_rows_free(&r);
    free(cfg);
}

static void assert_close(double got, double want, double rel, const char *what) {
    if (!(fabs(got - want) <= rel * fabs(want) + 1e-300))
        fail_msg("%s: %.10e, direct %.10e (relative difference %.2e)", what, got, want, fabs(got - want) / fabs(want));
}

static void test_against_direct(void **state) {
    (void)state;
    hp_rollout ro;
    make_rollout(&ro);
    hp_runcfg *cfg = load_cfg();
    hp_gradvar_cfg gc = {.n_batches = N_BATCH, .estimators = {"hae", "turn_gae", "gae"}, .n_estimators = 3};
    hp_gradvar_result res;
    hp_err err = {{0}};
    if (hp_gradvar_run(g_actor, g_critic, NULL, &ro, g_tok, cfg, &gc, &res, &err)) fail_msg("%s", err.msg);
    assert_int_equal(res.n_est, 3);
    assert_int_equal(res.n_trajs, N_TRAJ);
    assert_int_equal(res.critic_heads, 3);
    assert_int_equal(res.min_batch_trajs, 2);
    assert_int_equal(res.max_batch_trajs, 2);
    assert_int_equal(res.n_params[HP_GRADVAR_TOTAL], hp_model_n_trainable(g_actor));
    assert_int_equal(res.n_params[HP_GRADVAR_HEAD], 0); /* tied embedding */
    for (int e = 0; e < 3; e++) {
        double var[HP_GRADVAR_GROUPS + 1], msq[HP_GRADVAR_GROUPS + 1];
        direct(&ro, cfg, gc.estimators[e], var, msq);
        for (int g = 0; g <= HP_GRADVAR_GROUPS; g++) {
            char what[96];
            snprintf(what, sizeof what, "%s %s variance", gc.estimators[e], hp_gradvar_group_name(g));
            if (!res.n_params[g]) {
                assert_true(res.est[e].var[g] == 0 && var[g] == 0);
                continue;
            }
            assert_true(var[g] > 0);
            assert_close(res.est[e].var[g], var[g], 1e-4, what);
            snprintf(what, sizeof what, "%s %s |mean|^2", gc.estimators[e], hp_gradvar_group_name(g));
            assert_close(res.est[e].mean_sq[g], msq[g], 1e-4, what);
            assert_true(fabs(res.est[e].signal_sq[g] - (res.est[e].mean_sq[g] - res.est[e].var[g] / N_BATCH)) <=
                        1e-12 * res.est[e].var[g]);
        }
    }
    /* the estimators differ on these trajectories (else the comparison would test nothing) */
    assert_true(fabs(res.est[0].var[HP_GRADVAR_TOTAL] / res.est[1].var[HP_GRADVAR_TOTAL] - 1) > 1e-3);
    assert_true(fabs(res.est[1].var[HP_GRADVAR_TOTAL] / res.est[2].var[HP_GRADVAR_TOTAL] - 1) > 1e-3);
    /* zero values: no critic is read */
    gc.zero_values = true;
    if (hp_gradvar_run(g_actor, g_critic, NULL, &ro, g_tok, cfg, &gc, &res, &err)) fail_msg("%s", err.msg);
    assert_int_equal(res.critic_heads, 0);
    free(cfg);
    free_rollout(&ro);
}

/* Turn-level GAE's rows: one advantage per turn (hp_adv_turn_gae on V_low read at HAE's low position)
 * on every response token, the return as the target at that position. */
static void test_turn_gae_rows(void **state) {
    (void)state;
    hp_rollout ro;
    make_rollout(&ro);
    hp_runcfg *cfg = load_cfg();
    snprintf(cfg->algorithm.adv_estimator, sizeof cfg->algorithm.adv_estimator, "%s", HP_ROWS_TURN_GAE);
    hp_err err = {{0}};
    hp_learn_cfg lc;
    if (hp_learn_cfg_resolve(cfg, &lc, &err)) fail_msg("%s", err.msg);
    hp_rows r;
    if (hp_rows_build(&r, &ro, g_tok, &lc.adv, &err)) fail_msg("%s", err.msg);
    assert_int_equal(r.K, 1);
    const hp_spans *sp = r.spans;
    hp_adv_turn *in = calloc(ro.n_turns, sizeof *in);
    for (int i = 0; i < r.n; i++) {
        r.v_old[r.val_off[i] + sp[i].v_low_pos] = (float)(0.5 + 0.25 * i);
        in[i] = (hp_adv_turn){.traj = ro.turns[i].traj, .turn = ro.turns[i].t, .reward = ro.turns[i].reward,
                              .done = ro.turns[i].done, .valid = true, .v_low = (float)(0.5 + 0.25 * i)};
    }
    hp_adv_stats st;
    if (hp_rows_advantages(&r, &ro, &lc.adv, &st, &err)) fail_msg("%s", err.msg);
    hp_gae_config gc;
    hp_gae_config_default(&gc);
    gc.gamma = 0.95, gc.lam = 0.9;
    double *adv = calloc(ro.n_turns, sizeof *adv), *ret = calloc(ro.n_turns, sizeof *ret);
    if (hp_adv_turn_gae(in, ro.n_turns, &gc, adv, ret, &err)) fail_msg("%s", err.msg);
    for (int i = 0; i < r.n; i++) {
        for (int j = 0; j < r.n_resp[i]; j++) {
            assert_true(fabs(r.adv[r.tok_off[i] + j] - adv[i]) < 1e-9);
            assert_int_equal(r.mask[r.tok_off[i] + j], 1);
        }
        for (int j = 0; j <= r.n_resp[i]; j++) {
            bool at = j == sp[i].v_low_pos;
            assert_int_equal(r.vmask[r.val_off[i] + j], at);
            if (at) assert_true(fabs(r.ret[r.val_off[i] + j] - ret[i]) < 1e-5);
        }
    }
    free(in), free(adv), free(ret);
    hp_rows_free(&r);
    free(cfg);
    free_rollout(&ro);
}

static void test_partition_and_refusals(void **state) {
    (void)state;
    /* 10 trajectories in 4 mini-batches: 3 3 2 2, consecutive, covering all */
    int want[4][2] = {{0, 3}, {3, 6}, {6, 8}, {8, 10}};
    for (int m = 0; m < 4; m++) {
        int t0, t1;
        hp_gradvar_batch(10, 4, m, &t0, &t1);
        assert_int_equal(t0, want[m][0]);
        assert_int_equal(t1, want[m][1]);
    }
    assert_int_equal(hp_gradvar_group_of("model.layers.3.self_attn.q_proj.bias"), HP_GRADVAR_ATTN);
    assert_int_equal(hp_gradvar_group_of("model.layers.0.post_attention_layernorm.weight"), HP_GRADVAR_NORM);
    assert_int_equal(hp_gradvar_group_of("lm_head.weight"), HP_GRADVAR_HEAD);
    hp_rollout ro;
    make_rollout(&ro);
    hp_runcfg *cfg = load_cfg();
    hp_gradvar_result res;
    hp_err err = {{0}};
    hp_gradvar_cfg gc = {.n_batches = N_TRAJ + 1, .estimators = {"hae"}, .n_estimators = 1};
    assert_int_equal(hp_gradvar_run(g_actor, NULL, NULL, &ro, g_tok, cfg, &gc, &res, &err), HP_FAIL);
    assert_non_null(strstr(err.msg, "mini-batches"));
    gc.n_batches = 2;
    gc.estimators[0] = "grpo";
    assert_int_equal(hp_gradvar_run(g_actor, NULL, NULL, &ro, g_tok, cfg, &gc, &res, &err), HP_FAIL);
    assert_non_null(strstr(err.msg, "unknown estimator"));
    gc.estimators[0] = "hae";
    snprintf(cfg->env.format, sizeof cfg->env.format, "think");
    assert_int_equal(hp_gradvar_run(g_actor, NULL, NULL, &ro, g_tok, cfg, &gc, &res, &err), HP_FAIL);
    assert_non_null(strstr(err.msg, "HiPER output format"));
    free(cfg);
    free_rollout(&ro);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_against_direct),
        cmocka_unit_test(test_turn_gae_rows),
        cmocka_unit_test(test_partition_and_refusals),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
