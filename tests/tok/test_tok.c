/* Unit tests of the tokenizer against independent facts: the GPT-2 byte table, the Unicode standard's
 * U+FFFD example, well-known Qwen ids, a BPE training run worked out by hand, and error messages.
 * (Bulk parity with Hugging Face's JS tokenizer is tests/ref/tok_parity.mjs, test tok_parity.) */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "hiper/tok.h"
#include "tok/qwen_fixture.h"
#include "tok/tok_internal.h"

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static hp_tok *qwen(void) {
    hp_err err = {{0}};
    hp_tok *t = hp_tok_load(HP_QWEN3_TOKENIZER, &err);
    if (!t) fail_msg("%s", err.msg);
    return t;
}

/* The Qwen2.5 tokenizer fixture (qwen_fixture.h). */
static hp_tok *qwen25(void) {
    hp_err err = {{0}};
    const char *path = hp_test_qwen25_tokenizer(&err);
    if (!path) fail_msg("%s", err.msg);
    hp_tok *t = hp_tok_load(path, &err);
    if (!t) fail_msg("%s", err.msg);
    return t;
}

static void test_bytelevel_table(void **state) {
    (void)state;
    /* GPT-2's bytes_to_unicode: printable bytes map to themselves, the rest to 256.. in order */
    assert_int_equal(hp_bytelevel_cp(' '), 0x120);  /* Ġ */
    assert_int_equal(hp_bytelevel_cp('\n'), 0x10A); /* Ċ */
    assert_int_equal(hp_bytelevel_cp(0x00), 0x100);
    assert_int_equal(hp_bytelevel_cp('!'), '!');
    assert_int_equal(hp_bytelevel_cp(0x7F), 0x121);
    assert_int_equal(hp_bytelevel_cp(0xA0), 0x142);
    assert_int_equal(hp_bytelevel_cp(0xAD), 0x143);
    assert_int_equal(hp_bytelevel_cp(0xFF), 0xFF);
    for (int b = 0; b < 256; b++) assert_int_equal(hp_bytelevel_byte(hp_bytelevel_cp((uint8_t)b)), b);
    assert_int_equal(hp_bytelevel_byte(' '), -1);
    assert_int_equal(hp_bytelevel_byte(0x144), -1);
}

static void check_lossy(const char *in, size_t n, const char *want) {
    hp_buf b = {0};
    hp_utf8_lossy(in, n, &b);
    assert_string_equal(b.data ? b.data : "", want);
    hp_buf_free(&b);
}

static void test_lossy_maximal_subparts(void **state) {
    (void)state;
    /* The Unicode Standard (ch. 3, "U+FFFD Substitution of Maximal Subparts") example */
    const char ex[] = "\x61\xF1\x80\x80\xE1\x80\xC2\x62\x80\x63\x80\xBF\x64";
    check_lossy(ex, sizeof ex - 1, "a\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD" "b\xEF\xBF\xBD" "c\xEF\xBF\xBD\xEF\xBF\xBD" "d");
    check_lossy("\xED\xA0\x80", 3, "\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD"); /* a surrogate */
    check_lossy("\xC0\x80", 2, "\xEF\xBF\xBD\xEF\xBF\xBD");                 /* overlong */
    check_lossy("x\xE2\x82", 3, "x\xEF\xBF\xBD");                           /* cut at the end */
    check_lossy("\xEF\xBF\xBD ok \xF0\x9F\x8E\x89", 12, "\xEF\xBF\xBD ok \xF0\x9F\x8E\x89");
}

