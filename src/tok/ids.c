/* hp_ids: a growable array of token ids. */
#include "hiper/tok.h"

#include <cjson/cJSON.h>
#include <math.h>
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

/* ---- sequences of ids from a file (hiper score --ids) ---- */

static int line_of(const char *text, const char *at) {
    int line = 1;
    for (const char *p = text; p < at; p++) line += *p == '\n';
    return line;
}

static void push_offset(int64_t **offs, int *n_seq, int *cap, int64_t end) {
    if (*n_seq + 1 >= *cap) {
        *cap *= 2;
        *offs = hp_xrealloc(*offs, (size_t)*cap * sizeof **offs);
    }
    (*offs)[++*n_seq] = end;
}

/* One JSON id: an integral number in [0, INT32_MAX]. */
static bool json_id(const cJSON *v, int32_t *id) {
    if (!cJSON_IsNumber(v)) return false;
    double d = v->valuedouble;
    if (!(d >= 0 && d <= (double)INT32_MAX) || d != floor(d)) return false;
    *id = (int32_t)d;
    return true;
}

static int parse_json_seqs(const char *text, size_t len, const char *path, hp_ids *ids, int64_t **offs,
                           int *n_seq, int *cap, hp_err *err) {
    const char *end = NULL;
    cJSON *root = cJSON_ParseWithLengthOpts(text, len, &end, false);
    if (!root) {
        size_t at = end && end >= text && end <= text + len ? (size_t)(end - text) : 0;
        return hp_fail(err, "%s:%d: not valid JSON (near byte %zu)", path, line_of(text, text + at), at);
    }
    for (const char *p = end; p < text + len; p++)
        if (!strchr(" \t\r\n", *p)) {
            cJSON_Delete(root);
            return hp_fail(err, "%s:%d: text after the JSON list of ids", path, line_of(text, p));
        }
    int rc = HP_OK;
    if (!cJSON_IsArray(root) || !root->child) {
        rc = hp_fail(err, "%s: expected a JSON list of token ids or a list of such lists", path);
    } else if (cJSON_IsArray(root->child)) { /* a list of sequences */
        int i = 0;
        for (const cJSON *s = root->child; s && rc == HP_OK; s = s->next, i++) {
            if (!cJSON_IsArray(s)) {
                rc = hp_fail(err, "%s: element [%d] is not a list of ids (every element of a list of sequences must be one)", path, i);
                break;
            }
            if (!s->child) rc = hp_fail(err, "%s: sequence [%d] is empty", path, i);
            int j = 0;
            for (const cJSON *v = s->child; v && rc == HP_OK; v = v->next, j++) {
                int32_t id;
                if (!json_id(v, &id)) rc = hp_fail(err, "%s: element [%d][%d] is not a token id (an integer in [0, 2^31))", path, i, j);
                else hp_ids_push(ids, id);
            }
            if (rc == HP_OK) push_offset(offs, n_seq, cap, (int64_t)ids->len);
        }
    } else { /* one sequence */
        int j = 0;
        for (const cJSON *v = root->child; v && rc == HP_OK; v = v->next, j++) {
            int32_t id;
            if (cJSON_IsArray(v))
                rc = hp_fail(err, "%s: element [%d] is a list among ids (several sequences are written "
                                  "[[...], [...]], all lists)", path, j);
            else if (!json_id(v, &id)) rc = hp_fail(err, "%s: element [%d] is not a token id (an integer in [0, 2^31))", path, j);
            else hp_ids_push(ids, id);
        }
        if (rc == HP_OK) push_offset(offs, n_seq, cap, (int64_t)ids->len);
    }
    cJSON_Delete(root);
    return rc;
}

static int parse_text_seqs(const char *text, size_t len, const char *path, hp_ids *ids, int64_t **offs,
                           int *n_seq, int *cap, hp_err *err) {
    int line = 1;
    size_t at_line_start = ids->len;
    for (size_t i = 0; i <= len;) {
        char c = i < len ? text[i] : '\n';
        if (c == '\n') {
            if (ids->len > at_line_start) push_offset(offs, n_seq, cap, (int64_t)ids->len);
            at_line_start = ids->len;
            line++;
            i++;
        } else if (c == ' ' || c == '\t' || c == '\r' || c == ',') {
            i++;
        } else if (c >= '0' && c <= '9') {
            int64_t v = 0;
            size_t k = i;
            while (k < len && text[k] >= '0' && text[k] <= '9' && v <= INT32_MAX) v = v * 10 + (text[k++] - '0');
            if (v > INT32_MAX)
                return hp_fail(err, "%s:%d: token id %.*s... is larger than 2^31 - 1", path, line,
                               (int)(len - i < 12 ? len - i : 12), text + i);
            if (k < len && !strchr(" \t\r\n,", text[k]))
                return hp_fail(err, "%s:%d: '%.*s' is not a token id", path, line, (int)(k - i + 1), text + i);
            hp_ids_push(ids, (int32_t)v);
            i = k;
        } else {
            if (c == '\0') return hp_fail(err, "%s:%d: a NUL byte in the ids", path, line);
            return hp_fail(err, "%s:%d: unexpected character '%c' in the ids (integers separated by spaces or commas, "
                                "one sequence per line, or a JSON list)", path, line, c);
        }
    }
    return HP_OK;
}

int hp_ids_parse_seqs(const char *text, size_t len, const char *path, hp_ids *ids, int64_t **offs, int *n_seq,
                      hp_err *err) {
    int cap = 16;
    *n_seq = 0;
    *offs = hp_xmalloc((size_t)cap * sizeof **offs);
    (*offs)[0] = 0;
    ids->len = 0;
    size_t s = 0;
    while (s < len && strchr(" \t\r\n", text[s]) && text[s]) s++;
    int rc = s < len && text[s] == '['
                 ? parse_json_seqs(text, len, path, ids, offs, n_seq, &cap, err)
                 : parse_text_seqs(text, len, path, ids, offs, n_seq, &cap, err);
    if (rc == HP_OK && *n_seq == 0) rc = hp_fail(err, "%s: no token ids", path);
    if (rc) {
        free(*offs);
        *offs = NULL;
        *n_seq = 0;
        ids->len = 0;
    }
    return rc;
}
