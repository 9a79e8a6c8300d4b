/* BM25 inverted index over the products (Lucene 8 form, k1 = 0.9, b = 0.4, lossy 1-byte lengths).
 * Document text: lowercase(Title + " " + Description + " " + first bullet + " " + option text). */
#include "env/webshop/ws.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#define WS_K1 0.9f
#define WS_B 0.4f

typedef struct ws_posting {
    int doc;
    int tf;
} ws_posting;

typedef struct ws_term {
    char *text;
    ws_posting *post;
    int n, cap;
} ws_term;

struct ws_index {
    ws_term *terms;
    int n_terms, cap_terms;
    int *slots; /* open addressing: term id + 1, 0 = empty */
    size_t n_slots;
    unsigned char *norm; /* per doc */
    float cache[256];    /* k1 * (1 - b + b * len / avgdl) per norm byte */
    int n_docs;
};

/* ---- Lucene 8 SmallFloat int <-> byte4 (exact below 24) ---------------------------------------- */

static int ws_long_to_int4(uint64_t i) {
    int bits = 64 - __builtin_clzll(i | 1);
    if (i == 0) bits = 0;
    if (bits < 4) return (int)i;
    int shift = bits - 4;
    int enc = (int)(i >> shift) & 0x07;
    return enc | ((shift + 1) << 3);
}

static uint64_t ws_int4_to_long(int i) {
    uint64_t bits = (uint64_t)(i & 0x07);
    int shift = (i >> 3) - 1;
    return shift == -1 ? bits : (bits | 0x08) << shift;
}

#define WS_FREE_VALUES 24 /* 255 - longToInt4(INT_MAX) */

static unsigned char ws_int_to_byte4(int i) {
    if (i < WS_FREE_VALUES) return (unsigned char)i;
    return (unsigned char)(WS_FREE_VALUES + ws_long_to_int4((uint64_t)(i - WS_FREE_VALUES)));
}

static int ws_byte4_to_int(unsigned char b) {
    if (b < WS_FREE_VALUES) return b;
    return (int)(WS_FREE_VALUES + ws_int4_to_long(b - WS_FREE_VALUES));
}

/* ---- term dictionary --------------------------------------------------------------------------- */

static uint64_t ws_term_hash(const char *t, size_t n) { return hp_hash64(t, n, 0x5eed); }

static int ws_term_find(const ws_index *ix, const char *t, size_t n) {
    size_t mask = ix->n_slots - 1, h = ws_term_hash(t, n) & mask;
    while (ix->slots[h]) {
        const ws_term *term = &ix->terms[ix->slots[h] - 1];
        if (strlen(term->text) == n && !memcmp(term->text, t, n)) return ix->slots[h] - 1;
        h = (h + 1) & mask;
    }
    return -1;
}

static void ws_rehash(ws_index *ix) {
    free(ix->slots);
    ix->n_slots = ix->n_slots ? ix->n_slots * 2 : 1024;
    ix->slots = hp_xcalloc(ix->n_slots, sizeof(int));
    size_t mask = ix->n_slots - 1;
    for (int i = 0; i < ix->n_terms; i++) {
        size_t h = ws_term_hash(ix->terms[i].text, strlen(ix->terms[i].text)) & mask;
        while (ix->slots[h]) h = (h + 1) & mask;
        ix->slots[h] = i + 1;
    }
}

static int ws_term_add(ws_index *ix, const char *t, size_t n) {
    int id = ws_term_find(ix, t, n);
    if (id >= 0) return id;
    if ((size_t)(ix->n_terms + 1) * 2 > ix->n_slots) ws_rehash(ix);
    if (ix->n_terms == ix->cap_terms) {
        ix->cap_terms = ix->cap_terms ? ix->cap_terms * 2 : 1024;
        ix->terms = hp_xrealloc(ix->terms, (size_t)ix->cap_terms * sizeof(ws_term));
    }
    id = ix->n_terms++;
    ix->terms[id] = (ws_term){hp_xstrndup(t, n), NULL, 0, 0};
    size_t mask = ix->n_slots - 1, h = ws_term_hash(t, n) & mask;
    while (ix->slots[h]) h = (h + 1) & mask;
    ix->slots[h] = id + 1;
    return id;
}

