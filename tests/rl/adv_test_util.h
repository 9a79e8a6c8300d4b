/* adv_test_util.h — helpers shared by the rl tests: read the worked-example fixtures (tests/rl/fixtures), pick a case's lines. */
#ifndef HIPER_TESTS_RL_ADV_TEST_UTIL_H
#define HIPER_TESTS_RL_ADV_TEST_UTIL_H

#include "hiper/base.h"

#include <cjson/cJSON.h>
#include <stdlib.h>
#include <string.h>

#define EXAMPLES HP_SOURCE_DIR "/tests/rl/fixtures/"

static inline char *read_or_die(const char *path) {
    char *data = NULL;
    size_t len = 0;
    hp_err err = {{0}};
    if (hp_read_file(path, &data, &len, &err)) {
        fprintf(stderr, "%s\n", err.msg);
        abort();
    }
    return data;
}

/* The lines of a JSON-lines file whose string field `key` satisfies pred(value, arg), joined with
 * newlines (caller frees). */
static inline char *select_lines(const char *text, const char *key, const char *prefix, bool exact) {
    hp_buf out = {0};
    const char *p = text;
    while (*p) {
        const char *e = strchr(p, '\n');
        size_t len = e ? (size_t)(e - p) : strlen(p);
        cJSON *o = cJSON_ParseWithLength(p, len);
        cJSON *v = o ? cJSON_GetObjectItemCaseSensitive(o, key) : NULL;
        if (v && cJSON_IsString(v)) {
            bool keep = exact ? !strcmp(v->valuestring, prefix)
                              : !strncmp(v->valuestring, prefix, strlen(prefix));
            if (keep) {
                hp_buf_append(&out, p, len);
                hp_buf_putc(&out, '\n');
            }
        }
        cJSON_Delete(o);
        p += len;
        if (*p == '\n') p++;
    }
    return hp_buf_take(&out);
}

/* A JSON array of row objects as JSON lines, the input of hp_adv_batch_parse (caller frees). */
static inline hp_buf rows_jsonl(const cJSON *rows) {
    hp_buf lines = {0};
    const cJSON *row;
    cJSON_ArrayForEach(row, rows) {
        char *t = cJSON_PrintUnformatted(row);
        hp_buf_puts(&lines, t);
        hp_buf_putc(&lines, '\n');
        free(t);
    }
    return lines;
}

#endif
