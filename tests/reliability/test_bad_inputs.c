/* Inputs that used to be accepted with a changed meaning are refused with one error naming the file
 * and the key, id or line (docs/reliability.md, "Parsers" and "Paths"): tokenizer.json with a
 * duplicate or missing id, config.json keys the engine does not implement, score --ids that is not
 * strictly a list of ids, a sharded index naming files outside the model directory, hiper init over a
 * directory that is not a model, and hiper play with lines longer than 4096 bytes. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "shell_util.h"

#include "hiper/config.h"
#include "hiper/safetensors.h"
#include "hiper/tok.h"

#include <cjson/cJSON.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static char dir[64];

static int setup(void **state) {
    (void)state;
    snprintf(dir, sizeof dir, "/tmp/hp_bad.XXXXXX");
    return mkdtemp(dir) ? 0 : -1;
}

static int teardown(void **state) {
    (void)state;
    hp_err err;
    return hp_remove_tree(dir, &err);
}

static char *in_dir(const char *name) { return hp_path_join(dir, name); }

static void write_text(const char *name, const char *text) {
    char *p = in_dir(name);
    hp_err err;
    if (hp_write_file_atomic(p, text, strlen(text), &err)) fail_msg("%s", err.msg);
    free(p);
}

static int sh(char *out, size_t cap, const char *fmt, ...) HP_PRINTF(3, 4);
static int sh(char *out, size_t cap, const char *fmt, ...) {
    char body[4096], cmd[8192];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(body, sizeof body, fmt, ap);
    va_end(ap);
    snprintf(cmd, sizeof cmd, "cd %s && %s", dir, body);
    return tu_shell(cmd, out, cap);
}

/* ---- tokenizer.json ---- */

static cJSON *tiny_tokenizer(void) {
    char *text;
    size_t len;
    hp_err err;
    if (hp_read_file(HP_SOURCE_DIR "/tests/agent/data/tiny_tokenizer.json", &text, &len, &err)) fail_msg("%s", err.msg);
    cJSON *j = cJSON_Parse(text);
    free(text);
    assert_non_null(j);
    return j;
}

/* Save j as NAME and load it: NULL and the error when refused. */
static hp_tok *load_json(const char *name, cJSON *j, hp_err *err) {
    char *s = cJSON_PrintUnformatted(j);
    write_text(name, s);
    cJSON_free(s);
    char *p = in_dir(name);
    hp_tok *t = hp_tok_load(p, err);
    free(p);
    return t;
}

static void test_tokenizer_ids(void **state) {
    (void)state;
    hp_err err = {{0}};
    cJSON *j = tiny_tokenizer();
    hp_tok *t = load_json("ok.json", j, &err);
    assert_non_null(t);
    hp_tok_free(t);
    cJSON *vocab = cJSON_GetObjectItem(cJSON_GetObjectItem(j, "model"), "vocab");
    int32_t n = cJSON_GetArraySize(vocab);

    /* a duplicate id: '"' given id 0, the id of another token */
    cJSON *dup = cJSON_Duplicate(j, true);
    cJSON *dv = cJSON_GetObjectItem(cJSON_GetObjectItem(dup, "model"), "vocab");
    cJSON_SetNumberValue(cJSON_GetObjectItem(dv, "\""), 0);
    assert_null(load_json("dup.json", dup, &err));
    assert_non_null(strstr(err.msg, "dup.json: model.vocab: id 0 is given to both"));
    assert_non_null(strstr(err.msg, "\"\\\"\""));
    cJSON_Delete(dup);

    /* a missing id: the token with id 5 removed */
    cJSON *gap = cJSON_Duplicate(j, true);
    cJSON *gv = cJSON_GetObjectItem(cJSON_GetObjectItem(gap, "model"), "vocab");
    for (cJSON *e = gv->child; e; e = e->next)
        if (e->valueint == 5) {
            cJSON_Delete(cJSON_DetachItemViaPointer(gv, e));
            break;
        }
    assert_null(load_json("gap.json", gap, &err));
    assert_non_null(strstr(err.msg, "gap.json: no token has id 5"));
    cJSON_Delete(gap);

    /* an added token that takes a vocabulary token's id */
    cJSON *clash = cJSON_Duplicate(j, true);
    cJSON *added = cJSON_GetArrayItem(cJSON_GetObjectItem(clash, "added_tokens"), 0);
    cJSON_SetNumberValue(cJSON_GetObjectItem(added, "id"), 7);
    assert_null(load_json("clash.json", clash, &err));
    assert_non_null(strstr(err.msg, "clash.json: added_tokens[0]: id 7 is already the vocabulary's token"));
    cJSON_Delete(clash);

    /* a token string twice in the vocabulary (a JSON key twice: HF keeps the last, cJSON the first) */
    char *text = cJSON_PrintUnformatted(j);
    char *at = strstr(text, "\"vocab\":{");
    assert_non_null(at);
    at += strlen("\"vocab\":{");
    hp_buf twice_key = {0};
    hp_buf_append(&twice_key, text, (size_t)(at - text));
    hp_buf_printf(&twice_key, "\"!\":%d,", n + 100);
    hp_buf_puts(&twice_key, at);
    write_text("twice_key.json", twice_key.data);
    hp_buf_free(&twice_key);
    cJSON_free(text);
    char *tk = in_dir("twice_key.json");
    assert_null(hp_tok_load(tk, &err));
    free(tk);
    assert_non_null(strstr(err.msg, "twice_key.json: key \"!\" appears twice"));

    /* the same added token twice */
    cJSON *twice = cJSON_Duplicate(j, true);
    cJSON *arr = cJSON_GetObjectItem(twice, "added_tokens");
    cJSON *copy = cJSON_Duplicate(cJSON_GetArrayItem(arr, 0), true);
    cJSON_SetNumberValue(cJSON_GetObjectItem(copy, "id"), n + cJSON_GetArraySize(arr));
    cJSON_AddItemToArray(arr, copy);
    assert_null(load_json("twice.json", twice, &err));
    assert_non_null(strstr(err.msg, "is added twice"));
    cJSON_Delete(twice);
    cJSON_Delete(j);

    /* the command line says the same and exits 1 */
    char out[4096];
    assert_int_equal(sh(out, sizeof out, "%s tokenizer encode --tokenizer dup.json --text hi 2>&1", HP_CLI), 1);
    assert_non_null(strstr(out, "hiper: error:"));
    assert_non_null(strstr(out, "dup.json: model.vocab: id 0"));
}

