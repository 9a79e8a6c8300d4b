/* Safetensors reading (mmap, F32/BF16/F16 → f32, sharded index) — see hiper/safetensors.h. */
#include "hiper/safetensors.h"
#include "hiper/json.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

typedef struct st_map {
    char *path;
    void *base;
    size_t size;
} st_map;

struct hp_st {
    st_map *maps;
    int n_maps;
    hp_st_tensor *t;
    int n, cap;
};

float hp_bf16_to_f32(uint16_t h) {
    uint32_t u = (uint32_t)h << 16;
    float f;
    memcpy(&f, &u, 4);
    return f;
}

uint16_t hp_f32_to_bf16(float f) {
    uint32_t u;
    memcpy(&u, &f, 4);
    if ((u & 0x7fffffffu) > 0x7f800000u) return (uint16_t)((u >> 16) | 0x40); /* quiet NaN */
    u += 0x7fffu + ((u >> 16) & 1u);
    return (uint16_t)(u >> 16);
}

float hp_f16_to_f32(uint16_t h) {
    uint32_t sign = (uint32_t)(h & 0x8000u) << 16;
    int exp = (h >> 10) & 0x1f;
    uint32_t mant = h & 0x3ffu;
    float f;
    if (exp == 0) {
        f = ldexpf((float)mant, -24); /* zero and subnormals */
        uint32_t u;
        memcpy(&u, &f, 4);
        u |= sign;
        memcpy(&f, &u, 4);
        return f;
    }
    uint32_t u;
    if (exp == 31) u = sign | 0x7f800000u | (mant << 13);
    else u = sign | ((uint32_t)(exp - 15 + 127) << 23) | (mant << 13);
    memcpy(&f, &u, 4);
    return f;
}

static size_t dtype_size(const char *d, hp_dtype *dt) {
    static const struct { const char *n; size_t s; hp_dtype t; } tab[] = {
        {"F32", 4, HP_DT_F32}, {"BF16", 2, HP_DT_BF16}, {"F16", 2, HP_DT_F16},
        {"F64", 8, HP_DT_OTHER}, {"I64", 8, HP_DT_OTHER}, {"I32", 4, HP_DT_OTHER},
        {"I16", 2, HP_DT_OTHER}, {"I8", 1, HP_DT_OTHER}, {"U8", 1, HP_DT_OTHER},
        {"BOOL", 1, HP_DT_OTHER}, {"U16", 2, HP_DT_OTHER}, {"U32", 4, HP_DT_OTHER},
        {"U64", 8, HP_DT_OTHER}, {"F8_E4M3", 1, HP_DT_OTHER}, {"F8_E5M2", 1, HP_DT_OTHER},
    };
    for (size_t i = 0; i < sizeof tab / sizeof tab[0]; i++)
        if (!strcmp(tab[i].n, d)) {
            *dt = tab[i].t;
            return tab[i].s;
        }
    return 0;
}

static int map_file(const char *path, st_map *m, hp_err *err) {
    int fd = open(path, O_RDONLY);
    if (fd < 0) return hp_fail(err, "%s: cannot open: %s", path, strerror(errno));
    struct stat sb;
    if (fstat(fd, &sb) != 0) {
        close(fd);
        return hp_fail(err, "%s: cannot stat: %s", path, strerror(errno));
    }
    m->size = (size_t)sb.st_size;
    m->base = NULL;
    if (m->size > 0) {
        m->base = mmap(NULL, m->size, PROT_READ, MAP_PRIVATE, fd, 0);
        if (m->base == MAP_FAILED) {
            close(fd);
            m->base = NULL;
            return hp_fail(err, "%s: cannot map: %s", path, strerror(errno));
        }
    }
    close(fd);
    m->path = hp_xstrdup(path);
    return HP_OK;
}

