/* hiper gradvar — the variance of the policy-gradient estimate under HAE, turn-level GAE and token-level GAE
 * on the same trajectories (hiper/gradvar.h; issue 13, item 4; docs/results.md).
 *
 *   hiper gradvar --model RUN_DIR [--episodes N] [--batches M] [--estimators hae,turn_gae,gae] [--json]
 *
 * The policy is the run's last one (ckpt/latest/actor, or --checkpoint DIR), its critic the checkpoint's
 * critic/; the episodes are played on the run's training split with its rollout settings (temperature,
 * turn limit, prompt), one episode per drawn task, seeded by --seed. */
#include "cli.h"

#include "hiper/agent.h"
#include "hiper/gradvar.h"
#include "hiper/model.h"
#include "hiper/rollout.h"
#include "hiper/runcfg.h"

#include <cjson/cJSON.h>
#include <math.h>
#include <omp.h>
#include <stdlib.h>
#include <string.h>

static const char USAGE[] =
    "usage: hiper gradvar --model RUN_DIR [options]\n"
    "How noisy the policy gradient is under each advantage estimator, on the same trajectories: play\n"
    "--episodes episodes with the run's policy (one per drawn task of the training split, the run's\n"
    "rollout settings), give them HAE's, turn-level GAE's and token-level GAE's advantages with the\n"
    "run's critic (the trainer's own code), cut them into --batches disjoint mini-batches of\n"
    "trajectories, and compute each mini-batch's policy-gradient estimate with the engine's backward.\n"
    "Prints, per parameter group and in total, the variance of those estimates (the trace of their\n"
    "covariance), |E g|^2 estimated without bias (|mean|^2 - var/batches), the relative variance\n"
    "var/|E g|^2 and the ratios of the first estimator to the others.";

static bool has_file(const char *dir, const char *name) {
    char *p = hp_path_join(dir, name);
    bool ok = hp_path_exists(p);
    free(p);
    return ok;
}

typedef struct gv_args {
    const char *model, *checkpoint, *estimators, *split, *values;
    int64_t episodes, batches, seed, threads;
    bool json, quiet;
} gv_args;

static void print_text(const gv_args *a, const char *actor_dir, const hp_gradvar_result *res, const hp_rollout *ro) {
    int won = 0;
    for (int k = 0; k < ro->n_trajs; k++) won += ro->trajs[k].won;
    printf("policy %s, %d episodes (%d won, %d turns) on %s, %d disjoint mini-batches of %d-%d trajectories;\n"
           "values: %s\n", actor_dir, res->n_trajs, won, res->n_rows, a->split ? a->split : "the training split",
           res->n_batches, res->min_batch_trajs, res->max_batch_trajs,
           res->critic_heads ? (res->critic_heads == 3 ? "the run's 3-head critic" : res->critic_heads == 2
                                ? "the run's 2-head critic" : "the run's 1-head critic (every head reads it)")
                             : "none (every value 0: Monte-Carlo returns)");
    printf("\nloss tokens and mean |advantage| per estimator:");
    for (int e = 0; e < res->n_est; e++)
        printf(" %s %lld (%.3f)", res->est[e].name, (long long)res->est[e].loss_tokens, res->est[e].adv_abs_mean);
    printf("\n\nvariance of a mini-batch's gradient (sum over the group's parameters of the per-parameter variance)\n");
    printf("%-10s %10s", "group", "params");
    for (int e = 0; e < res->n_est; e++) printf(" %12s", res->est[e].name);
    for (int e = 1; e < res->n_est; e++) {
        char h[40];
        snprintf(h, sizeof h, "%s/%s", res->est[0].name, res->est[e].name);
        printf(" %15s", h);
    }
    printf("\n");
    for (int pass = 0; pass < 3; pass++) {
        if (pass == 1)
            printf("\n|E g|^2 estimated without bias: |mean gradient|^2 - var/%d (<= 0: the mean gradient is not told "
                   "apart from noise)\n", res->n_batches);
        if (pass == 2)
            printf("\nrelative variance var / |E g|^2 (independent of the advantages' scale; 'noise' where |E g|^2 <= 0)\n");
        for (int g = 0; g <= HP_GRADVAR_GROUPS; g++) {
            if (!res->n_params[g]) continue;
            printf("%-10s %10lld", hp_gradvar_group_name(g), (long long)res->n_params[g]);
            double v[HP_GRADVAR_MAX_EST];
            for (int e = 0; e < res->n_est; e++) {
                const hp_gradvar_est *x = &res->est[e];
                v[e] = pass == 0 ? x->var[g] : pass == 1 ? x->signal_sq[g] : x->signal_sq[g] > 0 ? x->var[g] / x->signal_sq[g] : NAN;
                if (isnan(v[e])) printf(" %12s", "noise");
                else printf(" %12.4e", v[e]);
            }
            for (int e = 1; e < res->n_est; e++) {
                double r = v[0] / v[e];
                if (pass == 1 || !isfinite(r) || v[e] <= 0) printf(" %15s", "–");
                else printf(" %15.3f", r);
            }
            printf("\n");
        }
    }
}

