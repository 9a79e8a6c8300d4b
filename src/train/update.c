/* update.c — the model side of a PPO step: score the batch (old and reference log-probs, critic
 * values), then update the critic and the actor over mini-batches of rows, micro-batch by
 * micro-batch, with gradient accumulation, clipping and AdamW (hiper.md §5.3, §6.1; baselines.md §3). */
#include "train_internal.h"

#include "hiper/dist.h"
#include "hiper/model.h"
#include "hiper/ppo.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

double hp_train_policy_temperature(const hp_runcfg *cfg) {
    return cfg->rollout.logp_at_temperature && cfg->rollout.temperature > 0 ? cfg->rollout.temperature : 1.0;
}

/* Rows [a, b) as a packed model batch (their sequences are consecutive in r->ids), scored as the policy
 * that sampled them (hp_train_policy_temperature). */
static hp_batch rows_batch(const hp_rows *r, int a, int b, int64_t *offs, const hp_runcfg *cfg) {
    for (int i = a; i <= b; i++) offs[i - a] = r->offsets[i] - r->offsets[a];
    return (hp_batch){.ids = r->ids.data + r->offsets[a], .offsets = offs, .n_seq = b - a,
                      .mask_of = r->mask_of ? r->mask_of + r->offsets[a] : NULL, .allowed_bits = r->allowed_bits,
                      .scored = r->scored ? r->scored + r->offsets[a] : NULL,
                      .temperature = hp_train_policy_temperature(cfg)};
}

/* Index into a batch output of rows [a, ...) for response position j of row i: the position whose
 * next-token distribution produced response token j (and where the critic reads the state before it). */
static int64_t pos_index(const hp_rows *r, int a, int i, int j) {
    return r->offsets[i] - r->offsets[a] + r->n_prompt[i] + j - 1;
}

bool hp_train_critic_head_only(const hp_runcfg *cfg) { return !strcmp(cfg->critic.backbone, "reference"); }

/* The critic's rows per optimizer step and epochs per batch: its own keys, or the actor's when 0. */
static int64_t critic_mini_batch(const hp_runcfg *cfg) {
    return cfg->critic.ppo_mini_batch_size > 0 ? cfg->critic.ppo_mini_batch_size : cfg->actor.ppo_mini_batch_size;
}
static int64_t critic_epochs(const hp_runcfg *cfg) {
    return cfg->critic.ppo_epochs > 0 ? cfg->critic.ppo_epochs : cfg->actor.ppo_epochs;
}

