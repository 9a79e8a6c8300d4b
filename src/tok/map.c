/* Open-addressing hash maps used by the tokenizer: token string → id, and id pair → merge. */
#include "tok_internal.h"

#include <string.h>

static size_t cap_for(size_t expect) {
    size_t cap = 16;
    while (cap < expect * 2) cap <<= 1;
    return cap;
}

static uint64_t str_hash(const char *s, size_t n) {
    return hp_hash64(s, n, 0x746f6b);
}

void hp_strmap_init(hp_strmap *m, size_t expect) {
    m->cap = cap_for(expect);
    m->len = 0;
    m->keys = hp_xcalloc(m->cap, sizeof *m->keys);
    m->klens = hp_xcalloc(m->cap, sizeof *m->klens);
    m->vals = hp_xcalloc(m->cap, sizeof *m->vals);
}

void hp_strmap_free(hp_strmap *m) {
    free(m->keys);
    free(m->klens);
    free(m->vals);
    memset(m, 0, sizeof *m);
}

static void strmap_grow(hp_strmap *m) {
    hp_strmap n;
    hp_strmap_init(&n, m->cap); /* doubles: cap_for(cap) = 2 * cap */
    for (size_t i = 0; i < m->cap; i++)
        if (m->keys[i]) hp_strmap_put(&n, m->keys[i], m->klens[i], m->vals[i]);
    hp_strmap_free(m);
    *m = n;
}

void hp_strmap_put(hp_strmap *m, const char *key, size_t klen, int32_t val) {
    if ((m->len + 1) * 2 > m->cap) strmap_grow(m);
    size_t mask = m->cap - 1;
    for (size_t i = str_hash(key, klen) & mask;; i = (i + 1) & mask) {
        if (!m->keys[i]) {
            m->keys[i] = key;
            m->klens[i] = (uint32_t)klen;
            m->vals[i] = val;
            m->len++;
            return;
        }
        if (m->klens[i] == klen && !memcmp(m->keys[i], key, klen)) {
            m->vals[i] = val;
            return;
        }
    }
}

int32_t hp_strmap_get(const hp_strmap *m, const char *key, size_t klen) {
    if (!m->cap) return -1;
    size_t mask = m->cap - 1;
    for (size_t i = str_hash(key, klen) & mask;; i = (i + 1) & mask) {
        if (!m->keys[i]) return -1;
        if (m->klens[i] == klen && !memcmp(m->keys[i], key, klen)) return m->vals[i];
    }
}

void hp_pairmap_init(hp_pairmap *m, size_t expect) {
    m->cap = cap_for(expect);
    m->len = 0;
    m->e = hp_xcalloc(m->cap, sizeof *m->e);
}

void hp_pairmap_free(hp_pairmap *m) {
    free(m->e);
    memset(m, 0, sizeof *m);
}

static uint64_t pair_key(int32_t a, int32_t b) {
    return (((uint64_t)(uint32_t)a << 32) | (uint32_t)b) + 1;
}

static void pairmap_grow(hp_pairmap *m) {
    hp_pairmap n;
    hp_pairmap_init(&n, m->cap);
    for (size_t i = 0; i < m->cap; i++) {
        if (!m->e[i].key) continue;
        uint64_t k = m->e[i].key - 1;
        hp_pairmap_add(&n, (int32_t)(k >> 32), (int32_t)(uint32_t)k, m->e[i].rank, m->e[i].merged);
    }
    hp_pairmap_free(m);
    *m = n;
}

bool hp_pairmap_add(hp_pairmap *m, int32_t a, int32_t b, int32_t rank, int32_t merged) {
    if ((m->len + 1) * 2 > m->cap) pairmap_grow(m);
    uint64_t key = pair_key(a, b);
    size_t mask = m->cap - 1;
    for (size_t i = hp_tok_mix64(key) & mask;; i = (i + 1) & mask) {
        hp_pair_entry *e = &m->e[i];
        if (!e->key || e->key == key) {
            bool fresh = !e->key;
            *e = (hp_pair_entry){key, rank, merged};
            m->len += fresh;
            return fresh;
        }
    }
}

int32_t hp_pairmap_get(const hp_pairmap *m, int32_t a, int32_t b, int32_t *merged) {
    uint64_t key = pair_key(a, b);
    size_t mask = m->cap - 1;
    for (size_t i = hp_tok_mix64(key) & mask;; i = (i + 1) & mask) {
        const hp_pair_entry *e = &m->e[i];
        if (!e->key) return -1;
        if (e->key == key) {
            *merged = e->merged;
            return e->rank;
        }
    }
}