static cJSON *result_json(const char *actor_dir, const hp_gradvar_result *res) {
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "policy", actor_dir);
    cJSON_AddNumberToObject(o, "episodes", res->n_trajs);
    cJSON_AddNumberToObject(o, "turns", res->n_rows);
    cJSON_AddNumberToObject(o, "batches", res->n_batches);
    cJSON_AddNumberToObject(o, "critic_heads", res->critic_heads);
    cJSON *groups = cJSON_AddObjectToObject(o, "params");
    for (int g = 0; g <= HP_GRADVAR_GROUPS; g++)
        if (res->n_params[g]) cJSON_AddNumberToObject(groups, hp_gradvar_group_name(g), (double)res->n_params[g]);
    cJSON *ests = cJSON_AddObjectToObject(o, "estimators");
    for (int e = 0; e < res->n_est; e++) {
        const hp_gradvar_est *x = &res->est[e];
        cJSON *eo = cJSON_AddObjectToObject(ests, x->name);
        cJSON_AddNumberToObject(eo, "loss_tokens", (double)x->loss_tokens);
        cJSON_AddNumberToObject(eo, "adv_abs_mean", x->adv_abs_mean);
        cJSON *var = cJSON_AddObjectToObject(eo, "var"), *msq = cJSON_AddObjectToObject(eo, "mean_sq");
        cJSON *sig = cJSON_AddObjectToObject(eo, "signal_sq");
        for (int g = 0; g <= HP_GRADVAR_GROUPS; g++) {
            if (!res->n_params[g]) continue;
            cJSON_AddNumberToObject(var, hp_gradvar_group_name(g), x->var[g]);
            cJSON_AddNumberToObject(msq, hp_gradvar_group_name(g), x->mean_sq[g]);
            cJSON_AddNumberToObject(sig, hp_gradvar_group_name(g), x->signal_sq[g]);
        }
    }
    return o;
}

