/* Checks on parsed JSON — see hiper/json.h. */
#include "hiper/json.h"

#include <cjson/cJSON.h>
#include <stdlib.h>
#include <string.h>

static int cmp_key(const void *a, const void *b) {
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* One object's own keys: pairwise for a few, sorted for many. */
static const char *dup_in_object(const cJSON *obj) {
    size_t n = 0;
    for (const cJSON *c = obj->child; c; c = c->next) n++;
    if (n < 2) return NULL;
    if (n <= 16) {
        for (const cJSON *a = obj->child; a; a = a->next)
            for (const cJSON *b = a->next; b; b = b->next)
                if (a->string && b->string && !strcmp(a->string, b->string)) return a->string;
        return NULL;
    }
    const char **keys = hp_xmalloc(n * sizeof *keys);
    size_t k = 0;
    for (const cJSON *c = obj->child; c; c = c->next)
        if (c->string) keys[k++] = c->string;
    qsort(keys, k, sizeof *keys, cmp_key);
    const char *dup = NULL;
    for (size_t i = 1; i < k && !dup; i++)
        if (!strcmp(keys[i - 1], keys[i])) dup = keys[i];
    free(keys);
    return dup;
}

const char *hp_json_duplicate_key(const cJSON *node, bool recursive) {
    if (!node) return NULL;
    if (cJSON_IsObject(node)) {
        const char *d = dup_in_object(node);
        if (d) return d;
    }
    if (recursive && (cJSON_IsObject(node) || cJSON_IsArray(node)))
        for (const cJSON *c = node->child; c; c = c->next) {
            if (!cJSON_IsObject(c) && !cJSON_IsArray(c)) continue;
            const char *d = hp_json_duplicate_key(c, true);
            if (d) return d;
        }
    return NULL;
}
