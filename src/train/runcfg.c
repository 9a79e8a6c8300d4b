/* runcfg.c — run configuration: key table, defaults per estimator/environment, strict JSON loading,
 * key=value overrides, validation and serialisation (see hiper/runcfg.h). */
#include "hiper/runcfg.h"

#include "hiper/env.h"
#include "hiper/suggest.h"

#include <cjson/cJSON.h>
#include <math.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#define F(k, field, help) {k, HP_RC_F64, offsetof(hp_runcfg, field), NULL, help}
#define I(k, field, help) {k, HP_RC_I64, offsetof(hp_runcfg, field), NULL, help}
#define B(k, field, help) {k, HP_RC_BOOL, offsetof(hp_runcfg, field), NULL, help}
#define S(k, field, help) {k, HP_RC_STR, offsetof(hp_runcfg, field), NULL, help}
#define E(k, field, ch, help) {k, HP_RC_ENUM, offsetof(hp_runcfg, field), ch, help}

static const hp_rc_key KEYS[] = {
    S("description", description, "free text describing the run"),
    E("algorithm.adv_estimator", algorithm.adv_estimator, "hae|gae|grpo|rloo|gigpo", "advantage estimator"),
    F("algorithm.gamma", algorithm.gamma, "discount γ"),
    F("algorithm.lam", algorithm.lam, "GAE λ (HAE: λ_L inside a segment)"),
    B("algorithm.norm_adv_by_std_in_grpo", algorithm.norm_adv_by_std_in_grpo, "GRPO: divide by the group std"),
    B("algorithm.use_invalid_action_penalty", algorithm.use_invalid_action_penalty, "subtract the invalid-action penalty"),
    F("algorithm.invalid_action_penalty_coef", algorithm.invalid_action_penalty_coef, "c_inv"),
    F("algorithm.hae.lam_seg", algorithm.hae.lam_seg, "λ_H across segments"),
    B("algorithm.hae.norm_adv", algorithm.hae.norm_adv, "normalise each head's advantages over the batch"),
    F("algorithm.hae.keep_penalty", algorithm.hae.keep_penalty, "κ (<= 0)"),
    E("algorithm.hae.keep_penalty_mode", algorithm.hae.keep_penalty_mode, "normalized|fixed", "KEEP penalty mode"),
    F("algorithm.hae.keep_consistency_penalty", algorithm.hae.keep_consistency_penalty, "κ_c (<= 0)"),
    B("algorithm.hae.keep_consistency_requires_both", algorithm.hae.keep_consistency_requires_both, "κ_c needs both subgoal spans"),
    B("algorithm.hae.bootstrap_truncated", algorithm.hae.bootstrap_truncated, "self-bootstrap truncated episodes"),
    E("algorithm.hae.low_advantage_tokens", algorithm.hae.low_advantage_tokens, "action|rest",
      "action: the low-level advantage goes to the <action> span (the paper); rest: also to every response token "
      "that carries no other advantage (tags, separators, the end token, a KEEP turn's subgoal), so the format "
      "is trained instead of drifting (a departure)"),
    I("algorithm.hae.heads", algorithm.hae.heads, "critic heads: 2 (low, high) or 3 (+ term)"),
    E("algorithm.gigpo.mode", algorithm.gigpo.mode, "mean_norm|mean_std_norm", "GiGPO normalisation"),
    F("algorithm.gigpo.step_advantage_w", algorithm.gigpo.step_advantage_w, "w in A^E + w·A^S"),
    B("algorithm.gigpo.enable_similarity", algorithm.gigpo.enable_similarity, "similarity anchor grouping"),
    F("algorithm.gigpo.similarity_thresh", algorithm.gigpo.similarity_thresh, "similarity threshold"),
    F("algorithm.gigpo.epsilon", algorithm.gigpo.epsilon, "ε added to σ"),
    B("algorithm.gae.norm_adv", algorithm.gae.norm_adv, "whiten GAE advantages over the batch"),
    F("actor.optim.lr", actor.optim.lr, "actor learning rate"),
    F("actor.optim.weight_decay", actor.optim.weight_decay, "AdamW weight decay"),
    F("actor.optim.beta1", actor.optim.beta1, "AdamW β1"),
    F("actor.optim.beta2", actor.optim.beta2, "AdamW β2"),
    F("actor.optim.eps", actor.optim.eps, "AdamW ε"),
    I("actor.optim.warmup_steps", actor.optim.warmup_steps, "linear warm-up optimiser steps"),
    E("actor.optim.schedule", actor.optim.schedule, "constant|cosine", "learning-rate schedule"),
    F("actor.grad_clip", actor.grad_clip, "global gradient-norm clip"),
    F("actor.clip_ratio", actor.clip_ratio, "PPO clip ε (sets low and high unless they are given)"),
    F("actor.clip_ratio_low", actor.clip_ratio_low, "ε_low (negative = clip_ratio)"),
    F("actor.clip_ratio_high", actor.clip_ratio_high, "ε_high (negative = clip_ratio)"),
    F("actor.clip_ratio_c", actor.clip_ratio_c, "dual-clip constant c (0 = off)"),
    F("actor.entropy_coeff", actor.entropy_coeff, "entropy bonus coefficient"),
    B("actor.use_kl_loss", actor.use_kl_loss, "KL loss to the reference policy"),
    F("actor.kl_loss_coef", actor.kl_loss_coef, "KL loss coefficient"),
    E("actor.kl_loss_type", actor.kl_loss_type, "kl|k1|abs|mse|k2|low_var_kl|k3", "KL estimator"),
    E("actor.loss_agg_mode", actor.loss_agg_mode, "token-mean|seq-mean-token-sum|seq-mean-token-mean|seq-mean-token-sum-norm", "loss aggregation"),
    I("actor.ppo_epochs", actor.ppo_epochs, "PPO epochs per step"),
    I("actor.ppo_mini_batch_size", actor.ppo_mini_batch_size, "turn rows per optimiser step"),
    I("actor.ppo_micro_batch_size", actor.ppo_micro_batch_size, "turn rows per forward/backward"),
    B("actor.recompute_old_logp", actor.recompute_old_logp, "recompute old log-probs (false: take the rollout's)"),
    F("critic.optim.lr", critic.optim.lr, "critic learning rate"),
    F("critic.optim.weight_decay", critic.optim.weight_decay, "critic AdamW weight decay"),
    F("critic.optim.beta1", critic.optim.beta1, "critic AdamW β1"),
    F("critic.optim.beta2", critic.optim.beta2, "critic AdamW β2"),
    F("critic.optim.eps", critic.optim.eps, "critic AdamW ε"),
    I("critic.optim.warmup_steps", critic.optim.warmup_steps, "critic linear warm-up optimiser steps"),
    E("critic.optim.schedule", critic.optim.schedule, "constant|cosine", "critic learning-rate schedule"),
    F("critic.grad_clip", critic.grad_clip, "critic gradient-norm clip"),
    F("critic.cliprange_value", critic.cliprange_value, "value clip range"),
    F("critic.high_value_coef", critic.high_value_coef, "weight of the high head's loss"),
    F("critic.term_value_coef", critic.term_value_coef, "weight of the term head's loss"),
    I("critic.ppo_micro_batch_size", critic.ppo_micro_batch_size, "critic rows per forward/backward"),
    I("critic.warmup", critic.warmup, "steps training only the critic"),
    F("critic.value_scale", critic.value_scale,
      "the critic predicts values / this (a departure: 10 puts ALFWorld's win of 10 at 1 for the value head)"),
    B("critic.calibrate_bias", critic.calibrate_bias,
      "a fresh critic's value-head bias starts at its first batch's mean target (a departure)"),
    E("critic.backbone", critic.backbone, "own|reference",
      "own: the critic is a whole model that trains (the paper); reference: its value heads read the frozen "
      "reference policy's last hidden states and only the heads train (a departure)"),
    I("critic.ppo_epochs", critic.ppo_epochs, "critic epochs per step (0 = actor.ppo_epochs)"),
    I("critic.ppo_mini_batch_size", critic.ppo_mini_batch_size,
      "critic turn rows per optimiser step (0 = actor.ppo_mini_batch_size)"),
    I("data.train_batch_size", data.train_batch_size, "tasks per training step"),
    I("data.val_batch_size", data.val_batch_size, "validation episodes"),
    I("data.max_prompt_length", data.max_prompt_length, "prompt token limit"),
    I("data.max_response_length", data.max_response_length, "response token limit"),
    E("data.truncation", data.truncation, "error|left", "overlong prompts: error or cut"),
    E("env.name", env.name, HP_ENV_KIND_NAMES, "environment kind"),
    S("env.options", env.options, "JSON object of environment options"),
    I("env.rollout.n", env.rollout.n, "rollouts per task (group size)"),
    I("env.max_steps", env.max_steps, "turn limit per episode"),
    I("env.history_length", env.history_length, "remembered steps in the prompt"),
    I("env.seed", env.seed, "environment / task-draw seed"),
    S("env.train_split", env.train_split, "split for training tasks"),
    S("env.train_tasks", env.train_tasks,
      "comma-separated task indices (at most 256): every step and the SFT demonstrations play these, cycled (\"\" = drawn)"),
    S("env.val_split", env.val_split, "split for validation"),
    S("env.test_split", env.test_split, "second split evaluated at the end (\"\" = none)"),
    E("env.format", env.format, "hiper|think|action", "output format"),
    E("env.prompt_style", env.prompt_style, "upstream|compact", "prompt wording"),
    B("env.keep_holds_subgoal", env.keep_holds_subgoal, "KEEP keeps the previous subgoal in the prompt"),
    F("rollout.temperature", rollout.temperature, "training sampling temperature"),
    F("rollout.top_p", rollout.top_p, "top-p (1 = off)"),
    I("rollout.top_k", rollout.top_k, "top-k (-1 or 0 = off)"),
    F("rollout.val_temperature", rollout.val_temperature, "validation sampling temperature"),
    B("rollout.logp_at_temperature", rollout.logp_at_temperature,
      "the policy trained is softmax(logits / rollout.temperature): rollout, old, reference log-probs and entropy at that temperature (verl)"),
    B("rollout.constrain_actions", rollout.constrain_actions,
      "sample the <action> text among the admissible commands, and score it so (a departure from the paper)"),
    B("rollout.constrain_format", rollout.constrain_format,
      "with rollout.constrain_actions: keep the tags and the switch word to the output format too (a departure)"),
    S("model.path", model.path, "model directory (\"\" = initialise the small default model)"),
    S("model.critic_path", model.critic_path, "critic backbone directory (\"\" = model.path)"),
    S("model.tokenizer", model.tokenizer, "tokenizer.json or directory (\"\" = the model's, or train one)"),
    I("model.tokenizer_vocab", model.tokenizer_vocab, "vocabulary of a trained BPE tokenizer"),
    I("model.hidden_size", model.hidden_size, "small model: hidden size"),
    I("model.intermediate_size", model.intermediate_size, "small model: MLP size"),
    I("model.num_hidden_layers", model.num_hidden_layers, "small model: layers"),
    I("model.num_attention_heads", model.num_attention_heads, "small model: attention heads"),
    I("model.num_key_value_heads", model.num_key_value_heads, "small model: key/value heads"),
    I("model.max_position_embeddings", model.max_position_embeddings, "small model: context length"),
    F("model.rope_theta", model.rope_theta, "small model: RoPE θ"),
    I("model.lora_rank", model.lora_rank,
      "LoRA rank of the RL phase's actor and (whole) critic, adapters on all seven projections of every layer "
      "(0 = full fine-tuning; the SFT warm start is full fine-tuning either way)"),
    F("model.lora_alpha", model.lora_alpha, "LoRA α: the adapters' update is scaled by α / rank"),
    B("sft.enable", sft.enable, "supervised warm start before RL"),
    I("sft.episodes", sft.episodes, "expert episodes played for demonstrations"),
    F("sft.noise", sft.noise, "share of detour steps in the demonstrations"),
    F("sft.noise_repeat", sft.noise_repeat, "share of the detours that repeat the previous action (else random)"),
    I("sft.epochs", sft.epochs, "SFT epochs"),
    I("sft.batch", sft.batch, "SFT examples per optimiser step"),
    I("sft.max_len", sft.max_len, "longest SFT example (tokens)"),
    F("sft.lr", sft.lr, "SFT learning rate"),
    F("sft.lr_warmup_steps_ratio", sft.lr_warmup_steps_ratio, "share of SFT steps warming the learning rate up"),
    F("sft.min_lr_ratio", sft.min_lr_ratio, "SFT cosine decay ends at sft.lr times this (1 = constant)"),
    F("sft.weight_decay", sft.weight_decay, "SFT weight decay"),
    F("sft.grad_clip", sft.grad_clip, "SFT gradient clip"),
    I("trainer.total_steps", trainer.total_steps, "training steps"),
    I("trainer.test_freq", trainer.test_freq, "validate every N steps (0 = never)"),
    I("trainer.save_freq", trainer.save_freq, "save the latest checkpoint every N steps"),
    B("trainer.val_before_train", trainer.val_before_train, "validate before the first step"),
    I("trainer.seed", trainer.seed, "seed of initialisation, sampling and shuffling"),
    I("trainer.threads", trainer.threads, "OpenMP threads (0 = default)"),
    I("trainer.final_eval_episodes", trainer.final_eval_episodes, "episodes per split in the final evaluation (-1 = whole split)"),
    B("trainer.log_rollouts", trainer.log_rollouts, "write trajectories to rollouts.jsonl"),
    S("trainer.project_name", trainer.project_name, "project name (reports)"),
    S("trainer.experiment_name", trainer.experiment_name, "experiment name (reports)"),
    S("trainer.logger", trainer.logger,
      "where metrics go, comma-separated: console (step lines), jsonl (metrics.jsonl, read by resume and the "
      "report), tensorboard (event files in RUN_DIR/tensorboard, verl's metric names)"),
    {NULL, HP_RC_F64, 0, NULL, NULL},
};

