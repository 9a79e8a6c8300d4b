/* cli.h — the `hiper` command line: one file per subcommand, and a small option parser.
 *
 * Exit codes: 0 ok, 1 runtime error (message "hiper: error: ..." on stderr), 2 usage error.
 */
#ifndef HIPER_CLI_H
#define HIPER_CLI_H

#include "hiper/base.h"

enum { HP_EXIT_OK = 0, HP_EXIT_ERROR = 1, HP_EXIT_USAGE = 2 };

/* One option: --name VALUE (or a flag without value). A numeric kind with a range refuses a value
 * outside it, naming the option ("option '--batch' must be >= 1, got 0"); every number must be finite. */
typedef enum {
    HP_OPT_FLAG,
    HP_OPT_STR,
    HP_OPT_INT,
    HP_OPT_INT_NONNEG, /* integer >= 0 */
    HP_OPT_INT_POS,    /* integer >= 1 (a count) */
    HP_OPT_F64,
    HP_OPT_F64_NONNEG, /* number >= 0 */
    HP_OPT_F64_POS,    /* number > 0 */
    HP_OPT_F64_UNIT,   /* number in [0, 1] */
    HP_OPT_F64_PROB,   /* number in (0, 1] */
    HP_OPT_ALIAS,      /* an older spelling of the option named by help: {"options", HP_OPT_ALIAS, NULL, "env-options"} */
} hp_opt_kind;

typedef struct hp_opt {
    const char *name; /* without the leading "--" */
    hp_opt_kind kind;
    void *dst;        /* bool*, const char**, int64_t* (HP_OPT_INT*), double* (HP_OPT_F64*) */
    const char *help; /* HP_OPT_ALIAS: the option it stands for */
} hp_opt;

/* The environment-options option every command that opens an environment takes (play, env stats,
 * eval, sft, serve): --env-options JSON; play and env stats also accept their older --options. */
#define HP_ENV_OPTIONS_HELP "environment options as a JSON object"

/* Parse argv[first..argc) against opts (terminated by an entry with name == NULL). Positional
 * arguments are collected into pos (at most max_pos). Returns 0 on success, 1 when --help was given
 * (usage already printed to stdout), 2 on a usage error (message printed to stderr). A number that
 * is not finite or outside the option's check range is a usage error naming the option; an unknown
 * option names the closest known one ("did you mean '--episodes'?"). */
int hp_args_parse(int argc, char **argv, int first, const hp_opt *opts, const char *usage,
                  const char **pos, int max_pos, int *n_pos);
void hp_args_usage(FILE *out, const char *usage, const hp_opt *opts);

/* Parse --env-options text (NULL: *out = NULL): a JSON object, else a usage error of cmd naming the
 * option (returns HP_EXIT_USAGE; 0 on success). The caller frees *out with cJSON_Delete. */
struct cJSON;
int hp_cli_env_options(const char *cmd, const char *text, struct cJSON **out);

/* Print "hiper: error: <msg>" and return HP_EXIT_ERROR. */
int hp_cli_error(const hp_err *err);
int hp_cli_errorf(const char *fmt, ...) HP_PRINTF(1, 2);
/* Print "hiper: <msg>" plus a hint and return HP_EXIT_USAGE. */
int hp_cli_usage_error(const char *cmd, const char *fmt, ...) HP_PRINTF(2, 3);

/* Standard output is checked, never assumed: a command writes its results with hp_cli_write (which
 * flushes and names the reason of a failure, "writing stdout: No space left on device"), and main
 * checks stdout once more when the command returns (hp_cli_finish), so that output lost to a full
 * disk, a closed pipe or an I/O error is an error (exit 1), never a silent exit 0. */
int hp_cli_write(const void *data, size_t len, hp_err *err);
/* Flush and close stdout; when that (or any earlier write) failed and rc is 0, print one error and
 * return HP_EXIT_ERROR, else return rc. */
int hp_cli_finish(int rc);

/* Subcommands: each receives the full argv, with argv[1] its own name. Those that run data-parallel
 * under mpirun (train, sft, eval) also receive the process's hiper/dist.h context; only its rank 0
 * prints errors and results (an error every rank reports is agreed first, hp_dist_agree). */
typedef int (*hp_cmd_fn)(int argc, char **argv);
struct hp_dist;
typedef int (*hp_dist_cmd_fn)(int argc, char **argv, const struct hp_dist *dist);
int hp_cmd_tokenizer(int argc, char **argv);
int hp_cmd_init(int argc, char **argv);
int hp_cmd_score(int argc, char **argv);
int hp_cmd_generate(int argc, char **argv);
int hp_cmd_play(int argc, char **argv);
int hp_cmd_env(int argc, char **argv);
int hp_cmd_advantage(int argc, char **argv);
int hp_cmd_sft(int argc, char **argv, const struct hp_dist *dist);
int hp_cmd_train(int argc, char **argv, const struct hp_dist *dist);
int hp_cmd_eval(int argc, char **argv, const struct hp_dist *dist);
int hp_cmd_report(int argc, char **argv);
int hp_cmd_serve(int argc, char **argv);
int hp_cmd_gradvar(int argc, char **argv);
int hp_cmd_study(int argc, char **argv);

#endif /* HIPER_CLI_H */
