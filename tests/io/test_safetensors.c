/* Safetensors and config.json: files written by hand in Python read back exactly (F32/BF16/F16,
 * sharded), ours parsed and checked by Python (padding, contiguity, bf16 rounding as torch does),
 * corrupt files rejected with the file and tensor named; config parsing and validation. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "hiper/config.h"
#include "hiper/safetensors.h"

#include <cjson/cJSON.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define ST_PY "/usr/bin/python3 " HP_SOURCE_DIR "/tests/ref/model_st_ref.py"

static char *g_dir;

static int setup(void **state) {
    (void)state;
    hp_buf b = {0};
    hp_buf_printf(&b, "%s/tmp_st.%ld", HP_BINARY_DIR, (long)getpid());
    g_dir = hp_buf_take(&b);
    hp_err e;
    if (hp_path_exists(g_dir)) hp_remove_tree(g_dir, &e);
    if (hp_mkdirs(g_dir, &e)) return -1;
    hp_buf_printf(&b, ST_PY " write %s", g_dir);
    int rc = system(b.data);
    hp_buf_free(&b);
    return rc == 0 ? 0 : -1;
}

static int teardown(void **state) {
    (void)state;
    hp_err e;
    hp_remove_tree(g_dir, &e);
    free(g_dir);
    return 0;
}

static char *path(const char *name) { return hp_path_join(g_dir, name); }

static cJSON *expected(void) {
    char *p = path("expected.json"), *text;
    size_t n;
    hp_err e;
    assert_int_equal(hp_read_file(p, &text, &n, &e), HP_OK);
    cJSON *j = cJSON_Parse(text);
    free(text);
    free(p);
    return j;
}

static void expect_values(const hp_st *st, const cJSON *exp, const char *name) {
    const cJSON *vals = cJSON_GetObjectItem(exp, name);
    const hp_st_tensor *t = hp_st_find(st, name);
    assert_non_null(t);
    assert_int_equal(t->numel, cJSON_GetArraySize(vals));
    float *got = malloc((size_t)t->numel * sizeof(float));
    hp_err e;
    assert_int_equal(hp_st_tensor_f32(t, got, &e), HP_OK);
    for (int i = 0; i < t->numel; i++) {
        float want = (float)cJSON_GetArrayItem(vals, i)->valuedouble;
        if (!(got[i] == want || (isinf(got[i]) && isinf(want) && signbit(got[i]) == signbit(want))))
            fail_msg("%s[%d]: %.9g, expected %.9g", name, i, got[i], want);
        assert_int_equal(signbit(got[i]), signbit(want));
    }
    free(got);
}

static void test_read_python_files(void **state) {
    (void)state;
    cJSON *exp = expected();
    char *p = path("good.safetensors");
    hp_err e;
    hp_st *st = hp_st_open(p, &e);
    if (!st) fail_msg("%s", e.msg);
    assert_int_equal(hp_st_count(st), 4);
    expect_values(st, exp, "x");
    expect_values(st, exp, "y");
    expect_values(st, exp, "z");
    const hp_st_tensor *x = hp_st_find(st, "x");
    assert_int_equal(x->ndim, 2);
    assert_int_equal(x->shape[0], 2);
    assert_int_equal(x->shape[1], 3);
    assert_int_equal(hp_st_find(st, "y")->dtype, HP_DT_BF16);
    assert_int_equal(hp_st_find(st, "z")->dtype, HP_DT_F16);
    /* I64 is listed but cannot be read as f32. */
    float buf[8];
    assert_int_equal(hp_st_tensor_f32(hp_st_find(st, "ids"), buf, &e), HP_FAIL);
    assert_non_null(strstr(e.msg, "'ids'"));
    assert_non_null(strstr(e.msg, "I64"));
    /* read with shape checks */
    int64_t good_shape[2] = {2, 3}, bad_shape[2] = {3, 2};
    assert_int_equal(hp_st_read_f32(st, "x", 2, good_shape, buf, &e), HP_OK);
    assert_int_equal(hp_st_read_f32(st, "x", 2, bad_shape, buf, &e), HP_FAIL);
    assert_non_null(strstr(e.msg, "'x' has shape [2, 3], expected [3, 2]"));
    assert_non_null(strstr(e.msg, "good.safetensors"));
    assert_int_equal(hp_st_read_f32(st, "w", 2, good_shape, buf, &e), HP_FAIL);
    assert_non_null(strstr(e.msg, "'w' is missing"));
    hp_st_close(st);
    free(p);
    /* sharded: the directory with the index */
    st = hp_st_open(g_dir, &e);
    if (!st) fail_msg("%s", e.msg);
    assert_int_equal(hp_st_count(st), 3);
    expect_values(st, exp, "a");
    expect_values(st, exp, "b");
    assert_non_null(strstr(hp_st_find(st, "b")->file, "model-00002-of-00002"));
    hp_st_close(st);
    cJSON_Delete(exp);
}

