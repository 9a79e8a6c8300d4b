/* adv_index.c — group a batch of turn records by trajectory and sort each trajectory by turn, in
 * linear time: a hash map gives dense trajectory ids, a counting (or two-pass radix) sort orders the
 * rows by turn, and a stable counting sort by trajectory id finishes the job. */
#include "adv_internal.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

static uint64_t mix64(uint64_t x) {
    x ^= x >> 30;
    x *= 0xbf58476d1ce4e5b9ULL;
    x ^= x >> 27;
    x *= 0x94d049bb133111ebULL;
    x ^= x >> 31;
    return x;
}

void hp_idmap_init(hp_idmap *m, size_t max_keys) {
    (void)max_keys; /* the map grows on demand: batches hold far fewer trajectories than rows */
    size_t cap = 64;
    m->keys = hp_xmalloc(cap * sizeof *m->keys);
    m->vals = hp_xcalloc(cap, sizeof *m->vals);
    m->mask = cap - 1;
    m->count = 0;
}

static void idmap_grow(hp_idmap *m) {
    size_t cap = 2 * (m->mask + 1);
    int64_t *keys = hp_xmalloc(cap * sizeof *keys);
    uint32_t *vals = hp_xcalloc(cap, sizeof *vals);
    for (size_t i = 0; i <= m->mask; i++)
        if (m->vals[i]) {
            size_t h = (size_t)mix64((uint64_t)m->keys[i]) & (cap - 1);
            while (vals[h]) h = (h + 1) & (cap - 1);
            keys[h] = m->keys[i];
            vals[h] = m->vals[i];
        }
    free(m->keys);
    free(m->vals);
    m->keys = keys;
    m->vals = vals;
    m->mask = cap - 1;
}

uint32_t hp_idmap_get(hp_idmap *m, int64_t key) {
    size_t h = (size_t)mix64((uint64_t)key) & m->mask;
    while (m->vals[h]) {
        if (m->keys[h] == key) return m->vals[h] - 1;
        h = (h + 1) & m->mask;
    }
    if (2 * ((size_t)m->count + 1) > m->mask + 1) {
        idmap_grow(m);
        return hp_idmap_get(m, key);
    }
    m->keys[h] = key;
    m->vals[h] = ++m->count;
    return m->count - 1;
}

void hp_idmap_free(hp_idmap *m) {
    free(m->keys);
    free(m->vals);
    memset(m, 0, sizeof *m);
}

uint32_t hp_adv_group_ids(const hp_adv_turn *turns, size_t n, uint32_t *group_of) {
    hp_idmap m;
    hp_idmap_init(&m, n);
    for (size_t i = 0; i < n; i++) group_of[i] = hp_idmap_get(&m, turns[i].group);
    uint32_t count = m.count;
    hp_idmap_free(&m);
    return count;
}

int hp_adv_check_finite(double x, size_t row, const char *field, hp_err *err) {
    if (isfinite(x)) return HP_OK;
    return hp_fail(err, "row %zu: %s is not a finite number", row, field);
}

/* Stable counting sort of src[0..n) into dst by key(src[i]) in [0, nkeys). */
static void counting_sort(const size_t *src, size_t *dst, size_t n, const uint32_t *key_of_row,
                          size_t nkeys, size_t *count /* nkeys + 1, scratch */) {
    memset(count, 0, (nkeys + 1) * sizeof *count);
    for (size_t i = 0; i < n; i++) count[key_of_row[src[i]] + 1]++;
    for (size_t k = 0; k < nkeys; k++) count[k + 1] += count[k];
    for (size_t i = 0; i < n; i++) dst[count[key_of_row[src[i]]]++] = src[i];
}

static void fill_starts(hp_adv_index *ix) {
    ix->start = hp_xcalloc(ix->n_traj + 1, sizeof *ix->start);
    for (size_t i = 0; i < ix->n; i++) ix->start[ix->traj_of[i] + 1]++;
    for (size_t k = 0; k < ix->n_traj; k++) ix->start[k + 1] += ix->start[k];
}

