/* Safetensors writing (F32 / BF16, header padded with spaces to 8 bytes) — see hiper/safetensors.h. */
#include "hiper/safetensors.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

typedef struct wt {
    char *name;
    hp_dtype dtype;
    int ndim;
    int64_t shape[HP_ST_MAX_DIMS];
    int64_t numel;
    const float *data;
} wt;

struct hp_st_writer {
    wt *t;
    int n, cap;
};

hp_st_writer *hp_st_writer_new(void) { return hp_xcalloc(1, sizeof(hp_st_writer)); }

void hp_st_writer_add(hp_st_writer *w, const char *name, hp_dtype dtype, int ndim,
                      const int64_t *shape, const float *data) {
    if (w->n == w->cap) {
        w->cap = w->cap ? 2 * w->cap : 64;
        w->t = hp_xrealloc(w->t, (size_t)w->cap * sizeof *w->t);
    }
    wt *t = &w->t[w->n++];
    memset(t, 0, sizeof *t);
    t->name = hp_xstrdup(name);
    t->dtype = dtype == HP_DT_BF16 ? HP_DT_BF16 : HP_DT_F32;
    t->ndim = ndim;
    t->numel = 1;
    for (int i = 0; i < ndim; i++) {
        t->shape[i] = shape[i];
        t->numel *= shape[i];
    }
    t->data = data;
}

static void json_str(hp_buf *b, const char *s) {
    hp_buf_putc(b, '"');
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        if (c == '"' || c == '\\') {
            hp_buf_putc(b, '\\');
            hp_buf_putc(b, (char)c);
        } else if (c < 0x20) hp_buf_printf(b, "\\u%04x", c);
        else hp_buf_putc(b, (char)c);
    }
    hp_buf_putc(b, '"');
}

int hp_st_writer_write(hp_st_writer *w, const char *path, hp_err *err) {
    for (int i = 0; i < w->n; i++)
        for (int k = 0; k < i; k++)
            if (!strcmp(w->t[i].name, w->t[k].name))
                return hp_fail(err, "%s: tensor '%s' added twice", path, w->t[i].name);
    hp_buf h = {0};
    hp_buf_puts(&h, "{\"__metadata__\":{\"format\":\"pt\"}");
    uint64_t off = 0;
    for (int i = 0; i < w->n; i++) {
        const wt *t = &w->t[i];
        uint64_t nb = (uint64_t)t->numel * (t->dtype == HP_DT_BF16 ? 2 : 4);
        hp_buf_putc(&h, ',');
        json_str(&h, t->name);
        hp_buf_printf(&h, ":{\"dtype\":\"%s\",\"shape\":[", t->dtype == HP_DT_BF16 ? "BF16" : "F32");
        for (int d = 0; d < t->ndim; d++) hp_buf_printf(&h, "%s%lld", d ? "," : "", (long long)t->shape[d]);
        hp_buf_printf(&h, "],\"data_offsets\":[%llu,%llu]}", (unsigned long long)off,
                      (unsigned long long)(off + nb));
        off += nb;
    }
    hp_buf_putc(&h, '}');
    while (h.len % 8) hp_buf_putc(&h, ' ');
    hp_afile af;
    if (hp_afile_open(&af, path, err)) {
        hp_buf_free(&h);
        return HP_FAIL;
    }
    uint8_t len8[8];
    for (int i = 0; i < 8; i++) len8[i] = (uint8_t)((uint64_t)h.len >> (8 * i));
    errno = 0;
    bool ok = fwrite(len8, 1, 8, af.fp) == 8 && fwrite(h.data, 1, h.len, af.fp) == h.len;
    hp_buf_free(&h);
    uint16_t tmp[4096];
    for (int i = 0; ok && i < w->n; i++) {
        const wt *t = &w->t[i];
        if (t->dtype == HP_DT_F32) {
            ok = fwrite(t->data, 4, (size_t)t->numel, af.fp) == (size_t)t->numel;
            continue;
        }
        for (int64_t s = 0; ok && s < t->numel; s += 4096) {
            int64_t n = t->numel - s < 4096 ? t->numel - s : 4096;
            for (int64_t k = 0; k < n; k++) tmp[k] = hp_f32_to_bf16(t->data[s + k]);
            ok = fwrite(tmp, 2, (size_t)n, af.fp) == (size_t)n;
        }
    }
    if (!ok) {
        int e = errno; /* set by the write that failed */
        hp_afile_abort(&af);
        return hp_fail(err, "%s: write failed: %s", path, e ? strerror(e) : "I/O error");
    }
    return hp_afile_commit(&af, err);
}

void hp_st_writer_free(hp_st_writer *w) {
    if (!w) return;
    for (int i = 0; i < w->n; i++) free(w->t[i].name);
    free(w->t);
    free(w);
}
