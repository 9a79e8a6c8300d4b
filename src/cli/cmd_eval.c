/* hiper eval — play episodes with a model and report success per ALFWorld task type, or WebShop score
 * and success, each with its 95% interval (src/agent, hiper/eval.h).
 *
 *   hiper eval --model RUN_DIR|CHECKPOINT_DIR|MODEL_DIR [--env E] [--split S[,S2]] [--episodes N] ...
 *
 * --model may be a training run directory (its last policy, ckpt/latest/actor), a checkpoint directory
 * (its actor/), or a model directory. The environment and prompt settings come from the model's
 * agent.json, the turn limit and sampling temperature of the evaluation from the run's
 * run_config.json when the model sits in a run; options override them. By default ALFWorld plays
 * every game of valid_seen and valid_unseen, WebShop every goal of its test split. */
#include "cli.h"
#include "hiper/agent.h"
#include "hiper/dist.h"
#include "hiper/model.h"
#include "hiper/runcfg.h"

#include <cjson/cJSON.h>
#include <stdlib.h>
#include <string.h>

static const char USAGE[] =
    "usage: hiper eval --model RUN_DIR|CHECKPOINT_DIR|MODEL_DIR [options]\n"
    "Play episodes with the model (sampling at --temperature) and report the success rate per task type\n"
    "(ALFWorld) or the score and success rate (WebShop), with 95% Wilson intervals. A run directory\n"
    "means its last policy (ckpt/latest/actor); its environment and evaluation settings are the run's.";

typedef struct eval_args {
    const char *model, *env, *split, *format, *style, *env_options, *jsonl, *tokenizer;
    int64_t episodes, max_steps, batch, seed, max_prompt, max_response, top_k;
    double temperature, top_p;
    bool json, sequential, truncate, quiet, constrain, free_actions;
} eval_args;

/* What --model names, resolved: the model directory and, when it sits in a run, the run directory. */
typedef struct resolved {
    char *model, *run;
} resolved;

static bool has_file(const char *dir, const char *name) {
    char *p = hp_path_join(dir, name);
    bool ok = hp_path_exists(p);
    free(p);
    return ok;
}

static int resolve_model(const char *arg, resolved *r, hp_err *err) {
    memset(r, 0, sizeof *r);
    if (has_file(arg, "config.json")) r->model = hp_xstrdup(arg);
    else if (has_file(arg, "actor/config.json")) r->model = hp_path_join(arg, "actor");
    else if (has_file(arg, "run_config.json")) {
        const char *cands[] = {"ckpt/latest/actor", "ref"};
        for (size_t i = 0; i < 2 && !r->model; i++) {
            char *d = hp_path_join(arg, cands[i]);
            if (has_file(d, "config.json")) r->model = d;
            else free(d);
        }
        if (!r->model) return hp_fail(err, "--model %s: a run directory with neither ckpt/latest/actor nor ref/", arg);
    } else {
        return hp_fail(err, "--model %s: neither a model directory (config.json), a checkpoint (actor/) nor a run "
                       "directory (run_config.json)", arg);
    }
    /* The run around it: the model directory or up to three levels above (RUN/ckpt/best/actor). */
    char *d = hp_xstrdup(r->model);
    for (int up = 0; up < 4 && !r->run; up++) {
        if (has_file(d, "run_config.json")) {
            r->run = d;
            break;
        }
        char *parent = hp_path_join(d, "..");
        free(d);
        d = parent;
    }
    if (!r->run) free(d);
    return HP_OK;
}

/* The model's environment from its agent.json ("" when it does not say). */
static char *model_env(const char *dir) {
    char *path = hp_path_join(dir, "agent.json"), *text = NULL, *env = NULL;
    size_t len = 0;
    hp_err e = {{0}};
    if (hp_path_exists(path) && hp_read_file(path, &text, &len, &e) == HP_OK) {
        cJSON *o = cJSON_ParseWithLength(text, len);
        const cJSON *x = cJSON_GetObjectItemCaseSensitive(o, "env");
        if (cJSON_IsString(x)) env = hp_xstrdup(x->valuestring);
        cJSON_Delete(o);
    }
    free(text);
    free(path);
    return env ? env : hp_xstrdup("");
}

static int eval_one(const char *env, const char *split, const hp_eval_cfg *base, const cJSON *opts,
                    const hp_tok *tok, const hp_policy *pol, hp_eval_result *res, hp_err *err) {
    hp_eval_cfg ec = *base;
    ec.rollout.split = split;
    ec.label = split;
    return hp_eval_run(env, opts, tok, pol, &ec, res, err);
}

