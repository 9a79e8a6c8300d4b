/* GiGPO's similarity grouping: hp_adv_similarity_ratio against Python's difflib (fixture from
 * tests/rl/ref/difflib_ref.py, autojunk included), and the greedy first-representative clustering. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "adv_test_util.h"
#include "hiper/advantage.h"

#include <math.h>

static void test_ratio_vs_difflib(void **s) {
    (void)s;
    char *text = read_or_die(HP_SOURCE_DIR "/tests/rl/data/difflib_ref.json");
    cJSON *ref = cJSON_Parse(text);
    free(text);
    cJSON *c;
    int n = 0;
    cJSON_ArrayForEach(c, ref) {
        const char *a = cJSON_GetObjectItem(c, "a")->valuestring, *b = cJSON_GetObjectItem(c, "b")->valuestring;
        double want = cJSON_GetObjectItem(c, "ratio")->valuedouble;
        double got = hp_adv_similarity_ratio(a, strlen(a), b, strlen(b));
        if (fabs(got - want) > 1e-12) fail_msg("pair %d (|a| %zu, |b| %zu): %.15g vs %.15g", n, strlen(a), strlen(b), got, want);
        n++;
    }
    assert_int_equal(n, 185);
    cJSON_Delete(ref);
}

/* Rows of one task group join the first cluster whose first row is similar enough; across task
 * groups nothing is shared. */
static void test_similarity_groups(void **s) {
    (void)s;
    const char *obs[] = {"You see a mug 1.", "You see a mug 2.", "Nothing happens.", "You see a mug 3.", "You see a mug 1."};
    hp_adv_turn t[5];
    memset(t, 0, sizeof t);
    for (int i = 0; i < 5; i++) {
        t[i].traj = i;
        t[i].group = i == 4 ? 1 : 0;
        t[i].turn = 0;
        t[i].valid = true;
        t[i].reward = (double)i;
        t[i].obs = obs[i];
    }
    hp_group_config g;
    hp_group_config_default(&g);
    g.enable_similarity = true;
    g.similarity_thresh = 0.9; /* "mug 1." vs "mug 2.": ratio 30/32 = 0.9375 */
    hp_gigpo_out o[5];
    assert_int_equal(hp_adv_gigpo(t, 5, &g, o, NULL), HP_OK);
    const int size[5] = {3, 3, 1, 3, 1};
    for (int i = 0; i < 5; i++) assert_int_equal(o[i].step_group_size, size[i]);
    /* G = reward (one-turn trajectories): rows 0, 1, 3 share mean 4/3 */
    assert_true(fabs(o[1].adv_step - (1.0 - 4.0 / 3.0)) < 1e-9);
    g.similarity_thresh = 0.95;
    assert_int_equal(hp_adv_gigpo(t, 5, &g, o, NULL), HP_OK);
    for (int i = 0; i < 5; i++) assert_int_equal(o[i].step_group_size, 1);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_ratio_vs_difflib),
        cmocka_unit_test(test_similarity_groups),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
