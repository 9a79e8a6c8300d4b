/* adv_similarity.c — difflib.SequenceMatcher(None, a, b).ratio() on byte strings, for GiGPO's
 * similarity grouping of anchor observations (baselines.md §2.3d). Same algorithm as Python's
 * difflib: b's "popular" elements (more than len(b)/100 + 1 occurrences when len(b) >= 200) are not
 * indexed; matching blocks are found by recursive longest-match splitting; ratio = 2M / (|a| + |b|).
 * Python compares code points where this compares bytes: identical for ASCII text. */
#include "adv_internal.h"

#include <stdlib.h>
#include <string.h>

typedef struct matcher {
    const unsigned char *a, *b;
    size_t *pos;      /* b's indices grouped by byte value: pos[first[c] .. first[c+1]) */
    size_t first[257];
    size_t *j2len, *newj2len; /* indexed by j + 1 */
    size_t *touched, *newtouched;
} matcher;

static void longest_match(matcher *m, size_t alo, size_t ahi, size_t blo, size_t bhi, size_t *bi,
                          size_t *bj, size_t *bk) {
    size_t besti = alo, bestj = blo, bestsize = 0, nt = 0;
    for (size_t i = alo; i < ahi; i++) {
        size_t nnt = 0;
        unsigned c = m->a[i];
        for (size_t q = m->first[c]; q < m->first[c + 1]; q++) {
            size_t j = m->pos[q];
            if (j < blo) continue;
            if (j >= bhi) break;
            size_t k = m->j2len[j] + 1; /* j2len[(j − 1) + 1] */
            m->newj2len[j + 1] = k;
            m->newtouched[nnt++] = j + 1;
            if (k > bestsize) {
                besti = i + 1 - k;
                bestj = j + 1 - k;
                bestsize = k;
            }
        }
        for (size_t t = 0; t < nt; t++) m->j2len[m->touched[t]] = 0;
        /* swap old and new */
        size_t *tmp = m->j2len;
        m->j2len = m->newj2len;
        m->newj2len = tmp;
        tmp = m->touched;
        m->touched = m->newtouched;
        m->newtouched = tmp;
        nt = nnt;
    }
    for (size_t t = 0; t < nt; t++) m->j2len[m->touched[t]] = 0;
    /* No junk function: extend over equal (possibly popular) elements on both sides. */
    while (besti > alo && bestj > blo && m->a[besti - 1] == m->b[bestj - 1]) {
        besti--;
        bestj--;
        bestsize++;
    }
    while (besti + bestsize < ahi && bestj + bestsize < bhi && m->a[besti + bestsize] == m->b[bestj + bestsize])
        bestsize++;
    *bi = besti;
    *bj = bestj;
    *bk = bestsize;
}

double hp_adv_similarity_ratio(const char *a, size_t na, const char *b, size_t nb) {
    if (na + nb == 0) return 1.0;
    matcher m;
    memset(&m, 0, sizeof m);
    m.a = (const unsigned char *)a;
    m.b = (const unsigned char *)b;
    size_t count[256] = {0};
    for (size_t j = 0; j < nb; j++) count[m.b[j]]++;
    if (nb >= 200) {
        size_t ntest = nb / 100 + 1;
        for (int c = 0; c < 256; c++)
            if (count[c] > ntest) count[c] = 0, m.first[c] = (size_t)-1; /* popular: not indexed */
    }
    bool popular[256];
    for (int c = 0; c < 256; c++) popular[c] = m.first[c] == (size_t)-1;
    m.first[0] = 0;
    for (int c = 0; c < 256; c++) m.first[c + 1] = m.first[c] + (popular[c] ? 0 : count[c]);
    size_t npos = m.first[256];
    m.pos = hp_xmalloc((npos ? npos : 1) * sizeof *m.pos);
    size_t fill[256];
    for (int c = 0; c < 256; c++) fill[c] = m.first[c];
    for (size_t j = 0; j < nb; j++)
        if (!popular[m.b[j]]) m.pos[fill[m.b[j]]++] = j;
    m.j2len = hp_xcalloc(nb + 2, sizeof *m.j2len);
    m.newj2len = hp_xcalloc(nb + 2, sizeof *m.newj2len);
    m.touched = hp_xmalloc((nb + 1) * sizeof *m.touched);
    m.newtouched = hp_xmalloc((nb + 1) * sizeof *m.newtouched);

    /* Recursive splitting with an explicit stack; only the total matched size is needed. */
    size_t cap = 64, top = 0, matched = 0;
    size_t (*stack)[4] = hp_xmalloc(cap * sizeof *stack);
    stack[top][0] = 0, stack[top][1] = na, stack[top][2] = 0, stack[top][3] = nb, top++;
    while (top) {
        top--;
        size_t alo = stack[top][0], ahi = stack[top][1], blo = stack[top][2], bhi = stack[top][3];
        size_t i, j, k;
        longest_match(&m, alo, ahi, blo, bhi, &i, &j, &k);
        if (!k) continue;
        matched += k;
        if (top + 2 > cap) {
            cap *= 2;
            stack = hp_xrealloc(stack, cap * sizeof *stack);
        }
        if (alo < i && blo < j) stack[top][0] = alo, stack[top][1] = i, stack[top][2] = blo, stack[top][3] = j, top++;
        if (i + k < ahi && j + k < bhi)
            stack[top][0] = i + k, stack[top][1] = ahi, stack[top][2] = j + k, stack[top][3] = bhi, top++;
    }
    free(stack);
    free(m.pos);
    free(m.j2len);
    free(m.newj2len);
    free(m.touched);
    free(m.newtouched);
    return 2.0 * (double)matched / (double)(na + nb);
}
