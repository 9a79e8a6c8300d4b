/* report.c — a self-contained HTML page with SVG line charts of a run's metrics.jsonl (training and
 * validation curves), and the before/after evaluation tables when present. No scripts, no external
 * resources: the file can be mailed or opened offline. */
#include "hiper/train.h"

#include <cjson/cJSON.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

typedef struct series {
    const char *key, *title;
    double *x, *y;
    int n, cap;
} series;

static void series_add(series *s, double x, double y) {
    if (s->n == s->cap) {
        s->cap = s->cap ? 2 * s->cap : 64;
        s->x = hp_xrealloc(s->x, (size_t)s->cap * sizeof *s->x);
        s->y = hp_xrealloc(s->y, (size_t)s->cap * sizeof *s->y);
    }
    s->x[s->n] = x, s->y[s->n] = y, s->n++;
}

/* One chart: axes, min/max labels, a polyline with dots. */
static void chart(hp_buf *h, const series *s) {
    const double W = 420, H = 220, L = 56, R = 12, T = 26, B = 30;
    double x0 = INFINITY, x1 = -INFINITY, y0 = INFINITY, y1 = -INFINITY;
    for (int i = 0; i < s->n; i++) {
        x0 = fmin(x0, s->x[i]), x1 = fmax(x1, s->x[i]);
        y0 = fmin(y0, s->y[i]), y1 = fmax(y1, s->y[i]);
    }
    if (s->n == 0) x0 = 0, x1 = 1, y0 = 0, y1 = 1;
    if (x1 - x0 < 1e-12) x1 = x0 + 1;
    if (y1 - y0 < 1e-12) y0 -= 0.5, y1 += 0.5;
    hp_buf_printf(h, "<svg xmlns='http://www.w3.org/2000/svg' width='%.0f' height='%.0f' class='c'>", W, H);
    hp_buf_printf(h, "<text x='%.0f' y='16' class='t'>%s</text>", L, s->title);
    hp_buf_printf(h, "<line x1='%.0f' y1='%.0f' x2='%.0f' y2='%.0f' class='a'/>", L, H - B, W - R, H - B);
    hp_buf_printf(h, "<line x1='%.0f' y1='%.0f' x2='%.0f' y2='%.0f' class='a'/>", L, T, L, H - B);
    hp_buf_printf(h, "<text x='%.0f' y='%.0f' class='l' text-anchor='end'>%.4g</text>", L - 4, T + 8, y1);
    hp_buf_printf(h, "<text x='%.0f' y='%.0f' class='l' text-anchor='end'>%.4g</text>", L - 4, H - B, y0);
    hp_buf_printf(h, "<text x='%.0f' y='%.0f' class='l'>%.0f</text>", L, H - 10, x0);
    hp_buf_printf(h, "<text x='%.0f' y='%.0f' class='l' text-anchor='end'>step %.0f</text>", W - R, H - 10, x1);
    hp_buf_puts(h, "<polyline class='p' points='");
    for (int i = 0; i < s->n; i++) {
        double px = L + (s->x[i] - x0) / (x1 - x0) * (W - L - R);
        double py = H - B - (s->y[i] - y0) / (y1 - y0) * (H - B - T);
        hp_buf_printf(h, "%.1f,%.1f ", px, py);
    }
    hp_buf_puts(h, "'/>");
    if (s->n <= 60)
        for (int i = 0; i < s->n; i++) {
            double px = L + (s->x[i] - x0) / (x1 - x0) * (W - L - R);
            double py = H - B - (s->y[i] - y0) / (y1 - y0) * (H - B - T);
            hp_buf_printf(h, "<circle cx='%.1f' cy='%.1f' r='2.5' class='d'/>", px, py);
        }
    hp_buf_puts(h, "</svg>\n");
}

static void html_escape(hp_buf *h, const char *s) {
    for (; *s; s++) {
        if (*s == '<') hp_buf_puts(h, "&lt;");
        else if (*s == '>') hp_buf_puts(h, "&gt;");
        else if (*s == '&') hp_buf_puts(h, "&amp;");
        else hp_buf_putc(h, *s);
    }
}

/* The eval files hold {split: {...eval json...}}: show them as preformatted JSON. */
static void eval_section(hp_buf *h, const char *dir, const char *file, const char *title) {
    char *p = hp_path_join(dir, file), *text = NULL;
    size_t len;
    hp_err e;
    if (hp_read_file(p, &text, &len, &e) == HP_OK) {
        hp_buf_printf(h, "<h2>%s</h2><pre>", title);
        html_escape(h, text);
        hp_buf_puts(h, "</pre>\n");
    }
    free(text);
    free(p);
}

