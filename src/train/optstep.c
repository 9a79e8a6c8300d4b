/* optstep.c — the optimizer step of both training loops, PPO's (update.c) and SFT's (sft.c), and with it
 * their one policy for a non-finite gradient (docs/training.md, "Non-finite values"). */
#include "train_internal.h"

#include "hiper/model.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Tests only: HIPER_TEST_NAN_GRAD=WHAT@N makes the gradient of WHAT's optimizer step N (1-based, the
 * number hp_model_check_grad names) not finite, once per process. */
static void test_poison(hp_model *m, const char *what) {
    static bool fired;
    const char *want = getenv("HIPER_TEST_NAN_GRAD");
    if (fired || !want || !want[0]) return;
    char here[64];
    snprintf(here, sizeof here, "%s@%lld", what, (long long)hp_model_optim_step_count(m) + 1);
    if (strcmp(want, here) != 0) return;
    size_t n;
    float *g = hp_model_grad_data(m, &n);
    if (n) g[0] = NAN;
    fired = true;
}

double hp_train_optim_step(hp_model *m, const hp_adamw *o, double clip, double lr, const char *what, int *skipped) {
    test_poison(m, what);
    double norm = hp_model_clip_grad(m, clip);
    if (isfinite(norm)) {
        hp_model_adamw_step(m, o, lr);
    } else {
        /* verl skips such a step, in its PPO actor and critic and in its SFT trainer; we do too, count it
         * and say which tensor went bad, so that a NaN run is never silent */
        (*skipped)++;
        hp_err bad = {{0}};
        hp_model_check_grad(m, norm, &bad);
        fprintf(stderr, "hiper: warning: %s: optimizer step skipped: %s\n", what, bad.msg);
    }
    hp_model_zero_grad(m);
    return norm;
}
