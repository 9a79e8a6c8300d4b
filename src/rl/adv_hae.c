/* adv_hae.c — Hierarchical Advantage Estimation (hiper.md §4.2–§4.7): reward shaping, segments,
 * low-level GAE inside each segment bootstrapped on the next boundary's V_high, high-level SMDP GAE
 * across segments with γ^d, the termination return/advantage, and the optional batch normalisation
 * of each level. One backward pass per trajectory. */
#include "adv_internal.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

void hp_hae_config_default(hp_hae_config *c) {
    c->gamma = 1.0;
    c->lam_turn = 1.0;
    c->lam_seg = 0.95;
    c->keep_penalty = -0.3;
    c->keep_penalty_mode = HP_KEEP_PENALTY_NORMALIZED;
    c->invalid_action_penalty_coef = 0.1;
    c->keep_consistency_penalty = -0.3;
    c->keep_consistency_requires_both = true;
    c->bootstrap_truncated = true;
    c->norm_adv = true;
    c->has_term = true;
}

static int check_config(const hp_hae_config *c, hp_err *err) {
    const double v[] = {c->gamma, c->lam_turn, c->lam_seg, c->keep_penalty,
                        c->invalid_action_penalty_coef, c->keep_consistency_penalty};
    const char *names[] = {"gamma", "lam_turn", "lam_seg", "keep_penalty", "invalid_action_penalty_coef",
                           "keep_consistency_penalty"};
    for (size_t i = 0; i < sizeof v / sizeof v[0]; i++)
        if (!isfinite(v[i])) return hp_fail(err, "hae config: %s is not a finite number", names[i]);
    if (c->gamma < 0 || c->gamma > 1) return hp_fail(err, "hae config: gamma must be in [0, 1], got %g", c->gamma);
    if (c->lam_turn < 0 || c->lam_turn > 1)
        return hp_fail(err, "hae config: lam_turn must be in [0, 1], got %g", c->lam_turn);
    if (c->lam_seg < 0 || c->lam_seg > 1)
        return hp_fail(err, "hae config: lam_seg must be in [0, 1], got %g", c->lam_seg);
    if (c->keep_penalty_mode != HP_KEEP_PENALTY_NORMALIZED && c->keep_penalty_mode != HP_KEEP_PENALTY_FIXED)
        return hp_fail(err, "hae config: keep_penalty_mode must be normalized or fixed");
    return HP_OK;
}

/* r̃ for the rows of one trajectory (rows = order[b..e), sorted by turn). §4.2. */
static void shape_rewards(const hp_adv_turn *turns, const size_t *rows, size_t T, const bool *sw,
                          const hp_hae_config *c, double *rs) {
    size_t n_keep = 0;
    for (size_t p = 0; p < T; p++) n_keep += !sw[rows[p]];
    double keep_each = 0.0;
    if (c->keep_penalty != 0.0) {
        if (c->keep_penalty_mode == HP_KEEP_PENALTY_FIXED) keep_each = c->keep_penalty;
        else if (T > 1 && n_keep > 0)
            keep_each = c->keep_penalty * ((double)n_keep / (double)T) / (double)n_keep;
    }
    for (size_t p = 0; p < T; p++) {
        size_t i = rows[p];
        double r = turns[i].reward;
        if (!sw[i]) r += keep_each;
        if (!turns[i].valid) r -= c->invalid_action_penalty_coef;
        if (p >= 1 && !sw[i] && c->keep_consistency_penalty != 0.0) {
            const char *cur = turns[i].subgoal, *prev = turns[rows[p - 1]].subgoal;
            bool differ;
            if (!cur || !prev) differ = !c->keep_consistency_requires_both;
            else differ = cur != prev && strcmp(cur, prev) != 0;
            if (differ) r += c->keep_consistency_penalty;
        }
        rs[i] = r;
    }
}

