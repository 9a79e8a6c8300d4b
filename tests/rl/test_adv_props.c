/* Property tests on random batches (hiper.md §7, baselines.md §2):
 * - every turn SWITCHes → HAE's high level is turn-level GAE(γ, λ_H) on V_high and its low level the
 *   one-step TD error on the next V_high;
 * - one segment → HAE's low level is plain GAE(γ, λ_L) on V_low and its high level one Monte-Carlo
 *   advantage;
 * - shuffling the input rows changes no output (HAE, GiGPO, GRPO, RLOO, GAE);
 * - no anchor state repeats → GiGPO's step term vanishes and (mean_std_norm) GiGPO equals GRPO;
 * - RLOO equals "score minus the mean of the other rows of the group".
 * The references are written here directly from the formulas, independently of src/rl. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "hiper/advantage.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define N_TRIALS 200

typedef struct batch {
    hp_adv_turn *t;
    size_t n;
    size_t n_traj;
    size_t *start; /* rows of trajectory k are t[start[k] .. start[k+1]) in turn order */
    char (*obs)[24];
} batch;

/* Random trajectories in trajectory-major, turn order. sw_mode: 0 all SWITCH, 1 never (KEEP),
 * 2 random words. */
static batch make_batch(hp_rng *r, int sw_mode, bool unique_obs) {
    batch b = {0};
    b.n_traj = 1 + hp_rng_below(r, 6);
    b.start = calloc(b.n_traj + 1, sizeof *b.start);
    size_t cap = b.n_traj * 12;
    b.t = calloc(cap, sizeof *b.t);
    b.obs = calloc(cap, sizeof *b.obs);
    static const char *words[] = {"KEEP", "SWITCH", " keep ", "MAYBE", NULL};
    static const char *subgoals[] = {"a", "b", "c"};
    for (size_t k = 0; k < b.n_traj; k++) {
        b.start[k] = b.n;
        size_t T = 1 + hp_rng_below(r, 10);
        bool done = hp_rng_below(r, 2);
        for (size_t p = 0; p < T; p++) {
            hp_adv_turn *t = &b.t[b.n];
            t->traj = 1000 + (int64_t)k * 7;
            t->group = (int64_t)(k % 2);
            t->turn = (int32_t)p;
            t->reward = hp_rng_below(r, 3) ? 0.0 : 10.0 * hp_rng_uniform(r) - 2.0;
            t->done = done && p == T - 1;
            t->valid = hp_rng_below(r, 5) != 0;
            t->switch_word = sw_mode == 0 ? "SWITCH" : sw_mode == 1 ? "KEEP" : words[hp_rng_below(r, 5)];
            t->subgoal = hp_rng_below(r, 4) ? subgoals[hp_rng_below(r, 3)] : NULL;
            t->v_high = 4 * hp_rng_uniform(r) - 1;
            t->v_low = 4 * hp_rng_uniform(r) - 1;
            t->v_term = 4 * hp_rng_uniform(r) - 1;
            if (unique_obs) snprintf(b.obs[b.n], sizeof b.obs[b.n], "o%zu", b.n);
            else snprintf(b.obs[b.n], sizeof b.obs[b.n], "s%d", (int)hp_rng_below(r, 4));
            t->obs = b.obs[b.n];
            b.n++;
        }
    }
    b.start[b.n_traj] = b.n;
    return b;
}

static void free_batch(batch *b) {
    free(b->t);
    free(b->start);
    free(b->obs);
}

static hp_hae_config random_cfg(hp_rng *r) {
    hp_hae_config c;
    hp_hae_config_default(&c);
    c.gamma = 0.8 + 0.2 * hp_rng_uniform(r);
    c.lam_turn = hp_rng_uniform(r);
    c.lam_seg = hp_rng_uniform(r);
    c.bootstrap_truncated = hp_rng_below(r, 2);
    c.norm_adv = false;
    c.keep_penalty_mode = hp_rng_below(r, 2) ? HP_KEEP_PENALTY_FIXED : HP_KEEP_PENALTY_NORMALIZED;
    return c;
}

static void near(double a, double b, const char *what, int trial) {
    if (!(fabs(a - b) <= 1e-9 * (1 + fabs(b)))) fail_msg("trial %d %s: %.12g vs %.12g", trial, what, a, b);
}

