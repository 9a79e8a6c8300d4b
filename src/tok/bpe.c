/* BPE of one pre-token, as Hugging Face does it: start from one symbol per byte, and repeatedly merge
 * the adjacent pair of lowest merge rank (the leftmost one among equal ranks) until none is left.
 * A min-heap of candidate pairs keyed by (rank, position) makes this O(n log n) per word. */
#include "tok_internal.h"

#include <stdlib.h>

typedef struct {
    int32_t id, prev, next; /* next/prev: neighbouring live symbols, -1 at the ends */
    bool dead;
} sym;

typedef struct {
    int32_t rank, pos, merged;
} cand;

static bool cand_less(cand a, cand b) { return a.rank != b.rank ? a.rank < b.rank : a.pos < b.pos; }

static void heap_push(cand *h, int *n, cand c) {
    int i = (*n)++;
    while (i > 0) {
        int p = (i - 1) / 2;
        if (!cand_less(c, h[p])) break;
        h[i] = h[p];
        i = p;
    }
    h[i] = c;
}

static cand heap_pop(cand *h, int *n) {
    cand top = h[0], last = h[--(*n)];
    int i = 0;
    for (;;) {
        int l = 2 * i + 1, r = l + 1, m = i;
        cand best = last;
        if (l < *n && cand_less(h[l], best)) m = l, best = h[l];
        if (r < *n && cand_less(h[r], best)) m = r;
        if (m == i) break;
        h[i] = h[m];
        i = m;
    }
    if (*n > 0) h[i] = last;
    return top;
}

static void try_pair(const hp_tok *t, const sym *s, int32_t pos, cand *h, int *nh) {
    if (pos < 0 || s[pos].next < 0) return;
    int32_t merged;
    int32_t rank = hp_pairmap_get(&t->merges, s[pos].id, s[s[pos].next].id, &merged);
    if (rank >= 0) heap_push(h, nh, (cand){rank, pos, merged});
}

int hp_bpe_word(const hp_tok *t, const uint8_t *bytes, size_t n, hp_ids *out, hp_err *err) {
    (void)err;
    if (n == 1) {
        if (t->byte_id[bytes[0]] >= 0) hp_ids_push(out, t->byte_id[bytes[0]]);
        return HP_OK;
    }
    enum { LOCAL = 64 };
    sym local_s[LOCAL];
    cand local_h[3 * LOCAL]; /* n - 1 initial pairs plus at most two per merge */
    sym *s = n <= LOCAL ? local_s : hp_xmalloc(n * sizeof *s);
    cand *h = n <= LOCAL ? local_h : hp_xmalloc(3 * n * sizeof *h);
    int32_t ns = 0;
    for (size_t i = 0; i < n; i++) {
        int32_t id = t->byte_id[bytes[i]];
        if (id < 0) continue; /* a byte without a token is dropped, as Hugging Face does without unk */
        s[ns] = (sym){id, ns - 1, -1, false};
        if (ns > 0) s[ns - 1].next = ns;
        ns++;
    }
    int nh = 0;
    for (int32_t i = 0; i + 1 < ns; i++) try_pair(t, s, i, h, &nh);
    while (nh > 0) {
        cand c = heap_pop(h, &nh);
        sym *a = &s[c.pos];
        if (a->dead || a->next < 0) continue;
        sym *b = &s[a->next];
        int32_t merged;
        if (hp_pairmap_get(&t->merges, a->id, b->id, &merged) != c.rank || merged != c.merged) continue;
        /* merge b into a */
        a->id = c.merged;
        b->dead = true;
        a->next = b->next;
        if (b->next >= 0) s[b->next].prev = c.pos;
        try_pair(t, s, a->prev, h, &nh);
        try_pair(t, s, c.pos, h, &nh);
    }
    for (int32_t i = 0; i < ns; i = s[i].next) {
        hp_ids_push(out, s[i].id);
        if (s[i].next < 0) break;
    }
    if (s != local_s) free(s);
    if (h != local_h) free(h);
    return HP_OK;
}
