/* SFT's training loop, beside PPO's: response-only cross-entropy through the model's training pass, and
 * the optimizer step, the learning-rate schedule and the non-finite policy PPO uses (hiper/sft_train.h). */
#include "hiper/sft_train.h"

#include "hiper/dist.h"
#include "train_internal.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

hp_sft_cfg hp_sft_cfg_default(void) {
    hp_sft_cfg c = {0};
    c.epochs = 3;
    c.batch = 16;
    c.lr = 1e-3;
    c.warmup_ratio = 0.03;
    c.min_lr_ratio = 0.1;
    c.weight_decay = 0.01;
    c.grad_clip = 1.0;
    c.max_len = 2048;
    c.seed = 1;
    c.log_every = 0;
    return c;
}

typedef struct tok_set {
    hp_sft_tokens *t;
    int n;
} tok_set;

static void tok_set_free(tok_set *s) {
    for (int i = 0; i < s->n; i++) hp_sft_tokens_free(&s->t[i]);
    free(s->t);
    memset(s, 0, sizeof *s);
}

static int tokenize_all(const hp_tok *tok, const hp_sft_set *set, int max_len, tok_set *out, hp_err *err) {
    out->t = hp_xcalloc((size_t)(set->n ? set->n : 1), sizeof *out->t);
    out->n = 0;
    for (int i = 0; i < set->n; i++) {
        if (hp_sft_tokenize(tok, &set->ex[i], max_len, &out->t[i], err)) {
            tok_set_free(out);
            return hp_err_wrap(err, "SFT example %d", i);
        }
        out->n++;
    }
    return HP_OK;
}

/* One forward (and, when training, backward) over a batch of examples. Returns the mean cross-entropy
 * of the response tokens in *loss and their count in *n_tok. Gradients are those of that mean. With
 * wsum_all > 0 (a data-parallel share of a batch), the sum is divided by the whole batch's token count
 * wsum_all instead of the share's, so that the shares' losses and gradients add up to the batch's. */
static int batch_pass(hp_model *m, hp_sft_tokens *const *items, int nb, bool train, double wsum_all, double *loss,
                      int64_t *n_tok, hp_err *err) {
    int64_t total = 0;
    for (int i = 0; i < nb; i++) total += (int64_t)items[i]->ids.len;
    int32_t *ids = hp_xmalloc((size_t)total * sizeof *ids);
    int64_t *off = hp_xmalloc((size_t)(nb + 1) * sizeof *off);
    float *w = hp_xcalloc((size_t)total, sizeof *w); /* w[p]: weight of the prediction made at p */
    float *logp = hp_xcalloc((size_t)total, sizeof *logp);
    off[0] = 0;
    double wsum = 0;
    for (int i = 0; i < nb; i++) {
        const hp_sft_tokens *t = items[i];
        memcpy(ids + off[i], t->ids.data, t->ids.len * sizeof *ids);
        for (size_t p = 0; p + 1 < t->ids.len; p++) {
            w[off[i] + (int64_t)p] = t->weight[p + 1];
            wsum += t->weight[p + 1];
        }
        off[i + 1] = off[i] + (int64_t)t->ids.len;
    }
    hp_batch b = {.ids = ids, .offsets = off, .n_seq = nb};
    int rc = train ? hp_model_forward(m, &b, logp, NULL, NULL, err) : hp_model_score(m, &b, logp, NULL, NULL, err);
    if (rc == HP_OK) {
        double s = 0;
        for (int64_t p = 0; p < total; p++) s -= (double)w[p] * logp[p];
        *n_tok = (int64_t)wsum;
        if (wsum_all > 0) wsum = wsum_all;
        *loss = wsum > 0 ? s / wsum : 0;
        if (train && wsum > 0) {
            float *d = hp_xmalloc((size_t)total * sizeof *d);
            for (int64_t p = 0; p < total; p++) d[p] = (float)(-(double)w[p] / wsum);
            rc = hp_model_backward(m, &b, d, NULL, NULL, err);
            free(d);
        }
    }
    free(ids);
    free(off);
    free(w);
    free(logp);
    return rc;
}

int hp_sft_eval_loss(hp_model *model, const hp_tok *tok, const hp_sft_set *set, int max_len, double *loss,
                     hp_err *err) {
    tok_set ts;
    if (tokenize_all(tok, set, max_len, &ts, err)) return HP_FAIL;
    double s = 0;
    int64_t n = 0;
    int rc = HP_OK;
    for (int i = 0; i < ts.n && rc == HP_OK; i += 8) {
        int nb = ts.n - i < 8 ? ts.n - i : 8;
        hp_sft_tokens *items[8];
        for (int k = 0; k < nb; k++) items[k] = &ts.t[i + k];
        double l = 0;
        int64_t nt = 0;
        rc = batch_pass(model, items, nb, false, 0.0, &l, &nt, err);
        s += l * (double)nt;
        n += nt;
    }
    tok_set_free(&ts);
    *loss = n ? s / (double)n : 0;
    return rc;
}

/* This rank's contiguous share of a batch (hiper/dist.h), scaled by the whole batch's response tokens;
 * then the gradients, the loss and the token count are summed over the ranks. A failure here cannot
 * wait for an agreement (the others are in the sum): it stops the job. */
