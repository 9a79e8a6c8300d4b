/* train_internal.h — what the trainer's files share: the training batch ("rows", one per kept turn)
 * and the phases that fill and consume it. Kept free of model.h and spans.h so that each .c file
 * includes only the module headers it needs. */
#ifndef HIPER_TRAIN_INTERNAL_H
#define HIPER_TRAIN_INTERNAL_H

#include "hiper/advantage.h"
#include "hiper/base.h"
#include "hiper/ppo.h"
#include "hiper/runcfg.h"
#include "hiper/tok.h"

struct hp_model;
struct hp_rollout;
struct hp_spans;
struct hp_prompt_cfg;

/* ---- the run configuration, resolved once (learn_cfg.c) ------------------------------------------ */

/* The run configuration (hiper/runcfg.h) keeps the option sets as the names a file gives; the learner
 * reads them resolved into enums and into the module configurations below, once per run, so nothing
 * compares option strings while training. */

/* algorithm.adv_estimator; HP_EST_TURN_GAE is not a training option (HP_ROWS_TURN_GAE below). */
typedef enum hp_estimator { HP_EST_HAE, HP_EST_GAE, HP_EST_GRPO, HP_EST_RLOO, HP_EST_GIGPO, HP_EST_TURN_GAE } hp_estimator;

/* What rows.c reads: the estimator and its settings, in the advantage module's configurations. */
typedef struct hp_adv_cfg {
    hp_estimator estimator;
    int heads;                /* critic heads it reads: hae 3 (or 2), gae and turn-level GAE 1, group 0 */
    bool spans;               /* env.format = hiper: every row's <switch>/<subgoal>/<action> spans are parsed */
    bool low_adv_rest;        /* algorithm.hae.low_advantage_tokens = rest */
    int max_response_length;  /* data.max_response_length: token-level GAE's post-EOS slot exists below it */
    hp_hae_config hae;        /* invalid_action_penalty_coef is 0 without algorithm.use_invalid_action_penalty */
    hp_gae_config gae;        /* token-level GAE and turn-level GAE */
    hp_group_config group;    /* GRPO, RLOO, GiGPO */
} hp_adv_cfg;

/* One model's optimiser ({actor,critic}.optim.*, .grad_clip): AdamW and the learning rate of a
 * training step (model.h's hp_adamw and hp_lr_sched). */
typedef struct hp_optim_cfg {
    double lr, weight_decay, beta1, beta2, eps;
    double grad_clip;         /* 0 = off */
    bool cosine;              /* schedule: cosine to 0 at total_steps after the warm-up; else constant */
    int64_t warmup_steps, total_steps;
} hp_optim_cfg;

/* The actor's update: epochs × mini-batches of mini_batch rows, each run as micro-batches of micro_batch
 * rows (gradient accumulation), then one optimiser step. */
typedef struct hp_actor_cfg {
    hp_ppo_actor_cfg loss;    /* .scale = 1 / (mini_batch / micro_batch), verl's accumulation factor */
    int64_t epochs, mini_batch, micro_batch;
    hp_optim_cfg optim;
    bool recompute_old_logp;  /* false: the rollout's log-probs are the old policy's */
} hp_actor_cfg;

/* The critic's update, laid out as the actor's (its epochs and mini-batch are the actor's where its
 * keys say 0). */
typedef struct hp_critic_cfg {
    hp_ppo_value_cfg loss;    /* .coef is set per head from coef[] */
    double coef[3];           /* loss weight of the heads low, high, term */
    double value_scale;       /* the critic predicts values / value_scale */
    bool head_only;           /* critic.backbone = reference: only the value heads train, on the
                               * reference policy's hidden states */
    bool calibrate_bias;
    int64_t warmup;           /* steps training the critic alone */
    int64_t epochs, mini_batch, micro_batch;
    hp_optim_cfg optim;
} hp_critic_cfg;

/* Everything the learner reads: rows and advantages (rows.c), scores and updates (update.c). */
typedef struct hp_learn_cfg {
    hp_adv_cfg adv;
    hp_actor_cfg actor;
    hp_critic_cfg critic;
    double temperature;       /* the policy scored and trained is softmax(logits / temperature): rollout.
                               * temperature under rollout.logp_at_temperature (verl), else 1 */
} hp_learn_cfg;

const char *hp_estimator_name(hp_estimator e); /* "hae", ... */
/* Resolve a validated run configuration (an unknown option name is an error naming its key). */
int hp_learn_cfg_resolve(const hp_runcfg *cfg, hp_learn_cfg *out, hp_err *err);

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
    struct hp_spans *spans; /* [n]: every row's spans in the HiPER format (hiper/spans.h), else NULL */
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
int hp_rows_build(hp_rows *r, const struct hp_rollout *ro, const hp_tok *tok, const hp_adv_cfg *cfg, hp_err *err);
int hp_rows_advantages(hp_rows *r, const struct hp_rollout *ro, const hp_adv_cfg *cfg, hp_adv_stats *st,
                       hp_err *err);
