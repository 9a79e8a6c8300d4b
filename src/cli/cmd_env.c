/* hiper env — environment tools. `hiper env stats --env alfworld` prints, per split, the number of
 * games of each task type and how the built-in expert does on them, next to the usual optimal plan
 * lengths estimated from ALFWorld's action model; `--env webshop` prints the WebShop module's catalog
 * and goal statistics. */
#include "cli.h"

#include "hiper/alfworld.h"
#include "hiper/webshop.h"

#include <cjson/cJSON.h>
#include <string.h>

static const char USAGE[] =
    "usage: hiper env stats --env alfworld|webshop [--split S] [--env-options JSON]\n"
    "alfworld: generates every game of the split(s) and runs the expert on each (well under a second).\n"
    "webshop: catalog and goal statistics (--split is ignored).";

static int alfworld_stats(const char *split, const cJSON *opt) {
    const char *splits[] = {"train", "valid_seen", "valid_unseen"};
    hp_alfworld_stats st[3];
    hp_err err = {{0}};
    int n = 0;
    const char *names[3];
    for (int i = 0; i < 3; i++) {
        if (split && strcmp(split, splits[i])) continue;
        if (hp_alfworld_stats_compute(opt, splits[i], &st[n], &err)) return hp_cli_error(&err);
        names[n++] = splits[i];
    }
    if (!n) return hp_cli_usage_error("env", "unknown split '%s' (train, valid_seen, valid_unseen)", split);
    printf("alfworld games per split and task type\n%-13s", "split");
    for (int t = 0; t < HP_ALFWORLD_N_TASK_TYPES; t++) printf(" %7s", hp_alfworld_task_type_name(t));
    printf(" %7s  %s\n", "total", "rooms k/l/b/b   recep  objects");
    for (int i = 0; i < n; i++) {
        int64_t tot = 0;
        printf("%-13s", names[i]);
        for (int t = 0; t < HP_ALFWORLD_N_TASK_TYPES; t++) printf(" %7lld", (long long)st[i].games[t]), tot += st[i].games[t];
        printf(" %7lld  %lld/%lld/%lld/%lld  %6.1f  %7.1f\n", (long long)tot, (long long)st[i].rooms[0],
               (long long)st[i].rooms[1], (long long)st[i].rooms[2], (long long)st[i].rooms[3], st[i].receptacles_mean,
               st[i].objects_mean);
    }
    printf("\nexpert: success %% / mean steps of won games / mean optimal length of the games (full knowledge)\n%-13s",
           "split");
    for (int t = 0; t < HP_ALFWORLD_N_TASK_TYPES; t++) printf(" %17s", hp_alfworld_task_type_name(t));
    printf("\n");
    for (int i = 0; i < n; i++) {
        printf("%-13s", names[i]);
        for (int t = 0; t < HP_ALFWORLD_N_TASK_TYPES; t++) {
            double g = (double)st[i].games[t], w = (double)st[i].expert_won[t];
            printf("   %5.1f %5.1f %4.1f", g > 0 ? 100.0 * w / g : 0.0, w > 0 ? (double)st[i].expert_steps[t] / w : 0.0,
                   g > 0 ? (double)st[i].optimal_steps[t] / g : 0.0);
        }
        printf("\n");
    }
    printf("%-13s", "est. optimal");
    for (int t = 0; t < HP_ALFWORLD_N_TASK_TYPES; t++) {
        int lo, hi;
        hp_alfworld_optimal_range(t, &lo, &hi);
        char r[16];
        snprintf(r, sizeof r, "%d-%d", lo, hi);
        printf(" %17s", r);
    }
    printf("\n");
    return HP_EXIT_OK;
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
    if (!kind) return hp_cli_usage_error("env", "--env is required (alfworld or webshop)");
    cJSON *opt = NULL;
    if (hp_cli_env_options("env", options, &opt)) return HP_EXIT_USAGE;
    if (!strcmp(kind, "alfworld")) rc = alfworld_stats(split, opt);
    else if (!strcmp(kind, "webshop")) {
        hp_err err = {{0}};
        rc = hp_webshop_stats(stdout, opt, &err) ? hp_cli_error(&err) : HP_EXIT_OK;
    }
    else rc = hp_cli_usage_error("env", "unknown environment '%s' (alfworld, webshop)", kind);
    cJSON_Delete(opt);
    return rc;
}
