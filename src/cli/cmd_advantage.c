/* hiper advantage — compute per-turn advantages for turn records read from stdin (JSON lines, the
 * schema of spec/examples/README.md) and write one JSON line per input record, in input order.
 * The whole output is buffered: a batch that fails prints nothing on stdout. */
#include "cli.h"

#include "hiper/advantage.h"

#include <stdlib.h>
#include <string.h>

static const char USAGE[] =
    "usage: hiper advantage --estimator hae|gigpo|grpo|rloo|gae [--config CFG.json] < turns.jsonl > out.jsonl\n"
    "\n"
    "Reads one turn record per line (traj, group, turn, reward, done, valid, switch, subgoal, obs,\n"
    "v_high, v_low, v_term), computes the estimator over the whole input as one batch and writes one\n"
    "line per record: hae {traj, turn, boundary, reward_shaped, adv_low, ret_low, adv_high, ret_high,\n"
    "adv_term, ret_term}; gigpo/grpo/rloo {traj, turn, adv}; gae (turn-level) {traj, turn, adv, ret}.\n"
    "The configuration uses the upstream key names; keys not given keep the defaults.";

static void put_head(hp_buf *b, const hp_adv_batch *batch, size_t i) {
    hp_buf_puts(b, "{\"traj\": ");
    hp_buf_json_string(b, batch->traj_name[i]);
    hp_buf_printf(b, ", \"turn\": %d", (int)batch->turns[i].turn);
}

static void put_num(hp_buf *b, const char *key, double v) {
    if (v == 0.0) v = 0.0; /* no "-0" */
    hp_buf_printf(b, ", \"%s\": %.15g", key, v);
}

static int run_estimator(const char *est, const char *cfg_text, const hp_adv_batch *batch, hp_buf *out,
                         hp_err *err) {
    size_t n = batch->n;
    size_t nn = n ? n : 1;
    if (!strcmp(est, "hae")) {
        hp_hae_config c;
        hp_hae_config_default(&c);
        if (cfg_text && hp_hae_config_parse(cfg_text, &c, err)) return HP_FAIL;
        hp_hae_out *r = hp_xmalloc(nn * sizeof *r);
        int rc = hp_adv_hae(batch->turns, n, &c, r, err);
        for (size_t i = 0; rc == HP_OK && i < n; i++) {
            put_head(out, batch, i);
            hp_buf_printf(out, ", \"boundary\": %s", r[i].boundary ? "true" : "false");
            put_num(out, "reward_shaped", r[i].reward_shaped);
            put_num(out, "adv_low", r[i].adv_low);
            put_num(out, "ret_low", r[i].ret_low);
            put_num(out, "adv_high", r[i].adv_high);
            put_num(out, "ret_high", r[i].ret_high);
            put_num(out, "adv_term", r[i].adv_term);
            put_num(out, "ret_term", r[i].ret_term);
            hp_buf_puts(out, "}\n");
        }
        free(r);
        return rc;
    }
    if (!strcmp(est, "gae")) {
        hp_gae_config c;
        hp_gae_config_default(&c);
        if (cfg_text && hp_gae_config_parse(cfg_text, &c, err)) return HP_FAIL;
        double *adv = hp_xmalloc(nn * sizeof *adv), *ret = hp_xmalloc(nn * sizeof *ret);
        int rc = hp_adv_turn_gae(batch->turns, n, &c, adv, ret, err);
        for (size_t i = 0; rc == HP_OK && i < n; i++) {
            put_head(out, batch, i);
            put_num(out, "adv", adv[i]);
            put_num(out, "ret", ret[i]);
            hp_buf_puts(out, "}\n");
        }
        free(adv);
        free(ret);
        return rc;
    }
    hp_group_config c;
    hp_group_config_default(&c);
    if (cfg_text && hp_group_config_parse(cfg_text, &c, err)) return HP_FAIL;
    double *adv = hp_xmalloc(nn * sizeof *adv);
    int rc;
    if (!strcmp(est, "gigpo")) {
        hp_gigpo_out *r = hp_xmalloc(nn * sizeof *r);
        rc = hp_adv_gigpo(batch->turns, n, &c, r, err);
        for (size_t i = 0; rc == HP_OK && i < n; i++) adv[i] = r[i].adv;
        free(r);
    } else if (!strcmp(est, "grpo")) {
        rc = hp_adv_grpo(batch->turns, n, &c, adv, err);
    } else {
        rc = hp_adv_rloo(batch->turns, n, &c, adv, err);
    }
    for (size_t i = 0; rc == HP_OK && i < n; i++) {
        put_head(out, batch, i);
        put_num(out, "adv", adv[i]);
        hp_buf_puts(out, "}\n");
    }
    free(adv);
    return rc;
}

