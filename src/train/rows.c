/* rows.c — from a rollout to a training batch: every kept turn becomes one row (prompt + response
 * tokens); the HiPER format is re-parsed at token level (rl/spans), and the chosen estimator's
 * advantages become per-token advantages, the loss mask, and the critic's targets at its read
 * positions (hiper.md §4.8–§4.9, §5.2; baselines.md §1, §2.4). */
#include "train_internal.h"

#include "hiper/advantage.h"
#include "hiper/rollout.h"
#include "hiper/spans.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

void hp_rows_free(hp_rows *r) {
    if (r->spans) {
        for (int i = 0; i < r->n; i++) hp_spans_free(&r->spans[i]);
        free(r->spans);
    }
    hp_ids_free(&r->ids);
    free(r->offsets), free(r->n_prompt), free(r->n_resp), free(r->tok_off), free(r->val_off);
    free(r->old_logp), free(r->ref_logp), free(r->rollout_logp), free(r->adv), free(r->mask);
    free(r->v_old), free(r->ret), free(r->vmask), free(r->boundary);
    free(r->mask_of), free(r->allowed_bits), free(r->scored), free(r->hidden);
    memset(r, 0, sizeof *r);
}

int hp_rows_build(hp_rows *r, const hp_rollout *ro, const hp_tok *tok, const hp_adv_cfg *cfg, hp_err *err) {
    memset(r, 0, sizeof *r);
    int n = (int)ro->n_turns;
    r->n = n;
    r->K = cfg->heads;
    r->offsets = hp_xcalloc((size_t)n + 1, sizeof *r->offsets);
    r->tok_off = hp_xcalloc((size_t)n + 1, sizeof *r->tok_off);
    r->val_off = hp_xcalloc((size_t)n + 1, sizeof *r->val_off);
    r->n_prompt = hp_xcalloc((size_t)n + 1, sizeof *r->n_prompt);
    r->n_resp = hp_xcalloc((size_t)n + 1, sizeof *r->n_resp);
    r->boundary = hp_xcalloc((size_t)n + 1, sizeof *r->boundary);
    int32_t stop = hp_tok_im_end(tok);
    for (int i = 0; i < n; i++) {
        const hp_turn *t = &ro->turns[i];
        if (t->prompt.len == 0) return hp_fail(err, "rollout turn %d (trajectory %d): empty prompt", t->t, t->traj);
        /* Valid response tokens: through the first stop token, included. */
        size_t nr = t->response.len;
        for (size_t j = 0; j < t->response.len; j++)
            if (t->response.data[j] == stop) {
                nr = j + 1;
                break;
            }
        r->n_prompt[i] = (int32_t)t->prompt.len;
        r->n_resp[i] = (int32_t)nr;
        hp_ids_append(&r->ids, t->prompt.data, t->prompt.len);
        hp_ids_append(&r->ids, t->response.data, nr);
        r->offsets[i + 1] = (int64_t)r->ids.len;
        r->tok_off[i + 1] = r->tok_off[i] + (int64_t)nr;
        r->val_off[i + 1] = r->val_off[i] + (int64_t)nr + 1;
    }
    size_t nt = (size_t)r->tok_off[n] + 1, nv = (size_t)r->val_off[n] * (size_t)(r->K ? r->K : 1) + 1;
    r->old_logp = hp_xcalloc(nt, sizeof *r->old_logp);
    r->ref_logp = hp_xcalloc(nt, sizeof *r->ref_logp);
    r->rollout_logp = hp_xcalloc(nt, sizeof *r->rollout_logp);
    r->adv = hp_xcalloc(nt, sizeof *r->adv);
    r->mask = hp_xcalloc(nt, sizeof *r->mask);
    r->v_old = hp_xcalloc(nv, sizeof *r->v_old);
    r->ret = hp_xcalloc(nv, sizeof *r->ret);
    r->vmask = hp_xcalloc(nv, sizeof *r->vmask);
    for (int i = 0; i < n; i++)
        if (ro->turns[i].logprobs)
            memcpy(r->rollout_logp + r->tok_off[i], ro->turns[i].logprobs, (size_t)r->n_resp[i] * sizeof(float));
    r->scored = hp_xcalloc(r->ids.len + 1, 1);
    for (int i = 0; i < n; i++)
        for (int j = 0; j < r->n_resp[i]; j++) r->scored[r->offsets[i] + r->n_prompt[i] + j - 1] = 1;
    /* Constrained positions: response token j of row i was sampled from the distribution at packed
     * position offsets[i] + n_prompt[i] + j - 1. */
    int64_t n_rows_allowed = 0;
    size_t stride = 0;
    for (int i = 0; i < n; i++) {
        const hp_turn *t = &ro->turns[i];
        if (!t->mask_row || t->n_allowed == 0) continue;
        if (stride && (size_t)t->allowed_stride != stride)
            return hp_fail(err, "rollout turn %d: allowed-token rows of %d bytes, others of %zu", i, t->allowed_stride, stride);
        stride = (size_t)t->allowed_stride;
        n_rows_allowed += t->n_allowed;
    }
    if (n_rows_allowed > 0) {
        r->mask_of = hp_xmalloc((size_t)r->ids.len * sizeof *r->mask_of);
        for (size_t j = 0; j < r->ids.len; j++) r->mask_of[j] = -1;
        r->allowed_bits = hp_xmalloc((size_t)n_rows_allowed * stride);
        int64_t base = 0;
        for (int i = 0; i < n; i++) {
            const hp_turn *t = &ro->turns[i];
            if (!t->mask_row || t->n_allowed == 0) continue;
            memcpy(r->allowed_bits + (size_t)base * stride, t->allowed, (size_t)t->n_allowed * stride);
            for (int j = 0; j < r->n_resp[i]; j++)
                if (t->mask_row[j] >= 0) r->mask_of[r->offsets[i] + r->n_prompt[i] + j - 1] = base + t->mask_row[j];
            base += t->n_allowed;
        }
    }
    if (!cfg->spans) return HP_OK;
    hp_spans *sp = hp_xcalloc((size_t)n + 1, sizeof *sp);
    r->spans = sp;
    for (int i = 0; i < n; i++) {
        const hp_turn *t = &ro->turns[i];
        if (hp_spans_parse(t->response.data, r->n_resp[i], hp_tok_bytes_fn, tok, &sp[i], err))
            return hp_err_wrap(err, "trajectory %d turn %d", t->traj, t->t);
    }
    return HP_OK;
}

