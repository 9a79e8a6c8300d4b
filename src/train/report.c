/* report.c — a run's report.html: a self-contained training dashboard (see hiper/train.h).
 *
 * The page inlines everything it uses, so it opens offline and can be mailed: the run's metrics.jsonl
 * as a JSON object (HP_DATA), the charts' script (src/train/report.js, embedded at build time by
 * cmake/embed.cmake: plain JavaScript drawing SVG) and its style. The evaluation files
 * (eval_before.json, eval_after.json) and run_config.json become HTML tables with rounded numbers;
 * the title is trainer.experiment_name. */
#include "hiper/train.h"

#include "report_js.h"

#include <cjson/cJSON.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

static void html_escape(hp_buf *h, const char *s) {
    for (; *s; s++) {
        if (*s == '<') hp_buf_puts(h, "&lt;");
        else if (*s == '>') hp_buf_puts(h, "&gt;");
        else if (*s == '&') hp_buf_puts(h, "&amp;");
        else if (*s == '"') hp_buf_puts(h, "&quot;");
        else if (*s == '\'') hp_buf_puts(h, "&#39;");
        else hp_buf_putc(h, *s);
    }
}

/* A JSON file parsed, or NULL when absent or unreadable. */
static cJSON *read_json(const char *dir, const char *file) {
    char *p = hp_path_join(dir, file), *text = NULL;
    size_t len = 0;
    hp_err e = {{0}};
    cJSON *o = NULL;
    if (hp_path_exists(p) && hp_read_file(p, &text, &len, &e) == HP_OK) o = cJSON_ParseWithLength(text, len);
    free(text);
    free(p);
    return o;
}

/* A number, rounded for a table: integers as such, others to 4 significant digits. */
static void put_number(hp_buf *h, double v) {
    if (!isfinite(v)) hp_buf_puts(h, "–");
    else if (v == floor(v) && fabs(v) < 1e15) hp_buf_printf(h, "%.0f", v);
    else if (fabs(v) >= 1e-3 && fabs(v) < 1e6) hp_buf_printf(h, "%.4g", v);
    else hp_buf_printf(h, "%.3e", v);
}

static double num(const cJSON *o, const char *k) {
    const cJSON *x = cJSON_GetObjectItemCaseSensitive(o, k);
    return cJSON_IsNumber(x) ? x->valuedouble : NAN;
}

/* One evaluation cell: "45.0% [38.1, 52.0] (63/140)". */
static void eval_cell(hp_buf *h, const cJSON *r) {
    if (!r) {
        hp_buf_puts(h, "<td>–</td>");
        return;
    }
    hp_buf_printf(h, "<td>%.1f%% <span class='ci'>[%.1f, %.1f]</span> <span class='n'>(%.0f/%.0f)</span></td>",
                  100 * num(r, "success"), 100 * num(r, "success_lo95"), 100 * num(r, "success_hi95"), num(r, "won"),
                  num(r, "episodes"));
}

/* Per split: one row per task type and one for the whole split, before and after RL side by side. */
static void eval_tables(hp_buf *h, const cJSON *before, const cJSON *after) {
    if (!before && !after) return;
    hp_buf_puts(h, "<h2>Evaluation</h2>\n<p class='note'>Success rate with its 95% Wilson interval and "
                   "(won/games); before RL is the initial policy (after SFT), after RL the last policy.</p>\n");
    const cJSON *splits = before ? before : after, *sp;
    cJSON_ArrayForEach(sp, splits) {
        if (!sp->string) continue;
        const cJSON *b = before ? cJSON_GetObjectItemCaseSensitive(before, sp->string) : NULL;
        const cJSON *a = after ? cJSON_GetObjectItemCaseSensitive(after, sp->string) : NULL;
        hp_buf_puts(h, "<table class='eval'><caption>");
        html_escape(h, sp->string);
        hp_buf_puts(h, "</caption><tr><th>task type</th><th>before RL</th><th>after RL</th><th>change</th></tr>\n");
        const cJSON *types = cJSON_GetObjectItemCaseSensitive(b ? b : a, "types"), *t;
        cJSON_ArrayForEach(t, types) {
            if (!t->string) continue;
            const cJSON *tb = b ? cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(b, "types"), t->string) : NULL;
            const cJSON *ta = a ? cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(a, "types"), t->string) : NULL;
            hp_buf_puts(h, "<tr><td>");
            html_escape(h, t->string);
            hp_buf_puts(h, "</td>");
            eval_cell(h, tb);
            eval_cell(h, ta);
            if (tb && ta) hp_buf_printf(h, "<td>%+.1f points</td></tr>\n", 100 * (num(ta, "success") - num(tb, "success")));
            else hp_buf_puts(h, "<td>–</td></tr>\n");
        }
        hp_buf_puts(h, "<tr class='all'><td>all</td>");
        eval_cell(h, b);
        eval_cell(h, a);
        if (a && b) hp_buf_printf(h, "<td>%+.1f points</td></tr>\n", 100 * (num(a, "success") - num(b, "success")));
        else hp_buf_puts(h, "<td>–</td></tr>\n");
        hp_buf_puts(h, "</table>\n");
    }
}