static void expect_open_error(const char *file, const char *needle) {
    char *p = path(file);
    hp_err e;
    hp_st *st = hp_st_open(p, &e);
    if (st) fail_msg("%s opened", file);
    if (!strstr(e.msg, file) || !strstr(e.msg, needle)) fail_msg("%s: message '%s' lacks '%s'", file, e.msg, needle);
    free(p);
}

static void test_corrupt_files(void **state) {
    (void)state;
    expect_open_error("truncated.safetensors", "truncated");
    expect_open_error("badjson.safetensors", "not valid JSON");
    expect_open_error("hugelen.safetensors", "exceeds the file size");
    expect_open_error("badshape.safetensors", "tensor 'x'");
    expect_open_error("baddtype.safetensors", "unknown dtype 'Q4'");
    expect_open_error("missing.safetensors", "cannot open");
}

static void test_write_checked_by_python(void **state) {
    (void)state;
    float a[6] = {1.0f, -2.0f, 0.1f, 3.3333333f, 1e-20f, -7.5f};
    float b[7] = {1.00390625f, 1.01171875f, -3.14159265f, 65504.0f, 1e-8f, 0.3f, 2.0f}; /* ties to even */
    int64_t sa[2] = {2, 3}, sb[1] = {7};
    hp_st_writer *w = hp_st_writer_new();
    hp_st_writer_add(w, "layer.a", HP_DT_F32, 2, sa, a);
    hp_st_writer_add(w, "layer.b", HP_DT_BF16, 1, sb, b);
    char *p = path("ours.safetensors"), *jp = path("ours.json");
    hp_err e;
    assert_int_equal(hp_st_writer_write(w, p, &e), HP_OK);
    hp_st_writer_free(w);
    /* the expectations for the checker */
    hp_buf j = {0};
    hp_buf_puts(&j, "{\"layer.a\": {\"shape\": [2, 3], \"values\": [");
    for (int i = 0; i < 6; i++) hp_buf_printf(&j, "%s%.9g", i ? "," : "", a[i]);
    hp_buf_puts(&j, "]}, \"layer.b\": {\"shape\": [7], \"values\": [");
    for (int i = 0; i < 7; i++) hp_buf_printf(&j, "%s%.9g", i ? "," : "", b[i]);
    hp_buf_puts(&j, "]}}");
    assert_int_equal(hp_write_file_atomic(jp, j.data, j.len, &e), HP_OK);
    hp_buf_free(&j);
    hp_buf cmd = {0};
    hp_buf_printf(&cmd, ST_PY " check %s %s", p, jp);
    assert_int_equal(system(cmd.data), 0);
    hp_buf_free(&cmd);
    /* and we read our own file back */
    hp_st *st = hp_st_open(p, &e);
    assert_non_null(st);
    float got[7];
    assert_int_equal(hp_st_read_f32(st, "layer.a", 2, sa, got, &e), HP_OK);
    assert_memory_equal(got, a, sizeof a);
    hp_st_close(st);
    /* duplicate names are refused */
    w = hp_st_writer_new();
    hp_st_writer_add(w, "x", HP_DT_F32, 2, sa, a);
    hp_st_writer_add(w, "x", HP_DT_F32, 2, sa, a);
    assert_int_equal(hp_st_writer_write(w, p, &e), HP_FAIL);
    hp_st_writer_free(w);
    free(p);
    free(jp);
}

static void test_bf16_conversions(void **state) {
    (void)state;
    assert_int_equal(hp_f32_to_bf16(1.0f), 0x3f80);
    assert_int_equal(hp_f32_to_bf16(1.00390625f), 0x3f80); /* tie → even */
    assert_int_equal(hp_f32_to_bf16(1.01171875f), 0x3f82); /* tie → even (up) */
    assert_true(isnan(hp_bf16_to_f32(hp_f32_to_bf16(NAN))));
    assert_true(hp_f16_to_f32(0x3c00) == 1.0f);
    assert_true(hp_f16_to_f32(0x0001) == ldexpf(1.0f, -24));
    assert_true(isinf(hp_f16_to_f32(0x7c00)));
}

