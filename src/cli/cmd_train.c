/* hiper train — train an agent with HiPER or a baseline (see hiper/train.h and docs/training.md).
 *
 *   hiper train                         the main job: HiPER, built-in ALFWorld, the small model
 *   hiper train --quick                 a smoke run of every phase at toy size (about 10 s)
 *   hiper train --config FILE [key=value ...] [--out DIR] [--resume]
 *   hiper train --report RUN_DIR        (re)write RUN_DIR/report.html from its metrics
 *   hiper train --keys                  every configuration key with its default and meaning
 */
#include "cli.h"

#include "hiper/dist.h"
#include "hiper/runcfg.h"
#include "hiper/train.h"

#include <cjson/cJSON.h>

#include <stdlib.h>
#include <string.h>

static const char USAGE[] =
    "usage: hiper train [--config FILE] [key=value ...] [--out DIR] [--resume] [--quick]\n"
    "       hiper train --report RUN_DIR | --keys | --print-config\n\n"
    "Without --config: HiPER on the built-in ALFWorld with the default small model (tokenizer, init,\n"
    "SFT warm start, RL, evaluation on valid_seen and valid_unseen before and after RL).\n"
    "key=value arguments override configuration keys (see --keys), e.g. trainer.total_steps=40.\n"
    "--quick is a smoke run, not a small experiment: every phase of the main job at toy size (a\n"
    "0.14 M-parameter model, 12 demonstration episodes, 3 RL steps of 4 tasks, 6 evaluation games per\n"
    "split), about 10 s on 2 idle cores; it checks that the pipeline runs end to end, and its success\n"
    "rates (usually 0%) say nothing about HiPER. The main job (no --quick) takes about 20 minutes.";

static void print_keys(void) {
    printf("%-44s %-8s %s\n", "key", "type", "meaning (current value in --print-config)");
    for (const hp_rc_key *k = hp_runcfg_keys(); k->key; k++) {
        const char *t = k->type == HP_RC_F64 ? "number" : k->type == HP_RC_I64 ? "integer"
                      : k->type == HP_RC_BOOL ? "bool" : k->type == HP_RC_ENUM ? k->choices : "string";
        printf("%-44s %-8s %s\n", k->key, t, k->help);
    }
}

int hp_cmd_train(int argc, char **argv, const hp_dist *dist) {
    const char *config = NULL, *out = NULL, *report = NULL, *env_name = NULL, *env_cmd = NULL;
    bool resume = false, quick = false, quiet = false, keys = false, print = false;
    int64_t stop_after = 0;
    const hp_opt opts[] = {
        {"config", HP_OPT_STR, &config, "run configuration (JSON, dotted keys); default: the built-in main job"},
        {"out", HP_OPT_STR, &out, "run directory (default: runs/<trainer.experiment_name>)"},
        {"resume", HP_OPT_FLAG, &resume, "continue the run in --out from its latest checkpoint"},
        {"quick", HP_OPT_FLAG, &quick, "smoke run: every phase at toy size, about 10 s (see above)"},
        {"quiet", HP_OPT_FLAG, &quiet, "no progress output"},
        {"report", HP_OPT_STR, &report, "write RUN_DIR/report.html from RUN_DIR/metrics.jsonl and exit"},
        {"keys", HP_OPT_FLAG, &keys, "list the configuration keys and exit"},
        {"print-config", HP_OPT_FLAG, &print, "print the resolved configuration and exit"},
        {"stop-after", HP_OPT_INT_POS, &stop_after, "stop after N training steps (to test --resume)"},
        {"env", HP_OPT_STR, &env_name, "environment kind, short for env.name=KIND (alfworld|webshop|external)"},
        {"env-cmd", HP_OPT_STR, &env_cmd, "command serving an external environment (implies --env external)"},
        {NULL, HP_OPT_FLAG, NULL, NULL},
    };
    const char *pos[256];
    int n_pos = 0;
    int pr = hp_args_parse(argc, argv, 2, opts, USAGE, pos, 256, &n_pos);
    if (pr == 1) return HP_EXIT_OK;
    if (pr == 2) return HP_EXIT_USAGE;
    for (int i = 0; i < n_pos; i++)
        if (!strchr(pos[i], '=')) return hp_cli_usage_error("train", "expected key=value, got '%s'", pos[i]);
    hp_err err = {{0}};
    if (report && !hp_dist_root(dist)) return HP_EXIT_OK; /* rank 0 writes it */
    if (report) return hp_train_report(report, &err) ? hp_cli_error(&err) : HP_EXIT_OK;
    if (config && quick) return hp_cli_usage_error("train", "--quick is the built-in job; it takes no --config");

    /* Overrides: the built-in job's (without --config), then the command line's. */
    int n_base = 0;
    const char *const *base = config ? NULL : hp_runcfg_small_overrides(quick, &n_base);
    /* --env / --env-cmd are shorthands for env.name / env.options; explicit key=value wins. */
    hp_buf env_ov = {0}, opts_ov = {0};
    if (env_cmd && !env_name) env_name = "external";
    if (env_name) hp_buf_printf(&env_ov, "env.name=%s", env_name);
    if (env_cmd) {
        cJSON *o = cJSON_CreateObject();
        cJSON_AddStringToObject(o, "cmd", env_cmd);
        char *js = cJSON_PrintUnformatted(o);
        hp_buf_printf(&opts_ov, "env.options=%s", js);
        cJSON_free(js);
        cJSON_Delete(o);
    }
    const char **ov = hp_xcalloc((size_t)(n_base + n_pos + 3), sizeof *ov);
    int n_ov = 0;
    for (int i = 0; i < n_base; i++) ov[n_ov++] = base[i];
    if (env_ov.data) ov[n_ov++] = env_ov.data;
    if (opts_ov.data) ov[n_ov++] = opts_ov.data;
    for (int i = 0; i < n_pos; i++) ov[n_ov++] = pos[i];
    hp_runcfg *cfg = hp_xcalloc(1, sizeof *cfg);
    int rc;
    char *stored = out ? hp_path_join(out, "run_config.json") : NULL;
    if (resume && !config && stored && hp_path_exists(stored))
        rc = hp_runcfg_load(cfg, stored, pos, n_pos, &err); /* continue exactly the stored run */
    else
        rc = hp_runcfg_load(cfg, config, ov, n_ov, &err);
    free(stored);
    free(ov);
    hp_buf_free(&env_ov);
    hp_buf_free(&opts_ov);
    int exit_code = HP_EXIT_OK;
    if (rc) {
        exit_code = hp_dist_root(dist) ? hp_cli_error(&err) : HP_EXIT_ERROR;
    } else if (keys) {
        print_keys();
    } else if (print) {
        char *json = hp_runcfg_to_json(cfg);
        printf("%s\n", json);
        free(json);
    } else {
        hp_buf dir = {0};
        if (out) hp_buf_puts(&dir, out);
        else hp_buf_printf(&dir, "runs/%s", cfg->trainer.experiment_name);
        hp_train_opts to = {.out_dir = dir.data, .resume = resume, .quiet = quiet || !hp_dist_root(dist),
                            .log = stdout, .stop_after = stop_after, .dist = dist};
        if (quick && !quiet)
            printf("--quick: a smoke run of every phase at toy size (about 10 s on 2 idle cores); it checks that\n"
                   "the pipeline runs, its success rates mean nothing. `hiper train` alone is the main job.\n");
        if (hp_train_run(cfg, &to, &err)) exit_code = hp_dist_root(dist) ? hp_cli_error(&err) : HP_EXIT_ERROR;
        hp_buf_free(&dir);
    }
    free(cfg);
    return exit_code;
}