#undef F
#undef I
#undef B
#undef S
#undef E

const hp_rc_key *hp_runcfg_keys(void) { return KEYS; }

const hp_rc_key *hp_runcfg_find(const char *key) {
    for (const hp_rc_key *k = KEYS; k->key; k++)
        if (!strcmp(k->key, key)) return k;
    return NULL;
}

const char *hp_runcfg_suggest(const char *key) {
    hp_suggest s;
    hp_suggest_init(&s, key);
    for (const hp_rc_key *k = KEYS; k->key; k++) hp_suggest_add(&s, k->key);
    if (!hp_suggest_best(&s) && !strchr(key, '.')) /* "temperature": the key whose last part it is */
        for (const hp_rc_key *k = KEYS; k->key; k++) hp_suggest_add_as(&s, k->key, strrchr(k->key, '.') ? strrchr(k->key, '.') + 1 : k->key);
    return hp_suggest_best(&s);
}

/* " (did you mean 'x'?)" or "" into buf. */
static const char *did_you_mean(const char *key, char *buf, size_t cap) {
    const char *best = hp_runcfg_suggest(key);
    if (best) snprintf(buf, cap, " (did you mean '%s'?)", best);
    else buf[0] = '\0';
    return buf;
}

static void *field(hp_runcfg *cfg, const hp_rc_key *k) { return (char *)cfg + k->offset; }
static const void *cfield(const hp_runcfg *cfg, const hp_rc_key *k) { return (const char *)cfg + k->offset; }

