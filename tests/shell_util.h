/* shell_util.h — for tests that drive the `hiper` binary: run a shell command line and capture what
 * it prints. Include after <cmocka.h>. */
#ifndef HIPER_TEST_SHELL_UTIL_H
#define HIPER_TEST_SHELL_UTIL_H

#include <stdio.h>
#include <sys/wait.h>

/* Run cmd through /bin/sh; its output (the command line decides on 2>&1) goes to out[0..cap), NUL
 * terminated. Returns the exit status, or -1 when the command did not exit normally. */
static inline int tu_shell(const char *cmd, char *out, size_t cap) {
    FILE *p = popen(cmd, "r");
    assert_non_null(p);
    size_t n = fread(out, 1, cap - 1, p);
    out[n] = '\0';
    int st = pclose(p);
    return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

#endif /* HIPER_TEST_SHELL_UTIL_H */
