/* hiper/sft_train.h — the SFT training loop (src/train/sft.c), beside the PPO loop (hiper/train.h): the
 * supervised warm start on demonstrations (hiper/sft.h) with the model engine.
 *
 * Contract:
 * - Loss: cross-entropy on response tokens only (weight 1 on the response and its closing <|im_end|>, 0
 *   on the prompt: hp_sft_tokenize), token-mean over a batch, through the model's weighted training pass.
 * - Batches: `batch` examples per optimiser step, shuffled each epoch from (seed, epoch).
 * - Optimiser: gradient-norm clipping, then AdamW (betas 0.9/0.999, eps 1e-8, `weight_decay`) at the
 *   learning rate of hp_lr_at (hiper/model.h), the schedule PPO uses: hp_sft_lr_sched.
 * - Non-finite values, the policy PPO follows too (docs/training.md): a step whose gradient norm is not
 *   finite is skipped (counted in skipped_steps, a warning names the first bad tensor; the schedule still
 *   advances); a batch whose loss is not finite stops training with an error naming the step.
 */
#ifndef HIPER_SFT_TRAIN_H
#define HIPER_SFT_TRAIN_H

#include "hiper/model.h"
#include "hiper/sft.h"

typedef struct hp_sft_cfg {
    int epochs;
    int batch;        /* examples per optimiser step */
    double lr;
    double warmup_ratio;  /* share of the steps with a linear warm-up from 0 to lr */
    double min_lr_ratio;  /* then cosine decay to lr * min_lr_ratio at the last step (1 = constant) */
    double weight_decay;
    double grad_clip;
    int max_len;      /* longest example in tokens (prompt + response) */
    uint64_t seed;
    int log_every;    /* steps; 0 = quiet */
    /* Data-parallel (hiper/dist.h; NULL = one process): every rank calls with the same examples and cfg;
     * rank r runs the forward/backward of its contiguous share of each batch's examples, scaled by the
     * whole batch's response-token count, the gradients are summed over the ranks before clipping and
     * AdamW, so every rank takes the single process's step (to float rounding) and keeps the same
     * weights. A failure inside the loop stops the whole job (hp_dist_abort). Only rank 0 logs. */
    const struct hp_dist *dist;
} hp_sft_cfg;

hp_sft_cfg hp_sft_cfg_default(void);

/* The schedule of a run of `total` optimiser steps, for hp_lr_at: a linear warm-up over the first
 * round(warmup_ratio * total) steps, then cosine decay from lr to lr * min_lr_ratio at the last step
 * (step total - 1). */
hp_lr_sched hp_sft_lr_sched(const hp_sft_cfg *cfg, int total);

typedef struct hp_sft_report {
    int steps;         /* optimiser steps, the skipped ones included */
    int skipped_steps; /* steps whose gradient norm was not finite (not applied) */
    double first_loss, last_loss; /* mean response-token cross-entropy (nats) of the first/last epoch */
    double seconds;
    int64_t tokens;
} hp_sft_report;

/* SFT: train the model on the examples (tokenised inside); report the loss of the first and last epoch. */
int hp_sft_train(hp_model *model, const hp_tok *tok, const hp_sft_set *set, const hp_sft_cfg *cfg,
                 hp_sft_report *rep, hp_err *err);
/* Mean response-token cross-entropy of the model on the examples (no update). */
int hp_sft_eval_loss(hp_model *model, const hp_tok *tok, const hp_sft_set *set, int max_len, double *loss,
                     hp_err *err);

#endif /* HIPER_SFT_TRAIN_H */
