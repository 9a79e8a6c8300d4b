/* Token spans on hand-built token sequences (hiper.md §3.3, §4.8, §5.2): tags split across tokens,
 * the accepted closing variants, the overlap rule, the fallbacks, per-token UTF-8 decoding, and the
 * read positions. Expected values are worked out by hand from the spec's rules. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "hiper/advantage.h"
#include "hiper/spans.h"

#include <string.h>

/* A vocabulary of literal pieces: token id i stands for pieces[i]. */
typedef struct vocab {
    const char **pieces;
    int n;
} vocab;

static const char *piece_bytes(const void *ctx, int32_t id, size_t *len) {
    const vocab *v = ctx;
    if (id < 0 || id >= v->n) return NULL;
    *len = strlen(v->pieces[id]);
    return v->pieces[id];
}

static void parse(const char **pieces, int n, hp_spans *sp) {
    vocab v = {pieces, n};
    int32_t ids[64];
    for (int i = 0; i < n; i++) ids[i] = i;
    hp_err err = {{0}};
    assert_int_equal(hp_spans_parse(ids, n, piece_bytes, &v, sp, &err), HP_OK);
}

#define SPAN(s, b, e)                  \
    do {                               \
        assert_int_equal((s).begin, b); \
        assert_int_equal((s).end, e);   \
    } while (0)

static void test_clean_response(void **st) {
    (void)st;
    const char *p[] = {"<switch>", "KEEP", "</switch>", "\n", "<subgoal>", "find", " mug", "</subgoal>", "\n",
                       "<action>", "go to", " desk 1", "</action>", "<|im_end|>"};
    hp_spans s;
    parse(p, 14, &s);
    assert_true(s.has_switch && s.has_subgoal && s.has_action);
    SPAN(s.sw, 0, 3);
    SPAN(s.subgoal, 4, 8);
    SPAN(s.action, 9, 13);
    assert_true(s.switch_is_keep);
    assert_string_equal(s.switch_word, "KEEP");
    assert_string_equal(s.subgoal_key, "<subgoal>find mug</subgoal>");
    assert_string_equal(s.subgoal_text, "find mug");
    assert_int_equal(s.v_low_pos, 8); /* the "\n" right after </subgoal>: V(s, q, o) */
    assert_int_equal(s.v_high_pos, 0);
    assert_int_equal(s.v_term_pos, 0);
    /* §4.8: KEEP turn (not a boundary): subgoal tokens get nothing; newlines and <|im_end|> neither */
    double adv[14];
    uint8_t m[14];
    hp_spans_assign(&s, false, true, 1.0, 10.0, 100.0, adv, m);
    const uint8_t want[14] = {4, 4, 4, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 0};
    assert_memory_equal(m, want, 14);
    assert_true(adv[0] == 100.0 && adv[3] == 0.0 && adv[5] == 0.0 && adv[10] == 1.0 && adv[13] == 0.0);
    /* boundary turn: subgoal tokens carry Â^H */
    hp_spans_assign(&s, true, true, 1.0, 10.0, 100.0, adv, m);
    assert_int_equal(m[4], HP_SPAN_SUBGOAL);
    assert_true(adv[7] == 10.0);
    /* 2-head critic: switch tokens leave the loss mask */
    hp_spans_assign(&s, true, false, 1.0, 10.0, 100.0, adv, m);
    assert_int_equal(m[1], 0);
    /* low_advantage_tokens = rest: on the KEEP turn every token outside the switch block (the
     * separators, the repeated subgoal, <|im_end|>) carries the low-level advantage */
    hp_spans_assign(&s, false, true, 1.0, 10.0, 100.0, adv, m);
    hp_spans_assign_rest(&s, 1.0, adv, m);
    const uint8_t want_rest[14] = {4, 4, 4, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1};
    assert_memory_equal(m, want_rest, 14);
    assert_true(adv[0] == 100.0 && adv[3] == 1.0 && adv[5] == 1.0 && adv[13] == 1.0);
    hp_spans_free(&s);
}

static void test_split_tags(void **st) {
    (void)st;
    const char *p[] = {"<sw", "itch>SW", "ITCH</", "switch>\n<sub", "goal>open", " fridge</subgoal",
                       ">\n<action>", "open fridge 1", "</action>", "<|im_end|>"};
    hp_spans s;
    parse(p, 10, &s);
    SPAN(s.sw, 0, 4);      /* "</switch>" ends inside token 3 */
    SPAN(s.subgoal, 3, 7); /* "<sub" starts in token 3; ">" of the closing tag is token 6 */
    SPAN(s.action, 6, 9);  /* "<action>" starts inside token 6 */
    assert_false(s.switch_is_keep);
    assert_string_equal(s.switch_word, "SWITCH");
    assert_int_equal(s.v_low_pos, 7); /* first token starting after the closing subgoal tag */
    assert_string_equal(s.subgoal_text, "open fridge");
    double adv[10];
    uint8_t m[10];
    hp_spans_assign(&s, true, true, 1.0, 10.0, 100.0, adv, m);
    assert_int_equal(m[3], HP_SPAN_SWITCH | HP_SPAN_SUBGOAL); /* merged token: in both spans */
    assert_true(adv[3] == 110.0);
    assert_int_equal(m[6], HP_SPAN_SUBGOAL | HP_SPAN_ACTION);
    hp_spans_free(&s);
}

