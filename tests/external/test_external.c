/* Tests of the external environment client against tests/external/toy_server.py, an independent
 * Python server whose game and expected values are written out in its docstring: every message type,
 * many environments in one request, and every fault (malformed JSON, wrong ids, missing fields, hangs,
 * crashes mid-episode and at start-up), checking that no child process or file descriptor is left. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "hiper/external.h"

#include <dirent.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#define TOY "/usr/bin/python3 " HP_SOURCE_DIR "/tests/external/toy_server.py"

typedef struct {
    char dir[64];
    int fds;
} fixture;

static int count_fds(void) {
    DIR *d = opendir("/proc/self/fd");
    int n = 0;
    for (struct dirent *e; d && (e = readdir(d));) n += e->d_name[0] != '.';
    if (d) closedir(d);
    return n;
}

static int setup(void **state) {
    fixture *f = calloc(1, sizeof *f);
    snprintf(f->dir, sizeof f->dir, "/tmp/hp_ext_test.XXXXXX");
    if (!mkdtemp(f->dir)) return -1;
    f->fds = count_fds();
    *state = f;
    return 0;
}

/* Every test ends with no child left (reaped, no zombie) and no descriptor leaked. */
static int teardown(void **state) {
    fixture *f = *state;
    errno = 0;
    pid_t r = waitpid(-1, NULL, WNOHANG);
    int e = errno;
    int fds = count_fds();
    hp_err err;
    hp_remove_tree(f->dir, &err);
    int want = f->fds;
    free(f);
    if (!(r == -1 && e == ECHILD)) fprintf(stderr, "a child process is left (waitpid -> %d)\n", (int)r);
    if (fds != want) fprintf(stderr, "file descriptors: %d before, %d after\n", want, fds);
    return (r == -1 && e == ECHILD && fds == want) ? 0 : -1;
}

/* Open the toy server with extra arguments; "%s" in args stands for the fixture's directory. */
static hp_env *open_toy(fixture *f, const char *args, double timeout_s, int max_restarts, hp_err *err) {
    hp_buf cmd = {0};
    hp_buf_printf(&cmd, "%s ", TOY);
    for (const char *p = args; *p; p++) {
        if (p[0] == '%' && p[1] == 's') {
            hp_buf_puts(&cmd, f->dir);
            p++;
        } else {
            hp_buf_putc(&cmd, *p);
        }
    }
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "cmd", cmd.data);
    hp_buf_free(&cmd);
    cJSON_AddNumberToObject(o, "timeout_s", timeout_s);
    cJSON_AddNumberToObject(o, "max_restarts", max_restarts);
    hp_env *e = hp_external_open(o, err);
    cJSON_Delete(o);
    return e;
}

static int count_lines(const char *dir, const char *name) {
    char path[256];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *fp = fopen(path, "r");
    if (!fp) return 0;
    int n = 0;
    for (int c; (c = fgetc(fp)) != EOF;) n += c == '\n';
    fclose(fp);
    return n;
}

static void last_line(const char *dir, const char *name, char *out, size_t cap) {
    char path[256];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *fp = fopen(path, "r");
    out[0] = '\0';
    assert_non_null(fp);
    char line[1024];
    while (fgets(line, sizeof line, fp)) snprintf(out, cap, "%s", line);
    fclose(fp);
    out[strcspn(out, "\n")] = '\0';
}

static void step_ok(hp_env *e, const char *a) {
    hp_err err = {{0}};
    int rc = hp_env_step(e, a, &err);
    if (rc) fail_msg("step '%s': %s", a, err.msg);
}

static void step_many_ok(hp_env **envs, int n, const char *const *acts) {
    hp_err err = {{0}};
    int rc = envs[0]->ops->step_many(envs, n, acts, &err);
    if (rc) fail_msg("step_many: %s", err.msg);
}

static void reset_ok(hp_env *e, const char *split, int64_t index, uint64_t seed) {
    hp_err err = {{0}};
    int rc = hp_env_reset(e, split, index, seed, &err);
    if (rc) fail_msg("reset: %s", err.msg);
}