static int parse_entry(hp_st *st, const st_map *m, const uint8_t *data, size_t data_len,
                       const cJSON *e, hp_err *err) {
    const char *name = e->string;
    if (!cJSON_IsObject(e)) return hp_fail(err, "%s: tensor '%s': header entry is not an object", m->path, name);
    const cJSON *dt = cJSON_GetObjectItemCaseSensitive(e, "dtype");
    const cJSON *sh = cJSON_GetObjectItemCaseSensitive(e, "shape");
    const cJSON *off = cJSON_GetObjectItemCaseSensitive(e, "data_offsets");
    if (!cJSON_IsString(dt)) return hp_fail(err, "%s: tensor '%s': missing or bad 'dtype'", m->path, name);
    if (!cJSON_IsArray(sh)) return hp_fail(err, "%s: tensor '%s': missing or bad 'shape'", m->path, name);
    if (!cJSON_IsArray(off) || cJSON_GetArraySize(off) != 2)
        return hp_fail(err, "%s: tensor '%s': missing or bad 'data_offsets'", m->path, name);
    hp_st_tensor t = {0};
    t.name = name;
    t.dtype_name = dt->valuestring;
    size_t esz = dtype_size(dt->valuestring, &t.dtype);
    if (!esz) return hp_fail(err, "%s: tensor '%s': unknown dtype '%s'", m->path, name, dt->valuestring);
    t.ndim = cJSON_GetArraySize(sh);
    if (t.ndim > HP_ST_MAX_DIMS) return hp_fail(err, "%s: tensor '%s': too many dimensions", m->path, name);
    t.numel = 1;
    for (int i = 0; i < t.ndim; i++) {
        const cJSON *d = cJSON_GetArrayItem(sh, i);
        if (!cJSON_IsNumber(d) || d->valuedouble < 0 || d->valuedouble != floor(d->valuedouble) ||
            d->valuedouble > 9e15)
            return hp_fail(err, "%s: tensor '%s': bad shape entry", m->path, name);
        t.shape[i] = (int64_t)d->valuedouble;
        if (t.shape[i] > 0 && t.numel > ((int64_t)1 << 50) / t.shape[i])
            return hp_fail(err, "%s: tensor '%s': shape is too large", m->path, name);
        t.numel *= t.shape[i];
    }
    const cJSON *b0 = cJSON_GetArrayItem(off, 0), *b1 = cJSON_GetArrayItem(off, 1);
    if (!cJSON_IsNumber(b0) || !cJSON_IsNumber(b1) || b0->valuedouble < 0 || b1->valuedouble < b0->valuedouble ||
        b1->valuedouble > 9e15)
        return hp_fail(err, "%s: tensor '%s': bad data_offsets", m->path, name);
    size_t begin = (size_t)b0->valuedouble, end = (size_t)b1->valuedouble;
    if (end > data_len)
        return hp_fail(err, "%s: tensor '%s': data [%zu, %zu) runs past the end of the file (%zu data bytes; truncated?)",
                       m->path, name, begin, end, data_len);
    if ((size_t)t.numel * esz != end - begin)
        return hp_fail(err, "%s: tensor '%s': %zu data bytes do not match shape and dtype %s (%zu expected)",
                       m->path, name, end - begin, t.dtype_name, (size_t)t.numel * esz);
    t.data = data + begin;
    t.nbytes = end - begin;
    t.file = m->path;
    if (st->n == st->cap) {
        st->cap = st->cap ? st->cap * 2 : 64;
        st->t = hp_xrealloc(st->t, (size_t)st->cap * sizeof *st->t);
    }
    st->t[st->n++] = t;
    return HP_OK;
}

/* Headers are kept alive (cJSON trees own the names) in a side list. */
typedef struct st_headers {
    cJSON **h;
    int n;
} st_headers;

