/* thefuzz 0.19 (difflib back-end) ratio and token_set_ratio, and WebShop's normalize_color.
 *
 * Strings are compared as Unicode code points, like Python. token_set_ratio's preprocessing:
 * delete U+0080..U+00FF (force_ascii), replace non-word characters by spaces, ASCII-lowercase, strip.
 * Word characters above U+00FF: everything except the punctuation/symbol blocks listed in
 * ws_is_word (an approximation of Python's Unicode \w, documented in docs/webshop.md). */
#include "env/webshop/ws.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

typedef struct cps {
    uint32_t *v;
    size_t n;
} cps;

/* Decode UTF-8 leniently: an invalid byte becomes U+FFFD. */
static cps ws_decode(const char *s) {
    size_t len = strlen(s);
    cps r = {hp_xmalloc((len + 1) * sizeof(uint32_t)), 0};
    const unsigned char *p = (const unsigned char *)s, *end = p + len;
    while (p < end) {
        uint32_t c = *p;
        int extra = c < 0x80 ? 0 : (c >> 5) == 6 ? 1 : (c >> 4) == 14 ? 2 : (c >> 3) == 30 ? 3 : -1;
        if (extra < 0 || end - p <= extra) {
            r.v[r.n++] = 0xFFFD;
            p++;
            continue;
        }
        if (extra) c &= 0x3Fu >> extra;
        bool ok = true;
        for (int k = 1; k <= extra; k++) {
            if ((p[k] & 0xC0) != 0x80) {
                ok = false;
                break;
            }
            c = (c << 6) | (p[k] & 0x3F);
        }
        if (!ok) {
            r.v[r.n++] = 0xFFFD;
            p++;
            continue;
        }
        r.v[r.n++] = c;
        p += 1 + extra;
    }
    return r;
}

static bool ws_is_word(uint32_t c) {
    if (c < 0x80) return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
    if (c >= 0x2000 && c <= 0x2BFF) return false; /* punctuation, symbols, arrows, math, box drawing */
    if (c >= 0x3000 && c <= 0x303F) return false; /* CJK punctuation */
    if (c >= 0xFF01 && c <= 0xFF0F) return false; /* fullwidth punctuation */
    if (c >= 0x1F000 && c <= 0x1FAFF) return false; /* emoji and pictographs */
    if (c == 0xFFFD) return false;
    return true;
}

/* thefuzz full_process with force_ascii. */
static cps ws_process(const char *s) {
    cps r = ws_decode(s);
    size_t o = 0;
    for (size_t i = 0; i < r.n; i++) {
        uint32_t c = r.v[i];
        if (c >= 0x80 && c <= 0xFF) continue;
        if (!ws_is_word(c)) c = ' ';
        else if (c >= 'A' && c <= 'Z') c += 32;
        r.v[o++] = c;
    }
    size_t b = 0;
    while (b < o && r.v[b] == ' ') b++;
    while (o > b && r.v[o - 1] == ' ') o--;
    memmove(r.v, r.v + b, (o - b) * sizeof(uint32_t));
    r.n = o - b;
    return r;
}

/* ---- difflib SequenceMatcher: total size of the matching blocks ---------------------------------- */

typedef struct ws_sm {
    const uint32_t *a, *b;
    size_t la, lb;
    bool *popular; /* per position of b: element removed by autojunk */
    size_t *prev, *cur;
} ws_sm;

static void ws_longest(ws_sm *m, size_t alo, size_t ahi, size_t blo, size_t bhi, size_t *bi, size_t *bj, size_t *bk) {
    size_t besti = alo, bestj = blo, bestsize = 0, w = bhi - blo + 1;
    memset(m->prev, 0, w * sizeof(size_t));
    for (size_t i = alo; i < ahi; i++) {
        m->cur[0] = 0;
        for (size_t j = blo; j < bhi; j++) {
            size_t jj = j - blo + 1, k = 0;
            if (m->a[i] == m->b[j] && !m->popular[j]) {
                k = m->prev[jj - 1] + 1;
                if (k > bestsize) besti = i - k + 1, bestj = j - k + 1, bestsize = k;
            }
            m->cur[jj] = k;
        }
        size_t *t = m->prev;
        m->prev = m->cur;
        m->cur = t;
    }
    /* difflib's extension over non-junk equal elements (covers "popular" ones) */
    while (besti > alo && bestj > blo && m->a[besti - 1] == m->b[bestj - 1]) besti--, bestj--, bestsize++;
    while (besti + bestsize < ahi && bestj + bestsize < bhi && m->a[besti + bestsize] == m->b[bestj + bestsize])
        bestsize++;
    *bi = besti, *bj = bestj, *bk = bestsize;
}