static void test_episode(void **state) {
    fixture *f = *state;
    hp_err err = {{0}};
    hp_env *e = open_toy(f, "", 10, 3, &err);
    assert_non_null(e);
    assert_string_equal(e->ops->name, "external");
    assert_int_equal(hp_env_split_size(e, "train", &err), 100);
    assert_int_equal(hp_env_split_size(e, "test", &err), 20);
    assert_int_equal(hp_env_split_size(e, "valid", &err), -1);
    assert_non_null(strstr(err.msg, "unknown split 'valid'"));
    assert_non_null(strstr(err.msg, "train, test"));

    /* train index 2: target 3; seed 4: value 4 % 3 = 1 */
    reset_ok(e, "train", 2, 4);
    const hp_env_view *v = hp_env_get_view(e);
    assert_string_equal(v->observation, "value \xe2\x86\x92 1\n\"inc\" or \"dec\"?");
    assert_string_equal(v->task, "reach 3");
    assert_int_equal(v->n_admissible, 3);
    assert_string_equal(v->admissible[0], "dec");
    assert_string_equal(v->admissible[2], "look");
    assert_int_equal(v->task_type, 1);
    assert_string_equal(v->task_type_name, "odd");
    assert_int_equal(v->steps, 0);
    assert_int_equal(v->max_steps, 6);
    assert_false(v->done);
    step_ok(e, "inc");
    v = hp_env_get_view(e);
    assert_string_equal(v->observation, "value \xe2\x86\x92 2\n\"inc\" or \"dec\"?");
    assert_true(v->reward == 0.0);
    step_ok(e, "jump");
    v = hp_env_get_view(e);
    assert_string_equal(v->observation, "Nothing happens.");
    assert_int_equal(v->steps, 2);
    step_ok(e, "inc");
    v = hp_env_get_view(e);
    assert_true(v->done && v->won && !v->truncated);
    assert_true(v->reward == 10.0 && v->score == 1.0);
    assert_int_equal(v->steps, 3);
    assert_int_equal(hp_env_step(e, "inc", &err), HP_FAIL);
    assert_non_null(strstr(err.msg, "after the episode ended"));
    assert_int_equal(hp_env_reset(e, "train", 100, 0, &err), HP_FAIL);
    assert_non_null(strstr(err.msg, "index 100"));

    /* test index 0: target 2; seed 2 gives value 2 = target, so 0; six looks reach the step limit */
    reset_ok(e, "test", 0, 2);
    assert_string_equal(hp_env_get_view(e)->task, "reach 2");
    assert_int_equal(hp_env_get_view(e)->n_admissible, 2);
    for (int i = 0; i < 6; i++) step_ok(e, "look");
    v = hp_env_get_view(e);
    assert_true(v->done && v->truncated && !v->won);
    assert_int_equal(v->steps, 6);

    hp_external_stats st;
    assert_true(hp_external_get_stats(e, &st));
    assert_int_equal(st.requests, 11); /* 2 resets + 3 + 6 steps (the handshake is not counted) */
    assert_int_equal(st.faults, 0);
    assert_int_equal(st.envs, 1);
    hp_env_free(e);
}

static void test_step_before_reset_and_seeds(void **state) {
    fixture *f = *state;
    hp_err err = {{0}};
    hp_env *e = open_toy(f, "", 10, 3, &err);
    assert_non_null(e);
    assert_int_equal(hp_env_step(e, "inc", &err), HP_FAIL);
    assert_non_null(strstr(err.msg, "before reset"));
    /* a seed above 2^53 travels as a string: (2^63 + 1) % 3 = 0 */
    reset_ok(e, "train", 0, ((uint64_t)1 << 63) + 1);
    assert_string_equal(hp_env_get_view(e)->observation, "value \xe2\x86\x92 0\n\"inc\" or \"dec\"?");
    reset_ok(e, "train", 0, ((uint64_t)1 << 63) + 2); /* % 3 = 1 = target, so 0 */
    assert_string_equal(hp_env_get_view(e)->observation, "value \xe2\x86\x92 0\n\"inc\" or \"dec\"?");
    reset_ok(e, "train", 4, ((uint64_t)1 << 63)); /* % 3 = 2 */
    assert_string_equal(hp_env_get_view(e)->observation, "value \xe2\x86\x92 2\n\"inc\" or \"dec\"?");
    hp_env_free(e);
}

