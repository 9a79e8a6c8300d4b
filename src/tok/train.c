/* Byte-level BPE training (see hiper/tok.h for the contract).
 *
 * Words are counted once; then each merge step takes the most frequent pair from a lazy max-heap
 * (entries whose count went stale are re-pushed with the true count), rewrites only the words that
 * hold the pair (each pair keeps the list of words it occurs in), and pushes the new pairs formed
 * with the merged symbol. */
#include "tok_internal.h"

#include <cjson/cJSON.h>
#include <stdlib.h>
#include <string.h>
#include <utf8proc.h>

static const char *const qwen2_pattern =
    "(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+";
static const char *const specials[3] = {"<|endoftext|>", "<|im_start|>", "<|im_end|>"};

typedef struct {
    int32_t *sym;
    int32_t n;
    int64_t count;
} word;

typedef struct {
    int32_t a, b;
    int64_t count;
    int32_t *words; /* indices of words the pair has occurred in (may hold stale ones) */
    int32_t n_words, cap_words;
    bool merged, touched;
} pair_stat;

struct hp_bpe_trainer {
    pcre2_code *re;
    char *pattern;
    /* word bytes → index in words */
    hp_buf word_bytes;
    uint32_t *word_off, *word_len;
    word *words;
    size_t n_words, cap_words;
    uint64_t *slot_hash;
    int32_t *slot_word;
    size_t slot_cap;
};

/* ---- counting words ---- */

static uint64_t bytes_hash(const void *p, size_t n) { return hp_hash64(p, n, 0x7472) | 1; }

static size_t word_slot(const hp_bpe_trainer *tr, const char *w, size_t n, uint64_t h) {
    size_t mask = tr->slot_cap - 1;
    for (size_t i = h & mask;; i = (i + 1) & mask) {
        if (!tr->slot_hash[i]) return i;
        int32_t k = tr->slot_word[i];
        if (tr->slot_hash[i] == h && tr->word_len[k] == n && !memcmp(tr->word_bytes.data + tr->word_off[k], w, n)) return i;
    }
}

static void slots_grow(hp_bpe_trainer *tr) {
    uint64_t *oh = tr->slot_hash;
    int32_t *ow = tr->slot_word;
    size_t ocap = tr->slot_cap;
    tr->slot_cap = ocap ? ocap * 2 : 1024;
    tr->slot_hash = hp_xcalloc(tr->slot_cap, sizeof *tr->slot_hash);
    tr->slot_word = hp_xmalloc(tr->slot_cap * sizeof *tr->slot_word);
    for (size_t i = 0; i < ocap; i++) {
        if (!oh[i]) continue;
        int32_t k = ow[i];
        size_t j = word_slot(tr, tr->word_bytes.data + tr->word_off[k], tr->word_len[k], oh[i]);
        tr->slot_hash[j] = oh[i];
        tr->slot_word[j] = k;
    }
    free(oh);
    free(ow);
}

static void count_word(hp_bpe_trainer *tr, const char *w, size_t n) {
    if (!n) return;
    if ((tr->n_words + 1) * 2 > tr->slot_cap) slots_grow(tr);
    uint64_t h = bytes_hash(w, n);
    size_t i = word_slot(tr, w, n, h);
    if (tr->slot_hash[i]) {
        tr->words[tr->slot_word[i]].count++;
        return;
    }
    if (tr->n_words == tr->cap_words) {
        tr->cap_words = tr->cap_words ? tr->cap_words * 2 : 1024;
        tr->words = hp_xrealloc(tr->words, tr->cap_words * sizeof *tr->words);
        tr->word_off = hp_xrealloc(tr->word_off, tr->cap_words * sizeof *tr->word_off);
        tr->word_len = hp_xrealloc(tr->word_len, tr->cap_words * sizeof *tr->word_len);
    }
    size_t k = tr->n_words++;
    tr->word_off[k] = (uint32_t)tr->word_bytes.len;
    tr->word_len[k] = (uint32_t)n;
    hp_buf_append(&tr->word_bytes, w, n);
    tr->words[k] = (word){NULL, 0, 1};
    tr->slot_hash[i] = h;
    tr->slot_word[i] = (int32_t)k;
}

