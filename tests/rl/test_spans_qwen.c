/* Token spans on real tokenizations: the Qwen2.5 tokenizer against a JavaScript reference (Hugging
 * Face's JS tokenizer + the §3.3/§5.2 parse written independently, tests/rl/ref/spans_ref.mjs →
 * tests/rl/data/spans_qwen_ref.json), and a small BPE trained here on Plan–Execute text, checked
 * against the tag positions found in the original string. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "adv_test_util.h"
#include "hiper/spans.h"
#include "hiper/tok.h"
#include "tok/qwen_fixture.h"


static void check_span(const hp_span *got, bool has, cJSON *want, const char *what, int k) {
    if (cJSON_IsNull(want)) {
        if (has) fail_msg("case %d %s: got [%d, %d), want none", k, what, got->begin, got->end);
        return;
    }
    int b = cJSON_GetArrayItem(want, 0)->valueint, e = cJSON_GetArrayItem(want, 1)->valueint;
    if (!has || got->begin != b || got->end != e)
        fail_msg("case %d %s: got %s[%d, %d), want [%d, %d)", k, what, has ? "" : "none ", got->begin, got->end, b, e);
}

static void test_qwen_reference(void **s) {
    (void)s;
    hp_err err = {{0}};
    const char *path = hp_test_qwen25_tokenizer(&err);
    if (!path) fail_msg("%s", err.msg);
    hp_tok *tok = hp_tok_load(path, &err);
    if (!tok) fail_msg("%s", err.msg);
    char *text = read_or_die(HP_SOURCE_DIR "/tests/rl/data/spans_qwen_ref.json");
    cJSON *ref = cJSON_Parse(text);
    free(text);
    cJSON *c;
    int k = 0;
    cJSON_ArrayForEach(c, cJSON_GetObjectItem(ref, "cases")) {
        cJSON *jids = cJSON_GetObjectItem(c, "ids");
        int n = cJSON_GetArraySize(jids);
        int32_t *ids = calloc((size_t)n + 1, sizeof *ids);
        for (int j = 0; j < n; j++) ids[j] = cJSON_GetArrayItem(jids, j)->valueint;
        /* the real tokenization path: our encoder gives the reference ids */
        const char *t = cJSON_GetObjectItem(c, "text")->valuestring;
        hp_ids enc = {0};
        assert_int_equal(hp_tok_encode(tok, t, strlen(t), &enc, &err), HP_OK);
        bool eos = n > 0 && ids[n - 1] == hp_tok_im_end(tok) && (size_t)n == enc.len + 1;
        assert_int_equal(enc.len + (eos ? 1 : 0), (size_t)n);
        for (size_t j = 0; j < enc.len; j++) assert_int_equal(enc.data[j], ids[j]);
        hp_ids_free(&enc);

        hp_spans sp;
        if (hp_spans_parse(ids, n, hp_tok_bytes_fn, tok, &sp, &err)) fail_msg("case %d: %s", k, err.msg);
        check_span(&sp.action, sp.has_action, cJSON_GetObjectItem(c, "action"), "action", k);
        check_span(&sp.subgoal, sp.has_subgoal, cJSON_GetObjectItem(c, "subgoal"), "subgoal", k);
        check_span(&sp.sw, sp.has_switch, cJSON_GetObjectItem(c, "switch"), "switch", k);
        assert_int_equal(sp.switch_is_keep, cJSON_IsTrue(cJSON_GetObjectItem(c, "keep")));
        assert_int_equal(sp.switch_word != NULL, cJSON_IsTrue(cJSON_GetObjectItem(c, "switch_found")));
        if (sp.v_low_pos != cJSON_GetObjectItem(c, "v_low")->valueint)
            fail_msg("case %d v_low: got %d, want %d", k, sp.v_low_pos, cJSON_GetObjectItem(c, "v_low")->valueint);
        hp_spans_free(&sp);
        free(ids);
        k++;
    }
    assert_int_equal(k, 14);
    cJSON_Delete(ref);
    hp_tok_free(tok);
}

