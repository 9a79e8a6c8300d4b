/* From rollout turns to per-token advantages, loss masks and critic targets (train/rows.c), checked
 * against the spec's worked numbers: hiper.md §11 Example A under TOY (advantages on the action,
 * subgoal and switch tokens; targets R^L, R^H, R^T at one read position per head), baselines.md §2.4
 * (PPO's token-level GAE with the post-EOS slot) and §2.1 (GRPO broadcast to every response token); and
 * the run configuration as the rows and the update read it, resolved (train/learn_cfg.c). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "hiper/rollout.h"
#include "hiper/spans.h"
#include "train/train_internal.h"

static hp_tok *g_tok;
static char g_dir[256];

static int setup(void **state) {
    (void)state;
    snprintf(g_dir, sizeof g_dir, "%s/test_rows_tok_%ld", HP_BINARY_DIR, (long)getpid());
    hp_buf text = {0};
    for (int i = 0; i < 30; i++)
        hp_buf_puts(&text, "<switch>SWITCH</switch>\n<subgoal>find mug</subgoal>\n<action>go to desk 1</action>\n"
                           "<switch>KEEP</switch>\n<subgoal>clean mug</subgoal>\n<action>take mug 1 from desk 1</action>\n"
                           "<think>look</think><action>put mug in sinkbasin 1</action>\n");
    hp_err err = {{0}};
    if (hp_tok_train(text.data, text.len, 400, g_dir, &err)) fail_msg("%s", err.msg);
    hp_buf_free(&text);
    g_tok = hp_tok_load(g_dir, &err);
    if (!g_tok) fail_msg("%s", err.msg);
    return 0;
}

static int teardown(void **state) {
    (void)state;
    hp_tok_free(g_tok);
    hp_err err;
    hp_remove_tree(g_dir, &err);
    return 0;
}

/* One turn with a fixed prompt and the given response (+ <|im_end|>). */
static void make_turn(hp_turn *t, int traj, int group, int turn, const char *resp, double reward, bool done) {
    memset(t, 0, sizeof *t);
    t->traj = traj, t->group = group, t->t = turn, t->reward = reward, t->done = done, t->valid = true;
    hp_err err = {{0}};
    const char *prompt = "<|im_start|>user\nact<|im_end|>\n<|im_start|>assistant\n";
    assert_int_equal(hp_tok_encode(g_tok, prompt, strlen(prompt), &t->prompt, &err), HP_OK);
    assert_int_equal(hp_tok_encode(g_tok, resp, strlen(resp), &t->response, &err), HP_OK);
    hp_ids_push(&t->response, hp_tok_im_end(g_tok));
    t->anchor_obs = "obs";
}

static void free_turns(hp_rollout *ro) {
    for (size_t i = 0; i < ro->n_turns; i++) hp_ids_free(&ro->turns[i].prompt), hp_ids_free(&ro->turns[i].response);
    free(ro->turns);
    free(ro->trajs);
}

/* Byte range of token j of a response. */
static void tok_range(const hp_ids *ids, int j, size_t *b, size_t *e) {
    size_t off = 0, len = 0;
    for (int k = 0; k <= j; k++) {
        off += len;
        hp_tok_token_bytes(g_tok, ids->data[k], &len);
    }
    *b = off, *e = off + len;
}

/* Check that every token lying strictly inside the content of <tag>…</tag> has advantage want and is
 * (or is not) in the loss mask. Returns how many tokens were checked. */
static int check_inside(const hp_rows *r, int i, const char *resp, const char *tag, double want, bool in_mask,
                        const hp_ids *ids) {
    char open[32], close[32];
    snprintf(open, sizeof open, "<%s>", tag);
    snprintf(close, sizeof close, "</%s>", tag);
    const char *a = strstr(resp, open), *z = strstr(resp, close);
    assert_non_null(a);
    assert_non_null(z);
    size_t lo = (size_t)(a - resp) + strlen(open), hi = (size_t)(z - resp);
    int n = 0;
    for (int j = 0; j < r->n_resp[i] - 1; j++) {
        size_t b, e;
        tok_range(ids, j, &b, &e);
        if (b < lo || e > hi) continue;
        double got = r->adv[r->tok_off[i] + j];
        if (fabs(got - want) > 1e-9) fail_msg("row %d <%s> token %d: adv %.9f, want %.9f", i, tag, j, got, want);
        assert_int_equal(r->mask[r->tok_off[i] + j] != 0, in_mask);
        n++;
    }
    return n;
}