static void set_str(hp_rc_str dst, const char *s) { snprintf(dst, HP_RC_STR_MAX, "%s", s); }

/* ---- defaults ------------------------------------------------------------------------------------ */

static bool is_group_estimator(const char *e) {
    return !strcmp(e, "grpo") || !strcmp(e, "rloo") || !strcmp(e, "gigpo");
}

int hp_runcfg_defaults(hp_runcfg *c, const char *est, const char *env, hp_err *err) {
    memset(c, 0, sizeof *c);
    if (strcmp(est, "hae") && strcmp(est, "gae") && !is_group_estimator(est))
        return hp_fail(err, "algorithm.adv_estimator: unknown estimator '%s' (hae|gae|grpo|rloo|gigpo)", est);
    /* the environment's own defaults from its descriptor (hiper/env.h); the paper's settings differ
     * between its ALFWorld and WebShop experiments, and other kinds take the ALFWorld ones */
    const hp_env_kind *kind = hp_env_kind_find(env);
    bool webshop = kind && kind->family == HP_FAM_WEBSHOP;
    bool hae = !strcmp(est, "hae");
    /* hiper.md §6.3 (HiPER) and baselines.md §4 (the common part). */
    set_str(c->algorithm.adv_estimator, est);
    c->algorithm.gamma = 1.0;
    c->algorithm.lam = 1.0;
    c->algorithm.norm_adv_by_std_in_grpo = true;
    c->algorithm.use_invalid_action_penalty = true;
    c->algorithm.invalid_action_penalty_coef = 0.1;
    c->algorithm.hae.lam_seg = 0.95;
    c->algorithm.hae.norm_adv = true;
    c->algorithm.hae.keep_penalty = webshop ? -3.5 : -0.3;
    set_str(c->algorithm.hae.keep_penalty_mode, "normalized");
    c->algorithm.hae.keep_consistency_penalty = -0.3;
    c->algorithm.hae.keep_consistency_requires_both = true;
    c->algorithm.hae.bootstrap_truncated = !webshop;
    set_str(c->algorithm.hae.low_advantage_tokens, "action");
    c->algorithm.hae.heads = 3;
    set_str(c->algorithm.gigpo.mode, webshop ? "mean_norm" : "mean_std_norm");
    c->algorithm.gigpo.step_advantage_w = 1.0;
    c->algorithm.gigpo.similarity_thresh = 0.95;
    c->algorithm.gigpo.epsilon = 1e-6;
    c->algorithm.gae.norm_adv = true;
    if (!strcmp(est, "gigpo")) c->algorithm.gamma = 0.95;

    c->actor.optim.lr = 1e-6;
    c->actor.optim.weight_decay = 0.01;
    c->actor.optim.beta1 = 0.9;
    c->actor.optim.beta2 = 0.999;
    c->actor.optim.eps = 1e-8;
    set_str(c->actor.optim.schedule, "constant");
    c->actor.grad_clip = 1.0;
    c->actor.clip_ratio = 0.2;
    c->actor.clip_ratio_low = -1;
    c->actor.clip_ratio_high = -1;
    c->actor.clip_ratio_c = 3.0;
    c->actor.entropy_coeff = 0.001;
    c->actor.use_kl_loss = true;
    c->actor.kl_loss_coef = 0.01;
    set_str(c->actor.kl_loss_type, "low_var_kl");
    set_str(c->actor.loss_agg_mode, "token-mean");
    c->actor.ppo_epochs = 1;
    c->actor.recompute_old_logp = true;
    /* Rows per mini/micro-batch: HiPER 256/16 per GPU; baselines ALFWorld 256/32 (PPO 256/16),
     * WebShop 64/8. */
    c->actor.ppo_mini_batch_size = webshop && !hae ? 64 : 256;
    c->actor.ppo_micro_batch_size = webshop && !hae ? 8 : (is_group_estimator(est) ? 32 : 16);

    c->critic.optim.lr = 1e-5;
    c->critic.optim.weight_decay = 0.01;
    c->critic.optim.beta1 = 0.9;
    c->critic.optim.beta2 = 0.999;
    c->critic.optim.eps = 1e-8;
    set_str(c->critic.optim.schedule, "constant");
    c->critic.grad_clip = 1.0;
    c->critic.cliprange_value = 0.5;
    c->critic.high_value_coef = 1.0;
    c->critic.term_value_coef = 1.0;
    c->critic.value_scale = 1.0;
    set_str(c->critic.backbone, "own");
    c->critic.ppo_epochs = 0;
    c->critic.ppo_mini_batch_size = 0;
    c->critic.ppo_micro_batch_size = webshop && !hae ? 4 : 16;

    bool group = is_group_estimator(est);
    c->data.train_batch_size = group ? 16 : 128;
    c->data.val_batch_size = 128;
    c->data.max_prompt_length = webshop && !hae ? 4096 : 2048;
    c->data.max_response_length = 512;
    set_str(c->data.truncation, "error");

    set_str(c->env.name, env);
    c->env.rollout.n = group ? 8 : 1;
    c->env.max_steps = webshop && !hae ? 15 : 50;
    c->env.history_length = 2;
    c->env.seed = hae ? 6 : 0;
    set_str(c->env.train_split, "train");
    set_str(c->env.val_split, kind ? kind->val_split : "valid_seen");
    set_str(c->env.test_split, kind ? kind->test_split : "valid_unseen");
    set_str(c->env.format, hae ? "hiper" : "think");
    set_str(c->env.prompt_style, "upstream");

    c->rollout.temperature = 1.0;
    c->rollout.top_p = 1.0;
    c->rollout.top_k = -1;
    c->rollout.val_temperature = 0.4;
    c->rollout.logp_at_temperature = true;

    c->model.tokenizer_vocab = 2048;
    c->model.hidden_size = 256;
    c->model.intermediate_size = 704;
    c->model.num_hidden_layers = 4;
    c->model.num_attention_heads = 4;
    c->model.num_key_value_heads = 2;
    c->model.max_position_embeddings = 1024;
    c->model.rope_theta = 10000.0;
    c->model.lora_alpha = 16.0;

    c->sft.enable = false;
    c->sft.episodes = 200;
    c->sft.noise = 0.1;
    c->sft.noise_repeat = 0.0;
    c->sft.epochs = 2;
    c->sft.batch = 16;
    c->sft.max_len = 1024;
    c->sft.lr = 1e-3;
    c->sft.lr_warmup_steps_ratio = 0.03;
    c->sft.min_lr_ratio = 0.1;
    c->sft.weight_decay = 0.0;
    c->sft.grad_clip = 1.0;

    c->trainer.total_steps = 150;
    c->trainer.test_freq = 5;
    c->trainer.save_freq = 1;
    c->trainer.val_before_train = true;
    c->trainer.seed = 1;
    c->trainer.final_eval_episodes = 0;
    c->trainer.log_rollouts = true;
    set_str(c->trainer.project_name, "hiper");
    set_str(c->trainer.logger, "console,jsonl");
    snprintf(c->trainer.experiment_name, HP_RC_STR_MAX, "%s_%s", est, env);
    return HP_OK;
}

