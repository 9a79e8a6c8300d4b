/* replay.c — runs files through a harness's LLVMFuzzerTestOneInput without libFuzzer: the ctest test
 * fuzz_replay_NAME replays tests/fuzz/corpus/NAME (the seeds) and tests/fuzz/regress/NAME (inputs that
 * once crashed), so that every build checks them; with arguments, those files or directories. */
#include "fuzz.h"

#include <dirent.h>
#include <sys/stat.h>

static int replay_file(const char *path) {
    char *data = NULL;
    size_t len = 0;
    hp_err err;
    if (hp_read_file(path, &data, &len, &err)) {
        fprintf(stderr, "%s\n", err.msg);
        return 1;
    }
    LLVMFuzzerTestOneInput((const uint8_t *)data, len);
    free(data);
    return 0;
}

/* Every regular file under path (sorted for a stable order); returns the count, -1 on error. */
static int cmp_str(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

static int replay_path(const char *path) {
    struct stat st;
    if (stat(path, &st) != 0) return 0; /* no regressions yet */
    if (!S_ISDIR(st.st_mode)) return replay_file(path) ? -1 : 1;
    DIR *d = opendir(path);
    if (!d) return -1;
    char **names = NULL;
    size_t n = 0;
    for (struct dirent *e; (e = readdir(d));) {
        if (e->d_name[0] == '.') continue;
        names = hp_xrealloc(names, (n + 1) * sizeof *names);
        names[n++] = hp_path_join(path, e->d_name);
    }
    closedir(d);
    qsort(names, n, sizeof *names, cmp_str);
    int count = 0;
    for (size_t i = 0; i < n; i++) {
        int r = replay_path(names[i]);
        if (r < 0) count = -1;
        else if (count >= 0) count += r;
        free(names[i]);
    }
    free(names);
    return count;
}

int main(int argc, char **argv) {
    int total = 0;
    if (argc > 1) {
        for (int i = 1; i < argc && total >= 0; i++) {
            int r = replay_path(argv[i]);
            total = r < 0 ? -1 : total + r;
        }
    } else {
        const char *sub[] = {"corpus", "regress"};
        for (int i = 0; i < 2 && total >= 0; i++) {
            char dir[1024];
            snprintf(dir, sizeof dir, "%s/tests/fuzz/%s/%s", HP_SOURCE_DIR, sub[i], FUZZ_NAME);
            int r = replay_path(dir);
            total = r < 0 ? -1 : total + r;
        }
    }
    if (total < 0) return 1;
    printf("%s: %d inputs replayed, no crash\n", FUZZ_NAME, total);
    return total > 0 ? 0 : 1;
}
