/* Constrained action decoding (hiper/constrain.h) on a made-up vocabulary of single characters and
 * multi-character pieces that straddle "<action>" and "</action>": random sampling under the filter
 * always yields one of the admissible commands, and every recorded allowed set equals the brute-force
 * definition (the tokens that keep the action text on some "CMD</action>"). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "hiper/constrain.h"
#include "hiper/prompt.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

enum { NV = 140 };

typedef struct vocab {
    char text[NV][24];
    int n;
} vocab;

static const char *bytes_of(const void *ctx, int32_t id, size_t *len) {
    const vocab *v = ctx;
    if (id < 0 || id >= v->n || !v->text[id][0]) return NULL;
    *len = strlen(v->text[id]);
    return v->text[id];
}

static void make_vocab(vocab *v) {
    memset(v, 0, sizeof *v);
    const char *multi[] = {"<action>", "<action>go", "<action>close", ">go", "go to", " 1</action>",
                           "</action>", "</action>\n", "n>", "<act", "ion>", "take", " from ", "cabinet", "1<",
                           "2</action>x", ""}; /* the last: a token without bytes (a special token) */
    for (int c = 32; c < 127; c++) v->text[v->n++][0] = (char)c;
    for (size_t i = 0; i < sizeof multi / sizeof multi[0]; i++) snprintf(v->text[v->n++], 24, "%s", multi[i]);
}

/* The action text of a full response: after the first "<action>", up to the end. */
static const char *action_text(const char *s) {
    const char *p = strstr(s, "<action>");
    return p ? p + 8 : NULL;
}

/* Is the action of text (after "<action>") finished: it starts with a whole "CMD</action>"? */
static bool finished_action(const char *a, const char *const *cmds, int n) {
    for (int c = 0; c < n; c++) {
        char t[128];
        snprintf(t, sizeof t, "%s</action>", cmds[c]);
        if (!strncmp(a, t, strlen(t))) return true;
    }
    return false;
}

/* The definition: a token is allowed unless it makes (or continues) an action text that is off every
 * "CMD</action>" (neither a prefix of one nor one whole followed by more); once the action is finished
 * everything is free; a token without bytes cannot advance an open action and is forbidden in one. */
static bool allowed_by_definition(const char *prefix_text, const char *tok, const char *const *cmds, int n) {
    const char *a0 = action_text(prefix_text);
    if (a0 && finished_action(a0, cmds, n)) return true;
    if (!tok[0]) return a0 == NULL;
    char buf[512];
    snprintf(buf, sizeof buf, "%s%s", prefix_text, tok);
    const char *a = action_text(buf);
    if (!a) return true;
    for (int c = 0; c < n; c++) {
        char t[128];
        snprintf(t, sizeof t, "%s</action>", cmds[c]);
        size_t la = strlen(a), lt = strlen(t), k = la < lt ? la : lt;
        if (!strncmp(a, t, k)) return true;
    }
    return false;
}

/* Every sampled token lies in the allowed set recorded for its position; with every_position, each
 * position has one. */
static void check_recorded_rows(hp_action_filter *f, const int32_t *out, int n_out, size_t stride, bool every_position) {
    int32_t *row_of;
    uint8_t *allowed;
    int n_rows;
    hp_action_filter_take(f, n_out, &row_of, &allowed, &n_rows);
    for (int i = 0; i < n_out; i++) {
        if (every_position) assert_true(row_of[i] >= 0);
        if (row_of[i] < 0) continue;
        assert_true(row_of[i] < n_rows);
        assert_true((allowed[(size_t)row_of[i] * stride + (size_t)(out[i] >> 3)] >> (out[i] & 7)) & 1);
    }
    free(row_of);
    free(allowed);
}