static void test_minimal_fields(void **state) {
    fixture *f = *state;
    hp_err err = {{0}};
    char cmd[1024];
    snprintf(cmd, sizeof cmd, "%s --minimal", TOY);
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "cmd", cmd);
    cJSON_AddNumberToObject(o, "max_steps", 9);
    hp_env *e = hp_external_open(o, &err);
    cJSON_Delete(o);
    assert_non_null(e);
    reset_ok(e, "train", 0, 0); /* target 1, value 0 */
    const hp_env_view *v = hp_env_get_view(e);
    assert_int_equal(v->task_type, -1);
    assert_string_equal(v->task_type_name, "");
    assert_int_equal(v->max_steps, 9);
    assert_int_equal(v->steps, 0);
    step_ok(e, "look");
    step_ok(e, "inc");
    v = hp_env_get_view(e);
    assert_int_equal(v->steps, 2); /* counted by the client */
    assert_true(v->done && v->reward == 10.0);
    assert_false(v->won); /* not reported: false */
    (void)f;
    hp_env_free(e);
}

static void test_batch(void **state) {
    fixture *f = *state;
    hp_err err = {{0}};
    hp_env *envs[8];
    const char *acts[8];
    envs[0] = open_toy(f, "--log %s/log", 10, 3, &err);
    assert_non_null(envs[0]);
    for (int i = 1; i < 8; i++) assert_non_null(envs[i] = hp_external_attach(envs[0], &err));
    for (int i = 0; i < 8; i++) reset_ok(envs[i], "train", i, 0); /* target 1 + i % 5, value 0 */
    for (int i = 0; i < 8; i++) acts[i] = i % 2 ? "inc" : "look";
    step_many_ok(envs, 8, acts);
    char line[1024];
    last_line(f->dir, "log", line, sizeof line);
    assert_string_equal(line, "step step step step step step step step");
    for (int i = 0; i < 8; i++) {
        const hp_env_view *v = hp_env_get_view(envs[i]);
        char want[64];
        snprintf(want, sizeof want, "value \xe2\x86\x92 %d\n\"inc\" or \"dec\"?", i % 2);
        assert_string_equal(v->observation, i % 2 ? want : "Nothing happens.");
        assert_int_equal(v->done, i == 5); /* target 1 + i % 5: only index 5 (target 1) is won by one inc */
    }
    hp_external_stats st;
    hp_external_get_stats(envs[3], &st);
    assert_int_equal(st.envs, 8);
    /* freeing envs sends their free ops with the next request */
    hp_env_free(envs[7]);
    hp_env_free(envs[6]);
    acts[0] = "inc";
    step_many_ok(envs, 1, acts);
    last_line(f->dir, "log", line, sizeof line);
    assert_string_equal(line, "free free step");
    assert_true(hp_env_get_view(envs[0])->won);
    for (int i = 0; i < 6; i++) hp_env_free(envs[i]);
    last_line(f->dir, "log", line, sizeof line);
    assert_string_equal(line, "close"); /* the last handle closed the server politely */
}

static void test_open_many(void **state) {
    fixture *f = *state;
    hp_err err = {{0}};
    hp_buf cmd = {0};
    hp_buf_printf(&cmd, "%s --starts %s/starts", TOY, f->dir);
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "cmd", cmd.data);
    cJSON_AddNumberToObject(o, "processes", 2);
    hp_buf_free(&cmd);
    hp_env *envs[5];
    const char *acts[5] = {"inc", "inc", "inc", "inc", "inc"};
    if (hp_external_open_many(o, 5, envs, &err)) fail_msg("%s", err.msg);
    assert_int_equal(count_lines(f->dir, "starts"), 2);
    hp_external_stats a, b;
    hp_external_get_stats(envs[0], &a);
    hp_external_get_stats(envs[1], &b);
    assert_int_equal(a.envs, 3); /* envs 0, 2, 4 */
    assert_int_equal(b.envs, 2); /* envs 1, 3 */
    for (int i = 0; i < 5; i++) reset_ok(envs[i], "train", 4, 0);
    step_many_ok(envs, 5, acts);
    for (int i = 0; i < 5; i++) assert_int_equal(hp_env_get_view(envs[i])->steps, 1);
    for (int i = 0; i < 5; i++) hp_env_free(envs[i]);
    /* a failure frees what was opened */
    cJSON_ReplaceItemInObject(o, "cmd", cJSON_CreateString("exit 3"));
    cJSON_AddNumberToObject(o, "max_restarts", 0);
    assert_int_equal(hp_external_open_many(o, 3, envs, &err), HP_FAIL);
    assert_non_null(strstr(err.msg, "environment 0 of 3"));
    cJSON_Delete(o);
}

