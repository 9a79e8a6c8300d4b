/* hiper sft — supervised warm start of a model from expert demonstrations (src/agent, hiper/sft.h).
 *
 *   hiper sft --model DIR --env alfworld|webshop --out DIR [--episodes N] [--epochs E] [--lr LR]
 *             [--noise P] [--seed S] [--format hiper|think|action] [--style upstream|compact] ...
 *   hiper sft --env alfworld|webshop --corpus FILE [--episodes N]    environment text for a tokenizer
 *
 * The prompt settings are read from DIR/agent.json when present (options override them) and written
 * to the output directory's agent.json, so that `hiper eval` renders prompts the same way. */
#include "cli.h"
#include "hiper/agent.h"
#include "hiper/dist.h"
#include "hiper/model.h"
#include "hiper/sft_train.h"

#include <cjson/cJSON.h>
#include <stdlib.h>
#include <string.h>

static const char USAGE[] =
    "usage: hiper sft --model DIR --env alfworld|webshop --out DIR [options]\n"
    "       hiper sft --env alfworld|webshop --corpus FILE [--episodes N] [--noise P] [--seed S]\n"
    "Fine-tune a model on expert demonstrations rendered in the run's prompt format (cross-entropy on the\n"
    "response tokens only), or write an environment-text corpus for tokenizer training.";

typedef struct sft_args {
    const char *model, *env, *out, *corpus, *format, *style, *split, *env_options, *tokenizer;
    int64_t episodes, epochs, seed, batch, max_len, max_steps, history, max_prompt;
    double lr, warmup, min_lr, noise, noise_repeat, weight_decay;
    bool keep_noisy, quiet;
} sft_args;

static bool has_expert(const hp_env_kind *k) { return k->expert_open != NULL; }

/* Prompt settings: defaults, then the model's agent.json, then the options. */
static int prompt_settings(const sft_args *a, hp_prompt_cfg *pc, hp_err *err) {
    *pc = hp_prompt_cfg_default(HP_FMT_HIPER, hp_env_family_of(a->env));
    if (a->model) {
        bool found;
        if (hp_prompt_cfg_load(a->model, pc, &found, err)) return HP_FAIL;
    }
    if (a->format && hp_fmt_parse(a->format, &pc->fmt, err)) return HP_FAIL;
    if (a->style && hp_prompt_style_parse(a->style, &pc->style, err)) return HP_FAIL;
    if (a->history >= 0) pc->history_length = (int)a->history;
    if (a->max_prompt >= 0) pc->max_prompt_tokens = (int)a->max_prompt;
    return HP_OK;
}