/* ---- config.json ---- */

static const char BASE[] =
    "\"hidden_size\": 64, \"intermediate_size\": 128, \"num_hidden_layers\": 2, \"num_attention_heads\": 4, "
    "\"num_key_value_heads\": 2, \"vocab_size\": 300, \"sliding_window\": 4096, \"max_window_layers\": 2";

static int parse_with(const char *extra, hp_config *c, hp_err *err) {
    char js[2048];
    snprintf(js, sizeof js, "{%s%s%s}", BASE, extra[0] ? ", " : "", extra);
    return hp_config_parse(js, strlen(js), "m/config.json", c, err);
}

static void refused(const char *extra, const char *msg) {
    hp_config c;
    hp_err err = {{0}};
    if (parse_with(extra, &c, &err) != HP_FAIL) fail_msg("accepted: %s", extra);
    if (!strstr(err.msg, "m/config.json: ") || !strstr(err.msg, msg)) fail_msg("%s: got '%s'", extra, err.msg);
}

static void accepted(const char *extra) {
    hp_config c;
    hp_err err = {{0}};
    if (parse_with(extra, &c, &err)) fail_msg("%s: %s", extra, err.msg);
}

static void test_config_keys(void **state) {
    (void)state;
    accepted("");
    /* a Qwen2.5 config as transformers writes it */
    accepted("\"hidden_act\": \"silu\", \"use_sliding_window\": false, \"attention_dropout\": 0.0, \"rope_scaling\": null");
    accepted("\"rope_scaling\": null");
    accepted("\"rope_scaling\": {\"rope_type\": \"default\"}");
    accepted("\"hidden_act\": \"swish\"");
    accepted("\"head_dim\": 16");
    accepted("\"layer_types\": [\"full_attention\", \"full_attention\"]");
    accepted("\"rope_parameters\": {\"rope_type\": \"default\", \"rope_theta\": 1000000.0}");
    refused("\"rope_scaling\": {\"type\": \"yarn\", \"factor\": 4.0}", "key 'rope_scaling'");
    refused("\"rope_scaling\": {\"factor\": 2.0}", "key 'rope_scaling'");
    refused("\"rope_parameters\": {\"rope_type\": \"llama3\"}", "key 'rope_parameters'");
    refused("\"use_sliding_window\": true", "key 'use_sliding_window'");
    refused("\"hidden_act\": \"gelu\"", "key 'hidden_act' is \"gelu\"");
    refused("\"attention_dropout\": 0.1", "key 'attention_dropout'");
    refused("\"layer_types\": [\"full_attention\", \"sliding_attention\"]", "key 'layer_types[1]'");
    refused("\"head_dim\": 32", "key 'head_dim'");
    refused("\"partial_rotary_factor\": 0.5", "key 'partial_rotary_factor'");
    refused("\"quantization_config\": {\"bits\": 4}", "key 'quantization_config'");
    refused("\"eos_token_id\": 1e300", "key 'eos_token_id'");
    /* a key twice: cJSON would read the first, transformers the last */
    refused("\"rope_scaling\": null, \"rope_scaling\": {\"type\": \"yarn\", \"factor\": 4.0}",
            "key 'rope_scaling' appears twice");
    refused("\"rope_parameters\": {\"rope_theta\": 1.0, \"rope_theta\": 2.0}", "key 'rope_theta' appears twice");
    /* rope_parameters' theta is the one used */
    hp_config c;
    hp_err err;
    assert_int_equal(parse_with("\"rope_parameters\": {\"rope_theta\": 1000000.0}", &c, &err), HP_OK);
    assert_true(c.rope_theta == 1e6);
    /* what hiper writes, it reads back */
    char *js = hp_config_to_json(&c);
    hp_config d;
    assert_int_equal(hp_config_parse(js, strlen(js), "written", &d, &err), HP_OK);
    free(js);
}