static void test_two_hosts(void **state) {
    fixture *f = *state;
    hp_err err = {{0}};
    hp_env *a = open_toy(f, "", 10, 3, &err);
    hp_env *b = open_toy(f, "", 10, 3, &err);
    hp_env *a2 = hp_external_attach(a, &err);
    assert_non_null(a);
    assert_non_null(b);
    assert_non_null(a2);
    reset_ok(a, "train", 4, 0);  /* target 5 */
    reset_ok(b, "train", 3, 1);  /* target 4, value 1 */
    reset_ok(a2, "train", 2, 2); /* target 3, value 2 */
    hp_env *envs[3] = {a, b, a2};
    const char *acts[3] = {"inc", "inc", "inc"};
    step_many_ok(envs, 3, acts);
    assert_true(hp_env_get_view(a2)->won); /* 2 -> 3: done */
    step_many_ok(envs, 2, acts);
    assert_string_equal(hp_env_get_view(a)->observation, "value \xe2\x86\x92 2\n\"inc\" or \"dec\"?");
    assert_string_equal(hp_env_get_view(b)->observation, "value \xe2\x86\x92 3\n\"inc\" or \"dec\"?");
    assert_int_equal(hp_env_get_view(a2)->steps, 1);
    hp_env_free(a);
    hp_env_free(b);
    hp_env_free(a2);
    (void)f;
}

/* A fault on the step (request 3): both episodes in progress end truncated; the host restarts. */
static void check_fault(fixture *f, const char *args, double timeout_s, const char *msg_part) {
    hp_err err = {{0}};
    hp_env *e = open_toy(f, args, timeout_s, 3, &err);
    assert_non_null(e);
    hp_env *other = hp_external_attach(e, &err);
    hp_env *idle = hp_external_attach(e, &err);
    reset_ok(e, "train", 4, 0);      /* request 2 */
    double t0 = hp_now();
    step_ok(e, "inc");               /* request 3: the fault */
    double dt = hp_now() - t0;
    const hp_env_view *v = hp_env_get_view(e);
    assert_true(v->done && v->truncated && !v->won);
    assert_string_equal(v->observation, "value \xe2\x86\x92 0\n\"inc\" or \"dec\"?");
    assert_true(dt < timeout_s + 3.0);
    assert_false(hp_env_get_view(idle)->done); /* never reset: nothing to end */
    hp_external_stats st;
    hp_external_get_stats(e, &st);
    assert_int_equal(st.faults, 1);
    assert_int_equal(st.truncated, 1);
    assert_int_equal(st.restarts, 0);
    /* stepping goes on, on a fresh process */
    reset_ok(other, "train", 0, 0);
    step_ok(other, "inc");
    assert_true(hp_env_get_view(other)->won);
    reset_ok(e, "train", 1, 0);
    assert_false(hp_env_get_view(e)->done);
    hp_external_get_stats(e, &st);
    assert_int_equal(st.restarts, 1);
    assert_int_equal(st.faults, 1);
    assert_int_equal(count_lines(f->dir, "starts"), 2);
    (void)msg_part;
    hp_env_free(other);
    hp_env_free(idle);
    hp_env_free(e);
}

static void test_fault_malformed(void **state) { check_fault(*state, "--malformed 3 --once %s/once --starts %s/starts", 10, "JSON"); }
static void test_fault_wrong_id(void **state) { check_fault(*state, "--wrong-id 3 --once %s/once --starts %s/starts", 10, "id"); }
static void test_fault_wrong_env(void **state) { check_fault(*state, "--wrong-env 3 --once %s/once --starts %s/starts", 10, "env"); }
static void test_fault_missing(void **state) { check_fault(*state, "--missing-field 3 --once %s/once --starts %s/starts", 10, "done"); }
static void test_fault_short(void **state) { check_fault(*state, "--short 3 --once %s/once --starts %s/starts", 10, "results"); }
static void test_fault_crash(void **state) { check_fault(*state, "--crash 3 --once %s/once --starts %s/starts", 10, "exited"); }
static void test_fault_hang(void **state) { check_fault(*state, "--hang 3 --once %s/once --starts %s/starts", 1.0, "timeout"); }