int hp_train_score(hp_model *actor, hp_model *ref, hp_model *critic, hp_rows *r, const hp_runcfg *cfg, hp_err *err) {
    if (r->n == 0) return HP_OK;
    int64_t ntok = r->offsets[r->n], nval = r->val_off[r->n];
    bool head_only = critic && r->K > 0 && hp_train_critic_head_only(cfg);
    int64_t *offs = hp_xmalloc(((size_t)r->n + 1) * sizeof *offs);
    float *buf = hp_xmalloc((size_t)ntok * (size_t)(r->K > 1 ? r->K : 1) * sizeof *buf);
    float *hid = NULL;
    hp_batch b = rows_batch(r, 0, r->n, offs, cfg);
    int rc = HP_OK;
    if (cfg->actor.recompute_old_logp) {
        if ((rc = hp_model_score(actor, &b, buf, NULL, NULL, err))) goto out;
        for (int i = 0; i < r->n; i++)
            for (int j = 0; j < r->n_resp[i]; j++) r->old_logp[r->tok_off[i] + j] = buf[pos_index(r, 0, i, j)];
    } else {
        memcpy(r->old_logp, r->rollout_logp, (size_t)r->tok_off[r->n] * sizeof(float));
    }
    if (head_only && !ref) {
        rc = hp_fail(err, "critic.backbone = reference needs the reference policy");
        goto out;
    }
    bool kl = ref && cfg->actor.use_kl_loss;
    if (kl || head_only) {
        /* One pass of the reference gives its log-probs and, for a head-only critic, the hidden states
         * that the critic's heads read. */
        int D = (int)hp_model_config(ref)->hidden_size;
        if (head_only) {
            hid = hp_xmalloc((size_t)ntok * (size_t)D * sizeof *hid);
            rc = hp_model_score_hidden(ref, &b, kl ? buf : NULL, NULL, hid, err);
        } else {
            rc = hp_model_score(ref, &b, buf, NULL, NULL, err);
        }
        if (rc) goto out;
        for (int i = 0; kl && i < r->n; i++)
            for (int j = 0; j < r->n_resp[i]; j++) r->ref_logp[r->tok_off[i] + j] = buf[pos_index(r, 0, i, j)];
        if (head_only) {
            free(r->hidden);
            r->hidden_dim = D;
            r->hidden = hp_xmalloc((size_t)nval * (size_t)D * sizeof *r->hidden);
            for (int i = 0; i < r->n; i++)
                for (int j = 0; j <= r->n_resp[i]; j++)
                    memcpy(r->hidden + ((size_t)r->val_off[i] + (size_t)j) * (size_t)D,
                           hid + (size_t)pos_index(r, 0, i, j) * (size_t)D, (size_t)D * sizeof *hid);
        }
    }
    if (critic && r->K > 0) {
        if (head_only) {
            /* values come out per value position, in the order of v_old */
            float *v = hp_xmalloc((size_t)(nval ? nval : 1) * (size_t)r->K * sizeof *v);
            rc = hp_model_head_values(critic, r->hidden, nval, v, err);
            for (int64_t i = 0; rc == HP_OK && i < nval * r->K; i++)
                r->v_old[i] = (float)(cfg->critic.value_scale * v[i]);
            free(v);
            if (rc) goto out;
        } else {
            if ((rc = hp_model_score(critic, &b, NULL, NULL, buf, err))) goto out;
            for (int i = 0; i < r->n; i++)
                for (int j = 0; j <= r->n_resp[i]; j++)
                    for (int k = 0; k < r->K; k++)
                        r->v_old[((size_t)r->val_off[i] + (size_t)j) * (size_t)r->K + (size_t)k] =
                            (float)(cfg->critic.value_scale *
                                    buf[(size_t)pos_index(r, 0, i, j) * (size_t)r->K + (size_t)k]);
        }
    }
out:
    free(offs);
    free(buf);
    free(hid);
    return rc ? hp_err_wrap(err, "scoring the batch") : HP_OK;
}

/* verl divides each micro-batch loss by mini/micro (integer division, at least 1). */
static double accum_scale(int64_t mini, int64_t micro) {
    int64_t g = mini / micro;
    return 1.0 / (double)(g > 0 ? g : 1);
}

/* Clip, step (if the norm is finite), zero. Returns the norm before clipping. */
static double optim_step(hp_model *m, double clip, double lr, const hp_rc_optim *opt, int *skipped) {
    double norm = hp_model_clip_grad(m, clip);
    if (isfinite(norm)) {
        hp_adamw o;
        hp_adamw_default(&o);
        o.beta1 = opt->beta1;
        o.beta2 = opt->beta2;
        o.eps = opt->eps;
        o.weight_decay = opt->weight_decay;
        hp_model_adamw_step(m, &o, lr);
    } else {
        /* verl skips a step whose gradient norm is not finite; we do too, count it in the metrics
         * (skipped_steps) and say which tensor went bad, so a NaN run is never silent. */
        (*skipped)++;
        hp_err bad = {{0}};
        hp_model_check_grad(m, norm, &bad);
        fprintf(stderr, "hiper: warning: optimizer step skipped: %s\n", bad.msg);
    }
    hp_model_zero_grad(m);
    return norm;
}

