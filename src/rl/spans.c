/* spans.c — token spans of <switch>/<subgoal>/<action> in one response, the switch decision, the
 * per-token loss mask and the critic read positions (hiper.md §3.3, §4.8, §5.2; see spans.h). */
#include "hiper/spans.h"

#include "hiper/advantage.h"

#include <stdlib.h>
#include <string.h>

/* Append bytes to b, replacing each maximal invalid UTF-8 subpart by U+FFFD (Python's
 * decode(errors="replace"), which is what decoding one token at a time produces). */
static void append_utf8_replace(hp_buf *b, const unsigned char *s, size_t n) {
    static const char fffd[] = "\xef\xbf\xbd";
    size_t i = 0;
    while (i < n) {
        unsigned char c = s[i];
        if (c < 0x80) {
            hp_buf_putc(b, (char)c);
            i++;
            continue;
        }
        size_t need;
        unsigned char lo = 0x80, hi = 0xbf;
        if (c >= 0xc2 && c <= 0xdf) need = 1;
        else if (c >= 0xe0 && c <= 0xef) {
            need = 2;
            if (c == 0xe0) lo = 0xa0;
            if (c == 0xed) hi = 0x9f;
        } else if (c >= 0xf0 && c <= 0xf4) {
            need = 3;
            if (c == 0xf0) lo = 0x90;
            if (c == 0xf4) hi = 0x8f;
        } else {
            hp_buf_append(b, fffd, 3);
            i++;
            continue;
        }
        size_t k = 1;
        while (k <= need && i + k < n) {
            unsigned char d = s[i + k];
            unsigned char l = k == 1 ? lo : 0x80, h = k == 1 ? hi : 0xbf;
            if (d < l || d > h) break;
            k++;
        }
        if (k == need + 1) hp_buf_append(b, s + i, k);
        else hp_buf_append(b, fffd, 3);
        i += k;
    }
}

/* First occurrence of needle in text[from..len), or −1. */
static long find(const char *text, size_t len, size_t from, const char *needle) {
    size_t m = strlen(needle);
    if (m > len) return -1;
    for (size_t i = from; i + m <= len; i++)
        if (text[i] == needle[0] && !memcmp(text + i, needle, m)) return (long)i;
    return -1;
}

/* The authors' tag search: the first opening tag, then the earliest of the closing variants
 * searched from the end of the opening tag. Returns false when either is missing. */
typedef struct tag_span {
    size_t open, content, close, end; /* byte offsets: <t> at open, content at content, close tag
                                         variant at close, end right after its ">" */
} tag_span;

static bool find_tag(const char *text, size_t len, const char *name, bool variants, tag_span *sp) {
    char open_tag[32], close_tag[32];
    snprintf(open_tag, sizeof open_tag, "<%s>", name);
    snprintf(close_tag, sizeof close_tag, "</%s>", name);
    long o = find(text, len, 0, open_tag);
    if (o < 0) return false;
    size_t content = (size_t)o + strlen(open_tag);
    long c = find(text, len, content, close_tag);
    if (c < 0) return false;
    size_t close = (size_t)c;
    /* "]</t>", ".</t>" and ")</t>" start one byte earlier and end at the same ">"; the "\n"
     * variants start where their shorter twin does and lose the tie. */
    if (variants && close > content && (text[close - 1] == ']' || text[close - 1] == '.' || text[close - 1] == ')'))
        close--;
    sp->open = (size_t)o;
    sp->content = content;
    sp->close = close;
    sp->end = (size_t)c + strlen(close_tag);
    return true;
}

/* First token whose end is after byte s (−1 if none). */
static int32_t token_start_at(const hp_spans *sp, size_t s) {
    for (int32_t j = 0; j < sp->n; j++)
        if (sp->tok_start[j + 1] > s) return j;
    return -1;
}

/* First token starting at or after byte e (n if none). */
static int32_t token_end_at(const hp_spans *sp, size_t e) {
    for (int32_t j = 0; j < sp->n; j++)
        if (sp->tok_start[j] >= e) return j;
    return sp->n;
}

static bool token_span(const hp_spans *sp, const tag_span *t, hp_span *out) {
    int32_t b = token_start_at(sp, t->open);
    if (b < 0) return false;
    int32_t e = token_end_at(sp, t->end);
    if (b >= e) return false;
    out->begin = b;
    out->end = e;
    return true;
}