static void test_qwen_known_ids(void **state) {
    (void)state;
    hp_tok *t = qwen();
    hp_err err = {{0}};
    hp_ids ids = {0};
    assert_int_equal(hp_tok_encode(t, "Hello world", 11, &ids, &err), HP_OK);
    assert_int_equal(ids.len, 2);
    assert_int_equal(ids.data[0], 9707);
    assert_int_equal(ids.data[1], 1879);
    assert_int_equal(hp_tok_vocab_size(t), 151669);
    assert_int_equal(hp_tok_im_end(t), 151645);
    assert_int_equal(hp_tok_eos(t), 151643);
    assert_int_equal(hp_tok_id(t, "<|im_start|>"), 151644);
    assert_int_equal(hp_tok_id(t, "Ġ"), 220);
    assert_int_equal(hp_tok_id(t, "no such token"), -1);
    assert_true(hp_tok_is_special(t, 151644));
    assert_false(hp_tok_is_special(t, 151667)); /* <think>: added but not special */
    assert_false(hp_tok_is_special(t, 9707));
    size_t n;
    const char *b = hp_tok_token_bytes(t, 220, &n);
    assert_int_equal(n, 1);
    assert_memory_equal(b, " ", 1);
    b = hp_tok_token_bytes(t, 151645, &n);
    assert_int_equal(n, 10);
    assert_memory_equal(b, "<|im_end|>", 10);
    assert_null(hp_tok_token_bytes(t, 151669, &n));
    assert_null(hp_tok_token_bytes(t, -1, &n));
    /* special tokens inside text, and skipping them when decoding */
    hp_ids_clear(&ids);
    const char *s = "<|im_start|>user\nHi<|im_end|>";
    assert_int_equal(hp_tok_encode(t, s, strlen(s), &ids, &err), HP_OK);
    assert_int_equal(ids.data[0], 151644);
    assert_int_equal(ids.data[ids.len - 1], 151645);
    char *d = hp_tok_decode(t, ids.data, ids.len);
    assert_string_equal(d, s);
    free(d);
    d = hp_tok_decode_ex(t, ids.data, ids.len, true);
    assert_string_equal(d, "user\nHi");
    free(d);
    hp_ids_free(&ids);
    hp_tok_free(t);
}

/* The default Qwen2.5 system prompt as published token ids (they appear in Qwen2.5 examples and issue
 * threads): rendering + encoding must give exactly these. */
static void test_qwen25_default_prompt_ids(void **state) {
    (void)state;
    hp_err err = {{0}};
    hp_tok *t = qwen25();
    hp_chat_msg m[] = {{"user", "hi"}};
    char *text = hp_chat_render(m, 1, true);
    hp_ids ids = {0};
    assert_int_equal(hp_tok_encode(t, text, strlen(text), &ids, &err), HP_OK);
    const int32_t want[] = {151644, 8948, 198, 2610, 525, 1207, 16948, 11, 3465, 553, 54364, 14817, 13, 1446, 525,
                            264, 10950, 17847, 13, 151645, 198, 151644, 872, 198, 6023, 151645, 198, 151644, 77091, 198};
    assert_int_equal(ids.len, sizeof want / sizeof want[0]);
    assert_memory_equal(ids.data, want, sizeof want);
    free(text);
    hp_ids_free(&ids);
    hp_tok_free(t);
}

static void test_invalid_utf8_input(void **state) {
    (void)state;
    hp_tok *t = qwen();
    hp_err err = {{0}};
    hp_ids ids = {0};
    assert_int_equal(hp_tok_encode(t, "ok\xFFno", 5, &ids, &err), HP_FAIL);
    assert_non_null(strstr(err.msg, "not valid UTF-8 (byte 2)"));
    hp_ids_free(&ids);
    hp_tok_free(t);
}

static void test_stream_decode(void **state) {
    (void)state;
    hp_tok *t = qwen();
    hp_err err = {{0}};
    const char *s = "naïve 🎉 中文テキスト 👨‍👩‍👧 done";
    hp_ids ids = {0};
    assert_int_equal(hp_tok_encode(t, s, strlen(s), &ids, &err), HP_OK);
    hp_tok_stream st;
    hp_tok_stream_init(&st, t);
    hp_buf out = {0};
    for (size_t i = 0; i < ids.len; i++) {
        size_t before = out.len;
        hp_tok_stream_put(&st, ids.data[i], &out);
        /* what came out is always whole characters: no replacement character appears */
        assert_null(strstr(out.data ? out.data + before : "", "\xEF\xBF\xBD"));
    }
    hp_tok_stream_finish(&st, &out);
    assert_string_equal(out.data, s);
    /* a cut character is flushed as U+FFFD at the end */
    hp_buf_clear(&out);
    int32_t lead = t->byte_id[0xF0];
    hp_tok_stream_put(&st, lead, &out);
    assert_int_equal(out.len, 0);
    hp_tok_stream_finish(&st, &out);
    assert_string_equal(out.data, "\xEF\xBF\xBD");
    hp_tok_stream_free(&st);
    hp_buf_free(&out);
    hp_ids_free(&ids);
    hp_tok_free(t);
}

