/* manifest.c — a checkpoint's manifest.json: every file of the checkpoint directory with its size and
 * FNV-1a 64 checksum, written last (atomically) into the directory before it is swapped in, and
 * checked whole before a checkpoint is used. A file missing, added, shorter, longer or changed in one
 * byte is one error naming the file. */
#include "train_internal.h"

#include "hiper/json.h"

#include <cjson/cJSON.h>
#include <dirent.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#define MANIFEST "manifest.json"
#define MANIFEST_FORMAT "hiper-checkpoint-1"

/* Size and FNV-1a 64 of a whole file. */
static int file_digest(const char *path, uint64_t *size, uint64_t *hash, hp_err *err) {
    FILE *f = fopen(path, "rb");
    if (!f) return hp_fail(err, "%s: cannot open: %s", path, strerror(errno));
    uint64_t h = 0xcbf29ce484222325ULL, n = 0;
    unsigned char *buf = hp_xmalloc(1 << 16);
    size_t got;
    while ((got = fread(buf, 1, 1 << 16, f)) > 0) {
        for (size_t i = 0; i < got; i++) h = (h ^ buf[i]) * 0x100000001b3ULL;
        n += got;
    }
    int bad = ferror(f);
    fclose(f);
    free(buf);
    if (bad) return hp_fail(err, "%s: read error", path);
    *size = n;
    *hash = h;
    return HP_OK;
}

typedef struct names {
    char **v;
    size_t n, cap;
} names;

static void names_free(names *ns) {
    for (size_t i = 0; i < ns->n; i++) free(ns->v[i]);
    free(ns->v);
}

static int cmp_name(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

/* Every regular file under root/rel (relative names, "a/b"), the manifest itself left out. Anything
 * but files and directories (a link, a socket) is an error: a checkpoint holds nothing else. */
static int list_files(const char *root, const char *rel, names *out, hp_err *err) {
    char *dir = rel[0] ? hp_path_join(root, rel) : hp_xstrdup(root);
    DIR *d = opendir(dir);
    if (!d) {
        int e = errno;
        free(dir);
        return hp_fail(err, "%s: cannot list: %s", root, strerror(e));
    }
    int rc = HP_OK;
    struct dirent *e;
    while (rc == HP_OK && (e = readdir(d))) {
        if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, "..")) continue;
        if (!rel[0] && !strcmp(e->d_name, MANIFEST)) continue;
        char *name = rel[0] ? hp_path_join(rel, e->d_name) : hp_xstrdup(e->d_name);
        char *path = hp_path_join(root, name);
        struct stat st;
        if (lstat(path, &st) != 0) rc = hp_fail(err, "%s: %s", path, strerror(errno));
        else if (S_ISDIR(st.st_mode)) rc = list_files(root, name, out, err);
        else if (!S_ISREG(st.st_mode)) rc = hp_fail(err, "%s: not a regular file", path);
        else {
            if (out->n == out->cap) {
                out->cap = out->cap ? 2 * out->cap : 16;
                out->v = hp_xrealloc(out->v, out->cap * sizeof *out->v);
            }
            out->v[out->n++] = name;
            name = NULL;
        }
        free(name);
        free(path);
    }
    closedir(d);
    free(dir);
    return rc;
}

int hp_ckpt_manifest_write(const char *dir, hp_err *err) {
    names ns = {0};
    int rc = list_files(dir, "", &ns, err);
    if (rc == HP_OK) qsort(ns.v, ns.n, sizeof *ns.v, cmp_name);
    cJSON *files = cJSON_CreateObject();
    for (size_t i = 0; rc == HP_OK && i < ns.n; i++) {
        char *path = hp_path_join(dir, ns.v[i]);
        uint64_t size = 0, hash = 0;
        rc = file_digest(path, &size, &hash, err);
        free(path);
        if (rc) break;
        char hex[17];
        snprintf(hex, sizeof hex, "%016" PRIx64, hash);
        cJSON *f = cJSON_CreateObject();
        cJSON_AddNumberToObject(f, "size", (double)size);
        cJSON_AddStringToObject(f, "fnv1a64", hex);
        cJSON_AddItemToObject(files, ns.v[i], f);
    }
    names_free(&ns);
    if (rc) {
        cJSON_Delete(files);
        return rc;
    }
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "format", MANIFEST_FORMAT);
    cJSON_AddItemToObject(o, "files", files);
    char *text = cJSON_Print(o);
    cJSON_Delete(o);
    char *path = hp_path_join(dir, MANIFEST);
    rc = hp_write_text_atomic(path, text, err);
    free(path);
    cJSON_free(text);
    return rc;
}

