/* tok_internal.h — the loaded tokenizer's layout, shared by the files of src/tok only. */
#ifndef HIPER_TOK_INTERNAL_H
#define HIPER_TOK_INTERNAL_H

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>

#include "hiper/tok.h"

/* ---- hash maps (open addressing, power-of-two capacity) ---- */

/* String → id. Keys point into memory owned elsewhere. */
typedef struct hp_strmap {
    const char **keys;
    uint32_t *klens;
    int32_t *vals;
    size_t cap; /* 0 or a power of two */
    size_t len;
} hp_strmap;

void hp_strmap_init(hp_strmap *m, size_t expect);
void hp_strmap_free(hp_strmap *m);
/* Insert or overwrite; key must outlive the map. */
void hp_strmap_put(hp_strmap *m, const char *key, size_t klen, int32_t val);
int32_t hp_strmap_get(const hp_strmap *m, const char *key, size_t klen); /* -1 if absent */

/* Pair of ids → (rank, merged id). */
typedef struct hp_pair_entry {
    uint64_t key; /* (a << 32 | b) + 1, 0 = empty */
    int32_t rank;
    int32_t merged;
} hp_pair_entry;

typedef struct hp_pairmap {
    hp_pair_entry *e; /* one array: a lookup touches one cache line */
    size_t cap;
    size_t len;
} hp_pairmap;

void hp_pairmap_init(hp_pairmap *m, size_t expect);
void hp_pairmap_free(hp_pairmap *m);
/* Insert or overwrite (a repeated merge takes its last rank, as in Hugging Face); true if new. */
bool hp_pairmap_add(hp_pairmap *m, int32_t a, int32_t b, int32_t rank, int32_t merged);
/* Rank of the pair or -1; *merged receives the id it merges into. */
int32_t hp_pairmap_get(const hp_pairmap *m, int32_t a, int32_t b, int32_t *merged);

static inline uint64_t hp_tok_mix64(uint64_t x) {
    x ^= x >> 33;
    x *= 0xff51afd7ed558ccdULL;
    x ^= x >> 33;
    x *= 0xc4ceb9fe1a85ec53ULL;
    x ^= x >> 33;
    return x;
}

/* ---- byte-level alphabet ---- */

/* The GPT-2 byte → code point table and its inverse (-1 for a code point that stands for no byte). */
uint32_t hp_bytelevel_cp(uint8_t byte);
int hp_bytelevel_byte(uint32_t cp);
/* Append the UTF-8 of the byte-level form of bytes[0..n). */
void hp_bytelevel_encode(const uint8_t *bytes, size_t n, hp_buf *out);
/* Decode a token string as the ByteLevel decoder does: the bytes its characters stand for, or its own
 * UTF-8 when one character is outside the table. Appends to out. */
void hp_bytelevel_decode_token(const char *s, size_t n, hp_buf *out);

/* ---- UTF-8 ---- */

#define HP_UTF8_BAD 0xFFFFFFFFu
/* Decode one character at s[0..n), n > 0. Returns the bytes consumed: the whole sequence when valid
 * (*cp its code point), else the maximal invalid subpart (*cp = HP_UTF8_BAD), with *incomplete set when
 * that subpart is a valid prefix cut short by the end of the buffer. */
size_t hp_utf8_seq(const uint8_t *s, size_t n, uint32_t *cp, bool *incomplete);
/* Append s[0..n) with invalid sequences replaced by U+FFFD (Rust's from_utf8_lossy: one replacement
 * per maximal invalid subpart). */
void hp_utf8_lossy(const char *s, size_t n, hp_buf *out);
/* Byte offset of the first invalid UTF-8 byte, or n when s is valid. */
size_t hp_utf8_check(const char *s, size_t n);
void hp_utf8_put(hp_buf *b, uint32_t cp);
/* True when NFC(s) == s is certain without normalising (s valid UTF-8): every character is one that
 * NFC never changes nor combines with its neighbours. */
bool hp_nfc_stable(const char *s, size_t n);

/* ---- the tokenizer ---- */

typedef struct hp_tok_added {
    char *content;
    size_t len;
    int32_t id;
    bool special;
} hp_tok_added;

struct hp_tok {
    char *path;
    /* id → token string (as in the file) and the bytes it stands for */
    int32_t n_ids;
    char **tok_str;
    char **tok_bytes;
    uint32_t *tok_nbytes;
    bool *is_special;
    bool *is_added;
    hp_strmap str_to_id;    /* model vocab and added tokens */
    int32_t byte_id[256];   /* id of the single-byte token for each byte (-1 if missing) */
    hp_pairmap merges;
    /* added tokens, sorted by content; first_byte_any[b] says whether one starts with b */
    hp_tok_added *added;
    int n_added;
    bool added_first_byte[256];
    bool nfc;
    pcre2_code *split_re; /* NULL: no Split pre-tokenizer */
    int32_t im_end, eos;
};

/* Compile a Split pattern (Oniguruma syntax as in tokenizer.json) for PCRE2, JIT included; what names
 * the file in the error message. */
pcre2_code *hp_tok_regex_compile(const char *pattern, bool literal, const char *what, hp_err *err);

/* BPE of one pre-token given as raw bytes: appends the ids to out. */
int hp_bpe_word(const hp_tok *tok, const uint8_t *bytes, size_t n, hp_ids *out, hp_err *err);

#endif /* HIPER_TOK_INTERNAL_H */