/* Plain GAE over values v[0..T) with rewards u, bootstrap value `last` after the last turn. */
static void gae_ref(const double *u, const double *v, size_t T, double last, bool done_last, double g, double lam,
                    double *adv) {
    double a = 0.0;
    for (size_t p = T; p-- > 0;) {
        double vnext = p + 1 < T ? v[p + 1] : (done_last ? 0.0 : last);
        double nd = (p + 1 == T && done_last) ? 0.0 : 1.0;
        double delta = u[p] + g * vnext - v[p];
        a = delta + g * lam * nd * (p + 1 < T ? a : 0.0);
        adv[p] = a;
    }
}

static void test_flat_limit(void **s) {
    (void)s;
    hp_rng r;
    hp_rng_seed(&r, 7, 1);
    for (int trial = 0; trial < N_TRIALS; trial++) {
        batch b = make_batch(&r, 0, false);
        hp_hae_config c = random_cfg(&r);
        hp_hae_out *o = calloc(b.n, sizeof *o);
        assert_int_equal(hp_adv_hae(b.t, b.n, &c, o, NULL), HP_OK);
        double u[16], vh[16], ah[16];
        for (size_t k = 0; k < b.n_traj; k++) {
            size_t s0 = b.start[k], T = b.start[k + 1] - s0;
            const hp_adv_turn *t = b.t + s0;
            for (size_t p = 0; p < T; p++) {
                u[p] = o[s0 + p].reward_shaped;
                vh[p] = t[p].v_high;
                assert_true(o[s0 + p].boundary);
            }
            bool done = t[T - 1].done;
            double boot_h = c.bootstrap_truncated ? vh[T - 1] : 0.0;
            gae_ref(u, vh, T, boot_h, done, c.gamma, c.lam_seg, ah);
            for (size_t p = 0; p < T; p++) {
                if (t[p].subgoal) near(o[s0 + p].adv_high, ah[p], "high = GAE on V_high", trial);
                double next_h = p + 1 < T ? vh[p + 1] : (done ? 0.0 : boot_h);
                double next_l = p + 1 < T ? vh[p + 1] : (done ? 0.0 : (c.bootstrap_truncated ? t[p].v_low : 0.0));
                near(o[s0 + p].adv_low, u[p] + c.gamma * next_l - t[p].v_low, "low = one-step TD", trial);
                near(o[s0 + p].adv_term, u[p] + c.gamma * next_h - t[p].v_term, "term = one-step TD", trial);
                /* all SWITCH: no KEEP penalty, no consistency penalty */
                near(u[p], t[p].reward - (t[p].valid ? 0.0 : 0.1), "shaping", trial);
            }
        }
        free(o);
        free_batch(&b);
    }
}

static void test_one_segment(void **s) {
    (void)s;
    hp_rng r;
    hp_rng_seed(&r, 7, 2);
    for (int trial = 0; trial < N_TRIALS; trial++) {
        batch b = make_batch(&r, 1, false);
        hp_hae_config c = random_cfg(&r);
        hp_hae_out *o = calloc(b.n, sizeof *o);
        assert_int_equal(hp_adv_hae(b.t, b.n, &c, o, NULL), HP_OK);
        double u[16], vl[16], al[16];
        for (size_t k = 0; k < b.n_traj; k++) {
            size_t s0 = b.start[k], T = b.start[k + 1] - s0;
            const hp_adv_turn *t = b.t + s0;
            for (size_t p = 0; p < T; p++) {
                u[p] = o[s0 + p].reward_shaped;
                vl[p] = t[p].v_low;
                assert_int_equal(o[s0 + p].boundary, p == 0);
            }
            bool done = t[T - 1].done;
            gae_ref(u, vl, T, c.bootstrap_truncated ? vl[T - 1] : 0.0, done, c.gamma, c.lam_turn, al);
            double G = 0.0, disc = 1.0;
            for (size_t p = 0; p < T; p++) {
                near(o[s0 + p].adv_low, al[p], "low = GAE on V_low", trial);
                G += disc * u[p];
                disc *= c.gamma;
            }
            double boot = (!done && c.bootstrap_truncated) ? t[0].v_high : 0.0;
            double mc = G + disc * boot - t[0].v_high;
            if (t[0].subgoal) near(o[s0].adv_high, mc, "high = Monte Carlo", trial);
            near(o[s0].ret_high, mc + t[0].v_high, "ret_high", trial);
        }
        free(o);
        free_batch(&b);
    }
}

