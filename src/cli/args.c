/* A small --long-option parser shared by every subcommand (see cli.h). */
#include "cli.h"

#include "hiper/suggest.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <string.h>

static bool is_int(hp_opt_kind k) { return k == HP_OPT_INT || k == HP_OPT_INT_NONNEG || k == HP_OPT_INT_POS; }
static bool is_f64(hp_opt_kind k) { return k >= HP_OPT_F64 && k <= HP_OPT_F64_PROB; }

void hp_args_usage(FILE *out, const char *usage, const hp_opt *opts) {
    fprintf(out, "%s\n", usage);
    if (!opts || !opts[0].name) return;
    fprintf(out, "\noptions:\n");
    for (const hp_opt *o = opts; o->name; o++) {
        if (o->kind == HP_OPT_ALIAS) continue;
        const char *arg = o->kind == HP_OPT_FLAG ? "" : o->kind == HP_OPT_STR ? " VALUE" : " N";
        char left[64];
        snprintf(left, sizeof left, "--%s%s", o->name, arg);
        fprintf(out, "  %-24s %s", left, o->help ? o->help : "");
        for (const hp_opt *a = opts; a->name; a++)
            if (a->kind == HP_OPT_ALIAS && a->help && !strcmp(a->help, o->name)) fprintf(out, " (also --%s)", a->name);
        fprintf(out, "\n");
    }
    fprintf(out, "  %-24s %s\n", "--help", "show this help");
}

static bool same(const char *opt, const char *name, size_t len) {
    return opt && strlen(opt) == len && !strncmp(opt, name, len);
}

static const hp_opt *find_opt(const hp_opt *opts, const char *name, size_t len) {
    for (const hp_opt *o = opts; o && o->name; o++) {
        if (!same(o->name, name, len)) continue;
        if (o->kind != HP_OPT_ALIAS) return o;
        for (const hp_opt *t = opts; t->name; t++) /* the option the alias stands for */
            if (t->kind != HP_OPT_ALIAS && o->help && !strcmp(t->name, o->help)) return t;
        return NULL;
    }
    return NULL;
}

/* The range of a numeric kind, as text, and whether v lies in it. */
static const char *range_text(hp_opt_kind k) {
    switch (k) {
    case HP_OPT_INT_NONNEG:
    case HP_OPT_F64_NONNEG: return ">= 0";
    case HP_OPT_INT_POS: return ">= 1";
    case HP_OPT_F64_POS: return "> 0";
    case HP_OPT_F64_UNIT: return "in [0, 1]";
    case HP_OPT_F64_PROB: return "in (0, 1]";
    default: return "finite";
    }
}

static bool in_range(hp_opt_kind k, double v) {
    switch (k) {
    case HP_OPT_INT_NONNEG:
    case HP_OPT_F64_NONNEG: return v >= 0;
    case HP_OPT_INT_POS: return v >= 1;
    case HP_OPT_F64_POS: return v > 0;
    case HP_OPT_F64_UNIT: return v >= 0 && v <= 1;
    case HP_OPT_F64_PROB: return v > 0 && v <= 1;
    default: return true;
    }
}

static void unknown_option(const hp_opt *opts, const char *name, size_t len) {
    char word[128];
    snprintf(word, sizeof word, "%.*s", (int)(len < sizeof word ? len : sizeof word - 1), name);
    hp_suggest s;
    hp_suggest_init(&s, word);
    for (const hp_opt *o = opts; o && o->name; o++) hp_suggest_add(&s, o->kind == HP_OPT_ALIAS ? o->help : o->name);
    hp_suggest_add(&s, "help");
    const char *best = hp_suggest_best(&s);
    if (best) fprintf(stderr, "hiper: unknown option '--%s' (did you mean '--%s'?)\n", word, best);
    else fprintf(stderr, "hiper: unknown option '--%s'\n", word);
}