hp_bpe_trainer *hp_bpe_trainer_new(const char *pattern, hp_err *err) {
    if (!pattern) pattern = qwen2_pattern;
    pcre2_code *re = hp_tok_regex_compile(pattern, false, "BPE trainer", err);
    if (!re) return NULL;
    hp_bpe_trainer *tr = hp_xcalloc(1, sizeof *tr);
    tr->re = re;
    tr->pattern = hp_xstrdup(pattern);
    slots_grow(tr);
    return tr;
}

void hp_bpe_trainer_free(hp_bpe_trainer *tr) {
    if (!tr) return;
    pcre2_code_free(tr->re);
    free(tr->pattern);
    hp_buf_free(&tr->word_bytes);
    for (size_t i = 0; i < tr->n_words; i++) free(tr->words[i].sym);
    free(tr->words);
    free(tr->word_off);
    free(tr->word_len);
    free(tr->slot_hash);
    free(tr->slot_word);
    free(tr);
}

static int split_count(hp_bpe_trainer *tr, const char *s, size_t n, pcre2_match_data *md, hp_err *err) {
    size_t pos = 0, prev = 0;
    while (pos < n) {
        int m = pcre2_match(tr->re, (PCRE2_SPTR)s, n, pos, PCRE2_NO_UTF_CHECK, md, NULL);
        if (m == PCRE2_ERROR_JIT_STACKLIMIT)
            m = pcre2_match(tr->re, (PCRE2_SPTR)s, n, pos, PCRE2_NO_UTF_CHECK | PCRE2_NO_JIT, md, NULL);
        if (m == PCRE2_ERROR_NOMATCH) break;
        if (m < 0) return hp_fail(err, "BPE trainer: the pre-tokenizer regex failed (code %d)", m);
        PCRE2_SIZE *ov = pcre2_get_ovector_pointer(md);
        if (ov[1] == ov[0]) {
            pos = ov[0] + 1;
            while (pos < n && ((uint8_t)s[pos] & 0xC0) == 0x80) pos++;
            continue;
        }
        count_word(tr, s + prev, ov[0] - prev);
        count_word(tr, s + ov[0], ov[1] - ov[0]);
        prev = pos = ov[1];
    }
    count_word(tr, s + prev, n - prev);
    return HP_OK;
}

/* The text between special tokens, NFC-normalised, split and counted. */
static int feed_plain(hp_bpe_trainer *tr, const char *s, size_t n, pcre2_match_data *md, hp_err *err) {
    if (!n) return HP_OK;
    if (hp_nfc_stable(s, n)) return split_count(tr, s, n, md, err);
    utf8proc_uint8_t *norm = NULL;
    utf8proc_ssize_t m = utf8proc_map((const utf8proc_uint8_t *)s, (utf8proc_ssize_t)n, &norm, UTF8PROC_STABLE | UTF8PROC_COMPOSE);
    if (m < 0) {
        free(norm);
        return hp_fail(err, "BPE trainer: NFC normalisation failed: %s", utf8proc_errmsg(m));
    }
    int rc = split_count(tr, (const char *)norm, (size_t)m, md, err);
    free(norm);
    return rc;
}

int hp_bpe_trainer_feed(hp_bpe_trainer *tr, const char *text, size_t len, hp_err *err) {
    size_t badpos = hp_utf8_check(text, len);
    if (badpos < len) return hp_fail(err, "BPE trainer: the text is not valid UTF-8 (byte %zu)", badpos);
    pcre2_match_data *md = pcre2_match_data_create_from_pattern(tr->re, NULL);
    size_t start = 0, pos = 0;
    int rc = HP_OK;
    while (pos < len && !rc) {
        size_t sl = 0;
        if (text[pos] == '<')
            for (int k = 0; k < 3 && !sl; k++)
                if (len - pos >= strlen(specials[k]) && !memcmp(text + pos, specials[k], strlen(specials[k]))) sl = strlen(specials[k]);
        if (!sl) {
            pos++;
            continue;
        }
        rc = feed_plain(tr, text + start, pos - start, md, err);
        pos += sl;
        start = pos;
    }
    if (!rc) rc = feed_plain(tr, text + start, len - start, md, err);
    pcre2_match_data_free(md);
    return rc;
}

