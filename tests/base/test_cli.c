/* Tests of the command line's contract: help, exit codes 0/1/2. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "shell_util.h"

#include "hiper/base.h"

#include <stdlib.h>
#include <string.h>

static int run(const char *args, char *out, size_t cap) {
    char cmd[1024];
    snprintf(cmd, sizeof cmd, "%s %s 2>&1", HP_CLI, args);
    return tu_shell(cmd, out, cap);
}

static void test_help_and_exit_codes(void **state) {
    (void)state;
    char out[8192];
    assert_int_equal(run("help", out, sizeof out), 0);
    assert_non_null(strstr(out, "train"));
    assert_non_null(strstr(out, "advantage"));
    assert_int_equal(run("version", out, sizeof out), 0);
    assert_true(strncmp(out, "hiper ", 6) == 0);
    assert_int_equal(run("", out, sizeof out), 2);
    assert_int_equal(run("no-such-command", out, sizeof out), 2);
    assert_non_null(strstr(out, "unknown command"));
}

static void expect(const char *args, int code, const char *needle) {
    char out[16384];
    int rc = run(args, out, sizeof out);
    if (rc != code || !strstr(out, needle))
        fail_msg("hiper %s: exit %d (expected %d), output lacks \"%s\":\n%s", args, rc, code, needle, out);
}

/* "did you mean": a misspelt command, option or configuration key names the closest known one. */
static void test_did_you_mean(void **state) {
    (void)state;
    expect("trian", 2, "unknown command 'trian' (did you mean 'train'?)");
    expect("help evla", 2, "(did you mean 'eval'?)");
    expect("train --qiuck", 2, "unknown option '--qiuck' (did you mean '--quick'?)");
    expect("eval --model m --episdoes 3", 2, "(did you mean '--episodes'?)");
    expect("play --env alfworld --env-optons {}", 2, "(did you mean '--env-options'?)");
    expect("train rollout.tempreature=0.5 --print-config", 1, "(did you mean 'rollout.temperature'?)");
    expect("train temperature=0.5 --print-config", 1, "(did you mean 'rollout.temperature'?)");
    expect("xyzzy", 2, "unknown command 'xyzzy' (see 'hiper help')");
}

/* A bad value given on the command line is refused, naming the command line (not "defaults") and the key. */
static void test_override_errors(void **state) {
    (void)state;
    expect("train rollout.temperature=-1 --print-config", 1,
           "error: command line: key 'rollout.temperature': must be >= 0 (got -1)");
    expect("train data.train_batch_size=0 --print-config", 1, "command line: key 'data.train_batch_size'");
    expect("train trainer.total_steps=-3 --print-config", 1, "command line: key 'trainer.total_steps'");
    expect("train rollout.temperature=nan --print-config", 1, "command line: key 'rollout.temperature'");
    expect("train sft.lr=inf --print-config", 1, "command line: key 'sft.lr'");
    expect("train trainer.logger=console,wandb --print-config", 1, "command line: key 'trainer.logger'");
    expect("train trainer.logger=tensorboard,jsonl --print-config", 0, "\"trainer.logger\":\t\"tensorboard,jsonl\"");
    char out[4096];
    assert_int_equal(run("train rollout.temperature=-1 --print-config", out, sizeof out), 1);
    assert_null(strstr(out, "defaults"));
}

/* Bad numbers on options: negative temperature, zero or negative counts, NaN; each names the option. */
static void test_bad_numbers(void **state) {
    (void)state;
    expect("eval --model m --temperature -0.5", 2, "option '--temperature' must be >= 0, got -0.5");
    expect("eval --model m --temperature nan", 2, "option '--temperature' needs a finite number, got 'nan'");
    expect("eval --model m --batch 0", 2, "option '--batch' must be >= 1, got 0");
    expect("eval --model m --max-steps -4", 2, "option '--max-steps' must be >= 1");
    expect("eval --model m --top-p 0", 2, "option '--top-p' must be in (0, 1]");
    expect("sft --env alfworld --model m --out o --episodes 0", 2, "option '--episodes' must be >= 1");
    expect("sft --env alfworld --model m --out o --noise 1.5", 2, "option '--noise' must be in [0, 1]");
    expect("sft --env alfworld --model m --out o --lr -1e-3", 2, "option '--lr' must be > 0");
    expect("generate --model m --prompt p --temperature -1", 2, "option '--temperature' must be >= 0");
    expect("generate --model m --prompt p --n 0", 2, "option '--n' must be >= 1");
    expect("play --env alfworld --index -1", 2, "option '--index' must be >= 0");
    expect("train --stop-after 0", 2, "option '--stop-after' must be >= 1");
    expect("init --out o --vocab 300 --layers 0", 2, "option '--layers' must be >= 1");
}

/* One spelling for environment options everywhere: --env-options (play and env stats also take their
 * older --options), and the same message for a value that is not a JSON object. */
static void test_env_options(void **state) {
    (void)state;
    const char *cmds[] = {"play --env alfworld", "env stats --env alfworld", "eval --model m", "sft --env alfworld --model m --out o",
                          "serve --env alfworld"};
    const char *names[] = {"play", "env", "eval", "sft", "serve"};
    for (int i = 0; i < 5; i++) {
        char args[256], help[64];
        snprintf(args, sizeof args, "%s --env-options '[1]'", cmds[i]);
        expect(args, 2, "--env-options must be a JSON object, got '[1]'");
        snprintf(help, sizeof help, "%s --help", names[i]);
        expect(help, 0, "--env-options VALUE");
    }
    expect("play --help", 0, "(also --options)");
    expect("env stats --help", 0, "(also --options)");
    expect("play --env alfworld --options '[1]'", 2, "--env-options must be a JSON object");
    expect("env stats --env alfworld --split valid_seen --options '{\"seed\": 1}'", 0, "alfworld games per split");
    expect("env stats --env alfworld --split valid_seen --env-options '{\"seed\": 1}'", 0, "alfworld games per split");
}

/* --quick says what it is: a smoke run, and how long it takes. */
static void test_quick_is_described(void **state) {
    (void)state;
    expect("train --help", 0, "--quick is a smoke run");
    expect("train --help", 0, "about 10 s");
    expect("train --quick --print-config", 0, "smoke run");
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_help_and_exit_codes), cmocka_unit_test(test_did_you_mean),
        cmocka_unit_test(test_override_errors),     cmocka_unit_test(test_bad_numbers),
        cmocka_unit_test(test_env_options),         cmocka_unit_test(test_quick_is_described),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
