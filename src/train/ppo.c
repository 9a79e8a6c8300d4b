/* ppo.c — PPO actor and critic losses over per-token arrays (see hiper/ppo.h). */
#include "hiper/ppo.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* ---- names --------------------------------------------------------------------------------------- */

static const char *const AGG_NAMES[] = {"token-mean", "seq-mean-token-sum", "seq-mean-token-mean",
                                        "seq-mean-token-sum-norm"};

int hp_ppo_agg_parse(const char *name, hp_ppo_agg *out, hp_err *err) {
    for (int i = 0; i < 4; i++) {
        if (!strcmp(name, AGG_NAMES[i])) {
            *out = (hp_ppo_agg)i;
            return HP_OK;
        }
    }
    return hp_fail(err, "unknown loss_agg_mode '%s' (token-mean, seq-mean-token-sum, seq-mean-token-mean, "
                        "seq-mean-token-sum-norm)", name);
}

const char *hp_ppo_agg_name(hp_ppo_agg agg) {
    return (unsigned)agg < 4 ? AGG_NAMES[agg] : "?";
}

int hp_ppo_kl_parse(const char *name, hp_ppo_kl *out, hp_err *err) {
    if (!strcmp(name, "kl") || !strcmp(name, "k1")) *out = HP_KL_K1;
    else if (!strcmp(name, "abs")) *out = HP_KL_ABS;
    else if (!strcmp(name, "mse") || !strcmp(name, "k2")) *out = HP_KL_K2;
    else if (!strcmp(name, "low_var_kl") || !strcmp(name, "k3")) *out = HP_KL_K3;
    else return hp_fail(err, "unknown kl type '%s' (kl|k1, abs, mse|k2, low_var_kl|k3)", name);
    return HP_OK;
}

const char *hp_ppo_kl_name(hp_ppo_kl kl) {
    switch (kl) {
    case HP_KL_K1: return "kl";
    case HP_KL_ABS: return "abs";
    case HP_KL_K2: return "mse";
    case HP_KL_K3: return "low_var_kl";
    }
    return "?";
}

/* ---- defaults ------------------------------------------------------------------------------------ */

hp_ppo_actor_cfg hp_ppo_actor_cfg_default(void) {
    return (hp_ppo_actor_cfg){.clip_low = 0.2, .clip_high = 0.2, .clip_c = 3.0, .entropy_coeff = 0.001,
                              .kl_coef = 0.01, .use_kl = true, .kl_type = HP_KL_K3,
                              .agg = HP_AGG_TOKEN_MEAN, .scale = 1.0};
}

hp_ppo_value_cfg hp_ppo_value_cfg_default(void) {
    return (hp_ppo_value_cfg){.cliprange = 0.5, .coef = 1.0, .agg = HP_AGG_TOKEN_MEAN, .scale = 1.0};
}

/* ---- aggregation --------------------------------------------------------------------------------- */

int hp_ppo_agg_weights(hp_ppo_agg agg, int B, int L, const uint8_t *mask, double *w, hp_err *err) {
    size_t n = (size_t)B * (size_t)L;
    for (size_t i = 0; i < n; i++) w[i] = 0.0;
    switch (agg) {
    case HP_AGG_TOKEN_MEAN: {
        double cnt = 0.0;
        for (size_t i = 0; i < n; i++) cnt += mask[i] ? 1.0 : 0.0;
        double inv = 1.0 / (cnt + 1e-8);
        for (size_t i = 0; i < n; i++) w[i] = mask[i] ? inv : 0.0;
        return HP_OK;
    }
    case HP_AGG_SEQ_MEAN_TOKEN_SUM:
        for (size_t i = 0; i < n; i++) w[i] = mask[i] ? 1.0 / B : 0.0;
        return HP_OK;
    case HP_AGG_SEQ_MEAN_TOKEN_MEAN:
        for (int b = 0; b < B; b++) {
            const uint8_t *m = mask + (size_t)b * L;
            double cnt = 0.0;
            for (int t = 0; t < L; t++) cnt += m[t] ? 1.0 : 0.0;
            double inv = 1.0 / ((cnt + 1e-8) * B);
            for (int t = 0; t < L; t++) w[(size_t)b * L + t] = m[t] ? inv : 0.0;
        }
        return HP_OK;
    case HP_AGG_SEQ_MEAN_TOKEN_SUM_NORM:
        for (size_t i = 0; i < n; i++) w[i] = mask[i] ? 1.0 / L : 0.0;
        return HP_OK;
    }
    return hp_fail(err, "unknown loss aggregation mode %d", (int)agg);
}

