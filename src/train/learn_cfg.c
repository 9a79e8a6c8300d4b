/* learn_cfg.c — the run configuration resolved once into what the learner reads (train_internal.h):
 * option names become enums, the actor's and the critic's updates their PPO loss configurations and
 * optimisers, the estimator the advantage module's configurations. */
#include "train_internal.h"

#include <string.h>

/* The index of name among the '|'-separated choices, or -1. */
static int choice(const char *name, const char *choices) {
    size_t n = strlen(name);
    int i = 0;
    for (const char *p = choices; *p; i++) {
        size_t len = strcspn(p, "|");
        if (len == n && !strncmp(p, name, n)) return i;
        p += len;
        if (*p == '|') p++;
    }
    return -1;
}

/* hp_estimator's names, in its order (HP_EST_TURN_GAE: HP_ROWS_TURN_GAE) */
#define ESTIMATORS "hae|gae|grpo|rloo|gigpo|" HP_ROWS_TURN_GAE

const char *hp_estimator_name(hp_estimator e) {
    static const char *const NAMES[] = {"hae", "gae", "grpo", "rloo", "gigpo", HP_ROWS_TURN_GAE};
    return (unsigned)e < sizeof NAMES / sizeof NAMES[0] ? NAMES[e] : "?";
}

static int pick(const char *key, const char *name, const char *choices, int *out, hp_err *err) {
    *out = choice(name, choices);
    return *out < 0 ? hp_fail(err, "key '%s': unknown value '%s' (%s)", key, name, choices) : HP_OK;
}

static int optim(const hp_rc_optim *o, const char *key, double grad_clip, int64_t total_steps, hp_optim_cfg *out,
                 hp_err *err) {
    int sched;
    if (pick(key, o->schedule, "constant|cosine", &sched, err)) return HP_FAIL;
    *out = (hp_optim_cfg){.lr = o->lr, .weight_decay = o->weight_decay, .beta1 = o->beta1, .beta2 = o->beta2,
                          .eps = o->eps, .grad_clip = grad_clip, .cosine = sched == 1,
                          .warmup_steps = o->warmup_steps, .total_steps = total_steps};
    return HP_OK;
}

/* verl divides each micro-batch loss by mini/micro (integer division, at least 1). */
static double accum_scale(int64_t mini, int64_t micro) {
    int64_t g = mini / micro;
    return 1.0 / (double)(g > 0 ? g : 1);
}

static int resolve_adv(const hp_runcfg *c, hp_adv_cfg *a, hp_err *err) {
    int est, mode, low, fmt;
    /* the estimators in hp_estimator's order; turn-level GAE only where a tool set it (HP_ROWS_TURN_GAE) */
    if (pick("algorithm.adv_estimator", c->algorithm.adv_estimator, ESTIMATORS, &est, err) ||
        pick("algorithm.hae.keep_penalty_mode", c->algorithm.hae.keep_penalty_mode, "normalized|fixed", &mode, err) ||
        pick("algorithm.hae.low_advantage_tokens", c->algorithm.hae.low_advantage_tokens, "action|rest", &low, err) ||
        pick("env.format", c->env.format, "hiper|think|action", &fmt, err))
        return HP_FAIL;
    a->estimator = (hp_estimator)est;
    a->heads = est == HP_EST_HAE ? (int)c->algorithm.hae.heads : est == HP_EST_GAE || est == HP_EST_TURN_GAE ? 1 : 0;
    a->spans = fmt == 0;
    a->low_adv_rest = low == 1;
    a->max_response_length = (int)c->data.max_response_length;

    hp_hae_config_default(&a->hae);
    a->hae.gamma = c->algorithm.gamma;
    a->hae.lam_turn = c->algorithm.lam;
    a->hae.lam_seg = c->algorithm.hae.lam_seg;
    a->hae.keep_penalty = c->algorithm.hae.keep_penalty;
    a->hae.keep_penalty_mode = mode == 1 ? HP_KEEP_PENALTY_FIXED : HP_KEEP_PENALTY_NORMALIZED;
    a->hae.invalid_action_penalty_coef = c->algorithm.use_invalid_action_penalty ? c->algorithm.invalid_action_penalty_coef : 0.0;
    a->hae.keep_consistency_penalty = c->algorithm.hae.keep_consistency_penalty;
    a->hae.keep_consistency_requires_both = c->algorithm.hae.keep_consistency_requires_both;
    a->hae.bootstrap_truncated = c->algorithm.hae.bootstrap_truncated;
    a->hae.norm_adv = c->algorithm.hae.norm_adv;
    a->hae.has_term = a->heads > 2;

    hp_gae_config_default(&a->gae);
    a->gae.gamma = c->algorithm.gamma;
    a->gae.lam = c->algorithm.lam;
    a->gae.norm_adv = c->algorithm.gae.norm_adv;
    a->gae.use_invalid_action_penalty = c->algorithm.use_invalid_action_penalty;
    a->gae.invalid_action_penalty_coef = c->algorithm.invalid_action_penalty_coef;

    hp_group_config_default(&a->group);
    a->group.gamma = c->algorithm.gamma;
    a->group.step_advantage_w = c->algorithm.gigpo.step_advantage_w;
    if (pick("algorithm.gigpo.mode", c->algorithm.gigpo.mode, "mean_norm|mean_std_norm", &mode, err)) return HP_FAIL;
    a->group.mode = mode == 1 ? HP_GIGPO_MEAN_STD_NORM : HP_GIGPO_MEAN_NORM;
    a->group.epsilon = c->algorithm.gigpo.epsilon;
    a->group.use_invalid_action_penalty = c->algorithm.use_invalid_action_penalty;
    a->group.invalid_action_penalty_coef = c->algorithm.invalid_action_penalty_coef;
    a->group.enable_similarity = c->algorithm.gigpo.enable_similarity;
    a->group.similarity_thresh = c->algorithm.gigpo.similarity_thresh;
    a->group.norm_adv_by_std_in_grpo = c->algorithm.norm_adv_by_std_in_grpo;
    return HP_OK;
}