static int run(const gv_args *a, hp_err *err) {
    if (!has_file(a->model, "run_config.json"))
        return hp_fail(err, "--model %s: not a run directory (no run_config.json)", a->model);
    hp_runcfg *cfg = hp_xcalloc(1, sizeof *cfg);
    char *cfg_path = hp_path_join(a->model, "run_config.json");
    char *ck = a->checkpoint ? hp_xstrdup(a->checkpoint) : hp_path_join(a->model, "ckpt/latest");
    char *actor_dir = hp_path_join(ck, "actor"), *critic_dir = hp_path_join(ck, "critic");
    char *ref_dir = hp_path_join(a->model, "ref");
    hp_tok *tok = NULL;
    hp_model *actor = NULL, *critic = NULL, *ref = NULL;
    cJSON *env_opts = NULL;
    hp_env **envs = NULL;
    hp_rollout ro = {0};
    int rc = hp_runcfg_load(cfg, cfg_path, NULL, 0, err);
    if (rc == HP_OK && !has_file(actor_dir, "config.json")) rc = hp_fail(err, "%s: no policy (config.json) there", actor_dir);
    if (rc == HP_OK && a->threads > 0) omp_set_num_threads((int)a->threads);
    else if (rc == HP_OK && cfg->trainer.threads > 0) omp_set_num_threads((int)cfg->trainer.threads);
    if (rc == HP_OK && !(tok = hp_tok_load(actor_dir, err))) rc = HP_FAIL;
    if (rc == HP_OK && !(actor = hp_model_load(actor_dir, err))) rc = HP_FAIL;
    bool want_critic = !a->values || strcmp(a->values, "zero");
    if (rc == HP_OK && want_critic && has_file(critic_dir, "config.json") && !(critic = hp_model_load(critic_dir, err)))
        rc = HP_FAIL;
    if (rc == HP_OK && want_critic && !critic)
        fprintf(stderr, "hiper: warning: %s has no critic: every value is 0\n", ck);
    if (rc == HP_OK && critic && !strcmp(cfg->critic.backbone, "reference") && !(ref = hp_model_load(ref_dir, err)))
        rc = hp_err_wrap(err, "the reference policy the critic's heads read");
    /* The rollout: the run's prompt (the policy's agent.json) and sampling settings. */
    hp_fmt fmt = HP_FMT_HIPER;
    if (rc == HP_OK) rc = hp_fmt_parse(cfg->env.format, &fmt, err);
    hp_env_family fam = hp_env_family_of(cfg->env.name);
    hp_rollout_cfg rcfg = hp_rollout_cfg_default(fmt, fam);
    bool found = false;
    if (rc == HP_OK) rc = hp_prompt_cfg_load(actor_dir, &rcfg.prompt, &found, err);
    if (rc == HP_OK && !found) rc = hp_fail(err, "%s: no agent.json (the prompt settings the policy was trained with)", actor_dir);
    rcfg.split = a->split ? a->split : cfg->env.train_split;
    rcfg.n_tasks = (int)a->episodes;
    rcfg.group_n = 1;
    rcfg.max_steps = (int)cfg->env.max_steps;
    rcfg.gen.temperature = cfg->rollout.temperature;
    rcfg.gen.top_k = cfg->rollout.top_k > 0 ? (int)cfg->rollout.top_k : 0;
    rcfg.gen.top_p = cfg->rollout.top_p;
    rcfg.gen.logp_at_temperature = cfg->rollout.logp_at_temperature;
    rcfg.seed = (uint64_t)a->seed;
    rcfg.keep_holds_subgoal = cfg->env.keep_holds_subgoal;
    if (rc == HP_OK && cfg->env.options[0] && !(env_opts = cJSON_Parse(cfg->env.options)))
        rc = hp_fail(err, "%s: env.options is not JSON", cfg_path);
    if (rc == HP_OK) {
        envs = hp_xcalloc((size_t)a->episodes, sizeof *envs);
        rc = hp_env_open_many(cfg->env.name, env_opts, (int)a->episodes, envs, err);
        if (rc) free(envs), envs = NULL;
    }
    double t0 = hp_now();
    hp_policy pol = actor ? hp_policy_model(actor) : (hp_policy){0};
    if (rc == HP_OK && !a->quiet) fprintf(stderr, "playing %lld episodes ...\n", (long long)a->episodes);
    if (rc == HP_OK) rc = hp_rollout_run(envs, tok, &pol, &rcfg, &ro, err);
    double t1 = hp_now();
    hp_gradvar_cfg gc = {.n_batches = (int)a->batches, .zero_values = !want_critic};
    char *ests = hp_xstrdup(a->estimators ? a->estimators : "hae,turn_gae,gae");
    for (char *save = NULL, *s = strtok_r(ests, ",", &save); s; s = strtok_r(NULL, ",", &save))
        if (gc.n_estimators < HP_GRADVAR_MAX_EST) gc.estimators[gc.n_estimators++] = s;
    hp_gradvar_result res;
    if (rc == HP_OK && !a->quiet)
        fprintf(stderr, "rollout %.1f s; gradients of %d mini-batches under %d estimators ...\n", t1 - t0, gc.n_batches,
                gc.n_estimators);
    if (rc == HP_OK) rc = hp_gradvar_run(actor, critic, ref, &ro, tok, cfg, &gc, &res, err);
    if (rc == HP_OK && !a->quiet) fprintf(stderr, "gradients %.1f s\n", hp_now() - t1);
    if (rc == HP_OK && a->json) {
        cJSON *o = result_json(actor_dir, &res);
        cJSON_AddNumberToObject(o, "seed", (double)a->seed);
        cJSON_AddStringToObject(o, "split", rcfg.split);
        char *s = cJSON_PrintUnformatted(o);
        printf("%s\n", s);
        cJSON_free(s);
        cJSON_Delete(o);
    } else if (rc == HP_OK) {
        print_text(a, actor_dir, &res, &ro);
    }
    free(ests);
    hp_rollout_free(&ro);
    for (int i = 0; envs && i < a->episodes; i++) hp_env_free(envs[i]);
    free(envs);
    cJSON_Delete(env_opts);
    hp_model_free(actor), hp_model_free(critic), hp_model_free(ref);
    hp_tok_free(tok);
    free(cfg), free(cfg_path), free(ck), free(actor_dir), free(critic_dir), free(ref_dir);
    return rc;
}