static void test_hae_example_a(void **state) {
    (void)state;
    static const char *const sw[6] = {"SWITCH", "KEEP", "SWITCH", "KEEP", "SWITCH", "KEEP"};
    static const char *const sg[6] = {"find mug", "find mug", "clean mug", "clean mug", "put mug", "put mug"};
    const double VH[6] = {2, 0, 4, 0, 6, 0}, VL[6] = {1.5, 2.5, 3.5, 5, 7, 8}, VT[6] = {1, 2, 3, 4, 5, 6};
    const double AL[6] = {1.506, 1.05, 1.252, 0.35, 1.604, 1.95};
    const double AH[6] = {3.571887389, 0, 3.0888725, 0, 2.955, 0};
    const double AT[6] = {2.195, 1.55, 1.815, 1.35, 3.955, 3.95};
    const double RL[6] = {3.006, 3.55, 4.752, 5.35, 8.604, 9.95};
    const double RH[6] = {5.571887389, 0, 7.0888725, 0, 8.955, 0};
    const double RT[6] = {3.195, 3.55, 4.815, 5.35, 8.955, 9.95};
    hp_rollout ro = {0};
    ro.n_turns = 6;
    ro.turns = calloc(6, sizeof *ro.turns);
    ro.n_trajs = 1;
    ro.trajs = calloc(1, sizeof *ro.trajs);
    char resp[6][160];
    for (int t = 0; t < 6; t++) {
        snprintf(resp[t], sizeof resp[t], "<switch>%s</switch>\n<subgoal>%s</subgoal>\n<action>go to desk %d</action>",
                 sw[t], sg[t], t + 1);
        make_turn(&ro.turns[t], 0, 0, t, resp[t], t == 5 ? 10.0 : 0.0, t == 5);
    }
    hp_runcfg *cfg = calloc(1, sizeof *cfg);
    hp_err err = {{0}};
    const char *toy[] = {"algorithm.gamma=0.9", "algorithm.lam=0.8", "algorithm.hae.lam_seg=0.95",
                         "algorithm.hae.bootstrap_truncated=false", "algorithm.hae.norm_adv=false"};
    assert_int_equal(hp_runcfg_load(cfg, NULL, toy, 5, &err), HP_OK);
    hp_learn_cfg lc;
    if (hp_learn_cfg_resolve(cfg, &lc, &err)) fail_msg("%s", err.msg);
    hp_rows r;
    if (hp_rows_build(&r, &ro, g_tok, &lc.adv, &err)) fail_msg("%s", err.msg);
    assert_int_equal(r.K, 3);
    const hp_spans *sp = r.spans;
    for (int i = 0; i < 6; i++) {
        r.v_old[(r.val_off[i] + sp[i].v_low_pos) * 3 + 0] = (float)VL[i];
        r.v_old[(r.val_off[i] + sp[i].v_high_pos) * 3 + 1] = (float)VH[i];
        r.v_old[(r.val_off[i] + sp[i].v_term_pos) * 3 + 2] = (float)VT[i];
        assert_true(sp[i].v_low_pos > 0 && sp[i].v_high_pos == 0 && sp[i].v_term_pos == 0);
    }
    hp_adv_stats st;
    if (hp_rows_advantages(&r, &ro, &lc.adv, &st, &err)) fail_msg("%s", err.msg);
    int checked = 0;
    for (int i = 0; i < 6; i++) {
        checked += check_inside(&r, i, resp[i], "action", AL[i], true, &ro.turns[i].response);
        checked += check_inside(&r, i, resp[i], "subgoal", AH[i], i % 2 == 0, &ro.turns[i].response);
        checked += check_inside(&r, i, resp[i], "switch", AT[i], true, &ro.turns[i].response);
        assert_int_equal(r.boundary[i], i % 2 == 0);
        /* the trailing <|im_end|> is outside every span */
        assert_int_equal(r.mask[r.tok_off[i] + r.n_resp[i] - 1], 0);
        /* one target per head (high: boundary turns only), with the spec's values */
        const double *want[3] = {RL, RH, RT};
        for (int k = 0; k < 3; k++) {
            int cnt = 0;
            for (int j = 0; j <= r.n_resp[i]; j++) {
                size_t s = (size_t)(r.val_off[i] + j) * 3 + (size_t)k;
                if (!r.vmask[s]) continue;
                cnt++;
                if (fabs(r.ret[s] - want[k][i]) > 1e-6) fail_msg("row %d head %d: target %.9f, want %.9f", i, k, r.ret[s], want[k][i]);
            }
            assert_int_equal(cnt, k == 1 ? (i % 2 == 0) : 1);
        }
    }
    assert_true(checked >= 18);
    assert_true(fabs(st.switch_rate - 0.4) < 1e-12 && fabs(st.mean_segment - 2.0) < 1e-12);
    hp_rows_free(&r);
    free(cfg);
    free_turns(&ro);
}

