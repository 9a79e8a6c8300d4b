/* hiper report RUN_DIR — write RUN_DIR/report.html (curves of metrics.jsonl as inline SVG). */
#include "cli.h"

#include "hiper/train.h"

static const char USAGE[] =
    "usage: hiper report RUN_DIR\n"
    "Write RUN_DIR/report.html, a self-contained page with the training and validation curves of\n"
    "RUN_DIR/metrics.jsonl (the same page `hiper train` writes when a run ends).";

int hp_cmd_report(int argc, char **argv) {
    const hp_opt opts[] = {{NULL, HP_OPT_FLAG, NULL, NULL}};
    const char *pos[1];
    int n_pos = 0;
    int pr = hp_args_parse(argc, argv, 2, opts, USAGE, pos, 1, &n_pos);
    if (pr == 1) return HP_EXIT_OK;
    if (pr == 2) return HP_EXIT_USAGE;
    if (n_pos != 1) return hp_cli_usage_error("report", "expected one run directory");
    hp_err err = {{0}};
    if (hp_train_report(pos[0], &err)) return hp_cli_error(&err);
    printf("%s/report.html\n", pos[0]);
    return HP_EXIT_OK;
}
