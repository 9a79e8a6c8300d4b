/* hiper env — environment tools. `hiper env stats --env KIND` prints the statistics of an environment
 * kind (its descriptor's print_stats, hiper/env.h): for alfworld, per split, the number of games of each
 * task type and how the built-in expert does on them, next to the usual optimal plan lengths estimated
 * from ALFWorld's action model; for webshop, the WebShop module's catalog and goal statistics. */
#include "cli.h"

#include "hiper/env.h"

#include <cjson/cJSON.h>
#include <string.h>

static const char USAGE[] =
    "usage: hiper env stats --env alfworld|webshop [--split S] [--env-options JSON]\n"
    "alfworld: generates every game of the split(s) and runs the expert on each (well under a second).\n"
    "webshop: catalog and goal statistics (the same for every split; --split only checks the name).";

static bool has_stats(const hp_env_kind *k) { return k->print_stats != NULL; }

static bool listed(const char *const *names, const char *name) {
    for (int i = 0; names[i]; i++)
        if (!strcmp(names[i], name)) return true;
    return false;
}

static void join(const char *const *names, char *buf, size_t cap) {
    size_t len = 0;
    buf[0] = '\0';
    for (int i = 0; names[i] && len < cap; i++) {
        int w = snprintf(buf + len, cap - len, "%s%s", i ? ", " : "", names[i]);
        if (w < 0) break;
        len += (size_t)w;
    }
}

int hp_cmd_env(int argc, char **argv) {
    const char *kind = NULL, *split = NULL, *options = NULL;
    const hp_opt opts[] = {
        {"env", HP_OPT_STR, &kind, "environment: alfworld or webshop"},
        {"split", HP_OPT_STR, &split, "only this split (default: all)"},
        {"env-options", HP_OPT_STR, &options, HP_ENV_OPTIONS_HELP},
        {"options", HP_OPT_ALIAS, NULL, "env-options"},
        {NULL, HP_OPT_FLAG, NULL, NULL},
    };
    const char *pos[1];
    int np = 0;
    int rc = hp_args_parse(argc, argv, 2, opts, USAGE, pos, 1, &np);
    if (rc == 1) return HP_EXIT_OK;
    if (rc) return HP_EXIT_USAGE;
    if (np != 1 || strcmp(pos[0], "stats")) return hp_cli_usage_error("env", "expected the subcommand 'stats'");
    char names[256];
    if (!kind) return hp_cli_usage_error("env", "--env is required (%s)", hp_env_kind_names(names, sizeof names, " or ", has_stats));
    const hp_env_kind *k = hp_env_kind_find(kind);
    if (!k || !k->print_stats)
        return hp_cli_usage_error("env", "unknown environment '%s' (%s)", kind, hp_env_kind_names(names, sizeof names, ", ", has_stats));
    if (split && k->splits && !listed(k->splits, split)) {
        join(k->splits, names, sizeof names);
        return hp_cli_usage_error("env", "unknown split '%s' (%s)", split, names);
    }
    cJSON *opt = NULL;
    if (hp_cli_env_options("env", options, &opt)) return HP_EXIT_USAGE;
    hp_err err = {{0}};
    rc = k->print_stats(stdout, split, opt, &err) ? hp_cli_error(&err) : HP_EXIT_OK;
    cJSON_Delete(opt);
    return rc;
}
