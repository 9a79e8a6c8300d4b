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

/* Rows [a, b) as a packed model batch (their sequences are consecutive in r->ids), scored as the policy
 * that sampled them (hp_learn_cfg.temperature). offs receives b - a + 1 offsets. */
static hp_batch rows_batch(const hp_rows *r, int a, int b, int64_t *offs, double temperature) {
    for (int i = a; i <= b; i++) offs[i - a] = r->offsets[i] - r->offsets[a];
    return (hp_batch){.ids = r->ids.data + r->offsets[a], .offsets = offs, .n_seq = b - a,
                      .mask_of = r->mask_of ? r->mask_of + r->offsets[a] : NULL, .allowed_bits = r->allowed_bits,
                      .scored = r->scored ? r->scored + r->offsets[a] : NULL, .temperature = temperature};
}

/* Index into a batch output of rows [a, ...) for response position j of row i: the position whose
 * next-token distribution produced response token j (and where the critic reads the state before it). */
static int64_t pos_index(const hp_rows *r, int a, int i, int j) {
    return r->offsets[i] - r->offsets[a] + r->n_prompt[i] + j - 1;
}

int hp_train_score(hp_model *actor, hp_model *ref, hp_model *critic, hp_rows *r, const hp_learn_cfg *lc, hp_err *err) {
    if (r->n == 0) return HP_OK;
    int64_t ntok = r->offsets[r->n], nval = r->val_off[r->n];
    bool head_only = critic && r->K > 0 && lc->critic.head_only;
    int64_t *offs = hp_xmalloc(((size_t)r->n + 1) * sizeof *offs);
    float *buf = hp_xmalloc((size_t)ntok * (size_t)(r->K > 1 ? r->K : 1) * sizeof *buf);
    float *hid = NULL;
    hp_batch b = rows_batch(r, 0, r->n, offs, lc->temperature);
    int rc = HP_OK;
    if (lc->actor.recompute_old_logp) {
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
    bool kl = ref && lc->actor.loss.use_kl;
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
                r->v_old[i] = (float)(lc->critic.value_scale * v[i]);
            free(v);
            if (rc) goto out;
        } else {
            if ((rc = hp_model_score(critic, &b, NULL, NULL, buf, err))) goto out;
            for (int i = 0; i < r->n; i++)
                for (int j = 0; j <= r->n_resp[i]; j++)
                    for (int k = 0; k < r->K; k++)
                        r->v_old[((size_t)r->val_off[i] + (size_t)j) * (size_t)r->K + (size_t)k] =
                            (float)(lc->critic.value_scale *
                                    buf[(size_t)pos_index(r, 0, i, j) * (size_t)r->K + (size_t)k]);
        }
    }
out:
    free(offs);
    free(buf);
    free(hid);
    return rc ? hp_err_wrap(err, "scoring the batch") : HP_OK;
}

/* ---- the update's micro-batches, laid out once per step --------------------------------------------- */

/* One micro-batch: rows [a, b) of the batch as the PPO losses take them, B = b - a rows × L slots,
 * row-major; slot (i - a)*L + j is response position j of row i (actor: j < n_resp[i]; critic: the state
 * before response token j, j <= n_resp[i]). Its slots are [s0, s0 + B*L) of the layout's arrays. */
typedef struct micro {
    int a, b, L;
    int64_t s0;
} micro;

/* The rows cut into one model's update, epochs × mini-batches × micro-batches (the same cut every
 * epoch: rows in rollout order, no shuffle), with the inputs of its loss laid out per slot: built once
 * per step, so a micro-batch only gathers its pass's outputs and scatters their gradients. */
typedef struct layout {
    micro *mb;
    int n_mb, n_mini;
    int *mini_first;     /* mini-batch k is micro-batches [mini_first[k], mini_first[k + 1]) */
    int64_t n_slots;
    int64_t *pos;        /* per slot: the pass position it reads (pos_index), -1 for padding */
    /* actor: per slot */
    float *old_logp, *ref_logp;
    double *adv;
    uint8_t *mask;
    /* critic: per head k and slot, at [k * n_slots + slot]; values and targets in units of value_scale */
    int64_t *vpos;       /* per slot: the value position val_off[i] + j, -1 for padding */
    float *v_old;
    double *ret;
    uint8_t *vmask;
    /* the largest micro-batch: rows, slots, pass tokens, value positions (scratch sizes) */
    int max_rows;
    int64_t max_slots, max_tokens, max_values;
} layout;