/* ---- setting one value --------------------------------------------------------------------------- */

static bool enum_ok(const char *choices, const char *v) {
    size_t n = strlen(v);
    for (const char *p = choices; *p;) {
        const char *bar = strchr(p, '|');
        size_t m = bar ? (size_t)(bar - p) : strlen(p);
        if (m == n && !strncmp(p, v, n)) return true;
        if (!bar) break;
        p = bar + 1;
    }
    return false;
}

static int set_string(hp_runcfg *cfg, const hp_rc_key *k, const char *v, const char *src, hp_err *err) {
    if (strlen(v) >= HP_RC_STR_MAX)
        return hp_fail(err, "%s: key '%s': value longer than %d bytes", src, k->key, HP_RC_STR_MAX - 1);
    if (k->type == HP_RC_ENUM && !enum_ok(k->choices, v))
        return hp_fail(err, "%s: key '%s': '%s' is not one of %s", src, k->key, v, k->choices);
    set_str(field(cfg, k), v);
    return HP_OK;
}

static const char *type_name(hp_rc_type t) {
    switch (t) {
    case HP_RC_F64: return "a number";
    case HP_RC_I64: return "an integer";
    case HP_RC_BOOL: return "true or false";
    case HP_RC_STR: return "a string";
    case HP_RC_ENUM: return "a string";
    }
    return "?";
}

/* Set from a JSON value. */
static int set_json(hp_runcfg *cfg, const hp_rc_key *k, const cJSON *v, const char *src, hp_err *err) {
    switch (k->type) {
    case HP_RC_F64:
        if (!cJSON_IsNumber(v)) break;
        *(double *)field(cfg, k) = v->valuedouble;
        return HP_OK;
    case HP_RC_I64: {
        if (!cJSON_IsNumber(v)) break;
        double d = v->valuedouble;
        if (d != floor(d) || fabs(d) > 9.0e15)
            return hp_fail(err, "%s: key '%s': expected an integer, got %g", src, k->key, d);
        *(int64_t *)field(cfg, k) = (int64_t)d;
        return HP_OK;
    }
    case HP_RC_BOOL:
        if (!cJSON_IsBool(v)) break;
        *(bool *)field(cfg, k) = cJSON_IsTrue(v);
        return HP_OK;
    case HP_RC_STR:
    case HP_RC_ENUM:
        if (!cJSON_IsString(v)) break;
        return set_string(cfg, k, v->valuestring, src, err);
    }
    return hp_fail(err, "%s: key '%s': expected %s", src, k->key, type_name(k->type));
}

/* Set from override text. */
static int set_text(hp_runcfg *cfg, const hp_rc_key *k, const char *v, const char *src, hp_err *err) {
    switch (k->type) {
    case HP_RC_F64:
        if (!hp_parse_f64(v, (double *)field(cfg, k)))
            return hp_fail(err, "%s: key '%s': expected a number, got '%s'", src, k->key, v);
        return HP_OK;
    case HP_RC_I64: {
        /* the same bound as a JSON number (exact in a double), so run_config.json reads back */
        int64_t *p = (int64_t *)field(cfg, k);
        if (!hp_parse_i64(v, p) || *p > 9000000000000000LL || *p < -9000000000000000LL)
            return hp_fail(err, "%s: key '%s': expected an integer within +-9e15, got '%s'", src, k->key, v);
        return HP_OK;
    }
    case HP_RC_BOOL:
        if (!strcmp(v, "true") || !strcmp(v, "True") || !strcmp(v, "1")) *(bool *)field(cfg, k) = true;
        else if (!strcmp(v, "false") || !strcmp(v, "False") || !strcmp(v, "0")) *(bool *)field(cfg, k) = false;
        else return hp_fail(err, "%s: key '%s': expected true or false, got '%s'", src, k->key, v);
        return HP_OK;
    case HP_RC_STR:
    case HP_RC_ENUM: return set_string(cfg, k, v, src, err);
    }
    return HP_FAIL;
}

