/* metrics.c — the run's metrics.jsonl: one JSON object per line, each with a "step"; appended and
 * flushed to disk line by line (cut back to a checkpoint's step on resume by hp_run_trim_jsonl). */
#include "train_internal.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int hp_metrics_append(const char *path, const char *line, hp_err *err) {
    FILE *fp = fopen(path, "a");
    if (!fp) return hp_fail(err, "%s: cannot open for appending: %s", path, strerror(errno));
    errno = 0;
    int bad = fputs(line, fp) == EOF || fputc('\n', fp) == EOF || fflush(fp) != 0 || fsync(fileno(fp)) != 0;
    int e = errno;
    if (fclose(fp) != 0 && !bad) bad = 1, e = errno;
    return bad ? hp_fail(err, "%s: write failed: %s", path, e ? strerror(e) : "I/O error") : HP_OK;
}