static void layout_free(layout *l) {
    free(l->mb), free(l->mini_first), free(l->pos), free(l->old_logp), free(l->ref_logp), free(l->adv), free(l->mask);
    free(l->vpos), free(l->v_old), free(l->ret), free(l->vmask);
    memset(l, 0, sizeof *l);
}

/* Cut rows [r0, r1) into mini-batches of `mini` rows and those into micro-batches of `micro_rows`;
 * critic: one slot more per row (the state after the last token). */
static void layout_cut(layout *l, const hp_rows *r, int r0, int r1, int64_t mini, int64_t micro_rows, bool critic) {
    memset(l, 0, sizeof *l);
    int n_mini = (int)((r1 - r0 + mini - 1) / mini), n_mb = 0;
    l->mb = hp_xcalloc((size_t)(r1 - r0 + 1), sizeof *l->mb);
    l->mini_first = hp_xcalloc((size_t)n_mini + 1, sizeof *l->mini_first);
    for (int a = r0, k = 0; a < r1; a += (int)mini, k++) {
        int b = a + (int)mini < r1 ? a + (int)mini : r1;
        l->mini_first[k] = n_mb;
        for (int c = a; c < b; c += (int)micro_rows) {
            micro *m = &l->mb[n_mb++];
            m->a = c;
            m->b = c + (int)micro_rows < b ? c + (int)micro_rows : b;
            m->L = critic ? 0 : 1;
            for (int i = m->a; i < m->b; i++) {
                int len = r->n_resp[i] + (critic ? 1 : 0);
                m->L = len > m->L ? len : m->L;
            }
            m->s0 = l->n_slots;
            int64_t slots = (int64_t)(m->b - m->a) * m->L;
            l->n_slots += slots;
            l->max_rows = m->b - m->a > l->max_rows ? m->b - m->a : l->max_rows;
            l->max_slots = slots > l->max_slots ? slots : l->max_slots;
            int64_t tokens = r->offsets[m->b] - r->offsets[m->a], values = r->val_off[m->b] - r->val_off[m->a];
            l->max_tokens = tokens > l->max_tokens ? tokens : l->max_tokens;
            l->max_values = values > l->max_values ? values : l->max_values;
        }
    }
    l->n_mb = n_mb;
    l->n_mini = n_mini;
    l->mini_first[n_mini] = n_mb;
    size_t ns = (size_t)l->n_slots + 1;
    l->pos = hp_xmalloc(ns * sizeof *l->pos);
    for (size_t s = 0; s < ns; s++) l->pos[s] = -1;
    for (int k = 0; k < n_mb; k++) {
        const micro *m = &l->mb[k];
        for (int i = m->a; i < m->b; i++)
            for (int j = 0; j < r->n_resp[i] + (critic ? 1 : 0); j++)
                l->pos[m->s0 + (int64_t)(i - m->a) * m->L + j] = pos_index(r, m->a, i, j);
    }
}

static void layout_actor(layout *l, const hp_rows *r, int r0, int r1, const hp_actor_cfg *ac) {
    layout_cut(l, r, r0, r1, ac->mini_batch, ac->micro_batch, false);
    size_t ns = (size_t)l->n_slots + 1;
    l->old_logp = hp_xcalloc(ns, sizeof *l->old_logp);
    l->ref_logp = hp_xcalloc(ns, sizeof *l->ref_logp);
    l->adv = hp_xcalloc(ns, sizeof *l->adv);
    l->mask = hp_xcalloc(ns, 1);
    for (int k = 0; k < l->n_mb; k++) {
        const micro *m = &l->mb[k];
        for (int i = m->a; i < m->b; i++)
            for (int j = 0; j < r->n_resp[i]; j++) {
                size_t s = (size_t)r->tok_off[i] + (size_t)j, d = (size_t)(m->s0 + (int64_t)(i - m->a) * m->L + j);
                l->old_logp[d] = r->old_logp[s], l->ref_logp[d] = r->ref_logp[s];
                l->adv[d] = r->adv[s], l->mask[d] = r->mask[s] != 0;
            }
    }
}