/* Split "key=value"; returns the key entry or fails naming the key. */
static const hp_rc_key *split_assignment(const char *a, char *key, size_t cap, const char **val, hp_err *err) {
    const char *eq = strchr(a, '=');
    if (!eq || eq == a) {
        hp_fail(err, "command line: override '%s': expected key=value", a);
        return NULL;
    }
    size_t n = (size_t)(eq - a);
    if (n >= cap) n = cap - 1;
    memcpy(key, a, n);
    key[n] = '\0';
    *val = eq + 1;
    const hp_rc_key *k = hp_runcfg_find(key);
    char dym[320];
    if (!k)
        hp_fail(err, "command line: override '%s': unknown key '%s'%s (see 'hiper train --keys')", a, key,
                did_you_mean(key, dym, sizeof dym));
    return k;
}

int hp_runcfg_set(hp_runcfg *cfg, const char *assignment, hp_err *err) {
    char key[256];
    const char *val;
    const hp_rc_key *k = split_assignment(assignment, key, sizeof key, &val, err);
    if (!k) return HP_FAIL;
    return set_text(cfg, k, val, "command line", err);
}

/* ---- JSON files ---------------------------------------------------------------------------------- */

/* A flattened (dotted key, value) list of a JSON object. */
typedef struct flat_kv {
    char *key;
    const cJSON *val;
} flat_kv;

typedef struct flat {
    flat_kv *kv;
    int n, cap;
} flat;

static int flatten(const cJSON *obj, const char *prefix, flat *f, const char *src, hp_err *err) {
    const cJSON *it;
    cJSON_ArrayForEach(it, obj) {
        char key[512];
        snprintf(key, sizeof key, "%s%s%s", prefix, prefix[0] ? "." : "", it->string ? it->string : "");
        char dym[320];
        if (cJSON_IsObject(it) && !hp_runcfg_find(key)) {
            if (!it->child) return hp_fail(err, "%s: unknown key '%s' (an empty object)", src, key);
            if (flatten(it, key, f, src, err)) return HP_FAIL;
            continue;
        }
        if (!hp_runcfg_find(key)) return hp_fail(err, "%s: unknown key '%s'%s", src, key, did_you_mean(key, dym, sizeof dym));
        for (int i = 0; i < f->n; i++)
            if (!strcmp(f->kv[i].key, key)) return hp_fail(err, "%s: key '%s' given twice", src, key);
        if (f->n == f->cap) {
            f->cap = f->cap ? 2 * f->cap : 32;
            f->kv = hp_xrealloc(f->kv, (size_t)f->cap * sizeof *f->kv);
        }
        f->kv[f->n++] = (flat_kv){hp_xstrdup(key), it};
    }
    return HP_OK;
}

static void flat_free(flat *f) {
    for (int i = 0; i < f->n; i++) free(f->kv[i].key);
    free(f->kv);
}

/* The value a pair of keys gets before defaults exist: the last override, else the file, else def. */
static const char *early_value(const flat *f, const char *const *ov, int n_ov, const char *key, const char *def) {
    const char *v = def;
    for (int i = 0; i < f->n; i++)
        if (!strcmp(f->kv[i].key, key) && cJSON_IsString(f->kv[i].val)) v = f->kv[i].val->valuestring;
    size_t kl = strlen(key);
    for (int i = 0; i < n_ov; i++)
        if (!strncmp(ov[i], key, kl) && ov[i][kl] == '=') v = ov[i] + kl + 1;
    return v;
}

static int validate_loaded(const hp_runcfg *c, const char *const *ov, int n_ov, const char *src, hp_err *err);

int hp_runcfg_load_text(hp_runcfg *cfg, const char *json, const char *src, const char *const *ov, int n_ov,
                        hp_err *err) {
    flat f = {0};
    cJSON *root = NULL;
    int rc = HP_FAIL;
    if (json) {
        root = cJSON_Parse(json);
        if (!root) {
            const char *at = cJSON_GetErrorPtr();
            int line = 1;
            for (const char *p = json; at && p < at && *p; p++) line += *p == '\n';
            hp_fail(err, "%s:%d: not valid JSON", src, line);
            goto out;
        }
        if (!cJSON_IsObject(root)) {
            hp_fail(err, "%s: expected a JSON object at the top level", src);
            goto out;
        }
        if (flatten(root, "", &f, src, err)) goto out;
    }
    const char *est = early_value(&f, ov, n_ov, "algorithm.adv_estimator", "hae");
    const char *env = early_value(&f, ov, n_ov, "env.name", "alfworld");
    if (hp_runcfg_defaults(cfg, est, env, err)) {
        hp_err_wrap(err, "%s", src);
        goto out;
    }
    for (int i = 0; i < f.n; i++)
        if (set_json(cfg, hp_runcfg_find(f.kv[i].key), f.kv[i].val, src, err)) goto out;
    for (int i = 0; i < n_ov; i++)
        if (hp_runcfg_set(cfg, ov[i], err)) goto out;
    if (validate_loaded(cfg, ov, n_ov, src, err)) goto out;
    rc = HP_OK;
out:
    flat_free(&f);
    cJSON_Delete(root);
    return rc;
}

int hp_runcfg_load(hp_runcfg *cfg, const char *path, const char *const *ov, int n_ov, hp_err *err) {
    char *text = NULL;
    size_t len = 0;
    if (path && hp_read_file(path, &text, &len, err)) return HP_FAIL;
    /* without a file, a message names the command line when there are overrides */
    int rc = hp_runcfg_load_text(cfg, text, path ? path : n_ov > 0 ? "command line" : "defaults", ov, n_ov, err);
    free(text);
    return rc;
}

/* ---- validation ---------------------------------------------------------------------------------- */

#define REQUIRE(cond, key, ...)                                                                            \
    do {                                                                                                   \
        if (!(cond)) {                                                                                     \
            if (bad) *bad = key;                                                                           \
            return hp_fail(err, "key '" key "': " __VA_ARGS__);                                           \
        }                                                                                                  \
    } while (0)

