/* The action/response parsers: hp_project (every format and family) on the response as text, and
 * hp_spans_parse + hp_spans_assign on the same bytes cut into tokens (the first byte gives the token
 * length pattern), with per-token bytes as the tokenizer would hand them over. */
#include "fuzz.h"

#include "hiper/project.h"
#include "hiper/spans.h"

typedef struct {
    const char *base;
    const size_t *start; /* token i is base[start[i] .. start[i+1]) */
    int32_t n;
} tokens;

static const char *token_bytes(const void *ctx, int32_t id, size_t *len) {
    const tokens *t = ctx;
    if (id < 0 || id >= t->n) return NULL;
    *len = t->start[id + 1] - t->start[id];
    return t->base + t->start[id];
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (size < 1 || size > 1 << 14) return 0;
    uint8_t pattern = data[0];
    char *text = fuzz_cstr(data + 1, size - 1);
    for (int fmt = 0; fmt < 3; fmt++)
        for (int fam = 0; fam < 3; fam++) {
            hp_proj p;
            hp_project((hp_fmt)fmt, (hp_env_family)fam, text, &p);
            FUZZ_CHECK(p.action && p.switch_word && p.subgoal);
            hp_proj_next_subgoal(&p, "previous", fam == 1);
            hp_proj_free(&p);
        }
    /* tokens of 1..8 bytes, lengths cycling through the pattern byte's bits */
    size_t len = size - 1, *start = hp_xmalloc((len + 2) * sizeof *start);
    int32_t n = 0;
    for (size_t pos = 0; pos < len; n++) {
        start[n] = pos;
        size_t k = 1 + ((pattern >> (n % 6)) & 7);
        pos = pos + k < len ? pos + k : len;
    }
    start[n] = len;
    tokens t = {text, start, n};
    int32_t *ids = hp_xmalloc((size_t)(n ? n : 1) * sizeof *ids);
    for (int32_t i = 0; i < n; i++) ids[i] = i;
    hp_spans s;
    hp_err err = {{0}};
    if (hp_spans_parse(ids, n, token_bytes, &t, &s, &err) == HP_OK) {
        FUZZ_CHECK(s.n == n && s.tok_start[n] == s.text_len);
        FUZZ_CHECK(s.action.begin <= s.action.end && s.action.end <= n);
        FUZZ_CHECK(s.subgoal.begin <= s.subgoal.end && s.subgoal.end <= n);
        FUZZ_CHECK(s.sw.begin <= s.sw.end && s.sw.end <= n);
        FUZZ_CHECK(s.v_low_pos >= 0 && (n == 0 || s.v_low_pos < n || s.v_low_pos == 0));
        double *adv = hp_xmalloc((size_t)(n ? n : 1) * sizeof *adv);
        uint8_t *mask = hp_xmalloc((size_t)(n ? n : 1));
        hp_spans_assign(&s, pattern & 1, pattern & 2, 1.0, 2.0, 3.0, adv, mask);
        free(adv);
        free(mask);
        hp_spans_free(&s);
    }
    free(ids);
    free(start);
    free(text);
    return 0;
}