/* ---- learning merges ---- */

typedef struct {
    /* tokens: raw bytes of each id */
    hp_buf bytes;
    uint32_t *off, *len;
    int32_t n, cap;
    hp_strmap index; /* token bytes → id (keys are stable copies, see learn) */
    /* pairs */
    pair_stat *pairs;
    int32_t n_pairs, cap_pairs;
    uint64_t *pslot_key; /* (a<<32|b)+1 */
    int32_t *pslot_val;
    size_t pslot_cap;
    /* heap of pair indices with the count they had when pushed */
    struct hent {
        int64_t count;
        int32_t pair;
    } *heap;
    size_t n_heap, cap_heap;
    int32_t *touched;
    int32_t n_touched, cap_touched;
} learner;

static int token_cmp(const learner *L, int32_t x, int32_t y) {
    uint32_t nx = L->len[x], ny = L->len[y];
    int c = memcmp(L->bytes.data + L->off[x], L->bytes.data + L->off[y], nx < ny ? nx : ny);
    return c ? c : (nx < ny ? -1 : nx > ny);
}

/* Does heap entry p come before q: higher count, then smaller (left, right) bytes. */
static bool hent_before(const learner *L, struct hent p, struct hent q) {
    if (p.count != q.count) return p.count > q.count;
    const pair_stat *a = &L->pairs[p.pair], *b = &L->pairs[q.pair];
    int c = token_cmp(L, a->a, b->a);
    if (c) return c < 0;
    return token_cmp(L, a->b, b->b) < 0;
}

static void heap_push(learner *L, int32_t pair) {
    if (L->n_heap == L->cap_heap) {
        L->cap_heap = L->cap_heap ? L->cap_heap * 2 : 1024;
        L->heap = hp_xrealloc(L->heap, L->cap_heap * sizeof *L->heap);
    }
    struct hent e = {L->pairs[pair].count, pair};
    size_t i = L->n_heap++;
    while (i > 0) {
        size_t p = (i - 1) / 2;
        if (!hent_before(L, e, L->heap[p])) break;
        L->heap[i] = L->heap[p];
        i = p;
    }
    L->heap[i] = e;
}

static struct hent heap_pop(learner *L) {
    struct hent top = L->heap[0], last = L->heap[--L->n_heap];
    size_t i = 0, n = L->n_heap;
    for (;;) {
        size_t l = 2 * i + 1, r = l + 1, m = i;
        struct hent best = last;
        if (l < n && hent_before(L, L->heap[l], best)) m = l, best = L->heap[l];
        if (r < n && hent_before(L, L->heap[r], best)) m = r;
        if (m == i) break;
        L->heap[i] = L->heap[m];
        i = m;
    }
    if (n > 0) L->heap[i] = last;
    return top;
}

static int32_t add_token(learner *L, const char *b, size_t n) {
    if (L->n == L->cap) {
        L->cap = L->cap ? L->cap * 2 : 1024;
        L->off = hp_xrealloc(L->off, (size_t)L->cap * sizeof *L->off);
        L->len = hp_xrealloc(L->len, (size_t)L->cap * sizeof *L->len);
    }
    L->off[L->n] = (uint32_t)L->bytes.len;
    L->len[L->n] = (uint32_t)n;
    hp_buf_append(&L->bytes, b, n);
    return L->n++;
}