/* A fault in the middle of a batch of episodes in progress: all of them end truncated. */
static void test_fault_in_batch(void **state) {
    fixture *f = *state;
    hp_err err = {{0}};
    hp_env *envs[4];
    const char *acts[4] = {"inc", "inc", "inc", "inc"};
    envs[0] = open_toy(f, "--crash 6 --once %s/once", 10, 3, &err);
    assert_non_null(envs[0]);
    for (int i = 1; i < 4; i++) envs[i] = hp_external_attach(envs[0], &err);
    for (int i = 0; i < 4; i++) reset_ok(envs[i], "train", 3, 0); /* requests 2..5 */
    step_many_ok(envs, 3, acts); /* request 6: crash */
    for (int i = 0; i < 4; i++) assert_true(hp_env_get_view(envs[i])->truncated);
    hp_external_stats st;
    hp_external_get_stats(envs[0], &st);
    assert_int_equal(st.truncated, 4);
    for (int i = 0; i < 4; i++) hp_env_free(envs[i]);
}

static void test_crash_at_start_once(void **state) {
    fixture *f = *state;
    hp_err err = {{0}};
    hp_env *e = open_toy(f, "--crash-start --once %s/once --starts %s/starts", 10, 3, &err);
    assert_non_null(e);
    hp_external_stats st;
    hp_external_get_stats(e, &st);
    assert_int_equal(st.faults, 1);
    assert_int_equal(st.restarts, 1);
    reset_ok(e, "train", 0, 0);
    assert_int_equal(count_lines(f->dir, "starts"), 2);
    hp_env_free(e);
}

static void test_crash_at_start_always(void **state) {
    fixture *f = *state;
    hp_err err = {{0}};
    hp_env *e = open_toy(f, "--crash-start --starts %s/starts", 10, 2, &err);
    assert_null(e);
    assert_non_null(strstr(err.msg, "3 failures in a row (max_restarts 2)"));
    assert_non_null(strstr(err.msg, "exited with status 5"));
    assert_int_equal(count_lines(f->dir, "starts"), 3);
}

/* Every process crashes on its first reset: the reset retries, then gives up for good. */
static void test_repeated_failures(void **state) {
    fixture *f = *state;
    hp_err err = {{0}};
    hp_env *e = open_toy(f, "--crash 2 --starts %s/starts", 10, 2, &err);
    assert_non_null(e);
    hp_env *b = hp_external_attach(e, &err);
    assert_int_equal(hp_env_reset(e, "train", 0, 0, &err), HP_FAIL);
    assert_non_null(strstr(err.msg, "failures in a row"));
    assert_int_equal(count_lines(f->dir, "starts"), 3);
    hp_err err2 = {{0}};
    assert_int_equal(hp_env_reset(b, "train", 0, 0, &err2), HP_FAIL);
    assert_string_equal(err.msg, err2.msg);
    assert_null(hp_env_clone(b, &err2));
    assert_null(hp_external_attach(b, &err2));
    assert_int_equal(count_lines(f->dir, "starts"), 3); /* no more starts once given up */
    hp_env_free(b);
    hp_env_free(e);
}

/* The server refuses an operation: an error for the caller, not a fault. */
static void test_env_error(void **state) {
    fixture *f = *state;
    hp_err err = {{0}};
    hp_env *e = open_toy(f, "--bigger-splits", 10, 3, &err);
    assert_non_null(e);
    assert_int_equal(hp_env_reset(e, "train", 150, 0, &err), HP_FAIL);
    assert_non_null(strstr(err.msg, "index 150 out of range"));
    hp_external_stats st;
    hp_external_get_stats(e, &st);
    assert_int_equal(st.faults, 0);
    reset_ok(e, "train", 0, 0);
    hp_env_free(e);
}

