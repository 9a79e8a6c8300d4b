/* Property tests over generated games and random-agent episodes: objects conserved, at most one
 * held, admissible lists sorted and unique, invalid commands change nothing, same (split, index)
 * gives the same game, clones continue identically; split sizes and task-type quotas of §5 and the
 * held-out layouts of valid_unseen (§6). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "env/alfworld/aw.h"
#include "hiper/alfworld.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *SPLITS[] = {"train", "valid_seen", "valid_unseen"};

static hp_env *open_env(void) {
    hp_err err = {{0}};
    hp_env *e = hp_alfworld_open(NULL, &err);
    if (!e) fail_msg("%s", err.msg);
    return e;
}

static void check_invariants(const hp_env *e) {
    const aw_game *g = aw_env_game(e);
    const aw_state *s = aw_env_state(e);
    const hp_env_view *v = hp_env_get_view(e);
    int held = 0;
    for (int o = 0; o < g->n_obj; o++) {
        if (s->parent[o] < 0) {
            held++;
            assert_int_equal(s->held, o);
        } else {
            assert_true(s->parent[o] < g->n_recep);
        }
    }
    assert_true(held <= 1);
    assert_true(held == (s->held >= 0));
    assert_true(v->n_admissible >= 3);
    for (int i = 1; i < v->n_admissible; i++)
        if (strcmp(v->admissible[i - 1], v->admissible[i]) >= 0)
            fail_msg("admissible not sorted/unique: '%s' then '%s'", v->admissible[i - 1], v->admissible[i]);
    bool help = false;
    for (int i = 0; i < v->n_admissible; i++) help |= !strcmp(v->admissible[i], "help");
    assert_true(help);
}

/* Random-agent episodes: invariants after every step; objects never appear or vanish. */
static void test_random_agent(void **state) {
    (void)state;
    hp_env *e = open_env();
    hp_rng rng;
    hp_rng_seed(&rng, 7, 0);
    hp_err err = {{0}};
    int episodes = 3000, wins = 0;
    for (int ep = 0; ep < episodes; ep++) {
        const char *split = SPLITS[ep % 3];
        int64_t n = hp_env_split_size(e, split, &err);
        assert_int_equal(hp_env_reset(e, split, (int64_t)hp_rng_below(&rng, (uint64_t)n), 0, &err), HP_OK);
        const hp_env_view *v = hp_env_get_view(e);
        const aw_game *g = aw_env_game(e);
        assert_false(v->won);
        assert_false(aw_goal(g, aw_env_state(e)));
        int n_obj = g->n_obj;
        check_invariants(e);
        while (!v->done) {
            char cmd[AW_CMD_LEN];
            if (hp_rng_below(&rng, 10) == 0) {
                /* an invalid command changes nothing but the step count */
                aw_state before = *aw_env_state(e);
                int n_adm = v->n_admissible;
                assert_int_equal(hp_env_step(e, "take the moon", &err), HP_OK);
                assert_string_equal(v->observation, "Nothing happens.");
                aw_state after = *aw_env_state(e);
                assert_int_equal(after.steps, before.steps + 1);
                after.steps = before.steps;
                assert_memory_equal(&before, &after, sizeof before);
                assert_int_equal(v->n_admissible, n_adm);
            } else {
                snprintf(cmd, sizeof cmd, "%s", v->admissible[hp_rng_below(&rng, (uint64_t)v->n_admissible)]);
                assert_int_equal(hp_env_step(e, cmd, &err), HP_OK);
                assert_string_not_equal(v->observation, "Nothing happens.");
            }
            assert_int_equal(aw_env_game(e)->n_obj, n_obj);
            check_invariants(e);
            assert_true(v->reward == (v->won ? 10.0 : 0.0));
        }
        assert_true(v->won || v->steps == 50);
        wins += v->won;
    }
    assert_true(wins > 0); /* a random agent sometimes wins (look tasks, lucky picks) */
    hp_env_free(e);
}