int hp_train_report(const char *dir, hp_err *err) {
    static const char *const KEYS[][2] = {
        {"val_success", "validation success"}, {"success", "training success"}, {"reward", "mean episode reward"},
        {"score", "task score"}, {"mean_turns", "turns per episode"}, {"invalid_rate", "invalid-action rate"},
        {"switch_rate", "switch rate (HiPER)"}, {"mean_segment", "mean segment length (HiPER)"},
        {"pg_loss", "policy-gradient loss"}, {"kl", "KL to the reference (k3)"}, {"entropy", "entropy"},
        {"clipfrac", "clip fraction"}, {"vf_loss_low", "value loss, low head"}, {"vf_loss_high", "value loss, high head"},
        {"vf_loss_term", "value loss, term head"}, {"actor_grad_norm", "actor gradient norm"},
        {"critic_grad_norm", "critic gradient norm"},
        {"explained_var_low", "explained variance, low head"}, {"explained_var_high", "explained variance, high head"},
        {"explained_var_term", "explained variance, term head"}, {"adv_raw_std_low", "advantage std before normalisation, low"},
        {"adv_raw_std_high", "advantage std before normalisation, high"}, {"ret_std_low", "value-target std, low head"},
        {"tokens_per_s", "rollout tokens / s"}, {"t_step", "seconds per step"},
    };
    enum { NK = sizeof KEYS / sizeof KEYS[0] };
    series s[NK];
    memset(s, 0, sizeof s);
    for (int k = 0; k < NK; k++) s[k].key = KEYS[k][0], s[k].title = KEYS[k][1];
    char *mp = hp_path_join(dir, "metrics.jsonl"), *text = NULL;
    size_t len = 0;
    /* a run with trainer.total_steps = 0 (SFT and evaluation only) has no metrics: no curves */
    int rc = hp_path_exists(mp) ? hp_read_file(mp, &text, &len, err) : HP_OK;
    free(mp);
    if (rc) return hp_err_wrap(err, "report");
    if (!text) text = hp_xcalloc(1, 1);
    char *save = NULL;
    for (char *line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
        cJSON *o = cJSON_Parse(line);
        const cJSON *st = cJSON_GetObjectItemCaseSensitive(o, "step");
        if (cJSON_IsNumber(st))
            for (int k = 0; k < NK; k++) {
                const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, s[k].key);
                if (cJSON_IsNumber(v)) series_add(&s[k], st->valuedouble, v->valuedouble);
            }
        cJSON_Delete(o);
    }
    free(text);
    hp_buf h = {0};
    hp_buf_puts(&h, "<!DOCTYPE html><html><head><meta charset='utf-8'><title>hiper run</title><style>"
                    "body{font-family:sans-serif;margin:20px;color:#222}.c{margin:6px;border:1px solid #ddd;"
                    "background:#fff}.t{font-size:13px;font-weight:bold}.l{font-size:10px;fill:#555}"
                    ".a{stroke:#999}.p{fill:none;stroke:#1f6feb;stroke-width:1.8}.d{fill:#1f6feb}"
                    "pre{background:#f6f8fa;padding:8px;font-size:12px}</style></head><body>\n");
    hp_buf_puts(&h, "<h1>hiper training run: ");
    html_escape(&h, dir);
    hp_buf_puts(&h, "</h1>\n<div>\n");
    for (int k = 0; k < NK; k++)
        if (s[k].n > 0) chart(&h, &s[k]);
    hp_buf_puts(&h, "</div>\n");
    eval_section(&h, dir, "eval_before.json", "Evaluation before RL");
    eval_section(&h, dir, "eval_after.json", "Evaluation after RL");
    char *cp = hp_path_join(dir, "run_config.json"), *cfg = NULL;
    hp_err e;
    if (hp_read_file(cp, &cfg, &len, &e) == HP_OK) {
        hp_buf_puts(&h, "<h2>Run configuration</h2><pre>");
        html_escape(&h, cfg);
        hp_buf_puts(&h, "</pre>\n");
    }
    free(cfg);
    free(cp);
    hp_buf_puts(&h, "</body></html>\n");
    char *out = hp_path_join(dir, "report.html");
    rc = hp_write_file_atomic(out, h.data, h.len, err);
    free(out);
    hp_buf_free(&h);
    for (int k = 0; k < NK; k++) free(s[k].x), free(s[k].y);
    return rc;
}
