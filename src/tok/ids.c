/* hp_ids: a growable array of token ids. */
#include "hiper/tok.h"

#include <stdlib.h>
#include <string.h>

static void ids_reserve(hp_ids *ids, size_t extra) {
    if (ids->len + extra <= ids->cap) return;
    size_t cap = ids->cap ? ids->cap : 16;
    while (cap < ids->len + extra) cap *= 2;
    ids->data = hp_xrealloc(ids->data, cap * sizeof *ids->data);
    ids->cap = cap;
}

void hp_ids_push(hp_ids *ids, int32_t id) {
    ids_reserve(ids, 1);
    ids->data[ids->len++] = id;
}

void hp_ids_append(hp_ids *ids, const int32_t *src, size_t n) {
    if (!n) return;
    ids_reserve(ids, n);
    memcpy(ids->data + ids->len, src, n * sizeof *src);
    ids->len += n;
}

void hp_ids_clear(hp_ids *ids) { ids->len = 0; }

void hp_ids_free(hp_ids *ids) {
    free(ids->data);
    memset(ids, 0, sizeof *ids);
}