static void pslots_grow(learner *L) {
    uint64_t *ok = L->pslot_key;
    int32_t *ov = L->pslot_val;
    size_t ocap = L->pslot_cap;
    L->pslot_cap = ocap ? ocap * 2 : 4096;
    L->pslot_key = hp_xcalloc(L->pslot_cap, sizeof *L->pslot_key);
    L->pslot_val = hp_xmalloc(L->pslot_cap * sizeof *L->pslot_val);
    size_t mask = L->pslot_cap - 1;
    for (size_t i = 0; i < ocap; i++) {
        if (!ok[i]) continue;
        size_t j = hp_tok_mix64(ok[i]) & mask;
        while (L->pslot_key[j]) j = (j + 1) & mask;
        L->pslot_key[j] = ok[i];
        L->pslot_val[j] = ov[i];
    }
    free(ok);
    free(ov);
}

/* The pair's stats index, created when absent. */
static int32_t pair_index(learner *L, int32_t a, int32_t b) {
    if ((size_t)(L->n_pairs + 1) * 2 > L->pslot_cap) pslots_grow(L);
    uint64_t key = (((uint64_t)(uint32_t)a << 32) | (uint32_t)b) + 1;
    size_t mask = L->pslot_cap - 1;
    size_t i = hp_tok_mix64(key) & mask;
    for (; L->pslot_key[i]; i = (i + 1) & mask)
        if (L->pslot_key[i] == key) return L->pslot_val[i];
    if (L->n_pairs == L->cap_pairs) {
        L->cap_pairs = L->cap_pairs ? L->cap_pairs * 2 : 4096;
        L->pairs = hp_xrealloc(L->pairs, (size_t)L->cap_pairs * sizeof *L->pairs);
    }
    int32_t p = L->n_pairs++;
    L->pairs[p] = (pair_stat){a, b, 0, NULL, 0, 0, false, false};
    L->pslot_key[i] = key;
    L->pslot_val[i] = p;
    return p;
}

static void pair_add(learner *L, int32_t a, int32_t b, int64_t delta, int32_t w, int32_t new_id) {
    int32_t p = pair_index(L, a, b);
    pair_stat *s = &L->pairs[p];
    s->count += delta;
    if (delta <= 0) return;
    if (!s->n_words || s->words[s->n_words - 1] != w) {
        if (s->n_words == s->cap_words) {
            s->cap_words = s->cap_words ? s->cap_words * 2 : 4;
            s->words = hp_xrealloc(s->words, (size_t)s->cap_words * sizeof *s->words);
        }
        s->words[s->n_words++] = w;
    }
    if ((a == new_id || b == new_id) && !s->touched) {
        s->touched = true;
        if (L->n_touched == L->cap_touched) {
            L->cap_touched = L->cap_touched ? L->cap_touched * 2 : 256;
            L->touched = hp_xrealloc(L->touched, (size_t)L->cap_touched * sizeof *L->touched);
        }
        L->touched[L->n_touched++] = p;
    }
}

static void word_pairs(learner *L, const word *wd, int32_t w, int64_t sign, int32_t new_id) {
    for (int32_t i = 0; i + 1 < wd->n; i++) pair_add(L, wd->sym[i], wd->sym[i + 1], sign * wd->count, w, new_id);
}

/* Replace each non-overlapping (a, b), left to right, by m. */
static void word_merge(word *wd, int32_t a, int32_t b, int32_t m) {
    int32_t j = 0;
    for (int32_t i = 0; i < wd->n; i++) {
        if (i + 1 < wd->n && wd->sym[i] == a && wd->sym[i + 1] == b) {
            wd->sym[j++] = m;
            i++;
        } else {
            wd->sym[j++] = wd->sym[i];
        }
    }
    wd->n = j;
}

static int32_t find_token(const learner *L, const char *b, size_t n) {
    return hp_strmap_get(&L->index, b, n);
}

static void learner_free(learner *L) {
    hp_buf_free(&L->bytes);
    free(L->off);
    free(L->len);
    hp_strmap_free(&L->index);
    for (int32_t i = 0; i < L->n_pairs; i++) free(L->pairs[i].words);
    free(L->pairs);
    free(L->pslot_key);
    free(L->pslot_val);
    free(L->heap);
    free(L->touched);
}

typedef struct {
    int32_t a, b;
} merge_rec;

