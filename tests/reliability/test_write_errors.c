/* Write errors are never silent (docs/reliability.md, "Write errors"): every command whose standard
 * output cannot be written (here /dev/full, which fails every write with ENOSPC) exits 1 with one
 * error naming the reason, whether the output is a few bytes or megabytes. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "shell_util.h"

#include "hiper/base.h"

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static char dir[64];

static int setup(void **state) {
    (void)state;
    snprintf(dir, sizeof dir, "/tmp/hp_wr.XXXXXX");
    if (!mkdtemp(dir)) return -1;
    char cmd[2048], out[4096];
    snprintf(cmd, sizeof cmd,
             "mkdir -p %s/tok && cp %s/tests/agent/data/tiny_tokenizer.json %s/tok/tokenizer.json && "
             "%s init --tokenizer %s/tok --out %s/model --layers 1 --dim 32 --heads 2 --kv-heads 1 --ffn 64 2>&1 && "
             "printf '[1, 2, 3, 4]' > %s/ids.json && "
             "printf '{\"traj\": \"a\", \"group\": \"g\", \"turn\": 0, \"reward\": 1, \"done\": true}\\n"
             "{\"traj\": \"b\", \"group\": \"g\", \"turn\": 0, \"reward\": 0, \"done\": true}\\n' > %s/turns.jsonl && "
             "cd %s && printf '\"hello\"\\n' > hello.jsonl && printf '[40, 41]\\n' > ids.jsonl && "
             "printf '[{\"role\": \"user\", \"content\": \"hi\"}]\\n' > chat.json",
             dir, HP_SOURCE_DIR, dir, HP_CLI, dir, dir, dir, dir, dir);
    return tu_shell(cmd, out, sizeof out) == 0 ? 0 : -1;
}

static int teardown(void **state) {
    (void)state;
    hp_err err;
    return hp_remove_tree(dir, &err);
}

static int count(const char *s, const char *what) {
    int n = 0;
    for (const char *p = s; (p = strstr(p, what)); p += strlen(what)) n++;
    return n;
}

/* Run `hiper ARGS` with stdout on /dev/full (stdin from `input`, a shell redirection or ""); it must
 * exit 1 with exactly one error, naming ENOSPC. */
static void full(const char *args, const char *input) {
    char cmd[4096], out[8192];
    snprintf(cmd, sizeof cmd, "cd %s && %s %s %s 2>&1 >/dev/full", dir, HP_CLI, args, input);
    int rc = tu_shell(cmd, out, sizeof out);
    if (rc != 1 || count(out, "hiper: error:") != 1 || !strstr(out, "writing stdout: No space left on device"))
        fail_msg("hiper %s > /dev/full: exit %d, stderr:\n%s", args, rc, out);
}

/* The same command with a working stdout succeeds (so the failure above is the write's). */
static void works(const char *args, const char *input) {
    char cmd[4096], out[1 << 16];
    snprintf(cmd, sizeof cmd, "cd %s && %s %s %s 2>&1 >/dev/null", dir, HP_CLI, args, input);
    int rc = tu_shell(cmd, out, sizeof out);
    if (rc != 0) fail_msg("hiper %s: exit %d:\n%s", args, rc, out);
}

static void both(const char *args, const char *input) {
    works(args, input);
    full(args, input);
}

static void test_advantage(void **state) {
    (void)state;
    both("advantage --estimator grpo", "< turns.jsonl");
    both("advantage --estimator gae --input turns.jsonl", "");
    /* megabytes of output: the error comes from the write itself, not a later flush */
    char cmd[1024], out[4096];
    snprintf(cmd, sizeof cmd,
             "cd %s && for i in $(seq 1 20000); do printf '{\"traj\": \"t%%d\", \"group\": \"g\", \"turn\": 0, "
             "\"reward\": %%d, \"done\": true}\\n' $i $((i %% 2)); done > big.jsonl && %s advantage --estimator "
             "rloo --input big.jsonl 2>&1 >/dev/full",
             dir, HP_CLI);
    int rc = tu_shell(cmd, out, sizeof out);
    if (rc != 1 || count(out, "hiper: error:") != 1 || !strstr(out, "No space left on device"))
        fail_msg("big advantage output: exit %d:\n%s", rc, out);
}