static void layout_critic(layout *l, const hp_rows *r, const hp_critic_cfg *cc) {
    layout_cut(l, r, 0, r->n, cc->mini_batch, cc->micro_batch, true);
    size_t ns = (size_t)l->n_slots + 1, K = (size_t)r->K;
    l->vpos = hp_xmalloc(ns * sizeof *l->vpos);
    l->v_old = hp_xcalloc(ns * K, sizeof *l->v_old);
    l->ret = hp_xcalloc(ns * K, sizeof *l->ret);
    l->vmask = hp_xcalloc(ns * K, 1);
    for (size_t s = 0; s < ns; s++) l->vpos[s] = -1;
    for (int k = 0; k < l->n_mb; k++) {
        const micro *m = &l->mb[k];
        for (int i = m->a; i < m->b; i++)
            for (int j = 0; j <= r->n_resp[i]; j++) {
                size_t d = (size_t)(m->s0 + (int64_t)(i - m->a) * m->L + j);
                l->vpos[d] = r->val_off[i] + j;
                for (size_t h = 0; h < K; h++) {
                    size_t s = ((size_t)r->val_off[i] + (size_t)j) * K + h, dh = h * (size_t)l->n_slots + d;
                    l->vmask[dh] = r->vmask[s];
                    l->v_old[dh] = (float)(r->v_old[s] / cc->value_scale);
                    l->ret[dh] = r->ret[s] / cc->value_scale;
                }
            }
    }
}

/* ---- one scratch arena per update ----------------------------------------------------------------- */

/* Every temporary of a micro-batch, carved once per update out of one block sized for the largest
 * micro-batch, and reused by every micro-batch of every epoch. */
typedef struct scratch {
    char *block;
    int64_t *offs;      /* B + 1 sequence offsets of the pass */
    float *out, *dout;  /* per pass position: actor log-prob and its gradient; critic values × K, gradients */
    float *ent, *dent;  /* per pass position: actor entropy and its gradient */
    float *x, *xe;      /* per slot: actor log-prob, entropy; critic value */
    float *g, *ge;      /* per slot: their gradients from the loss */
    float *vc, *dvc;    /* head-only critic: values and gradients per value position × K */
} scratch;

static size_t carve_size(size_t n) { return (n + 63) & ~(size_t)63; }

static void *carve(char **p, size_t bytes) {
    void *q = *p;
    *p += carve_size(bytes);
    return q;
}

/* Sized for the largest micro-batch of the actor's layout (NULL: none) and the critic's (NULL: none)
 * of K heads. */
static void scratch_alloc(scratch *s, const layout *actor, const layout *critic, int K) {
    size_t rows = 1, slots = 1, toks = 1, vals = 1, per_tok = critic && K > 1 ? (size_t)K : 1;
    for (int i = 0; i < 2; i++) {
        const layout *l = i ? critic : actor;
        if (!l) continue;
        rows = (size_t)l->max_rows + 1 > rows ? (size_t)l->max_rows + 1 : rows;
        slots = (size_t)l->max_slots + 1 > slots ? (size_t)l->max_slots + 1 : slots;
        toks = (size_t)l->max_tokens + 1 > toks ? (size_t)l->max_tokens + 1 : toks;
    }
    if (critic) vals = ((size_t)critic->max_values + 1) * (size_t)K;
    size_t sizes[] = {rows * sizeof(int64_t), toks * per_tok * sizeof(float), toks * per_tok * sizeof(float),
                      toks * sizeof(float), toks * sizeof(float), slots * sizeof(float), slots * sizeof(float),
                      slots * sizeof(float), slots * sizeof(float), vals * sizeof(float), vals * sizeof(float)};
    size_t total = 0;
    for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++) total += carve_size(sizes[i]);
    char *p = s->block = hp_xmalloc(total);
    s->offs = carve(&p, sizes[0]);
    s->out = carve(&p, sizes[1]), s->dout = carve(&p, sizes[2]);
    s->ent = carve(&p, sizes[3]), s->dent = carve(&p, sizes[4]);
    s->x = carve(&p, sizes[5]), s->xe = carve(&p, sizes[6]);
    s->g = carve(&p, sizes[7]), s->ge = carve(&p, sizes[8]);
    s->vc = carve(&p, sizes[9]), s->dvc = carve(&p, sizes[10]);
}