static int add_file(hp_st *st, st_headers *hs, const char *path, hp_err *err) {
    st->maps = hp_xrealloc(st->maps, (size_t)(st->n_maps + 1) * sizeof *st->maps);
    st_map *m = &st->maps[st->n_maps];
    memset(m, 0, sizeof *m);
    if (map_file(path, m, err)) return HP_FAIL;
    st->n_maps++;
    if (m->size < 8) return hp_fail(err, "%s: file too short for a safetensors header (%zu bytes)", path, m->size);
    uint64_t hlen = 0;
    const uint8_t *p = m->base;
    for (int i = 7; i >= 0; i--) hlen = (hlen << 8) | p[i];
    if (hlen > m->size - 8)
        return hp_fail(err, "%s: header length %llu exceeds the file size %zu (truncated?)", path,
                       (unsigned long long)hlen, m->size);
    cJSON *h = cJSON_ParseWithLength((const char *)p + 8, (size_t)hlen);
    if (!h || !cJSON_IsObject(h)) {
        cJSON_Delete(h);
        return hp_fail(err, "%s: header is not valid JSON", path);
    }
    hs->h = hp_xrealloc(hs->h, (size_t)(hs->n + 1) * sizeof *hs->h);
    hs->h[hs->n++] = h;
    const uint8_t *data = p + 8 + hlen;
    size_t data_len = m->size - 8 - (size_t)hlen;
    for (const cJSON *e = h->child; e; e = e->next) {
        if (!strcmp(e->string, "__metadata__")) continue;
        if (parse_entry(st, m, data, data_len, e, err)) return HP_FAIL;
    }
    return HP_OK;
}

/* The cJSON headers hang off the hp_st through this trailing allocation. */
typedef struct hp_st_full {
    hp_st st;
    st_headers hs;
} hp_st_full;

static int open_index(hp_st_full *f, const char *index_path, hp_err *err) {
    char *text;
    size_t len;
    if (hp_read_file(index_path, &text, &len, err)) return HP_FAIL;
    cJSON *j = cJSON_ParseWithLength(text, len);
    free(text);
    const cJSON *wm = j ? cJSON_GetObjectItemCaseSensitive(j, "weight_map") : NULL;
    if (!cJSON_IsObject(wm)) {
        cJSON_Delete(j);
        return hp_fail(err, "%s: not a safetensors index (no 'weight_map' object)", index_path);
    }
    const char *twice = hp_json_duplicate_key(wm, false);
    if (twice) {
        hp_fail(err, "%s: weight_map lists tensor '%s' twice", index_path, twice);
        cJSON_Delete(j);
        return HP_FAIL;
    }
    char *dir = hp_xstrdup(index_path);
    char *slash = strrchr(dir, '/');
    if (slash) *slash = '\0';
    else strcpy(dir, ".");
    int rc = HP_OK;
    /* Each shard once, in order of first appearance. */
    char **seen = NULL;
    int n_seen = 0;
    for (const cJSON *e = wm->child; e && rc == HP_OK; e = e->next) {
        if (!cJSON_IsString(e)) {
            rc = hp_fail(err, "%s: weight_map['%s'] is not a file name", index_path, e->string);
            break;
        }
        /* A shard is a file next to the index: a path could open any file on the machine. */
        const char *shard = e->valuestring;
        if (!shard[0] || strchr(shard, '/') || !strcmp(shard, ".") || !strcmp(shard, "..")) {
            rc = hp_fail(err, "%s: weight_map['%s'] names '%s', which is not a file name in the model directory "
                         "(a shard name has no '/' and is not '..')", index_path, e->string, shard);
            break;
        }
        bool dup = false;
        for (int i = 0; i < n_seen; i++) dup |= !strcmp(seen[i], e->valuestring);
        if (dup) continue;
        seen = hp_xrealloc(seen, (size_t)(n_seen + 1) * sizeof *seen);
        seen[n_seen++] = e->valuestring;
        char *p = hp_path_join(dir, e->valuestring);
        rc = add_file(&f->st, &f->hs, p, err);
        free(p);
    }
    /* Every indexed tensor must exist in its shard. */
    for (const cJSON *e = wm->child; e && rc == HP_OK; e = e->next)
        if (!hp_st_find(&f->st, e->string))
            rc = hp_fail(err, "%s: tensor '%s' listed in the index is missing from %s", index_path,
                         e->string, e->valuestring);
    free(seen);
    free(dir);
    cJSON_Delete(j);
    return rc;
}