/* An empty batch writes nothing, so nothing can fail: exit 0 (this used to pass fwrite a NULL buffer,
 * which the sanitizer build aborts on). */
static void test_advantage_empty_input(void **state) {
    (void)state;
    char cmd[1024], out[1024];
    snprintf(cmd, sizeof cmd, "printf '\\n' | %s advantage --estimator grpo 2>&1", HP_CLI);
    assert_int_equal(tu_shell(cmd, out, sizeof out), 0);
    assert_string_equal(out, "");
    snprintf(cmd, sizeof cmd, "printf '\\n' | %s advantage --estimator grpo 2>&1 >/dev/full", HP_CLI);
    assert_int_equal(tu_shell(cmd, out, sizeof out), 0);
}

static void test_score(void **state) {
    (void)state;
    both("score --model model --ids ids.json", "");
}

static void test_tokenizer(void **state) {
    (void)state;
    both("tokenizer encode --tokenizer tok --text 'hello world'", "");
    both("tokenizer encode --tokenizer tok --tokens --text 'hello world'", "");
    both("tokenizer encode --tokenizer tok", "< turns.jsonl");
    both("tokenizer encode --tokenizer tok --jsonl", "< hello.jsonl");
    both("tokenizer decode --tokenizer tok --ids '40 41 42'", "");
    both("tokenizer decode --tokenizer tok --jsonl", "< ids.jsonl");
    both("tokenizer chat", "< chat.json");
    both("tokenizer chat --jsonl --tokenizer tok", "< chat.json");
}

static void test_train_and_help(void **state) {
    (void)state;
    both("train --print-config", "");
    both("train --keys", ""); /* about 9 kB: more than one stdio buffer of 4 kB */
    both("help", "");
    both("version", "");
    both("train --help", "");
    full("init --tokenizer tok --out model --layers 1 --dim 32 --heads 2 --kv-heads 1 --ffn 64", "");
}

/* A full disk (a 64 kB tmpfs, when this process may mount one): the file that could not be written is
 * named with the reason, and nothing partial is left behind. */
static void test_disk_full(void **state) {
    (void)state;
    char cmd[2048], out[4096];
    snprintf(cmd, sizeof cmd, "mkdir -p %s/small && mount -t tmpfs -o size=64k tmpfs %s/small 2>&1", dir, dir);
    if (tu_shell(cmd, out, sizeof out) != 0) {
        printf("skipped: cannot mount a tmpfs here (%s)\n", out);
        skip();
    }
    snprintf(cmd, sizeof cmd,
             "cd %s && %s init --tokenizer tok --out small/m --layers 1 --dim 64 --heads 2 --kv-heads 1 --ffn 128 2>&1",
             dir, HP_CLI);
    int rc = tu_shell(cmd, out, sizeof out);
    char left[1024];
    snprintf(cmd, sizeof cmd, "ls -A %s/small; umount %s/small", dir, dir);
    tu_shell(cmd, left, sizeof left);
    if (rc != 1 || count(out, "hiper: error:") != 1 || !strstr(out, "model.safetensors: write failed: No space left on device"))
        fail_msg("init on a full disk: exit %d:\n%s", rc, out);
    assert_string_equal(left, ""); /* the temporary directory went too */
}

int main(void) {
    if (access("/dev/full", W_OK) != 0) {
        printf("skipped: no /dev/full\n");
        return 0;
    }
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_advantage),
        cmocka_unit_test(test_advantage_empty_input),
        cmocka_unit_test(test_score),
        cmocka_unit_test(test_tokenizer),
        cmocka_unit_test(test_train_and_help),
        cmocka_unit_test(test_disk_full),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