static void test_qwen25_fixture(void **state) {
    (void)state;
    hp_err err = {{0}};
    hp_tok *t = qwen25();
    assert_int_equal(hp_tok_vocab_size(t), 151665);
    assert_int_equal(hp_tok_id(t, "<tool_call>"), 151657);
    hp_ids ids = {0};
    assert_int_equal(hp_tok_encode(t, "<think>", 7, &ids, &err), HP_OK);
    assert_true(ids.len > 1); /* not an added token in Qwen2.5 */
    hp_ids_free(&ids);
    hp_tok_free(t);
}

/* Write text to a temporary file and try to load it; returns the error message. */
static void expect_load_error(const char *json, const char *want1, const char *want2) {
    char path[] = "/tmp/hp_tok_test_XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, json, strlen(json)), (ssize_t)strlen(json));
    close(fd);
    hp_err err = {{0}};
    hp_tok *t = hp_tok_load(path, &err);
    unlink(path);
    if (t) fail_msg("loaded although it should not: %s", json);
    if (!strstr(err.msg, path) || !strstr(err.msg, want1) || (want2 && !strstr(err.msg, want2)))
        fail_msg("message '%s' lacks '%s'/'%s'", err.msg, want1, want2 ? want2 : "");
}

#define PRE "\"pre_tokenizer\":{\"type\":\"ByteLevel\",\"use_regex\":false}"

static void test_load_errors(void **state) {
    (void)state;
    hp_err err = {{0}};
    assert_null(hp_tok_load("/nonexistent/tokenizer.json", &err));
    assert_non_null(strstr(err.msg, "/nonexistent/tokenizer.json"));
    assert_null(hp_tok_load("/tmp", &err)); /* a directory without tokenizer.json */
    assert_non_null(strstr(err.msg, "/tmp/tokenizer.json"));
    expect_load_error("{\"model\": {\"vocab\": {\"a\": 0}", "not valid JSON", NULL);
    expect_load_error("[1, 2]", "not a JSON object", NULL);
    expect_load_error("{" PRE ",\"model\":{\"type\":\"BPE\"}}", "model.vocab", NULL);
    expect_load_error("{" PRE ",\"model\":{\"type\":\"WordPiece\",\"vocab\":{}}}", "model.type", "WordPiece");
    expect_load_error("{" PRE ",\"model\":{\"vocab\":{\"a\":0,\"b\":1,\"ab\":2},\"merges\":[\"a b\",\"a c\"]}}",
                      "model.merges[1]", "\"c\" is not in the vocabulary");
    expect_load_error("{" PRE ",\"model\":{\"vocab\":{\"a\":0},\"merges\":[\"a b c\"]}}", "model.merges[0]", NULL);
    expect_load_error("{" PRE ",\"model\":{\"vocab\":{\"a\":-3}}}", "model.vocab[\"a\"]", NULL);
    expect_load_error("{" PRE ",\"normalizer\":{\"type\":\"Lowercase\"},\"model\":{\"vocab\":{}}}", "normalizer", "Lowercase");
    expect_load_error("{\"model\":{\"vocab\":{}}}", "pre_tokenizer", NULL);
    expect_load_error("{\"pre_tokenizer\":{\"type\":\"Sequence\",\"pretokenizers\":[{\"type\":\"Split\",\"pattern\":"
                      "{\"Regex\":\"(unclosed\"},\"behavior\":\"Isolated\"},{\"type\":\"ByteLevel\",\"use_regex\":false}]},"
                      "\"model\":{\"vocab\":{}}}",
                      "regex does not compile", NULL);
    expect_load_error("{" PRE ",\"added_tokens\":[{\"id\":5,\"content\":\"<x>\",\"lstrip\":true}],\"model\":{\"vocab\":{}}}",
                      "added_tokens[0]", "lstrip");
    expect_load_error("{" PRE ",\"model\":{\"vocab\":{},\"byte_fallback\":true}}", "byte_fallback", NULL);
}

/* Worked by hand from the BPE definition on the single word "aaabdaaabac" (no pre-token boundary):
 * counts aa:4 ab:2 bd da ba ac:1 → merge (a,a). Then (aa,a):2 and (a,b):2 tie; "a" sorts before
 * "aa", so (a,b). Then (aa,ab):2 → "aaab". Every other pair occurs once, below min_frequency 2. */
