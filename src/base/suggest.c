/* suggest.c — edit distance and "did you mean" (see hiper/suggest.h). */
#include "hiper/suggest.h"

#include "hiper/base.h"

#include <stdlib.h>
#include <string.h>

size_t hp_edit_distance(const char *a, const char *b) {
    size_t n = strlen(a), m = strlen(b);
    /* three rows of the dynamic programme: i-2, i-1, i */
    size_t *r = hp_xmalloc(3 * (m + 1) * sizeof *r);
    size_t *pp = r, *p = r + (m + 1), *c = r + 2 * (m + 1);
    for (size_t j = 0; j <= m; j++) p[j] = j;
    for (size_t i = 1; i <= n; i++) {
        c[0] = i;
        for (size_t j = 1; j <= m; j++) {
            size_t cost = a[i - 1] == b[j - 1] ? 0 : 1;
            size_t v = p[j - 1] + cost;
            if (p[j] + 1 < v) v = p[j] + 1;
            if (c[j - 1] + 1 < v) v = c[j - 1] + 1;
            if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] && pp[j - 2] + 1 < v) v = pp[j - 2] + 1;
            c[j] = v;
        }
        size_t *t = pp;
        pp = p, p = c, c = t;
    }
    size_t d = p[m];
    free(r);
    return d;
}

static size_t limit(size_t len) { return len <= 4 ? 1 : len <= 8 ? 2 : 3; }

void hp_suggest_init(hp_suggest *s, const char *word) { *s = (hp_suggest){word, NULL, (size_t)-1}; }

void hp_suggest_add_as(hp_suggest *s, const char *cand, const char *compare) {
    if (!s->word || !cand || !compare || !strcmp(s->word, cand)) return;
    size_t lw = strlen(s->word), lc = strlen(compare);
    size_t d = hp_edit_distance(s->word, compare);
    if (d > limit(lw > lc ? lw : lc) || d >= lw || d >= s->best_d) return;
    s->best = cand;
    s->best_d = d;
}

void hp_suggest_add(hp_suggest *s, const char *cand) { hp_suggest_add_as(s, cand, cand); }

const char *hp_suggest_best(const hp_suggest *s) { return s->best; }
