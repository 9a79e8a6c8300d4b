/* fuzz.h — shared by the libFuzzer harnesses of tests/fuzz (one per parser; see README.md there).
 *
 * Each harness defines LLVMFuzzerTestOneInput. Built with clang and -DHP_FUZZ=ON it becomes a fuzzer
 * (fuzz_NAME, libFuzzer's main); every build also links it with replay.c into fuzz_replay_NAME, a
 * ctest test that runs the seed corpus and the crash regressions through it. A harness aborts (via
 * FUZZ_CHECK) when a property of the parser's result does not hold, so that libFuzzer reports it. */
#ifndef HIPER_FUZZ_H
#define HIPER_FUZZ_H

#include "hiper/base.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define FUZZ_CHECK(cond)                                                                          \
    do {                                                                                          \
        if (!(cond)) {                                                                            \
            fprintf(stderr, "%s:%d: property failed: %s\n", __FILE__, __LINE__, #cond);           \
            abort();                                                                              \
        }                                                                                         \
    } while (0)

/* A NUL-terminated copy of the input (caller frees). */
static inline char *fuzz_cstr(const uint8_t *data, size_t size) {
    char *s = hp_xmalloc(size + 1);
    if (size) memcpy(s, data, size);
    s[size] = '\0';
    return s;
}

/* A private directory for the files a harness must write (in /dev/shm when there is one), made once
 * per process and removed at exit. */
static char fuzz_dir_path[64];

static inline void fuzz_dir_cleanup(void) {
    hp_err e;
    if (fuzz_dir_path[0]) hp_remove_tree(fuzz_dir_path, &e);
}

static inline const char *fuzz_dir(void) {
    if (!fuzz_dir_path[0]) {
        snprintf(fuzz_dir_path, sizeof fuzz_dir_path, "%s/hp_fuzz.XXXXXX",
                 access("/dev/shm", W_OK) == 0 ? "/dev/shm" : "/tmp");
        if (!mkdtemp(fuzz_dir_path)) abort();
        atexit(fuzz_dir_cleanup);
    }
    return fuzz_dir_path;
}

/* Write data to dir/name (replacing it); returns the path (caller frees). */
static inline char *fuzz_write(const char *name, const void *data, size_t size) {
    char *path = hp_path_join(fuzz_dir(), name);
    FILE *f = fopen(path, "wb");
    if (!f || (size && fwrite(data, 1, size, f) != size) || fclose(f) != 0) abort();
    return path;
}

#endif /* HIPER_FUZZ_H */
