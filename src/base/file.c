/* Whole-file reads, atomic writes and small path helpers (see hiper/base.h). */
#include "hiper/base.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

int hp_read_file(const char *path, char **data, size_t *len, hp_err *err) {
    FILE *f = fopen(path, "rb");
    if (!f) return hp_fail(err, "%s: cannot open: %s", path, strerror(errno));
    hp_buf b = {0};
    char chunk[1 << 16];
    size_t n;
    while ((n = fread(chunk, 1, sizeof chunk, f)) > 0) hp_buf_append(&b, chunk, n);
    int bad = ferror(f);
    fclose(f);
    if (bad) {
        hp_buf_free(&b);
        return hp_fail(err, "%s: read error", path);
    }
    if (len) *len = b.len;
    *data = hp_buf_take(&b);
    return HP_OK;
}

int hp_afile_open(hp_afile *af, const char *path, hp_err *err) {
    memset(af, 0, sizeof *af);
    af->path = hp_xstrdup(path);
    hp_buf t = {0};
    hp_buf_printf(&t, "%s.tmp.%ld", path, (long)getpid());
    af->tmp = hp_buf_take(&t);
    af->fp = fopen(af->tmp, "wb");
    if (!af->fp) {
        int e = errno;
        free(af->path);
        free(af->tmp);
        memset(af, 0, sizeof *af);
        return hp_fail(err, "%s: cannot create: %s", path, strerror(e));
    }
    return HP_OK;
}

/* The reason of a failed write, for messages: errno when the failing call set it. */
static const char *why(int e) { return e ? strerror(e) : "I/O error"; }

int hp_afile_commit(hp_afile *af, hp_err *err) {
    int rc = HP_OK;
    errno = 0;
    if (fflush(af->fp) != 0) rc = hp_fail(err, "%s: write error: %s", af->path, why(errno));
    else if (ferror(af->fp)) rc = hp_fail(err, "%s: write error (an earlier write failed)", af->path);
    if (rc == HP_OK && fsync(fileno(af->fp)) != 0) rc = hp_fail(err, "%s: fsync: %s", af->path, strerror(errno));
    if (fclose(af->fp) != 0 && rc == HP_OK) rc = hp_fail(err, "%s: close: %s", af->path, strerror(errno));
    af->fp = NULL;
    if (rc == HP_OK && rename(af->tmp, af->path) != 0) rc = hp_fail(err, "%s: rename: %s", af->path, strerror(errno));
    if (rc != HP_OK) unlink(af->tmp);
    free(af->path);
    free(af->tmp);
    af->path = af->tmp = NULL;
    return rc;
}

void hp_afile_abort(hp_afile *af) {
    if (af->fp) fclose(af->fp);
    if (af->tmp) unlink(af->tmp);
    free(af->path);
    free(af->tmp);
    memset(af, 0, sizeof *af);
}

int hp_write_file_atomic(const char *path, const void *data, size_t len, hp_err *err) {
    hp_afile af;
    if (hp_afile_open(&af, path, err)) return HP_FAIL;
    errno = 0;
    if (len && fwrite(data, 1, len, af.fp) != len) {
        int e = errno;
        hp_afile_abort(&af);
        return hp_fail(err, "%s: write error: %s", path, why(e));
    }
    return hp_afile_commit(&af, err);
}

int hp_write_text_atomic(const char *path, const char *text, hp_err *err) {
    hp_afile af;
    if (hp_afile_open(&af, path, err)) return HP_FAIL;
    errno = 0;
    if (fputs(text, af.fp) == EOF || fputc('\n', af.fp) == EOF) {
        int e = errno;
        hp_afile_abort(&af);
        return hp_fail(err, "%s: write error: %s", path, why(e));
    }
    return hp_afile_commit(&af, err);
}

int hp_mkdirs(const char *path, hp_err *err) {
    char *p = hp_xstrdup(path);
    for (char *s = p + 1; *s; s++) {
        if (*s != '/') continue;
        *s = '\0';
        if (mkdir(p, 0777) != 0 && errno != EEXIST) {
            int e = errno;
            hp_fail(err, "%s: cannot create directory: %s", p, strerror(e));
            free(p);
            return HP_FAIL;
        }
        *s = '/';
    }
    int rc = HP_OK;
    if (mkdir(p, 0777) != 0 && errno != EEXIST) rc = hp_fail(err, "%s: cannot create directory: %s", p, strerror(errno));
    else if (!hp_is_dir(p)) rc = hp_fail(err, "%s: exists and is not a directory", p);
    free(p);
    return rc;
}

bool hp_path_exists(const char *path) {
    struct stat st;
    return stat(path, &st) == 0;
}

bool hp_is_dir(const char *path) {
    struct stat st;
    return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

char *hp_path_join(const char *dir, const char *name) {
    hp_buf b = {0};
    hp_buf_puts(&b, dir);
    if (b.len && b.data[b.len - 1] != '/') hp_buf_putc(&b, '/');
    hp_buf_puts(&b, name);
    return hp_buf_take(&b);
}

int hp_remove_tree(const char *path, hp_err *err) {
    struct stat st;
    if (lstat(path, &st) != 0) return errno == ENOENT ? HP_OK : hp_fail(err, "%s: %s", path, strerror(errno));
    if (S_ISDIR(st.st_mode)) {
        DIR *d = opendir(path);
        if (!d) return hp_fail(err, "%s: %s", path, strerror(errno));
        struct dirent *e;
        int rc = HP_OK;
        while (rc == HP_OK && (e = readdir(d)) != NULL) {
            if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, "..")) continue;
            char *child = hp_path_join(path, e->d_name);
            rc = hp_remove_tree(child, err);
            free(child);
        }
        closedir(d);
        if (rc) return rc;
        if (rmdir(path) != 0) return hp_fail(err, "%s: %s", path, strerror(errno));
        return HP_OK;
    }
    if (unlink(path) != 0) return hp_fail(err, "%s: %s", path, strerror(errno));
    return HP_OK;
}

int hp_dir_replace(const char *src, const char *dst, hp_err *err) {
    if (!hp_path_exists(dst)) {
        if (rename(src, dst) != 0) return hp_fail(err, "%s: rename to %s: %s", src, dst, strerror(errno));
        return HP_OK;
    }
    hp_buf old = {0};
    hp_buf_printf(&old, "%s.old.%ld", dst, (long)getpid());
    int rc = HP_OK;
    if (rename(dst, old.data) != 0) rc = hp_fail(err, "%s: rename: %s", dst, strerror(errno));
    else if (rename(src, dst) != 0) {
        rc = hp_fail(err, "%s: rename to %s: %s", src, dst, strerror(errno));
        if (rename(old.data, dst) != 0) { /* best effort: the old copy stays at old.data */ }
    } else {
        hp_err ignored;
        hp_remove_tree(old.data, &ignored);
    }
    hp_buf_free(&old);
    return rc;
}

double hp_now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}
