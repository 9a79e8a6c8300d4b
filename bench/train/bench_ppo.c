/* bench_ppo — throughput of the PPO losses (actor with KL and entropy, one value head) on random
 * micro-batches: tokens per second, to show the loss side is negligible next to the model passes.
 * usage: bench_ppo [B] [L] [reps] */
#include "hiper/ppo.h"

#include <stdio.h>
#include <stdlib.h>

int main(int argc, char **argv) {
    int B = argc > 1 ? atoi(argv[1]) : 32, L = argc > 2 ? atoi(argv[2]) : 512, reps = argc > 3 ? atoi(argv[3]) : 50;
    if (B <= 0 || L <= 0 || reps <= 0) {
        fprintf(stderr, "usage: bench_ppo [B] [L] [reps]\n");
        return 2;
    }
    size_t n = (size_t)B * (size_t)L;
    float *lp = malloc(n * sizeof *lp), *old = malloc(n * sizeof *old), *ref = malloc(n * sizeof *ref);
    float *ent = malloc(n * sizeof *ent), *g = malloc(n * sizeof *g), *ge = malloc(n * sizeof *ge);
    double *adv = malloc(n * sizeof *adv);
    uint8_t *mask = malloc(n);
    hp_rng r;
    hp_rng_seed(&r, 1, 0);
    for (size_t i = 0; i < n; i++) {
        lp[i] = (float)(-2.0 * hp_rng_uniform(&r));
        old[i] = lp[i] + (float)(0.1 * hp_rng_normal(&r));
        ref[i] = lp[i] + (float)(0.3 * hp_rng_normal(&r));
        ent[i] = (float)(3.0 * hp_rng_uniform(&r));
        adv[i] = hp_rng_normal(&r);
        mask[i] = hp_rng_uniform(&r) < 0.8;
    }
    hp_ppo_actor_cfg ac = hp_ppo_actor_cfg_default();
    hp_ppo_value_cfg vc = hp_ppo_value_cfg_default();
    hp_ppo_actor_in in = {.B = B, .L = L, .logp = lp, .old_logp = old, .ref_logp = ref, .entropy = ent,
                          .adv = adv, .mask = mask};
    hp_ppo_value_in vin = {.B = B, .L = L, .v = lp, .v_old = old, .ret = adv, .mask = mask};
    hp_ppo_actor_out out;
    hp_ppo_value_out vout;
    hp_err err;
    double sink = 0, t0 = hp_now();
    for (int k = 0; k < reps; k++) {
        if (hp_ppo_actor_loss(&ac, &in, &out, g, ge, &err)) return 1;
        sink += out.loss;
    }
    double t1 = hp_now();
    for (int k = 0; k < reps; k++) {
        if (hp_ppo_value_loss(&vc, &vin, &vout, g, &err)) return 1;
        sink += vout.loss;
    }
    double t2 = hp_now();
    printf("B=%d L=%d: actor loss+grad %.1f M tokens/s, value loss+grad %.1f M tokens/s (checksum %.3f)\n", B, L,
           (double)n * reps / (t1 - t0) / 1e6, (double)n * reps / (t2 - t1) / 1e6, sink);
    free(lp), free(old), free(ref), free(ent), free(g), free(ge), free(adv), free(mask);
    return 0;
}
