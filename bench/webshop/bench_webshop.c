/* bench_webshop: build time, search latency and env steps/s of the WebShop environment (thread CPU time).
 * usage: bench_webshop DATA_DIR [num_products ...]   (default 1000 100000) */
#include "env/webshop/ws.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

/* Thread CPU seconds: the shared 2-core machine runs other builds, so wall time is noisy. */
static double cpu_now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static int cmp_d(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static int bench(const char *data_dir, int n) {
    char buf[1024];
    snprintf(buf, sizeof buf, "{\"data_dir\": \"%s\", \"num_products\": %d, \"max_steps\": 15}", data_dir, n);
    cJSON *o = cJSON_Parse(buf);
    hp_err err = {{0}};
    double t0 = cpu_now();
    hp_env *e = hp_webshop_open(o, &err);
    cJSON_Delete(o);
    if (!e) {
        fprintf(stderr, "%s\n", err.msg);
        return 1;
    }
    double t_open = cpu_now() - t0;
    const ws_world *w = ((ws_env *)e)->world;
    /* search latency: the goals' key words as queries */
    int nq = 1000, res[WS_TOP_N];
    double *lat = hp_xmalloc((size_t)nq * sizeof(double));
    for (int i = 0; i < nq; i++) {
        double t = cpu_now();
        ws_index_search(w->index, w->products, w->goals[i % w->n_goals].keywords, WS_TOP_N, res);
        lat[i] = cpu_now() - t;
    }
    qsort(lat, (size_t)nq, sizeof(double), cmp_d);
    double mean = 0;
    for (int i = 0; i < nq; i++) mean += lat[i];
    mean /= nq;
    /* steps/s: a random policy over the admissible actions (search uses the goal's key words) */
    hp_rng r;
    hp_rng_seed(&r, 1, 2);
    long steps = 0, episodes = 0;
    double t1 = cpu_now();
    while (cpu_now() - t1 < 3.0) {
        hp_env_reset(e, "train", (int64_t)hp_rng_below(&r, (uint64_t)hp_env_split_size(e, "train", &err)), 0, &err);
        const hp_env_view *v = hp_env_get_view(e);
        char act[1024];
        while (!v->done) {
            const char *a = v->admissible[hp_rng_below(&r, (uint64_t)v->n_admissible)];
            if (hp_str_starts(a, "search[") || hp_rng_uniform(&r) < 0.05)
                snprintf(act, sizeof act, "search[%s]", w->goals[((ws_env *)e)->st.goal].keywords);
            else
                snprintf(act, sizeof act, "%s", a);
            hp_env_step(e, act, &err);
            v = hp_env_get_view(e);
            steps++;
        }
        episodes++;
    }
    double sps = steps / (cpu_now() - t1);
    /* the expert: steps/s and score on the test split */
    hp_webshop_expert *ex = hp_webshop_expert_create(&err);
    long es = 0;
    double score = 0, t2 = cpu_now();
    int ne = (int)hp_env_split_size(e, "test", &err);
    for (int i = 0; i < ne; i++) {
        hp_env_reset(e, "test", i, 0, &err);
        const hp_env_view *v = hp_env_get_view(e);
        while (!v->done) {
            const char *a, *s;
            hp_webshop_expert_act(ex, e, &a, &s, &err);
            hp_env_step(e, a, &err);
            v = hp_env_get_view(e);
            es++;
        }
        score += v->score;
    }
    double esps = es / (cpu_now() - t2);
    printf("| %d | %d | %.2f | %.1f | %.1f | %.1f | %.0f | %.0f | %.4f |\n", n, w->n_goals, t_open, mean * 1e6,
           lat[nq / 2] * 1e6, lat[nq * 99 / 100] * 1e6, sps, esps, score / ne);
    hp_webshop_expert_free(ex);
    free(lat);
    hp_env_free(e);
    return 0;
}

int main(int argc, char **argv) {
    if (argc < 2) {
        fprintf(stderr, "usage: bench_webshop DATA_DIR [num_products ...]\n");
        return 2;
    }
    printf("| products | goals | build s | search mean us | p50 us | p99 us | random steps/s | expert steps/s | expert score |\n");
    printf("|---|---|---|---|---|---|---|---|---|\n");
    if (argc == 2) return bench(argv[1], 1000) || bench(argv[1], 100000);
    for (int i = 2; i < argc; i++)
        if (bench(argv[1], atoi(argv[i]))) return 1;
    return 0;
}