/* A name the manifest may list: relative, inside the directory. */
static bool safe_name(const char *s) {
    if (!s[0] || s[0] == '/') return false;
    for (const char *p = s; *p;) {
        const char *q = strchr(p, '/');
        size_t len = q ? (size_t)(q - p) : strlen(p);
        if (len == 0 || (len == 1 && p[0] == '.') || (len == 2 && p[0] == '.' && p[1] == '.')) return false;
        p += len + (q ? 1 : 0);
        if (q && !*p) return false;
    }
    return true;
}

int hp_ckpt_manifest_check(const char *dir, hp_err *err) {
    char *mpath = hp_path_join(dir, MANIFEST);
    if (!hp_path_exists(mpath)) {
        hp_fail(err, "%s: missing: the checkpoint is incomplete (or was written by a hiper without checkpoint "
                "manifests); it cannot be verified", mpath);
        free(mpath);
        return HP_FAIL;
    }
    char *text = NULL;
    size_t len = 0;
    if (hp_read_file(mpath, &text, &len, err)) {
        free(mpath);
        return HP_FAIL;
    }
    cJSON *o = cJSON_ParseWithLength(text, len);
    free(text);
    const cJSON *fmt = cJSON_GetObjectItemCaseSensitive(o, "format");
    const cJSON *files = cJSON_GetObjectItemCaseSensitive(o, "files");
    const char *dup = o ? hp_json_duplicate_key(o, true) : NULL;
    int rc = HP_OK;
    if (!cJSON_IsObject(o)) rc = hp_fail(err, "%s: not a JSON object", mpath);
    else if (dup) rc = hp_fail(err, "%s: key '%s' given twice", mpath, dup);
    else if (!cJSON_IsString(fmt) || strcmp(fmt->valuestring, MANIFEST_FORMAT))
        rc = hp_fail(err, "%s: key 'format': expected \"%s\"", mpath, MANIFEST_FORMAT);
    else if (!cJSON_IsObject(files)) rc = hp_fail(err, "%s: key 'files': expected an object", mpath);
    const cJSON *f;
    if (rc == HP_OK) {
        cJSON_ArrayForEach(f, files) {
            const cJSON *sz = cJSON_GetObjectItemCaseSensitive(f, "size");
            const cJSON *hx = cJSON_GetObjectItemCaseSensitive(f, "fnv1a64");
            if (!safe_name(f->string)) {
                rc = hp_fail(err, "%s: file name '%s' is not inside the checkpoint", mpath, f->string);
                break;
            }
            if (!cJSON_IsNumber(sz) || sz->valuedouble < 0 || sz->valuedouble > 9e15 || !cJSON_IsString(hx)) {
                rc = hp_fail(err, "%s: '%s': expected a size and an fnv1a64 checksum", mpath, f->string);
                break;
            }
            char *path = hp_path_join(dir, f->string);
            struct stat st;
            uint64_t size = 0, hash = 0;
            if (stat(path, &st) != 0 || !S_ISREG(st.st_mode))
                rc = hp_fail(err, "%s: missing (listed in %s); the checkpoint is incomplete", path, mpath);
            else if ((uint64_t)st.st_size != (uint64_t)sz->valuedouble)
                rc = hp_fail(err, "%s: %lld bytes, but %s says %.0f; the checkpoint is damaged", path,
                             (long long)st.st_size, mpath, sz->valuedouble);
            else if ((rc = file_digest(path, &size, &hash, err)) == HP_OK) {
                char hex[17];
                snprintf(hex, sizeof hex, "%016" PRIx64, hash);
                if (strcmp(hex, hx->valuestring))
                    rc = hp_fail(err, "%s: checksum (FNV-1a 64) %s, but %s says %s; the file was changed or damaged",
                                 path, hex, mpath, hx->valuestring);
            }
            free(path);
            if (rc) break;
        }
    }
    /* Nothing more than listed: a file the manifest does not know (an optimizer state next to a
     * checkpoint that had none, say) would be read unverified. */
    names ns = {0};
    if (rc == HP_OK) rc = list_files(dir, "", &ns, err);
    for (size_t i = 0; rc == HP_OK && i < ns.n; i++)
        if (!cJSON_GetObjectItemCaseSensitive(files, ns.v[i])) {
            char *path = hp_path_join(dir, ns.v[i]);
            rc = hp_fail(err, "%s: not listed in %s; the checkpoint was changed after it was written", path, mpath);
            free(path);
        }
    /* And never less than a checkpoint holds. */
    static const char *const required[] = {"state.json", "actor/config.json", "actor/model.safetensors"};
    for (size_t i = 0; rc == HP_OK && i < sizeof required / sizeof required[0]; i++)
        if (!cJSON_GetObjectItemCaseSensitive(files, required[i]))
            rc = hp_fail(err, "%s: lists no %s; the checkpoint is incomplete", mpath, required[i]);
    names_free(&ns);
    cJSON_Delete(o);
    free(mpath);
    return rc;
}
