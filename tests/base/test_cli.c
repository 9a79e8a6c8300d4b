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

int main(void) {
    const struct CMUnitTest tests[] = {cmocka_unit_test(test_help_and_exit_codes)};
    return cmocka_run_group_tests(tests, NULL, NULL);
}