static int resolve_actor(const hp_runcfg *c, hp_actor_cfg *a, hp_err *err) {
    a->loss = hp_ppo_actor_cfg_default();
    a->loss.clip_low = c->actor.clip_ratio_low >= 0 ? c->actor.clip_ratio_low : c->actor.clip_ratio;
    a->loss.clip_high = c->actor.clip_ratio_high >= 0 ? c->actor.clip_ratio_high : c->actor.clip_ratio;
    a->loss.clip_c = c->actor.clip_ratio_c;
    a->loss.entropy_coeff = c->actor.entropy_coeff;
    a->loss.use_kl = c->actor.use_kl_loss;
    a->loss.kl_coef = c->actor.kl_loss_coef;
    a->loss.scale = accum_scale(c->actor.ppo_mini_batch_size, c->actor.ppo_micro_batch_size);
    if (hp_ppo_kl_parse(c->actor.kl_loss_type, &a->loss.kl_type, err) ||
        hp_ppo_agg_parse(c->actor.loss_agg_mode, &a->loss.agg, err))
        return hp_err_wrap(err, "actor");
    a->epochs = c->actor.ppo_epochs;
    a->mini_batch = c->actor.ppo_mini_batch_size;
    a->micro_batch = c->actor.ppo_micro_batch_size;
    a->recompute_old_logp = c->actor.recompute_old_logp;
    return optim(&c->actor.optim, "actor.optim.schedule", c->actor.grad_clip, c->trainer.total_steps, &a->optim, err);
}

static int resolve_critic(const hp_runcfg *c, hp_critic_cfg *k, hp_err *err) {
    int backbone;
    if (pick("critic.backbone", c->critic.backbone, "own|reference", &backbone, err)) return HP_FAIL;
    k->head_only = backbone == 1;
    k->epochs = c->critic.ppo_epochs > 0 ? c->critic.ppo_epochs : c->actor.ppo_epochs;
    k->mini_batch = c->critic.ppo_mini_batch_size > 0 ? c->critic.ppo_mini_batch_size : c->actor.ppo_mini_batch_size;
    k->micro_batch = c->critic.ppo_micro_batch_size;
    k->loss = hp_ppo_value_cfg_default();
    k->loss.cliprange = c->critic.cliprange_value;
    k->loss.scale = accum_scale(k->mini_batch, k->micro_batch);
    k->coef[0] = 1.0;
    k->coef[1] = c->critic.high_value_coef;
    k->coef[2] = c->critic.term_value_coef;
    k->value_scale = c->critic.value_scale;
    k->calibrate_bias = c->critic.calibrate_bias;
    k->warmup = c->critic.warmup;
    return optim(&c->critic.optim, "critic.optim.schedule", c->critic.grad_clip, c->trainer.total_steps, &k->optim, err);
}

int hp_learn_cfg_resolve(const hp_runcfg *cfg, hp_learn_cfg *out, hp_err *err) {
    memset(out, 0, sizeof *out);
    if (resolve_adv(cfg, &out->adv, err) || resolve_actor(cfg, &out->actor, err) ||
        resolve_critic(cfg, &out->critic, err))
        return HP_FAIL;
    out->temperature =
        cfg->rollout.logp_at_temperature && cfg->rollout.temperature > 0 ? cfg->rollout.temperature : 1.0;
    return HP_OK;
}
