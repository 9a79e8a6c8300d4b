/* hiper/ppo.h — the PPO losses of HiPER and the verl-agent baselines, as functions over per-token arrays.
 *
 * Contract:
 * - Inputs are one micro-batch laid out as B rows × L token slots, row-major (index b*L + t). A slot
 *   takes part in the loss where mask[b*L+t] != 0; masked-out slots are never read beyond the mask,
 *   produce zero gradient and may hold anything (even NaN).
 * - Every function returns the loss value (already multiplied by cfg.scale, the 1/grad-accumulation
 *   factor), fills the diagnostics, and writes d(loss)/d(input) per slot into the caller's gradient
 *   arrays (float, B*L each; NULL to skip one). These gradients are what the model's backward takes as
 *   upstream gradients of the per-token log-prob, entropy and value outputs.
 * - Reductions run in double; the gradient arrays are float because the model math is float.
 * - The formulas follow verl's core_algos and HiPER's three-head critic loss: ratio =
 *   exp(clamp(logp − old, −20, 20)); ℓ = max(−A·ρ, −A·clip(ρ, 1−ε_lo, 1+ε_hi)); for A < 0 the loss is
 *   min(ℓ, −c·A) (dual clip); J = agg(ℓ) − entropy_coeff·agg(H) + kl_coef·agg(kl(logp, ref)).
 *   Value loss per head: agg(max((v−R)², (clip(v, v_old ± cliprange) − R)²)), no ½ factor.
 *   Where two branches of a max/min are exactly equal, the gradient is split evenly between them (as
 *   PyTorch does), which gives the same result as either branch whenever both branches have equal
 *   derivatives.
 * - Bad configuration (negative clip, unknown mode) → HP_FAIL with a message; no asserts on input.
 */
#ifndef HIPER_PPO_H
#define HIPER_PPO_H

#include "hiper/base.h"

/* How per-token losses become one number (verl's loss_agg_mode). m = mask, ℓ = per-token loss. */
typedef enum hp_ppo_agg {
    HP_AGG_TOKEN_MEAN = 0,          /* Σ m·ℓ / (Σ m + 1e-8)                                   */
    HP_AGG_SEQ_MEAN_TOKEN_SUM,      /* mean over rows of Σ_t m·ℓ                               */
    HP_AGG_SEQ_MEAN_TOKEN_MEAN,     /* mean over all B rows of Σ_t m·ℓ / (Σ_t m + 1e-8)        */
    HP_AGG_SEQ_MEAN_TOKEN_SUM_NORM, /* Σ m·ℓ / L (Dr.GRPO)                                     */
} hp_ppo_agg;

/* KL estimators of d = logp − ref (verl's kl_penalty). */
typedef enum hp_ppo_kl {
    HP_KL_K1 = 0, /* "kl", "k1": d                                               */
    HP_KL_ABS,    /* "abs": |d|                                                  */
    HP_KL_K2,     /* "mse", "k2": ½d²                                            */
    HP_KL_K3,     /* "low_var_kl", "k3": e^{−d} + d − 1, clamped to [−10, 10]     */
} hp_ppo_kl;

/* Parse the names above (the upstream spellings); HP_FAIL with a message listing the choices. */
int hp_ppo_agg_parse(const char *name, hp_ppo_agg *out, hp_err *err);
int hp_ppo_kl_parse(const char *name, hp_ppo_kl *out, hp_err *err);
const char *hp_ppo_agg_name(hp_ppo_agg agg);
const char *hp_ppo_kl_name(hp_ppo_kl kl);

/* ---- actor --------------------------------------------------------------------------------------- */

typedef struct hp_ppo_actor_cfg {
    double clip_low;      /* ε_low, 0.2 */
    double clip_high;     /* ε_high, 0.2 */
    double clip_c;        /* dual-clip constant c, 3.0; must be > 1 (use 0 to switch dual clip off) */
    double entropy_coeff; /* 0.001; 0 skips the entropy input */
    double kl_coef;       /* 0.01 */
    bool use_kl;          /* KL loss to the reference policy */
    hp_ppo_kl kl_type;    /* HP_KL_K3 */
    hp_ppo_agg agg;       /* HP_AGG_TOKEN_MEAN */
    double scale;         /* multiply loss and gradients (1 / gradient-accumulation count); 1.0 */
} hp_ppo_actor_cfg;

