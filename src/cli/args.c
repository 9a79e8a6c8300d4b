/* A small --long-option parser shared by every subcommand (see cli.h). */
#include "cli.h"

#include <errno.h>
#include <stdarg.h>
#include <string.h>

void hp_args_usage(FILE *out, const char *usage, const hp_opt *opts) {
    fprintf(out, "%s\n", usage);
    if (!opts || !opts[0].name) return;
    fprintf(out, "\noptions:\n");
    for (const hp_opt *o = opts; o->name; o++) {
        const char *arg = o->kind == HP_OPT_FLAG ? "" : o->kind == HP_OPT_STR ? " VALUE" : " N";
        char left[64];
        snprintf(left, sizeof left, "--%s%s", o->name, arg);
        fprintf(out, "  %-24s %s\n", left, o->help ? o->help : "");
    }
    fprintf(out, "  %-24s %s\n", "--help", "show this help");
}

static const hp_opt *find_opt(const hp_opt *opts, const char *name, size_t len) {
    for (const hp_opt *o = opts; o && o->name; o++)
        if (strlen(o->name) == len && !strncmp(o->name, name, len)) return o;
    return NULL;
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
            fprintf(stderr, "hiper: unknown option '--%.*s'\n", (int)len, name);
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
        switch (o->kind) {
        case HP_OPT_STR: *(const char **)o->dst = val; break;
        case HP_OPT_INT:
            if (!hp_parse_i64(val, (int64_t *)o->dst)) {
                fprintf(stderr, "hiper: option '--%s' needs an integer, got '%s'\n", o->name, val);
                return 2;
            }
            break;
        case HP_OPT_F64:
            if (!hp_parse_f64(val, (double *)o->dst)) {
                fprintf(stderr, "hiper: option '--%s' needs a number, got '%s'\n", o->name, val);
                return 2;
            }
            break;
        case HP_OPT_FLAG: break;
        }
    }
    if (n_pos) *n_pos = np;
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
