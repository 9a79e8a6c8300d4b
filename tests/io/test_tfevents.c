/* TensorBoard event files (hiper/tfevents.h): CRC32C against its published check value, and a file of
 * known events that tests/io/tfevents_read.py, an independent reader written from the format's
 * specification, parses and checks (CRCs, tags, steps, values).
 *
 *   test_tfevents              the CRC checks, and an event file in a temporary directory read back
 *                              by tfevents_read.py (skipped when /usr/bin/python3 is absent)
 *   test_tfevents --write DIR  only write the known file into DIR (what the reader expects) */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "hiper/tfevents.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static int write_known(const char *dir, hp_err *err) {
    hp_tfevents *w = hp_tfevents_open(dir, err);
    if (!w) return HP_FAIL;
    const char *t0[] = {"actor/pg_loss", "timing_s/rollout"};
    const double v0[] = {1.5, -2.25};
    const char *t1[] = {"val/success"};
    const double v1[] = {0.375};
    const char *t2[] = {"critic/vf_loss_low", "misc/big", "misc/tiny"};
    const double v2[] = {0.1, 3.0e38, 1e-30};
    int rc = hp_tfevents_write(w, 1, 1700000000.25, t0, v0, 2, err);
    if (rc == HP_OK) rc = hp_tfevents_write(w, 7, 1700000001.5, t1, v1, 1, err);
    if (rc == HP_OK) rc = hp_tfevents_write(w, (int64_t)1 << 40, 1700000002.0, t2, v2, 3, err);
    if (rc == HP_OK) rc = hp_tfevents_write(w, 300, 1700000003.0, NULL, NULL, 0, err); /* an empty summary */
    if (hp_tfevents_close(w, err)) rc = HP_FAIL;
    return rc;
}

static void test_crc32c(void **state) {
    (void)state;
    assert_int_equal(hp_crc32c("123456789", 9), 0xE3069283u); /* the CRC-32C check value */
    assert_int_equal(hp_crc32c("", 0), 0u);
    unsigned char zeros[32] = {0};
    assert_int_equal(hp_crc32c(zeros, 32), 0x8A9136AAu); /* RFC 3720, B.4: 32 bytes of zeros */
    uint32_t c = hp_crc32c("123456789", 9);
    assert_int_equal(hp_crc32c_masked("123456789", 9), ((c >> 15) | (c << 17)) + 0xA282EAD8u);
}

static void test_read_back(void **state) {
    (void)state;
    char dir[] = "/tmp/hp_tfevents_XXXXXX";
    assert_non_null(mkdtemp(dir));
    hp_err err = {{0}};
    if (write_known(dir, &err)) fail_msg("%s", err.msg);
    if (access("/usr/bin/python3", X_OK) != 0) {
        printf("SKIPPED the independent reader: /usr/bin/python3 is absent\n");
    } else {
        char cmd[1024];
        snprintf(cmd, sizeof cmd, "/usr/bin/python3 %s/tests/io/tfevents_read.py known %s", HP_SOURCE_DIR, dir);
        if (system(cmd) != 0) fail_msg("the reader rejected the file in %s", dir);
    }
    char cmd[256];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    assert_int_equal(system(cmd), 0);
}

static void test_errors(void **state) {
    (void)state;
    hp_err err = {{0}};
    assert_null(hp_tfevents_open("/proc/hp_no_such_dir/tb", &err)); /* cannot create: names the path */
    assert_non_null(strstr(err.msg, "/proc/hp_no_such_dir"));
}

int main(int argc, char **argv) {
    if (argc == 3 && !strcmp(argv[1], "--write")) {
        hp_err err = {{0}};
        if (write_known(argv[2], &err)) {
            fprintf(stderr, "%s\n", err.msg);
            return 1;
        }
        return 0;
    }
    const struct CMUnitTest tests[] = {cmocka_unit_test(test_crc32c), cmocka_unit_test(test_read_back),
                                       cmocka_unit_test(test_errors)};
    return cmocka_run_group_tests(tests, NULL, NULL);
}