/* Map a row index in an error message back to its input line. */
static void add_line_context(hp_err *err, const hp_adv_batch *batch) {
    unsigned long long row;
    int used = 0;
    if (sscanf(err->msg, "row %llu: %n", &row, &used) == 1 && used > 0 && row < batch->n) {
        memmove(err->msg, err->msg + used, strlen(err->msg + used) + 1);
        hp_err_wrap(err, "line %zu", batch->line[row]);
    }
}

static char *read_stream(FILE *f, size_t *len) {
    hp_buf b = {0};
    char chunk[65536];
    size_t k;
    while ((k = fread(chunk, 1, sizeof chunk, f)) > 0) hp_buf_append(&b, chunk, k);
    *len = b.len;
    return hp_buf_take(&b);
}

int hp_cmd_advantage(int argc, char **argv) {
    const char *estimator = NULL, *config = NULL, *input = NULL;
    const hp_opt opts[] = {
        {"estimator", HP_OPT_STR, &estimator, "hae | gigpo | grpo | rloo | gae"},
        {"config", HP_OPT_STR, &config, "configuration JSON file (upstream key names)"},
        {"input", HP_OPT_STR, &input, "read turn records from this file instead of stdin"},
        {NULL, HP_OPT_FLAG, NULL, NULL},
    };
    int rc = hp_args_parse(argc, argv, 2, opts, USAGE, NULL, 0, NULL);
    if (rc == 1) return HP_EXIT_OK;
    if (rc) return HP_EXIT_USAGE;
    if (!estimator) return hp_cli_usage_error("advantage", "--estimator is required");
    const char *known[] = {"hae", "gigpo", "grpo", "rloo", "gae"};
    bool ok = false;
    for (size_t i = 0; i < sizeof known / sizeof known[0]; i++) ok |= !strcmp(known[i], estimator);
    if (!ok) return hp_cli_usage_error("advantage", "unknown estimator '%s' (hae, gigpo, grpo, rloo, gae)", estimator);

    hp_err err = {{0}};
    char *cfg_text = NULL;
    size_t cfg_len = 0;
    if (config && hp_read_file(config, &cfg_text, &cfg_len, &err)) return hp_cli_error(&err);
    char *text;
    size_t len;
    if (input) {
        if (hp_read_file(input, &text, &len, &err)) {
            free(cfg_text);
            return hp_cli_error(&err);
        }
    } else {
        text = read_stream(stdin, &len);
    }
    hp_adv_batch batch;
    rc = hp_adv_batch_parse(text, len, &batch, &err);
    free(text);
    if (rc) {
        free(cfg_text);
        hp_err_wrap(&err, "%s", input ? input : "stdin");
        return hp_cli_error(&err);
    }
    hp_buf out = {0};
    rc = run_estimator(estimator, cfg_text, &batch, &out, &err);
    if (rc) {
        add_line_context(&err, &batch);
        if (!strncmp(err.msg, "line ", 5)) hp_err_wrap(&err, "%s", input ? input : "stdin");
        else if (config && strstr(err.msg, "config")) hp_err_wrap(&err, "%s", config);
    } else {
        rc = hp_cli_write(out.data, out.len, &err); /* out.data is NULL when there are no records */
    }
    hp_buf_free(&out);
    hp_adv_batch_free(&batch);
    free(cfg_text);
    return rc ? hp_cli_error(&err) : HP_EXIT_OK;
}