/* Apply a random permutation; outputs must follow their rows exactly. */
static size_t *shuffled(hp_rng *r, const batch *b, hp_adv_turn **out) {
    size_t *perm = malloc(b->n * sizeof *perm);
    for (size_t i = 0; i < b->n; i++) perm[i] = i;
    hp_rng_shuffle(r, perm, b->n, sizeof *perm);
    *out = malloc(b->n * sizeof **out);
    for (size_t i = 0; i < b->n; i++) (*out)[i] = b->t[perm[i]];
    return perm;
}

static void test_shuffle_invariance(void **s) {
    (void)s;
    hp_rng r;
    hp_rng_seed(&r, 7, 3);
    for (int trial = 0; trial < N_TRIALS; trial++) {
        batch b = make_batch(&r, 2, false);
        hp_adv_turn *sh;
        size_t *perm = shuffled(&r, &b, &sh);
        size_t n = b.n;
        hp_hae_config c = random_cfg(&r);
        c.norm_adv = hp_rng_below(&r, 2);
        hp_hae_out *o1 = calloc(n, sizeof *o1), *o2 = calloc(n, sizeof *o2);
        assert_int_equal(hp_adv_hae(b.t, n, &c, o1, NULL), HP_OK);
        assert_int_equal(hp_adv_hae(sh, n, &c, o2, NULL), HP_OK);
        for (size_t i = 0; i < n; i++) {
            const hp_hae_out *x = &o1[perm[i]], *y = &o2[i];
            assert_int_equal(x->boundary, y->boundary);
            near(y->adv_low, x->adv_low, "hae shuffle adv_low", trial);
            near(y->adv_high, x->adv_high, "hae shuffle adv_high", trial);
            near(y->adv_term, x->adv_term, "hae shuffle adv_term", trial);
            near(y->ret_low, x->ret_low, "hae shuffle ret_low", trial);
            near(y->ret_high, x->ret_high, "hae shuffle ret_high", trial);
            near(y->ret_term, x->ret_term, "hae shuffle ret_term", trial);
        }
        hp_group_config g;
        hp_group_config_default(&g);
        g.mode = hp_rng_below(&r, 2) ? HP_GIGPO_MEAN_STD_NORM : HP_GIGPO_MEAN_NORM;
        hp_gigpo_out *g1 = calloc(n, sizeof *g1), *g2 = calloc(n, sizeof *g2);
        assert_int_equal(hp_adv_gigpo(b.t, n, &g, g1, NULL), HP_OK);
        assert_int_equal(hp_adv_gigpo(sh, n, &g, g2, NULL), HP_OK);
        double *a1 = calloc(n, sizeof *a1), *a2 = calloc(n, sizeof *a2);
        double *r1 = calloc(n, sizeof *r1), *r2 = calloc(n, sizeof *r2);
        for (size_t i = 0; i < n; i++) near(g2[i].adv, g1[perm[i]].adv, "gigpo shuffle", trial);
        assert_int_equal(hp_adv_grpo(b.t, n, &g, a1, NULL), HP_OK);
        assert_int_equal(hp_adv_grpo(sh, n, &g, a2, NULL), HP_OK);
        for (size_t i = 0; i < n; i++) near(a2[i], a1[perm[i]], "grpo shuffle", trial);
        assert_int_equal(hp_adv_rloo(b.t, n, &g, a1, NULL), HP_OK);
        assert_int_equal(hp_adv_rloo(sh, n, &g, a2, NULL), HP_OK);
        for (size_t i = 0; i < n; i++) near(a2[i], a1[perm[i]], "rloo shuffle", trial);
        if (n >= 2) {
            hp_gae_config gc;
            hp_gae_config_default(&gc);
            gc.lam = 0.9;
            assert_int_equal(hp_adv_turn_gae(b.t, n, &gc, a1, r1, NULL), HP_OK);
            assert_int_equal(hp_adv_turn_gae(sh, n, &gc, a2, r2, NULL), HP_OK);
            for (size_t i = 0; i < n; i++) {
                near(a2[i], a1[perm[i]], "gae shuffle adv", trial);
                near(r2[i], r1[perm[i]], "gae shuffle ret", trial);
            }
        }
        free(a1), free(a2), free(r1), free(r2), free(g1), free(g2), free(o1), free(o2);
        free(perm);
        free(sh);
        free_batch(&b);
    }
}

