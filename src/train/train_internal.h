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
    /* critic.backbone = reference: the reference policy's final hidden states at every value position,
     * hidden[(val_off[i] + j) * hidden_dim ...], filled by hp_train_score; else NULL */
    float *hidden;
    int hidden_dim;
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

/* An estimator the rows know besides the run configuration's: the HiPER fork's turn-level GAE
 * (hp_adv_turn_gae: one value per turn, read at V_low's position in the HiPER format and at position 0
 * otherwise; one advantage per turn on every response token; 1 critic head). Not a training option:
 * `hiper gradvar` sets it in its own copy of a run's configuration to compare gradient variances. */
#define HP_ROWS_TURN_GAE "turn_gae"

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
    double actor_lr, critic_lr; /* the learning rates this update stepped with (the schedule at its step) */
} hp_update_stats;

/* critic.backbone = reference: the critic's value heads read the reference policy's final hidden states
 * (from the scoring pass that gives the reference log-probs) and only the heads train. */
bool hp_train_critic_head_only(const hp_runcfg *cfg);
/* The temperature the trained policy is scored at: rollout.temperature under rollout.logp_at_temperature
 * (verl), else 1. */
double hp_train_policy_temperature(const hp_runcfg *cfg);
/* update.c: old/reference log-probs and critic values for every row (ref/critic may be NULL). */
int hp_train_score(struct hp_model *actor, struct hp_model *ref, struct hp_model *critic, hp_rows *r,
                   const hp_runcfg *cfg, hp_err *err);
/* One PPO update: critic first (if any), then the actor (unless update_actor is false). dist (NULL = one
 * process): each rank runs its contiguous share of every mini-batch's micro-batches, the gradients are
 * summed over the ranks before each optimizer step and the statistics at the end; a failure inside
 * stops the whole job (hp_dist_abort). */
struct hp_dist;
int hp_train_update(struct hp_model *actor, struct hp_model *critic, const hp_rows *r, const hp_runcfg *cfg,
                    int64_t step, bool update_actor, const struct hp_dist *dist, hp_update_stats *st, hp_err *err);

/* The actor's loss over rows [a, b) as one micro-batch (the trainer's own micro-batch step, at loss scale
 * 1): forward, hp_ppo_actor_loss, backward ACCUMULATING into the actor's gradients (no optimizer step).
 * Its statistics are added to st (pg_loss, entropy, kl, ...; one micro-batch). */
int hp_train_actor_grad(struct hp_model *actor, const hp_rows *r, int a, int b, const hp_runcfg *cfg,
                        hp_update_stats *st, hp_err *err);

/* ---- data parallelism (dist_train.c; hiper/dist.h, hiper/train.h) -------------------------------- */

struct hp_dist;
struct hp_env;
struct hp_policy;
struct hp_rollout_cfg;
/* This rank's groups [*g0, *g1) of a step's n_groups (hp_dist_share). */
void hp_train_dist_groups(const struct hp_dist *d, int n_groups, int *g0, int *g1);
/* The step's rollout: this rank plays its groups (envs holds their environments) with the whole
 * batch's seeds, and every rank gets the whole rollout (the records one process plays, in its order);
 * this rank's turns are [*row0, *row1) of it. Failures are agreed (every rank fails alike). */
int hp_train_dist_rollout(const struct hp_dist *d, struct hp_env **envs, const hp_tok *tok,
                          const struct hp_policy *pol, const struct hp_rollout_cfg *cfg, struct hp_rollout *out,
                          int *row0, int *row1, hp_err *err);
/* hp_train_score of the whole batch: each rank scores rows [row0, row1) and every rank gets every
 * row's old and reference log-probs, values (and a head-only critic's hidden states). Agreed. */
int hp_train_dist_score(const struct hp_dist *d, struct hp_model *actor, struct hp_model *ref,
                        struct hp_model *critic, hp_rows *rows, const struct hp_rollout *ro, int row0, int row1,
                        const hp_tok *tok, const hp_runcfg *cfg, hp_err *err);

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
/* Whether checkpoint dir exists (*found), after repairing an interrupted swap (the previous checkpoint
 * moved back when it is whole) and removing the copies an interrupted swap left beside a complete one.
 * A missing dir whose left copy is incomplete is an error. Use hp_ckpt_check before loading it. */
int hp_ckpt_find(const char *dir, bool *found, hp_err *err);
/* Verify checkpoint dir whole before it is used: state.json (integer next_step within 0..total_steps,
 * named in the error) and every file against manifest.json. Fills *st. */
int hp_ckpt_check(const char *dir, int64_t total_steps, hp_ckpt_state *st, hp_err *err);
/* Load a checkpoint written by hp_ckpt_save: models (with optimizer state) and state. critic_head_only:
 * the critic trains its value head only (critic.backbone = reference; hp_model_freeze_backbone). */
int hp_ckpt_load(const char *dir, struct hp_model **actor, struct hp_model **critic, bool critic_head_only,
                 hp_ckpt_state *st, hp_err *err);
int hp_ckpt_state_read(const char *path, hp_ckpt_state *st, hp_err *err);

/* manifest.c: dir/manifest.json lists every file of a checkpoint directory with its size and FNV-1a 64
 * checksum; hp_ckpt_save writes it last, before the directory is swapped in. hp_ckpt_manifest_check
 * verifies the directory whole: a missing, unlisted, resized or changed file is an error naming it. */
int hp_ckpt_manifest_write(const char *dir, hp_err *err);
int hp_ckpt_manifest_check(const char *dir, hp_err *err);

/* ---- metrics (metrics.c) ------------------------------------------------------------------------ */

/* Append one line (text + "\n") and flush it to disk. */
int hp_metrics_append(const char *path, const char *line, hp_err *err);

/* ---- the run directory (rundir.c) --------------------------------------------------------------- */

/* One run per directory at a time: DIR/lock, locked with flock (non-blocking) and holding the pid;
 * a second hiper train on DIR fails at once naming the holder. *fd is -1 where DIR has no lock file and
 * cannot get one (a read-only file system, a directory this user may not write to: no run of this user
 * can write there). The lock goes with hp_run_unlock or the process. */
int hp_run_lock(const char *dir, int *fd, hp_err *err);
void hp_run_unlock(int fd);
/* Cut a JSONL file of the run (metrics.jsonl, rollouts.jsonl) back to the lines of committed work:
 * the records of the steps up to next_step (a step's record has step n for the n-th update, n >= 1),
 * the "val" lines whose "step" is below next_step, and a "val" line of step final_step (the final
 * validation, which the finished run's checkpoint includes; -1: none). Those form a prefix of the file;
 * a torn last line goes too, and a damaged or out-of-order line is an error naming its number. Cut in
 * place (truncate); a missing file is fine. *dropped: the lines cut. */
int hp_run_trim_jsonl(const char *path, int64_t next_step, int64_t final_step, int64_t *dropped, hp_err *err);
/* For the fault tests (tests/train/faults.py): when $HIPER_TEST_KILL names this point ("point" or
 * "point@step"), the process kills itself with SIGKILL right here. */
void hp_test_kill_point(const char *point, int64_t step);

#endif /* HIPER_TRAIN_INTERNAL_H */