static size_t ws_matching(const cps *a, const cps *b) {
    ws_sm m = {a->v, b->v, a->n, b->n, hp_xcalloc(b->n + 1, 1), hp_xmalloc((b->n + 2) * sizeof(size_t)),
               hp_xmalloc((b->n + 2) * sizeof(size_t))};
    if (b->n >= 200) { /* autojunk: elements occurring more than n/100 + 1 times */
        size_t ntest = b->n / 100 + 1;
        for (size_t j = 0; j < b->n; j++) {
            size_t cnt = 0;
            for (size_t t = 0; t < b->n; t++) cnt += b->v[t] == b->v[j];
            m.popular[j] = cnt > ntest;
        }
    }
    size_t cap = 64, sp = 0, total = 0;
    size_t *stack = hp_xmalloc(cap * 4 * sizeof(size_t));
    stack[0] = 0, stack[1] = a->n, stack[2] = 0, stack[3] = b->n, sp = 1;
    while (sp) {
        sp--;
        size_t alo = stack[sp * 4], ahi = stack[sp * 4 + 1], blo = stack[sp * 4 + 2], bhi = stack[sp * 4 + 3];
        size_t i, j, k;
        ws_longest(&m, alo, ahi, blo, bhi, &i, &j, &k);
        if (!k) continue;
        total += k;
        if (sp + 2 >= cap) stack = hp_xrealloc(stack, (cap *= 2) * 4 * sizeof(size_t));
        if (alo < i && blo < j) {
            size_t *q = stack + sp++ * 4;
            q[0] = alo, q[1] = i, q[2] = blo, q[3] = j;
        }
        if (i + k < ahi && j + k < bhi) {
            size_t *q = stack + sp++ * 4;
            q[0] = i + k, q[1] = ahi, q[2] = j + k, q[3] = bhi;
        }
    }
    free(stack);
    free(m.popular);
    free(m.prev);
    free(m.cur);
    return total;
}

static bool ws_cps_eq(const cps *a, const cps *b) {
    return a->n == b->n && (a->n == 0 || !memcmp(a->v, b->v, a->n * sizeof(uint32_t)));
}

/* fuzz.ratio on code points: 100 if equal, 0 if either empty, else round-half-even(100 * 2M / T). */
static int ws_ratio_cps(const cps *a, const cps *b) {
    if (ws_cps_eq(a, b)) return 100;
    if (!a->n || !b->n) return 0;
    double r = 2.0 * (double)ws_matching(a, b) / (double)(a->n + b->n);
    return (int)nearbyint(100.0 * r);
}

int ws_fuzz_ratio(const char *a, const char *b) {
    cps x = ws_decode(a), y = ws_decode(b);
    int r = ws_ratio_cps(&x, &y);
    free(x.v);
    free(y.v);
    return r;
}

/* ---- token_set_ratio --------------------------------------------------------------------------- */

typedef struct tok {
    const uint32_t *v;
    size_t n;
} tok;

static int ws_tok_cmp(const void *x, const void *y) {
    const tok *a = x, *b = y;
    size_t n = a->n < b->n ? a->n : b->n;
    for (size_t i = 0; i < n; i++)
        if (a->v[i] != b->v[i]) return a->v[i] < b->v[i] ? -1 : 1;
    return a->n < b->n ? -1 : a->n > b->n;
}

/* Split on spaces into a sorted set of tokens. */
static tok *ws_token_set(const cps *s, size_t *n) {
    tok *t = hp_xmalloc((s->n / 2 + 2) * sizeof(tok));
    size_t k = 0;
    for (size_t i = 0; i < s->n;) {
        while (i < s->n && s->v[i] == ' ') i++;
        size_t b = i;
        while (i < s->n && s->v[i] != ' ') i++;
        if (i > b) t[k++] = (tok){s->v + b, i - b};
    }
    qsort(t, k, sizeof(tok), ws_tok_cmp);
    size_t o = 0;
    for (size_t i = 0; i < k; i++)
        if (!o || ws_tok_cmp(&t[o - 1], &t[i])) t[o++] = t[i];
    *n = o;
    return t;
}