static void test_gigpo_no_repeats(void **s) {
    (void)s;
    hp_rng r;
    hp_rng_seed(&r, 7, 4);
    for (int trial = 0; trial < N_TRIALS; trial++) {
        batch b = make_batch(&r, 2, true);
        hp_group_config g;
        hp_group_config_default(&g);
        g.mode = HP_GIGPO_MEAN_STD_NORM;
        hp_gigpo_out *o = calloc(b.n, sizeof *o);
        double *grpo = calloc(b.n, sizeof *grpo);
        assert_int_equal(hp_adv_gigpo(b.t, b.n, &g, o, NULL), HP_OK);
        assert_int_equal(hp_adv_grpo(b.t, b.n, &g, grpo, NULL), HP_OK);
        for (size_t i = 0; i < b.n; i++) {
            assert_true(o[i].adv_step == 0.0);
            assert_int_equal(o[i].step_group_size, 1);
            near(o[i].adv, grpo[i], "gigpo = grpo without repeats", trial);
        }
        free(o);
        free(grpo);
        free_batch(&b);
    }
}

static void test_rloo_leave_one_out(void **s) {
    (void)s;
    hp_rng r;
    hp_rng_seed(&r, 7, 5);
    for (int trial = 0; trial < N_TRIALS; trial++) {
        batch b = make_batch(&r, 2, false);
        hp_group_config g;
        hp_group_config_default(&g);
        double *adv = calloc(b.n, sizeof *adv), *score = calloc(b.n, sizeof *score);
        assert_int_equal(hp_adv_rloo(b.t, b.n, &g, adv, NULL), HP_OK);
        for (size_t k = 0; k < b.n_traj; k++) {
            double R = 0.0;
            for (size_t i = b.start[k]; i < b.start[k + 1]; i++) R += b.t[i].reward;
            for (size_t i = b.start[k]; i < b.start[k + 1]; i++)
                score[i] = (double)((float)R - (b.t[i].valid ? 0.0f : 0.1f));
        }
        for (size_t i = 0; i < b.n; i++) {
            double others = 0.0;
            size_t K = 0;
            for (size_t j = 0; j < b.n; j++)
                if (b.t[j].group == b.t[i].group) {
                    K++;
                    if (j != i) others += score[j];
                }
            double want = K > 1 ? score[i] - others / (double)(K - 1) : score[i];
            if (fabs(adv[i] - want) > 1e-9 * (1 + fabs(want))) fail_msg("trial %d rloo row %zu", trial, i);
        }
        free(adv);
        free(score);
        free_batch(&b);
    }
}

/* Normalisation leaves each level's set with mean 0 and population std 1. */
static void test_normalisation_sets(void **s) {
    (void)s;
    hp_rng r;
    hp_rng_seed(&r, 7, 6);
    for (int trial = 0; trial < N_TRIALS; trial++) {
        batch b = make_batch(&r, 2, false);
        if (b.n < 3) {
            free_batch(&b);
            continue;
        }
        hp_hae_config c = random_cfg(&r);
        c.norm_adv = true;
        hp_hae_out *o = calloc(b.n, sizeof *o);
        assert_int_equal(hp_adv_hae(b.t, b.n, &c, o, NULL), HP_OK);
        double sum = 0, ss = 0;
        size_t m = 0;
        for (size_t i = 0; i < b.n; i++) sum += o[i].adv_low, ss += o[i].adv_low * o[i].adv_low, m++;
        assert_true(fabs(sum / (double)m) < 1e-9);
        double var = ss / (double)m;
        assert_true(var < 1e-12 || fabs(var - 1.0) < 1e-6);
        sum = 0, ss = 0, m = 0;
        for (size_t i = 0; i < b.n; i++)
            if (o[i].boundary && b.t[i].subgoal) sum += o[i].adv_high, ss += o[i].adv_high * o[i].adv_high, m++;
        if (m) assert_true(fabs(sum / (double)m) < 1e-9);
        free(o);
        free_batch(&b);
    }
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_flat_limit),         cmocka_unit_test(test_one_segment),
        cmocka_unit_test(test_shuffle_invariance), cmocka_unit_test(test_gigpo_no_repeats),
        cmocka_unit_test(test_rloo_leave_one_out), cmocka_unit_test(test_normalisation_sets),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
