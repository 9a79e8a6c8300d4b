/* Limits on what an external server may send (docs/external-protocol.md, "Limits" and "Giving up"),
 * against tests/external/toy_server.py misbehaving on purpose: an oversized reply or observation, an
 * out-of-range reward, a server that fails every 8th request (never twice in a row), and a server
 * writing megabytes to its stderr. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "env/external/ext_internal.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#define TOY "/usr/bin/python3 " HP_SOURCE_DIR "/tests/external/toy_server.py"

/* Open the toy server with these arguments and extra options (a JSON object's members, or ""). */
static hp_env *open_toy(const char *args, const char *extra, hp_err *err) {
    hp_buf js = {0};
    hp_buf_puts(&js, "{\"cmd\": ");
    hp_buf cmd = {0};
    hp_buf_printf(&cmd, "%s %s", TOY, args);
    hp_buf_json_string(&js, cmd.data);
    hp_buf_printf(&js, ", \"timeout_s\": 20%s%s}", extra[0] ? ", " : "", extra);
    cJSON *o = cJSON_Parse(js.data);
    assert_non_null(o);
    hp_env *e = hp_external_open(o, err);
    cJSON_Delete(o);
    hp_buf_free(&cmd);
    hp_buf_free(&js);
    return e;
}

static void no_child_left(void) {
    errno = 0;
    assert_int_equal(waitpid(-1, NULL, WNOHANG), -1);
    assert_int_equal(errno, ECHILD);
}

/* ---- reply and observation size ---- */

static void test_oversized_observation(void **state) {
    (void)state;
    hp_err err = {{0}};
    /* 2 MB observations: every reply past the default 1 MiB is a fault, and the host gives up */
    hp_env *e = open_toy("--big-obs 2000000", "", &err);
    assert_non_null(e);
    assert_int_equal(hp_env_reset(e, "train", 0, 0, &err), HP_FAIL);
    assert_non_null(strstr(err.msg, "longer than the limit of 1048576 bytes"));
    assert_non_null(strstr(err.msg, "max_message_bytes"));
    hp_external_stats st;
    assert_true(hp_external_get_stats(e, &st));
    assert_int_equal(st.faults, 4); /* max_restarts 3: the 4th in a row gives up */
    hp_env_free(e);
    /* the same server with a limit that fits: the observation arrives whole */
    e = open_toy("--big-obs 2000000", "\"max_message_bytes\": 4000000", &err);
    assert_non_null(e);
    assert_int_equal(hp_env_reset(e, "train", 0, 0, &err), HP_OK);
    assert_true(strlen(hp_env_get_view(e)->observation) >= 2000000); /* 2e6 characters, one of them 3 bytes */
    hp_env_free(e);
    no_child_left();
}

/* A batch reply may hold max_message_bytes per result, but no single state may pass the limit. */
static void test_state_text_limit(void **state) {
    (void)state;
    hp_err err = {{0}};
    cJSON *r = cJSON_Parse("{\"obs\": \"0123456789\", \"task\": \"abc\", \"admissible\": [\"de\", \"f\"], "
                           "\"reward\": 1, \"done\": false}");
    hp_ext_view v = {0};
    assert_int_equal(hp_ext_view_decode(&v, r, 50, 16, &err), HP_OK); /* 10 + 3 + 3 = 16 bytes */
    assert_int_equal(hp_ext_view_decode(&v, r, 50, 15, &err), HP_FAIL);
    assert_non_null(strstr(err.msg, "16 bytes, more than the limit of 15"));
    assert_int_equal(hp_ext_view_decode(&v, r, 50, 0, &err), HP_OK); /* 0: no limit */
    hp_ext_view_free(&v);
    cJSON_Delete(r);
    cJSON *o = cJSON_Parse("{\"cmd\": \"true\", \"max_message_bytes\": 10}");
    assert_null(hp_external_open(o, &err));
    assert_non_null(strstr(err.msg, "max_message_bytes"));
    cJSON_Delete(o);
}

/* ---- rewards ---- */

static void decode_reward(const char *reward, const char *score, int want, const char *msg) {
    char js[256];
    snprintf(js, sizeof js, "{\"obs\": \"\", \"task\": \"\", \"admissible\": [], \"reward\": %s, \"done\": false, "
                            "\"info\": {\"score\": %s}}", reward, score);
    cJSON *r = cJSON_Parse(js);
    assert_non_null(r);
    hp_ext_view v = {0};
    hp_err err = {{0}};
    assert_int_equal(hp_ext_view_decode(&v, r, 50, 0, &err), want);
    if (msg) assert_non_null(strstr(err.msg, msg));
    hp_ext_view_free(&v);
    cJSON_Delete(r);
}