/* ---- the losses of one micro-batch ---------------------------------------------------------------- */

/* Critic loss of micro-batch m and its backward: a whole critic reads its values at the slots' pass
 * positions and takes their gradients back there; a head-only critic reads the rows' stored hidden
 * states at the slots' value positions. */
static int critic_micro(hp_model *critic, const hp_rows *r, const layout *l, const micro *m, const hp_learn_cfg *lc,
                        scratch *sc, hp_update_stats *st, hp_err *err) {
    int K = r->K, B = m->b - m->a, L = m->L;
    const hp_critic_cfg *cc = &lc->critic;
    int64_t v0 = r->val_off[m->a], nv = r->val_off[m->b] - v0, ns = (int64_t)B * L;
    const int64_t *pos = l->pos + m->s0, *vpos = l->vpos + m->s0;
    hp_batch bt = rows_batch(r, m->a, m->b, sc->offs, lc->temperature);
    int64_t ntok = sc->offs[B];
    const float *hid = cc->head_only ? r->hidden + (size_t)v0 * (size_t)r->hidden_dim : NULL;
    int rc;
    if (cc->head_only) {
        rc = hp_model_head_values(critic, hid, nv, sc->vc, err);
        memset(sc->dvc, 0, (size_t)(nv * K) * sizeof *sc->dvc);
    } else {
        rc = hp_model_forward(critic, &bt, NULL, NULL, sc->out, err);
        memset(sc->dout, 0, (size_t)(ntok * K) * sizeof *sc->dout);
    }
    for (int k = 0; rc == HP_OK && k < K; k++) {
        for (int64_t d = 0; d < ns; d++) /* this head's value at every slot, in units of value_scale */
            sc->x[d] = pos[d] < 0         ? 0.0f
                       : cc->head_only ? sc->vc[(vpos[d] - v0) * K + k]
                                       : sc->out[pos[d] * K + k];
        size_t h = (size_t)k * (size_t)l->n_slots + (size_t)m->s0;
        hp_ppo_value_cfg vcfg = cc->loss;
        vcfg.coef = cc->coef[k];
        hp_ppo_value_in in = {.B = B, .L = L, .v = sc->x, .v_old = l->v_old + h, .ret = l->ret + h,
                              .mask = l->vmask + h};
        hp_ppo_value_out out;
        if ((rc = hp_ppo_value_loss(&vcfg, &in, &out, sc->g, err))) break;
        st->vf_loss[k] += out.vf_loss;
        if (k == 0) st->vf_clipfrac += out.clipfrac, st->v_mean += out.v_mean;
        for (int64_t d = 0; d < ns; d++) {
            if (pos[d] < 0) continue;
            if (cc->head_only) sc->dvc[(vpos[d] - v0) * K + k] = sc->g[d];
            else sc->dout[pos[d] * K + k] = sc->g[d];
        }
    }
    if (rc == HP_OK && cc->head_only) rc = hp_model_head_backward(critic, hid, nv, sc->dvc, err);
    if (rc == HP_OK && !cc->head_only) rc = hp_model_backward(critic, &bt, NULL, NULL, sc->dout, err);
    return rc;
}