int hp_cmd_gradvar(int argc, char **argv) {
    gv_args a = {.episodes = 64, .batches = 8, .seed = 1};
    const hp_opt opts[] = {
        {"model", HP_OPT_STR, &a.model, "run directory (its run_config.json, ckpt/latest/actor and critic/)"},
        {"checkpoint", HP_OPT_STR, &a.checkpoint, "checkpoint directory to measure instead (e.g. RUN/ckpt/best)"},
        {"episodes", HP_OPT_INT_POS, &a.episodes, "episodes played, one per drawn task (64)"},
        {"batches", HP_OPT_INT_POS, &a.batches, "disjoint mini-batches of trajectories (8; at least 2)"},
        {"estimators", HP_OPT_STR, &a.estimators, "comma-separated, the first is compared with the others "
                                                  "(hae,turn_gae,gae)"},
        {"values", HP_OPT_STR, &a.values, "critic (the checkpoint's critic, default) | zero (every value 0)"},
        {"split", HP_OPT_STR, &a.split, "split the tasks are drawn from (the run's env.train_split)"},
        {"seed", HP_OPT_INT, &a.seed, "seed of the task draw and the sampling (1)"},
        {"threads", HP_OPT_INT_POS, &a.threads, "OpenMP threads (the run's trainer.threads)"},
        {"json", HP_OPT_FLAG, &a.json, "print the result as one JSON object"},
        {"quiet", HP_OPT_FLAG, &a.quiet, "no progress lines on stderr"},
        {NULL, 0, NULL, NULL},
    };
    int n_pos = 0;
    int prc = hp_args_parse(argc, argv, 2, opts, USAGE, NULL, 0, &n_pos);
    if (prc == 1) return HP_EXIT_OK;
    if (prc) return HP_EXIT_USAGE;
    if (!a.model) return hp_cli_usage_error("gradvar", "--model is required");
    if (a.batches < 2 || a.batches > a.episodes)
        return hp_cli_usage_error("gradvar", "--batches must be between 2 and --episodes (got %lld of %lld)",
                                  (long long)a.batches, (long long)a.episodes);
    if (a.values && strcmp(a.values, "critic") && strcmp(a.values, "zero"))
        return hp_cli_usage_error("gradvar", "--values is critic or zero (got '%s')", a.values);
    hp_err err = {{0}};
    return run(&a, &err) ? hp_cli_error(&err) : HP_EXIT_OK;
}