int hp_runcfg_train_tasks(const hp_runcfg *c, int64_t *out) {
    int n = 0;
    for (const char *p = c->env.train_tasks; *p; n++) {
        if (n == HP_RC_MAX_TRAIN_TASKS) return -2;
        char *end;
        long long v = strtoll(p, &end, 10);
        if (end == p || v < 0 || (*end != ',' && *end != 0)) return -1;
        out[n] = v;
        p = *end ? end + 1 : end;
    }
    return n;
}

/* The trainer.logger names, "console,jsonl,tensorboard" (each at most once), as a bit set: 1 console,
 * 2 jsonl, 4 tensorboard; -1 when a name is unknown or repeated. */
int hp_runcfg_loggers(const hp_runcfg *c) {
    int set = 0;
    static const char *const NAMES[] = {"console", "jsonl", "tensorboard"};
    for (const char *p = c->trainer.logger; *p;) {
        while (*p == ' ' || *p == ',') p++;
        if (!*p) break;
        size_t n = strcspn(p, ", ");
        int bit = 0;
        for (int i = 0; i < 3; i++)
            if (strlen(NAMES[i]) == n && !strncmp(NAMES[i], p, n)) bit = 1 << i;
        if (!bit || (set & bit)) return -1;
        set |= bit;
        p += n;
    }
    return set;
}

/* The value of key k as text, for an error message. */
static void value_text(const hp_runcfg *c, const hp_rc_key *k, char *buf, size_t cap) {
    const void *p = cfield(c, k);
    switch (k->type) {
    case HP_RC_F64: snprintf(buf, cap, "%.17g", *(const double *)p); break;
    case HP_RC_I64: snprintf(buf, cap, "%lld", (long long)*(const int64_t *)p); break;
    case HP_RC_BOOL: snprintf(buf, cap, "%s", *(const bool *)p ? "true" : "false"); break;
    case HP_RC_STR:
    case HP_RC_ENUM: snprintf(buf, cap, "'%.200s'", (const char *)p); break;
    }
}

