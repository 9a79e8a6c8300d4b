/* Tests of the base module: errors, buffers, random streams, atomic files. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "hiper/base.h"
#include "hiper/suggest.h"

#include <cjson/cJSON.h>

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static void test_err_wrap(void **state) {
    (void)state;
    hp_err e = {{0}};
    assert_int_equal(hp_fail(&e, "bad value %d", 7), HP_FAIL);
    hp_err_wrap(&e, "config.json line %d", 3);
    assert_string_equal(e.msg, "config.json line 3: bad value 7");
    assert_int_equal(hp_fail(NULL, "ignored"), HP_FAIL);
}

static void test_buf(void **state) {
    (void)state;
    hp_buf b = {0};
    for (int i = 0; i < 1000; i++) hp_buf_printf(&b, "%d,", i);
    assert_true(hp_str_starts(b.data, "0,1,2,"));
    assert_true(hp_str_ends(b.data, "998,999,"));
    assert_int_equal(strlen(b.data), b.len);
    char *s = hp_buf_take(&b);
    assert_null(b.data);
    free(s);
    s = hp_buf_take(&b);
    assert_string_equal(s, "");
    free(s);
}

/* Escaped strings must parse back (with cJSON, an independent JSON parser) to the original bytes. */
static void test_json_string(void **state) {
    (void)state;
    const char *cases[] = {"", "plain", "quote \" and back\\slash", "tab\tnew\nline\rcr", "\x01\x1f ctl",
                           "caf\xc3\xa9 \xe2\x80\x91 utf-8"};
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        hp_buf b = {0};
        hp_buf_json_string(&b, cases[i]);
        cJSON *j = cJSON_Parse(b.data);
        assert_non_null(j);
        assert_true(cJSON_IsString(j));
        assert_string_equal(j->valuestring, cases[i]);
        cJSON_Delete(j);
        hp_buf_free(&b);
    }
}

static void test_rng_streams(void **state) {
    (void)state;
    hp_rng a, b, c;
    hp_rng_seed(&a, 42, 0);
    hp_rng_seed(&b, 42, 0);
    hp_rng_seed(&c, 42, 1);
    int same = 0;
    for (int i = 0; i < 100; i++) {
        uint64_t x = hp_rng_u64(&a), y = hp_rng_u64(&b), z = hp_rng_u64(&c);
        assert_true(x == y);
        same += x == z;
    }
    assert_int_equal(same, 0);
    /* uniform and below stay in range and cover it */
    int hist[10] = {0};
    double mean = 0;
    for (int i = 0; i < 100000; i++) {
        double u = hp_rng_uniform(&a);
        assert_true(u >= 0 && u < 1);
        hist[hp_rng_below(&a, 10)]++;
        mean += hp_rng_normal(&a);
    }
    for (int i = 0; i < 10; i++) assert_in_range(hist[i], 9500, 10500);
    assert_true(mean / 100000 < 0.02 && mean / 100000 > -0.02);
}

static void test_shuffle_is_permutation(void **state) {
    (void)state;
    hp_rng r;
    hp_rng_seed(&r, 1, 2);
    int a[50];
    for (int i = 0; i < 50; i++) a[i] = i;
    hp_rng_shuffle(&r, a, 50, sizeof a[0]);
    int seen[50] = {0}, moved = 0;
    for (int i = 0; i < 50; i++) {
        seen[a[i]]++;
        moved += a[i] != i;
    }
    for (int i = 0; i < 50; i++) assert_int_equal(seen[i], 1);
    assert_true(moved > 10);
}

