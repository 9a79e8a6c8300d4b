/* Arena allocator and the small text helpers the WebShop pages need (Python-compatible strip and
 * float printing). */
#include "env/webshop/ws.h"

#include <stdlib.h>
#include <string.h>

struct ws_arena_block {
    ws_arena_block *next;
    size_t used, cap;
    max_align_t data[];
};

void *ws_arena_alloc(ws_arena *a, size_t n) {
    n = (n + 15) & ~(size_t)15;
    ws_arena_block *b = a->head;
    if (!b || b->used + n > b->cap) {
        size_t cap = n > (1u << 20) ? n : (1u << 20);
        b = hp_xmalloc(sizeof *b + cap);
        b->used = 0;
        b->cap = cap;
        b->next = a->head;
        a->head = b;
    }
    void *p = (char *)b->data + b->used;
    b->used += n;
    memset(p, 0, n);
    return p;
}

char *ws_arena_strndup(ws_arena *a, const char *s, size_t n) {
    char *d = ws_arena_alloc(a, n + 1);
    memcpy(d, s, n);
    d[n] = 0;
    return d;
}

char *ws_arena_strdup(ws_arena *a, const char *s) { return ws_arena_strndup(a, s, strlen(s)); }

void ws_arena_free(ws_arena *a) {
    while (a->head) {
        ws_arena_block *n = a->head->next;
        free(a->head);
        a->head = n;
    }
}

void ws_lower_inplace(char *s) {
    for (; *s; s++)
        if (*s >= 'A' && *s <= 'Z') *s = (char)(*s + 32);
}

char *ws_lower(const char *s) {
    char *d = hp_xstrdup(s);
    ws_lower_inplace(d);
    return d;
}

static bool ws_is_space(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f'; }

const char *ws_strip(const char *s, size_t *len) {
    size_t n = strlen(s);
    while (n && ws_is_space(*s)) s++, n--;
    while (n && ws_is_space(s[n - 1])) n--;
    *len = n;
    return s;
}

/* Shortest representation that reads back as the same double, then Python's ".0" for integers. */
void ws_py_float(double v, char *buf, size_t cap) {
    for (int prec = 1; prec <= 17; prec++) {
        snprintf(buf, cap, "%.*g", prec, v);
        if (strtod(buf, NULL) == v) break;
    }
    if (!strpbrk(buf, ".eni")) {
        size_t n = strlen(buf);
        if (n + 3 <= cap) memcpy(buf + n, ".0", 3);
    }
}
