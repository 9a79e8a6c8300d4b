/* hiper/gradvar.h — how noisy the policy gradient is under each advantage estimator, measured on the same
 * trajectories (issue 13, item 4; the command is `hiper gradvar`, docs/results.md).
 *
 * Contract:
 * - Input: a fixed policy (the actor), optionally its critic (and the frozen reference policy when the
 *   critic's heads read it, critic.backbone = reference), one rollout played in the HiPER output format,
 *   and the run configuration it was played under (prompt, penalties, γ, λ, λ_H, normalisation, ...).
 * - Per estimator (hae: HiPER's HAE; turn_gae: the HiPER fork's turn-level GAE; gae: verl's token-level
 *   GAE of PPO), the trainer's own code makes the batch: rows and spans (hp_rows_build), the actor's
 *   log-probs and the critic's values (hp_train_score, once, shared by every estimator), the estimator's
 *   advantages, loss mask and normalisation over the whole rollout (hp_rows_advantages).
 * - Values: the critic's heads are mapped to what each estimator reads: an estimator with as many heads
 *   as the critic reads them as they are; otherwise head k reads the critic's head min(k, K−1) (a 1-head
 *   critic serves HAE's three heads; turn-level and token-level GAE read the low head, 0). Without a
 *   critic, or with zero_values, every value is 0 (Monte-Carlo returns, whitened/normalised as usual).
 * - The trajectories are cut into n_batches disjoint mini-batches of consecutive trajectories (their
 *   sizes differ by at most one; rollout order is the order the tasks were drawn in). On each, the
 *   gradient of the actor's loss is computed with the engine's backward through the trainer's
 *   micro-batch step (hp_train_actor_grad: token-mean over the mini-batch's loss tokens, the PPO ratio 1
 *   at this fixed policy up to float rounding) with the KL and entropy terms off: the policy-gradient
 *   estimate a mini-batch gives, −(1/N) Σ_t A_t ∇log π(a_t).
 * - Per parameter group (hp_gradvar_group_name) and in total: var = the sum over the group's parameters
 *   of the sample variance of the mini-batch gradients (the trace of their covariance, divisor
 *   n_batches − 1, Welford's update in double precision), mean_sq = |mean gradient|², and signal_sq =
 *   mean_sq − var / n_batches, the unbiased estimate of |E g|² (the mean of M draws carries var / M of
 *   noise in its squared norm; signal_sq <= 0 says the mean gradient is not told apart from noise).
 *   var / signal_sq, the relative variance, is invariant to the scale of the advantages.
 * - The actor's gradient buffers are used (zeroed before each mini-batch, left holding the last one);
 *   its weights do not change.
 */
#ifndef HIPER_GRADVAR_H
#define HIPER_GRADVAR_H

#include "hiper/base.h"
#include "hiper/runcfg.h"
#include "hiper/tok.h"

struct hp_model;
struct hp_rollout;

enum { HP_GRADVAR_EMBED, HP_GRADVAR_ATTN, HP_GRADVAR_MLP, HP_GRADVAR_NORM, HP_GRADVAR_HEAD, HP_GRADVAR_OTHER,
       HP_GRADVAR_GROUPS, /* the index of the total */ HP_GRADVAR_TOTAL = HP_GRADVAR_GROUPS };
#define HP_GRADVAR_MAX_EST 4

/* "embedding", "attention", "mlp", "norms", "lm_head", "other", "total" */
const char *hp_gradvar_group_name(int g);
/* The group of a tensor by its Hugging Face name. */
int hp_gradvar_group_of(const char *tensor_name);

typedef struct hp_gradvar_cfg {
    int n_batches;                             /* >= 2 */
    const char *estimators[HP_GRADVAR_MAX_EST]; /* "hae", "turn_gae", "gae" */
    int n_estimators;
    bool zero_values;                          /* every value 0, whatever the critic */
} hp_gradvar_cfg;

typedef struct hp_gradvar_est {
    char name[16];
    int64_t loss_tokens;                   /* tokens carrying an advantage (in the loss mask) */
    double adv_abs_mean;                   /* mean |advantage| over them (after normalisation) */
    double var[HP_GRADVAR_GROUPS + 1];     /* per group, then the total */
    double mean_sq[HP_GRADVAR_GROUPS + 1];
    double signal_sq[HP_GRADVAR_GROUPS + 1]; /* mean_sq − var / n_batches */
} hp_gradvar_est;

typedef struct hp_gradvar_result {
    int n_batches, n_trajs, n_rows;
    int min_batch_trajs, max_batch_trajs;
    int critic_heads;                      /* K of the critic the values came from (0 = none or zero_values) */
    int64_t n_params[HP_GRADVAR_GROUPS + 1];
    int n_est;
    hp_gradvar_est est[HP_GRADVAR_MAX_EST];
} hp_gradvar_result;

/* Mini-batch m of n_batches over n_trajs trajectories: trajectories [*t0, *t1). */
void hp_gradvar_batch(int n_trajs, int n_batches, int m, int *t0, int *t1);

/* The measurement described above. critic and ref may be NULL. */
int hp_gradvar_run(struct hp_model *actor, struct hp_model *critic, struct hp_model *ref, const struct hp_rollout *ro,
                   const hp_tok *tok, const hp_runcfg *cfg, const hp_gradvar_cfg *gc, hp_gradvar_result *res,
                   hp_err *err);

#endif /* HIPER_GRADVAR_H */
