/* Encoding: added tokens are cut out of the raw text first (leftmost-longest), each stretch between
 * them is NFC-normalised (when the file asks for it), split by the pre-tokenizer regex into words, and
 * each word goes through BPE. Long texts keep a per-call cache of words already encoded. */
#include "tok_internal.h"

#include <stdlib.h>
#include <string.h>
#include <utf8proc.h>

/* ---- per-call word cache ---- */

typedef struct {
    uint64_t *hash;   /* 0 = empty slot */
    uint32_t *koff, *klen, *ioff, *ilen;
    size_t cap, len;
    hp_buf keys;
    hp_ids ids;
} word_cache;

static void cache_init(word_cache *c) {
    memset(c, 0, sizeof *c);
    c->cap = 4096;
    c->hash = hp_xcalloc(c->cap, sizeof *c->hash);
    c->koff = hp_xmalloc(c->cap * sizeof *c->koff);
    c->klen = hp_xmalloc(c->cap * sizeof *c->klen);
    c->ioff = hp_xmalloc(c->cap * sizeof *c->ioff);
    c->ilen = hp_xmalloc(c->cap * sizeof *c->ilen);
}

static void cache_free(word_cache *c) {
    free(c->hash);
    free(c->koff);
    free(c->klen);
    free(c->ioff);
    free(c->ilen);
    hp_buf_free(&c->keys);
    hp_ids_free(&c->ids);
}

static uint64_t word_hash(const uint8_t *w, size_t n) { return hp_hash64(w, n, 0x776f7264) | 1; }

/* Slot of the word (found or the empty one where it goes). */
static size_t cache_slot(const word_cache *c, const uint8_t *w, size_t n, uint64_t h) {
    size_t mask = c->cap - 1;
    for (size_t i = h & mask;; i = (i + 1) & mask) {
        if (!c->hash[i]) return i;
        if (c->hash[i] == h && c->klen[i] == n && !memcmp(c->keys.data + c->koff[i], w, n)) return i;
    }
}

static void cache_grow(word_cache *c) {
    word_cache n = *c;
    n.cap = c->cap * 2;
    n.hash = hp_xcalloc(n.cap, sizeof *n.hash);
    n.koff = hp_xmalloc(n.cap * sizeof *n.koff);
    n.klen = hp_xmalloc(n.cap * sizeof *n.klen);
    n.ioff = hp_xmalloc(n.cap * sizeof *n.ioff);
    n.ilen = hp_xmalloc(n.cap * sizeof *n.ilen);
    for (size_t i = 0; i < c->cap; i++) {
        if (!c->hash[i]) continue;
        size_t j = cache_slot(&n, (const uint8_t *)c->keys.data + c->koff[i], c->klen[i], c->hash[i]);
        n.hash[j] = c->hash[i];
        n.koff[j] = c->koff[i], n.klen[j] = c->klen[i], n.ioff[j] = c->ioff[i], n.ilen[j] = c->ilen[i];
    }
    free(c->hash);
    free(c->koff);
    free(c->klen);
    free(c->ioff);
    free(c->ilen);
    *c = n;
}

/* Encode one word through the cache (words longer than 64 bytes bypass it). */
static int word_ids(const hp_tok *t, word_cache *c, const uint8_t *w, size_t n, hp_ids *out, hp_err *err) {
    if (!c || n > 64) return hp_bpe_word(t, w, n, out, err);
    uint64_t h = word_hash(w, n);
    size_t i = cache_slot(c, w, n, h);
    if (c->hash[i]) {
        hp_ids_append(out, c->ids.data + c->ioff[i], c->ilen[i]);
        return HP_OK;
    }
    size_t before = out->len;
    if (hp_bpe_word(t, w, n, out, err)) return HP_FAIL;
    c->hash[i] = h;
    c->koff[i] = (uint32_t)c->keys.len;
    c->klen[i] = (uint32_t)n;
    hp_buf_append(&c->keys, w, n);
    c->ioff[i] = (uint32_t)c->ids.len;
    c->ilen[i] = (uint32_t)(out->len - before);
    hp_ids_append(&c->ids, out->data + before, out->len - before);
    if (++c->len * 2 > c->cap) cache_grow(c);
    return HP_OK;
}

/* ---- pre-tokenization ---- */

