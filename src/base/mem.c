/* Allocation that aborts on exhaustion, and the growable string buffer (see hiper/base.h). */
#include "hiper/base.h"

#include <stdlib.h>
#include <string.h>

static void out_of_memory(size_t n) {
    fprintf(stderr, "hiper: error: out of memory (asked for %zu bytes)\n", n);
    abort();
}

void *hp_xmalloc(size_t n) {
    void *p = malloc(n ? n : 1);
    if (!p) out_of_memory(n);
    return p;
}

void *hp_xcalloc(size_t count, size_t size) {
    void *p = calloc(count ? count : 1, size ? size : 1);
    if (!p) out_of_memory(count * size);
    return p;
}

void *hp_xrealloc(void *p, size_t n) {
    void *q = realloc(p, n ? n : 1);
    if (!q) out_of_memory(n);
    return q;
}

char *hp_xstrdup(const char *s) { return hp_xstrndup(s, strlen(s)); }

char *hp_xstrndup(const char *s, size_t n) {
    n = strnlen(s, n);
    char *p = hp_xmalloc(n + 1);
    memcpy(p, s, n);
    p[n] = '\0';
    return p;
}

void hp_buf_reserve(hp_buf *b, size_t extra) {
    size_t need = b->len + extra + 1;
    if (need <= b->cap) return;
    size_t cap = b->cap ? b->cap : 64;
    while (cap < need) cap *= 2;
    b->data = hp_xrealloc(b->data, cap);
    b->cap = cap;
}

void hp_buf_append(hp_buf *b, const void *data, size_t n) {
    hp_buf_reserve(b, n);
    if (n) memcpy(b->data + b->len, data, n);
    b->len += n;
    b->data[b->len] = '\0';
}

void hp_buf_puts(hp_buf *b, const char *s) { hp_buf_append(b, s, strlen(s)); }

void hp_buf_putc(hp_buf *b, char c) { hp_buf_append(b, &c, 1); }

void hp_buf_printf(hp_buf *b, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    va_list ap2;
    va_copy(ap2, ap);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n < 0) {
        va_end(ap2);
        return;
    }
    hp_buf_reserve(b, (size_t)n);
    vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap2);
    va_end(ap2);
    b->len += (size_t)n;
}

void hp_buf_json_string(hp_buf *b, const char *s) {
    hp_buf_putc(b, '"');
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        switch (*p) {
        case '"': hp_buf_puts(b, "\\\""); break;
        case '\\': hp_buf_puts(b, "\\\\"); break;
        case '\n': hp_buf_puts(b, "\\n"); break;
        case '\r': hp_buf_puts(b, "\\r"); break;
        case '\t': hp_buf_puts(b, "\\t"); break;
        default:
            if (*p < 0x20) hp_buf_printf(b, "\\u%04x", *p);
            else hp_buf_putc(b, (char)*p);
        }
    }
    hp_buf_putc(b, '"');
}

void hp_buf_clear(hp_buf *b) {
    b->len = 0;
    if (b->data) b->data[0] = '\0';
}

void hp_buf_free(hp_buf *b) {
    free(b->data);
    b->data = NULL;
    b->len = b->cap = 0;
}

char *hp_buf_take(hp_buf *b) {
    char *s = b->data ? b->data : hp_xstrdup("");
    b->data = NULL;
    b->len = b->cap = 0;
    return s;
}