int hp_adv_index_build(hp_adv_index *ix, const hp_adv_turn *turns, size_t n, hp_err *err) {
    memset(ix, 0, sizeof *ix);
    int32_t max_turn = 0;
    for (size_t i = 0; i < n; i++) {
        if (turns[i].turn < 0) return hp_fail(err, "row %zu: turn is negative (%d)", i, (int)turns[i].turn);
        if (turns[i].turn > max_turn) max_turn = turns[i].turn;
    }
    ix->n = n;
    ix->traj_of = hp_xmalloc((n ? n : 1) * sizeof *ix->traj_of);
    ix->order = hp_xmalloc((n ? n : 1) * sizeof *ix->order);

    hp_idmap m;
    hp_idmap_init(&m, n);
    for (size_t i = 0; i < n; i++) ix->traj_of[i] = hp_idmap_get(&m, turns[i].traj);
    ix->n_traj = m.count;
    hp_idmap_free(&m);

    /* Fast path: trajectory-major input in turn order (what a rollout produces) is already sorted. */
    bool sorted = true;
    for (size_t i = 1; i < n && sorted; i++)
        sorted = ix->traj_of[i] == ix->traj_of[i - 1] ? turns[i].turn >= turns[i - 1].turn
                                                      : ix->traj_of[i] == ix->traj_of[i - 1] + 1;
    if (sorted) {
        for (size_t i = 0; i < n; i++) ix->order[i] = i;
        fill_starts(ix);
        return HP_OK;
    }

    size_t *a = hp_xmalloc((n ? n : 1) * sizeof *a);
    uint32_t *key = hp_xmalloc((n ? n : 1) * sizeof *key);
    for (size_t i = 0; i < n; i++) a[i] = i;

    /* By turn: one counting pass when the turn range is small (the usual case), else two 16-bit
     * radix passes. */
    size_t range = (size_t)max_turn + 1;
    size_t nbuckets = range <= 4 * n + 1024 ? range : 65536;
    size_t *count = hp_xmalloc((nbuckets > ix->n_traj ? nbuckets : ix->n_traj) * sizeof *count + 2 * sizeof *count);
    if (range == nbuckets) {
        for (size_t i = 0; i < n; i++) key[i] = (uint32_t)turns[i].turn;
        counting_sort(a, ix->order, n, key, nbuckets, count);
    } else {
        for (size_t i = 0; i < n; i++) key[i] = (uint32_t)turns[i].turn & 0xffffu;
        counting_sort(a, ix->order, n, key, 65536, count);
        for (size_t i = 0; i < n; i++) key[i] = (uint32_t)turns[i].turn >> 16;
        counting_sort(ix->order, a, n, key, 65536, count);
        memcpy(ix->order, a, n * sizeof *a);
    }
    /* By trajectory (stable, so the turn order survives). */
    memcpy(a, ix->order, n * sizeof *a);
    counting_sort(a, ix->order, n, ix->traj_of, ix->n_traj, count);

    fill_starts(ix);
    free(count);
    free(key);
    free(a);
    return HP_OK;
}

void hp_adv_index_free(hp_adv_index *ix) {
    free(ix->order);
    free(ix->start);
    free(ix->traj_of);
    memset(ix, 0, sizeof *ix);
}

void hp_adv_mean_std(const double *x, const size_t *idx, size_t m, bool unbiased, double *mean,
                     double *std) {
    double s = 0.0;
    for (size_t j = 0; j < m; j++) s += x[idx ? idx[j] : j];
    double mu = m ? s / (double)m : 0.0;
    double ss = 0.0;
    for (size_t j = 0; j < m; j++) {
        double d = x[idx ? idx[j] : j] - mu;
        ss += d * d;
    }
    double denom = unbiased ? (double)m - 1.0 : (double)m;
    *mean = mu;
    *std = denom > 0 ? sqrt(ss / denom) : 0.0;
}

bool hp_adv_switch_is_keep(const char *w) {
    if (!w) return true;
    if (!strcmp(w, "KEEP")) return true; /* the two words a well-behaved policy writes */
    if (!strcmp(w, "SWITCH")) return false;
    const unsigned char *s = (const unsigned char *)w;
    size_t n = strlen(w);
    /* Python's str.strip(): strip code points with isspace() from both ends. */
    size_t b = 0, e = n;
    for (;;) {
        size_t len = 0;
        if (b < e) {
            unsigned char c = s[b];
            if ((c >= 0x09 && c <= 0x0d) || (c >= 0x1c && c <= 0x20)) len = 1;
            else if (c == 0xc2 && b + 1 < e && (s[b + 1] == 0x85 || s[b + 1] == 0xa0)) len = 2;
            else if (c == 0xe1 && b + 2 < e && s[b + 1] == 0x9a && s[b + 2] == 0x80) len = 3;
            else if (c == 0xe2 && b + 2 < e && s[b + 1] == 0x80 &&
                     (s[b + 2] <= 0x8a || s[b + 2] == 0xa8 || s[b + 2] == 0xa9 || s[b + 2] == 0xaf))
                len = 3;
            else if (c == 0xe2 && b + 2 < e && s[b + 1] == 0x81 && s[b + 2] == 0x9f) len = 3;
            else if (c == 0xe3 && b + 2 < e && s[b + 1] == 0x80 && s[b + 2] == 0x80) len = 3;
        }
        if (!len) break;
        b += len;
    }
    for (;;) {
        size_t len = 0;
        if (e > b) {
            unsigned char c = s[e - 1];
            if ((c >= 0x09 && c <= 0x0d) || (c >= 0x1c && c <= 0x20)) len = 1;
            else if (e - b >= 2 && s[e - 2] == 0xc2 && (c == 0x85 || c == 0xa0)) len = 2;
            else if (e - b >= 3) {
                unsigned char c0 = s[e - 3], c1 = s[e - 2];
                if ((c0 == 0xe1 && c1 == 0x9a && c == 0x80) ||
                    (c0 == 0xe2 && c1 == 0x80 && (c <= 0x8a || c == 0xa8 || c == 0xa9 || c == 0xaf)) ||
                    (c0 == 0xe2 && c1 == 0x81 && c == 0x9f) || (c0 == 0xe3 && c1 == 0x80 && c == 0x80))
                    len = 3;
            }
        }
        if (!len) break;
        e -= len;
    }
    if (e == b) return true; /* empty or whitespace-only content counts as KEEP */
    if (e - b != 4) return false;
    static const char keep[4] = {'K', 'E', 'E', 'P'};
    for (size_t i = 0; i < 4; i++) {
        unsigned char c = s[b + i];
        if (c >= 'a' && c <= 'z') c = (unsigned char)(c - 'a' + 'A');
        if (c != (unsigned char)keep[i]) return false;
    }
    return true;
}