static void test_atomic_write(void **state) {
    (void)state;
    char dir[] = "/tmp/hp_test_XXXXXX";
    assert_non_null(mkdtemp(dir));
    char *path = hp_path_join(dir, "sub/dir/file.txt");
    char *sub = hp_path_join(dir, "sub/dir");
    hp_err e = {{0}};
    assert_int_equal(hp_mkdirs(sub, &e), HP_OK);
    assert_int_equal(hp_write_file_atomic(path, "hello", 5, &e), HP_OK);
    char *data;
    size_t len;
    assert_int_equal(hp_read_file(path, &data, &len, &e), HP_OK);
    assert_int_equal(len, 5);
    assert_string_equal(data, "hello");
    free(data);
    /* an aborted write leaves the old content and no temporary file */
    hp_afile af;
    assert_int_equal(hp_afile_open(&af, path, &e), HP_OK);
    fputs("partial", af.fp);
    hp_afile_abort(&af);
    assert_int_equal(hp_read_file(path, &data, &len, &e), HP_OK);
    assert_string_equal(data, "hello");
    free(data);
    /* a text gets its final newline */
    assert_int_equal(hp_write_text_atomic(path, "{\"a\": 1}", &e), HP_OK);
    assert_int_equal(hp_read_file(path, &data, &len, &e), HP_OK);
    assert_string_equal(data, "{\"a\": 1}\n");
    free(data);
    assert_int_equal(hp_write_text_atomic("/nonexistent/dir/t.json", "x", &e), HP_FAIL);
    assert_non_null(strstr(e.msg, "/nonexistent/dir/t.json"));
    /* errors name the file */
    assert_int_equal(hp_read_file("/nonexistent/x.json", &data, &len, &e), HP_FAIL);
    assert_non_null(strstr(e.msg, "/nonexistent/x.json"));
    assert_int_equal(hp_remove_tree(dir, &e), HP_OK);
    assert_false(hp_path_exists(dir));
    free(path);
    free(sub);
}

static void test_parse_numbers(void **state) {
    (void)state;
    int64_t i;
    double d;
    assert_true(hp_parse_i64("-12", &i) && i == -12);
    assert_false(hp_parse_i64("12x", &i));
    assert_false(hp_parse_i64("", &i));
    assert_true(hp_parse_f64("1e-3", &d) && d == 1e-3);
    assert_false(hp_parse_f64("nan", &d));
    assert_false(hp_parse_f64("1.0.0", &d));
}

static void test_suggest(void **state) {
    (void)state;
    assert_int_equal(hp_edit_distance("", ""), 0);
    assert_int_equal(hp_edit_distance("abc", ""), 3);
    assert_int_equal(hp_edit_distance("kitten", "sitting"), 3);
    assert_int_equal(hp_edit_distance("trian", "train"), 1); /* a swap of two neighbours is one edit */
    assert_int_equal(hp_edit_distance("ca", "abc"), 3);      /* optimal string alignment, not full Damerau */
    hp_suggest s;
    hp_suggest_init(&s, "evla");
    const char *cands[] = {"train", "eval", "env", "report"};
    for (int i = 0; i < 4; i++) hp_suggest_add(&s, cands[i]);
    assert_string_equal(hp_suggest_best(&s), "eval");
    hp_suggest_init(&s, "xyzzy");
    for (int i = 0; i < 4; i++) hp_suggest_add(&s, cands[i]);
    assert_null(hp_suggest_best(&s)); /* nothing close: no suggestion */
    hp_suggest_init(&s, "eval");
    hp_suggest_add(&s, "eval"); /* never the word itself */
    assert_null(hp_suggest_best(&s));
    hp_suggest_init(&s, "temperature");
    hp_suggest_add_as(&s, "rollout.temperature", "temperature");
    assert_string_equal(hp_suggest_best(&s), "rollout.temperature");
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_err_wrap),       cmocka_unit_test(test_suggest),       cmocka_unit_test(test_buf), cmocka_unit_test(test_json_string),
        cmocka_unit_test(test_rng_streams),    cmocka_unit_test(test_shuffle_is_permutation),
        cmocka_unit_test(test_atomic_write),   cmocka_unit_test(test_parse_numbers),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