/* ---- KL estimators ------------------------------------------------------------------------------- */

double hp_ppo_kl_value(hp_ppo_kl type, double logp, double ref, double *dlogp) {
    double d = logp - ref;
    switch (type) {
    case HP_KL_K1:
        *dlogp = 1.0;
        return d;
    case HP_KL_ABS:
        *dlogp = d > 0 ? 1.0 : d < 0 ? -1.0 : 0.0;
        return fabs(d);
    case HP_KL_K2:
        *dlogp = d;
        return 0.5 * d * d;
    case HP_KL_K3: {
        /* kl = ref − logp clamped to [−20, 20] for stability, k3 = e^kl − kl − 1 clamped to [−10, 10]. */
        double x = -d;
        bool inside = x >= -20.0 && x <= 20.0;
        if (x < -20.0) x = -20.0;
        if (x > 20.0) x = 20.0;
        double k = exp(x) - x - 1.0;
        if (k > 10.0 || k < -10.0) {
            *dlogp = 0.0;
            return k > 10.0 ? 10.0 : -10.0;
        }
        /* d k / d logp = (e^x − 1) · dx/dlogp, dx/dlogp = −1 inside the clamp. */
        *dlogp = inside ? -(exp(x) - 1.0) : 0.0;
        return k;
    }
    }
    *dlogp = 0.0;
    return 0.0;
}

/* ---- actor --------------------------------------------------------------------------------------- */

/* Policy-gradient loss of one token and its derivative w.r.t. logp; sets the two clip flags. */
static double pg_token(const hp_ppo_actor_cfg *c, double logp, double old, double a, double *dlogp,
                       bool *clipped, bool *clipped_lower) {
    double nk = logp - old; /* negative approximate KL */
    bool in_range = nk >= -20.0 && nk <= 20.0;
    if (nk < -20.0) nk = -20.0;
    if (nk > 20.0) nk = 20.0;
    double ratio = exp(nk);
    double dratio = in_range ? ratio : 0.0; /* d ratio / d logp */

    double lo = 1.0 - c->clip_low, hi = 1.0 + c->clip_high;
    double rc = ratio < lo ? lo : ratio > hi ? hi : ratio;
    double drc = (ratio >= lo && ratio <= hi) ? dratio : 0.0;

    double l1 = -a * ratio, d1 = -a * dratio;
    double l2 = -a * rc, d2 = -a * drc;
    *clipped = l2 > l1;
    double lc, dc;
    if (l1 > l2) lc = l1, dc = d1;
    else if (l2 > l1) lc = l2, dc = d2;
    else lc = l1, dc = 0.5 * (d1 + d2);

    *clipped_lower = false;
    if (a < 0 && c->clip_c > 0) {
        double l3 = -a * c->clip_c; /* constant in logp */
        *clipped_lower = lc > l3;
        if (lc > l3) {
            *dlogp = 0.0;
            return l3;
        }
        if (lc == l3) {
            *dlogp = 0.5 * dc;
            return lc;
        }
    }
    *dlogp = dc;
    return lc;
}

static int check_actor_cfg(const hp_ppo_actor_cfg *c, const hp_ppo_actor_in *in, hp_err *err) {
    if (in->B < 0 || in->L < 0) return hp_fail(err, "actor loss: bad shape B=%d L=%d", in->B, in->L);
    if (!(c->clip_low >= 0 && c->clip_low < 1) || !(c->clip_high >= 0))
        return hp_fail(err, "actor loss: clip ratios must be in [0,1) (low %g, high %g)", c->clip_low, c->clip_high);
    if (c->clip_c != 0 && !(c->clip_c > 1.0))
        return hp_fail(err, "actor loss: dual-clip constant must be > 1 or 0 (off), got %g", c->clip_c);
    if (c->use_kl && !in->ref_logp) return hp_fail(err, "actor loss: KL loss on but no reference log-probs");
    if (c->entropy_coeff != 0 && !in->entropy) return hp_fail(err, "actor loss: entropy_coeff set but no entropy");
    if (!in->logp || !in->old_logp || !in->adv || !in->mask)
        return hp_fail(err, "actor loss: missing logp, old_logp, adv or mask");
    return HP_OK;
}