static void test_reward_range(void **state) {
    (void)state;
    decode_reward("10", "1", HP_OK, NULL);
    decode_reward("-1e6", "1e6", HP_OK, NULL);
    decode_reward("1e300", "0", HP_FAIL, "key 'reward' is 1e+300, outside [-1e+06, 1e+06]");
    decode_reward("-1000001", "0", HP_FAIL, "key 'reward'");
    decode_reward("1e999", "0", HP_FAIL, "key 'reward' must be a finite number"); /* cJSON reads inf */
    decode_reward("0", "2e6", HP_FAIL, "key 'score' is 2e+06");

    /* end to end: a server whose every reward is 1e300 is a fault each time, then the host gives up */
    hp_err err = {{0}};
    hp_env *e = open_toy("--reward 1e300", "", &err);
    assert_non_null(e);
    assert_int_equal(hp_env_reset(e, "train", 0, 0, &err), HP_FAIL);
    assert_non_null(strstr(err.msg, "key 'reward' is 1e+300"));
    hp_env_free(e);
    no_child_left();
}

/* ---- fault rate ---- */

/* Play episodes until a call fails or `requests` requests were made; returns the requests made. */
static int play(hp_env *e, int requests, hp_err *err) {
    int n = 0;
    while (n < requests) {
        if (hp_env_reset(e, "train", n % 100, 0, err)) return n;
        n++;
        while (!hp_env_get_view(e)->done && n < requests) {
            if (hp_env_step(e, "look", err)) return n;
            n++;
        }
    }
    return n;
}

static void test_fault_rate(void **state) {
    (void)state;
    hp_err err = {{0}};
    /* Every process answers its 8th request line (the handshake is the 1st) with malformed JSON: never
     * two faults in a row, so max_restarts alone would let this run forever with episodes truncated. */
    hp_env *e = open_toy("--malformed 8", "", &err);
    assert_non_null(e);
    int n = play(e, 400, &err);
    assert_true(n < 400);
    assert_non_null(strstr(err.msg, "4 faults in the last"));
    assert_non_null(strstr(err.msg, "max_faults 3 per fault_window 100"));
    assert_non_null(strstr(err.msg, "not a JSON object"));
    hp_external_stats st;
    assert_true(hp_external_get_stats(e, &st));
    assert_int_equal(st.faults, 4);
    assert_true(st.truncated >= 1);
    /* given up for good: later calls fail with the same message */
    hp_err err2 = {{0}};
    assert_int_equal(hp_env_reset(e, "train", 0, 0, &err2), HP_FAIL);
    assert_string_equal(err.msg, err2.msg);
    hp_env_free(e);

    /* a wider tolerance lets the same server run on (what a user may choose knowingly) */
    e = open_toy("--malformed 8", "\"max_faults\": 1000", &err);
    assert_non_null(e);
    assert_int_equal(play(e, 100, &err), 100);
    assert_true(hp_external_get_stats(e, &st) && st.faults >= 10);
    hp_env_free(e);

    /* rare faults stay within the cap: one fault per 40 requests, over 120 requests */
    e = open_toy("--malformed 41", "", &err);
    assert_non_null(e);
    assert_int_equal(play(e, 120, &err), 120);
    assert_true(hp_external_get_stats(e, &st) && st.faults >= 2 && st.faults <= 3);
    hp_env_free(e);

    cJSON *o = cJSON_Parse("{\"cmd\": \"true\", \"fault_window\": 0}");
    assert_null(hp_external_open(o, &err));
    assert_non_null(strstr(err.msg, "fault_window"));
    cJSON_Delete(o);
    no_child_left();
}

/* ---- a server writing megabytes to stderr ---- */

static long rss_kb(void) {
    FILE *f = fopen("/proc/self/status", "r");
    char line[256];
    long kb = -1;
    while (f && fgets(line, sizeof line, f))
        if (!strncmp(line, "VmRSS:", 6)) kb = atol(line + 6);
    if (f) fclose(f);
    return kb;
}

static void test_stderr_flood(void **state) {
    (void)state;
    /* the server's stderr is ours: send it to a file for the test */
    char path[] = "/tmp/hp_stderr_flood.XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    fflush(stderr);
    int saved = dup(STDERR_FILENO);
    dup2(fd, STDERR_FILENO);
    long before = rss_kb();
    double t0 = hp_now();
    hp_err err = {{0}};
    hp_env *e = open_toy("--stderr-bytes 2000000", "", &err); /* 2 MB before every reply */
    int n = e ? play(e, 12, &err) : -1;
    hp_external_stats st = {0};
    if (e) hp_external_get_stats(e, &st);
    hp_env_free(e);
    double secs = hp_now() - t0;
    long after = rss_kb();
    fflush(stderr);
    dup2(saved, STDERR_FILENO);
    close(saved);
    struct stat sb;
    fstat(fd, &sb);
    close(fd);
    unlink(path);
    if (n != 12) fail_msg("played %d requests: %s", n, err.msg);
    assert_int_equal(st.faults, 0);
    assert_true(sb.st_size >= 12 * 2000000L); /* everything went through, nothing held back */
    assert_true(secs < 30);
    if (before > 0 && after > 0 && after - before > 16 * 1024)
        fail_msg("memory grew by %ld kB while the server wrote %lld bytes to stderr", after - before,
                 (long long)sb.st_size);
    no_child_left();
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_oversized_observation),
        cmocka_unit_test(test_state_text_limit),
        cmocka_unit_test(test_reward_range),
        cmocka_unit_test(test_fault_rate),
        cmocka_unit_test(test_stderr_flood),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