/* A small BPE trained on Plan–Execute responses merges tags with their neighbours in many ways; the
 * spans must still be the tokens overlapping each tag pair's byte range in the original text. */
static void test_trained_tokenizer(void **s) {
    (void)s;
    static const char *words[] = {"KEEP", "SWITCH", "keep"};
    static const char *subgoals[] = {"find the mug", "clean the mug.", "go to [sink]", "heat egg)"};
    static const char *actions[] = {"go to countertop 1", "take mug 1 from countertop 1", "look.", "open fridge 1)"};
    hp_buf corpus = {0};
    for (int i = 0; i < 300; i++)
        hp_buf_printf(&corpus, "<switch>%s</switch>\n<subgoal>%s</subgoal>\n<action>%s</action>\n", words[i % 3],
                      subgoals[i % 4], actions[(i / 4) % 4]);
    hp_err err = {{0}};
    const char *dir = HP_BINARY_DIR "/test-fixtures/spans_bpe";
    if (hp_tok_train(corpus.data, corpus.len, 320, dir, &err)) fail_msg("%s", err.msg);
    hp_buf_free(&corpus);
    hp_tok *tok = hp_tok_load(dir, &err);
    if (!tok) fail_msg("%s", err.msg);
    int checked = 0;
    for (int i = 0; i < 48; i++) {
        char text[512];
        const char *sep = i % 2 ? "" : "\n";
        snprintf(text, sizeof text, "%s<switch>%s</switch>%s<subgoal>%s</subgoal>%s<action>%s</action>",
                 i % 5 ? "" : "ok ", words[i % 3], sep, subgoals[i % 4], sep, actions[(i / 3) % 4]);
        hp_ids ids = {0};
        assert_int_equal(hp_tok_encode(tok, text, strlen(text), &ids, &err), HP_OK);
        hp_ids_push(&ids, hp_tok_im_end(tok));
        /* byte offsets of the tokens in the original text */
        size_t off[128];
        assert_true(ids.len < 128);
        off[0] = 0;
        for (size_t j = 0; j < ids.len; j++) {
            size_t len;
            hp_tok_token_bytes(tok, ids.data[j], &len);
            off[j + 1] = off[j] + len;
        }
        hp_spans sp;
        assert_int_equal(hp_spans_parse(ids.data, (int32_t)ids.len, hp_tok_bytes_fn, tok, &sp, &err), HP_OK);
        const char *names[] = {"switch", "subgoal", "action"};
        const hp_span *spans[] = {&sp.sw, &sp.subgoal, &sp.action};
        for (int k = 0; k < 3; k++) {
            char open[32], close[32];
            snprintf(open, sizeof open, "<%s>", names[k]);
            snprintf(close, sizeof close, "</%s>", names[k]);
            size_t a = (size_t)(strstr(text, open) - text);
            size_t e = (size_t)(strstr(text, close) - text) + strlen(close);
            int32_t b = 0;
            while (off[b + 1] <= a) b++;
            int32_t f = b;
            while (f < (int32_t)ids.len && off[f] < e) f++;
            if (spans[k]->begin != b || spans[k]->end != f)
                fail_msg("'%s' %s: got [%d, %d), want [%d, %d)", text, names[k], spans[k]->begin, spans[k]->end, b, f);
            checked++;
        }
        assert_int_equal(sp.switch_is_keep, i % 3 != 1);
        size_t sub_end = (size_t)(strstr(text, "</subgoal>") - text) + strlen("</subgoal>");
        int32_t v = 0;
        while (off[v] < sub_end) v++;
        assert_int_equal(sp.v_low_pos, v);
        hp_spans_free(&sp);
        hp_ids_free(&ids);
    }
    assert_int_equal(checked, 144);
    hp_tok_free(tok);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_qwen_reference),
        cmocka_unit_test(test_trained_tokenizer),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
