/* Encode throughput of the tokenizer (and BPE training time) on one text file.
 *   bench_tok TOKENIZER_JSON TEXT_FILE [REPEATS]
 * Prints one line per measurement; bench/tok/run.sh runs it next to the JS reference. */
#include "hiper/tok.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

/* CPU seconds of this process: the machine is shared, so wall time overstates the cost. */
static double cpu_now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

int main(int argc, char **argv) {
    if (argc < 3) {
        fprintf(stderr, "usage: bench_tok TOKENIZER_JSON TEXT_FILE [REPEATS]\n");
        return 2;
    }
    int reps = argc > 3 ? atoi(argv[3]) : 5;
    hp_err err = {{0}};
    double t0 = hp_now();
    hp_tok *t = hp_tok_load(argv[1], &err);
    if (!t) {
        fprintf(stderr, "%s\n", err.msg);
        return 1;
    }
    double load_s = hp_now() - t0;
    char *text = NULL;
    size_t len = 0;
    if (hp_read_file(argv[2], &text, &len, &err)) {
        fprintf(stderr, "%s\n", err.msg);
        return 1;
    }
    hp_ids ids = {0};
    double best = 1e30, best_cpu = 1e30;
    for (int r = 0; r < reps; r++) {
        hp_ids_clear(&ids);
        double s = hp_now(), sc = cpu_now();
        if (hp_tok_encode(t, text, len, &ids, &err)) {
            fprintf(stderr, "%s\n", err.msg);
            return 1;
        }
        double d = hp_now() - s, dc = cpu_now() - sc;
        if (d < best) best = d;
        if (dc < best_cpu) best_cpu = dc;
    }
    printf("C   load %.3f s | encode %.2f MB in %.3f s: %.2f MB/s, %.0f tokens/s (%zu tokens, best of %d)\n", load_s,
           (double)len / 1e6, best, (double)len / 1e6 / best, (double)ids.len / best, ids.len, reps);
    printf("C   encode by CPU time: %.2f MB/s, %.0f tokens/s\n", (double)len / 1e6 / best_cpu, (double)ids.len / best_cpu);
    /* many short texts, as the agent encodes prompts: one call per line */
    size_t lines = 0;
    double s = hp_now();
    for (char *p = text, *e; p < text + len; p = e + 1) {
        e = memchr(p, '\n', (size_t)(text + len - p));
        if (!e) e = text + len;
        hp_ids_clear(&ids);
        hp_tok_encode(t, p, (size_t)(e - p), &ids, &err);
        lines++;
    }
    double d = hp_now() - s;
    printf("C   encode line by line (%zu calls): %.2f MB/s\n", lines, (double)len / 1e6 / d);
    hp_tok_stream st;
    hp_tok_stream_init(&st, t);
    hp_ids_clear(&ids);
    hp_tok_encode(t, text, len, &ids, &err);
    hp_buf out = {0};
    s = hp_now();
    for (size_t i = 0; i < ids.len; i++) hp_tok_stream_put(&st, ids.data[i], &out);
    hp_tok_stream_finish(&st, &out);
    d = hp_now() - s;
    printf("C   stream decode: %.0f tokens/s (round trip %s)\n", (double)ids.len / d, out.len ? "ok" : "empty");
    hp_buf_free(&out);
    hp_tok_stream_free(&st);
    char dir[] = "/tmp/hp_bench_tok_XXXXXX";
    if (mkdtemp(dir)) {
        s = hp_now();
        int rc = hp_tok_train(text, len, 8000, dir, &err);
        d = hp_now() - s;
        if (rc) fprintf(stderr, "%s\n", err.msg);
        else printf("C   train vocab 8000 on %.2f MB: %.2f s\n", (double)len / 1e6, d);
        hp_remove_tree(dir, &err);
    }
    hp_ids_free(&ids);
    free(text);
    hp_tok_free(t);
    return 0;
}
