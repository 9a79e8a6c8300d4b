/* The `hiper play` and `hiper env stats` commands on alfworld: piped commands play a game to the win
 * with the spec's feedback strings, the expert mode wins, the stats table shows the spec quotas, and
 * bad input gives exit codes 1/2 with a message. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "shell_util.h"

#include "hiper/base.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static char OUT[1 << 16];

static int run(const char *input, const char *args) {
    char cmd[2048];
    if (input) snprintf(cmd, sizeof cmd, "printf '%s' | %s %s 2>&1", input, HP_CLI, args);
    else snprintf(cmd, sizeof cmd, "%s %s 2>&1 </dev/null", HP_CLI, args);
    return tu_shell(cmd, OUT, sizeof OUT);
}

static void test_play_piped(void **state) {
    (void)state;
    /* train game 0 (pinned by test_alfworld_props): "put a tissuebox in drawer." */
    assert_int_equal(run("look\\n  GO TO coffeetable 1 \\ntake tissuebox 3 from coffeetable 1\\ngo to drawer 1\\n"
                         "move tissuebox 3 to drawer 1\\nopen drawer 1\\nmove tissuebox 3 to drawer 1\\nlook\\n",
                         "play --env alfworld --split train --index 0"),
                     0);
    const char *want[] = {
        "Your task is to: put a tissuebox in drawer.",
        ("'go to coffeetable 1', 'go to drawer 1', 'go to drawer 2', 'go to drawer 3', 'go to drawer 4', "
         "'go to garbagecan 1', 'go to sofa 1', 'go to tvstand 1', 'help', 'inventory', 'look']"),
        "You are in the middle of a room. Looking quickly around you, you see nothing.",
        "You pick up the tissuebox 3 from the coffeetable 1.",
        "You arrive at drawer 1. The drawer 1 is closed.",
        "--- step 5/50  reward 0\nNothing happens.",
        "You open the drawer 1. The drawer 1 is open. In it, you see a watch 1.",
        "--- step 7/50  reward 10\nYou move the tissuebox 3 to the drawer 1.",
        "=== won after 7 steps (score 1)",
    };
    const char *at = OUT;
    for (size_t i = 0; i < sizeof want / sizeof want[0]; i++) {
        const char *f = strstr(at, want[i]);
        if (!f) fail_msg("missing (in order) '%s' in:\n%s", want[i], OUT);
        at = f;
    }
    assert_null(strstr(OUT, "step 8/")); /* input after the end is not read */
    /* end of input before done */
    assert_int_equal(run("look\\n", "play --env alfworld --split valid_unseen --index 2 --quiet"), 0);
    assert_non_null(strstr(OUT, "(end of input)"));
    assert_null(strstr(OUT, "[admissible:"));
}

static void test_play_expert(void **state) {
    (void)state;
    assert_int_equal(run(NULL, "play --env alfworld --split valid_seen --index 5 --expert --quiet"), 0);
    assert_non_null(strstr(OUT, "[subgoal: find a "));
    assert_non_null(strstr(OUT, "=== won after "));
}

static void test_env_stats(void **state) {
    (void)state;
    assert_int_equal(run(NULL, "env stats --env alfworld"), 0);
    assert_non_null(strstr(OUT, "train             790     308     650     459     533     813    3553"));
    assert_non_null(strstr(OUT, "valid_seen         35      13      27      16      25      24     140"));
    assert_non_null(strstr(OUT, "valid_unseen       24      18      31      23      21      17     134"));
    assert_non_null(strstr(OUT, "valid_unseen    100.0"));
    assert_int_equal(run(NULL, "env stats --env alfworld --split valid_seen"), 0);
    assert_null(strstr(OUT, "train "));
}

static void test_errors(void **state) {
    (void)state;
    assert_int_equal(run(NULL, "play --env alfworld --split nope"), 1);
    assert_non_null(strstr(OUT, "unknown split 'nope'"));
    assert_int_equal(run(NULL, "play --env alfworld --options '{\"max_step\": 3}'"), 1);
    assert_non_null(strstr(OUT, "'max_step'"));
    assert_int_equal(run(NULL, "play --env alfworld --options '{'"), 2);
    assert_int_equal(run(NULL, "play"), 2);
    assert_int_equal(run(NULL, "play --env nethack"), 2);
    assert_int_equal(run(NULL, "env stats"), 2);
    assert_int_equal(run(NULL, "env frobnicate --env alfworld"), 2);
    assert_int_equal(run(NULL, "env stats --env alfworld --split x"), 2);
    assert_int_equal(run(NULL, "play --help"), 0);
    assert_non_null(strstr(OUT, "--index"));
    assert_int_equal(run(NULL, "env --help"), 0);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_play_piped), cmocka_unit_test(test_play_expert), cmocka_unit_test(test_env_stats),
        cmocka_unit_test(test_errors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