static double lr_at(const hp_runcfg *cfg, const hp_rc_optim *opt, int64_t step) {
    hp_lr_sched s = {.kind = strcmp(opt->schedule, "cosine") ? HP_LR_CONSTANT : HP_LR_COSINE,
                     .lr = opt->lr, .warmup_steps = opt->warmup_steps,
                     .total_steps = cfg->trainer.total_steps, .min_lr_ratio = 0.0};
    return hp_lr_at(&s, step);
}

/* Critic loss of rows [a, b) and its backward. Values and their gradients are held per value position
 * of the rows (index val_off[i] + j - val_off[a]); a whole critic maps them to and from its pass over
 * the rows' tokens, a head-only critic reads the rows' stored hidden states. */
static int critic_micro(hp_model *critic, const hp_rows *r, int a, int b, const hp_runcfg *cfg, hp_update_stats *st,
                        int *n_micro, hp_err *err) {
    int K = r->K, B = b - a, L = 0;
    for (int i = a; i < b; i++) L = r->n_resp[i] + 1 > L ? r->n_resp[i] + 1 : L;
    bool head_only = hp_train_critic_head_only(cfg);
    int64_t v0 = r->val_off[a], nv = r->val_off[b] - v0;
    int64_t *offs = hp_xmalloc(((size_t)B + 1) * sizeof *offs);
    hp_batch bt = rows_batch(r, a, b, offs, cfg);
    int64_t ntok = offs[B];
    size_t n = (size_t)B * (size_t)L;
    float *vc = hp_xcalloc((size_t)(nv ? nv : 1) * (size_t)K, sizeof *vc);
    float *dvc = hp_xcalloc((size_t)(nv ? nv : 1) * (size_t)K, sizeof *dvc);
    float *vals = NULL, *dv = NULL; /* per token, a whole critic only */
    float *v = hp_xcalloc(n, sizeof *v), *vo = hp_xcalloc(n, sizeof *vo), *g = hp_xcalloc(n, sizeof *g);
    double *ret = hp_xcalloc(n, sizeof *ret);
    uint8_t *mask = hp_xcalloc(n, 1);
    const float *hid = head_only ? r->hidden + (size_t)v0 * (size_t)r->hidden_dim : NULL;
    int rc;
    if (head_only) {
        rc = hp_model_head_values(critic, hid, nv, vc, err);
    } else {
        vals = hp_xcalloc((size_t)ntok * (size_t)K, sizeof *vals);
        dv = hp_xcalloc((size_t)ntok * (size_t)K, sizeof *dv);
        rc = hp_model_forward(critic, &bt, NULL, NULL, vals, err);
        for (int i = a; rc == HP_OK && i < b; i++)
            for (int j = 0; j <= r->n_resp[i]; j++)
                memcpy(vc + ((size_t)(r->val_off[i] - v0) + (size_t)j) * (size_t)K,
                       vals + (size_t)pos_index(r, a, i, j) * (size_t)K, (size_t)K * sizeof *vc);
    }
    const double coef[3] = {1.0, cfg->critic.high_value_coef, cfg->critic.term_value_coef};
    for (int k = 0; rc == HP_OK && k < K; k++) {
        memset(mask, 0, n);
        for (int i = a; i < b; i++)
            for (int j = 0; j <= r->n_resp[i]; j++) {
                size_t s = ((size_t)r->val_off[i] + (size_t)j) * (size_t)K + (size_t)k;
                size_t d = (size_t)(i - a) * (size_t)L + (size_t)j;
                mask[d] = r->vmask[s];
                v[d] = vc[s - (size_t)v0 * (size_t)K]; /* in units of value_scale */
                vo[d] = (float)(r->v_old[s] / cfg->critic.value_scale);
                ret[d] = r->ret[s] / cfg->critic.value_scale;
            }
        hp_ppo_value_cfg vcfg = hp_ppo_value_cfg_default();
        vcfg.cliprange = cfg->critic.cliprange_value;
        vcfg.coef = coef[k];
        vcfg.scale = accum_scale(critic_mini_batch(cfg), cfg->critic.ppo_micro_batch_size);
        hp_ppo_value_in in = {.B = B, .L = L, .v = v, .v_old = vo, .ret = ret, .mask = mask};
        hp_ppo_value_out out;
        rc = hp_ppo_value_loss(&vcfg, &in, &out, g, err);
        if (rc) break;
        st->vf_loss[k] += out.vf_loss;
        if (k == 0) st->vf_clipfrac += out.clipfrac, st->v_mean += out.v_mean;
        for (int i = a; i < b; i++)
            for (int j = 0; j <= r->n_resp[i]; j++)
                dvc[((size_t)(r->val_off[i] - v0) + (size_t)j) * (size_t)K + (size_t)k] =
                    g[(size_t)(i - a) * (size_t)L + (size_t)j];
    }
    if (rc == HP_OK && head_only) rc = hp_model_head_backward(critic, hid, nv, dvc, err);
    if (rc == HP_OK && !head_only) {
        for (int i = a; i < b; i++)
            for (int j = 0; j <= r->n_resp[i]; j++)
                memcpy(dv + (size_t)pos_index(r, a, i, j) * (size_t)K,
                       dvc + ((size_t)(r->val_off[i] - v0) + (size_t)j) * (size_t)K, (size_t)K * sizeof *dv);
        rc = hp_model_backward(critic, &bt, NULL, NULL, dv, err);
    }
    (*n_micro)++;
    free(offs), free(vc), free(dvc), free(vals), free(dv), free(v), free(vo), free(g), free(ret), free(mask);
    return rc;
}