static int run_sft(const sft_args *a, cJSON *opts, const hp_dist *dist, hp_err *err) {
    hp_prompt_cfg pc;
    if (prompt_settings(a, &pc, err)) {
        cJSON_Delete(opts);
        return HP_FAIL;
    }
    hp_env *env = hp_env_open(a->env, opts, err);
    cJSON_Delete(opts);
    if (!env) return HP_FAIL;
    hp_expert ex;
    if (hp_expert_open(a->env, &ex, err)) {
        hp_env_free(env);
        return HP_FAIL;
    }
    hp_demo_cfg dc = hp_demo_cfg_default(pc.fmt, pc.family);
    dc.prompt = pc;
    dc.split = a->split;
    dc.n_episodes = (int)a->episodes;
    dc.noise = a->noise;
    dc.noise_repeat = a->noise_repeat;
    dc.seed = (uint64_t)a->seed;
    dc.keep_noisy_targets = a->keep_noisy;
    if (a->max_steps > 0) dc.max_steps = (int)a->max_steps;
    else dc.max_steps = hp_env_kind_find(a->env)->max_steps; /* a kind with an expert (checked) */
    int rc = HP_OK;
    if (a->corpus) { /* written by rank 0 alone */
        if (hp_dist_root(dist)) rc = hp_sft_write_corpus(env, &ex, &dc, a->corpus, err);
        if (rc == HP_OK) printf("wrote the %s corpus of %d episodes to %s\n", a->env, dc.n_episodes, a->corpus);
        hp_expert_close(&ex);
        hp_env_free(env);
        return hp_dist_agree(dist, rc, err);
    }
    hp_sft_set set;
    double t0 = hp_now();
    rc = hp_sft_collect(env, &ex, &dc, &set, err);
    hp_expert_close(&ex);
    hp_env_free(env);
    if (rc) return HP_FAIL;
    printf("demonstrations: %d episodes (expert won %d), %d examples, %d noisy steps, %.1f s\n", set.n_episodes,
           set.n_won, set.n, set.n_noisy_turns, hp_now() - t0);
    hp_tok *tok = hp_tok_load(a->tokenizer ? a->tokenizer : a->model, err);
    hp_model *m = tok ? hp_model_load(a->model, err) : NULL;
    if (hp_dist_agree(dist, m ? HP_OK : HP_FAIL, err)) { /* every rank trains, or none */
        hp_model_free(m);
        hp_tok_free(tok);
        hp_sft_set_free(&set);
        return HP_FAIL;
    }
    hp_sft_cfg sc = hp_sft_cfg_default();
    sc.epochs = (int)a->epochs;
    sc.lr = a->lr;
    sc.batch = (int)a->batch;
    sc.max_len = (int)a->max_len;
    sc.seed = (uint64_t)a->seed;
    sc.weight_decay = a->weight_decay;
    sc.warmup_ratio = a->warmup;
    sc.min_lr_ratio = a->min_lr;
    sc.log_every = a->quiet ? 0 : 10;
    sc.dist = dist; /* under mpirun: each rank passes its share of every batch */
    /* the loss on (up to) the first 64 examples, before and after */
    hp_sft_set probe = set;
    probe.n = set.n < 64 ? set.n : 64;
    double before = 0, after = 0;
    hp_sft_report rep;
    rc = hp_sft_eval_loss(m, tok, &probe, sc.max_len, &before, err);
    if (rc == HP_OK) rc = hp_sft_train(m, tok, &set, &sc, &rep, err);
    if (rc == HP_OK) rc = hp_sft_eval_loss(m, tok, &probe, sc.max_len, &after, err);
    if (rc == HP_OK) {
        printf("sft: %d steps, %lld response tokens, %.1f s; epoch loss %.4f -> %.4f; probe loss %.4f -> %.4f\n",
               rep.steps, (long long)rep.tokens, rep.seconds, rep.first_loss, rep.last_loss, before, after);
        const char *tokdir = a->tokenizer && hp_is_dir(a->tokenizer) ? a->tokenizer : a->model;
        if (hp_dist_root(dist)) { /* every rank holds the same weights: rank 0 saves them */
            rc = hp_model_save(m, a->out, a->tokenizer && !hp_is_dir(a->tokenizer) ? NULL : tokdir, err);
            if (rc == HP_OK) rc = hp_prompt_cfg_save(&pc, a->env, a->out, err);
            if (rc == HP_OK) printf("saved to %s\n", a->out);
        }
        rc = hp_dist_agree(dist, rc, err);
    }
    hp_model_free(m);
    hp_tok_free(tok);
    hp_sft_set_free(&set);
    return rc;
}

