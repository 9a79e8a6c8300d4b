/* bench_adv — turns per second of each advantage estimator on 10^6 turns, in batches of
 * 128 trajectories × 50 turns (one thread). Usage: bench_adv [total_turns] [shuffled:0|1] [estimator] */
#include "hiper/advantage.h"

#include <stdio.h>
#include <time.h>
#include <stdlib.h>
#include <string.h>

#define N_TRAJ 128
#define T_LEN 50
#define N_DISTINCT 8 /* distinct batches, cycled */

static const char *SUBGOALS[] = {"find the mug", "clean the mug", "put the mug in coffeemachine 1", "go to sink 1"};

static double cpu_now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static hp_adv_turn *make_batch(hp_rng *r, char (*obs)[32], bool shuffle) {
    size_t n = N_TRAJ * T_LEN;
    hp_adv_turn *t = calloc(n, sizeof *t);
    for (size_t k = 0; k < N_TRAJ; k++) {
        bool success = hp_rng_below(r, 2);
        for (size_t p = 0; p < T_LEN; p++) {
            hp_adv_turn *x = &t[k * T_LEN + p];
            x->traj = (int64_t)(k * 7919 + 13);
            x->group = (int64_t)(k / 8); /* 16 task groups of 8 rollouts */
            x->turn = (int32_t)p;
            x->done = p == T_LEN - 1 && success;
            x->reward = x->done ? 10.0 : 0.0;
            x->valid = hp_rng_below(r, 10) != 0;
            x->switch_word = hp_rng_below(r, 4) ? "KEEP" : "SWITCH";
            x->subgoal = SUBGOALS[hp_rng_below(r, 4)];
            snprintf(obs[k * T_LEN + p], 32, "You arrive at loc %d.", (int)hp_rng_below(r, 40));
            x->obs = obs[k * T_LEN + p];
            x->v_high = hp_rng_uniform(r);
            x->v_low = hp_rng_uniform(r);
            x->v_term = hp_rng_uniform(r);
        }
    }
    if (shuffle) hp_rng_shuffle(r, t, n, sizeof *t);
    return t;
}

int main(int argc, char **argv) {
    long total = argc > 1 ? atol(argv[1]) : 1000000;
    bool shuffle = argc > 2 && atoi(argv[2]);
    const size_t n = N_TRAJ * T_LEN;
    long n_batches = (total + (long)n - 1) / (long)n;
    hp_rng r;
    hp_rng_seed(&r, 42, 0);
    hp_adv_turn *batches[N_DISTINCT];
    char (*obs)[32] = malloc(N_DISTINCT * n * sizeof *obs);
    for (int b = 0; b < N_DISTINCT; b++) batches[b] = make_batch(&r, obs + b * n, shuffle);
    hp_hae_out *ho = malloc(n * sizeof *ho);
    hp_gigpo_out *go = malloc(n * sizeof *go);
    double *adv = malloc(n * sizeof *adv), *ret = malloc(n * sizeof *ret);
    hp_hae_config hc;
    hp_hae_config_default(&hc);
    hp_group_config gc;
    hp_group_config_default(&gc);
    hp_gae_config ec;
    hp_gae_config_default(&ec);
    const char *names[] = {"hae", "gigpo", "grpo", "rloo", "gae(turn)"};
    printf("%ld turns in %ld batches of %d trajectories x %d turns (%s input)\n", n_batches * (long)n, n_batches,
           N_TRAJ, T_LEN, shuffle ? "shuffled" : "trajectory-major");
    const char *only = argc > 3 ? argv[3] : NULL;
    for (int e = 0; e < 5; e++) {
        if (only && strcmp(only, names[e])) continue;
        double best = 1e30, best_cpu = 1e30;
        for (int rep = 0; rep < 10; rep++) {
            double t0 = hp_now(), c0 = cpu_now();
            for (long b = 0; b < n_batches; b++) {
                const hp_adv_turn *t = batches[b % N_DISTINCT];
                int rc = 0;
                switch (e) {
                case 0: rc = hp_adv_hae(t, n, &hc, ho, NULL); break;
                case 1: rc = hp_adv_gigpo(t, n, &gc, go, NULL); break;
                case 2: rc = hp_adv_grpo(t, n, &gc, adv, NULL); break;
                case 3: rc = hp_adv_rloo(t, n, &gc, adv, NULL); break;
                default: rc = hp_adv_turn_gae(t, n, &ec, adv, ret, NULL); break;
                }
                if (rc) {
                    fprintf(stderr, "estimator %s failed\n", names[e]);
                    return 1;
                }
            }
            double dt = hp_now() - t0, dc = cpu_now() - c0;
            if (dt < best) best = dt;
            if (dc < best_cpu) best_cpu = dc;
        }
        double turns = (double)(n_batches * (long)n);
        printf("%-10s wall %7.1f ms %6.2f M turns/s   cpu %7.1f ms %6.2f M turns/s\n", names[e], best * 1e3,
               turns / best / 1e6, best_cpu * 1e3, turns / best_cpu / 1e6);
    }
    for (int b = 0; b < N_DISTINCT; b++) free(batches[b]);
    free(obs), free(ho), free(go), free(adv), free(ret);
    return 0;
}