static int validate(const hp_runcfg *c, const char **bad, hp_err *err) {
    for (const hp_rc_key *k = KEYS; k->key; k++)
        if (k->type == HP_RC_F64 && !isfinite(*(const double *)cfield(c, k))) {
            if (bad) *bad = k->key;
            return hp_fail(err, "key '%s': must be a finite number", k->key);
        }
    REQUIRE(c->algorithm.gamma >= 0 && c->algorithm.gamma <= 1, "algorithm.gamma", "must be in [0, 1]");
    REQUIRE(c->algorithm.lam >= 0 && c->algorithm.lam <= 1, "algorithm.lam", "must be in [0, 1]");
    REQUIRE(c->algorithm.hae.lam_seg >= 0 && c->algorithm.hae.lam_seg <= 1, "algorithm.hae.lam_seg", "must be in [0, 1]");
    REQUIRE(c->algorithm.hae.keep_penalty <= 0, "algorithm.hae.keep_penalty", "must be <= 0");
    REQUIRE(c->algorithm.hae.keep_consistency_penalty <= 0, "algorithm.hae.keep_consistency_penalty", "must be <= 0");
    REQUIRE(c->algorithm.hae.heads == 2 || c->algorithm.hae.heads == 3, "algorithm.hae.heads", "must be 2 or 3");
    REQUIRE(c->algorithm.invalid_action_penalty_coef >= 0, "algorithm.invalid_action_penalty_coef", "must be >= 0");
    REQUIRE(c->algorithm.gigpo.epsilon >= 0, "algorithm.gigpo.epsilon", "must be >= 0");
    REQUIRE(c->actor.optim.lr >= 0, "actor.optim.lr", "must be >= 0");
    REQUIRE(c->critic.optim.lr >= 0, "critic.optim.lr", "must be >= 0");
    REQUIRE(c->actor.optim.beta1 >= 0 && c->actor.optim.beta1 < 1, "actor.optim.beta1", "must be in [0, 1)");
    REQUIRE(c->actor.optim.beta2 >= 0 && c->actor.optim.beta2 < 1, "actor.optim.beta2", "must be in [0, 1)");
    REQUIRE(c->critic.optim.beta1 >= 0 && c->critic.optim.beta1 < 1, "critic.optim.beta1", "must be in [0, 1)");
    REQUIRE(c->critic.optim.beta2 >= 0 && c->critic.optim.beta2 < 1, "critic.optim.beta2", "must be in [0, 1)");
    REQUIRE(c->actor.clip_ratio >= 0 && c->actor.clip_ratio < 1, "actor.clip_ratio", "must be in [0, 1)");
    REQUIRE(c->actor.clip_ratio_low < 1, "actor.clip_ratio_low", "must be < 1");
    REQUIRE(c->actor.clip_ratio_c == 0 || c->actor.clip_ratio_c > 1, "actor.clip_ratio_c", "must be > 1 (or 0: off)");
    REQUIRE(c->actor.ppo_epochs >= 1, "actor.ppo_epochs", "must be >= 1");
    REQUIRE(c->actor.ppo_mini_batch_size >= 1, "actor.ppo_mini_batch_size", "must be >= 1");
    REQUIRE(c->actor.ppo_micro_batch_size >= 1, "actor.ppo_micro_batch_size", "must be >= 1");
    REQUIRE(c->critic.ppo_micro_batch_size >= 1, "critic.ppo_micro_batch_size", "must be >= 1");
    REQUIRE(c->critic.cliprange_value >= 0, "critic.cliprange_value", "must be >= 0");
    REQUIRE(c->critic.warmup >= 0, "critic.warmup", "must be >= 0");
    REQUIRE(c->critic.ppo_epochs >= 0, "critic.ppo_epochs", "must be >= 0 (0 = actor.ppo_epochs)");
    REQUIRE(c->critic.ppo_mini_batch_size >= 0, "critic.ppo_mini_batch_size",
            "must be >= 0 (0 = actor.ppo_mini_batch_size)");
    REQUIRE(strcmp(c->critic.backbone, "reference") || !c->model.critic_path[0], "critic.backbone",
            "reference reads the reference policy's hidden states, so model.critic_path must be empty");
    REQUIRE(c->critic.value_scale > 0 && isfinite(c->critic.value_scale), "critic.value_scale", "must be > 0");
    REQUIRE(c->data.train_batch_size >= 1, "data.train_batch_size", "must be >= 1");
    REQUIRE(c->data.val_batch_size >= 0, "data.val_batch_size", "must be >= 0");
    REQUIRE(c->data.max_prompt_length >= 16, "data.max_prompt_length", "must be >= 16");
    REQUIRE(c->data.max_response_length >= 1, "data.max_response_length", "must be >= 1");
    REQUIRE(c->env.rollout.n >= 1, "env.rollout.n", "must be >= 1");
    REQUIRE(c->env.max_steps >= 1, "env.max_steps", "must be >= 1");
    REQUIRE(c->env.history_length >= 0, "env.history_length", "must be >= 0");
    REQUIRE(c->rollout.temperature >= 0, "rollout.temperature", "must be >= 0");
    REQUIRE(c->rollout.top_p > 0 && c->rollout.top_p <= 1, "rollout.top_p", "must be in (0, 1]");
    REQUIRE(c->model.tokenizer_vocab >= 300, "model.tokenizer_vocab", "must be >= 300 (256 bytes + specials)");
    REQUIRE(c->model.hidden_size >= 8 && c->model.num_attention_heads >= 1 &&
                c->model.hidden_size % c->model.num_attention_heads == 0,
            "model.hidden_size", "must be >= 8 and divisible by model.num_attention_heads");
    REQUIRE(c->model.num_key_value_heads >= 1 && c->model.num_attention_heads % c->model.num_key_value_heads == 0,
            "model.num_key_value_heads", "must divide model.num_attention_heads");
    REQUIRE(c->model.num_hidden_layers >= 1, "model.num_hidden_layers", "must be >= 1");
    REQUIRE(c->model.lora_rank >= 0, "model.lora_rank", "must be >= 0");
    REQUIRE(c->model.lora_rank == 0 || c->model.lora_alpha > 0, "model.lora_alpha", "must be > 0 with LoRA");
    REQUIRE(c->sft.noise >= 0 && c->sft.noise <= 1, "sft.noise", "must be in [0, 1]");
    REQUIRE(c->sft.noise_repeat >= 0 && c->sft.noise_repeat <= 1, "sft.noise_repeat", "must be in [0, 1]");
    REQUIRE(c->sft.lr_warmup_steps_ratio >= 0 && c->sft.lr_warmup_steps_ratio < 1, "sft.lr_warmup_steps_ratio",
            "must be in [0, 1)");
    REQUIRE(c->sft.min_lr_ratio >= 0 && c->sft.min_lr_ratio <= 1, "sft.min_lr_ratio", "must be in [0, 1]");
    REQUIRE(c->sft.batch >= 1 && c->sft.epochs >= 0, "sft.batch", "batch must be >= 1 and epochs >= 0");
    REQUIRE(c->trainer.total_steps >= 0, "trainer.total_steps", "must be >= 0");
    REQUIRE(c->trainer.test_freq >= 0, "trainer.test_freq", "must be >= 0");
    REQUIRE(c->trainer.save_freq >= 1, "trainer.save_freq", "must be >= 1");
    REQUIRE(c->trainer.threads >= 0, "trainer.threads", "must be >= 0");
    REQUIRE(c->trainer.final_eval_episodes >= -1, "trainer.final_eval_episodes",
            "must be >= -1 (-1 = every game of each split, 0 = none)");
    int64_t tasks[HP_RC_MAX_TRAIN_TASKS];
    int n_tasks = hp_runcfg_train_tasks(c, tasks);
    REQUIRE(n_tasks != -2, "env.train_tasks", "lists at most 256 tasks");
    REQUIRE(n_tasks >= 0, "env.train_tasks", "must be comma-separated task indices >= 0, like \"0,5,9\"");
    if (c->env.options[0]) {
        cJSON *o = cJSON_Parse(c->env.options);
        bool ok = o && cJSON_IsObject(o);
        cJSON_Delete(o);
        REQUIRE(ok, "env.options", "must be a JSON object");
    }
    bool hae = !strcmp(c->algorithm.adv_estimator, "hae");
    REQUIRE(!hae || !strcmp(c->env.format, "hiper"), "env.format", "the hae estimator needs the hiper format");
    /* values no code path can use: refused rather than silently clamped */
    REQUIRE(c->rollout.val_temperature >= 0, "rollout.val_temperature", "must be >= 0");
    REQUIRE(!c->rollout.constrain_format || c->rollout.constrain_actions, "rollout.constrain_format",
            "needs rollout.constrain_actions=true (the format is kept by the same token filter)");
    REQUIRE(c->rollout.top_k >= -1, "rollout.top_k", "must be >= -1 (-1 or 0 = off)");
    REQUIRE(c->actor.kl_loss_coef >= 0, "actor.kl_loss_coef", "must be >= 0");
    REQUIRE(c->actor.optim.weight_decay >= 0, "actor.optim.weight_decay", "must be >= 0");
    REQUIRE(c->critic.optim.weight_decay >= 0, "critic.optim.weight_decay", "must be >= 0");
    REQUIRE(c->actor.optim.eps > 0, "actor.optim.eps", "must be > 0");
    REQUIRE(c->actor.optim.warmup_steps >= 0, "actor.optim.warmup_steps", "must be >= 0");
    REQUIRE(c->critic.optim.eps > 0, "critic.optim.eps", "must be > 0");
    REQUIRE(c->critic.optim.warmup_steps >= 0, "critic.optim.warmup_steps", "must be >= 0");
    REQUIRE(c->actor.grad_clip >= 0, "actor.grad_clip", "must be >= 0 (0 = off)");
    REQUIRE(c->critic.grad_clip >= 0, "critic.grad_clip", "must be >= 0 (0 = off)");
    REQUIRE(c->critic.high_value_coef >= 0, "critic.high_value_coef", "must be >= 0");
    REQUIRE(c->critic.term_value_coef >= 0, "critic.term_value_coef", "must be >= 0");
    REQUIRE(c->algorithm.gigpo.similarity_thresh >= 0 && c->algorithm.gigpo.similarity_thresh <= 1,
            "algorithm.gigpo.similarity_thresh", "must be in [0, 1]");
    REQUIRE(c->model.intermediate_size >= 1, "model.intermediate_size", "must be >= 1");
    REQUIRE(c->model.max_position_embeddings >= 1, "model.max_position_embeddings", "must be >= 1");
    REQUIRE(c->model.rope_theta > 0, "model.rope_theta", "must be > 0");
    REQUIRE(c->sft.episodes >= 0, "sft.episodes", "must be >= 0");
    REQUIRE(!c->sft.enable || c->sft.episodes >= 1, "sft.episodes", "must be >= 1 when sft.enable is true");
    REQUIRE(!c->sft.enable || c->sft.lr > 0, "sft.lr", "must be > 0 when sft.enable is true");
    REQUIRE(c->sft.max_len >= 1, "sft.max_len", "must be >= 1");
    REQUIRE(c->sft.weight_decay >= 0, "sft.weight_decay", "must be >= 0");
    REQUIRE(c->sft.grad_clip >= 0, "sft.grad_clip", "must be >= 0 (0 = off)");
    REQUIRE(hp_runcfg_loggers(c) >= 0, "trainer.logger",
            "must list console, jsonl and/or tensorboard, comma-separated, each at most once");
    return HP_OK;
}