static void test_clone_by_replay(void **state) {
    fixture *f = *state;
    hp_err err = {{0}};
    hp_env *e = open_toy(f, "--log %s/log", 10, 3, &err);
    assert_non_null(e);
    hp_env *fresh = hp_env_clone(e, &err); /* not reset: a fresh env on the same server */
    assert_non_null(fresh);
    assert_int_equal(hp_env_step(fresh, "inc", &err), HP_FAIL);
    reset_ok(e, "train", 4, 0); /* target 5 */
    step_ok(e, "inc");
    step_ok(e, "look");
    hp_env *c = hp_env_clone(e, &err);
    assert_non_null(c);
    char line[1024];
    last_line(f->dir, "log", line, sizeof line);
    assert_string_equal(line, "reset step step");
    const hp_env_view *v = hp_env_get_view(c);
    assert_string_equal(v->observation, "Nothing happens.");
    assert_int_equal(v->steps, 2);
    step_ok(c, "inc");
    step_ok(e, "dec");
    assert_string_equal(hp_env_get_view(c)->observation, "value \xe2\x86\x92 2\n\"inc\" or \"dec\"?");
    assert_string_equal(hp_env_get_view(e)->observation, "value \xe2\x86\x92 0\n\"inc\" or \"dec\"?");
    /* a clone of a finished episode is a copy of its view */
    for (int i = 0; i < 3; i++) step_ok(e, "look");
    assert_true(hp_env_get_view(e)->done);
    hp_env *d = hp_env_clone(e, &err);
    assert_true(hp_env_get_view(d)->done && hp_env_get_view(d)->truncated);
    assert_int_equal(hp_env_get_view(d)->steps, 6);
    hp_env_free(e);
    hp_env_free(d);
    step_ok(c, "inc"); /* the host lives while any handle does */
    hp_env_free(c);
    hp_env_free(fresh);
}

/* A server that ignores close, EOF and SIGTERM is killed, and reaped. */
static void test_stop_stubborn(void **state) {
    fixture *f = *state;
    hp_err err = {{0}};
    hp_env *e = open_toy(f, "--ignore-close", 1.0, 3, &err);
    assert_non_null(e);
    reset_ok(e, "train", 0, 0);
    double t0 = hp_now();
    hp_env_free(e);
    assert_true(hp_now() - t0 < 5.0); /* close reply, 1 s for EOF, SIGTERM ignored, 1 s, SIGKILL */
}

static void test_bad_handshake_and_options(void **state) {
    fixture *f = *state;
    hp_err err = {{0}};
    assert_null(open_toy(f, "--version 2", 10, 0, &err));
    assert_non_null(strstr(err.msg, "protocol version 2"));
    assert_null(hp_external_open(NULL, &err));
    assert_non_null(strstr(err.msg, "'cmd'"));
    cJSON *o = cJSON_Parse("{\"cmd\": \"true\", \"timeout\": 3}");
    assert_null(hp_external_open(o, &err));
    assert_non_null(strstr(err.msg, "unknown option 'timeout'"));
    cJSON_Delete(o);
    o = cJSON_Parse("{\"cmd\": \"true\", \"timeout_s\": -1}");
    assert_null(hp_external_open(o, &err));
    assert_non_null(strstr(err.msg, "timeout_s"));
    cJSON_Delete(o);
    o = cJSON_Parse("{\"cmd\": \"exit 0\", \"max_restarts\": 0}"); /* exits before the handshake */
    assert_null(hp_external_open(o, &err));
    assert_non_null(strstr(err.msg, "exited with status 0"));
    cJSON_Delete(o);
    o = cJSON_Parse("{\"cmd\": \"echo '{\\\"id\\\": 0, \\\"results\\\": []}'; sleep 5\", \"max_restarts\": 0}");
    assert_null(hp_external_open(o, &err));
    assert_non_null(strstr(err.msg, "0 results for 1 operations"));
    cJSON_Delete(o);
    hp_env_view dummy;
    (void)dummy;
    hp_external_stats st;
    assert_false(hp_external_get_stats(NULL, &st));
}

/* True when process pid is gone (or a zombie waiting for init). */
static bool process_gone(long pid) {
    char path[64], buf[512];
    snprintf(path, sizeof path, "/proc/%ld/stat", pid);
    FILE *fp = fopen(path, "r");
    if (!fp) return true;
    size_t n = fread(buf, 1, sizeof buf - 1, fp);
    fclose(fp);
    buf[n] = '\0';
    const char *paren = strrchr(buf, ')');
    return paren && paren[1] == ' ' && (paren[2] == 'Z' || paren[2] == 'X');
}

/* A server that never answers the handshake, behind a shell that started it in the background:
 * the start times out, and the whole process group (the grandchild too) is killed. */
