/* metrics.c — the run's metrics.jsonl: one JSON object per line, each with a "step"; appended and
 * flushed to disk line by line, and cut back to a checkpoint's step on resume. */
#include "train_internal.h"

#include <cjson/cJSON.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int hp_metrics_append(const char *path, const char *line, hp_err *err) {
    FILE *fp = fopen(path, "a");
    if (!fp) return hp_fail(err, "%s: cannot open for appending", path);
    fputs(line, fp);
    fputc('\n', fp);
    int bad = fflush(fp) != 0 || fsync(fileno(fp)) != 0;
    bad |= fclose(fp) != 0;
    return bad ? hp_fail(err, "%s: write failed", path) : HP_OK;
}

int hp_metrics_truncate(const char *path, int64_t next_step, hp_err *err) {
    if (!hp_path_exists(path)) return HP_OK;
    char *text;
    size_t len;
    if (hp_read_file(path, &text, &len, err)) return HP_FAIL;
    hp_buf keep = {0};
    char *save = NULL;
    for (char *line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
        cJSON *o = cJSON_Parse(line);
        const cJSON *s = cJSON_GetObjectItemCaseSensitive(o, "step");
        /* A torn last line (no valid JSON) is dropped too. */
        if (o && cJSON_IsNumber(s) && (int64_t)s->valuedouble < next_step) {
            hp_buf_puts(&keep, line);
            hp_buf_putc(&keep, '\n');
        }
        cJSON_Delete(o);
    }
    free(text);
    int rc = hp_write_file_atomic(path, keep.data ? keep.data : "", keep.len, err);
    hp_buf_free(&keep);
    return rc;
}
