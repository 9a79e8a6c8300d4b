/* hiper play — play an environment in the terminal: prints the task, the observation, the admissible
 * commands and the step count, reads one command per line from stdin (typed or piped) until the
 * episode ends or input runs out. Works over the generic hp_env interface, so any environment kind
 * plays; `--expert` lets the kind's built-in expert (alfworld, webshop) choose instead. */
#include "cli.h"

#include "hiper/env.h"

#include <cjson/cJSON.h>
#include <stdlib.h>
#include <string.h>

static const char USAGE[] =
    "usage: hiper play --env alfworld|webshop|external [--split S] [--index N] [--env-options JSON] [--expert] [--quiet]\n"
    "Plays one episode; type one command per line (or pipe them in). Ends at done or end of input.";

static void show(const hp_env_view *v, bool quiet) {
    printf("--- step %d/%d", v->steps, v->max_steps);
    if (v->steps) printf("  reward %g", v->reward);
    printf("\n%s\n", v->observation);
    if (quiet || v->done) return;
    printf("[task: %s]\n[admissible:", v->task);
    for (int i = 0; i < v->n_admissible; i++) printf("%s '%s'", i ? "," : "", v->admissible[i]);
    printf("]\n");
}

static bool has_expert(const hp_env_kind *k) { return k->expert_open != NULL; }

static char *trim_line(char *s) {
    size_t n = strlen(s);
    while (n && (s[n - 1] == '\n' || s[n - 1] == '\r')) s[--n] = '\0';
    return s;
}

int hp_cmd_play(int argc, char **argv) {
    const char *kind = NULL, *split = NULL, *options = NULL;
    int64_t index = 0;
    bool expert = false, quiet = false;
    const hp_opt opts[] = {
        {"env", HP_OPT_STR, &kind, "environment: alfworld, webshop or external"},
        {"split", HP_OPT_STR, &split, "split (alfworld: train, valid_seen, valid_unseen; default: the validation split, env.val_split)"},
        {"index", HP_OPT_INT_NONNEG, &index, "episode index within the split (default 0)"},
        {"env-options", HP_OPT_STR, &options, HP_ENV_OPTIONS_HELP},
        {"options", HP_OPT_ALIAS, NULL, "env-options"},
        {"expert", HP_OPT_FLAG, &expert, "let the built-in expert play (alfworld, webshop), printing its subgoals"},
        {"quiet", HP_OPT_FLAG, &quiet, "do not print the admissible list"},
        {NULL, HP_OPT_FLAG, NULL, NULL},
    };
    int rc = hp_args_parse(argc, argv, 2, opts, USAGE, NULL, 0, NULL);
    if (rc == 1) return HP_EXIT_OK;
    if (rc) return HP_EXIT_USAGE;
    char names[128];
    if (!kind) return hp_cli_usage_error("play", "--env is required (%s)", hp_env_kind_names(names, sizeof names, " or ", NULL));
    const hp_env_kind *k = hp_env_kind_find(kind);
    if (!k) return hp_cli_usage_error("play", "unknown environment '%s' (%s)", kind, hp_env_kind_names(names, sizeof names, ", ", NULL));
    if (expert && !k->expert_open)
        return hp_cli_usage_error("play", "--expert needs %s", hp_env_kind_names(names, sizeof names, " or ", has_expert));
    if (!split) split = k->val_split;

    hp_err err = {{0}};
    cJSON *opt = NULL;
    if (hp_cli_env_options("play", options, &opt)) return HP_EXIT_USAGE;
    hp_env *env = hp_env_open(kind, opt, &err);
    cJSON_Delete(opt);
    if (!env) return hp_cli_error(&err);
    hp_expert x = {0};
    hp_buf act = {0}, sub = {0};
    char *line = NULL; /* any length (getline): a long line is one command, never several */
    size_t line_cap = 0;
    rc = HP_EXIT_OK;
    if (expert && k->expert_open(&x, &err)) {
        rc = hp_cli_error(&err);
        goto done;
    }
    if (hp_env_reset(env, split, index, (uint64_t)index, &err)) {
        rc = hp_cli_error(&err);
        goto done;
    }
    const hp_env_view *v = hp_env_get_view(env);
    printf("%s game %lld, task type %s\n", kind, (long long)index, v->task_type_name);
    show(v, quiet);
    while (!v->done) {
        const char *cmd;
        if (expert) {
            if (x.next(x.self, env, &act, &sub, &err)) {
                rc = hp_cli_error(&err);
                goto done;
            }
            cmd = act.data;
            printf("> %s    [subgoal: %s]\n", cmd, sub.data);
        } else {
            printf("> ");
            fflush(stdout);
            if (getline(&line, &line_cap, stdin) < 0) {
                printf("\n(end of input)\n");
                break;
            }
            cmd = trim_line(line);
        }
        if (hp_env_step(env, cmd, &err)) {
            rc = hp_cli_error(&err);
            goto done;
        }
        v = hp_env_get_view(env);
        show(v, quiet);
    }
    printf("=== %s after %d steps (score %g%s)\n", v->won ? "won" : v->done ? "done" : "stopped", v->steps, v->score,
           v->truncated ? ", truncated" : "");
done:
    free(line);
    hp_buf_free(&act);
    hp_buf_free(&sub);
    hp_expert_close(&x);
    hp_env_free(env);
    return rc;
}