/* Learn; fills merges (caller frees) and leaves the tokens in L. */
static merge_rec *learn(hp_bpe_trainer *tr, learner *L, int32_t n_target, int64_t min_freq, int32_t *n_merges) {
    /* the 256 byte symbols in GPT-2 table order (by code point of their byte-level character) */
    int32_t byte_tok[256];
    for (uint32_t cp = 0, got = 0; got < 256; cp++) {
        int b = hp_bytelevel_byte(cp);
        if (b < 0) continue;
        char c = (char)b;
        byte_tok[b] = add_token(L, &c, 1);
        got++;
    }
    /* token strings are looked up by bytes; the map's keys point into L->bytes, which moves as it
     * grows, so the map is keyed on a separate stable copy per token */
    hp_strmap_init(&L->index, (size_t)n_target);
    char **keys = hp_xcalloc((size_t)n_target + 256, sizeof *keys);
    for (int32_t i = 0; i < L->n; i++) {
        keys[i] = hp_xstrndup(L->bytes.data + L->off[i], L->len[i]);
        hp_strmap_put(&L->index, keys[i], L->len[i], i);
    }
    for (size_t w = 0; w < tr->n_words; w++) {
        word *wd = &tr->words[w];
        const uint8_t *p = (const uint8_t *)tr->word_bytes.data + tr->word_off[w];
        wd->n = (int32_t)tr->word_len[w];
        wd->sym = hp_xmalloc((size_t)wd->n * sizeof *wd->sym);
        for (int32_t i = 0; i < wd->n; i++) wd->sym[i] = byte_tok[p[i]];
        word_pairs(L, wd, (int32_t)w, 1, -1);
    }
    for (int32_t p = 0; p < L->n_pairs; p++) heap_push(L, p);
    merge_rec *merges = NULL;
    int32_t nm = 0, cap = 0;
    int32_t *stamp = hp_xcalloc(tr->n_words + 1, sizeof *stamp);
    hp_buf cat = {0};
    while (L->n < n_target && L->n_heap > 0) {
        struct hent e = heap_pop(L);
        pair_stat *ps = &L->pairs[e.pair];
        if (ps->merged || ps->count <= 0) continue;
        if (ps->count != e.count) {
            heap_push(L, e.pair);
            continue;
        }
        if (ps->count < min_freq) break;
        int32_t a = ps->a, b = ps->b;
        hp_buf_clear(&cat);
        hp_buf_append(&cat, L->bytes.data + L->off[a], L->len[a]);
        hp_buf_append(&cat, L->bytes.data + L->off[b], L->len[b]);
        int32_t m = find_token(L, cat.data, cat.len);
        if (m < 0) {
            m = add_token(L, cat.data, cat.len);
            keys[m] = hp_xstrndup(cat.data, cat.len);
            hp_strmap_put(&L->index, keys[m], cat.len, m);
        }
        if (nm == cap) {
            cap = cap ? cap * 2 : 1024;
            merges = hp_xrealloc(merges, (size_t)cap * sizeof *merges);
        }
        merges[nm++] = (merge_rec){a, b};
        ps->merged = true;
        /* rewrite the words that hold the pair; ps may move as pairs are added, so copy the list */
        int32_t nw = ps->n_words;
        int32_t *wl = hp_xmalloc((size_t)(nw ? nw : 1) * sizeof *wl);
        memcpy(wl, ps->words, (size_t)nw * sizeof *wl);
        for (int32_t k = 0; k < nw; k++) {
            int32_t w = wl[k];
            if (stamp[w] == nm) continue;
            stamp[w] = nm;
            word *wd = &tr->words[w];
            bool has = false;
            for (int32_t i = 0; i + 1 < wd->n && !has; i++) has = wd->sym[i] == a && wd->sym[i + 1] == b;
            if (!has) continue;
            word_pairs(L, wd, w, -1, m);
            word_merge(wd, a, b, m);
            word_pairs(L, wd, w, 1, m);
        }
        free(wl);
        for (int32_t k = 0; k < L->n_touched; k++) {
            L->pairs[L->touched[k]].touched = false;
            if (L->pairs[L->touched[k]].count > 0) heap_push(L, L->touched[k]);
        }
        L->n_touched = 0;
    }
    hp_buf_free(&cat);
    free(stamp);
    for (int32_t i = 0; i < L->n; i++) free(keys[i]);
    free(keys);
    *n_merges = nm;
    return merges;
}

