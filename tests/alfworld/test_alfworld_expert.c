/* The expert solves every game of all three splits within 50 steps through the text interface, only
 * ever issuing admissible commands, and recovers after random detours taken by another policy. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "hiper/alfworld.h"

#include <stdio.h>
#include <string.h>

static bool admissible(const hp_env_view *v, const char *cmd) {
    for (int i = 0; i < v->n_admissible; i++)
        if (!strcmp(v->admissible[i], cmd)) return true;
    return false;
}

/* Run one episode; with detour_pct > 0 a random admissible command replaces the expert's that often
 * during the first 15 steps. Returns the number of steps (won asserted). */
static int run(hp_env *e, hp_alfworld_expert *x, const char *split, int64_t i, int detour_pct, hp_rng *rng) {
    hp_err err = {{0}};
    if (hp_env_reset(e, split, i, 0, &err)) fail_msg("%s", err.msg);
    const hp_env_view *v = hp_env_get_view(e);
    while (!v->done) {
        const char *a, *sub;
        if (hp_alfworld_expert_act(x, e, &a, &sub, &err)) fail_msg("%s", err.msg);
        if (!admissible(v, a)) fail_msg("%s %lld step %d: expert chose inadmissible '%s'", split, (long long)i, v->steps, a);
        assert_true(sub[0] != '\0');
        if (detour_pct && v->steps < 15 && (int)hp_rng_below(rng, 100) < detour_pct)
            a = v->admissible[hp_rng_below(rng, (uint64_t)v->n_admissible)];
        if (hp_env_step(e, a, &err)) fail_msg("%s", err.msg);
    }
    if (!v->won) fail_msg("%s game %lld (%s: %s) not solved in %d steps", split, (long long)i, v->task_type_name, v->task, v->steps);
    return v->steps;
}

static void test_expert_all_splits(void **state) {
    (void)state;
    const char *splits[] = {"train", "valid_seen", "valid_unseen"};
    hp_err err = {{0}};
    hp_env *e = hp_alfworld_open(NULL, &err);
    hp_alfworld_expert *x = hp_alfworld_expert_create();
    for (int s = 0; s < 3; s++) {
        int64_t n = hp_env_split_size(e, splits[s], &err);
        long steps = 0;
        for (int64_t i = 0; i < n; i++) steps += run(e, x, splits[s], i, 0, NULL);
        printf("%s: %lld games solved, mean %.2f steps\n", splits[s], (long long)n, (double)steps / (double)n);
    }
    hp_alfworld_expert_free(x);
    hp_env_free(e);
}

static void test_expert_recovers_from_detours(void **state) {
    (void)state;
    hp_err err = {{0}};
    cJSON *o = cJSON_Parse("{\"max_steps\": 120}");
    hp_env *e = hp_alfworld_open(o, &err);
    cJSON_Delete(o);
    hp_alfworld_expert *x = hp_alfworld_expert_create();
    hp_rng rng;
    hp_rng_seed(&rng, 11, 0);
    for (int64_t i = 0; i < 600; i++) run(e, x, i % 2 ? "valid_seen" : "train", i % 2 ? i % 140 : i * 5, 40, &rng);
    /* the expert refuses non-alfworld or finished episodes */
    const char *a, *sub;
    assert_int_equal(hp_alfworld_expert_act(x, e, &a, &sub, &err), HP_FAIL);
    hp_alfworld_expert_free(x);
    hp_env_free(e);
}

/* The subgoal vocabulary on one known game (spec wording of issue 4). */
static void test_subgoal_labels(void **state) {
    (void)state;
    hp_err err = {{0}};
    hp_env *e = hp_alfworld_open(NULL, &err);
    hp_alfworld_expert *x = hp_alfworld_expert_create();
    bool seen_find = false, seen_take = false, seen_proc = false, seen_put = false;
    for (int64_t i = 0; i < 140; i++) {
        assert_int_equal(hp_env_reset(e, "valid_seen", i, 0, &err), HP_OK);
        const hp_env_view *v = hp_env_get_view(e);
        while (!v->done) {
            const char *a, *sub;
            assert_int_equal(hp_alfworld_expert_act(x, e, &a, &sub, &err), HP_OK);
            seen_find |= !strncmp(sub, "find a ", 7);
            seen_take |= !strncmp(sub, "take the ", 9);
            seen_proc |= (!strncmp(sub, "clean the ", 10) || !strncmp(sub, "heat the ", 9) || !strncmp(sub, "cool the ", 9)) &&
                         strstr(sub, " with ") != NULL;
            seen_put |= !strncmp(sub, "put the ", 8) && strstr(sub, " in ") != NULL;
            assert_int_equal(hp_env_step(e, a, &err), HP_OK);
        }
    }
    assert_true(seen_find && seen_take && seen_proc && seen_put);
    hp_alfworld_expert_free(x);
    hp_env_free(e);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_expert_all_splits),
        cmocka_unit_test(test_expert_recovers_from_detours),
        cmocka_unit_test(test_subgoal_labels),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
