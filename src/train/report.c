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

/* metrics.jsonl's records, each line parsed (a torn or foreign line is left out). */
static cJSON *metrics_rows(const char *dir, int *n_train, int *n_val) {
    cJSON *rows = cJSON_CreateArray();
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
    return rows;
}

/* A JSON value for the page's script, with '<' written as \u003c so that no text of it can close the
 * script element. Takes root. */
static void script_json(hp_buf *h, cJSON *root) {
    char *s = cJSON_PrintUnformatted(root);
    for (const char *c = s; *c; c++) {
        if (*c == '<') hp_buf_puts(h, "\\u003c");
        else hp_buf_putc(h, *c);
    }
    cJSON_free(s);
    cJSON_Delete(root);
}

/* metrics.jsonl as {"rows": [...]}. */
static void metrics_json(hp_buf *h, const char *dir, int *n_train, int *n_val) {
    cJSON *root = cJSON_CreateObject();
    cJSON_AddItemToObject(root, "rows", metrics_rows(dir, n_train, n_val));
    script_json(h, root);
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

/* The page's start: title, style, the heading. */
static void page_head(hp_buf *h, const char *title) {
    hp_buf_puts(h, "<!DOCTYPE html>\n<html lang='en'><head><meta charset='utf-8'><title>");
    html_escape(h, title);
    hp_buf_printf(h, " — hiper report</title><style>%s</style></head>\n<body>\n<h1>", STYLE);
    html_escape(h, title);
    hp_buf_puts(h, "</h1>\n<p class='sub'>");
}

static void page_controls(hp_buf *h) {
    hp_buf_puts(h, "<div class='controls'><label>smoothing <input id='smooth' type='range' min='0' max='0.99' "
                   "step='0.01' value='0'> <span id='smooth-value'>0.00</span></label> · hover a chart for its "
                   "values; steps count RL updates (step n = after the n-th update, 0 = before RL)</div>\n"
                   "<div id='charts'></div>\n");
}

/* The data and the charts' script, then the page's end. */
static void page_script(hp_buf *h, const hp_buf *data) {
    hp_buf_puts(h, "<script>window.HP_DATA = ");
    hp_buf_append(h, data->data, data->len);
    hp_buf_puts(h, ";</script>\n<script>\n");
    hp_buf_puts(h, HP_REPORT_JS);
    hp_buf_puts(h, "</script>\n</body></html>\n");
}

int hp_train_report(const char *dir, hp_err *err) {
    cJSON *cfg = read_json(dir, "run_config.json");
    cJSON *before = read_json(dir, "eval_before.json"), *after = read_json(dir, "eval_after.json");
    const char *name = cfg_str(cfg, "trainer.experiment_name");
    const char *project = cfg_str(cfg, "trainer.project_name"), *desc = cfg_str(cfg, "description");
    hp_buf h = {0}, data = {0};
    int n_train = 0, n_val = 0;
    metrics_json(&data, dir, &n_train, &n_val);

    page_head(&h, name ? name : dir);
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
    hp_buf_puts(&h, "</p>\n<h2>Training</h2>\n");
    page_controls(&h);
    eval_tables(&h, before, after);
    config_table(&h, cfg);
    page_script(&h, &data);

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

/* ---- several runs on one page ------------------------------------------------------------------- */

/* A run's label: given, else the run configuration's group_key, else the directory's last part. */
static char *run_label(const char *given, const cJSON *cfg, const char *group_key, const char *dir) {
    if (given && given[0]) return hp_xstrdup(given);
    const cJSON *x = cJSON_GetObjectItemCaseSensitive(cfg, group_key);
    if (cJSON_IsString(x) && x->valuestring[0]) return hp_xstrdup(x->valuestring);
    if (cJSON_IsNumber(x) || cJSON_IsBool(x)) {
        char *s = cJSON_PrintUnformatted(x), *r = hp_xstrdup(s);
        cJSON_free(s);
        return r;
    }
    size_t n = strlen(dir);
    while (n > 1 && dir[n - 1] == '/') n--;
    size_t b = n;
    while (b > 0 && dir[b - 1] != '/') b--;
    char *r = hp_xmalloc(n - b + 1);
    memcpy(r, dir + b, n - b);
    r[n - b] = 0;
    return r;
}

/* The final evaluation of every run (one row each) and, per label, the mean ± sd of its runs' success. */
static void overlay_eval_tables(hp_buf *h, int n, char *const *labels, const char *const *dirs, const double *seeds,
                                cJSON *const *evals) {
    const cJSON *splits = NULL;
    for (int i = 0; i < n && !splits; i++) splits = evals[i];
    if (!splits) return;
    hp_buf_puts(h, "<h2>Evaluation after RL</h2>\n<p class='note'>Success with its 95% Wilson interval and "
                   "(won/games) per run (eval_after.json), then per label the mean ± sd over its runs.</p>\n"
                   "<table class='eval'><tr><th>label</th><th>seed</th><th>run</th>");
    const cJSON *sp;
    cJSON_ArrayForEach(sp, splits) {
        hp_buf_puts(h, "<th>");
        html_escape(h, sp->string ? sp->string : "?");
        hp_buf_puts(h, "</th>");
    }
    hp_buf_puts(h, "</tr>\n");
    for (int i = 0; i < n; i++) {
        hp_buf_puts(h, "<tr><td>");
        html_escape(h, labels[i]);
        hp_buf_puts(h, "</td><td>");
        put_number(h, seeds[i]);
        hp_buf_puts(h, "</td><td>");
        html_escape(h, dirs[i]);
        hp_buf_puts(h, "</td>");
        cJSON_ArrayForEach(sp, splits) eval_cell(h, evals[i] ? cJSON_GetObjectItemCaseSensitive(evals[i], sp->string) : NULL);
        hp_buf_puts(h, "</tr>\n");
    }
    hp_buf_puts(h, "</table>\n<table class='eval'><tr><th>label</th><th>runs</th>");
    cJSON_ArrayForEach(sp, splits) {
        hp_buf_puts(h, "<th>");
        html_escape(h, sp->string ? sp->string : "?");
        hp_buf_puts(h, " (mean ± sd)</th>");
    }
    hp_buf_puts(h, "</tr>\n");
    for (int i = 0; i < n; i++) {
        bool first = true;
        for (int j = 0; j < i && first; j++) first = strcmp(labels[i], labels[j]) != 0;
        if (!first) continue;
        int runs = 0;
        for (int j = i; j < n; j++) runs += !strcmp(labels[i], labels[j]);
        hp_buf_puts(h, "<tr class='all'><td>");
        html_escape(h, labels[i]);
        hp_buf_printf(h, "</td><td>%d</td>", runs);
        cJSON_ArrayForEach(sp, splits) {
            double s = 0, ss = 0;
            int k = 0;
            for (int j = i; j < n; j++) {
                if (strcmp(labels[i], labels[j]) || !evals[j]) continue;
                double v = num(cJSON_GetObjectItemCaseSensitive(evals[j], sp->string), "success");
                if (!isfinite(v)) continue;
                s += v, ss += v * v, k++;
            }
            double mean = k ? s / k : NAN, sd = k > 1 ? sqrt(fmax(0.0, (ss - k * mean * mean) / (k - 1))) : NAN;
            if (!k) hp_buf_puts(h, "<td>–</td>");
            else if (k == 1) hp_buf_printf(h, "<td>%.1f%% <span class='n'>(1 run)</span></td>", 100 * mean);
            else hp_buf_printf(h, "<td>%.1f ± %.1f%% <span class='n'>(%d runs)</span></td>", 100 * mean, 100 * sd, k);
        }
        hp_buf_puts(h, "</tr>\n");
    }
    hp_buf_puts(h, "</table>\n");
}

int hp_train_report_overlay(const char *const *dirs, const char *const *labels, int n, const char *group_key,
                            const char *title, const char *out_path, hp_err *err) {
    if (n < 1) return hp_fail(err, "report: no run directory");
    if (!group_key || !group_key[0]) group_key = "algorithm.adv_estimator";
    for (int i = 0; i < n; i++) {
        char *m = hp_path_join(dirs[i], "metrics.jsonl"), *c = hp_path_join(dirs[i], "run_config.json");
        bool ok = hp_path_exists(m) || hp_path_exists(c);
        free(m);
        free(c);
        if (!ok) return hp_fail(err, "report: %s: not a run directory (neither metrics.jsonl nor run_config.json)", dirs[i]);
    }
    char **lab = hp_xcalloc((size_t)n, sizeof *lab);
    double *seeds = hp_xcalloc((size_t)n, sizeof *seeds);
    cJSON **evals = hp_xcalloc((size_t)n, sizeof *evals);
    cJSON *root = cJSON_CreateObject(), *runs = cJSON_AddArrayToObject(root, "runs");
    cJSON_AddBoolToObject(root, "overlay", true);
    int total_train = 0, n_labels = 0;
    for (int i = 0; i < n; i++) {
        cJSON *cfg = read_json(dirs[i], "run_config.json");
        lab[i] = run_label(labels ? labels[i] : NULL, cfg, group_key, dirs[i]);
        bool seen = false;
        for (int j = 0; j < i && !seen; j++) seen = !strcmp(lab[i], lab[j]);
        n_labels += !seen;
        seeds[i] = num(cfg, "trainer.seed");
        evals[i] = read_json(dirs[i], "eval_after.json");
        int n_train = 0, n_val = 0;
        cJSON *r = cJSON_CreateObject();
        cJSON_AddStringToObject(r, "label", lab[i]);
        cJSON_AddStringToObject(r, "dir", dirs[i]);
        if (isfinite(seeds[i])) cJSON_AddNumberToObject(r, "seed", seeds[i]);
        cJSON_AddItemToObject(r, "rows", metrics_rows(dirs[i], &n_train, &n_val));
        cJSON_AddItemToArray(runs, r);
        total_train += n_train;
        cJSON_Delete(cfg);
    }
    hp_buf h = {0}, data = {0};
    script_json(&data, root);
    page_head(&h, title && title[0] ? title : "runs compared");
    hp_buf_printf(&h, "%d runs in %d groups by %s (one colour per group; thin lines are runs, the thick line their "
                  "mean at each step over the runs that reached it) · %d training steps in all",
                  n, n_labels, labels ? "label" : group_key, total_train);
    hp_buf_puts(&h, "</p>\n<h2>Training</h2>\n");
    page_controls(&h);
    overlay_eval_tables(&h, n, lab, dirs, seeds, evals);
    page_script(&h, &data);
    int rc = hp_write_file_atomic(out_path, h.data, h.len, err);
    hp_buf_free(&h);
    hp_buf_free(&data);
    for (int i = 0; i < n; i++) free(lab[i]), cJSON_Delete(evals[i]);
    free(lab), free(seeds), free(evals);
    return rc ? hp_err_wrap(err, "report") : HP_OK;
}