static int split_words(const hp_tok *t, const char *s, size_t n, word_cache *c, hp_ids *out, hp_err *err) {
    if (!t->split_re) return word_ids(t, c, (const uint8_t *)s, n, out, err);
    pcre2_match_data *md = pcre2_match_data_create_from_pattern(t->split_re, NULL);
    size_t pos = 0, prev = 0; /* prev: end of the last match (a gap before the next match is a word too) */
    int rc = HP_OK;
    while (pos < n) {
        int m = pcre2_match(t->split_re, (PCRE2_SPTR)s, n, pos, PCRE2_NO_UTF_CHECK, md, NULL);
        if (m == PCRE2_ERROR_JIT_STACKLIMIT)
            m = pcre2_match(t->split_re, (PCRE2_SPTR)s, n, pos, PCRE2_NO_UTF_CHECK | PCRE2_NO_JIT, md, NULL);
        if (m == PCRE2_ERROR_NOMATCH) break;
        if (m < 0) {
            PCRE2_UCHAR msg[256];
            pcre2_get_error_message(m, msg, sizeof msg);
            rc = hp_fail(err, "%s: pre-tokenizer regex failed at byte %zu: %s", t->path, pos, (const char *)msg);
            break;
        }
        PCRE2_SIZE *ov = pcre2_get_ovector_pointer(md);
        size_t ms = ov[0], me = ov[1];
        if (me == ms) { /* an empty match: step over one character, which stays in the gap */
            pos = ms + 1;
            while (pos < n && ((uint8_t)s[pos] & 0xC0) == 0x80) pos++;
            continue;
        }
        if (ms > prev && (rc = word_ids(t, c, (const uint8_t *)s + prev, ms - prev, out, err))) break;
        if ((rc = word_ids(t, c, (const uint8_t *)s + ms, me - ms, out, err))) break;
        prev = pos = me;
    }
    if (!rc && prev < n) rc = word_ids(t, c, (const uint8_t *)s + prev, n - prev, out, err);
    pcre2_match_data_free(md);
    return rc;
}

/* Characters that NFC leaves alone whatever surrounds them: NFC_Quick_Check=Yes and canonical combining
 * class 0 (so nothing reorders or composes with them as the second character). Conservative blocks:
 * below U+0300 (Latin, IPA), Cyrillic letters, general punctuation without the U+2000/U+2001
 * singletons, superscripts and currency, number forms, arrows, mathematical operators, box drawing to
 * dingbats, CJK symbols and kana without the combining marks, CJK ideographs, Hangul syllables,
 * fullwidth forms, emoji. Anything else sends the whole stretch through utf8proc. */
static bool nfc_safe_cp(uint32_t c) {
    return c < 0x300 || (c >= 0x400 && c <= 0x482) || (c >= 0x48A && c <= 0x4FF) || (c >= 0x2002 && c <= 0x206F) ||
           (c >= 0x2070 && c <= 0x20CF) || (c >= 0x2150 && c <= 0x22FF) || (c >= 0x2500 && c <= 0x27BF) ||
           (c >= 0x3000 && c <= 0x3029) || (c >= 0x3030 && c <= 0x3098) || (c >= 0x309B && c <= 0x30FF) ||
           (c >= 0x4E00 && c <= 0x9FFF) || (c >= 0xAC00 && c <= 0xD7A3) || (c >= 0xFF00 && c <= 0xFFEF) ||
           (c >= 0x1F000 && c <= 0x1FAFF);
}

bool hp_nfc_stable(const char *s, size_t n) {
    const uint8_t *u = (const uint8_t *)s;
    for (size_t i = 0; i < n;) {
        if (u[i] < 0x80) {
            i++;
            continue;
        }
        uint32_t cp;
        bool inc;
        i += hp_utf8_seq(u + i, n - i, &cp, &inc);
        if (!nfc_safe_cp(cp)) return false;
    }
    return true;
}

/* One stretch of text without added tokens: normalise, split, BPE. */
static int encode_plain(const hp_tok *t, const char *s, size_t n, word_cache *c, hp_ids *out, hp_err *err) {
    if (!n) return HP_OK;
    if (!t->nfc || hp_nfc_stable(s, n)) return split_words(t, s, n, c, out, err);
    utf8proc_uint8_t *norm = NULL;
    utf8proc_ssize_t m = utf8proc_map((const utf8proc_uint8_t *)s, (utf8proc_ssize_t)n, &norm,
                                      UTF8PROC_STABLE | UTF8PROC_COMPOSE);
    if (m < 0) {
        free(norm);
        return hp_fail(err, "NFC normalisation failed: %s", utf8proc_errmsg(m));
    }
    int rc = split_words(t, (const char *)norm, (size_t)m, c, out, err);
    free(norm);
    return rc;
}

/* The longest added token that starts at s[0..n), or NULL. */
static const hp_tok_added *match_added(const hp_tok *t, const char *s, size_t n) {
    const hp_tok_added *best = NULL;
    for (int i = 0; i < t->n_added; i++) {
        const hp_tok_added *a = &t->added[i];
        if (a->content[0] != s[0] || a->len > n || (best && a->len <= best->len)) continue;
        if (!memcmp(a->content, s, a->len)) best = a;
    }
    return best;
}

int hp_tok_encode(const hp_tok *t, const char *text, size_t len, hp_ids *out, hp_err *err) {
    size_t bad = hp_utf8_check(text, len);
    if (bad < len) return hp_fail(err, "tokenizer: the text is not valid UTF-8 (byte %zu)", bad);
    word_cache cache, *c = NULL;
    if (len > 1024) {
        cache_init(&cache);
        c = &cache;
    }
    size_t start = 0, pos = 0;
    int rc = HP_OK;
    while (pos < len) {
        const hp_tok_added *a = t->added_first_byte[(uint8_t)text[pos]] ? match_added(t, text + pos, len - pos) : NULL;
        if (!a) {
            pos++;
            continue;
        }
        if ((rc = encode_plain(t, text + start, pos - start, c, out, err))) break;
        hp_ids_push(out, a->id);
        pos += a->len;
        start = pos;
    }
    if (!rc) rc = encode_plain(t, text + start, len - start, c, out, err);
    if (c) cache_free(c);
    return rc;
}