static char *strip_copy(const char *s, size_t n) {
    size_t b = 0, e = n;
    while (b < e && (s[b] == ' ' || (s[b] >= '\t' && s[b] <= '\r'))) b++;
    while (e > b && (s[e - 1] == ' ' || (s[e - 1] >= '\t' && s[e - 1] <= '\r'))) e--;
    return hp_xstrndup(s + b, e - b);
}

int hp_spans_parse(const int32_t *ids, int32_t n, hp_token_bytes_fn token_bytes, const void *ctx,
                   hp_spans *out, hp_err *err) {
    memset(out, 0, sizeof *out);
    if (n < 0) return hp_fail(err, "spans: negative token count %d", (int)n);
    hp_buf text = {0};
    out->tok_start = hp_xmalloc(((size_t)n + 1) * sizeof *out->tok_start);
    for (int32_t j = 0; j < n; j++) {
        size_t len = 0;
        const char *bytes = token_bytes(ctx, ids[j], &len);
        if (!bytes) {
            hp_buf_free(&text);
            free(out->tok_start);
            out->tok_start = NULL;
            return hp_fail(err, "spans: token %d (position %d) has no bytes", (int)ids[j], (int)j);
        }
        out->tok_start[j] = text.len;
        append_utf8_replace(&text, (const unsigned char *)bytes, len);
    }
    out->tok_start[n] = text.len;
    out->n = n;
    out->text_len = text.len;
    out->text = hp_buf_take(&text);
    const char *t = out->text;
    size_t len = out->text_len;

    tag_span a, g, w;
    out->has_action = find_tag(t, len, "action", true, &a) && token_span(out, &a, &out->action);
    bool sub_found = find_tag(t, len, "subgoal", true, &g);
    out->has_subgoal = sub_found && token_span(out, &g, &out->subgoal);
    bool sw_found = find_tag(t, len, "switch", false, &w);
    out->has_switch = sw_found && token_span(out, &w, &out->sw);
    if (!out->has_action) out->action = (hp_span){0, 0};
    if (!out->has_subgoal) out->subgoal = (hp_span){0, 0};
    if (!out->has_switch) out->sw = (hp_span){0, 0};

    out->switch_word = sw_found ? hp_xstrndup(t + w.content, w.close - w.content) : NULL;
    out->switch_is_keep = hp_adv_switch_is_keep(out->switch_word);
    if (out->has_subgoal) {
        size_t b = out->tok_start[out->subgoal.begin], e = out->tok_start[out->subgoal.end];
        out->subgoal_key = hp_xstrndup(t + b, e - b);
        out->subgoal_text = strip_copy(t + g.content, g.close - g.content);
    }

    /* Read positions (§5.2). */
    out->v_high_pos = 0;
    out->v_term_pos = 0;
    out->v_low_pos = 0;
    int32_t p = sub_found ? token_end_at(out, g.end) : n;
    if (p >= n) p = sw_found ? token_end_at(out, w.end) : n;
    if (p < n) out->v_low_pos = p;
    return HP_OK;
}

void hp_spans_free(hp_spans *s) {
    free(s->text);
    free(s->tok_start);
    free(s->switch_word);
    free(s->subgoal_key);
    free(s->subgoal_text);
    memset(s, 0, sizeof *s);
}

void hp_spans_assign_rest(const hp_spans *s, double adv_low, double *adv, uint8_t *mask) {
    for (int32_t j = 0; j < s->n; j++)
        if (mask[j] == 0) {
            mask[j] = HP_SPAN_ACTION;
            if (adv) adv[j] = adv_low;
        }
}

void hp_spans_assign(const hp_spans *s, bool boundary, bool has_term, double adv_low, double adv_high,
                     double adv_term, double *adv, uint8_t *mask) {
    for (int32_t j = 0; j < s->n; j++) {
        uint8_t m = 0;
        if (!s->has_action || (j >= s->action.begin && j < s->action.end)) m |= HP_SPAN_ACTION;
        if (boundary && s->has_subgoal && j >= s->subgoal.begin && j < s->subgoal.end) m |= HP_SPAN_SUBGOAL;
        if (has_term && s->has_switch && j >= s->sw.begin && j < s->sw.end) m |= HP_SPAN_SWITCH;
        if (mask) mask[j] = m;
        if (adv)
            adv[j] = ((m & HP_SPAN_ACTION) ? adv_low : 0.0) + ((m & HP_SPAN_SUBGOAL) ? adv_high : 0.0) +
                     ((m & HP_SPAN_SWITCH) ? adv_term : 0.0);
    }
}
