/* adv_gae.c — PPO's generalised advantage estimation as veRL computes it: token-level GAE over one
 * response (baselines.md §2.4, with the post-EOS value quirk), the HiPER fork's turn-level GAE
 * across a trajectory's turns (§2.5), and masked whitening. */
#include "adv_internal.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

void hp_gae_config_default(hp_gae_config *c) {
    c->gamma = 1.0;
    c->lam = 1.0;
    c->norm_adv = true;
    c->use_invalid_action_penalty = true;
    c->invalid_action_penalty_coef = 0.1;
}

void hp_adv_gae_tokens(const float *rewards, const float *values, int L, int resp_len, double gamma,
                       double lam, double *adv, double *ret) {
    double last = 0.0;
    for (int t = L - 1; t >= 0; t--) {
        /* values are multiplied by the response mask shifted by one: positions 0..n survive. */
        double v = t <= resp_len ? (double)values[t] : 0.0;
        double vnext = (t + 1 < L && t + 1 <= resp_len) ? (double)values[t + 1] : 0.0;
        double delta = (double)rewards[t] + gamma * vnext - v;
        last = delta + gamma * lam * last;
        adv[t] = last;
        ret[t] = last + v;
    }
}

int hp_adv_masked_whiten(double *x, const uint8_t *mask, size_t n, hp_err *err) {
    double sum = 0.0;
    size_t m = 0;
    for (size_t i = 0; i < n; i++)
        if (mask[i]) sum += x[i], m++;
    if (m < 2) return hp_fail(err, "whitening needs at least 2 masked elements, got %zu", m);
    double mean = sum / (double)m, ss = 0.0;
    for (size_t i = 0; i < n; i++)
        if (mask[i]) ss += (x[i] - mean) * (x[i] - mean);
    double var = ss / (double)m * ((double)m / (double)(m - 1));
    double inv = 1.0 / sqrt(var + 1e-8);
    for (size_t i = 0; i < n; i++) x[i] = (x[i] - mean) * inv;
    return HP_OK;
}

int hp_adv_turn_gae(const hp_adv_turn *turns, size_t n, const hp_gae_config *cfg, double *adv,
                    double *ret, hp_err *err) {
    if (!isfinite(cfg->gamma) || cfg->gamma < 0 || cfg->gamma > 1)
        return hp_fail(err, "gae config: gamma must be in [0, 1], got %g", cfg->gamma);
    if (!isfinite(cfg->lam) || cfg->lam < 0 || cfg->lam > 1)
        return hp_fail(err, "gae config: lam must be in [0, 1], got %g", cfg->lam);
    if (!isfinite(cfg->invalid_action_penalty_coef))
        return hp_fail(err, "gae config: invalid_action_penalty_coef is not finite");
    for (size_t i = 0; i < n; i++)
        if (hp_adv_check_finite(turns[i].reward, i, "reward", err) ||
            hp_adv_check_finite(turns[i].v_low, i, "v_low", err))
            return HP_FAIL;
    hp_adv_index ix;
    if (hp_adv_index_build(&ix, turns, n, err)) return HP_FAIL;
    const double pen = cfg->use_invalid_action_penalty ? cfg->invalid_action_penalty_coef : 0.0;
    for (size_t k = 0; k < ix.n_traj; k++) {
        const size_t *rows = ix.order + ix.start[k];
        size_t T = ix.start[k + 1] - ix.start[k];
        /* Backwards over distinct turns; a copy of a turn takes its first occurrence's values. */
        double a_next = 0.0, v_next = 0.0;
        bool has_next = false;
        size_t p = T;
        while (p > 0) {
            size_t q = p - 1; /* rows[q .. p) share one turn index; rows[q] is its first occurrence */
            while (q > 0 && turns[rows[q - 1]].turn == turns[rows[p - 1]].turn) q--;
            const hp_adv_turn *t = &turns[rows[q]];
            double u = t->empty_response ? 0.0 : t->reward - (t->valid ? 0.0 : pen);
            double v = t->empty_response ? 0.0 : t->v_low;
            double delta = u + ((has_next && !t->done) ? cfg->gamma * v_next : 0.0) - v;
            double a = t->done ? delta : delta + cfg->gamma * cfg->lam * a_next;
            for (size_t c = q; c < p; c++) {
                adv[rows[c]] = a;
                ret[rows[c]] = a + v;
            }
            a_next = a;
            v_next = v;
            has_next = true;
            p = q;
        }
    }
    int rc = HP_OK;
    if (cfg->norm_adv && n > 0) {
        uint8_t *mask = hp_xmalloc(n);
        for (size_t i = 0; i < n; i++) mask[i] = !turns[i].empty_response;
        rc = hp_adv_masked_whiten(adv, mask, n, err);
        if (rc) hp_err_wrap(err, "gae");
        for (size_t i = 0; i < n; i++)
            if (turns[i].empty_response) adv[i] = 0.0;
        free(mask);
    }
    hp_adv_index_free(&ix);
    return rc;
}