/* Same (split, index) gives the same game and episode; a clone continues identically. */
static void test_determinism_and_clone(void **state) {
    (void)state;
    hp_env *a = open_env(), *b = open_env();
    hp_err err = {{0}};
    hp_rng ra, rb;
    for (int k = 0; k < 300; k++) {
        const char *split = SPLITS[k % 3];
        int64_t idx = (k * 37) % hp_env_split_size(a, split, &err);
        assert_int_equal(hp_env_reset(a, split, idx, 1, &err), HP_OK);
        assert_int_equal(hp_env_reset(b, split, idx, 2, &err), HP_OK);
        hp_rng_seed(&ra, (uint64_t)k, 3);
        hp_rng_seed(&rb, (uint64_t)k, 3);
        const hp_env_view *va = hp_env_get_view(a), *vb = hp_env_get_view(b);
        assert_string_equal(va->observation, vb->observation);
        hp_env *c = NULL;
        const hp_env_view *vc = NULL;
        int clone_at = (int)hp_rng_below(&ra, 20);
        hp_rng_below(&rb, 20);
        hp_rng rc;
        for (int t = 0; !va->done; t++) {
            if (t == clone_at) {
                c = hp_env_clone(a, &err);
                vc = hp_env_get_view(c);
                rc = ra;
                assert_string_equal(vc->observation, va->observation);
            }
            char cmd[AW_CMD_LEN];
            snprintf(cmd, sizeof cmd, "%s", va->admissible[hp_rng_below(&ra, (uint64_t)va->n_admissible)]);
            assert_int_equal(hp_env_step(a, cmd, &err), HP_OK);
            assert_int_equal(hp_env_step(b, vb->admissible[hp_rng_below(&rb, (uint64_t)vb->n_admissible)], &err), HP_OK);
            assert_string_equal(va->observation, vb->observation);
            if (c && !vc->done) {
                assert_int_equal(hp_env_step(c, vc->admissible[hp_rng_below(&rc, (uint64_t)vc->n_admissible)], &err), HP_OK);
                assert_string_equal(vc->observation, va->observation);
                assert_int_equal(vc->n_admissible, va->n_admissible);
                for (int i = 0; i < va->n_admissible; i++) assert_string_equal(vc->admissible[i], va->admissible[i]);
                assert_int_equal(vc->steps, va->steps);
                assert_int_equal(vc->won, va->won);
            }
        }
        if (c) {
            assert_true(vc->done);
            hp_env_free(c);
        }
    }
    hp_env_free(a);
    hp_env_free(b);
}

/* A pinned digest of generated games (intro text, object names and their receptacles): catches any change of the generator (or a platform-dependent
 * draw) that would silently change the splits. Update deliberately with the docs when it changes. */
static void test_generator_pinned(void **state) {
    (void)state;
    hp_env *e = open_env();
    hp_err err = {{0}};
    uint64_t h = 0;
    for (int k = 0; k < 30; k++) {
        assert_int_equal(hp_env_reset(e, SPLITS[k % 3], k * 3, 0, &err), HP_OK);
        const char *obs = hp_env_get_view(e)->observation;
        h = hp_hash64(obs, strlen(obs), h);
        const aw_game *g = aw_env_game(e);
        for (int o = 0; o < g->n_obj; o++) {
            h = hp_hash64(g->oname[o], strlen(g->oname[o]), h);
            h = hp_hash64(g->rname[g->parent0[o]], strlen(g->rname[g->parent0[o]]), h);
        }
    }
    assert_int_equal(hp_env_reset(e, "train", 0, 0, &err), HP_OK);
    assert_true(h == 0x6be9dc1fe238a784ull);
    assert_string_equal(hp_env_get_view(e)->task, "put a tissuebox in drawer.");
    hp_env_free(e);
}

/* §5 split sizes and task-type counts; §6 valid_unseen on held-out layouts only; generator ranges. */
static void test_splits(void **state) {
    (void)state;
    static const int want[3][6] = {{790, 308, 650, 459, 533, 813}, {35, 13, 27, 16, 25, 24}, {24, 18, 31, 23, 21, 17}};
    static const int sizes[3] = {3553, 140, 134};
    static const int held_out[4] = {9, 18, 7, 23};
    hp_env *e = open_env();
    hp_err err = {{0}};
    static uint64_t train_tuples[3553];
    for (int s = 0; s < 3; s++) {
        assert_int_equal(hp_env_split_size(e, SPLITS[s], &err), sizes[s]);
        int count[6] = {0};
        for (int64_t i = 0; i < sizes[s]; i++) {
            assert_int_equal(hp_env_reset(e, SPLITS[s], i, 0, &err), HP_OK);
            const aw_game *g = aw_env_game(e);
            /* valid_seen: the task instance {type, object, receptacle/lamp, room layout} occurs in train */
            uint64_t tuple = (uint64_t)g->task.type << 40 | (uint64_t)g->task.obj << 32 | (uint64_t)g->task.recep << 24 |
                             (uint64_t)g->task.toggle << 16 | (uint64_t)g->room << 8 | g->layout;
            if (s == 0) train_tuples[i] = tuple;
            if (s == 1) {
                bool found = false;
                for (int k = 0; k < 3553 && !found; k++) found = train_tuples[k] == tuple;
                assert_true(found);
            }
            const hp_env_view *v = hp_env_get_view(e);
            assert_int_equal(v->task_type, g->task.type);
            assert_false(v->won); /* goal false at reset, every game */
            assert_false(aw_goal(g, aw_env_state(e)));
            assert_string_equal(v->task_type_name, hp_alfworld_task_type_name(v->task_type));
            count[v->task_type]++;
            bool ho = g->layout == held_out[g->room];
            assert_true(s == 2 ? ho : !ho);
            /* §4.3 room types per task */
            int t = v->task_type, r = g->room;
            if (t == AW_TASK_LOOK) assert_true(r == AW_ROOM_LIVING || r == AW_ROOM_BEDROOM);
            if (t == AW_TASK_CLEAN) assert_true(r == AW_ROOM_KITCHEN || r == AW_ROOM_BATHROOM);
            if (t == AW_TASK_HEAT || t == AW_TASK_COOL) assert_true(r == AW_ROOM_KITCHEN);
            assert_true(g->n_recep >= 6 && g->n_recep <= 54);
            /* target count 1-4 (pick two 2-4) */
            int nt = 0;
            for (int o = 0; o < g->n_obj; o++) nt += g->otype[o] == g->task.obj;
            assert_true(nt >= (t == AW_TASK_PICK2 ? 2 : 1) && nt <= 4);
            /* listing order: type ascending, number descending */
            for (int o = 1; o < g->n_obj; o++)
                assert_true(g->otype[o - 1] < g->otype[o] || (g->otype[o - 1] == g->otype[o] && g->onum[o - 1] > g->onum[o]));
        }
        for (int t = 0; t < 6; t++) assert_int_equal(count[t], want[s][t]);
    }
    assert_int_equal(hp_env_reset(e, "test", 0, 0, &err), HP_FAIL);
    assert_non_null(strstr(err.msg, "unknown split 'test'"));
    assert_int_equal(hp_env_reset(e, "valid_seen", 140, 0, &err), HP_FAIL);
    assert_non_null(strstr(err.msg, "out of range"));
    assert_int_equal(hp_env_split_size(e, "nope", &err), -1);
    hp_env_free(e);
}