int hp_ppo_actor_loss(const hp_ppo_actor_cfg *cfg, const hp_ppo_actor_in *in, hp_ppo_actor_out *out,
                      float *g_logp, float *g_entropy, hp_err *err) {
    memset(out, 0, sizeof *out);
    if (check_actor_cfg(cfg, in, err)) return HP_FAIL;
    size_t n = (size_t)in->B * (size_t)in->L;
    double *w = hp_xmalloc((n ? n : 1) * sizeof *w);
    if (hp_ppo_agg_weights(cfg->agg, in->B, in->L, in->mask, w, err)) {
        free(w);
        return HP_FAIL;
    }
    double pg = 0, ent = 0, kl = 0, cnt = 0, nclip = 0, nlower = 0, akl = 0;
    for (size_t i = 0; i < n; i++) {
        if (!in->mask[i]) {
            if (g_logp) g_logp[i] = 0.0f;
            if (g_entropy) g_entropy[i] = 0.0f;
            continue;
        }
        double d_pg, d_kl = 0.0;
        bool clipped, lower;
        double l = pg_token(cfg, in->logp[i], in->old_logp[i], in->adv[i], &d_pg, &clipped, &lower);
        pg += w[i] * l;
        cnt += 1;
        nclip += clipped;
        nlower += lower;
        akl += (double)in->old_logp[i] - (double)in->logp[i];
        double grad = d_pg;
        if (cfg->use_kl) {
            kl += w[i] * hp_ppo_kl_value(cfg->kl_type, in->logp[i], in->ref_logp[i], &d_kl);
            grad += cfg->kl_coef * d_kl;
        }
        if (in->entropy) ent += w[i] * in->entropy[i];
        if (g_logp) g_logp[i] = (float)(cfg->scale * w[i] * grad);
        if (g_entropy) g_entropy[i] = (float)(-cfg->scale * w[i] * cfg->entropy_coeff);
    }
    free(w);
    out->pg_loss = pg;
    out->entropy = ent;
    out->kl = cfg->use_kl ? kl : 0.0;
    out->loss = cfg->scale * (pg - cfg->entropy_coeff * ent + (cfg->use_kl ? cfg->kl_coef * kl : 0.0));
    out->n_tokens = cnt;
    out->clipfrac = nclip / (cnt + 1e-8);
    out->clipfrac_lower = nlower / (cnt + 1e-8);
    out->approx_kl = akl / (cnt + 1e-8);
    return HP_OK;
}

/* ---- critic -------------------------------------------------------------------------------------- */

int hp_ppo_value_loss(const hp_ppo_value_cfg *cfg, const hp_ppo_value_in *in, hp_ppo_value_out *out,
                      float *g_v, hp_err *err) {
    memset(out, 0, sizeof *out);
    if (in->B < 0 || in->L < 0) return hp_fail(err, "value loss: bad shape B=%d L=%d", in->B, in->L);
    if (!(cfg->cliprange >= 0)) return hp_fail(err, "value loss: cliprange must be >= 0, got %g", cfg->cliprange);
    if (!in->v || !in->v_old || !in->ret || !in->mask) return hp_fail(err, "value loss: missing input array");
    size_t n = (size_t)in->B * (size_t)in->L;
    double *w = hp_xmalloc((n ? n : 1) * sizeof *w);
    if (hp_ppo_agg_weights(cfg->agg, in->B, in->L, in->mask, w, err)) {
        free(w);
        return HP_FAIL;
    }
    double loss = 0, cnt = 0, nclip = 0, vsum = 0;
    for (size_t i = 0; i < n; i++) {
        if (!in->mask[i]) {
            if (g_v) g_v[i] = 0.0f;
            continue;
        }
        double v = in->v[i], vo = in->v_old[i], r = in->ret[i];
        double lo = vo - cfg->cliprange, hi = vo + cfg->cliprange;
        double vc = v < lo ? lo : v > hi ? hi : v;
        double dvc = (v >= lo && v <= hi) ? 1.0 : 0.0;
        double l1 = (v - r) * (v - r), d1 = 2.0 * (v - r);
        double l2 = (vc - r) * (vc - r), d2 = 2.0 * (vc - r) * dvc;
        double l, d;
        if (l1 > l2) l = l1, d = d1;
        else if (l2 > l1) l = l2, d = d2;
        else l = l1, d = 0.5 * (d1 + d2);
        nclip += l2 > l1;
        loss += w[i] * l;
        cnt += 1;
        vsum += v;
        if (g_v) g_v[i] = (float)(cfg->scale * cfg->coef * w[i] * d);
    }
    free(w);
    out->vf_loss = loss;
    out->loss = cfg->scale * cfg->coef * loss;
    out->clipfrac = nclip / (cnt + 1e-8);
    out->v_mean = vsum / (cnt + 1e-8);
    out->n_tokens = cnt;
    return HP_OK;
}
