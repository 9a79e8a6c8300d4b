/* hiper/runcfg.h — the configuration of one training run: a JSON file with upstream-style dotted keys
 * (verl-agent / HiPER names: algorithm.adv_estimator, actor.optim.lr, env.rollout.n, ...), plus
 * `key=value` overrides from the command line.
 *
 * Contract:
 * - Keys may be written flat ("actor.optim.lr": 1e-6) or nested ({"actor": {"optim": {"lr": 1e-6}}});
 *   both mean the same key. Every key is known in advance (hp_runcfg_keys): an unknown key, a value of
 *   the wrong JSON type (a string for a number, 1.5 for an integer, "yes" for a bool), an enum value
 *   outside its choices, or a key given twice is an error naming the file and the key.
 * - Defaults depend on the estimator and the environment, as in the upstream scripts (hiper.md §6.3,
 *   baselines.md §4): the file's (or overrides') algorithm.adv_estimator and env.name are read first,
 *   the defaults for that pair are set, then the file is applied, then the overrides (later wins).
 * - hp_runcfg_validate checks ranges and cross-key consistency (also error messages naming the key). A
 *   number must be finite; a count that cannot be zero or negative is refused, not clamped. Errors of
 *   a load name where the value came from: the file, or "command line" for a key=value override
 *   (also when no file is given), with the value ("... must be >= 0 (got -1)").
 * - hp_runcfg_to_json writes every key (flat, sorted as in the key table) so that a run directory's
 *   run_config.json reproduces the run exactly; loading it back gives an identical struct.
 */
#ifndef HIPER_RUNCFG_H
#define HIPER_RUNCFG_H

#include "hiper/base.h"

#define HP_RC_STR_MAX 512

typedef char hp_rc_str[HP_RC_STR_MAX];

/* One model's optimiser (actor.optim.*, critic.optim.*): AdamW and its learning-rate schedule. */
typedef struct hp_rc_optim {
    double lr, weight_decay, beta1, beta2, eps;
    int64_t warmup_steps;
    hp_rc_str schedule; /* constant | cosine */
} hp_rc_optim;

typedef struct hp_runcfg {
    hp_rc_str description;

    struct {
        hp_rc_str adv_estimator; /* hae | gae | grpo | rloo | gigpo */
        double gamma, lam;
        bool norm_adv_by_std_in_grpo;
        bool use_invalid_action_penalty;
        double invalid_action_penalty_coef;
        struct {
            double lam_seg;
            bool norm_adv;
            double keep_penalty;
            hp_rc_str keep_penalty_mode; /* normalized | fixed */
            double keep_consistency_penalty;
            bool keep_consistency_requires_both;
            bool bootstrap_truncated;
            hp_rc_str low_advantage_tokens; /* action (the paper) | rest */
            int64_t heads; /* 2 or 3 */
        } hae;
        struct {
            hp_rc_str mode; /* mean_norm | mean_std_norm */
            double step_advantage_w;
            bool enable_similarity;
            double similarity_thresh;
            double epsilon;
        } gigpo;
        struct {
            bool norm_adv; /* whiten GAE advantages */
        } gae;
    } algorithm;

    struct {
        hp_rc_optim optim;
        double grad_clip;
        double clip_ratio, clip_ratio_low, clip_ratio_high, clip_ratio_c;
        double entropy_coeff;
        bool use_kl_loss;
        double kl_loss_coef;
        hp_rc_str kl_loss_type;   /* kl|k1, abs, mse|k2, low_var_kl|k3 */
        hp_rc_str loss_agg_mode;  /* token-mean, ... */
        int64_t ppo_epochs, ppo_mini_batch_size, ppo_micro_batch_size;
        bool recompute_old_logp; /* false: use the rollout's log-probs as the old policy's */
    } actor;

    struct {
        hp_rc_optim optim; /* its own: the defaults are the actor's defaults, not the actor's values */
        double grad_clip;
        double cliprange_value;
        double high_value_coef, term_value_coef;
        int64_t ppo_micro_batch_size;
        int64_t warmup; /* critic-only steps before the actor trains (critic_warmup) */
        double value_scale;  /* values are predicted divided by this (1 = the paper) */
        bool calibrate_bias; /* a fresh value head's bias starts at the first batch's mean target */
        hp_rc_str backbone;  /* own (the paper: a whole critic model trains) | reference (frozen, head only) */
        int64_t ppo_epochs;  /* critic epochs per step; 0 = actor.ppo_epochs */
        int64_t ppo_mini_batch_size; /* critic rows per optimizer step; 0 = actor.ppo_mini_batch_size */
    } critic;

    struct {
        int64_t train_batch_size; /* tasks per step */
        int64_t val_batch_size;   /* validation episodes */
        int64_t max_prompt_length, max_response_length;
        hp_rc_str truncation; /* error | left */
    } data;

    struct {
        hp_rc_str name;          /* alfworld | webshop | external */
        hp_rc_str options;       /* JSON object text handed to hp_env_open ("" = defaults) */
        struct {
            int64_t n;           /* group size */
        } rollout;
        int64_t max_steps, history_length, seed;
        hp_rc_str train_split, val_split, test_split;
        hp_rc_str train_tasks;   /* "i,j,k": fixed training tasks (the overfitting check); "" = drawn */
        hp_rc_str format;        /* hiper | think | action */
        hp_rc_str prompt_style;  /* upstream | compact */
        bool keep_holds_subgoal;
    } env;

    struct {
        double temperature, top_p, val_temperature;
        int64_t top_k;
        bool logp_at_temperature; /* the trained policy is softmax(logits / temperature), as verl's actor */
        bool constrain_actions; /* not in the paper: opt-in, off in the Qwen2.5 configs */
        bool constrain_format;  /* not in the paper: with constrain_actions, the switch/subgoal tags too */
    } rollout;

    struct {
        hp_rc_str path;        /* model directory; "" = initialise a small model (model.init_*) */
        hp_rc_str critic_path; /* critic backbone; "" = same as path */
        hp_rc_str tokenizer;   /* tokenizer.json or dir; "" = the model dir's, or train one */
        int64_t tokenizer_vocab; /* BPE vocabulary when a tokenizer is trained */
        int64_t hidden_size, intermediate_size, num_hidden_layers, num_attention_heads,
            num_key_value_heads, max_position_embeddings;
        double rope_theta;
        int64_t lora_rank;
        double lora_alpha;
    } model;

    struct {
        bool enable;
        int64_t episodes;
        double noise, noise_repeat;
        int64_t epochs, batch, max_len;
        double lr, weight_decay, grad_clip;
        double lr_warmup_steps_ratio, min_lr_ratio; /* linear warm-up, then cosine decay to lr * min_lr_ratio */
    } sft;

    struct {
        int64_t total_steps, test_freq, save_freq;
        bool val_before_train;
        int64_t seed;
        int64_t threads;        /* 0 = leave OpenMP's default */
        int64_t final_eval_episodes; /* per split (valid_seen and valid_unseen) at the end; -1 = every game; 0 = skip */
        bool log_rollouts;      /* write every rollout's trajectories to rollouts.jsonl */
        hp_rc_str project_name, experiment_name;
        hp_rc_str logger;       /* "console,jsonl" (default), plus or minus tensorboard: hp_runcfg_loggers */
    } trainer;
} hp_runcfg;

