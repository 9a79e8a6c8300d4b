/* hiper report RUN_DIR — write RUN_DIR/report.html (curves of metrics.jsonl as inline SVG);
 * hiper report RUN_DIR... --out PAGE — several runs overlaid on one page (hiper/train.h). */
#include "cli.h"

#include "hiper/train.h"

#include <stdlib.h>
#include <string.h>

static const char USAGE[] =
    "usage: hiper report RUN_DIR\n"
    "       hiper report [LABEL=]RUN_DIR... --out PAGE.html [--group-by KEY] [--title TEXT]\n"
    "With one run directory: write RUN_DIR/report.html, a self-contained page with the training and\n"
    "validation curves of RUN_DIR/metrics.jsonl (the same page `hiper train` writes when a run ends).\n"
    "With --out (needed for several): one page comparing the runs, one colour per method (the run\n"
    "configuration's algorithm.adv_estimator, or --group-by KEY, or LABEL= before the directory), every\n"
    "run (seed) a thin line and each method's mean over its runs a thick one, then each run's evaluation\n"
    "after RL and the mean ± sd per method.";

#define MAX_RUNS 512

int hp_cmd_report(int argc, char **argv) {
    const char *out = NULL, *group_by = NULL, *title = NULL;
    const hp_opt opts[] = {
        {"out", HP_OPT_STR, &out, "write one page overlaying every run directory given here"},
        {"group-by", HP_OPT_STR, &group_by, "run configuration key whose value colours the runs (algorithm.adv_estimator)"},
        {"title", HP_OPT_STR, &title, "heading of the overlay page"},
        {NULL, HP_OPT_FLAG, NULL, NULL},
    };
    const char *pos[MAX_RUNS];
    int n_pos = 0;
    int pr = hp_args_parse(argc, argv, 2, opts, USAGE, pos, MAX_RUNS, &n_pos);
    if (pr == 1) return HP_EXIT_OK;
    if (pr == 2) return HP_EXIT_USAGE;
    if (n_pos < 1) return hp_cli_usage_error("report", "expected a run directory");
    hp_err err = {{0}};
    if (!out) {
        if (n_pos != 1) return hp_cli_usage_error("report", "several run directories go on one page: give --out PAGE.html");
        if (group_by || title) return hp_cli_usage_error("report", "--group-by and --title belong to an overlay page (--out)");
        if (hp_train_report(pos[0], &err)) return hp_cli_error(&err);
        printf("%s/report.html\n", pos[0]);
        return HP_EXIT_OK;
    }
    /* LABEL=DIR: a label without '/' before the first '=', unless the whole argument is a directory. */
    const char *dirs[MAX_RUNS], *labels[MAX_RUNS];
    char *owned[MAX_RUNS];
    bool any_label = false;
    for (int i = 0; i < n_pos; i++) {
        const char *eq = strchr(pos[i], '=');
        owned[i] = NULL;
        labels[i] = NULL;
        dirs[i] = pos[i];
        if (eq && eq > pos[i] && !memchr(pos[i], '/', (size_t)(eq - pos[i])) && !hp_is_dir(pos[i])) {
            owned[i] = hp_xstrdup(pos[i]);
            owned[i][eq - pos[i]] = 0;
            labels[i] = owned[i];
            dirs[i] = eq + 1;
            any_label = true;
        }
    }
    int rc = hp_train_report_overlay(dirs, any_label ? labels : NULL, n_pos, group_by, title, out, &err);
    for (int i = 0; i < n_pos; i++) free(owned[i]);
    if (rc) return hp_cli_error(&err);
    printf("%s\n", out);
    return HP_EXIT_OK;
}
