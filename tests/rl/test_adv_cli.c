/* `hiper advantage` end to end: every example case of tests/rl/fixtures through the binary (stdin →
 * stdout, one line per input line, input order kept), and its error contract (exit 1 naming the line
 * and the key, nothing on stdout; usage errors exit 2). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "adv_test_util.h"

#include <math.h>
#include <sys/wait.h>

#define TMP HP_BINARY_DIR "/test_adv_cli.tmp"

/* Run the CLI with `args`, stdin from `input` (written to a file first). Returns the exit code;
 * *out and *err receive stdout and stderr (caller frees). */
static int run(const char *args, const char *input, char **out, char **errs) {
    hp_err e = {{0}};
    assert_int_equal(hp_write_file_atomic(TMP ".in", input, strlen(input), &e), HP_OK);
    char cmd[2048];
    snprintf(cmd, sizeof cmd, "%s advantage %s < %s.in > %s.out 2> %s.err", HP_CLI, args, TMP, TMP, TMP);
    int st = system(cmd);
    *out = read_or_die(TMP ".out");
    *errs = read_or_die(TMP ".err");
    return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

static size_t count_lines(const char *s) {
    size_t n = 0;
    for (; *s; s++) n += *s == '\n';
    return n;
}

/* Compare the CLI's output lines with the expected lines (same order), every numeric field. */
static void compare_lines(const char *got, const char *want, double tol, const char *what) {
    assert_int_equal(count_lines(got), count_lines(want));
    const char *g = got, *w = want;
    while (*g && *w) {
        const char *ge = strchr(g, '\n'), *we = strchr(w, '\n');
        cJSON *go = cJSON_ParseWithLength(g, (size_t)(ge - g)), *wo = cJSON_ParseWithLength(w, (size_t)(we - w));
        assert_non_null(go);
        assert_non_null(wo);
        cJSON *f;
        cJSON_ArrayForEach(f, wo) {
            cJSON *x = cJSON_GetObjectItemCaseSensitive(go, f->string);
            if (!x) fail_msg("%s: output lacks key %s", what, f->string);
            if (cJSON_IsNumber(f)) {
                if (fabs(x->valuedouble - f->valuedouble) > tol)
                    fail_msg("%s: %s %.10g vs %.10g in %.*s", what, f->string, x->valuedouble, f->valuedouble,
                             (int)(ge - g), g);
            } else if (cJSON_IsString(f)) {
                assert_string_equal(x->valuestring, f->valuestring);
            } else {
                assert_int_equal(cJSON_IsTrue(x), cJSON_IsTrue(f));
            }
        }
        cJSON_Delete(go);
        cJSON_Delete(wo);
        g = ge + 1;
        w = we + 1;
    }
}

static char *lines_of_trajs(const char *path, cJSON *trajs) {
    char *text = read_or_die(path);
    hp_buf out = {0};
    cJSON *t;
    /* keep file order: scan lines, keep those whose traj is listed */
    const char *p = text;
    while (*p) {
        const char *e = strchr(p, '\n');
        size_t len = e ? (size_t)(e - p) : strlen(p);
        cJSON *o = cJSON_ParseWithLength(p, len);
        const char *traj = cJSON_GetObjectItem(o, "traj")->valuestring;
        cJSON_ArrayForEach(t, trajs) if (!strcmp(t->valuestring, traj)) {
            hp_buf_append(&out, p, len);
            hp_buf_putc(&out, '\n');
            break;
        }
        cJSON_Delete(o);
        p += len + (e ? 1 : 0);
    }
    free(text);
    return hp_buf_take(&out);
}

static void test_hae_examples(void **s) {
    (void)s;
    char *cases_text = read_or_die(EXAMPLES "hae_cases.json");
    char *examples = read_or_die(EXAMPLES "hae_examples.jsonl");
    cJSON *cases = cJSON_Parse(cases_text), *c;
    cJSON_ArrayForEach(c, cases) {
        const char *id = cJSON_GetObjectItem(c, "case")->valuestring;
        char args[512];
        snprintf(args, sizeof args, "--estimator hae --config %s%s", EXAMPLES,
                 cJSON_GetObjectItem(c, "config")->valuestring);
        char *in = select_lines(examples, "group", id, true);
        char *want = lines_of_trajs(EXAMPLES "hae_expected.jsonl", cJSON_GetObjectItem(c, "trajs"));
        char *out, *err;
        int rc = run(args, in, &out, &err);
        if (rc != 0) fail_msg("%s: exit %d: %s", id, rc, err);
        compare_lines(out, want, 1e-5, id);
        free(in), free(want), free(out), free(err);
    }
    cJSON_Delete(cases);
    free(cases_text);
    free(examples);
}

static void test_group_examples(void **s) {
    (void)s;
    char *cases_text = read_or_die(EXAMPLES "gigpo_cases.json");
    char *examples = read_or_die(EXAMPLES "gigpo_examples.jsonl");
    cJSON *cases = cJSON_Parse(cases_text), *c;
    const char *est[] = {"gigpo", "grpo", "rloo"};
    cJSON_ArrayForEach(c, cases) {
        const char *id = cJSON_GetObjectItem(c, "case")->valuestring;
        char prefix[64];
        snprintf(prefix, sizeof prefix, "%s.", id);
        char *in = select_lines(examples, "group", prefix, false);
        for (int k = 0; k < 3; k++) {
            char args[512], path[512];
            snprintf(args, sizeof args, "--estimator %s --config %s%s", est[k], EXAMPLES,
                     cJSON_GetObjectItem(c, "config")->valuestring);
            snprintf(path, sizeof path, EXAMPLES "%s_expected.jsonl", est[k]);
            char *want = lines_of_trajs(path, cJSON_GetObjectItem(c, "trajs"));
            char *out, *err;
            int rc = run(args, in, &out, &err);
            if (rc != 0) fail_msg("%s %s: exit %d: %s", est[k], id, rc, err);
            compare_lines(out, want, 1e-5, id);
            free(want), free(out), free(err);
        }
        free(in);
    }
    cJSON_Delete(cases);
    free(cases_text);
    free(examples);
}

/* Output follows input order even when the rows come shuffled. */
static void test_input_order(void **s) {
    (void)s;
    const char *in = "{\"traj\": \"b\", \"turn\": 1, \"reward\": 1, \"done\": true, \"v_low\": 0.5}\n"
                     "{\"traj\": \"a\", \"turn\": 0, \"reward\": 0, \"v_low\": 1}\n"
                     "\n"
                     "{\"traj\": \"b\", \"turn\": 0, \"reward\": 0, \"v_low\": 2}\n"
                     "{\"traj\": \"a\", \"turn\": 1, \"reward\": 2, \"done\": true, \"v_low\": 1}\n";
    char *out, *err;
    assert_int_equal(run("--estimator gae --config /dev/null", in, &out, &err), 1); /* empty config: not JSON */
    free(out), free(err);
    assert_int_equal(run("--estimator gae", in, &out, &err), 0);
    /* γ = λ = 1 (before whitening): b: A_1 = 1 − 0.5 = 0.5, A_0 = (0 + 0.5 − 2) + 0.5 = −1;
     * a: A_1 = 2 − 1 = 1, A_0 = (0 + 1 − 1) + 1 = 1; ret = A + V */
    const char *want_traj[] = {"b", "a", "b", "a"};
    const int want_turn[] = {1, 0, 0, 1};
    const double raw[] = {0.5, 1.0, -1.0, 1.0}, ret[] = {1.0, 2.0, 1.0, 2.0};
    double mean = 0, var = 0;
    for (int i = 0; i < 4; i++) mean += raw[i] / 4;
    for (int i = 0; i < 4; i++) var += (raw[i] - mean) * (raw[i] - mean) / 3;
    const char *p = out;
    for (int i = 0; i < 4; i++) {
        const char *e = strchr(p, '\n');
        assert_non_null(e);
        cJSON *o = cJSON_ParseWithLength(p, (size_t)(e - p));
        assert_string_equal(cJSON_GetObjectItem(o, "traj")->valuestring, want_traj[i]);
        assert_int_equal(cJSON_GetObjectItem(o, "turn")->valueint, want_turn[i]);
        assert_true(fabs(cJSON_GetObjectItem(o, "adv")->valuedouble - (raw[i] - mean) / sqrt(var + 1e-8)) < 1e-9);
        assert_true(fabs(cJSON_GetObjectItem(o, "ret")->valuedouble - ret[i]) < 1e-12);
        cJSON_Delete(o);
        p = e + 1;
    }
    assert_true(*p == '\0');
    free(out), free(err);
}

/* Shuffled input lines: every output line (found by traj and turn) still equals the expected one. */
static void test_shuffled_lines(void **s) {
    (void)s;
    char *examples = read_or_die(EXAMPLES "hae_examples.jsonl");
    char *in = select_lines(examples, "group", "H_alf", true);
    /* split, reverse-interleave the lines (a fixed permutation), join */
    char *lines[64];
    int n = 0;
    for (char *l = strtok(in, "\n"); l && n < 64; l = strtok(NULL, "\n")) lines[n++] = l;
    assert_int_equal(n, 19);
    hp_buf sh = {0};
    for (int i = 0; i < n; i++) {
        hp_buf_puts(&sh, lines[(i * 7 + 3) % n]);
        hp_buf_putc(&sh, '\n');
    }
    char *out, *err;
    assert_int_equal(run("--estimator hae --config " EXAMPLES "hae_config_alfworld.json", sh.data, &out, &err), 0);
    char *want_text = NULL;
    size_t want_len = 0;
    hp_err rerr = {{0}};
    assert_int_equal(hp_read_file(EXAMPLES "hae_expected.jsonl", &want_text, &want_len, &rerr), HP_OK);
    int matched = 0;
    for (char *l = strtok(out, "\n"); l; l = strtok(NULL, "\n")) {
        cJSON *o = cJSON_Parse(l);
        const char *traj = cJSON_GetObjectItem(o, "traj")->valuestring;
        int turn = cJSON_GetObjectItem(o, "turn")->valueint;
        /* the expected line of the same traj and turn (H_* trajectories are unique to the case) */
        char key[128];
        snprintf(key, sizeof key, "{\"traj\": \"%s\", \"turn\": %d,", traj, turn);
        const char *w = strstr(want_text, key);
        assert_non_null(w);
        cJSON *wo = cJSON_ParseWithLength(w, (size_t)(strchr(w, '\n') - w));
        const char *keys[] = {"adv_low", "adv_high", "adv_term", "ret_low", "ret_high", "ret_term", "reward_shaped"};
        for (int k = 0; k < 7; k++)
            if (fabs(cJSON_GetObjectItem(o, keys[k])->valuedouble - cJSON_GetObjectItem(wo, keys[k])->valuedouble) > 1e-5)
                fail_msg("%s turn %d %s", traj, turn, keys[k]);
        cJSON_Delete(o);
        cJSON_Delete(wo);
        matched++;
    }
    assert_int_equal(matched, 19);
    free(want_text), free(out), free(err), free(in), free(examples);
    hp_buf_free(&sh);
}

static void expect_error(const char *args, const char *in, int code, const char *needle1, const char *needle2) {
    char *out, *err;
    int rc = run(args, in, &out, &err);
    if (rc != code) fail_msg("'%s': exit %d, want %d (%s)", args, rc, code, err);
    assert_string_equal(out, ""); /* nothing printed for a failed batch */
    if (needle1 && !strstr(err, needle1)) fail_msg("'%s': stderr lacks '%s': %s", args, needle1, err);
    if (needle2 && !strstr(err, needle2)) fail_msg("'%s': stderr lacks '%s': %s", args, needle2, err);
    free(out), free(err);
}

static void test_errors(void **s) {
    (void)s;
    const char *ok = "{\"traj\": \"a\", \"turn\": 0, \"v_high\": 1}\n";
    expect_error("--estimator hae", "{\"traj\": \"a\", \"turn\": 0, \"v_high\": 1}\n{\"traj\": \"a\", \"turn\": 1, \"rwd\": 1}\n",
                 1, "line 2", "'rwd'");
    expect_error("--estimator hae", "{\"traj\": \"a\", \"turn\": 0, \"v_high\": 1}\n{\"traj\": \"a\", \"turn\": \"x\"}\n", 1,
                 "line 2", "'turn'");
    expect_error("--estimator grpo", "{\"traj\": \"a\", \"turn\": 0}\n{\"traj\": \"a\", \"turn\": 1, \"reward\": 1\n", 1,
                 "line 2", NULL);
    expect_error("--estimator gigpo", "{\"turn\": 0}\n", 1, "line 1", "'traj'");
    expect_error("--estimator hae", "{\"traj\": \"a\", \"turn\": 0, \"switch\": \"SWITCH\"}\n", 1, "line 1", "v_high");
    expect_error("--estimator hae", "{\"traj\": \"a\", \"turn\": 0, \"v_high\": 1}\n\n{\"traj\": \"a\", \"turn\": -2, \"v_high\": 1}\n",
                 1, "line 3", "turn");
    expect_error("--estimator hae --config " EXAMPLES "gigpo_config_mean_norm.json", ok, 1, "unknown key", "'step_advantage_w'");
    expect_error("--estimator hae --config /nonexistent.json", ok, 1, "nonexistent", NULL);
    expect_error("--estimator nope", ok, 2, "unknown estimator", NULL);
    expect_error("", ok, 2, "--estimator", NULL);
    expect_error("--estimator hae --bogus", ok, 2, "unknown option", NULL);
    char *out, *err;
    assert_int_equal(run("--help", "", &out, &err), 0);
    assert_non_null(strstr(out, "--estimator"));
    free(out), free(err);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_hae_examples),
        cmocka_unit_test(test_group_examples),
        cmocka_unit_test(test_input_order),
        cmocka_unit_test(test_shuffled_lines),
        cmocka_unit_test(test_errors),
    };
    int rc = cmocka_run_group_tests(tests, NULL, NULL);
    remove(TMP ".in");
    remove(TMP ".out");
    remove(TMP ".err");
    return rc;
}