/* PPO: one row, score R on the last token, γ = λ = 1, no whitening: A_j = R − V_j, targets R on
 * positions 0..n−1 and 0 on the post-EOS position n (baselines.md §2.4). */
static void test_gae_tokens(void **state) {
    (void)state;
    hp_rollout ro = {0};
    ro.n_turns = 1;
    ro.turns = calloc(1, sizeof *ro.turns);
    ro.n_trajs = 1;
    ro.trajs = calloc(1, sizeof *ro.trajs);
    make_turn(&ro.turns[0], 0, 0, 0, "<think>look</think><action>go to desk 1</action>", 10.0, true);
    ro.turns[0].valid = false; /* pays 0.1 */
    ro.trajs[0].ret = 10.0;
    hp_runcfg *cfg = calloc(1, sizeof *cfg);
    hp_err err = {{0}};
    const char *ov[] = {"algorithm.adv_estimator=gae", "algorithm.gae.norm_adv=false"};
    assert_int_equal(hp_runcfg_load(cfg, NULL, ov, 2, &err), HP_OK);
    hp_learn_cfg lc;
    if (hp_learn_cfg_resolve(cfg, &lc, &err)) fail_msg("%s", err.msg);
    hp_rows r;
    if (hp_rows_build(&r, &ro, g_tok, &lc.adv, &err)) fail_msg("%s", err.msg);
    assert_int_equal(r.K, 1);
    int n = r.n_resp[0];
    for (int j = 0; j <= n; j++) r.v_old[r.val_off[0] + j] = (float)(0.5 * j);
    hp_adv_stats st;
    if (hp_rows_advantages(&r, &ro, &lc.adv, &st, &err)) fail_msg("%s", err.msg);
    for (int j = 0; j < n; j++) {
        if (fabs(r.adv[j] - (9.9 - 0.5 * j)) > 1e-5) fail_msg("adv[%d] = %.7f, want %.7f", j, r.adv[j], 9.9 - 0.5 * j);
        assert_int_equal(r.mask[j], 1);
        assert_true(r.vmask[j] && fabs(r.ret[j] - 9.9) < 1e-5);
    }
    assert_true(r.vmask[n] && fabs(r.ret[n]) < 1e-12);
    hp_rows_free(&r);
    free(cfg);
    free_turns(&ro);
}