static void test_train_by_hand(void **state) {
    (void)state;
    char dir[] = "/tmp/hp_tok_train_XXXXXX";
    assert_non_null(mkdtemp(dir));
    hp_err err = {{0}};
    hp_bpe_trainer *tr = hp_bpe_trainer_new(NULL, &err);
    assert_non_null(tr);
    assert_int_equal(hp_bpe_trainer_feed(tr, "aaabdaaabac", 11, &err), HP_OK);
    assert_int_equal(hp_bpe_trainer_write(tr, 1000, 2, dir, &err), HP_OK);
    hp_bpe_trainer_free(tr);
    hp_tok *t = hp_tok_load(dir, &err);
    if (!t) fail_msg("%s", err.msg);
    assert_int_equal(hp_tok_id(t, "aa"), 256);
    assert_int_equal(hp_tok_id(t, "ab"), 257);
    assert_int_equal(hp_tok_id(t, "aaab"), 258);
    assert_int_equal(hp_tok_id(t, "<|endoftext|>"), 259);
    assert_int_equal(hp_tok_im_end(t), 261);
    assert_int_equal(hp_tok_vocab_size(t), 262);
    assert_int_equal(hp_tok_id(t, "!"), 0); /* GPT-2 table order: '!' is the first byte symbol */
    assert_int_equal(hp_tok_id(t, "Ġ"), 256 - 68 + 32);
    hp_ids ids = {0};
    assert_int_equal(hp_tok_encode(t, "aaabdaaabac<|im_end|>", 21, &ids, &err), HP_OK);
    int32_t want[] = {258, hp_tok_id(t, "d"), 258, hp_tok_id(t, "a"), hp_tok_id(t, "c"), 261};
    assert_int_equal(ids.len, 6);
    assert_memory_equal(ids.data, want, sizeof want);
    hp_ids_free(&ids);
    hp_tok_free(t);
    char *cfg = hp_path_join(dir, "tokenizer_config.json");
    char *data = NULL;
    size_t len = 0;
    assert_int_equal(hp_read_file(cfg, &data, &len, &err), HP_OK);
    assert_non_null(strstr(data, "\"eos_token\":\"<|im_end|>\""));
    assert_non_null(strstr(data, "You are Qwen, created by Alibaba Cloud."));
    free(data);
    free(cfg);
    assert_int_equal(hp_remove_tree(dir, &err), HP_OK);
}

static void test_chat_render(void **state) {
    (void)state;
    hp_chat_msg one[] = {{"user", "Go."}};
    char *s = hp_chat_render(one, 1, true);
    assert_string_equal(s, "<|im_start|>system\nYou are Qwen, created by Alibaba Cloud. You are a helpful assistant.<|im_end|>\n"
                           "<|im_start|>user\nGo.<|im_end|>\n<|im_start|>assistant\n");
    free(s);
    hp_chat_msg two[] = {{"system", "S"}, {"user", "U"}, {"assistant", "A"}};
    s = hp_chat_render(two, 3, false);
    assert_string_equal(s, "<|im_start|>system\nS<|im_end|>\n<|im_start|>user\nU<|im_end|>\n<|im_start|>assistant\nA<|im_end|>\n");
    free(s);
}

/* Encoding from several threads at once gives what one thread gives (the tokenizer is shared). */
static void test_threads_share_tokenizer(void **state) {
    (void)state;
    hp_tok *t = qwen();
    const char *texts[4] = {"The quick brown fox, 12345 times.", "中文テキスト 🎉 naïve café",
                            "<|im_start|>user\nGo to cabinet 1<|im_end|>", "def f(x):\n    return x  # ok\n"};
    hp_ids want[4] = {{0}};
    hp_err err = {{0}};
    for (int k = 0; k < 4; k++) assert_int_equal(hp_tok_encode(t, texts[k], strlen(texts[k]), &want[k], &err), HP_OK);
    int bad = 0;
#pragma omp parallel for num_threads(4) reduction(+ : bad)
    for (int i = 0; i < 400; i++) {
        hp_ids got = {0};
        hp_err e = {{0}};
        int k = i % 4;
        if (hp_tok_encode(t, texts[k], strlen(texts[k]), &got, &e) || got.len != want[k].len ||
            memcmp(got.data, want[k].data, got.len * sizeof *got.data))
            bad++;
        hp_ids_free(&got);
    }
    assert_int_equal(bad, 0);
    for (int k = 0; k < 4; k++) hp_ids_free(&want[k]);
    hp_tok_free(t);
}