/* ---- writing the Hugging Face files ---- */

static char *bl_string(const learner *L, int32_t id) {
    hp_buf b = {0};
    hp_bytelevel_encode((const uint8_t *)L->bytes.data + L->off[id], L->len[id], &b);
    return hp_buf_take(&b);
}

static cJSON *bytelevel_obj(void) {
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "type", "ByteLevel");
    cJSON_AddFalseToObject(o, "add_prefix_space");
    cJSON_AddFalseToObject(o, "trim_offsets");
    cJSON_AddFalseToObject(o, "use_regex");
    return o;
}

static cJSON *added_obj(int32_t id, const char *content) {
    cJSON *o = cJSON_CreateObject();
    cJSON_AddNumberToObject(o, "id", id);
    cJSON_AddStringToObject(o, "content", content);
    cJSON_AddFalseToObject(o, "single_word");
    cJSON_AddFalseToObject(o, "lstrip");
    cJSON_AddFalseToObject(o, "rstrip");
    cJSON_AddFalseToObject(o, "normalized");
    cJSON_AddTrueToObject(o, "special");
    return o;
}

static cJSON *tokenizer_json(const hp_bpe_trainer *tr, const learner *L, const merge_rec *merges, int32_t nm) {
    cJSON *root = cJSON_CreateObject();
    cJSON_AddStringToObject(root, "version", "1.0");
    cJSON_AddNullToObject(root, "truncation");
    cJSON_AddNullToObject(root, "padding");
    cJSON *added = cJSON_AddArrayToObject(root, "added_tokens");
    for (int k = 0; k < 3; k++) cJSON_AddItemToArray(added, added_obj(L->n + k, specials[k]));
    cJSON *norm = cJSON_AddObjectToObject(root, "normalizer");
    cJSON_AddStringToObject(norm, "type", "NFC");
    cJSON *pre = cJSON_AddObjectToObject(root, "pre_tokenizer");
    cJSON_AddStringToObject(pre, "type", "Sequence");
    cJSON *list = cJSON_AddArrayToObject(pre, "pretokenizers");
    cJSON *split = cJSON_CreateObject();
    cJSON_AddStringToObject(split, "type", "Split");
    cJSON_AddStringToObject(cJSON_AddObjectToObject(split, "pattern"), "Regex", tr->pattern);
    cJSON_AddStringToObject(split, "behavior", "Isolated");
    cJSON_AddFalseToObject(split, "invert");
    cJSON_AddItemToArray(list, split);
    cJSON_AddItemToArray(list, bytelevel_obj());
    cJSON_AddItemToObject(root, "post_processor", bytelevel_obj());
    cJSON_AddItemToObject(root, "decoder", bytelevel_obj());
    cJSON *model = cJSON_AddObjectToObject(root, "model");
    cJSON_AddStringToObject(model, "type", "BPE");
    cJSON_AddNullToObject(model, "dropout");
    cJSON_AddNullToObject(model, "unk_token");
    cJSON_AddStringToObject(model, "continuing_subword_prefix", "");
    cJSON_AddStringToObject(model, "end_of_word_suffix", "");
    cJSON_AddFalseToObject(model, "fuse_unk");
    cJSON_AddFalseToObject(model, "byte_fallback");
    cJSON_AddFalseToObject(model, "ignore_merges");
    cJSON *vocab = cJSON_AddObjectToObject(model, "vocab");
    for (int32_t i = 0; i < L->n; i++) {
        char *s = bl_string(L, i);
        cJSON_AddNumberToObject(vocab, s, i);
        free(s);
    }
    cJSON *ml = cJSON_AddArrayToObject(model, "merges");
    for (int32_t i = 0; i < nm; i++) {
        char *a = bl_string(L, merges[i].a), *b = bl_string(L, merges[i].b);
        const char *pair[2] = {a, b};
        cJSON_AddItemToArray(ml, cJSON_CreateStringArray(pair, 2));
        free(a);
        free(b);
    }
    return root;
}

