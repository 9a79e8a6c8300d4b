/* WebShop text primitives against independent references: thefuzz 0.19 values and WebShop's
 * normalize_color (fuzz_vectors.tsv, normalize_color_vectors.tsv in tests/webshop/fixtures), Porter's
 * published examples, WebShop's tokenizer and BM25 rules, and Python's float repr. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "env/webshop/ws.h"

#include <stdlib.h>
#include <string.h>

static char *read_fixture(const char *name) {
    char path[1024];
    snprintf(path, sizeof path, "%s/tests/webshop/fixtures/%s", HP_SOURCE_DIR, name);
    char *data;
    size_t len;
    hp_err err;
    if (hp_read_file(path, &data, &len, &err)) fail_msg("%s", err.msg);
    return data;
}

/* Split a TSV line in place into up to max fields. */
static int tsv_fields(char *line, char **f, int max) {
    int n = 0;
    f[n++] = line;
    for (char *p = line; *p && n < max; p++)
        if (*p == '\t') *p = 0, f[n++] = p + 1;
    return n;
}

static void test_fuzz_vectors(void **state) {
    (void)state;
    char *data = read_fixture("fuzz_vectors.tsv");
    int n = 0, pass = 0, bad = 0;
    char *save = NULL;
    for (char *line = strtok_r(data, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
        if (line[0] == '#' || hp_str_starts(line, "a\tb\t")) continue;
        char *f[4] = {0};
        assert_int_equal(tsv_fields(line, f, 4), 4);
        int tsr = atoi(f[2]), ratio = atoi(f[3]);
        int got_tsr = ws_fuzz_token_set_ratio(f[0], f[1]), got_ratio = ws_fuzz_ratio(f[0], f[1]);
        if (got_tsr != tsr || got_ratio != ratio) {
            print_message("mismatch: '%s' '%s': tsr %d (want %d) ratio %d (want %d)\n", f[0], f[1], got_tsr, tsr, got_ratio, ratio);
            bad++;
        }
        pass += got_tsr > 85;
        n++;
    }
    free(data);
    assert_int_equal(n, 590);
    assert_int_equal(bad, 0);
    assert_int_equal(pass, 75); /* README: 75 of the 590 pairs pass */
}

static void test_fuzz_spec_examples(void **state) {
    (void)state;
    assert_int_equal(ws_fuzz_token_set_ratio("x-large", "xx-large"), 93);
    assert_int_equal(ws_fuzz_token_set_ratio("grey", "gray"), 75);
    assert_int_equal(ws_fuzz_token_set_ratio("small", "x-small"), 100);
    assert_int_equal(ws_fuzz_token_set_ratio("pack of 12", "pack of 2"), 95);
    assert_int_equal(ws_fuzz_token_set_ratio("9.5", "9"), 100);
    assert_int_equal(ws_fuzz_token_set_ratio("essential oil", "essential oils"), 96);
    assert_int_equal(ws_fuzz_token_set_ratio("x-small", "('size', 'small')"), 83);
    assert_int_equal(ws_fuzz_token_set_ratio("small", "('size', 'x-small')"), 100);
    /* force_ascii deletes U+0080..U+00FF; U+2122 becomes a space */
    assert_int_equal(ws_fuzz_token_set_ratio("Brand\xC2\xAEX", "brandx"), 100);
    assert_int_equal(ws_fuzz_token_set_ratio("Brand\xE2\x84\xA2X", "brand x"), 100);
    assert_int_equal(ws_fuzz_token_set_ratio("", "x"), 0);
    assert_int_equal(ws_fuzz_token_set_ratio("\xC2\xAE", "\xC2\xAE"), 0);
    /* binary and long input: no crash, sane range */
    char big[3000];
    for (int i = 0; i < 2999; i++) big[i] = (char)(1 + (i * 37) % 255);
    big[2999] = 0;
    int r = ws_fuzz_token_set_ratio(big, "abc def");
    assert_true(r >= 0 && r <= 100);
}

static void test_normalize_color(void **state) {
    (void)state;
    char *data = read_fixture("normalize_color_vectors.tsv");
    int n = 0;
    char *save = NULL;
    for (char *line = strtok_r(data, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
        if (hp_str_starts(line, "input\t")) continue;
        char *f[2] = {0};
        assert_int_equal(tsv_fields(line, f, 2), 2);
        const char *got = ws_normalize_color(f[0]);
        if (strcmp(got, f[1])) fail_msg("normalize_color('%s') = '%s', want '%s'", f[0], got, f[1]);
        n++;
    }
    free(data);
    assert_int_equal(n, 61);
    /* the pair form: only exact equality with a list entry */
    assert_string_equal(ws_normalize_color_pair("color", "black"), "black");
    assert_null(ws_normalize_color_pair("color", "navy blue"));
    assert_string_equal(ws_normalize_color_pair("color", "stonewash"), "stonewash");
    assert_string_equal(ws_normalize_color("stonewash"), "ash");
}

/* Upstream test_goal.py expectations, applied through the same primitives as ws_reward. */
static int option_matches(const char *const *goal, int ng, const char *const *bought, int nb) {
    int m = 0;
    for (int i = 0; i < ng; i++)
        for (int k = 0; k < nb; k++)
            if (ws_fuzz_token_set_ratio(ws_normalize_color(bought[k]), ws_normalize_color(goal[i])) > 85) {
                m++;
                break;
            }
    return m;
}

static void test_option_matching_upstream(void **state) {
    (void)state;
    const char *g1[] = {"grey", "XL", "pack of 12"}, *b1[] = {"pack of 12", "blue", "XL"};
    assert_int_equal(option_matches(g1, 3, b1, 3), 2);
    const char *g2[] = {"cool powder snow"}, *b2[] = {"powder snow"};
    assert_int_equal(option_matches(g2, 1, b2, 1), 1);
    assert_int_equal(option_matches(g1, 3, NULL, 0), 0);
    /* attributes: tea tree / essential oils / natural ingredients against the singular "essential oil" */
    const char *ga[] = {"tea tree", "essential oils", "natural ingredients"}, *pa[] = {"tea tree", "essential oil", "natural ingredients"};
    int m = 0;
    for (int i = 0; i < 3; i++)
        for (int k = 0; k < 3; k++)
            if (ws_fuzz_token_set_ratio(pa[k], ga[i]) > 85) {
                m++;
                break;
            }
    assert_int_equal(m, 3);
}

typedef struct terms {
    char buf[4096];
    size_t len;
} terms;

static void collect(const char *t, size_t n, void *ctx) {
    terms *s = ctx;
    if (s->len) s->buf[s->len++] = '|';
    memcpy(s->buf + s->len, t, n);
    s->len += n;
    s->buf[s->len] = 0;
}

static const char *analyze(const char *text, terms *t) {
    t->len = 0;
    t->buf[0] = 0;
    ws_analyze(text, collect, t);
    return t->buf;
}

static void test_analyzer(void **state) {
    (void)state;
    terms t;
    assert_string_equal(analyze("x-large", &t), "x|larg");
    assert_string_equal(analyze("9.5 and 3.5oz", &t), "9.5|3.5oz");
    assert_string_equal(analyze("Men's Shoes", &t), "men|shoe");
    assert_string_equal(analyze("The bottle of the WINE is in it", &t), "bottl|wine");
    assert_string_equal(analyze("1,000 e.g. Material:SOLID", &t), "1,000|e.g|material:solid");
    assert_string_equal(analyze("", &t), "");
    assert_string_equal(analyze("  ,,, ---  ", &t), "");
    assert_string_equal(analyze("caf\xC3\xA9 \xE2\x80\xBA home", &t), "caf\xC3\xA9|home");
    /* binary input must not crash or overrun */
    char bin[600];
    for (int i = 0; i < 599; i++) bin[i] = (char)(1 + (i * 91) % 255);
    bin[599] = 0;
    analyze(bin, &t);
    char longword[1000];
    memset(longword, 'a', 999);
    longword[999] = 0;
    analyze(longword, &t);
    assert_true(t.len > 0);
}

/* Examples from Porter (1980), "An algorithm for suffix stripping". */
static void test_porter(void **state) {
    (void)state;
    static const char *const pairs[][2] = {
        {"caresses", "caress"}, {"ponies", "poni"}, {"ties", "ti"}, {"caress", "caress"}, {"cats", "cat"},
        {"feed", "feed"}, {"agreed", "agre"}, {"plastered", "plaster"}, {"bled", "bled"}, {"motoring", "motor"},
        {"sing", "sing"}, {"conflated", "conflat"}, {"troubled", "troubl"}, {"sized", "size"}, {"hopping", "hop"},
        {"tanned", "tan"}, {"falling", "fall"}, {"hissing", "hiss"}, {"fizzed", "fizz"}, {"failing", "fail"},
        {"filing", "file"}, {"happy", "happi"}, {"sky", "sky"}, {"relational", "relat"}, {"conditional", "condit"},
        {"rational", "ration"}, {"valenci", "valenc"}, {"hesitanci", "hesit"}, {"digitizer", "digit"},
        {"conformabli", "conform"}, {"radicalli", "radic"}, {"differentli", "differ"}, {"vileli", "vile"},
        {"analogousli", "analog"}, {"vietnamization", "vietnam"}, {"predication", "predic"}, {"operator", "oper"},
        {"feudalism", "feudal"}, {"decisiveness", "decis"}, {"hopefulness", "hope"}, {"callousness", "callous"},
        {"formaliti", "formal"}, {"sensitiviti", "sensit"}, {"sensibiliti", "sensibl"}, {"triplicate", "triplic"},
        {"formative", "form"}, {"formalize", "formal"}, {"electriciti", "electr"}, {"electrical", "electr"},
        {"hopeful", "hope"}, {"goodness", "good"}, {"revival", "reviv"}, {"allowance", "allow"},
        {"inference", "infer"}, {"airliner", "airlin"}, {"gyroscopic", "gyroscop"}, {"adjustable", "adjust"},
        {"defensible", "defens"}, {"irritant", "irrit"}, {"replacement", "replac"}, {"adjustment", "adjust"},
        {"dependent", "depend"}, {"adoption", "adopt"}, {"homologou", "homolog"}, {"communism", "commun"},
        {"activate", "activ"}, {"angulariti", "angular"}, {"homologous", "homolog"}, {"effective", "effect"},
        {"bowdlerize", "bowdler"}, {"probate", "probat"}, {"rate", "rate"}, {"cease", "ceas"},
        {"controll", "control"}, {"roll", "roll"}, {"generalizations", "gener"}, {"oscillators", "oscil"},
        {"is", "is"}, {"dresses", "dress"}, {"shoes", "shoe"}};
    for (size_t i = 0; i < sizeof pairs / sizeof *pairs; i++) {
        char w[64];
        snprintf(w, sizeof w, "%s", pairs[i][0]);
        size_t n = ws_porter(w, strlen(w));
        w[n] = 0;
        if (strcmp(w, pairs[i][1])) fail_msg("porter(%s) = %s, want %s", pairs[i][0], w, pairs[i][1]);
    }
}

static void test_py_float(void **state) {
    (void)state;
    char b[40];
    ws_py_float(877.80, b, sizeof b), assert_string_equal(b, "877.8");
    ws_py_float(153.00, b, sizeof b), assert_string_equal(b, "153.0");
    ws_py_float(19.99, b, sizeof b), assert_string_equal(b, "19.99");
    ws_py_float(2.0 / 3.0, b, sizeof b), assert_string_equal(b, "0.6666666666666666");
    ws_py_float(0.1 + 0.2, b, sizeof b), assert_string_equal(b, "0.30000000000000004");
    ws_py_float(1.0, b, sizeof b), assert_string_equal(b, "1.0");
    ws_py_float(0.0, b, sizeof b), assert_string_equal(b, "0.0");
}

/* BM25 on a hand-checked corpus: idf, length normalisation, repeated query terms, ties by ASIN. */
static void test_bm25(void **state) {
    (void)state;
    ws_product p[4];
    memset(p, 0, sizeof p);
    const char *titles[] = {"red shoe", "red red shoe", "blue hat", "red shoe"};
    const char *asins[] = {"B000000003", "B000000002", "B000000001", "B000000000"};
    for (int i = 0; i < 4; i++) {
        snprintf(p[i].asin, sizeof p[i].asin, "%s", asins[i]);
        p[i].title = titles[i];
        p[i].desc = "";
    }
    ws_index *ix = ws_index_build(p, 4);
    int out[10];
    /* "red": docs 0, 1, 3 contain it; doc 1 has tf 2 and ranks first; 0 and 3 tie -> ASIN order (3 first) */
    assert_int_equal(ws_index_search(ix, p, "red", 10, out), 3);
    assert_int_equal(out[0], 1);
    assert_int_equal(out[1], 3);
    assert_int_equal(out[2], 0);
    assert_int_equal(ws_index_search(ix, p, "hats", 10, out), 1);
    assert_int_equal(out[0], 2);
    assert_int_equal(ws_index_search(ix, p, "the of and", 10, out), 0);
    assert_int_equal(ws_index_search(ix, p, "", 10, out), 0);
    assert_int_equal(ws_index_search(ix, p, "red", 2, out), 2);
    ws_index_free(ix);
}

/* CPython 3.11 `random`, values printed by /usr/bin/python3 (seed, random, getrandbits, shuffle, sample,
 * uniform), so that goal order and price bounds on the real data files are WebShop's. */
static void test_pyrandom(void **state) {
    (void)state;
    ws_pyrandom r;
    ws_py_seed(&r, 233);
    assert_true(ws_py_random(&r) == 0.6824769139473528);
    assert_true(ws_py_random(&r) == 0.6283202109809801);
    assert_true(ws_py_random(&r) == 0.5251745077282681);
    assert_int_equal(ws_py_getrandbits(&r, 1), 1);
    assert_int_equal(ws_py_getrandbits(&r, 5), 27);
    assert_int_equal(ws_py_getrandbits(&r, 17), 63453);
    assert_int_equal(ws_py_getrandbits(&r, 32), 2365588101u);
    int x[20], want[20] = {15, 5, 19, 13, 18, 16, 12, 4, 9, 17, 10, 1, 0, 14, 11, 7, 8, 3, 2, 6};
    for (int i = 0; i < 20; i++) x[i] = i;
    ws_py_shuffle(&r, x, 20, sizeof(int));
    assert_memory_equal(x, want, sizeof x);
    const double pop[4] = {10, 20, 30, 40}, ws[4][2] = {{40, 30}, {20, 30}, {30, 20}, {10, 30}};
    for (int i = 0; i < 4; i++) {
        double out[2];
        ws_py_sample_small(&r, pop, 4, 2, out);
        assert_true(out[0] == ws[i][0] && out[1] == ws[i][1]);
    }
    double u1 = 19.99 + (27.99 - 19.99) * ws_py_random(&r), u2 = 19.99 + (27.99 - 19.99) * ws_py_random(&r);
    assert_true(u1 == 23.601708088977887);
    assert_true(u2 == 22.160814717497676);
    int *y = hp_xmalloc(6910 * sizeof(int));
    for (int i = 0; i < 6910; i++) y[i] = i;
    ws_py_seed(&r, 42);
    ws_py_shuffle(&r, y, 6910, sizeof(int));
    const int head[8] = {6684, 875, 327, 2233, 5861, 4252, 2017, 4263}, tail[3] = {204, 912, 5238};
    assert_memory_equal(y, head, sizeof head);
    assert_memory_equal(y + 6907, tail, sizeof tail);
    free(y);
    ws_py_seed(&r, (1ull << 40) + 5);
    assert_true(ws_py_random(&r) == 0.5043802970418443);
    ws_py_seed(&r, 0);
    assert_true(ws_py_random(&r) == 0.8444218515250481);
    ws_py_seed(&r, 233);
    const double pop3[3] = {10, 20, 30}, w3[3][2] = {{30, 10}, {30, 10}, {20, 10}};
    for (int i = 0; i < 3; i++) {
        double out[2];
        ws_py_sample_small(&r, pop3, 3, 2, out);
        assert_true(out[0] == w3[i][0] && out[1] == w3[i][1]);
    }
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_fuzz_vectors),     cmocka_unit_test(test_fuzz_spec_examples),
        cmocka_unit_test(test_normalize_color),  cmocka_unit_test(test_option_matching_upstream),
        cmocka_unit_test(test_analyzer),         cmocka_unit_test(test_porter),
        cmocka_unit_test(test_py_float),         cmocka_unit_test(test_bm25),
        cmocka_unit_test(test_pyrandom),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