static void test_closing_variants(void **st) {
    (void)st;
    /* "]</subgoal>" and ".</action>\n" end right after ">"; the newline is not in the span */
    const char *p[] = {"<switch>", "SWITCH", "</switch>\n", "<subgoal>", "go to [x", "]</subgoal>", "\n",
                       "<action>", "take x.", "</action>\n", "<|im_end|>"};
    hp_spans s;
    parse(p, 11, &s);
    SPAN(s.sw, 0, 3);
    SPAN(s.subgoal, 3, 6);
    SPAN(s.action, 7, 10);
    assert_string_equal(s.subgoal_text, "go to [x"); /* the "]" belongs to the "]</subgoal>" variant */
    assert_int_equal(s.v_low_pos, 6);
    hp_spans_free(&s);
    /* the newline merged into the closing token: the token still ends the span */
    const char *q[] = {"<switch>KEEP</switch>\n<subgoal>a</subgoal>\n", "<action>b</action>", "<|im_end|>"};
    parse(q, 3, &s);
    SPAN(s.sw, 0, 1);
    SPAN(s.subgoal, 0, 1);
    SPAN(s.action, 1, 2);
    assert_int_equal(s.v_low_pos, 1);
    hp_spans_free(&s);
    /* tags are case-sensitive and "</switch >" is not a closing tag: no switch span → KEEP */
    const char *r[] = {"<switch>", "SWITCH", "</switch >", "<Subgoal>x</Subgoal>", "<action>y</action>"};
    parse(r, 5, &s);
    assert_false(s.has_switch);
    assert_null(s.switch_word);
    assert_true(s.switch_is_keep);
    assert_false(s.has_subgoal);
    SPAN(s.action, 4, 5);
    assert_int_equal(s.v_low_pos, 0); /* no subgoal, no closed switch: position 0 */
    hp_spans_free(&s);
    /* the first opening tag and the earliest closing tag after it */
    const char *w[] = {"</action>", "<action>", "a", "</action>", "<action>b</action>"};
    parse(w, 5, &s);
    SPAN(s.action, 1, 4);
    hp_spans_free(&s);
}

static void test_fallbacks(void **st) {
    (void)st;
    hp_spans s;
    /* no action block: the action mask is the whole response (EOS included) */
    const char *p[] = {"<switch>", "KEEP", "</switch>", "<subgoal>", "x", "</subgoal>", "go north", "<|im_end|>"};
    parse(p, 8, &s);
    assert_false(s.has_action);
    uint8_t m[8];
    double adv[8];
    hp_spans_assign(&s, true, true, 1.0, 10.0, 100.0, adv, m);
    for (int j = 0; j < 8; j++) assert_true(m[j] & HP_SPAN_ACTION);
    assert_true(adv[1] == 101.0 && adv[4] == 11.0 && adv[7] == 1.0);
    assert_int_equal(s.v_low_pos, 6);
    hp_spans_free(&s);
    /* no subgoal: V_low after </switch> */
    const char *q[] = {"<switch>", "KEEP", "</switch>", "\n", "<action>", "x", "</action>"};
    parse(q, 7, &s);
    assert_false(s.has_subgoal);
    assert_null(s.subgoal_key);
    assert_int_equal(s.v_low_pos, 3);
    hp_spans_free(&s);
    /* the closing subgoal tag is the very last token: fall back to after </switch> */
    const char *r[] = {"<switch>", "KEEP", "</switch>", "<subgoal>", "x", "</subgoal>"};
    parse(r, 6, &s);
    assert_true(s.has_subgoal);
    assert_int_equal(s.v_low_pos, 3);
    hp_spans_free(&s);
    /* ... and if </switch> is last too, position 0 */
    const char *z[] = {"<switch>", "KEEP", "<subgoal>x", "</switch></subgoal>"};
    parse(z, 4, &s);
    assert_int_equal(s.v_low_pos, 0);
    hp_spans_free(&s);
    /* empty response */
    parse(z, 0, &s);
    assert_int_equal(s.n, 0);
    assert_false(s.has_action || s.has_subgoal || s.has_switch);
    assert_true(s.switch_is_keep);
    assert_int_equal(s.v_low_pos, 0);
    hp_spans_free(&s);
    /* empty or blank switch content counts as KEEP */
    const char *b[] = {"<switch>", " \n", "</switch>"};
    parse(b, 3, &s);
    assert_true(s.has_switch);
    assert_true(s.switch_is_keep);
    hp_spans_free(&s);
}

/* Each token is decoded alone: a multi-byte character split across tokens becomes U+FFFD per piece
 * (as the authors' per-token batch_decode does), so a split NBSP no longer strips away. */
static void test_utf8_per_token(void **st) {
    (void)st;
    hp_spans s;
    const char *p[] = {"<switch>\xc2\xa0KEEP", "</switch>", "\xe4\xbd", "\xa0<action>x</action>"};
    parse(p, 4, &s);
    assert_true(s.switch_is_keep); /* NBSP inside one token strips */
    assert_int_equal(s.tok_start[3], strlen("<switch>\xc2\xa0KEEP</switch>") + 3);
    assert_int_equal(s.text_len, s.tok_start[3] + 3 + strlen("<action>x</action>"));
    SPAN(s.action, 3, 4);
    hp_spans_free(&s);
    const char *q[] = {"<switch>\xc2", "\xa0KEEP</switch>"};
    parse(q, 2, &s);
    assert_false(s.switch_is_keep); /* U+FFFD U+FFFD KEEP */
    assert_string_equal(s.switch_word, "\xef\xbf\xbd\xef\xbf\xbdKEEP");
    hp_spans_free(&s);
    /* an unknown id is an error naming the position */
    vocab v = {p, 4};
    int32_t ids[2] = {0, 9};
    hp_err err = {{0}};
    assert_int_equal(hp_spans_parse(ids, 2, piece_bytes, &v, &s, &err), HP_FAIL);
    assert_non_null(strstr(err.msg, "position 1"));
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_clean_response), cmocka_unit_test(test_split_tags),
        cmocka_unit_test(test_closing_variants), cmocka_unit_test(test_fallbacks),
        cmocka_unit_test(test_utf8_per_token),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