static bool ws_tok_in(const tok *set, size_t n, const tok *t) { return bsearch(t, set, n, sizeof(tok), ws_tok_cmp) != NULL; }

static void ws_cps_push(cps *d, const tok *t) {
    if (d->n) d->v[d->n++] = ' ';
    memcpy(d->v + d->n, t->v, t->n * sizeof(uint32_t));
    d->n += t->n;
}

int ws_fuzz_token_set_ratio(const char *a, const char *b) {
    cps p1 = ws_process(a), p2 = ws_process(b);
    int best = 0;
    if (p1.n && p2.n) {
        size_t n1, n2;
        tok *t1 = ws_token_set(&p1, &n1), *t2 = ws_token_set(&p2, &n2);
        size_t cap = p1.n + p2.n + 2;
        cps sect = {hp_xmalloc(cap * sizeof(uint32_t)), 0}, c1 = {hp_xmalloc(cap * sizeof(uint32_t)), 0},
            c2 = {hp_xmalloc(cap * sizeof(uint32_t)), 0};
        for (size_t i = 0; i < n1; i++)
            if (ws_tok_in(t2, n2, &t1[i])) ws_cps_push(&sect, &t1[i]);
        memcpy(c1.v, sect.v, sect.n * sizeof(uint32_t)), c1.n = sect.n;
        memcpy(c2.v, sect.v, sect.n * sizeof(uint32_t)), c2.n = sect.n;
        for (size_t i = 0; i < n1; i++)
            if (!ws_tok_in(t2, n2, &t1[i])) ws_cps_push(&c1, &t1[i]);
        for (size_t i = 0; i < n2; i++)
            if (!ws_tok_in(t1, n1, &t2[i])) ws_cps_push(&c2, &t2[i]);
        int r1 = ws_ratio_cps(&sect, &c1), r2 = ws_ratio_cps(&sect, &c2), r3 = ws_ratio_cps(&c1, &c2);
        best = r1 > r2 ? r1 : r2;
        if (r3 > best) best = r3;
        free(t1), free(t2), free(sect.v), free(c1.v), free(c2.v);
    }
    free(p1.v);
    free(p2.v);
    return best;
}

/* ---- normalize_color --------------------------------------------------------------------------- */

/* WebShop's colour list (engine/normalize.py), in its order: the first hit wins. */
static const char *const ws_colors[] = {
    "alabaster", "apricot", "aqua", "ash", "asphalt", "azure", "banana", "beige", "black", "blue", "blush",
    "bordeaux", "bronze", "brown", "burgundy", "camel", "camo", "caramel", "champagne", "charcoal", "cheetah",
    "chestnut", "chocolate", "christmas", "coffee", "cognac", "copper", "coral", "cranberry", "cream", "crystal",
    "dark", "denim", "eggplant", "elephant", "espresso", "fuchsia", "gold", "granite", "grape", "graphite",
    "grass", "gray", "green", "grey", "heather", "indigo", "ivory", "ivy", "khaki", "lavender", "lemon",
    "leopard", "light", "lilac", "lime", "magenta", "maroon", "mauve", "merlot", "midnight", "mint", "mocha",
    "multicolor", "mushroom", "mustard", "natural", "navy", "nude", "olive", "orange", "peach", "pewter", "pink",
    "plum", "purple", "rainbow", "red", "rose", "royal", "rust", "sand", "sapphire", "seashell", "silver",
    "skull", "slate", "steel", "stone", "stonewash", "sunflower", "tan", "taupe", "teal", "tiger", "turquoise",
    "violet", "walnut", "wheat", "white", "wine", "yellow"};

const char *ws_normalize_color(const char *s) {
    for (size_t i = 0; i < sizeof ws_colors / sizeof *ws_colors; i++)
        if (strstr(s, ws_colors[i])) return ws_colors[i];
    return s;
}

const char *ws_normalize_color_pair(const char *name, const char *value) {
    for (size_t i = 0; i < sizeof ws_colors / sizeof *ws_colors; i++)
        if (!strcmp(name, ws_colors[i]) || !strcmp(value, ws_colors[i])) return ws_colors[i];
    return NULL;
}