static int run_eval(const eval_args *a, cJSON *opts, const hp_dist *dist, hp_err *err) {
    resolved r;
    if (resolve_model(a->model, &r, err)) {
        cJSON_Delete(opts);
        return HP_FAIL;
    }
    hp_runcfg *run = NULL;
    int rc = HP_OK;
    if (r.run) {
        run = hp_xcalloc(1, sizeof *run);
        char *p = hp_path_join(r.run, "run_config.json");
        rc = hp_runcfg_load(run, p, NULL, 0, err);
        free(p);
    }
    char *trained_env = model_env(r.model);
    const char *env = a->env ? a->env : trained_env[0] ? trained_env : run ? run->env.name : NULL;
    if (rc == HP_OK && !env) rc = hp_fail(err, "--model %s does not say its environment (no agent.json): give --env", a->model);
    if (rc == HP_OK && a->env && trained_env[0] && strcmp(a->env, trained_env) && hp_dist_root(dist))
        fprintf(stderr, "hiper: warning: %s was trained on %s, evaluated here on %s\n", r.model, trained_env, a->env);
    hp_env_family fam = env ? hp_env_family_of(env) : HP_FAM_ALFWORLD;
    hp_eval_cfg ec = hp_eval_cfg_default(HP_FMT_HIPER, fam);
    bool found;
    if (rc == HP_OK && hp_prompt_cfg_load(r.model, &ec.rollout.prompt, &found, err)) rc = HP_FAIL;
    ec.rollout.prompt.family = fam;
    if (run && rc == HP_OK) { /* the run's own evaluation settings */
        ec.rollout.max_steps = (int)run->env.max_steps;
        ec.rollout.gen.temperature = run->rollout.val_temperature;
    }
    if (rc == HP_OK && a->format && hp_fmt_parse(a->format, &ec.rollout.prompt.fmt, err)) rc = HP_FAIL;
    if (rc == HP_OK && a->style && hp_prompt_style_parse(a->style, &ec.rollout.prompt.style, err)) rc = HP_FAIL;
    if (a->max_prompt >= 0) ec.rollout.prompt.max_prompt_tokens = (int)a->max_prompt;
    if (a->max_response > 0) ec.rollout.prompt.max_response_tokens = (int)a->max_response;
    if (a->truncate) ec.rollout.prompt.truncate_prompt = true;
    if (a->constrain) ec.rollout.prompt.constrain_actions = true;
    if (a->free_actions) ec.rollout.prompt.constrain_actions = false;
    if (a->temperature >= 0) ec.rollout.gen.temperature = a->temperature;
    ec.rollout.gen.top_p = a->top_p;
    ec.rollout.gen.top_k = (int)a->top_k;
    if (a->max_steps > 0) ec.rollout.max_steps = (int)a->max_steps;
    ec.rollout.seed = (uint64_t)a->seed;
    ec.n_episodes = (int)a->episodes;
    ec.whole_split = a->episodes <= 0;
    ec.batch = (int)a->batch;
    ec.sequential = a->sequential;
    ec.jsonl_path = a->jsonl;
    ec.progress = a->quiet || a->json ? NULL : stderr;
    ec.dist = dist; /* under mpirun: each rank plays its share of the games, rank 0 prints */
    /* Splits: given (comma-separated), else both validation splits of ALFWorld, else the default. */
    char *splits = hp_xstrdup(a->split ? a->split : fam == HP_FAM_ALFWORLD ? "valid_seen,valid_unseen" : ec.rollout.split);
    hp_tok *tok = rc == HP_OK ? hp_tok_load(a->tokenizer ? a->tokenizer : r.model, err) : NULL;
    hp_model *m = tok ? hp_model_load(r.model, err) : NULL;
    if (!m) rc = HP_FAIL;
    hp_eval_result all = {0}, res = {0};
    int n_splits = 0;
    cJSON *out = cJSON_CreateObject();
    if (rc == HP_OK && !a->json)
        printf("%s: %s, %s prompts (%s), temperature %g, max %d turns,%s %s\n", r.model, env,
               hp_fmt_name(ec.rollout.prompt.fmt), ec.rollout.prompt.style == HP_STYLE_COMPACT ? "compact" : "upstream",
               ec.rollout.gen.temperature, ec.rollout.max_steps,
               ec.rollout.prompt.constrain_actions ? " constrained actions," : "",
               ec.whole_split ? "every game of each split" : a->sequential ? "the first games of each split" : "a seeded draw");
    hp_policy pol = m ? hp_policy_model(m) : (hp_policy){0};
    rc = hp_dist_agree(dist, rc, err); /* every rank evaluates, or none */
    for (char *save = NULL, *s = rc == HP_OK ? strtok_r(splits, ",", &save) : NULL; s && rc == HP_OK;
         s = strtok_r(NULL, ",", &save)) {
        hp_eval_result_free(&res);
        rc = eval_one(env, s, &ec, opts, tok, &pol, &res, err);
        if (rc) break;
        n_splits++;
        char *js = hp_eval_json(&res);
        cJSON_AddItemToObject(out, s, cJSON_Parse(js));
        free(js);
        if (!a->json) {
            printf("%s (%d episodes):\n", s, res.n_episodes);
            hp_eval_print(stdout, &res, fam);
        }
        hp_eval_merge(&all, &res);
    }
    if (rc == HP_OK && n_splits > 1 && !a->json) {
        printf("all splits together (%d episodes):\n", all.n_episodes);
        hp_eval_print(stdout, &all, fam);
    }
    if (rc == HP_OK && a->json) {
        /* One split: its object (as before); several: one object per split. */
        cJSON *one = n_splits == 1 ? out->child : out;
        char *s = cJSON_PrintUnformatted(one);
        printf("%s\n", s);
        cJSON_free(s);
    }
    cJSON_Delete(out);
    hp_eval_result_free(&res);
    hp_eval_result_free(&all);
    free(splits);
    hp_model_free(m);
    hp_tok_free(tok);
    cJSON_Delete(opts);
    free(trained_env);
    free(run);
    free(r.model);
    free(r.run);
    return rc;
}