/* Running mean and variance (Welford) for the metrics. */
typedef struct moments {
    double n, mean, m2;
} moments;

static void moments_add(moments *m, double x) {
    m->n += 1;
    double d = x - m->mean;
    m->mean += d / m->n;
    m->m2 += d * (x - m->mean);
}

static double moments_std(const moments *m) { return m->n > 0 ? sqrt(m->m2 / m->n) : 0.0; }

/* Explained variance and target std of every head, over the slots that have a target. */
static void critic_health(const hp_rows *r, hp_adv_stats *st) {
    for (int k = 0; k < r->K && k < 3; k++) {
        moments ret = {0}, res = {0};
        for (int i = 0; i < r->n; i++)
            for (int j = 0; j <= r->n_resp[i]; j++) {
                size_t s = ((size_t)r->val_off[i] + (size_t)j) * (size_t)r->K + (size_t)k;
                if (!r->vmask[s]) continue;
                moments_add(&ret, r->ret[s]);
                moments_add(&res, r->ret[s] - r->v_old[s]);
            }
        double var = ret.n > 0 ? ret.m2 / ret.n : 0.0;
        st->ret_std[k] = moments_std(&ret);
        st->explained_var[k] = var > 1e-12 ? 1.0 - (res.m2 / res.n) / var : 0.0;
    }
}

/* Value of head k at response position j of row i, and the slot for its target. */
static size_t vslot(const hp_rows *r, int i, int j, int k) { return ((size_t)r->val_off[i] + (size_t)j) * (size_t)r->K + (size_t)k; }