/* ---- building ---------------------------------------------------------------------------------- */

typedef struct ws_doc_terms {
    ws_index *ix;
    int *ids;
    int n, cap;
} ws_doc_terms;

static void ws_collect(const char *t, size_t n, void *ctx) {
    ws_doc_terms *d = ctx;
    if (d->n == d->cap) d->ids = hp_xrealloc(d->ids, (size_t)(d->cap = d->cap ? d->cap * 2 : 64) * sizeof(int));
    d->ids[d->n++] = ws_term_add(d->ix, t, n);
}

static int ws_int_cmp(const void *a, const void *b) {
    int x = *(const int *)a, y = *(const int *)b;
    return (x > y) - (x < y);
}

/* The indexed text of one product (spec §4). */
static void ws_doc_text(const ws_product *p, hp_buf *b) {
    hp_buf_clear(b);
    hp_buf_printf(b, "%s %s %s ", p->title, p->desc, p->n_bullets ? p->bullets[0] : "");
    for (int o = 0; o < p->n_options; o++) {
        if (o) hp_buf_puts(b, ", and ");
        hp_buf_printf(b, "%s: ", p->options[o].name);
        for (int v = 0; v < p->options[o].n_values; v++) hp_buf_printf(b, v ? ", %s" : "%s", p->options[o].values[v]);
    }
}

ws_index *ws_index_build(const ws_product *p, int n) {
    ws_index *ix = hp_xcalloc(1, sizeof *ix);
    ix->n_docs = n;
    ix->norm = hp_xmalloc((size_t)(n ? n : 1));
    ws_rehash(ix);
    hp_buf text = {0};
    ws_doc_terms d = {ix, NULL, 0, 0};
    double total = 0;
    for (int i = 0; i < n; i++) {
        ws_doc_text(&p[i], &text);
        d.n = 0;
        ws_analyze(text.data, ws_collect, &d);
        total += d.n;
        ix->norm[i] = ws_int_to_byte4(d.n);
        qsort(d.ids, (size_t)d.n, sizeof(int), ws_int_cmp);
        for (int k = 0; k < d.n;) {
            int e = k;
            while (e < d.n && d.ids[e] == d.ids[k]) e++;
            ws_term *t = &ix->terms[d.ids[k]];
            if (t->n == t->cap) t->post = hp_xrealloc(t->post, (size_t)(t->cap = t->cap ? t->cap * 2 : 4) * sizeof(ws_posting));
            t->post[t->n++] = (ws_posting){i, e - k};
            k = e;
        }
    }
    free(d.ids);
    hp_buf_free(&text);
    float avgdl = n ? (float)(total / (double)n) : 1.0f;
    if (avgdl <= 0) avgdl = 1.0f;
    for (int i = 0; i < 256; i++) ix->cache[i] = WS_K1 * ((1 - WS_B) + WS_B * (float)ws_byte4_to_int((unsigned char)i) / avgdl);
    return ix;
}

void ws_index_free(ws_index *ix) {
    if (!ix) return;
    for (int i = 0; i < ix->n_terms; i++) free(ix->terms[i].text), free(ix->terms[i].post);
    free(ix->terms);
    free(ix->slots);
    free(ix->norm);
    free(ix);
}

/* ---- searching --------------------------------------------------------------------------------- */

typedef struct ws_query {
    const ws_index *ix;
    int ids[64];
    int n;
} ws_query;

static void ws_qterm(const char *t, size_t n, void *ctx) {
    ws_query *q = ctx;
    int id = ws_term_find(q->ix, t, n);
    if (id >= 0 && q->n < 64) q->ids[q->n++] = id;
}