/* Actor loss of micro-batch m and its backward. */
static int actor_micro(hp_model *actor, const hp_rows *r, const layout *l, const micro *m, const hp_learn_cfg *lc,
                       scratch *sc, hp_update_stats *st, hp_err *err) {
    int B = m->b - m->a, L = m->L;
    int64_t ns = (int64_t)B * L;
    const int64_t *pos = l->pos + m->s0;
    hp_batch bt = rows_batch(r, m->a, m->b, sc->offs, lc->temperature);
    int64_t ntok = sc->offs[B];
    int rc = hp_model_forward(actor, &bt, sc->out, sc->ent, NULL, err);
    if (rc) return rc;
    for (int64_t d = 0; d < ns; d++) {
        sc->x[d] = pos[d] < 0 ? 0.0f : sc->out[pos[d]];
        sc->xe[d] = pos[d] < 0 ? 0.0f : sc->ent[pos[d]];
    }
    hp_ppo_actor_in in = {.B = B, .L = L, .logp = sc->x, .old_logp = l->old_logp + m->s0,
                          .ref_logp = l->ref_logp + m->s0, .entropy = sc->xe, .adv = l->adv + m->s0,
                          .mask = l->mask + m->s0};
    hp_ppo_actor_out out;
    if ((rc = hp_ppo_actor_loss(&lc->actor.loss, &in, &out, sc->g, sc->ge, err))) return rc;
    st->pg_loss += out.pg_loss, st->entropy += out.entropy, st->kl += out.kl;
    st->clipfrac += out.clipfrac, st->clipfrac_lower += out.clipfrac_lower, st->approx_kl += out.approx_kl;
    memset(sc->dout, 0, (size_t)ntok * sizeof *sc->dout);
    memset(sc->dent, 0, (size_t)ntok * sizeof *sc->dent);
    for (int64_t d = 0; d < ns; d++)
        if (pos[d] >= 0) sc->dout[pos[d]] = sc->g[d], sc->dent[pos[d]] = sc->ge[d];
    return hp_model_backward(actor, &bt, sc->dout, sc->dent, NULL, err);
}

int hp_train_actor_grad(hp_model *actor, const hp_rows *r, int a, int b, const hp_learn_cfg *lc, hp_update_stats *st,
                        hp_err *err) {
    hp_learn_cfg one = *lc; /* rows [a, b) as one micro-batch, at loss scale 1 */
    one.actor.mini_batch = one.actor.micro_batch = b - a > 0 ? b - a : 1;
    one.actor.loss.scale = 1.0;
    layout l;
    scratch sc;
    layout_actor(&l, r, a, b, &one.actor);
    scratch_alloc(&sc, &l, NULL, 0);
    int rc = l.n_mb > 0 ? actor_micro(actor, r, &l, &l.mb[0], &one, &sc, st, err) : HP_OK;
    free(sc.block);
    layout_free(&l);
    return rc;
}

/* ---- the update ------------------------------------------------------------------------------------ */

/* Clip, step (if the norm is finite), zero: hp_train_optim_step, SFT's step too. Returns the norm before
 * clipping. */
static double optim_step(hp_model *m, const hp_optim_cfg *opt, double lr, int *skipped) {
    hp_adamw o;
    hp_adamw_default(&o);
    o.beta1 = opt->beta1;
    o.beta2 = opt->beta2;
    o.eps = opt->eps;
    o.weight_decay = opt->weight_decay;
    return hp_train_optim_step(m, &o, opt->grad_clip, lr, hp_model_n_values(m) > 0 ? "critic" : "actor", skipped);
}

static double lr_at(const hp_optim_cfg *opt, int64_t step) {
    hp_lr_sched s = {.kind = opt->cosine ? HP_LR_COSINE : HP_LR_CONSTANT, .lr = opt->lr,
                     .warmup_steps = opt->warmup_steps, .total_steps = opt->total_steps, .min_lr_ratio = 0.0};
    return hp_lr_at(&s, step);
}

typedef int (*micro_fn)(hp_model *, const hp_rows *, const layout *, const micro *, const hp_learn_cfg *, scratch *,
                        hp_update_stats *, hp_err *);

/* Epochs × mini-batches × micro-batches of one model. Data-parallel (dist): this rank runs its
 * contiguous share of each mini-batch's micro-batches (the same micro-batches, with the same loss
 * scale, as one process), and the gradients are summed over the ranks before the step. */
