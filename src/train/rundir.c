/* rundir.c — what keeps a run directory consistent across interruptions: one lock per directory, the
 * JSONL files cut back to the work a checkpoint committed, and the named points where the fault tests
 * kill the trainer (see train_internal.h and docs/reliability.md). */
#include "train_internal.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <unistd.h>

int hp_run_lock(const char *dir, int *fd_out, hp_err *err) {
    *fd_out = -1;
    char *path = hp_path_join(dir, "lock");
    int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0644), rc = HP_OK;
    if (fd < 0 && (errno == EROFS || errno == EACCES)) {
        int e = errno;
        fd = open(path, O_RDONLY | O_CLOEXEC);
        /* A read-only file system, or a directory this user may not write to: no run of this user can
         * write here, so there is nothing to lock against (a finished run resumes as a no-op). */
        if (fd < 0 && errno == ENOENT && (e == EROFS || access(dir, W_OK) != 0)) {
            free(path);
            return HP_OK;
        }
    }
    if (fd < 0) rc = hp_fail(err, "%s: cannot open the run directory's lock: %s", path, strerror(errno));
    else if (flock(fd, LOCK_EX | LOCK_NB) != 0) {
        int e = errno;
        char pid[32] = "";
        ssize_t n = pread(fd, pid, sizeof pid - 1, 0);
        pid[n > 0 ? n : 0] = '\0';
        pid[strcspn(pid, "\n")] = '\0';
        if (e == EWOULDBLOCK)
            rc = hp_fail(err, "%s: another hiper train%s%s%s is using this run directory; wait for it to end or stop it",
                         path, pid[0] ? " (pid " : "", pid, pid[0] ? ")" : "");
        else
            rc = hp_fail(err, "%s: cannot lock: %s", path, strerror(e));
        close(fd);
        fd = -1;
    } else {
        /* The holder's pid, for the message above; informational only, so a failure to write it (a
         * full disk) is left to the run's own writes to report. */
        char pid[32];
        int n = snprintf(pid, sizeof pid, "%ld\n", (long)getpid());
        if (ftruncate(fd, 0) == 0 && pwrite(fd, pid, (size_t)n, 0) != n) { /* see above */ }
    }
    free(path);
    *fd_out = fd;
    return rc;
}

void hp_run_unlock(int fd) {
    if (fd >= 0) close(fd); /* closing the last descriptor releases the flock */
}

/* The "step" (and whether the "kind" is "val") of one complete line. Trajectory lines start with
 * {"step":N, so most lines of rollouts.jsonl need no parse. */
static bool line_step(const char *line, size_t len, int64_t *step, bool *val) {
    static const char fast[] = "{\"step\":";
    *val = false;
    if (len > sizeof fast && !memcmp(line, fast, sizeof fast - 1)) {
        char *end;
        long long s = strtoll(line + sizeof fast - 1, &end, 10);
        if (end > line + sizeof fast - 1 && (*end == ',' || *end == '}')) {
            *step = s;
            return true;
        }
    }
    cJSON *o = cJSON_ParseWithLength(line, len);
    const cJSON *s = cJSON_GetObjectItemCaseSensitive(o, "step");
    const cJSON *k = cJSON_GetObjectItemCaseSensitive(o, "kind");
    bool ok = cJSON_IsNumber(s) && s->valuedouble >= 0 && s->valuedouble < 9e15;
    if (ok) *step = (int64_t)s->valuedouble;
    *val = cJSON_IsString(k) && !strcmp(k->valuestring, "val");
    cJSON_Delete(o);
    return ok;
}

int hp_run_trim_jsonl(const char *path, int64_t next_step, int64_t final_step, int64_t *dropped, hp_err *err) {
    *dropped = 0;
    FILE *f = fopen(path, "rb");
    if (!f) return errno == ENOENT ? HP_OK : hp_fail(err, "%s: cannot open: %s", path, strerror(errno));
    char *line = NULL;
    size_t cap = 0;
    ssize_t n;
    int64_t lineno = 0, off = 0, cut = -1, cut_step = 0;
    int rc = HP_OK;
    while ((n = getline(&line, &cap, f)) > 0) {
        lineno++;
        if (line[n - 1] != '\n') { /* the last line, torn by an interruption while it was written */
            if (cut < 0) cut = off;
            (*dropped)++;
            break;
        }
        int64_t step = 0;
        bool val = false;
        if (!line_step(line, (size_t)n - 1, &step, &val)) {
            rc = hp_fail(err, "%s:%lld: not a JSON object with a \"step\" (the file is damaged)", path,
                         (long long)lineno);
            break;
        }
        /* a step's record (metrics, rollouts) has the number of updates done after it (1 .. total): kept up
         * to next_step; a validation at next_step ran before that step and is redone */
        bool keep = val ? step < next_step || (final_step >= 0 && step == final_step) : step <= next_step;
        if (!keep && cut < 0) cut = off, cut_step = step;
        if (keep && cut >= 0) {
            rc = hp_fail(err, "%s:%lld: a line of step %lld after one of step %lld (the file is out of order)", path,
                         (long long)lineno, (long long)step, (long long)cut_step);
            break;
        }
        if (!keep) (*dropped)++;
        off += n;
    }
    if (rc == HP_OK && ferror(f)) rc = hp_fail(err, "%s: read error", path);
    free(line);
    fclose(f);
    if (rc == HP_OK && cut >= 0 && truncate(path, (off_t)cut) != 0)
        rc = hp_fail(err, "%s: cannot cut back to the checkpoint's step %lld: %s", path, (long long)next_step,
                     strerror(errno));
    return rc;
}

void hp_test_kill_point(const char *point, int64_t step) {
    const char *want = getenv("HIPER_TEST_KILL");
    if (!want || !want[0]) return;
    char here[160];
    snprintf(here, sizeof here, "%s@%lld", point, (long long)step);
    if (!strcmp(want, point) || !strcmp(want, here)) raise(SIGKILL);
}