static void fill_turn(hp_adv_turn *a, const hp_turn *t, const hp_rows *r, int i) {
    a->traj = t->traj;
    a->group = t->group;
    a->turn = t->t;
    a->reward = t->reward;
    a->done = t->done;
    a->valid = t->valid;
    a->empty_response = r->n_resp[i] == 0;
    a->obs = t->anchor_obs;
}

static int adv_hae(hp_rows *r, const hp_rollout *ro, const hp_adv_cfg *cfg, hp_adv_stats *st, hp_err *err) {
    const hp_spans *sp = r->spans;
    int n = r->n;
    hp_adv_turn *in = hp_xcalloc((size_t)n + 1, sizeof *in);
    hp_hae_out *out = hp_xcalloc((size_t)n + 1, sizeof *out);
    for (int i = 0; i < n; i++) {
        fill_turn(&in[i], &ro->turns[i], r, i);
        in[i].switch_word = sp[i].has_switch ? sp[i].switch_word : NULL;
        in[i].subgoal = sp[i].has_subgoal ? sp[i].subgoal_key : NULL;
        in[i].v_low = r->v_old[vslot(r, i, sp[i].v_low_pos, 0)];
        in[i].v_high = r->v_old[vslot(r, i, sp[i].v_high_pos, 1)];
        in[i].v_term = r->K > 2 ? r->v_old[vslot(r, i, sp[i].v_term_pos, 2)] : 0.0;
    }
    hp_hae_config hc = cfg->hae;
    /* The advantages before the batch normalisation, for the metrics (HAE is cheap next to a model pass). */
    hp_hae_config raw_cfg = hc;
    raw_cfg.norm_adv = false;
    int rc = hp_adv_hae(in, (size_t)n, &raw_cfg, out, err);
    if (rc == HP_OK) {
        moments m[3] = {{0}};
        for (int i = 0; i < n; i++) {
            if (r->n_resp[i] > 0) moments_add(&m[0], out[i].adv_low);
            if (out[i].boundary && in[i].subgoal) moments_add(&m[1], out[i].adv_high);
            if (hc.has_term && in[i].switch_word) moments_add(&m[2], out[i].adv_term);
        }
        for (int k = 0; k < 3; k++) st->adv_raw_mean[k] = m[k].mean, st->adv_raw_std[k] = moments_std(&m[k]);
        rc = hp_adv_hae(in, (size_t)n, &hc, out, err);
    }
    if (rc == HP_OK) {
        int n_after_first = 0, n_switch = 0, n_bound = 0, n_high = 0;
        for (int i = 0; i < n; i++) {
            r->boundary[i] = out[i].boundary;
            n_bound += out[i].boundary;
            if (ro->turns[i].t > 0) n_after_first++, n_switch += out[i].boundary;
            if (r->n_resp[i] == 0) continue;
            hp_spans_assign(&sp[i], out[i].boundary, hc.has_term, out[i].adv_low, out[i].adv_high,
                            out[i].adv_term, r->adv + r->tok_off[i], r->mask + r->tok_off[i]);
            if (cfg->low_adv_rest)
                hp_spans_assign_rest(&sp[i], out[i].adv_low, r->adv + r->tok_off[i], r->mask + r->tok_off[i]);
            size_t s = vslot(r, i, sp[i].v_low_pos, 0);
            r->ret[s] = out[i].ret_low, r->vmask[s] = 1;
            st->ret_low_mean += out[i].ret_low / n;
            if (out[i].boundary) {
                s = vslot(r, i, sp[i].v_high_pos, 1);
                r->ret[s] = out[i].ret_high, r->vmask[s] = 1;
                st->ret_high_mean += out[i].ret_high, n_high++;
            }
            if (hc.has_term) {
                s = vslot(r, i, sp[i].v_term_pos, 2);
                r->ret[s] = out[i].ret_term, r->vmask[s] = 1;
                st->ret_term_mean += out[i].ret_term / n;
            }
        }
        if (n_high) st->ret_high_mean /= n_high;
        st->switch_rate = n_after_first ? (double)n_switch / n_after_first : 0.0;
        st->mean_segment = n_bound ? (double)n / n_bound : 0.0;
    } else {
        hp_err_wrap(err, "HAE");
    }
    free(in);
    free(out);
    return rc;
}

