/* Random-agent throughput of the ALFWorld env on one core: steps per second through the hp_env
 * interface (admissible list, feedback text and goal check every step), with resets included and
 * separately timed. Times are thread CPU time (wall time is printed too). Usage: bench_alfworld [seconds] [split] */
#include "hiper/alfworld.h"

#include <stdio.h>
#include <stdlib.h>
#include <time.h>

/* CPU time of this thread: the figure stays meaningful on a machine shared with other jobs. */
static double cpu_now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

int main(int argc, char **argv) {
    double secs = argc > 1 ? atof(argv[1]) : 3.0;
    const char *split = argc > 2 ? argv[2] : "train";
    hp_err err = {{0}};
    hp_env *e = hp_alfworld_open(NULL, &err);
    if (!e) return fprintf(stderr, "%s\n", err.msg), 1;
    int64_t n = hp_env_split_size(e, split, &err);
    if (n < 0) return fprintf(stderr, "%s\n", err.msg), 1;
    hp_rng rng;
    hp_rng_seed(&rng, 1, 0);
    long steps = 0, episodes = 0, wins = 0;
    double t_reset = 0, t0 = cpu_now(), w0 = hp_now(), t;
    do {
        double r0 = cpu_now();
        if (hp_env_reset(e, split, (int64_t)hp_rng_below(&rng, (uint64_t)n), 0, &err)) return fprintf(stderr, "%s\n", err.msg), 1;
        t_reset += cpu_now() - r0;
        const hp_env_view *v = hp_env_get_view(e);
        while (!v->done) {
            if (hp_env_step(e, v->admissible[hp_rng_below(&rng, (uint64_t)v->n_admissible)], &err))
                return fprintf(stderr, "%s\n", err.msg), 1;
            steps++;
        }
        wins += v->won;
        episodes++;
        t = cpu_now() - t0;
    } while (t < secs);
    printf("alfworld %s random agent: %ld steps, %ld episodes (%.1f%% won) in %.2f s CPU (%.2f s wall)\n", split, steps,
           episodes, 100.0 * (double)wins / (double)episodes, t, hp_now() - w0);
    printf("  %.0f steps/s including resets, %.0f steps/s stepping only, %.1f us per reset\n", (double)steps / t,
           (double)steps / (t - t_reset), 1e6 * t_reset / (double)episodes);
    hp_env_free(e);
    return 0;
}