static void test_hang_at_start(void **state) {
    fixture *f = *state;
    hp_err err = {{0}};
    hp_buf cmd = {0};
    hp_buf_printf(&cmd, "sleep 30 & echo $! > %s/pid; wait", f->dir);
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "cmd", cmd.data);
    cJSON_AddNumberToObject(o, "start_timeout_s", 0.3);
    cJSON_AddNumberToObject(o, "max_restarts", 0);
    hp_buf_free(&cmd);
    double t0 = hp_now();
    assert_null(hp_external_open(o, &err));
    cJSON_Delete(o);
    assert_true(hp_now() - t0 < 5.0);
    assert_non_null(strstr(err.msg, "handshake"));
    assert_non_null(strstr(err.msg, "time limit"));
    char path[128];
    snprintf(path, sizeof path, "%s/pid", f->dir);
    FILE *fp = fopen(path, "r");
    assert_non_null(fp);
    long pid = 0;
    assert_int_equal(fscanf(fp, "%ld", &pid), 1);
    fclose(fp);
    for (int i = 0; i < 100 && !process_gone(pid); i++) usleep(10000);
    assert_true(process_gone(pid));
}

/* The contrib ALFWorld adapter (with ALFWorld itself faked) driven by the C client. */
static void test_contrib_adapter(void **state) {
    (void)state;
    hp_err err = {{0}};
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "cmd", "/usr/bin/python3 " HP_SOURCE_DIR "/tests/external/fake_alfworld_server.py --max-steps 4");
    hp_env *e = hp_external_open(o, &err);
    cJSON_Delete(o);
    if (!e) fail_msg("%s", err.msg);
    assert_int_equal(hp_env_split_size(e, "valid_unseen", &err), 1);
    hp_env *c = hp_external_attach(e, &err);
    reset_ok(e, "valid_seen", 1, 0);
    reset_ok(c, "train", 0, 0);
    const hp_env_view *v = hp_env_get_view(e);
    assert_string_equal(v->task, "cool some egg and put it in microwave.");
    assert_string_equal(v->task_type_name, "cool");
    assert_int_equal(v->task_type, 4);
    assert_int_equal(v->max_steps, 4);
    hp_env *both[2] = {e, c};
    const char *a1[2] = {"go to fridge 1", "look"}, *a2[2] = {"open fridge 1", "look"};
    step_many_ok(both, 2, a1);
    step_many_ok(both, 2, a2);
    assert_true(v == hp_env_get_view(e));
    v = hp_env_get_view(e);
    assert_true(v->won && v->done && v->reward == 10.0 && v->steps == 2);
    assert_false(hp_env_get_view(c)->done);
    hp_env_free(e);
    hp_env_free(c);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_episode, setup, teardown),
        cmocka_unit_test_setup_teardown(test_step_before_reset_and_seeds, setup, teardown),
        cmocka_unit_test_setup_teardown(test_minimal_fields, setup, teardown),
        cmocka_unit_test_setup_teardown(test_batch, setup, teardown),
        cmocka_unit_test_setup_teardown(test_two_hosts, setup, teardown),
        cmocka_unit_test_setup_teardown(test_open_many, setup, teardown),
        cmocka_unit_test_setup_teardown(test_fault_malformed, setup, teardown),
        cmocka_unit_test_setup_teardown(test_fault_wrong_id, setup, teardown),
        cmocka_unit_test_setup_teardown(test_fault_wrong_env, setup, teardown),
        cmocka_unit_test_setup_teardown(test_fault_missing, setup, teardown),
        cmocka_unit_test_setup_teardown(test_fault_short, setup, teardown),
        cmocka_unit_test_setup_teardown(test_fault_crash, setup, teardown),
        cmocka_unit_test_setup_teardown(test_fault_hang, setup, teardown),
        cmocka_unit_test_setup_teardown(test_fault_in_batch, setup, teardown),
        cmocka_unit_test_setup_teardown(test_crash_at_start_once, setup, teardown),
        cmocka_unit_test_setup_teardown(test_crash_at_start_always, setup, teardown),
        cmocka_unit_test_setup_teardown(test_repeated_failures, setup, teardown),
        cmocka_unit_test_setup_teardown(test_env_error, setup, teardown),
        cmocka_unit_test_setup_teardown(test_clone_by_replay, setup, teardown),
        cmocka_unit_test_setup_teardown(test_stop_stubborn, setup, teardown),
        cmocka_unit_test_setup_teardown(test_bad_handshake_and_options, setup, teardown),
        cmocka_unit_test_setup_teardown(test_contrib_adapter, setup, teardown),
        cmocka_unit_test_setup_teardown(test_hang_at_start, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
