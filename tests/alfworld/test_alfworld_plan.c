/* The full-knowledge optimal plan length (plan.c) against an exhaustive breadth-first search over the
 * engine's own admissible actions on small hand-built games, and as a lower bound of the expert.
 * (States are deduplicated on location, hands, open set, placements and flags: what the goals read.) */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "aw_fixture.h"
#include "hiper/alfworld.h"

#include <stdio.h>

typedef struct {
    uint8_t loc, held;
    uint64_t open;
    int8_t parent[16];
    uint8_t flags[16];
} bfs_key;

static bfs_key key_of(const aw_state *s) {
    bfs_key k;
    memset(&k, 0, sizeof k);
    k.loc = (uint8_t)s->loc;
    k.held = (uint8_t)(s->held + 1);
    k.open = s->open;
    for (int o = 0; o < 16; o++) k.parent[o] = s->parent[o], k.flags[o] = s->flags[o];
    return k;
}

/* A queued state: the key plus what the rules read besides it (object_location, taken_from). */
typedef struct {
    bfs_key k;
    int8_t objloc[16];
    uint64_t taken[16];
} bfs_node;

static void unpack(const aw_game *g, const bfs_node *n, aw_state *s) {
    aw_state_init(g, s);
    s->loc = n->k.loc;
    s->held = n->k.held - 1;
    s->open = n->k.open;
    for (int o = 0; o < 16; o++) {
        s->parent[o] = n->k.parent[o];
        s->flags[o] = n->k.flags[o];
        s->objloc[o] = n->objloc[o];
        s->taken_from[o] = n->taken[o];
    }
}

/* Shortest number of admissible actions to the goal (go-tos plus dynamic commands), or -1. */
static int bfs(const aw_game *g, int max_depth) {
    enum { CAP = 1 << 18 };
    assert_true(g->n_obj <= 16);
    bfs_node *queue = malloc(sizeof(bfs_node) * CAP);
    uint8_t *depth = malloc(CAP);
    bfs_key *seen = calloc(CAP * 2, sizeof(bfs_key));
    bool *used = calloc(CAP * 2, sizeof(bool));
    int head = 0, tail = 0, result = -1;
    aw_state s, t;
    aw_state_init(g, &s);
    queue[tail].k = key_of(&s);
    for (int o = 0; o < 16; o++) queue[tail].objloc[o] = s.objloc[o], queue[tail].taken[o] = s.taken_from[o];
    depth[tail++] = 0;
    while (head < tail && result < 0) {
        unpack(g, &queue[head], &s);
        int d = depth[head++];
        if (d >= max_depth) continue;
        aw_action acts[AW_MAX_DYN + AW_MAX_RECEP];
        int n = aw_dynamic_actions(g, &s, acts);
        for (int r = 0; r < g->n_recep; r++)
            if (g->rloc[r] != s.loc) acts[n++] = (aw_action){AW_V_GOTO, (uint8_t)r, 0};
        for (int i = 0; i < n && result < 0; i++) {
            t = s;
            aw_apply(g, &t, acts[i], NULL, 0);
            if (aw_goal(g, &t)) {
                result = d + 1;
                break;
            }
            bfs_key k = key_of(&t);
            uint64_t h = hp_hash64(&k, sizeof k, 0) % (CAP * 2);
            while (used[h] && memcmp(&seen[h], &k, sizeof k)) h = (h + 1) % (CAP * 2);
            if (used[h]) continue;
            used[h] = true;
            seen[h] = k;
            assert_true(tail < CAP);
            queue[tail].k = k;
            for (int o = 0; o < 16; o++) queue[tail].objloc[o] = t.objloc[o], queue[tail].taken[o] = t.taken_from[o];
            depth[tail++] = (uint8_t)(d + 1);
        }
    }
    free(queue);
    free(depth);
    free(seen);
    free(used);
    return result;
}

static const fx_recep KITCHEN[] = {
    {"fridge", 1, 1, true},      {"microwave", 1, 2, true},  {"countertop", 1, 3, false}, {"countertop", 2, 4, false},
    {"sinkbasin", 1, 5, false},  {"cabinet", 1, 6, true},    {"cabinet", 2, 6, true},     {"diningtable", 1, 7, false},
    {"toaster", 1, 3, false},
};
static const fx_obj KOBJ[] = {
    {"apple", 1, "fridge 1"},   {"apple", 2, "cabinet 1"} /* not a legal spot, but a test may put it there */,
    {"mug", 1, "countertop 2"}, {"mug", 2, "countertop 1"}, {"egg", 1, "diningtable 1"}, {"knife", 1, "countertop 1"},
    {"plate", 1, "sinkbasin 1"}, {"bowl", 1, "microwave 1"},
};