/* ---- score --ids ---- */

static void ids_refused(const char *text, const char *msg) {
    hp_ids ids = {0};
    int64_t *offs = NULL;
    int n = 0;
    hp_err err = {{0}};
    if (hp_ids_parse_seqs(text, strlen(text), "x.ids", &ids, &offs, &n, &err) == HP_OK) fail_msg("accepted: %s", text);
    if (!strstr(err.msg, msg)) fail_msg("%s: got '%s'", text, err.msg);
    assert_null(offs);
    hp_ids_free(&ids);
}

static void ids_ok(const char *text, int n_seq, const int64_t *want_offs) {
    hp_ids ids = {0};
    int64_t *offs = NULL;
    int n = 0;
    hp_err err = {{0}};
    if (hp_ids_parse_seqs(text, strlen(text), "x.ids", &ids, &offs, &n, &err)) fail_msg("%s: %s", text, err.msg);
    assert_int_equal(n, n_seq);
    for (int i = 0; i <= n; i++) assert_int_equal(offs[i], want_offs[i]);
    free(offs);
    hp_ids_free(&ids);
}

static void test_score_ids(void **state) {
    (void)state;
    ids_ok("[1, 2, 3]", 1, (const int64_t[]){0, 3});
    ids_ok("[[1, 2], [3, 4, 5]]\n", 2, (const int64_t[]){0, 2, 5});
    ids_ok("1 2 3\n\n4,5\n", 2, (const int64_t[]){0, 3, 5});
    ids_refused("[1,[2,3]]", "x.ids: element [1] is a list among ids");
    ids_refused("[1,2,3,4]]", "x.ids:1: text after the JSON list of ids");
    ids_refused("[[1,2],3]", "x.ids: element [1] is not a list of ids");
    ids_refused("[[1,[2]]]", "x.ids: element [0][1] is not a token id");
    ids_refused("[[1,2],[]]", "x.ids: sequence [1] is empty");
    ids_refused("[1, 2.5]", "element [1] is not a token id");
    ids_refused("[1, -2]", "element [1] is not a token id");
    ids_refused("[1, 2", "x.ids:1: not valid JSON");
    ids_refused("1 2\n3 -4\n", "x.ids:2: unexpected character '-'");
    ids_refused("1 2x", "x.ids:1: '2x' is not a token id");
    ids_refused("4294967296", "larger than 2^31 - 1");
    ids_refused("\n \n", "x.ids: no token ids");
    ids_refused("[]", "expected a JSON list of token ids");
    /* end to end: hiper score refuses both issue reproducers before loading any model */
    char out[4096];
    write_text("nested.ids", "[1,[2,3]]");
    write_text("extra.ids", "[1,2,3,4]]");
    assert_int_equal(sh(out, sizeof out, "%s score --model nowhere --ids nested.ids 2>&1", HP_CLI), 1);
    assert_non_null(strstr(out, "nested.ids: element [1]"));
    assert_int_equal(sh(out, sizeof out, "%s score --model nowhere --ids extra.ids 2>&1", HP_CLI), 1);
    assert_non_null(strstr(out, "extra.ids:1: text after"));
}

/* ---- sharded safetensors index ---- */

static void write_index(const char *shard_name) {
    char js[512];
    snprintf(js, sizeof js, "{\"metadata\": {}, \"weight_map\": {\"x\": \"a.safetensors\", \"y\": \"%s\"}}", shard_name);
    write_text("shards/model.safetensors.index.json", js);
}