static const char *qwen05 =
    "{\"architectures\": [\"Qwen2ForCausalLM\"], \"attention_dropout\": 0.0, \"bos_token_id\": 151643,"
    " \"eos_token_id\": 151645, \"hidden_act\": \"silu\", \"hidden_size\": 896, \"initializer_range\": 0.02,"
    " \"intermediate_size\": 4864, \"max_position_embeddings\": 32768, \"max_window_layers\": 21,"
    " \"model_type\": \"qwen2\", \"num_attention_heads\": 14, \"num_hidden_layers\": 24,"
    " \"num_key_value_heads\": 2, \"rms_norm_eps\": 1e-06, \"rope_theta\": 1000000.0, \"sliding_window\": 32768,"
    " \"tie_word_embeddings\": true, \"torch_dtype\": \"bfloat16\", \"transformers_version\": \"4.43.1\","
    " \"use_cache\": true, \"use_sliding_window\": false, \"vocab_size\": 151936}";

static void test_config(void **state) {
    (void)state;
    hp_config c;
    hp_err e;
    assert_int_equal(hp_config_parse(qwen05, strlen(qwen05), "q.json", &c, &e), HP_OK);
    assert_int_equal(c.hidden_size, 896);
    assert_int_equal(c.intermediate_size, 4864);
    assert_int_equal(c.num_hidden_layers, 24);
    assert_int_equal(c.num_attention_heads, 14);
    assert_int_equal(c.num_key_value_heads, 2);
    assert_int_equal(c.vocab_size, 151936);
    assert_int_equal(c.head_dim, 64);
    assert_true(c.rope_theta == 1e6 && c.rms_norm_eps == 1e-6 && c.tie_word_embeddings);
    assert_string_equal(c.torch_dtype, "bfloat16");
    assert_int_equal(c.eos_token_id, 151645);
    assert_int_equal(c.num_labels, 0);
    /* round trip */
    char *s = hp_config_to_json(&c);
    hp_config c2;
    assert_int_equal(hp_config_parse(s, strlen(s), "rt", &c2, &e), HP_OK);
    free(s);
    assert_memory_equal(&c, &c2, sizeof c);
    /* errors name the key */
    const char *bad[][2] = {
        {"{\"architectures\": [\"LlamaForCausalLM\"], \"hidden_size\": 8, \"intermediate_size\": 8, "
         "\"num_hidden_layers\": 1, \"num_attention_heads\": 2, \"vocab_size\": 4}", "'LlamaForCausalLM' is not supported"},
        {"{\"model_type\": \"llama\", \"hidden_size\": 8, \"intermediate_size\": 8, \"num_hidden_layers\": 1, "
         "\"num_attention_heads\": 2, \"vocab_size\": 4}", "model_type"},
        {"{\"hidden_size\": 8, \"intermediate_size\": 8, \"num_hidden_layers\": 1, \"num_attention_heads\": 2}",
         "missing key 'vocab_size'"},
        {"{\"hidden_size\": 8, \"intermediate_size\": 8, \"num_hidden_layers\": 1, \"num_attention_heads\": 3, "
         "\"vocab_size\": 4}", "not divisible"},
        {"{\"hidden_size\": \"8\", \"intermediate_size\": 8, \"num_hidden_layers\": 1, \"num_attention_heads\": 2, "
         "\"vocab_size\": 4}", "'hidden_size' must be an integer"},
        {"{\"hidden_size\": 8,", "not a JSON object"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        assert_int_equal(hp_config_parse(bad[i][0], strlen(bad[i][0]), "bad.json", &c, &e), HP_FAIL);
        if (!strstr(e.msg, bad[i][1]) || !strstr(e.msg, "bad.json")) fail_msg("case %zu: '%s'", i, e.msg);
    }
    /* token classification = critic */
    const char *tc = "{\"architectures\": [\"Qwen2ForTokenClassification\"], \"hidden_size\": 8, \"intermediate_size\": 8, "
                     "\"num_hidden_layers\": 1, \"num_attention_heads\": 2, \"vocab_size\": 4, \"num_labels\": 3}";
    assert_int_equal(hp_config_parse(tc, strlen(tc), "tc.json", &c, &e), HP_OK);
    assert_int_equal(c.num_labels, 3);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_read_python_files), cmocka_unit_test(test_corrupt_files),
        cmocka_unit_test(test_write_checked_by_python), cmocka_unit_test(test_bf16_conversions),
        cmocka_unit_test(test_config),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