/* Actor loss of rows [a, b) and its backward. */
static int actor_micro(hp_model *actor, const hp_rows *r, int a, int b, const hp_runcfg *cfg, hp_update_stats *st,
                       int *n_micro, hp_err *err) {
    int B = b - a, L = 1;
    for (int i = a; i < b; i++) L = r->n_resp[i] > L ? r->n_resp[i] : L;
    int64_t *offs = hp_xmalloc(((size_t)B + 1) * sizeof *offs);
    hp_batch bt = rows_batch(r, a, b, offs, cfg);
    int64_t ntok = offs[B];
    size_t n = (size_t)B * (size_t)L;
    float *lp = hp_xcalloc((size_t)ntok, sizeof *lp), *ent = hp_xcalloc((size_t)ntok, sizeof *ent);
    float *dlp = hp_xcalloc((size_t)ntok, sizeof *dlp), *dent = hp_xcalloc((size_t)ntok, sizeof *dent);
    float *x = hp_xcalloc(n, sizeof *x), *xo = hp_xcalloc(n, sizeof *xo), *xr = hp_xcalloc(n, sizeof *xr);
    float *xe = hp_xcalloc(n, sizeof *xe), *g = hp_xcalloc(n, sizeof *g), *ge = hp_xcalloc(n, sizeof *ge);
    double *adv = hp_xcalloc(n, sizeof *adv);
    uint8_t *mask = hp_xcalloc(n, 1);
    int rc = hp_model_forward(actor, &bt, lp, ent, NULL, err);
    if (rc == HP_OK) {
        for (int i = a; i < b; i++)
            for (int j = 0; j < r->n_resp[i]; j++) {
                size_t s = (size_t)r->tok_off[i] + (size_t)j, d = (size_t)(i - a) * (size_t)L + (size_t)j;
                int64_t p = pos_index(r, a, i, j);
                x[d] = lp[p], xe[d] = ent[p];
                xo[d] = r->old_logp[s], xr[d] = r->ref_logp[s];
                adv[d] = r->adv[s], mask[d] = r->mask[s] != 0;
            }
        hp_ppo_actor_cfg ac = hp_ppo_actor_cfg_default();
        ac.clip_low = cfg->actor.clip_ratio_low >= 0 ? cfg->actor.clip_ratio_low : cfg->actor.clip_ratio;
        ac.clip_high = cfg->actor.clip_ratio_high >= 0 ? cfg->actor.clip_ratio_high : cfg->actor.clip_ratio;
        ac.clip_c = cfg->actor.clip_ratio_c;
        ac.entropy_coeff = cfg->actor.entropy_coeff;
        ac.use_kl = cfg->actor.use_kl_loss;
        ac.kl_coef = cfg->actor.kl_loss_coef;
        ac.scale = accum_scale(cfg->actor.ppo_mini_batch_size, cfg->actor.ppo_micro_batch_size);
        rc = hp_ppo_kl_parse(cfg->actor.kl_loss_type, &ac.kl_type, err);
        if (rc == HP_OK) rc = hp_ppo_agg_parse(cfg->actor.loss_agg_mode, &ac.agg, err);
        hp_ppo_actor_in in = {.B = B, .L = L, .logp = x, .old_logp = xo, .ref_logp = xr, .entropy = xe,
                              .adv = adv, .mask = mask};
        hp_ppo_actor_out out;
        if (rc == HP_OK) rc = hp_ppo_actor_loss(&ac, &in, &out, g, ge, err);
        if (rc == HP_OK) {
            st->pg_loss += out.pg_loss, st->entropy += out.entropy, st->kl += out.kl;
            st->clipfrac += out.clipfrac, st->clipfrac_lower += out.clipfrac_lower, st->approx_kl += out.approx_kl;
            for (int i = a; i < b; i++)
                for (int j = 0; j < r->n_resp[i]; j++) {
                    size_t d = (size_t)(i - a) * (size_t)L + (size_t)j;
                    int64_t p = pos_index(r, a, i, j);
                    dlp[p] = g[d], dent[p] = ge[d];
                }
            rc = hp_model_backward(actor, &bt, dlp, dent, NULL, err);
        }
    }
    (*n_micro)++;
    free(offs), free(lp), free(ent), free(dlp), free(dent), free(x), free(xo), free(xr), free(xe), free(g), free(ge);
    free(adv), free(mask);
    return rc;
}

