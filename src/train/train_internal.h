/* train_internal.h — what the trainer's files share: the training batch ("rows", one per kept turn)
 * and the phases that fill and consume it. Kept free of model.h and spans.h so that each .c file
 * includes only the module headers it needs. */
#ifndef HIPER_TRAIN_INTERNAL_H
#define HIPER_TRAIN_INTERNAL_H

#include "hiper/base.h"
#include "hiper/runcfg.h"
#include "hiper/tok.h"

struct hp_model;
struct hp_rollout;
struct hp_prompt_cfg;

/* One training batch. Row i is turn i of the rollout: its sequence is prompt + response, laid end to
 * end with the others in ids (offsets[i] .. offsets[i+1]). Per response token arrays are indexed by
 * tok_off[i] + j (j < n_resp[i]); per value position arrays by (val_off[i] + j)*K + k, j <= n_resp[i]
 * (position j = the state before response token j; j = n_resp is the state after the last token). */
typedef struct hp_rows {
    int n;
    int K; /* critic heads (0 = no critic) */
    hp_ids ids;
    int64_t *offsets; /* n + 1 */
    int32_t *n_prompt, *n_resp;
    int64_t *tok_off, *val_off; /* n + 1 each */
    /* per response token */
    float *old_logp, *ref_logp, *rollout_logp;
    double *adv;
    uint8_t *mask;
    /* per value position × head */
    float *v_old;
    double *ret;
    uint8_t *vmask;
    /* constrained actions (rows of a rollout sampled under hp_action_filter), else NULL: per packed token
     * the row of allowed_bits restricting the distribution at that position (model.h hp_batch) */
    int64_t *mask_of;
    uint8_t *allowed_bits;
    /* per packed token: 1 where a response token's log-prob is read (model.h hp_batch.scored) */
    uint8_t *scored;
    /* per row */
    bool *boundary;
    void *spans; /* hp_spans[n] for the HiPER format (rows.c), else NULL */
} hp_rows;

/* Advantage statistics for the metrics. */
typedef struct hp_adv_stats {
    double adv_mean, adv_abs_mean;
    double switch_rate;     /* boundary turns after the first / turns after the first (HiPER) */
    double mean_segment;    /* turns per segment (HiPER) */
    double ret_low_mean, ret_high_mean, ret_term_mean;
    int64_t loss_tokens;    /* tokens in the loss mask */
    /* Health of each critic head k (hae: low, high, term; gae: one head): the explained variance
     * 1 − Var(target − V)/Var(target) over the head's target slots, and the targets' std. */
    double explained_var[3], ret_std[3];
    /* Advantages before the batch normalisation, per head (group estimators: head 0, per row). */
    double adv_raw_mean[3], adv_raw_std[3];
} hp_adv_stats;

/* rows.c: tokens and spans of every turn; then advantages and value targets (needs v_old). */
int hp_rows_build(hp_rows *r, const struct hp_rollout *ro, const hp_tok *tok, const hp_runcfg *cfg, hp_err *err);
int hp_rows_advantages(hp_rows *r, const struct hp_rollout *ro, const hp_runcfg *cfg, hp_adv_stats *st,
                       hp_err *err);
void hp_rows_free(hp_rows *r);
/* Add shift[k] to every old value of head k (after moving the critic's bias by the same amount). */
void hp_rows_shift_values(hp_rows *r, const double *shift);
/* Critic heads an estimator needs: hae 3 (or 2), gae 1, group estimators 0. */
int hp_rows_heads(const hp_runcfg *cfg);

/* Metrics of one PPO update. */
typedef struct hp_update_stats {
    double pg_loss, entropy, kl, clipfrac, clipfrac_lower, approx_kl, actor_grad_norm;
    double vf_loss[3], vf_clipfrac, critic_grad_norm, v_mean;
    int actor_steps, critic_steps, skipped_steps;
    double actor_seconds, critic_seconds;
} hp_update_stats;

/* update.c: old/reference log-probs and critic values for every row (ref/critic may be NULL). */
int hp_train_score(struct hp_model *actor, struct hp_model *ref, struct hp_model *critic, hp_rows *r,
                   const hp_runcfg *cfg, hp_err *err);
/* One PPO update: critic first (if any), then the actor (unless update_actor is false). */
int hp_train_update(struct hp_model *actor, struct hp_model *critic, const hp_rows *r, const hp_runcfg *cfg,
                    int64_t step, bool update_actor, hp_update_stats *st, hp_err *err);


/* ---- checkpoints (ckpt.c) ----------------------------------------------------------------------- */

/* What state.json holds besides the models. */
typedef struct hp_ckpt_state {
    int64_t next_step;   /* the first training step still to run */
    double best_val;     /* best validation success so far (-1 = none) */
    int64_t best_step;
} hp_ckpt_state;

/* Write dir (atomically: dir.tmp, then swapped in) with actor/ (and its agent.json: the prompt
 * settings, so that `hiper eval --model dir/actor` prompts as training did), critic/ (if any), their
 * optimizer states and state.json. */
int hp_ckpt_save(const char *dir, struct hp_model *actor, struct hp_model *critic, const char *tokenizer_dir,
                 const struct hp_prompt_cfg *prompt, const char *env_kind, const hp_ckpt_state *st, hp_err *err);
/* Find the latest complete checkpoint directory (repairing an interrupted swap); NULL if none. */
char *hp_ckpt_find(const char *dir, hp_err *err);
/* Load a checkpoint written by hp_ckpt_save: models (with optimizer state) and state. */
int hp_ckpt_load(const char *dir, struct hp_model **actor, struct hp_model **critic, hp_ckpt_state *st,
                 hp_err *err);
int hp_ckpt_state_read(const char *path, hp_ckpt_state *st, hp_err *err);

/* ---- metrics (metrics.c) ------------------------------------------------------------------------ */

/* Keep only the lines of a JSONL metrics file whose "step" is below next_step (atomically). */
int hp_metrics_truncate(const char *path, int64_t next_step, hp_err *err);
/* Append one line (text + "\n") and flush it to disk. */
int hp_metrics_append(const char *path, const char *line, hp_err *err);

#endif /* HIPER_TRAIN_INTERNAL_H */