static int share_pass(hp_model *m, const hp_dist *d, hp_sft_tokens *const *items, int nb, double *loss,
                      int64_t *n_tok, hp_err *err) {
    double wsum = 0;
    for (int i = 0; i < nb; i++)
        for (size_t p = 0; p + 1 < items[i]->ids.len; p++) wsum += items[i]->weight[p + 1];
    int64_t a, z;
    hp_dist_share(nb, hp_dist_rank(d), hp_dist_size(d), &a, &z);
    double sums[2] = {0, 0};
    if (z > a) {
        int64_t nt = 0;
        if (batch_pass(m, items + a, (int)(z - a), true, wsum > 0 ? wsum : 1.0, &sums[0], &nt, err))
            hp_dist_abort(d, err->msg);
        sums[1] = (double)nt;
    }
    size_t n;
    float *g = hp_model_grad_data(m, &n);
    hp_dist_sum_f32(d, g, n);
    hp_dist_sum_f64(d, sums, 2);
    *loss = sums[0];
    *n_tok = (int64_t)sums[1];
    return HP_OK;
}

hp_lr_sched hp_sft_lr_sched(const hp_sft_cfg *cfg, int total) {
    /* the decay ends on the last step (step total - 1), the warm-up covers round(warmup_ratio * total) */
    return (hp_lr_sched){.kind = HP_LR_COSINE, .lr = cfg->lr, .warmup_steps = (int)(cfg->warmup_ratio * total + 0.5),
                         .total_steps = total - 1, .min_lr_ratio = cfg->min_lr_ratio};
}

int hp_sft_train(hp_model *model, const hp_tok *tok, const hp_sft_set *set, const hp_sft_cfg *cfg,
                 hp_sft_report *rep, hp_err *err) {
    memset(rep, 0, sizeof *rep);
    if (cfg->epochs < 1 || cfg->batch < 1 || !(cfg->lr > 0))
        return hp_fail(err, "sft: need epochs >= 1, batch >= 1 and lr > 0 (got %d, %d, %g)", cfg->epochs, cfg->batch,
                       cfg->lr);
    if (set->n == 0) return hp_fail(err, "sft: no examples");
    if (!(cfg->warmup_ratio >= 0 && cfg->warmup_ratio < 1 && cfg->min_lr_ratio >= 0 && cfg->min_lr_ratio <= 1))
        return hp_fail(err, "sft: need 0 <= warmup ratio < 1 and 0 <= min lr ratio <= 1 (got %g, %g)", cfg->warmup_ratio,
                       cfg->min_lr_ratio);
    double t0 = hp_now();
    tok_set ts;
    if (tokenize_all(tok, set, cfg->max_len, &ts, err)) return HP_FAIL;
    int *order = hp_xmalloc((size_t)ts.n * sizeof *order);
    hp_sft_tokens **items = hp_xmalloc((size_t)cfg->batch * sizeof *items);
    hp_adamw opt;
    hp_adamw_default(&opt);
    opt.weight_decay = cfg->weight_decay;
    int rc = HP_OK;
    int total_steps = cfg->epochs * ((ts.n + cfg->batch - 1) / cfg->batch);
    hp_lr_sched sched = hp_sft_lr_sched(cfg, total_steps);
    for (int ep = 0; ep < cfg->epochs && rc == HP_OK; ep++) {
        hp_rng r;
        hp_rng_seed(&r, cfg->seed, 0x736674ULL + (uint64_t)ep);
        for (int i = 0; i < ts.n; i++) order[i] = i;
        hp_rng_shuffle(&r, order, (size_t)ts.n, sizeof *order);
        double s = 0;
        int64_t n = 0;
        for (int i = 0; i < ts.n && rc == HP_OK; i += cfg->batch) {
            int nb = ts.n - i < cfg->batch ? ts.n - i : cfg->batch;
            for (int k = 0; k < nb; k++) items[k] = &ts.t[order[i + k]];
            hp_model_zero_grad(model);
            double l = 0;
            int64_t nt = 0;
            if (hp_dist_parallel(cfg->dist)) {
                rc = share_pass(model, cfg->dist, items, nb, &l, &nt, err);
            } else {
                rc = batch_pass(model, items, nb, true, 0.0, &l, &nt, err);
            }
            /* PPO's policy (docs/training.md): a non-finite loss stops (the model's forward pass already
             * refuses a non-finite log-prob, naming the tensor), a non-finite gradient skips the step */
            if (rc == HP_OK && !isfinite(l)) rc = hp_fail(err, "the loss is not finite (%g)", l);
            if (rc) {
                hp_err_wrap(err, "step %d (epoch %d)", rep->steps + 1, ep + 1);
                break;
            }
            double norm = hp_train_optim_step(model, &opt, cfg->grad_clip, hp_lr_at(&sched, rep->steps), "sft",
                                              &rep->skipped_steps);
            s += l * (double)nt;
            n += nt;
            rep->steps++;
            rep->tokens += nt;
            if (cfg->log_every > 0 && rep->steps % cfg->log_every == 0 && hp_dist_root(cfg->dist))
                fprintf(stderr, "sft: epoch %d step %d loss %.4f grad-norm %.3f\n", ep + 1, rep->steps, l, norm);
        }
        double mean = n ? s / (double)n : 0;
        if (ep == 0) rep->first_loss = mean;
        rep->last_loss = mean;
    }
    free(order);
    free(items);
    tok_set_free(&ts);
    rep->seconds = hp_now() - t0;
    return rc ? hp_err_wrap(err, "sft") : HP_OK;
}