static void config_table(hp_buf *h, const cJSON *cfg) {
    if (!cfg) return;
    hp_buf_puts(h, "<h2>Run configuration</h2>\n<table class='cfg'><tr><th>key</th><th>value</th></tr>\n");
    const cJSON *x;
    cJSON_ArrayForEach(x, cfg) {
        if (!x->string) continue;
        hp_buf_puts(h, "<tr><td>");
        html_escape(h, x->string);
        hp_buf_puts(h, "</td><td>");
        if (cJSON_IsNumber(x)) put_number(h, x->valuedouble);
        else if (cJSON_IsBool(x)) hp_buf_puts(h, cJSON_IsTrue(x) ? "true" : "false");
        else if (cJSON_IsString(x)) html_escape(h, x->valuestring);
        else {
            char *s = cJSON_PrintUnformatted(x);
            html_escape(h, s ? s : "");
            cJSON_free(s);
        }
        hp_buf_puts(h, "</td></tr>\n");
    }
    hp_buf_puts(h, "</table>\n");
}

static const char *cfg_str(const cJSON *cfg, const char *k) {
    const cJSON *x = cJSON_GetObjectItemCaseSensitive(cfg, k);
    return cJSON_IsString(x) && x->valuestring[0] ? x->valuestring : NULL;
}

/* metrics.jsonl as {"rows": [...]}, each line parsed (a torn or foreign line is left out). '<' is
 * written as \u003c so that no text of it can close the script element. */
static void metrics_json(hp_buf *h, const char *dir, int *n_train, int *n_val) {
    cJSON *root = cJSON_CreateObject(), *rows = cJSON_AddArrayToObject(root, "rows");
    char *p = hp_path_join(dir, "metrics.jsonl"), *text = NULL;
    size_t len = 0;
    hp_err e = {{0}};
    *n_train = *n_val = 0;
    if (hp_path_exists(p) && hp_read_file(p, &text, &len, &e) == HP_OK) {
        char *save = NULL;
        for (char *line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
            cJSON *o = cJSON_Parse(line);
            const cJSON *k = cJSON_GetObjectItemCaseSensitive(o, "kind");
            if (!cJSON_IsObject(o) || !cJSON_IsNumber(cJSON_GetObjectItemCaseSensitive(o, "step"))) {
                cJSON_Delete(o);
                continue;
            }
            if (cJSON_IsString(k) && !strcmp(k->valuestring, "val")) (*n_val)++;
            else (*n_train)++;
            cJSON_AddItemToArray(rows, o);
        }
    }
    free(text);
    free(p);
    char *s = cJSON_PrintUnformatted(root);
    for (const char *c = s; *c; c++) {
        if (*c == '<') hp_buf_puts(h, "\\u003c");
        else hp_buf_putc(h, *c);
    }
    cJSON_free(s);
    cJSON_Delete(root);
}

