/* hiper eval — play episodes with a model and report success per ALFWorld task type, or WebShop score
 * and success (src/agent, hiper/eval.h).
 *
 *   hiper eval --model DIR --env alfworld|webshop --split S [--episodes N] [--temperature 0.4] ...
 *
 * Prompt settings come from DIR/agent.json when present (written by hiper sft / hiper train); the
 * options override them. */
#include "cli.h"
#include "hiper/agent.h"
#include "hiper/model.h"

#include <cjson/cJSON.h>
#include <stdlib.h>
#include <string.h>

static const char USAGE[] = "usage: hiper eval --model DIR --env alfworld|webshop|external [options]\n"
                            "Play episodes with the model (sampling at --temperature) and report the success rate per\n"
                            "task type (ALFWorld) or the score and success rate (WebShop).";

typedef struct eval_args {
    const char *model, *env, *split, *format, *style, *env_options, *jsonl, *tokenizer;
    int64_t episodes, max_steps, batch, seed, max_prompt, max_response, top_k;
    double temperature, top_p;
    bool json, sequential, truncate;
} eval_args;

static int run_eval(const eval_args *a, hp_err *err) {
    hp_env_family fam = hp_env_family_of(a->env);
    hp_eval_cfg ec = hp_eval_cfg_default(HP_FMT_HIPER, fam);
    bool found;
    if (hp_prompt_cfg_load(a->model, &ec.rollout.prompt, &found, err)) return HP_FAIL;
    ec.rollout.prompt.family = fam;
    if (a->format && hp_fmt_parse(a->format, &ec.rollout.prompt.fmt, err)) return HP_FAIL;
    if (a->style && hp_prompt_style_parse(a->style, &ec.rollout.prompt.style, err)) return HP_FAIL;
    if (a->max_prompt >= 0) ec.rollout.prompt.max_prompt_tokens = (int)a->max_prompt;
    if (a->max_response > 0) ec.rollout.prompt.max_response_tokens = (int)a->max_response;
    if (a->truncate) ec.rollout.prompt.truncate_prompt = true;
    ec.rollout.gen.max_new_tokens = ec.rollout.prompt.max_response_tokens;
    ec.rollout.gen.temperature = a->temperature;
    ec.rollout.gen.top_p = a->top_p;
    ec.rollout.gen.top_k = (int)a->top_k;
    if (a->split) ec.rollout.split = a->split;
    if (a->max_steps > 0) ec.rollout.max_steps = (int)a->max_steps;
    ec.rollout.seed = (uint64_t)a->seed;
    ec.n_episodes = (int)a->episodes;
    ec.batch = (int)a->batch;
    ec.sequential = a->sequential;
    ec.jsonl_path = a->jsonl;
    cJSON *opts = NULL;
    if (a->env_options && !(opts = cJSON_Parse(a->env_options)))
        return hp_fail(err, "--env-options: not valid JSON: %s", a->env_options);
    hp_tok *tok = hp_tok_load(a->tokenizer ? a->tokenizer : a->model, err);
    hp_model *m = tok ? hp_model_load(a->model, err) : NULL;
    int rc = HP_FAIL;
    if (m) {
        hp_policy pol = hp_policy_model(m);
        hp_eval_result res;
        rc = hp_eval_run(a->env, opts, tok, &pol, &ec, &res, err);
        if (rc == HP_OK) {
            if (a->json) {
                char *s = hp_eval_json(&res);
                printf("%s\n", s);
                free(s);
            } else {
                printf("%s %s, %s prompts (%s), temperature %g, max %d steps\n", a->env, ec.rollout.split,
                       hp_fmt_name(ec.rollout.prompt.fmt),
                       ec.rollout.prompt.style == HP_STYLE_COMPACT ? "compact" : "upstream", a->temperature,
                       ec.rollout.max_steps);
                hp_eval_print(stdout, &res, fam);
            }
        }
    }
    hp_model_free(m);
    hp_tok_free(tok);
    cJSON_Delete(opts);
    return rc;
}

int hp_cmd_eval(int argc, char **argv) {
    eval_args a = {.episodes = 128, .max_steps = 0, .batch = 32, .seed = 1, .max_prompt = -1, .max_response = 0,
                   .temperature = 0.4, .top_p = 1.0};
    const hp_opt opts[] = {
        {"model", HP_OPT_STR, &a.model, "model directory"},
        {"env", HP_OPT_STR, &a.env, "alfworld | webshop | external"},
        {"split", HP_OPT_STR, &a.split, "split (alfworld valid_seen, webshop test)"},
        {"episodes", HP_OPT_INT, &a.episodes, "episodes (128)"},
        {"temperature", HP_OPT_F64, &a.temperature, "sampling temperature (0.4; 0 = greedy)"},
        {"top-p", HP_OPT_F64, &a.top_p, "nucleus sampling (1 = off)"},
        {"top-k", HP_OPT_INT, &a.top_k, "top-k sampling (0 = off)"},
        {"max-steps", HP_OPT_INT, &a.max_steps, "turns per episode (alfworld 50, webshop 15)"},
        {"batch", HP_OPT_INT, &a.batch, "environments played together (32)"},
        {"seed", HP_OPT_INT, &a.seed, "seed (1)"},
        {"format", HP_OPT_STR, &a.format, "hiper | think | action (default: agent.json, else hiper)"},
        {"style", HP_OPT_STR, &a.style, "upstream | compact (default: agent.json, else upstream)"},
        {"max-prompt", HP_OPT_INT, &a.max_prompt, "prompt token limit (2048)"},
        {"max-response", HP_OPT_INT, &a.max_response, "response token limit (512)"},
        {"truncate", HP_OPT_FLAG, &a.truncate, "cut overlong prompts (counted) instead of failing"},
        {"sequential", HP_OPT_FLAG, &a.sequential, "play tasks 0..N-1 instead of a seeded draw"},
        {"env-options", HP_OPT_STR, &a.env_options, "JSON object of environment options"},
        {"tokenizer", HP_OPT_STR, &a.tokenizer, "tokenizer.json or directory (default: the model's)"},
        {"jsonl", HP_OPT_STR, &a.jsonl, "write the trajectories to this JSONL file"},
        {"json", HP_OPT_FLAG, &a.json, "print the result as one JSON object"},
        {NULL, 0, NULL, NULL},
    };
    int n_pos = 0;
    int prc = hp_args_parse(argc, argv, 2, opts, USAGE, NULL, 0, &n_pos);
    if (prc == 1) return HP_EXIT_OK;
    if (prc) return HP_EXIT_USAGE;
    if (!a.model || !a.env) return hp_cli_usage_error("eval", "--model and --env are required");
    if (a.episodes < 1 || a.batch < 1) return hp_cli_usage_error("eval", "--episodes and --batch must be >= 1");
    if (a.temperature < 0) return hp_cli_usage_error("eval", "--temperature must be >= 0");
    hp_err err = {{0}};
    return run_eval(&a, &err) ? hp_cli_error(&err) : HP_EXIT_OK;
}