static void test_sampling_stays_admissible(void **state) {
    (void)state;
    vocab v;
    make_vocab(&v);
    hp_vocab_bytes *vb = hp_vocab_bytes_new(bytes_of, &v, v.n);
    const char *cmds[] = {"go to cabinet 1", "go to cabinet 12", "take cup 2 from cabinet 1", "look"};
    int n_cmds = 4;
    hp_rng r;
    hp_rng_seed(&r, 5, 0);
    size_t stride = ((size_t)v.n + 7) / 8;
    int finished = 0;
    for (int trial = 0; trial < 300; trial++) {
        hp_action_filter *f = hp_action_filter_new(vb, cmds, n_cmds);
        int32_t out[200];
        int n_out = 0;
        char text[1024] = "";
        float z[NV];
        /* a preamble that makes "<action>" likely: the filter sees only what is sampled */
        for (int step = 0; step < 120; step++) {
            for (int i = 0; i < v.n; i++) z[i] = (float)hp_rng_normal(&r);
            if (!action_text(text)) z[v.n - 17] += 4.0f + (float)(step % 3); /* favour "<action>" pieces */
            hp_action_filter_apply(f, out, n_out, z, v.n);
            /* the allowed set is exactly the definition */
            for (int i = 0; i < v.n; i++) {
                bool ok = allowed_by_definition(text, v.text[i], cmds, n_cmds);
                if (ok != (z[i] != -INFINITY))
                    fail_msg("trial %d step %d: token '%s' after [%s]: filter %s, definition %s", trial, step,
                             v.text[i], text, z[i] != -INFINITY ? "allows" : "forbids", ok ? "allows" : "forbids");
            }
            /* sample the argmax of the allowed logits */
            int best = -1;
            for (int i = 0; i < v.n; i++)
                if (z[i] != -INFINITY && (best < 0 || z[i] > z[best])) best = i;
            assert_true(best >= 0);
            out[n_out++] = best;
            strncat(text, v.text[best], sizeof text - strlen(text) - 1);
            const char *a = action_text(text);
            if (a && strstr(a, "</action>")) break;
        }
        const char *a = action_text(text);
        if (a && strstr(a, "</action>")) {
            size_t len = (size_t)(strstr(a, "</action>") - a);
            bool found = false;
            for (int c = 0; c < n_cmds; c++) found |= strlen(cmds[c]) == len && !strncmp(cmds[c], a, len);
            if (!found) fail_msg("trial %d: action [%.*s] is not admissible (text [%s])", trial, (int)len, a, text);
            finished++;
        }
        check_recorded_rows(f, out, n_out, stride, false);
        hp_action_filter_free(f);
    }
    assert_true(finished > 100);
    hp_vocab_bytes_free(vb);
}

/* The HiPER shape: is s a prefix of some "<switch>(KEEP|SWITCH)</switch>\n<subgoal>FREE</subgoal>\n<action>CMD
 * </action>..." (FREE without '<'), or one whole followed by anything? */
static bool shaped_viable(const char *s, const char *const *cmds, int n) {
    const char *heads[2] = {"<switch>KEEP</switch>\n<subgoal>", "<switch>SWITCH</switch>\n<subgoal>"};
    const char *mid = "</subgoal>\n<action>";
    for (int h = 0; h < 2; h++) {
        size_t lh = strlen(heads[h]), ls = strlen(s);
        if (ls <= lh) {
            if (!strncmp(heads[h], s, ls)) return true;
            continue;
        }
        if (strncmp(heads[h], s, lh)) continue;
        const char *after = strchr(s + lh, '<');
        if (!after) return true;
        size_t la = strlen(after), lm = strlen(mid);
        if (la <= lm) return !strncmp(mid, after, la);
        if (strncmp(mid, after, lm)) return false;
        const char *a = after + lm;
        for (int c = 0; c < n; c++) {
            char t[128];
            snprintf(t, sizeof t, "%s</action>", cmds[c]);
            size_t lt = strlen(t), l = strlen(a), k = l < lt ? l : lt;
            if (!strncmp(a, t, k)) return true;
        }
        return false;
    }
    return false;
}

/* The definition with a shape: once the action is whole everything is free; before, a token without
 * bytes is forbidden and one with bytes is allowed when the text stays viable. */
static bool shaped_allowed(const char *prefix_text, const char *tok, const char *const *cmds, int n) {
    const char *a0 = action_text(prefix_text);
    if (a0 && finished_action(a0, cmds, n)) return true;
    if (!tok[0]) return false;
    char buf[512];
    snprintf(buf, sizeof buf, "%s%s", prefix_text, tok);
    return shaped_viable(buf, cmds, n);
}

/* Constrained format: the shape of the HiPER format comes from its response template; random sampling
 * under the filter gives responses that always parse (switch word, subgoal, admissible action), and every
 * allowed set equals the definition above. */