int hp_train_actor_grad(hp_model *actor, const hp_rows *r, int a, int b, const hp_runcfg *cfg, hp_update_stats *st,
                        hp_err *err) {
    hp_runcfg *one = hp_xmalloc(sizeof *one);
    *one = *cfg;
    one->actor.ppo_mini_batch_size = one->actor.ppo_micro_batch_size = b - a > 0 ? b - a : 1; /* loss scale 1 */
    int n_micro = 0, rc = actor_micro(actor, r, a, b, one, st, &n_micro, err);
    free(one);
    return rc;
}

typedef int (*micro_fn)(hp_model *, const hp_rows *, int, int, const hp_runcfg *, hp_update_stats *, int *, hp_err *);

/* Epochs × mini-batches × micro-batches of one model. Data-parallel (dist): this rank runs its
 * contiguous share of each mini-batch's micro-batches (the same micro-batches, with the same loss
 * scale, as one process), and the gradients are summed over the ranks before the step. */
static int update_model(hp_model *m, const hp_rows *r, const hp_runcfg *cfg, int64_t epochs, int64_t mini,
                        int64_t micro, double lr, const hp_rc_optim *opt, double clip, micro_fn fn, const hp_dist *dist,
                        hp_update_stats *st, int *n_micro, int *n_steps, double *gnorm, hp_err *err) {
    hp_model_zero_grad(m);
    for (int64_t e = 0; e < epochs; e++)
        for (int a = 0; a < r->n; a += (int)mini) {
            int b = a + (int)mini < r->n ? a + (int)mini : r->n;
            int64_t m0, m1;
            hp_dist_share((b - a + micro - 1) / micro, hp_dist_rank(dist), hp_dist_size(dist), &m0, &m1);
            for (int c = a + (int)(m0 * micro); c < b && c < a + m1 * micro; c += (int)micro) {
                int d = c + (int)micro < b ? c + (int)micro : b;
                if (fn(m, r, c, d, cfg, st, n_micro, err)) {
                    if (hp_dist_parallel(dist)) hp_dist_abort(dist, err->msg); /* the others wait in the sum */
                    return HP_FAIL;
                }
            }
            if (hp_dist_parallel(dist)) {
                size_t n;
                float *g = hp_model_grad_data(m, &n);
                hp_dist_sum_f32(dist, g, n);
            }
            *gnorm += optim_step(m, clip, lr, opt, &st->skipped_steps);
            (*n_steps)++;
        }
    return HP_OK;
}