void hp_rows_free(hp_rows *r);
/* Add shift[k] to every old value of head k (after moving the critic's bias by the same amount). */
void hp_rows_shift_values(hp_rows *r, const double *shift);

/* Metrics of one PPO update. */
typedef struct hp_update_stats {
    double pg_loss, entropy, kl, clipfrac, clipfrac_lower, approx_kl, actor_grad_norm;
    double vf_loss[3], vf_clipfrac, critic_grad_norm, v_mean;
    int actor_steps, critic_steps, skipped_steps;
    double actor_seconds, critic_seconds;
    double actor_lr, critic_lr; /* the learning rates this update stepped with (the schedule at its step) */
} hp_update_stats;

/* optstep.c: the optimizer step of PPO and SFT alike: clip the gradient norm to clip; if the norm is
 * finite, one AdamW step at lr; if not, no step: *skipped + 1 and a warning on stderr naming `what`
 * ("actor", "critic", "sft") and the first tensor that is not finite. The gradients are zeroed either
 * way. Returns the norm before clipping. (A non-finite loss is the caller's to stop on.) */
struct hp_adamw;
double hp_train_optim_step(struct hp_model *m, const struct hp_adamw *o, double clip, double lr, const char *what,
                           int *skipped);

/* update.c: old/reference log-probs and critic values for every row (ref/critic may be NULL); a head-only
 * critic (hp_critic_cfg.head_only) reads the reference policy's final hidden states, which the same pass
 * of the reference gives. */
int hp_train_score(struct hp_model *actor, struct hp_model *ref, struct hp_model *critic, hp_rows *r,
                   const hp_learn_cfg *cfg, hp_err *err);
/* One PPO update: critic first (if any), then the actor (unless update_actor is false). Each model's
 * micro-batches are laid out once, as the PPO losses read them (B rows × L slots per micro-batch, the
 * rows' inputs in place), and every micro-batch's temporaries come from one scratch arena allocated
 * for the update. dist (NULL = one process): each rank runs its contiguous share of every mini-batch's
 * micro-batches, the gradients are summed over the ranks before each optimizer step and the statistics
 * at the end; a failure inside stops the whole job (hp_dist_abort). */
struct hp_dist;
int hp_train_update(struct hp_model *actor, struct hp_model *critic, const hp_rows *r, const hp_learn_cfg *cfg,
                    int64_t step, bool update_actor, const struct hp_dist *dist, hp_update_stats *st, hp_err *err);

/* The actor's loss over rows [a, b) as one micro-batch (the trainer's own micro-batch step, at loss scale
 * 1): forward, hp_ppo_actor_loss, backward ACCUMULATING into the actor's gradients (no optimizer step).
 * Its statistics are added to st (pg_loss, entropy, kl, ...; one micro-batch). */
int hp_train_actor_grad(struct hp_model *actor, const hp_rows *r, int a, int b, const hp_learn_cfg *cfg,
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
                        const hp_tok *tok, const hp_learn_cfg *cfg, hp_err *err);

/* ---- checkpoints (ckpt.c) ----------------------------------------------------------------------- */

/* What state.json holds besides the models. */
typedef struct hp_ckpt_state {
    int64_t next_step;   /* the first training step still to run */
    double best_val;     /* best validation success so far (-1 = none) */
    int64_t best_step;
} hp_ckpt_state;

/* What a checkpoint holds besides the models and the loop state. */
typedef struct hp_ckpt_files {
    const char *tokenizer_dir;           /* copied into each model directory */
    const struct hp_prompt_cfg *prompt;  /* actor/agent.json: so `hiper eval --model DIR/actor` prompts as
                                          * training did */
    const char *env_kind;
    const char *actor_base, *critic_base; /* LoRA: the models the adapters sit on (their adapter_config.json) */
} hp_ckpt_files;

/* Write dir (atomically: dir.tmp, then swapped in) with actor/ (and its agent.json), critic/ (if any), their
 * optimizer states and state.json. A model with LoRA adapters (hp_model_lora) is saved merged as NAME/,
 * the Hugging Face directory every reader loads, and its adapters in PEFT's form as NAME_lora/
 * (hp_model_save_lora), which a resume loads back onto the base: merged weights cannot be split back. */
int hp_ckpt_save(const char *dir, struct hp_model *actor, struct hp_model *critic, const hp_ckpt_files *files,
                 const hp_ckpt_state *st, hp_err *err);
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
/* The same for LoRA models: actor and critic (NULL: none) are built as the run starts them (the base, a
 * value head, hp_model_enable_lora with the run's settings); their adapters (NAME_lora/) and optimizer
 * states are read into them. */
int hp_ckpt_load_lora(const char *dir, struct hp_model *actor, struct hp_model *critic, hp_ckpt_state *st,
                      hp_err *err);
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