hp_st *hp_st_open(const char *path, hp_err *err) {
    hp_st_full *f = hp_xcalloc(1, sizeof *f);
    int rc;
    if (hp_is_dir(path)) {
        char *idx = hp_path_join(path, "model.safetensors.index.json");
        char *one = hp_path_join(path, "model.safetensors");
        if (hp_path_exists(idx)) rc = open_index(f, idx, err);
        else if (hp_path_exists(one)) rc = add_file(&f->st, &f->hs, one, err);
        else rc = hp_fail(err, "%s: no model.safetensors or model.safetensors.index.json", path);
        free(idx);
        free(one);
    } else if (hp_str_ends(path, ".json")) {
        rc = open_index(f, path, err);
    } else {
        rc = add_file(&f->st, &f->hs, path, err);
    }
    if (rc == HP_OK) {
        /* Duplicate names across shards are an error. */
        for (int i = 0; i < f->st.n && rc == HP_OK; i++)
            for (int k = 0; k < i; k++)
                if (!strcmp(f->st.t[i].name, f->st.t[k].name)) {
                    rc = hp_fail(err, "%s: tensor '%s' appears twice", f->st.t[i].file, f->st.t[i].name);
                    break;
                }
    }
    if (rc != HP_OK) {
        hp_st_close(&f->st);
        return NULL;
    }
    return &f->st;
}

void hp_st_close(hp_st *st) {
    if (!st) return;
    hp_st_full *f = (hp_st_full *)st;
    for (int i = 0; i < st->n_maps; i++) {
        if (st->maps[i].base) munmap(st->maps[i].base, st->maps[i].size);
        free(st->maps[i].path);
    }
    for (int i = 0; i < f->hs.n; i++) cJSON_Delete(f->hs.h[i]);
    free(f->hs.h);
    free(st->maps);
    free(st->t);
    free(f);
}

int hp_st_count(const hp_st *st) { return st->n; }
const hp_st_tensor *hp_st_at(const hp_st *st, int i) { return i >= 0 && i < st->n ? &st->t[i] : NULL; }

const hp_st_tensor *hp_st_find(const hp_st *st, const char *name) {
    for (int i = 0; i < st->n; i++)
        if (!strcmp(st->t[i].name, name)) return &st->t[i];
    return NULL;
}

int hp_st_tensor_f32(const hp_st_tensor *t, float *out, hp_err *err) {
    const uint8_t *p = t->data;
    switch (t->dtype) {
    case HP_DT_F32: memcpy(out, p, (size_t)t->numel * 4); break;
    case HP_DT_BF16:
        for (int64_t i = 0; i < t->numel; i++) {
            uint16_t h;
            memcpy(&h, p + 2 * i, 2);
            out[i] = hp_bf16_to_f32(h);
        }
        break;
    case HP_DT_F16:
        for (int64_t i = 0; i < t->numel; i++) {
            uint16_t h;
            memcpy(&h, p + 2 * i, 2);
            out[i] = hp_f16_to_f32(h);
        }
        break;
    default:
        return hp_fail(err, "%s: tensor '%s': dtype %s is not supported (F32, BF16, F16 are)", t->file,
                       t->name, t->dtype_name);
    }
    return HP_OK;
}

static void shape_str(char *s, size_t n, int ndim, const int64_t *shape) {
    size_t k = (size_t)snprintf(s, n, "[");
    for (int i = 0; i < ndim && k < n; i++)
        k += (size_t)snprintf(s + k, n - k, "%s%lld", i ? ", " : "", (long long)shape[i]);
    if (k < n) snprintf(s + k, n - k, "]");
}

int hp_st_read_f32(const hp_st *st, const char *name, int ndim, const int64_t *shape, float *out,
                   hp_err *err) {
    const hp_st_tensor *t = hp_st_find(st, name);
    if (!t)
        return hp_fail(err, "%s: tensor '%s' is missing", st->n_maps ? st->maps[0].path : "safetensors", name);
    bool ok = t->ndim == ndim;
    for (int i = 0; ok && i < ndim; i++) ok = t->shape[i] == shape[i];
    if (!ok) {
        char a[128], b[128];
        shape_str(a, sizeof a, t->ndim, t->shape);
        shape_str(b, sizeof b, ndim, shape);
        return hp_fail(err, "%s: tensor '%s' has shape %s, expected %s", t->file, name, a, b);
    }
    return hp_st_tensor_f32(t, out, err);
}