/* Low level, high level and termination for one trajectory. §4.3–§4.6. Raw (unnormalised) values. */
static void trajectory(const hp_adv_turn *turns, const size_t *rows, size_t T, const bool *bnd,
                       const double *rs, const hp_hae_config *c, hp_hae_out *out) {
    const double g = c->gamma;
    double a_high_next = 0.0; /* A^H of the next segment */
    size_t e = T;             /* one past the segment end */
    while (e > 0) {
        size_t s = e - 1;
        while (s > 0 && !bnd[rows[s]]) s--;
        size_t end = e - 1;
        bool has_next = e < T;
        const hp_adv_turn *first = &turns[rows[s]];
        bool nd = !turns[rows[end]].done;
        /* Bootstrap of the segment end: next boundary's V_high, or self-bootstrap when truncated. */
        double boot_high = 0.0, boot_low = 0.0;
        if (nd) {
            if (has_next) boot_high = boot_low = turns[rows[e]].v_high;
            else if (c->bootstrap_truncated) {
                boot_high = first->v_high;
                boot_low = turns[rows[end]].v_low;
            }
        }
        /* Low-level GAE inside the segment and the termination return, backwards. */
        double a_next = 0.0, ret_t = nd ? boot_high : 0.0, seg_ret = 0.0, gd = 1.0;
        for (size_t p = end + 1; p-- > s;) {
            size_t i = rows[p];
            const hp_adv_turn *t = &turns[i];
            double ndt = t->done ? 0.0 : 1.0;
            double delta, a;
            if (p == end) {
                delta = rs[i] + g * ndt * boot_low - t->v_low;
                a = delta;
            } else {
                delta = rs[i] + g * ndt * turns[rows[p + 1]].v_low - t->v_low;
                a = delta + g * c->lam_turn * ndt * a_next;
            }
            out[i].adv_low = a;
            out[i].ret_low = a + t->v_low;
            a_next = a;
            ret_t = rs[i] + g * ret_t;
            seg_ret = rs[i] + g * seg_ret;
            gd *= g;
            if (c->has_term) {
                out[i].ret_term = ret_t;
                out[i].adv_term = ret_t - t->v_term;
            }
        }
        /* High level: SMDP GAE with γ^d. */
        double ndk = nd ? 1.0 : 0.0;
        double delta_h = seg_ret + gd * ndk * boot_high - first->v_high;
        double a_h = delta_h + gd * c->lam_seg * ndk * a_high_next;
        out[rows[s]].adv_high = a_h;
        out[rows[s]].ret_high = a_h + first->v_high;
        a_high_next = a_h;
        e = s;
    }
}

/* (x − mean)/(population std + 1e-8) of each level over its set (§4.7), in fused passes; set[i]
 * holds bit 1 (low), 2 (high), 4 (term). Values outside a level's set become 0 (§4.8 masks). */
static void normalise(hp_hae_out *out, size_t n, const uint8_t *set, bool norm) {
    double sum[3] = {0, 0, 0}, ss[3] = {0, 0, 0}, mean[3] = {0, 0, 0}, inv[3] = {1, 1, 1};
    size_t m[3] = {0, 0, 0};
    if (norm) {
        for (size_t i = 0; i < n; i++) {
            uint8_t b = set[i];
            if (b & 1) sum[0] += out[i].adv_low, m[0]++;
            if (b & 2) sum[1] += out[i].adv_high, m[1]++;
            if (b & 4) sum[2] += out[i].adv_term, m[2]++;
        }
        for (int k = 0; k < 3; k++) mean[k] = m[k] ? sum[k] / (double)m[k] : 0.0;
        for (size_t i = 0; i < n; i++) {
            uint8_t b = set[i];
            double d;
            if (b & 1) d = out[i].adv_low - mean[0], ss[0] += d * d;
            if (b & 2) d = out[i].adv_high - mean[1], ss[1] += d * d;
            if (b & 4) d = out[i].adv_term - mean[2], ss[2] += d * d;
        }
        for (int k = 0; k < 3; k++) inv[k] = m[k] ? 1.0 / (sqrt(ss[k] / (double)m[k]) + 1e-8) : 1.0;
    }
    for (size_t i = 0; i < n; i++) {
        uint8_t b = set[i];
        out[i].adv_low = (b & 1) ? (out[i].adv_low - mean[0]) * inv[0] : 0.0;
        out[i].adv_high = (b & 2) ? (out[i].adv_high - mean[1]) * inv[1] : 0.0;
        out[i].adv_term = (b & 4) ? (out[i].adv_term - mean[2]) * inv[2] : 0.0;
    }
}