static int update_model(hp_model *m, const hp_rows *r, const layout *l, const hp_learn_cfg *lc, int64_t epochs,
                        const hp_optim_cfg *opt, double lr, micro_fn fn, scratch *sc, const hp_dist *dist,
                        hp_update_stats *st, int *n_micro, int *n_steps, double *gnorm, hp_err *err) {
    hp_model_zero_grad(m);
    for (int64_t e = 0; e < epochs; e++)
        for (int k = 0; k < l->n_mini; k++) {
            int first = l->mini_first[k];
            int64_t m0, m1;
            hp_dist_share(l->mini_first[k + 1] - first, hp_dist_rank(dist), hp_dist_size(dist), &m0, &m1);
            for (int64_t j = m0; j < m1; j++) {
                (*n_micro)++;
                if (fn(m, r, l, &l->mb[first + j], lc, sc, st, err)) {
                    if (hp_dist_parallel(dist)) hp_dist_abort(dist, err->msg); /* the others wait in the sum */
                    return HP_FAIL;
                }
            }
            if (hp_dist_parallel(dist)) {
                size_t n;
                float *g = hp_model_grad_data(m, &n);
                hp_dist_sum_f32(dist, g, n);
            }
            *gnorm += optim_step(m, opt, lr, &st->skipped_steps);
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

int hp_train_update(hp_model *actor, hp_model *critic, const hp_rows *r, const hp_learn_cfg *lc, int64_t step,
                    bool update_actor, const hp_dist *dist, hp_update_stats *st, hp_err *err) {
    memset(st, 0, sizeof *st);
    bool with_critic = critic && r->K > 0;
    st->actor_lr = update_actor ? lr_at(&lc->actor.optim, step) : 0.0;
    st->critic_lr = with_critic ? lr_at(&lc->critic.optim, step) : 0.0;
    if (r->n == 0) return HP_OK;
    /* the step's layouts and its one scratch arena */
    layout la = {0}, lv = {0};
    scratch sc;
    if (with_critic) layout_critic(&lv, r, &lc->critic);
    if (update_actor) layout_actor(&la, r, 0, r->n, &lc->actor);
    scratch_alloc(&sc, update_actor ? &la : NULL, with_critic ? &lv : NULL, r->K);
    int rc = HP_OK;
    if (with_critic) {
        double t0 = hp_now();
        int nm = 0;
        rc = update_model(critic, r, &lv, lc, lc->critic.epochs, &lc->critic.optim, st->critic_lr, critic_micro, &sc,
                          dist, st, &nm, &st->critic_steps, &st->critic_grad_norm, err);
        if (rc) hp_err_wrap(err, "critic update");
        double *const cs[] = {&st->vf_loss[0], &st->vf_loss[1], &st->vf_loss[2], &st->vf_clipfrac, &st->v_mean};
        if (rc == HP_OK) sum_stats(dist, cs, 5, &nm);
        for (int k = 0; k < 3; k++) st->vf_loss[k] /= nm ? nm : 1;
        st->vf_clipfrac /= nm ? nm : 1;
        st->v_mean /= nm ? nm : 1;
        st->critic_grad_norm /= st->critic_steps ? st->critic_steps : 1;
        st->critic_seconds = hp_now() - t0;
    }
    if (rc == HP_OK && update_actor) {
        double t0 = hp_now();
        int nm = 0;
        rc = update_model(actor, r, &la, lc, lc->actor.epochs, &lc->actor.optim, st->actor_lr, actor_micro, &sc, dist,
                          st, &nm, &st->actor_steps, &st->actor_grad_norm, err);
        if (rc) hp_err_wrap(err, "actor update");
        double *const as[] = {&st->pg_loss, &st->entropy, &st->kl, &st->clipfrac, &st->clipfrac_lower, &st->approx_kl};
        if (rc == HP_OK) sum_stats(dist, as, 6, &nm);
        double d = nm ? nm : 1;
        st->pg_loss /= d, st->entropy /= d, st->kl /= d, st->clipfrac /= d, st->clipfrac_lower /= d;
        st->approx_kl /= d;
        st->actor_grad_norm /= st->actor_steps ? st->actor_steps : 1;
        st->actor_seconds = hp_now() - t0;
    }
    free(sc.block);
    layout_free(&la);
    layout_free(&lv);
    return rc;
}