static void test_shaped_sampling_parses(void **state) {
    (void)state;
    vocab v;
    make_vocab(&v);
    const char *extra[] = {"<switch>", "KEEP", "SWITCH", "</switch>\n<subgoal>", "</switch>", "\n<subgoal>find",
                           "</subgoal>\n<action>go", "</subgoal>", "\n", "<sub", "KEEP</switch>\n", " cup"};
    int first_extra = v.n;
    for (size_t i = 0; i < sizeof extra / sizeof extra[0]; i++) snprintf(v.text[v.n++], 24, "%s", extra[i]);
    hp_vocab_bytes *vb = hp_vocab_bytes_new(bytes_of, &v, v.n);
    hp_response_shape *sh = hp_response_shape_new(HP_FMT_HIPER);
    assert_int_equal(sh->n_heads, 2);
    assert_string_equal(sh->heads[0], "<switch>SWITCH</switch>\n<subgoal>");
    assert_string_equal(sh->heads[1], "<switch>KEEP</switch>\n<subgoal>");
    assert_string_equal(sh->mid, "</subgoal>\n<action>");
    const char *cmds[] = {"go to cabinet 1", "go to cabinet 12", "take cup 2 from cabinet 1", "look"};
    int n_cmds = 4;
    hp_rng r;
    hp_rng_seed(&r, 6, 0);
    size_t stride = ((size_t)v.n + 7) / 8;
    int finished = 0, keeps = 0;
    for (int trial = 0; trial < 300; trial++) {
        hp_action_filter *f = hp_action_filter_new_shaped(vb, cmds, n_cmds, sh);
        int32_t out[200];
        int n_out = 0;
        char text[1024] = "";
        float z[NV];
        for (int step = 0; step < 150; step++) {
            for (int i = 0; i < v.n; i++) z[i] = (float)hp_rng_normal(&r);
            for (int i = first_extra; i < v.n; i++) z[i] += 2.0f; /* the format's pieces, so responses end */
            z['<' - 32] += 1.0f;
            hp_action_filter_apply(f, out, n_out, z, v.n);
            for (int i = 0; i < v.n; i++) {
                bool ok = shaped_allowed(text, v.text[i], cmds, n_cmds);
                if (ok != (z[i] != -INFINITY))
                    fail_msg("trial %d step %d: token '%s' after [%s]: filter %s, definition %s", trial, step,
                             v.text[i], text, z[i] != -INFINITY ? "allows" : "forbids", ok ? "allows" : "forbids");
            }
            int best = -1;
            for (int i = 0; i < v.n; i++)
                if (z[i] != -INFINITY && (best < 0 || z[i] > z[best])) best = i;
            assert_true(best >= 0);
            out[n_out++] = best;
            strncat(text, v.text[best], sizeof text - strlen(text) - 1);
            const char *a = action_text(text);
            if (a && finished_action(a, cmds, n_cmds)) break;
        }
        const char *a = action_text(text);
        if (a && finished_action(a, cmds, n_cmds)) {
            finished++;
            keeps += !strncmp(text, "<switch>KEEP</switch>", 21);
            assert_true(!strncmp(text, "<switch>KEEP</switch>\n<subgoal>", 31) ||
                        !strncmp(text, "<switch>SWITCH</switch>\n<subgoal>", 33));
            const char *sub = strstr(text, "<subgoal>") + 9, *end = strstr(text, "</subgoal>\n<action>");
            assert_non_null(end);
            assert_true(end >= sub);
            assert_null(memchr(sub, '<', (size_t)(end - sub)));
        }
        /* sampling stops at the token that finishes the action: every position before it was constrained */
        check_recorded_rows(f, out, n_out, stride, true);
        hp_action_filter_free(f);
    }
    assert_true(finished > 200);
    assert_true(keeps > 20 && keeps < finished - 20);
    hp_response_shape_free(sh);
    hp_vocab_bytes_free(vb);
}

int main(void) {
    const struct CMUnitTest tests[] = {cmocka_unit_test(test_sampling_stays_admissible),
                                       cmocka_unit_test(test_shaped_sampling_parses)};
    return cmocka_run_group_tests(tests, NULL, NULL);
}