/* Garbage commands of every shape are `Nothing happens.`, never a crash (run under ASan in CI). */
static void test_garbage_commands(void **state) {
    (void)state;
    hp_env *e = open_env();
    hp_err err = {{0}};
    hp_rng rng;
    hp_rng_seed(&rng, 5, 0);
    assert_int_equal(hp_env_reset(e, "valid_seen", 3, 0, &err), HP_OK);
    char buf[2048];
    for (int i = 0; i < 3000; i++) {
        if (hp_env_get_view(e)->done) assert_int_equal(hp_env_reset(e, "valid_seen", i % 140, 0, &err), HP_OK);
        const hp_env_view *v = hp_env_get_view(e);
        size_t n = (size_t)hp_rng_below(&rng, i % 10 ? 40 : sizeof buf);
        if (i % 3 == 0) { /* a mutated admissible command */
            snprintf(buf, sizeof buf, "%s", v->admissible[hp_rng_below(&rng, (uint64_t)v->n_admissible)]);
            n = strlen(buf);
            if (n) buf[hp_rng_below(&rng, n)] = (char)(1 + hp_rng_below(&rng, 255));
        } else {
            for (size_t k = 0; k < n; k++) buf[k] = (char)(1 + hp_rng_below(&rng, 255));
            buf[n] = '\0';
        }
        int steps = v->steps;
        assert_int_equal(hp_env_step(e, buf, &err), HP_OK);
        assert_int_equal(v->steps, steps + 1);
    }
    assert_int_equal(hp_env_reset(e, "valid_seen", 3, 0, &err), HP_OK);
    assert_int_equal(hp_env_step(e, NULL, &err), HP_FAIL);
    assert_int_equal(hp_env_step(e, "", &err), HP_OK);
    assert_string_equal(hp_env_get_view(e)->observation, "Nothing happens.");
    hp_env_free(e);
}

static void test_options(void **state) {
    (void)state;
    hp_err err = {{0}};
    cJSON *o = cJSON_Parse("{\"max_steps\": 7, \"seed\": 3}");
    hp_env *e = hp_alfworld_open(o, &err);
    cJSON_Delete(o);
    assert_non_null(e);
    assert_int_equal(hp_env_reset(e, "train", 5, 0, &err), HP_OK);
    for (int i = 0; i < 7; i++) assert_int_equal(hp_env_step(e, "look", &err), HP_OK);
    assert_true(hp_env_get_view(e)->done);
    assert_int_equal(hp_env_get_view(e)->max_steps, 7);
    hp_env_free(e);
    const char *bad[] = {"{\"max_step\": 7}", "{\"max_steps\": \"x\"}", "{\"max_steps\": 0}", "{\"seed\": -1}", "[1]"};
    const char *key[] = {"'max_step'", "'max_steps'", "'max_steps'", "'seed'", "object"};
    for (int i = 0; i < 5; i++) {
        o = cJSON_Parse(bad[i]);
        assert_null(hp_alfworld_open(o, &err));
        cJSON_Delete(o);
        if (!strstr(err.msg, key[i])) fail_msg("%s: %s", bad[i], err.msg);
    }
    hp_env *f = hp_alfworld_open(NULL, &err);
    assert_non_null(f);
    assert_true(hp_alfworld_is(f));
    assert_int_equal(hp_env_step(f, "look", &err), HP_FAIL); /* before reset */
    hp_env_free(f);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_random_agent), cmocka_unit_test(test_determinism_and_clone),
        cmocka_unit_test(test_generator_pinned), cmocka_unit_test(test_splits), cmocka_unit_test(test_garbage_commands), cmocka_unit_test(test_options),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