/* Training twice on the same text writes the same bytes (ties are broken by content, not hashing). */
static void test_train_deterministic(void **state) {
    (void)state;
    hp_buf text = {0};
    for (int i = 0; i < 300; i++)
        hp_buf_printf(&text, "You arrive at cabinet %d. On the cabinet %d, you see a mug %d and a %s.\n", i % 7, i % 5,
                      i % 3, i % 2 ? "spoon" : "key chain");
    char *files[2];
    for (int r = 0; r < 2; r++) {
        char dir[] = "/tmp/hp_tok_det_XXXXXX";
        assert_non_null(mkdtemp(dir));
        hp_err err = {{0}};
        assert_int_equal(hp_tok_train(text.data, text.len, 400, dir, &err), HP_OK);
        char *path = hp_path_join(dir, "tokenizer.json");
        size_t len;
        assert_int_equal(hp_read_file(path, &files[r], &len, &err), HP_OK);
        free(path);
        assert_int_equal(hp_remove_tree(dir, &err), HP_OK);
    }
    assert_string_equal(files[0], files[1]);
    free(files[0]);
    free(files[1]);
    hp_buf_free(&text);
}

/* Corrupt files (bytes changed, cut, or deleted at random) either load or fail with a message naming
 * the file; none may crash (this test matters most under ASan). */
static void test_corrupt_files(void **state) {
    (void)state;
    char dir[] = "/tmp/hp_tok_corrupt_XXXXXX";
    assert_non_null(mkdtemp(dir));
    hp_err err = {{0}};
    const char *text = "the cat sat on the mat; the cat ate the rat. 123 + 456 = 579\n";
    assert_int_equal(hp_tok_train(text, strlen(text), 300, dir, &err), HP_OK);
    char *path = hp_path_join(dir, "tokenizer.json"), *bad = hp_path_join(dir, "bad.json");
    char *orig = NULL;
    size_t len = 0;
    assert_int_equal(hp_read_file(path, &orig, &len, &err), HP_OK);
    hp_rng rng;
    hp_rng_seed(&rng, 7, 0);
    static const char junk[] = "{}[]\",:0-9 \\u";
    int loaded = 0;
    for (int it = 0; it < 300; it++) {
        char *buf = hp_xmalloc(len + 1);
        memcpy(buf, orig, len + 1);
        size_t n = len;
        int kind = (int)hp_rng_below(&rng, 3);
        if (kind == 0) n = hp_rng_below(&rng, len); /* cut */
        for (int k = 0; k < 3; k++) {
            size_t at = hp_rng_below(&rng, n ? n : 1);
            if (kind == 1 && n) buf[at] = junk[hp_rng_below(&rng, sizeof junk - 1)]; /* change */
            if (kind == 2 && n) {                                                   /* delete */
                memmove(buf + at, buf + at + 1, n - at - 1);
                n--;
            }
        }
        assert_int_equal(hp_write_file_atomic(bad, buf, n, &err), HP_OK);
        free(buf);
        hp_tok *t = hp_tok_load(bad, &err);
        if (t) {
            hp_ids ids = {0};
            hp_tok_encode(t, text, strlen(text), &ids, &err);
            hp_ids_free(&ids);
            hp_tok_free(t);
            loaded++;
        } else if (!strstr(err.msg, "bad.json")) {
            fail_msg("error without the file name: %s", err.msg);
        }
    }
    assert_true(loaded < 300);
    free(orig);
    free(path);
    free(bad);
    assert_int_equal(hp_remove_tree(dir, &err), HP_OK);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_bytelevel_table), cmocka_unit_test(test_lossy_maximal_subparts),
        cmocka_unit_test(test_qwen_known_ids),  cmocka_unit_test(test_qwen25_default_prompt_ids),
        cmocka_unit_test(test_invalid_utf8_input),
        cmocka_unit_test(test_stream_decode),   cmocka_unit_test(test_qwen25_fixture),
        cmocka_unit_test(test_load_errors),     cmocka_unit_test(test_train_by_hand),
        cmocka_unit_test(test_chat_render),     cmocka_unit_test(test_threads_share_tokenizer),
        cmocka_unit_test(test_train_deterministic), cmocka_unit_test(test_corrupt_files),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