static cJSON *config_json(const learner *L) {
    cJSON *c = cJSON_CreateObject();
    cJSON_AddFalseToObject(c, "add_bos_token");
    cJSON_AddFalseToObject(c, "add_prefix_space");
    cJSON *dec = cJSON_AddObjectToObject(c, "added_tokens_decoder");
    for (int k = 0; k < 3; k++) {
        char id[32];
        snprintf(id, sizeof id, "%d", (int)(L->n + k));
        cJSON *o = added_obj(L->n + k, specials[k]);
        cJSON_DeleteItemFromObject(o, "id");
        cJSON_AddItemToObject(dec, id, o);
    }
    const char *extra[] = {"<|im_start|>", "<|im_end|>"};
    cJSON_AddItemToObject(c, "additional_special_tokens", cJSON_CreateStringArray(extra, 2));
    cJSON_AddNullToObject(c, "bos_token");
    cJSON_AddStringToObject(c, "chat_template", hp_chat_template_qwen25);
    cJSON_AddFalseToObject(c, "clean_up_tokenization_spaces");
    cJSON_AddStringToObject(c, "eos_token", "<|im_end|>");
    cJSON_AddStringToObject(c, "errors", "replace");
    cJSON_AddNumberToObject(c, "model_max_length", 32768);
    cJSON_AddStringToObject(c, "pad_token", "<|endoftext|>");
    cJSON_AddFalseToObject(c, "split_special_tokens");
    cJSON_AddStringToObject(c, "tokenizer_class", "Qwen2Tokenizer");
    cJSON_AddNullToObject(c, "unk_token");
    return c;
}

static int write_json(const char *dir, const char *name, cJSON *j, hp_err *err) {
    char *text = cJSON_PrintUnformatted(j);
    char *path = hp_path_join(dir, name);
    int rc = hp_write_file_atomic(path, text, strlen(text), err);
    free(path);
    free(text);
    return rc;
}

int hp_bpe_trainer_write(hp_bpe_trainer *tr, int32_t vocab_size, int64_t min_frequency, const char *out_dir,
                         hp_err *err) {
    if (vocab_size < 259) return hp_fail(err, "BPE trainer: vocab_size %d is below 259 (256 bytes + 3 special tokens)", vocab_size);
    if (min_frequency <= 0) min_frequency = 2;
    for (size_t i = 0; i < tr->n_words; i++) { /* a second write starts from the counted words again */
        free(tr->words[i].sym);
        tr->words[i].sym = NULL;
    }
    learner L;
    memset(&L, 0, sizeof L);
    int32_t nm = 0;
    merge_rec *merges = learn(tr, &L, vocab_size - 3, min_frequency, &nm);
    cJSON *tj = tokenizer_json(tr, &L, merges, nm), *cj = config_json(&L);
    int rc = hp_mkdirs(out_dir, err);
    if (!rc) rc = write_json(out_dir, "tokenizer.json", tj, err);
    if (!rc) rc = write_json(out_dir, "tokenizer_config.json", cj, err);
    cJSON_Delete(tj);
    cJSON_Delete(cj);
    free(merges);
    learner_free(&L);
    return rc;
}

int hp_tok_train(const char *text, size_t len, int32_t vocab_size, const char *out_dir, hp_err *err) {
    hp_bpe_trainer *tr = hp_bpe_trainer_new(NULL, err);
    if (!tr) return HP_FAIL;
    int rc = hp_bpe_trainer_feed(tr, text, len, err);
    if (!rc) rc = hp_bpe_trainer_write(tr, vocab_size, 0, out_dir, err);
    hp_bpe_trainer_free(tr);
    return rc;
}