typedef struct ws_hit {
    int doc;
    int64_t key; /* score rounded to 4 decimals, x 10^4 */
    const char *asin;
} ws_hit;

/* Score descending, then ASIN ascending (Anserini's tie breaking), then document order. */
static int ws_hit_cmp(const void *a, const void *b) {
    const ws_hit *x = a, *y = b;
    if (x->key != y->key) return x->key > y->key ? -1 : 1;
    int c = strcmp(x->asin, y->asin);
    return c ? c : (x->doc > y->doc) - (x->doc < y->doc);
}

void ws_scratch_free(ws_scratch *s) {
    free(s->acc);
    free(s->touched);
    memset(s, 0, sizeof *s);
}

int ws_index_search(const ws_index *ix, const ws_product *p, const char *query, int k, int *out) {
    ws_scratch s = {0};
    int n = ws_index_search_with(ix, p, query, k, out, &s);
    ws_scratch_free(&s);
    return n;
}

int ws_index_search_with(const ws_index *ix, const ws_product *p, const char *query, int k, int *out, ws_scratch *sc) {
    if (ix->n_docs <= 0) return 0;
    ws_query q = {ix, {0}, 0};
    ws_analyze(query, ws_qterm, &q);
    if (!q.n || k <= 0) return 0;
    if (sc->cap < ix->n_docs) {
        ws_scratch_free(sc);
        sc->acc = hp_xcalloc((size_t)ix->n_docs, sizeof(double));
        sc->touched = hp_xmalloc((size_t)ix->n_docs * sizeof(int));
        sc->cap = ix->n_docs;
    }
    double *dacc = sc->acc;
    int *touched = sc->touched;
    int nt = 0;
    for (int qi = 0; qi < q.n; qi++) {
        const ws_term *t = &ix->terms[q.ids[qi]];
        float idf = (float)log(1.0 + (ix->n_docs - t->n + 0.5) / (t->n + 0.5));
        for (int j = 0; j < t->n; j++) {
            const ws_posting *ps = &t->post[j];
            double norm = ix->cache[ix->norm[ps->doc]];
            float s = idf * (float)(ps->tf / (ps->tf + norm));
            if (dacc[ps->doc] == 0) touched[nt++] = ps->doc;
            dacc[ps->doc] += s;
        }
    }
    /* keep the k best in a heap whose root is the worst kept hit, then sort those k */
    ws_hit *heap = hp_xmalloc((size_t)k * sizeof(ws_hit));
    int nh = 0;
    for (int i = 0; i < nt; i++) {
        float s = (float)dacc[touched[i]];
        ws_hit h = {touched[i], (int64_t)llround((double)s * 1e4), p[touched[i]].asin};
        if (nh < k) {
            int c = nh++;
            while (c > 0 && ws_hit_cmp(&heap[(c - 1) / 2], &h) < 0) heap[c] = heap[(c - 1) / 2], c = (c - 1) / 2;
            heap[c] = h;
        } else if (ws_hit_cmp(&h, &heap[0]) < 0) {
            int c = 0;
            for (;;) {
                int l = 2 * c + 1, r = l + 1, m = c;
                const ws_hit *worst = &h;
                if (l < nh && ws_hit_cmp(&heap[l], worst) > 0) m = l, worst = &heap[l];
                if (r < nh && ws_hit_cmp(&heap[r], worst) > 0) m = r;
                if (m == c) break;
                heap[c] = heap[m];
                c = m;
            }
            heap[c] = h;
        }
    }
    qsort(heap, (size_t)nh, sizeof(ws_hit), ws_hit_cmp);
    int n = nh;
    for (int i = 0; i < n; i++) out[i] = heap[i].doc;
    ws_hit *hits = heap;
    free(hits);
    for (int i = 0; i < nt; i++) dacc[touched[i]] = 0; /* leave the scratch zeroed */
    return n;
}