static void check(int task, const char *obj, const char *recep, const char *toggle, const fx_recep *rs, int nr,
                  const fx_obj *os, int no, int want) {
    aw_game g;
    fx_build(&g, rs, nr, os, no, task, obj, recep, toggle, 0);
    int plan = aw_optimal_length(&g), search = bfs(&g, want < 0 ? 6 : want + 2); /* deeper than needed */
    if (plan != search) fail_msg("%s %s -> %s: plan %d, breadth-first search %d", aw_task_names[task], obj, recep ? recep : toggle, plan, search);
    if (want >= 0) assert_int_equal(plan, want);
}

static void test_plan_matches_search(void **state) {
    (void)state;
    int nk = sizeof KITCHEN / sizeof KITCHEN[0], no = sizeof KOBJ / sizeof KOBJ[0];
    check(AW_TASK_PICK, "egg", "countertop", NULL, KITCHEN, nk, KOBJ, no, 4);
    check(AW_TASK_PICK, "mug", "cabinet", NULL, KITCHEN, nk, KOBJ, no, 5);
    check(AW_TASK_PICK, "mug", "fridge", NULL, KITCHEN, nk, KOBJ, no, 5);
    check(AW_TASK_PICK, "plate", "diningtable", NULL, KITCHEN, nk, KOBJ, no, 4);
    check(AW_TASK_HEAT, "egg", "countertop", NULL, KITCHEN, nk, KOBJ, no, 6);
    check(AW_TASK_HEAT, "mug", "cabinet", NULL, KITCHEN, nk, KOBJ, no, 7);
    check(AW_TASK_HEAT, "bowl", "diningtable", NULL, KITCHEN, nk, KOBJ, no, -1); /* bowls do not heat: no plan */
    check(AW_TASK_COOL, "apple", "diningtable", NULL, KITCHEN, nk, KOBJ, no, 5);   /* fridge apple starts cool */
    check(AW_TASK_COOL, "mug", "countertop", NULL, KITCHEN, nk, KOBJ, no, 6);
    check(AW_TASK_CLEAN, "mug", "cabinet", NULL, KITCHEN, nk, KOBJ, no, 7);
    check(AW_TASK_CLEAN, "plate", "diningtable", NULL, KITCHEN, nk, KOBJ, no, 5);  /* already at the sinkbasin */
    check(AW_TASK_PICK2, "apple", "countertop", NULL, KITCHEN, nk, KOBJ, no, 10);
    check(AW_TASK_PICK2, "mug", "diningtable", NULL, KITCHEN, nk, KOBJ, no, 8);
    check(AW_TASK_PICK2, "apple", "cabinet", NULL, KITCHEN, nk, KOBJ, no, -1); /* apples never go in cabinets */
    const fx_recep BED[] = {{"bed", 1, 1, false}, {"desk", 1, 2, false}, {"drawer", 1, 3, true}, {"sidetable", 1, 2, false},
                            {"shelf", 1, 4, false}};
    const fx_obj BOBJ[] = {{"book", 1, "drawer 1"}, {"cd", 1, "sidetable 1"}, {"desklamp", 1, "desk 1"},
                           {"floorlamp", 1, "shelf 1"}, {"pen", 1, "bed 1"}};
    check(AW_TASK_LOOK, "book", NULL, "desklamp", BED, 5, BOBJ, 5, 5);
    check(AW_TASK_LOOK, "cd", NULL, "desklamp", BED, 5, BOBJ, 5, 3); /* lamp shares the cd's spot */
    check(AW_TASK_LOOK, "pen", NULL, "floorlamp", BED, 5, BOBJ, 5, 4);
}

/* The optimal length never exceeds the expert's steps, and stays in a sane range. */
static void test_plan_lower_bounds_expert(void **state) {
    (void)state;
    hp_err err = {{0}};
    hp_env *e = hp_alfworld_open(NULL, &err);
    hp_alfworld_expert *x = hp_alfworld_expert_create();
    const char *splits[] = {"valid_seen", "valid_unseen"};
    for (int s = 0; s < 2; s++)
        for (int64_t i = 0; i < hp_env_split_size(e, splits[s], &err); i++) {
            assert_int_equal(hp_env_reset(e, splits[s], i, 0, &err), HP_OK);
            int opt = aw_optimal_length(aw_env_game(e));
            const hp_env_view *v = hp_env_get_view(e);
            while (!v->done) {
                const char *a, *sub;
                assert_int_equal(hp_alfworld_expert_act(x, e, &a, &sub, &err), HP_OK);
                assert_int_equal(hp_env_step(e, a, &err), HP_OK);
            }
            assert_true(v->won);
            assert_true(opt >= 2 && opt <= v->steps);
        }
    hp_alfworld_expert_free(x);
    hp_env_free(e);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_plan_matches_search),
        cmocka_unit_test(test_plan_lower_bounds_expert),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