/* PPO: each row is an episode of its response tokens with the trajectory's return (less the invalid-
 * action penalty) as the reward of the last one (episode reward manager), token-level GAE, whitening
 * over the batch (baselines.md §2.4). */
static int adv_gae(hp_rows *r, const hp_rollout *ro, const hp_adv_cfg *cfg, hp_adv_stats *st, hp_err *err) {
    int Lmax = cfg->max_response_length;
    for (int i = 0; i < r->n; i++) {
        const hp_turn *t = &ro->turns[i];
        int nr = r->n_resp[i];
        if (nr == 0) continue;
        int L = nr < Lmax ? nr + 1 : nr; /* the post-EOS slot exists only below the length cap */
        float *rw = hp_xcalloc((size_t)L, sizeof *rw), *v = hp_xcalloc((size_t)L, sizeof *v);
        double *a = hp_xcalloc((size_t)L, sizeof *a), *ret = hp_xcalloc((size_t)L, sizeof *ret);
        double reward = ro->trajs[t->traj].ret;
        if (cfg->gae.use_invalid_action_penalty && !t->valid) reward -= cfg->gae.invalid_action_penalty_coef;
        rw[nr - 1] = (float)reward;
        for (int j = 0; j < L; j++) v[j] = r->v_old[vslot(r, i, j, 0)];
        hp_adv_gae_tokens(rw, v, L, nr, cfg->gae.gamma, cfg->gae.lam, a, ret);
        for (int j = 0; j < nr; j++) r->adv[r->tok_off[i] + j] = a[j], r->mask[r->tok_off[i] + j] = 1;
        for (int j = 0; j < L; j++) {
            size_t s = vslot(r, i, j, 0);
            r->ret[s] = ret[j], r->vmask[s] = 1;
        }
        st->ret_low_mean += ret[0] / r->n;
        free(rw), free(v), free(a), free(ret);
    }
    size_t nt = (size_t)r->tok_off[r->n];
    moments m = {0};
    for (size_t j = 0; j < nt; j++)
        if (r->mask[j]) moments_add(&m, r->adv[j]);
    st->adv_raw_mean[0] = m.mean, st->adv_raw_std[0] = moments_std(&m);
    if (cfg->gae.norm_adv && nt >= 2 && hp_adv_masked_whiten(r->adv, r->mask, nt, err))
        return hp_err_wrap(err, "GAE whitening");
    return HP_OK;
}

/* Turn-level GAE (the HiPER fork's turn_gae; HP_ROWS_TURN_GAE, see train_internal.h): one value per turn,
 * read where HAE reads V_low in the HiPER format (position 0 otherwise), one advantage per turn on every
 * response token, the turn's return as the target at the read position. */
static int adv_turn_gae(hp_rows *r, const hp_rollout *ro, const hp_adv_cfg *cfg, hp_adv_stats *st, hp_err *err) {
    int n = r->n;
    const hp_spans *sp = r->spans;
    hp_adv_turn *in = hp_xcalloc((size_t)n + 1, sizeof *in);
    double *a = hp_xcalloc((size_t)n + 1, sizeof *a), *ret = hp_xcalloc((size_t)n + 1, sizeof *ret);
    for (int i = 0; i < n; i++) {
        fill_turn(&in[i], &ro->turns[i], r, i);
        in[i].v_low = r->v_old[vslot(r, i, sp ? sp[i].v_low_pos : 0, 0)];
    }
    hp_gae_config gc = cfg->gae;
    /* the raw advantages for the metrics first, then the (whitened) ones the loss reads */
    gc.norm_adv = false;
    int rc = hp_adv_turn_gae(in, (size_t)n, &gc, a, ret, err);
    if (rc == HP_OK) {
        moments m = {0};
        for (int i = 0; i < n; i++)
            if (r->n_resp[i] > 0) moments_add(&m, a[i]);
        st->adv_raw_mean[0] = m.mean, st->adv_raw_std[0] = moments_std(&m);
        gc.norm_adv = cfg->gae.norm_adv;
        if (gc.norm_adv) rc = hp_adv_turn_gae(in, (size_t)n, &gc, a, ret, err);
    }
    if (rc == HP_OK) {
        for (int i = 0; i < n; i++) {
            for (int j = 0; j < r->n_resp[i]; j++) r->adv[r->tok_off[i] + j] = a[i], r->mask[r->tok_off[i] + j] = 1;
            if (r->n_resp[i] == 0) continue;
            size_t s = vslot(r, i, sp ? sp[i].v_low_pos : 0, 0);
            r->ret[s] = ret[i], r->vmask[s] = 1;
            st->ret_low_mean += ret[i] / n;
        }
    } else {
        hp_err_wrap(err, "turn-level GAE");
    }
    free(in), free(a), free(ret);
    return rc;
}

