/* hiper serve — serve a built-in environment over the external-environment protocol on stdin/stdout
 * (docs/external-protocol.md), so that `--env external --env-cmd "hiper serve --env alfworld"` plays the
 * same games as `--env alfworld`, through another process. */
#include "cli.h"

#include "hiper/env.h"
#include "hiper/external.h"

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

typedef struct {
    const char *kind;
    const cJSON *options;
} serve_ctx;

static hp_env *open_env(void *ctx, hp_err *err) {
    const serve_ctx *c = ctx;
    return hp_env_open(c->kind, c->options, err);
}

/* Split "a,b,c" into names (pointers into the copy `buf`). */
static int split_list(char *buf, const char **names, int max) {
    int n = 0;
    char *save = NULL;
    for (char *tok = strtok_r(buf, ",", &save); tok && n < max; tok = strtok_r(NULL, ",", &save)) names[n++] = tok;
    return n;
}

int hp_cmd_serve(int argc, char **argv) {
    const char *kind = NULL, *opts = NULL, *splits = NULL;
    const hp_opt options[] = {
        {"env", HP_OPT_STR, &kind, "environment to serve: alfworld | webshop (required)"},
        {"env-options", HP_OPT_STR, &opts, HP_ENV_OPTIONS_HELP " (as env.options for the trainer)"},
        {"splits", HP_OPT_STR, &splits, "comma-separated split names to announce (default: every known one)"},
        {NULL, 0, NULL, NULL},
    };
    const char *usage = "usage: hiper serve --env alfworld|webshop [--env-options JSON] [--splits a,b]\n\n"
                        "Serve an environment over JSON lines on stdin/stdout (docs/external-protocol.md).";
    int rc = hp_args_parse(argc, argv, 2, options, usage, NULL, 0, NULL);
    if (rc == 1) return HP_EXIT_OK;
    if (rc) return HP_EXIT_USAGE;
    if (!kind) return hp_cli_usage_error("serve", "--env is required");
    const hp_env_kind *k = hp_env_kind_find(kind); /* an unknown one fails in hp_env_open, from the server */
    if (k && k->served) return hp_cli_usage_error("serve", "--env %s would serve itself", kind);
    cJSON *env_opts = NULL;
    if (hp_cli_env_options("serve", opts, &env_opts)) return HP_EXIT_USAGE;
    char *split_buf = splits ? hp_xstrdup(splits) : NULL;
    const char *names[64];
    int n_names = split_buf ? split_list(split_buf, names, 64) : 0;
    serve_ctx ctx = {kind, env_opts};
    hp_external_serve_cfg cfg = {
        .env_name = kind, .open = open_env, .ctx = &ctx, .splits = split_buf ? names : NULL, .n_splits = n_names};
    hp_err err = {{0}};
    /* Replies go to a private copy of stdout; fd 1 becomes stderr, so that anything else printing to
     * stdout cannot corrupt the reply stream. */
    fflush(stdout);
    int fd = dup(STDOUT_FILENO);
    FILE *out = fd >= 0 ? fdopen(fd, "w") : NULL;
    if (!out || dup2(STDERR_FILENO, STDOUT_FILENO) < 0) {
        if (out) fclose(out);
        else if (fd >= 0) close(fd);
        free(split_buf);
        cJSON_Delete(env_opts);
        return hp_cli_errorf("serve: cannot set up the reply stream");
    }
    rc = hp_external_serve(&cfg, stdin, out, &err);
    fclose(out);
    free(split_buf);
    cJSON_Delete(env_opts);
    return rc ? hp_cli_error(&err) : HP_EXIT_OK;
}