typedef enum { HP_RC_F64, HP_RC_I64, HP_RC_BOOL, HP_RC_STR, HP_RC_ENUM } hp_rc_type;

typedef struct hp_rc_key {
    const char *key;     /* dotted name */
    hp_rc_type type;
    size_t offset;       /* into hp_runcfg */
    const char *choices; /* HP_RC_ENUM: "a|b|c" */
    const char *help;
} hp_rc_key;

/* The key table (NULL-terminated by key == NULL). */
const hp_rc_key *hp_runcfg_keys(void);
const hp_rc_key *hp_runcfg_find(const char *key);
/* The known key closest to a misspelt one (edit distance, hiper/suggest.h; a bare last part such as
 * "temperature" finds "rollout.temperature"), or NULL. Unknown-key errors carry it: "(did you mean
 * 'rollout.temperature'?)". */
const char *hp_runcfg_suggest(const char *key);

/* Defaults for an estimator ("hae", ...) on an environment kind (hiper/env.h: its descriptor's splits,
 * and the paper's WebShop settings for the WebShop family, its ALFWorld ones for every other). */
int hp_runcfg_defaults(hp_runcfg *cfg, const char *estimator, const char *env_name, hp_err *err);

/* Load: file (may be NULL for defaults only) then overrides ("key=value" strings). `src` names the
 * JSON text in messages when text is given instead of a file (hp_runcfg_load_text). Validates. */
int hp_runcfg_load(hp_runcfg *cfg, const char *path, const char *const *overrides, int n_overrides,
                   hp_err *err);
int hp_runcfg_load_text(hp_runcfg *cfg, const char *json, const char *src, const char *const *overrides,
                        int n_overrides, hp_err *err);
/* Apply one "key=value" override to an already loaded config (no re-defaulting). */
int hp_runcfg_set(hp_runcfg *cfg, const char *assignment, hp_err *err);
int hp_runcfg_validate(const hp_runcfg *cfg, hp_err *err);
/* trainer.logger as a bit set of HP_LOG_* (-1 when it names something else or a name twice). */
enum { HP_LOG_CONSOLE = 1, HP_LOG_JSONL = 2, HP_LOG_TENSORBOARD = 4 };
int hp_runcfg_loggers(const hp_runcfg *cfg);
/* env.train_tasks as indices: their count (0 = tasks are drawn), -1 when malformed, -2 when over
 * HP_RC_MAX_TRAIN_TASKS. */
#define HP_RC_MAX_TRAIN_TASKS 256
int hp_runcfg_train_tasks(const hp_runcfg *cfg, int64_t *out);

/* Every key as flat JSON (newly allocated text), and written atomically. */
char *hp_runcfg_to_json(const hp_runcfg *cfg);
int hp_runcfg_write(const hp_runcfg *cfg, const char *path, hp_err *err);

/* The built-in main job (`hiper train` without --config): HiPER on the built-in ALFWorld with the
 * default small model, sized for 2 CPU cores; quick = a smoke run of every phase at toy size (about
 * 10 s; its success rates mean nothing). These are
 * the overrides the shipped configs/hiper_alfworld_small.json and _quick.json hold. */
const char *const *hp_runcfg_small_overrides(bool quick, int *n);

#endif /* HIPER_RUNCFG_H */