int hp_args_parse(int argc, char **argv, int first, const hp_opt *opts, const char *usage,
                  const char **pos, int max_pos, int *n_pos) {
    int np = 0;
    for (int i = first; i < argc; i++) {
        const char *a = argv[i];
        if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
            hp_args_usage(stdout, usage, opts);
            return 1;
        }
        if (strncmp(a, "--", 2) != 0 || a[2] == '\0') {
            if (np >= max_pos) {
                fprintf(stderr, "hiper: unexpected argument '%s'\n", a);
                hp_args_usage(stderr, usage, opts);
                return 2;
            }
            pos[np++] = a;
            continue;
        }
        const char *name = a + 2;
        const char *eq = strchr(name, '=');
        size_t len = eq ? (size_t)(eq - name) : strlen(name);
        const hp_opt *o = find_opt(opts, name, len);
        if (!o) {
            unknown_option(opts, name, len);
            hp_args_usage(stderr, usage, opts);
            return 2;
        }
        if (o->kind == HP_OPT_FLAG) {
            if (eq) {
                fprintf(stderr, "hiper: option '--%s' takes no value\n", o->name);
                return 2;
            }
            *(bool *)o->dst = true;
            continue;
        }
        const char *val = eq ? eq + 1 : NULL;
        if (!val) {
            if (i + 1 >= argc) {
                fprintf(stderr, "hiper: option '--%s' needs a value\n", o->name);
                return 2;
            }
            val = argv[++i];
        }
        if (o->kind == HP_OPT_STR) {
            *(const char **)o->dst = val;
        } else if (is_int(o->kind)) {
            if (!hp_parse_i64(val, (int64_t *)o->dst)) {
                fprintf(stderr, "hiper: option '--%s' needs an integer, got '%s'\n", o->name, val);
                return 2;
            }
            if (!in_range(o->kind, (double)*(int64_t *)o->dst)) {
                fprintf(stderr, "hiper: option '--%s' must be %s, got %s\n", o->name, range_text(o->kind), val);
                return 2;
            }
        } else if (is_f64(o->kind)) {
            if (!hp_parse_f64(val, (double *)o->dst)) { /* NaN and infinities too */
                fprintf(stderr, "hiper: option '--%s' needs a finite number, got '%s'\n", o->name, val);
                return 2;
            }
            if (!in_range(o->kind, *(double *)o->dst)) {
                fprintf(stderr, "hiper: option '--%s' must be %s, got %s\n", o->name, range_text(o->kind), val);
                return 2;
            }
        }
    }
    if (n_pos) *n_pos = np;
    return 0;
}

int hp_cli_env_options(const char *cmd, const char *text, cJSON **out) {
    *out = NULL;
    if (!text) return 0;
    cJSON *o = cJSON_Parse(text);
    if (!cJSON_IsObject(o)) {
        cJSON_Delete(o);
        return hp_cli_usage_error(cmd, "--env-options must be a JSON object, got '%s'", text);
    }
    *out = o;
    return 0;
}

int hp_cli_error(const hp_err *err) {
    fprintf(stderr, "hiper: error: %s\n", err && err->msg[0] ? err->msg : "unknown error");
    return HP_EXIT_ERROR;
}

int hp_cli_errorf(const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "hiper: error: ");
    vfprintf(stderr, fmt, ap);
    fprintf(stderr, "\n");
    va_end(ap);
    return HP_EXIT_ERROR;
}

int hp_cli_usage_error(const char *cmd, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "hiper: ");
    vfprintf(stderr, fmt, ap);
    fprintf(stderr, "\n(see 'hiper %s --help')\n", cmd);
    va_end(ap);
    return HP_EXIT_USAGE;
}

int hp_cli_write(const void *data, size_t len, hp_err *err) {
    errno = 0;
    bool bad = len > 0 && fwrite(data, 1, len, stdout) != len;
    if (!bad) bad = fflush(stdout) != 0;
    if (!bad && ferror(stdout)) return hp_fail(err, "writing stdout: an earlier write failed");
    if (bad) return hp_fail(err, "writing stdout: %s", errno ? strerror(errno) : "write error");
    return HP_OK;
}

int hp_cli_finish(int rc) {
    errno = 0;
    bool bad = fflush(stdout) != 0;
    int e = bad ? errno : 0;
    if (!bad && ferror(stdout)) bad = true; /* failed earlier: the reason went with that write */
    if (fclose(stdout) != 0 && !bad) {
        bad = true;
        e = errno;
    }
    if (!bad || rc != HP_EXIT_OK) return rc; /* a command that failed has said why already */
    fprintf(stderr, "hiper: error: writing stdout: %s\n", e ? strerror(e) : "write error (the output is incomplete)");
    return HP_EXIT_ERROR;
}