/* GRPO, RLOO, GiGPO: one scalar per row on every response token. */
static int adv_group(hp_rows *r, const hp_rollout *ro, const hp_adv_cfg *cfg, hp_adv_stats *st, hp_err *err) {
    int n = r->n;
    hp_adv_turn *in = hp_xcalloc((size_t)n + 1, sizeof *in);
    double *a = hp_xcalloc((size_t)n + 1, sizeof *a);
    for (int i = 0; i < n; i++) fill_turn(&in[i], &ro->turns[i], r, i);
    int rc;
    if (cfg->estimator == HP_EST_GRPO) rc = hp_adv_grpo(in, (size_t)n, &cfg->group, a, err);
    else if (cfg->estimator == HP_EST_RLOO) rc = hp_adv_rloo(in, (size_t)n, &cfg->group, a, err);
    else {
        hp_gigpo_out *go = hp_xcalloc((size_t)n + 1, sizeof *go);
        rc = hp_adv_gigpo(in, (size_t)n, &cfg->group, go, err);
        for (int i = 0; i < n; i++) a[i] = go[i].adv;
        free(go);
    }
    if (rc == HP_OK) {
        moments m = {0};
        for (int i = 0; i < n; i++) {
            if (r->n_resp[i] > 0) moments_add(&m, a[i]);
            for (int j = 0; j < r->n_resp[i]; j++) r->adv[r->tok_off[i] + j] = a[i], r->mask[r->tok_off[i] + j] = 1;
        }
        st->adv_raw_mean[0] = m.mean, st->adv_raw_std[0] = moments_std(&m);
    } else
        hp_err_wrap(err, "%s", hp_estimator_name(cfg->estimator));
    free(in);
    free(a);
    return rc;
}

int hp_rows_advantages(hp_rows *r, const hp_rollout *ro, const hp_adv_cfg *cfg, hp_adv_stats *st, hp_err *err) {
    memset(st, 0, sizeof *st);
    int rc;
    switch (cfg->estimator) {
    case HP_EST_HAE:
        if (!r->spans) return hp_fail(err, "algorithm.adv_estimator=hae needs env.format=hiper");
        rc = adv_hae(r, ro, cfg, st, err);
        break;
    case HP_EST_GAE: rc = adv_gae(r, ro, cfg, st, err); break;
    case HP_EST_TURN_GAE: rc = adv_turn_gae(r, ro, cfg, st, err); break;
    default: rc = adv_group(r, ro, cfg, st, err); break;
    }
    if (rc) return HP_FAIL;
    critic_health(r, st);
    size_t nt = (size_t)r->tok_off[r->n];
    double s = 0, sa = 0;
    int64_t m = 0;
    for (size_t j = 0; j < nt; j++)
        if (r->mask[j]) s += r->adv[j], sa += fabs(r->adv[j]), m++;
    st->loss_tokens = m;
    st->adv_mean = m ? s / m : 0.0;
    st->adv_abs_mean = m ? sa / m : 0.0;
    return HP_OK;
}

void hp_rows_shift_values(hp_rows *r, const double *shift) {
    for (int i = 0; i < r->n; i++)
        for (int j = 0; j <= r->n_resp[i]; j++)
            for (int k = 0; k < r->K && k < 3; k++) {
                size_t s = ((size_t)r->val_off[i] + (size_t)j) * (size_t)r->K + (size_t)k;
                r->v_old[s] = (float)(r->v_old[s] + shift[k]);
            }
}
