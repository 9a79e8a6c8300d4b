/* Decoding: the bytes of each token (ByteLevel-decoded at load time) are concatenated and invalid
 * UTF-8 becomes U+FFFD, exactly as Hugging Face's ByteLevel decoder followed by from_utf8_lossy.
 * The streaming decoder holds back a trailing incomplete character until its last byte arrives. */
#include "tok_internal.h"

#include <string.h>

void hp_tok_decode_buf(const hp_tok *t, const int32_t *ids, size_t n, bool skip_special, hp_buf *out) {
    hp_buf raw = {0};
    for (size_t i = 0; i < n; i++) {
        int32_t id = ids[i];
        if (id < 0 || id >= t->n_ids || !t->tok_bytes[id]) continue; /* unknown ids are dropped, as in HF */
        if (skip_special && t->is_special[id]) continue;
        hp_buf_append(&raw, t->tok_bytes[id], t->tok_nbytes[id]);
    }
    hp_utf8_lossy(raw.data ? raw.data : "", raw.len, out);
    hp_buf_free(&raw);
}

char *hp_tok_decode_ex(const hp_tok *t, const int32_t *ids, size_t n, bool skip_special) {
    hp_buf out = {0};
    hp_tok_decode_buf(t, ids, n, skip_special, &out);
    return hp_buf_take(&out);
}

char *hp_tok_decode(const hp_tok *t, const int32_t *ids, size_t n) { return hp_tok_decode_ex(t, ids, n, false); }

void hp_tok_stream_init(hp_tok_stream *s, const hp_tok *tok) {
    s->tok = tok;
    memset(&s->pending, 0, sizeof s->pending);
}

/* Where the trailing incomplete character of b starts (b->len when there is none). */
static size_t complete_prefix(const hp_buf *b) {
    const uint8_t *u = (const uint8_t *)b->data;
    size_t i = 0;
    while (i < b->len) {
        uint32_t cp;
        bool inc;
        size_t k = hp_utf8_seq(u + i, b->len - i, &cp, &inc);
        if (inc) return i;
        i += k;
    }
    return b->len;
}

void hp_tok_stream_put(hp_tok_stream *s, int32_t id, hp_buf *out) {
    size_t n;
    const char *bytes = hp_tok_token_bytes(s->tok, id, &n);
    if (!bytes) return;
    hp_buf_append(&s->pending, bytes, n);
    size_t cut = complete_prefix(&s->pending);
    if (!cut) return;
    hp_utf8_lossy(s->pending.data, cut, out);
    memmove(s->pending.data, s->pending.data + cut, s->pending.len - cut);
    s->pending.len -= cut;
    s->pending.data[s->pending.len] = '\0';
}

void hp_tok_stream_finish(hp_tok_stream *s, hp_buf *out) {
    if (s->pending.len) hp_utf8_lossy(s->pending.data, s->pending.len, out);
    hp_buf_clear(&s->pending);
}

void hp_tok_stream_free(hp_tok_stream *s) { hp_buf_free(&s->pending); }