static const char STYLE[] =
    "body{font-family:system-ui,sans-serif;margin:20px;color:#1f2328;background:#f6f8fa}"
    "h1{margin:0 0 4px}h2{margin:28px 0 8px}.sub{color:#57606a;margin:0 0 12px}"
    ".controls{margin:8px 0 12px;font-size:14px}"
    "#charts{display:flex;flex-wrap:wrap}.chart{margin:5px;background:#fff;border:1px solid #d0d7de;border-radius:6px}"
    ".title{font-size:13px;font-weight:600}.tick{font-size:10px;fill:#57606a}.legend{font-size:10px;fill:#1f2328}"
    ".grid{stroke:#eaeef2}.axis{stroke:#8c959f}.guide{stroke:#57606a;stroke-dasharray:3 3}"
    ".tip{position:absolute;display:none;background:#fff;border:1px solid #8c959f;border-radius:4px;padding:4px 8px;"
    "font-size:12px;white-space:pre;pointer-events:none;box-shadow:0 1px 4px rgba(0,0,0,.2)}"
    "table{border-collapse:collapse;background:#fff;margin:0 16px 16px 0;display:inline-table;vertical-align:top}"
    "caption{text-align:left;font-weight:600;padding:4px 0}td,th{border:1px solid #d0d7de;padding:3px 8px;"
    "font-size:13px;text-align:left}th{background:#eaeef2}tr.all td{font-weight:600}.ci,.n{color:#57606a}"
    ".cfg td:first-child{font-family:ui-monospace,monospace}.note{color:#57606a;font-size:13px}";

int hp_train_report(const char *dir, hp_err *err) {
    cJSON *cfg = read_json(dir, "run_config.json");
    cJSON *before = read_json(dir, "eval_before.json"), *after = read_json(dir, "eval_after.json");
    const char *name = cfg_str(cfg, "trainer.experiment_name");
    const char *project = cfg_str(cfg, "trainer.project_name"), *desc = cfg_str(cfg, "description");
    hp_buf h = {0}, data = {0};
    int n_train = 0, n_val = 0;
    metrics_json(&data, dir, &n_train, &n_val);

    hp_buf_puts(&h, "<!DOCTYPE html>\n<html lang='en'><head><meta charset='utf-8'><title>");
    html_escape(&h, name ? name : dir);
    hp_buf_printf(&h, " — hiper report</title><style>%s</style></head>\n<body>\n<h1>", STYLE);
    html_escape(&h, name ? name : dir);
    hp_buf_puts(&h, "</h1>\n<p class='sub'>");
    if (project) {
        hp_buf_puts(&h, "project ");
        html_escape(&h, project);
        hp_buf_puts(&h, " · ");
    }
    hp_buf_puts(&h, "run directory ");
    html_escape(&h, dir);
    hp_buf_printf(&h, " · %d training steps and %d validations in metrics.jsonl", n_train, n_val);
    if (desc) {
        hp_buf_puts(&h, "<br>");
        html_escape(&h, desc);
    }
    hp_buf_puts(&h, "</p>\n<h2>Training</h2>\n"
                    "<div class='controls'><label>smoothing <input id='smooth' type='range' min='0' max='0.99' "
                    "step='0.01' value='0'> <span id='smooth-value'>0.00</span></label> · hover a chart for its "
                    "values; steps count RL updates (step n = after the n-th update, 0 = before RL)</div>\n"
                    "<div id='charts'></div>\n");
    eval_tables(&h, before, after);
    config_table(&h, cfg);
    hp_buf_puts(&h, "<script>window.HP_DATA = ");
    hp_buf_append(&h, data.data, data.len);
    hp_buf_puts(&h, ";</script>\n<script>\n");
    hp_buf_puts(&h, HP_REPORT_JS);
    hp_buf_puts(&h, "</script>\n</body></html>\n");

    char *out = hp_path_join(dir, "report.html");
    int rc = hp_write_file_atomic(out, h.data, h.len, err);
    free(out);
    hp_buf_free(&h);
    hp_buf_free(&data);
    cJSON_Delete(cfg);
    cJSON_Delete(before);
    cJSON_Delete(after);
    return rc ? hp_err_wrap(err, "report") : HP_OK;
}