/* GRPO: scores 10 and 0 in one group → ±(5 / (std + 1e-6)) on every response token. */
static void test_grpo_broadcast(void **state) {
    (void)state;
    hp_rollout ro = {0};
    ro.n_turns = 2;
    ro.turns = calloc(2, sizeof *ro.turns);
    ro.n_trajs = 2;
    ro.trajs = calloc(2, sizeof *ro.trajs);
    make_turn(&ro.turns[0], 0, 0, 0, "<think>look</think><action>go to desk 1</action>", 10.0, true);
    make_turn(&ro.turns[1], 1, 0, 0, "<think>look</think><action>put mug in sinkbasin 1</action>", 0.0, true);
    hp_runcfg *cfg = calloc(1, sizeof *cfg);
    hp_err err = {{0}};
    const char *ov[] = {"algorithm.adv_estimator=grpo"};
    assert_int_equal(hp_runcfg_load(cfg, NULL, ov, 1, &err), HP_OK);
    hp_learn_cfg lc;
    if (hp_learn_cfg_resolve(cfg, &lc, &err)) fail_msg("%s", err.msg);
    hp_rows r;
    if (hp_rows_build(&r, &ro, g_tok, &lc.adv, &err)) fail_msg("%s", err.msg);
    assert_int_equal(r.K, 0);
    hp_adv_stats st;
    if (hp_rows_advantages(&r, &ro, &lc.adv, &st, &err)) fail_msg("%s", err.msg);
    double a = 5.0 / (sqrt(50.0) + 1e-6);
    for (int i = 0; i < 2; i++)
        for (int j = 0; j < r.n_resp[i]; j++) {
            assert_true(fabs(r.adv[r.tok_off[i] + j] - (i == 0 ? a : -a)) < 1e-9);
            assert_int_equal(r.mask[r.tok_off[i] + j], 1);
        }
    assert_int_equal(st.loss_tokens, r.n_resp[0] + r.n_resp[1]);
    hp_rows_free(&r);
    free(cfg);
    free_turns(&ro);
}

/* The run configuration resolved once (learn_cfg.c): names become enums and module configurations, the
 * critic's 0s fall back to the actor's epochs and mini-batch, and its optimiser is its own. */
static void test_learn_cfg(void **state) {
    (void)state;
    hp_runcfg *cfg = calloc(1, sizeof *cfg);
    hp_err err = {{0}};
    const char *ov[] = {"algorithm.adv_estimator=gigpo", "algorithm.gigpo.mode=mean_norm", "actor.kl_loss_type=mse",
                        "actor.loss_agg_mode=seq-mean-token-sum", "actor.optim.beta2=0.95", "actor.ppo_epochs=3",
                        "actor.ppo_mini_batch_size=64", "actor.ppo_micro_batch_size=16", "critic.optim.schedule=cosine",
                        "critic.ppo_micro_batch_size=8", "actor.clip_ratio_high=0.28", "rollout.temperature=0.7"};
    assert_int_equal(hp_runcfg_load(cfg, NULL, ov, 12, &err), HP_OK);
    hp_learn_cfg lc;
    if (hp_learn_cfg_resolve(cfg, &lc, &err)) fail_msg("%s", err.msg);
    assert_int_equal(lc.adv.estimator, HP_EST_GIGPO);
    assert_int_equal(lc.adv.heads, 0);
    assert_int_equal(lc.adv.group.mode, HP_GIGPO_MEAN_NORM);
    assert_true(fabs(lc.adv.group.gamma - 0.95) < 1e-15); /* GiGPO's default discount */
    assert_int_equal(lc.actor.loss.kl_type, HP_KL_K2);
    assert_int_equal(lc.actor.loss.agg, HP_AGG_SEQ_MEAN_TOKEN_SUM);
    assert_true(lc.actor.loss.clip_low == 0.2 && lc.actor.loss.clip_high == 0.28);
    assert_true(lc.actor.loss.scale == 0.25); /* 1 / (64 / 16) */
    assert_true(lc.actor.optim.beta2 == 0.95 && lc.critic.optim.beta2 == 0.999); /* not borrowed */
    assert_true(!lc.actor.optim.cosine && lc.critic.optim.cosine);
    assert_true(lc.critic.epochs == 3 && lc.critic.mini_batch == 64 && lc.critic.micro_batch == 8);
    assert_true(lc.critic.loss.scale == 0.125);
    assert_true(fabs(lc.temperature - 0.7) < 1e-15);
    assert_string_equal(hp_estimator_name(lc.adv.estimator), "gigpo");
    free(cfg);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_learn_cfg),
        cmocka_unit_test(test_hae_example_a),
        cmocka_unit_test(test_gae_tokens),
        cmocka_unit_test(test_grpo_broadcast),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