int hp_cmd_eval(int argc, char **argv, const hp_dist *dist) {
    eval_args a = {.episodes = 0, .max_steps = 0, .batch = 32, .seed = 1, .max_prompt = -1, .max_response = 0,
                   .temperature = -1, .top_p = 1.0};
    const hp_opt opts[] = {
        {"model", HP_OPT_STR, &a.model, "run directory, checkpoint directory or model directory"},
        {"env", HP_OPT_STR, &a.env, "alfworld | webshop | external (default: the model's, from agent.json)"},
        {"split", HP_OPT_STR, &a.split, "split or comma-separated splits (alfworld: valid_seen,valid_unseen; webshop: test)"},
        {"episodes", HP_OPT_INT_NONNEG, &a.episodes, "episodes per split (default 0: every game of the split, in order)"},
        {"temperature", HP_OPT_F64_NONNEG, &a.temperature, "sampling temperature (the run's, else 0.4; 0 = greedy)"},
        {"top-p", HP_OPT_F64_PROB, &a.top_p, "nucleus sampling (1 = off)"},
        {"top-k", HP_OPT_INT_NONNEG, &a.top_k, "top-k sampling (0 = off)"},
        {"max-steps", HP_OPT_INT_POS, &a.max_steps, "turns per episode (the run's, else alfworld 50, webshop 15)"},
        {"batch", HP_OPT_INT_POS, &a.batch, "environments played together (32)"},
        {"seed", HP_OPT_INT, &a.seed, "seed (1)"},
        {"format", HP_OPT_STR, &a.format, "hiper | think | action (default: agent.json, else hiper)"},
        {"style", HP_OPT_STR, &a.style, "upstream | compact (default: agent.json, else upstream)"},
        {"max-prompt", HP_OPT_INT_POS, &a.max_prompt, "prompt token limit (agent.json, else 2048)"},
        {"max-response", HP_OPT_INT_POS, &a.max_response, "response token limit (agent.json, else 512)"},
        {"truncate", HP_OPT_FLAG, &a.truncate, "cut overlong prompts (counted) instead of failing"},
        {"constrain-actions", HP_OPT_FLAG, &a.constrain, "keep <action> to the admissible commands (default: agent.json)"},
        {"free-actions", HP_OPT_FLAG, &a.free_actions, "sample <action> freely even if the model was trained constrained"},
        {"sequential", HP_OPT_FLAG, &a.sequential, "with --episodes N: play tasks 0..N-1 instead of a seeded draw"},
        {"env-options", HP_OPT_STR, &a.env_options, HP_ENV_OPTIONS_HELP},
        {"tokenizer", HP_OPT_STR, &a.tokenizer, "tokenizer.json or directory (default: the model's)"},
        {"jsonl", HP_OPT_STR, &a.jsonl, "write the trajectories to this JSONL file"},
        {"json", HP_OPT_FLAG, &a.json, "print the result as JSON (one object per split when several)"},
        {"quiet", HP_OPT_FLAG, &a.quiet, "no progress lines on stderr"},
        {NULL, 0, NULL, NULL},
    };
    int n_pos = 0;
    int prc = hp_args_parse(argc, argv, 2, opts, USAGE, NULL, 0, &n_pos);
    if (prc == 1) return HP_EXIT_OK;
    if (prc) return HP_EXIT_USAGE;
    if (!a.model) return hp_cli_usage_error("eval", "--model is required");
    if (a.episodes < 0 || a.batch < 1)
        return hp_cli_usage_error("eval", "--episodes must be >= 0 (0 = whole split) and --batch >= 1");
    if (a.temperature < 0 && a.temperature != -1) return hp_cli_usage_error("eval", "--temperature must be >= 0");
    if (a.constrain && a.free_actions) return hp_cli_usage_error("eval", "--constrain-actions and --free-actions exclude each other");
    if (a.top_p <= 0 || a.top_p > 1) return hp_cli_usage_error("eval", "--top-p must be in (0, 1]");
    if (a.jsonl && (!a.split || strchr(a.split, ','))) return hp_cli_usage_error("eval", "--jsonl needs one --split (it holds one split's trajectories)");
    cJSON *env_opts = NULL;
    if (hp_cli_env_options("eval", a.env_options, &env_opts)) return HP_EXIT_USAGE;
    hp_err err = {{0}};
    if (run_eval(&a, env_opts, dist, &err)) return hp_dist_root(dist) ? hp_cli_error(&err) : HP_EXIT_ERROR;
    return HP_EXIT_OK;
}