int hp_cmd_sft(int argc, char **argv, const hp_dist *dist) {
    sft_args a = {.split = "train", .episodes = 100, .epochs = 3, .seed = 1, .batch = 16, .max_len = 2048,
                  .max_steps = 0, .history = -1, .max_prompt = -1, .lr = 1e-3, .warmup = 0.03, .min_lr = 0.1, .noise = 0.1,
                  .weight_decay = 0.01};
    const hp_opt opts[] = {
        {"model", HP_OPT_STR, &a.model, "model directory (config.json, model.safetensors, tokenizer.json)"},
        {"env", HP_OPT_STR, &a.env, "alfworld | webshop"},
        {"out", HP_OPT_STR, &a.out, "output model directory"},
        {"episodes", HP_OPT_INT_POS, &a.episodes, "expert episodes (100)"},
        {"epochs", HP_OPT_INT_POS, &a.epochs, "passes over the demonstrations (3)"},
        {"lr", HP_OPT_F64_POS, &a.lr, "AdamW learning rate (1e-3)"},
        {"warmup-ratio", HP_OPT_F64_UNIT, &a.warmup, "share of the steps warming the learning rate up (0.03)"},
        {"min-lr-ratio", HP_OPT_F64_UNIT, &a.min_lr, "cosine decay ends at lr times this; 1 = constant (0.1)"},
        {"noise", HP_OPT_F64_UNIT, &a.noise, "share of detour steps in the demonstrations (0.1)"},
        {"noise-repeat", HP_OPT_F64_UNIT, &a.noise_repeat, "share of the detours that repeat the previous action (0)"},
        {"seed", HP_OPT_INT, &a.seed, "seed (1)"},
        {"format", HP_OPT_STR, &a.format, "hiper | think | action (default: agent.json, else hiper)"},
        {"style", HP_OPT_STR, &a.style, "upstream | compact (default: agent.json, else upstream)"},
        {"batch", HP_OPT_INT_POS, &a.batch, "examples per optimiser step (16)"},
        {"max-len", HP_OPT_INT_POS, &a.max_len, "longest example in tokens; longer prompts lose their oldest tokens (2048)"},
        {"max-steps", HP_OPT_INT_POS, &a.max_steps, "steps per demonstration episode (alfworld 50, webshop 15)"},
        {"history", HP_OPT_INT_NONNEG, &a.history, "remembered steps shown in the prompt (2)"},
        {"max-prompt", HP_OPT_INT_POS, &a.max_prompt, "prompt token limit written to agent.json (2048)"},
        {"split", HP_OPT_STR, &a.split, "environment split (train)"},
        {"env-options", HP_OPT_STR, &a.env_options, HP_ENV_OPTIONS_HELP},
        {"tokenizer", HP_OPT_STR, &a.tokenizer, "tokenizer.json or directory (default: the model's)"},
        {"weight-decay", HP_OPT_F64_NONNEG, &a.weight_decay, "AdamW weight decay (0.01)"},
        {"keep-noisy", HP_OPT_FLAG, &a.keep_noisy, "also train on the random detour steps"},
        {"corpus", HP_OPT_STR, &a.corpus, "write an environment-text corpus to FILE instead of training"},
        {"quiet", HP_OPT_FLAG, &a.quiet, "no per-step log"},
        {NULL, 0, NULL, NULL},
    };
    int n_pos = 0;
    int prc = hp_args_parse(argc, argv, 2, opts, USAGE, NULL, 0, &n_pos);
    if (prc == 1) return HP_EXIT_OK;
    if (prc) return HP_EXIT_USAGE;
    if (!a.env) return hp_cli_usage_error("sft", "--env is required");
    const hp_env_kind *k = hp_env_kind_find(a.env);
    if (!k || !k->expert_open) {
        char names[128];
        return hp_cli_usage_error("sft", "--env must be %s (got '%s')", hp_env_kind_names(names, sizeof names, " or ", has_expert),
                                  a.env);
    }
    if (!a.corpus && (!a.model || !a.out)) return hp_cli_usage_error("sft", "--model and --out are required");
    if (a.episodes < 0 || a.epochs < 1 || a.batch < 1 || !(a.lr > 0) || !(a.noise >= 0 && a.noise <= 1) ||
        !(a.noise_repeat >= 0 && a.noise_repeat <= 1))
        return hp_cli_usage_error("sft", "need --episodes >= 0, --epochs >= 1, --batch >= 1, --lr > 0, 0 <= --noise, --noise-repeat <= 1");
    cJSON *env_opts = NULL;
    if (hp_cli_env_options("sft", a.env_options, &env_opts)) return HP_EXIT_USAGE;
    hp_err err = {{0}};
    if (run_sft(&a, env_opts, dist, &err)) return hp_dist_root(dist) ? hp_cli_error(&err) : HP_EXIT_ERROR;
    return HP_EXIT_OK;
}