/* The per-micro-batch sums of the statistics and their count, summed over the ranks. */
static void sum_stats(const hp_dist *dist, double *const *x, int n, int *n_micro) {
    if (!hp_dist_parallel(dist)) return;
    double v[16];
    for (int i = 0; i < n; i++) v[i] = *x[i];
    v[n] = *n_micro;
    hp_dist_sum_f64(dist, v, (size_t)n + 1);
    for (int i = 0; i < n; i++) *x[i] = v[i];
    *n_micro = (int)v[n];
}

int hp_train_update(hp_model *actor, hp_model *critic, const hp_rows *r, const hp_runcfg *cfg, int64_t step,
                    bool update_actor, const hp_dist *dist, hp_update_stats *st, hp_err *err) {
    memset(st, 0, sizeof *st);
    st->actor_lr = update_actor ? lr_at(cfg, &cfg->actor.optim, step) : 0.0;
    st->critic_lr = critic && r->K > 0 ? lr_at(cfg, &cfg->critic.optim, step) : 0.0;
    if (r->n == 0) return HP_OK;
    if (critic && r->K > 0) {
        double t0 = hp_now();
        int nm = 0;
        if (update_model(critic, r, cfg, critic_epochs(cfg), critic_mini_batch(cfg), cfg->critic.ppo_micro_batch_size,
                         st->critic_lr, &cfg->critic.optim, cfg->critic.grad_clip, critic_micro, dist, st, &nm,
                         &st->critic_steps, &st->critic_grad_norm, err))
            return hp_err_wrap(err, "critic update");
        double *const cs[] = {&st->vf_loss[0], &st->vf_loss[1], &st->vf_loss[2], &st->vf_clipfrac, &st->v_mean};
        sum_stats(dist, cs, 5, &nm);
        for (int k = 0; k < 3; k++) st->vf_loss[k] /= nm ? nm : 1;
        st->vf_clipfrac /= nm ? nm : 1;
        st->v_mean /= nm ? nm : 1;
        st->critic_grad_norm /= st->critic_steps ? st->critic_steps : 1;
        st->critic_seconds = hp_now() - t0;
    }
    if (update_actor) {
        double t0 = hp_now();
        int nm = 0;
        if (update_model(actor, r, cfg, cfg->actor.ppo_epochs, cfg->actor.ppo_mini_batch_size,
                         cfg->actor.ppo_micro_batch_size, st->actor_lr,
                         &cfg->actor.optim, cfg->actor.grad_clip, actor_micro, dist, st, &nm,
                         &st->actor_steps, &st->actor_grad_norm, err))
            return hp_err_wrap(err, "actor update");
        double *const as[] = {&st->pg_loss, &st->entropy, &st->kl, &st->clipfrac, &st->clipfrac_lower, &st->approx_kl};
        sum_stats(dist, as, 6, &nm);
        double d = nm ? nm : 1;
        st->pg_loss /= d, st->entropy /= d, st->kl /= d, st->clipfrac /= d, st->clipfrac_lower /= d;
        st->approx_kl /= d;
        st->actor_grad_norm /= st->actor_steps ? st->actor_steps : 1;
        st->actor_seconds = hp_now() - t0;
    }
    return HP_OK;
}