static void test_index_paths(void **state) {
    (void)state;
    char *sd = in_dir("shards");
    hp_err err = {{0}};
    assert_int_equal(hp_mkdirs(sd, &err), HP_OK);
    static const float x[2] = {1, 2};
    const char *shards[] = {"a.safetensors", "b.safetensors"};
    for (int i = 0; i < 2; i++) {
        hp_st_writer *w = hp_st_writer_new();
        hp_st_writer_add(w, i ? "y" : "x", HP_DT_F32, 1, (const int64_t[]){2}, x);
        char *p = hp_path_join(sd, shards[i]);
        assert_int_equal(hp_st_writer_write(w, p, &err), HP_OK);
        free(p);
        hp_st_writer_free(w);
    }
    /* a file outside the model directory that happens to be a valid safetensors file */
    char *outside = in_dir("outside.safetensors");
    char *b = hp_path_join(sd, "b.safetensors");
    char *data;
    size_t len;
    assert_int_equal(hp_read_file(b, &data, &len, &err), HP_OK);
    assert_int_equal(hp_write_file_atomic(outside, data, len, &err), HP_OK);
    free(data);

    write_index("b.safetensors");
    hp_st *st = hp_st_open(sd, &err);
    assert_non_null(st);
    hp_st_close(st);
    const char *bad[] = {"../outside.safetensors", "/etc/passwd", "sub/b.safetensors", "..", ".", ""};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        write_index(bad[i]);
        assert_null(hp_st_open(sd, &err));
        if (!strstr(err.msg, "model.safetensors.index.json: weight_map['y'] names") ||
            !strstr(err.msg, "not a file name in the model directory"))
            fail_msg("'%s': %s", bad[i], err.msg);
    }
    /* a tensor listed twice (readers disagree on which shard counts) */
    write_text("shards/model.safetensors.index.json",
               "{\"weight_map\": {\"x\": \"a.safetensors\", \"y\": \"b.safetensors\", \"x\": \"b.safetensors\"}}");
    assert_null(hp_st_open(sd, &err));
    assert_non_null(strstr(err.msg, "weight_map lists tensor 'x' twice"));
    free(b);
    free(outside);
    free(sd);
}

/* ---- hiper init --out ---- */

static void test_init_out(void **state) {
    (void)state;
    char out[4096];
    const char *init = "init --vocab 64 --layers 1 --dim 16 --heads 2 --kv-heads 1 --ffn 32";
    /* a directory of the user's: refused, and left as it was */
    assert_int_equal(sh(out, sizeof out, "mkdir -p notes && echo keep > notes/todo.txt && %s %s --out notes 2>&1",
                        HP_CLI, init), 1);
    assert_non_null(strstr(out, "notes holds 'todo.txt', which is not a model file"));
    assert_int_equal(sh(out, sizeof out, "cat notes/todo.txt"), 0);
    assert_string_equal(out, "keep\n");
    /* a model directory with something else in it: refused too */
    assert_int_equal(sh(out, sizeof out, "%s %s --out m >/dev/null && mkdir m/runs && %s %s --out m 2>&1", HP_CLI,
                        init, HP_CLI, init), 1);
    assert_non_null(strstr(out, "m holds 'runs'"));
    /* a file */
    assert_int_equal(sh(out, sizeof out, "echo data > f.bin && %s %s --out f.bin 2>&1", HP_CLI, init), 1);
    assert_non_null(strstr(out, "f.bin exists and is not a directory"));
    assert_int_equal(sh(out, sizeof out, "cat f.bin"), 0);
    assert_string_equal(out, "data\n");
    /* a non-empty directory without config.json */
    assert_int_equal(sh(out, sizeof out, "mkdir -p w && echo x > w/model.safetensors && %s %s --out w 2>&1", HP_CLI, init), 1);
    assert_non_null(strstr(out, "has no config.json"));
    /* new, empty, or a model directory: written */
    assert_int_equal(sh(out, sizeof out, "mkdir -p e && %s %s --out e 2>&1 && %s %s --out new 2>&1 && "
                                         "%s %s --out new --seed 3 2>&1", HP_CLI, init, HP_CLI, init, HP_CLI, init), 0);
    assert_int_equal(sh(out, sizeof out, "ls new"), 0);
    assert_non_null(strstr(out, "config.json"));
}

/* ---- hiper play reads whole lines ---- */

static void test_play_long_line(void **state) {
    (void)state;
    char out[1 << 16];
    /* one 6000-byte command, then end of input: exactly one step */
    int rc = sh(out, sizeof out,
                "{ printf 'go to '; head -c 6000 /dev/zero | tr '\\0' x; echo; } | %s play --env alfworld --quiet 2>&1",
                HP_CLI);
    assert_int_equal(rc, 0);
    if (!strstr(out, "=== stopped after 1 steps")) fail_msg("%s", out + (strlen(out) > 2000 ? strlen(out) - 2000 : 0));
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_tokenizer_ids), cmocka_unit_test(test_config_keys),
        cmocka_unit_test(test_score_ids),     cmocka_unit_test(test_index_paths),
        cmocka_unit_test(test_init_out),      cmocka_unit_test(test_play_long_line),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