/* The defaults of the released HiPER and verl-agent scripts (verl's YAML where a script is silent). */
hp_ppo_actor_cfg hp_ppo_actor_cfg_default(void);

typedef struct hp_ppo_actor_in {
    int B, L;
    const float *logp;     /* (B,L) log-probs of the sampled tokens under the current policy */
    const float *old_logp; /* (B,L) the same before the update (the rollout policy)           */
    const float *ref_logp; /* (B,L) under the frozen reference; may be NULL when !use_kl     */
    const float *entropy;  /* (B,L) per-token entropy; may be NULL when entropy_coeff == 0   */
    const double *adv;     /* (B,L) per-token advantages                                      */
    const uint8_t *mask;   /* (B,L) loss mask, 1 = token trains                               */
} hp_ppo_actor_in;

typedef struct hp_ppo_actor_out {
    double loss;           /* scale · (pg − entropy_coeff·entropy + kl_coef·kl)  */
    double pg_loss;        /* agg of the clipped policy-gradient loss (unscaled) */
    double entropy;        /* agg of the entropy (unscaled)                      */
    double kl;             /* agg of the KL term (unscaled; 0 when !use_kl)      */
    double clipfrac;       /* masked mean of [ℓ2 > ℓ1]                           */
    double clipfrac_lower; /* masked mean of [ℓ_clip > −c·A and A < 0]           */
    double approx_kl;      /* masked mean of old − logp (verl's ppo_kl)          */
    double n_tokens;       /* Σ mask                                            */
} hp_ppo_actor_out;

/* Compute the actor loss of one micro-batch. g_logp and g_entropy (B*L floats each, may be NULL)
 * receive d(loss)/d(logp) and d(loss)/d(entropy); masked-out slots get 0. */
int hp_ppo_actor_loss(const hp_ppo_actor_cfg *cfg, const hp_ppo_actor_in *in, hp_ppo_actor_out *out,
                      float *g_logp, float *g_entropy, hp_err *err);

/* ---- critic -------------------------------------------------------------------------------------- */

typedef struct hp_ppo_value_cfg {
    double cliprange; /* 0.5 */
    double coef;      /* weight of this head in the critic loss (1.0) */
    hp_ppo_agg agg;   /* HP_AGG_TOKEN_MEAN */
    double scale;     /* 1 / gradient-accumulation count */
} hp_ppo_value_cfg;

hp_ppo_value_cfg hp_ppo_value_cfg_default(void);

typedef struct hp_ppo_value_in {
    int B, L;
    const float *v;      /* (B,L) values predicted now                               */
    const float *v_old;  /* (B,L) values before the update (those used for advantages) */
    const double *ret;   /* (B,L) regression targets                                  */
    const uint8_t *mask; /* (B,L) this head's value mask                              */
} hp_ppo_value_in;

typedef struct hp_ppo_value_out {
    double loss;       /* scale · coef · agg(max(...)); 0 for an empty mask */
    double vf_loss;    /* agg(max(...)) (unscaled, without coef)           */
    double clipfrac;   /* masked mean of [(v_clip−R)² > (v−R)²]            */
    double v_mean;     /* masked mean of v (diagnostic)                    */
    double n_tokens;
} hp_ppo_value_out;

/* Clipped value loss of one head on one micro-batch; g_v (B*L floats, may be NULL) receives
 * d(loss)/d(v). A head whose mask is empty contributes 0 (as HiPER's critic update). */
int hp_ppo_value_loss(const hp_ppo_value_cfg *cfg, const hp_ppo_value_in *in, hp_ppo_value_out *out,
                      float *g_v, hp_err *err);

/* ---- helpers shared with the trainer ------------------------------------------------------------- */

/* Per-slot weights w such that agg(x) = Σ w·x (written into w, B*L doubles); returns HP_FAIL on an
 * unknown mode. Used by both losses and by metrics. */
int hp_ppo_agg_weights(hp_ppo_agg agg, int B, int L, const uint8_t *mask, double *w, hp_err *err);

/* The KL estimator value and its derivative w.r.t. logp, for one token. */
double hp_ppo_kl_value(hp_ppo_kl type, double logp, double ref, double *dlogp);

#endif /* HIPER_PPO_H */