static int check_rows(const hp_adv_turn *turns, size_t n, const bool *bnd, const hp_hae_config *c,
                      hp_err *err) {
    for (size_t i = 0; i < n; i++) {
        const hp_adv_turn *t = &turns[i];
        if (isfinite(t->reward) && isfinite(t->v_low) && (!c->has_term || isfinite(t->v_term)) &&
            (!bnd[i] || isfinite(t->v_high)))
            continue;
        if (hp_adv_check_finite(t->reward, i, "reward", err) || hp_adv_check_finite(t->v_low, i, "v_low", err))
            return HP_FAIL;
        if (c->has_term && hp_adv_check_finite(t->v_term, i, "v_term", err)) return HP_FAIL;
        if (bnd[i] && !isfinite(t->v_high))
            return hp_fail(err, "row %zu: v_high is missing or not finite on a boundary turn", i);
    }
    return HP_OK;
}

int hp_adv_hae(const hp_adv_turn *turns, size_t n, const hp_hae_config *cfg, hp_hae_out *out,
               hp_err *err) {
    if (check_config(cfg, err)) return HP_FAIL;
    hp_adv_index ix;
    if (hp_adv_index_build(&ix, turns, n, err)) return HP_FAIL;
    memset(out, 0, n * sizeof *out);

    bool *sw = hp_xmalloc((n ? n : 1) * sizeof *sw);  /* trainer switch: content is not KEEP */
    bool *bnd = hp_xmalloc((n ? n : 1) * sizeof *bnd); /* segment start */
    double *rs = hp_xmalloc((n ? n : 1) * sizeof *rs);
    for (size_t i = 0; i < n; i++) sw[i] = !hp_adv_switch_is_keep(turns[i].switch_word);
    for (size_t k = 0; k < ix.n_traj; k++)
        for (size_t p = ix.start[k]; p < ix.start[k + 1]; p++) {
            size_t i = ix.order[p];
            bnd[i] = p == ix.start[k] || sw[i];
        }
    int rc = check_rows(turns, n, bnd, cfg, err);
    if (rc == HP_OK) {
        for (size_t k = 0; k < ix.n_traj; k++) {
            const size_t *rows = ix.order + ix.start[k];
            size_t T = ix.start[k + 1] - ix.start[k];
            shape_rewards(turns, rows, T, sw, cfg, rs);
            trajectory(turns, rows, T, bnd, rs, cfg, out);
        }
        /* Normalisation sets (§4.7) double as the token masks of §4.8: a level's advantage exists
         * only where its span exists. */
        uint8_t *set = hp_xmalloc(n ? n : 1);
        for (size_t i = 0; i < n; i++) {
            out[i].boundary = bnd[i];
            out[i].reward_shaped = rs[i];
            set[i] = (uint8_t)((turns[i].empty_response ? 0 : 1) | (bnd[i] && turns[i].subgoal ? 2 : 0) |
                               (cfg->has_term && turns[i].switch_word ? 4 : 0));
        }
        normalise(out, n, set, cfg->norm_adv);
        free(set);
    }
    free(sw);
    free(bnd);
    free(rs);
    hp_adv_index_free(&ix);
    return rc;
}