int hp_runcfg_validate(const hp_runcfg *c, hp_err *err) { return validate(c, NULL, err); }

/* Validate a loaded configuration; a failure names where the offending value came from: "command line"
 * when an override set that key, else src (the file, or what the defaults were combined with), and
 * the value itself. */
static int validate_loaded(const hp_runcfg *c, const char *const *ov, int n_ov, const char *src, hp_err *err) {
    const char *bad = NULL;
    if (validate(c, &bad, err) == HP_OK) return HP_OK;
    const char *from = src;
    size_t kl = bad ? strlen(bad) : 0;
    for (int i = 0; bad && i < n_ov; i++)
        if (!strncmp(ov[i], bad, kl) && ov[i][kl] == '=') from = "command line";
    const hp_rc_key *k = bad ? hp_runcfg_find(bad) : NULL;
    if (k) {
        char v[256];
        value_text(c, k, v, sizeof v);
        size_t n = strlen(err->msg);
        snprintf(err->msg + n, sizeof err->msg - n, " (got %s)", v);
    }
    return hp_err_wrap(err, "%s", from);
}

/* ---- serialisation ------------------------------------------------------------------------------- */

char *hp_runcfg_to_json(const hp_runcfg *cfg) {
    cJSON *o = cJSON_CreateObject();
    for (const hp_rc_key *k = KEYS; k->key; k++) {
        const void *p = cfield(cfg, k);
        switch (k->type) {
        case HP_RC_F64: cJSON_AddItemToObject(o, k->key, cJSON_CreateNumber(*(const double *)p)); break;
        case HP_RC_I64: cJSON_AddItemToObject(o, k->key, cJSON_CreateNumber((double)*(const int64_t *)p)); break;
        case HP_RC_BOOL: cJSON_AddItemToObject(o, k->key, cJSON_CreateBool(*(const bool *)p)); break;
        case HP_RC_STR:
        case HP_RC_ENUM: cJSON_AddItemToObject(o, k->key, cJSON_CreateString((const char *)p)); break;
        }
    }
    char *s = cJSON_Print(o);
    cJSON_Delete(o);
    char *out = hp_xstrdup(s);
    cJSON_free(s);
    return out;
}

int hp_runcfg_write(const hp_runcfg *cfg, const char *path, hp_err *err) {
    char *s = hp_runcfg_to_json(cfg);
    int rc = hp_write_text_atomic(path, s, err);
    free(s);
    return rc;
}

/* ---- the built-in main job ----------------------------------------------------------------------- */

/* Sized from the compute budget of design.md and measured here (docs/training.md, "The main job"): a
 * ~1.3 M-parameter model with a BPE vocabulary of at most 2 k and the compact prompt (<= 448 tokens).
 * Its warm start is what makes RL possible: 600 expert episodes (about 6 k turns) for 3 epochs at
 * 3e-3 with a cosine decay; one or two epochs, or 5e-3, left it unable to copy the task's object into
 * its subgoal. Two OpenMP threads: at hidden size 160 they run SFT 1.8x faster than one on an idle
 * 2-core machine (the quick job's hidden size 64 is too small to share). */
static const char *const SMALL[] = {
    "description=HiPER on the built-in ALFWorld, small model, 2 CPU cores (the default `hiper train`)",
    "env.prompt_style=compact",
    "data.max_prompt_length=448",
    "data.max_response_length=48",
    "data.truncation=left",
    "data.train_batch_size=16",
    "data.val_batch_size=16",
    "env.max_steps=30",
    "model.tokenizer_vocab=2048",
    "model.hidden_size=160",
    "model.intermediate_size=432",
    "model.num_hidden_layers=4",
    "model.num_attention_heads=4",
    "model.num_key_value_heads=2",
    "model.max_position_embeddings=512",
    "actor.optim.lr=1e-4",
    "actor.recompute_old_logp=false",
    "critic.optim.lr=1e-3",
    "actor.ppo_mini_batch_size=64",
    "actor.ppo_micro_batch_size=32",
    "critic.ppo_micro_batch_size=32",
    "sft.enable=true",
    "sft.episodes=600",
    "sft.noise=0.15",
    "sft.noise_repeat=0.3",
    "sft.epochs=3",
    "sft.batch=8",
    "sft.max_len=512",
    "sft.lr=3e-3",
    "sft.weight_decay=0.01",
    "trainer.total_steps=16",
    "trainer.test_freq=8",
    "trainer.final_eval_episodes=-1",
    "trainer.threads=2",
    "trainer.experiment_name=hiper_alfworld_small",
    "critic.value_scale=10",
    "critic.calibrate_bias=true",
    "rollout.constrain_actions=true",
};

static const char *const QUICK[] = {
    "description=smoke run: every phase of the default `hiper train` at toy size (about 10 s on 2 idle cores); it checks that the pipeline runs, its success rates mean nothing",
    "env.prompt_style=compact",
    "data.max_prompt_length=320",
    "data.max_response_length=40",
    "data.truncation=left",
    "data.train_batch_size=4",
    "data.val_batch_size=6",
    "env.max_steps=12",
    "model.tokenizer_vocab=768",
    "model.hidden_size=64",
    "model.intermediate_size=160",
    "model.num_hidden_layers=2",
    "model.num_attention_heads=2",
    "model.num_key_value_heads=1",
    "model.max_position_embeddings=384",
    "actor.optim.lr=3e-5",
    "critic.optim.lr=3e-4",
    "actor.ppo_mini_batch_size=32",
    "actor.ppo_micro_batch_size=16",
    "critic.ppo_micro_batch_size=16",
    "sft.enable=true",
    "sft.episodes=12",
    "sft.noise=0.15",
    "sft.epochs=1",
    "sft.batch=8",
    "sft.max_len=360",
    "sft.lr=2e-3",
    "trainer.total_steps=3",
    "trainer.test_freq=2",
    "trainer.final_eval_episodes=6",
    "trainer.threads=1",
    "trainer.experiment_name=hiper_alfworld_quick",
};

const char *const *hp_runcfg_small_overrides(bool quick, int *n) {
    *n = quick ? (int)(sizeof QUICK / sizeof QUICK[0]) : (int)(sizeof SMALL / sizeof SMALL[0]);
    return quick ? QUICK : SMALL;
}
