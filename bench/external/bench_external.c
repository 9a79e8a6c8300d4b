/* Steps per second of a built-in environment in process vs served over the external protocol
 * (`hiper serve`), with batches of 1..64 environments per request. Each configuration runs for about
 * a second: random admissible actions, reset on done.
 *
 *   bench_external [seconds] [alfworld|webshop|all] [hiper binary]   (results: bench/README.md, "external") */
#include "hiper/env.h"
#include "hiper/external.h"

#include <stdlib.h>
#include <string.h>

#define MAX_ENVS 64

/* Reset to a random episode (a few tries: an environment may refuse some indices). */
static int reset_env(hp_env *e, const char *split, int64_t size, hp_rng *r, hp_err *err) {
    for (int tries = 0; tries < 10; tries++)
        if (!hp_env_reset(e, split, (int64_t)hp_rng_below(r, (uint64_t)size), hp_rng_u64(r) >> 12, err)) return HP_OK;
    return HP_FAIL;
}

/* Run n envs for `seconds`; batched through hp_env_step_batch. Returns steps/s, or -1. */
static double run(hp_env **envs, int n, const char *split, double seconds, hp_err *err) {
    hp_rng r;
    hp_rng_seed(&r, 1, 0);
    int64_t size = hp_env_split_size(envs[0], split, err);
    if (size <= 0) return -1;
    for (int i = 0; i < n; i++)
        if (reset_env(envs[i], split, size, &r, err)) return -1;
    char *acts[MAX_ENVS];
    int64_t steps = 0;
    double t0 = hp_now(), t = t0;
    while (t - t0 < seconds) {
        for (int k = 0; k < 64; k++) {
            for (int i = 0; i < n; i++) {
                const hp_env_view *v = hp_env_get_view(envs[i]);
                acts[i] = hp_xstrdup(v->n_admissible ? v->admissible[hp_rng_below(&r, (uint64_t)v->n_admissible)] : "look");
            }
            int rc = hp_env_step_batch(envs, n, (const char *const *)acts, err);
            for (int i = 0; i < n; i++) free(acts[i]);
            if (rc) return -1;
            steps += n;
            for (int i = 0; i < n; i++)
                if (hp_env_get_view(envs[i])->done && reset_env(envs[i], split, size, &r, err)) return -1;
        }
        t = hp_now();
    }
    return (double)steps / (t - t0);
}

static int bench_kind(const char *kind, const char *opts_json, const char *split, const char *cli, double seconds) {
    hp_err err = {{0}};
    cJSON *opts = opts_json ? cJSON_Parse(opts_json) : NULL;
    static const int sizes[] = {1, 16, 64};
    for (size_t s = 0; s < sizeof sizes / sizeof sizes[0]; s++) {
        int n = sizes[s];
        hp_env *in[MAX_ENVS] = {0}, *ex[MAX_ENVS] = {0};
        for (int i = 0; i < n; i++)
            if (!(in[i] = hp_env_open(kind, opts, &err))) goto fail;
        hp_buf cmd = {0};
        hp_buf_printf(&cmd, "%s serve --env %s", cli, kind);
        if (opts_json) hp_buf_printf(&cmd, " --env-options '%s'", opts_json);
        cJSON *xo = cJSON_CreateObject();
        cJSON_AddStringToObject(xo, "cmd", cmd.data);
        hp_buf_free(&cmd);
        ex[0] = hp_external_open(xo, &err);
        cJSON_Delete(xo);
        if (!ex[0]) goto fail;
        for (int i = 1; i < n; i++)
            if (!(ex[i] = hp_external_attach(ex[0], &err))) goto fail;
        double a = run(in, n, split, seconds, &err);
        double b = a < 0 ? -1 : run(ex, n, split, seconds, &err);
        if (b < 0) goto fail;
        fflush(stderr);
        printf("%-9s envs %3d   in process %12.0f steps/s   served %10.0f steps/s   (%.1f%%)\n", kind, n, a, b,
               100.0 * b / a);
        fflush(stdout);
        for (int i = 0; i < n; i++) {
            hp_env_free(in[i]);
            hp_env_free(ex[i]);
        }
        continue;
    fail:
        fprintf(stderr, "bench_external: %s: %s\n", kind, err.msg);
        for (int i = 0; i < n; i++) {
            hp_env_free(in[i]);
            hp_env_free(ex[i]);
        }
        cJSON_Delete(opts);
        return 1;
    }
    cJSON_Delete(opts);
    return 0;
}

int main(int argc, char **argv) {
    double seconds = argc > 1 ? atof(argv[1]) : 1.0;
    const char *which = argc > 2 ? argv[2] : "all";
    const char *cli = argc > 3 ? argv[3] : HP_CLI;
    int rc = 0;
    if (!strcmp(which, "all") || !strcmp(which, "alfworld")) rc |= bench_kind("alfworld", NULL, "train", cli, seconds);
    if (!strcmp(which, "all") || !strcmp(which, "webshop"))
        rc |= bench_kind("webshop", "{\"data_dir\": \"" HP_DATA_DIR "/webshop\"}", "train", cli, seconds);
    return rc;
}
