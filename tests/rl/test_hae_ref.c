/* HAE on 80 random batches against a PyTorch transcription of hiper.md §4 (tests/rl/ref/hae_ref.py →
 * tests/rl/data/hae_ref.json): shuffled rows, duplicated rows, missing switch/subgoal blocks, illegal
 * switch words, empty responses, invalid turns, truncation, both KEEP-penalty modes, normalisation
 * on and off, 2- and 3-head critics. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "adv_test_util.h"
#include "hiper/advantage.h"

#include <math.h>

static const char *str_or_null(cJSON *o, const char *k) {
    cJSON *v = cJSON_GetObjectItem(o, k);
    return cJSON_IsString(v) ? v->valuestring : NULL;
}

static void test_random_batches(void **s) {
    (void)s;
    char *text = read_or_die(HP_SOURCE_DIR "/tests/rl/data/hae_ref.json");
    cJSON *ref = cJSON_Parse(text);
    free(text);
    cJSON *c;
    int k = 0;
    cJSON_ArrayForEach(c, ref) {
        hp_hae_config cfg;
        hp_hae_config_default(&cfg);
        char *cj = cJSON_PrintUnformatted(cJSON_GetObjectItem(c, "config"));
        hp_err err = {{0}};
        assert_int_equal(hp_hae_config_parse(cj, &cfg, &err), HP_OK);
        free(cj);
        cJSON *rows = cJSON_GetObjectItem(c, "rows");
        int n = cJSON_GetArraySize(rows);
        hp_adv_turn *t = calloc((size_t)n, sizeof *t);
        for (int i = 0; i < n; i++) {
            cJSON *r = cJSON_GetArrayItem(rows, i);
            t[i].traj = str_or_null(r, "traj")[1] - '0';
            t[i].turn = cJSON_GetObjectItem(r, "turn")->valueint;
            t[i].reward = cJSON_GetObjectItem(r, "reward")->valuedouble;
            t[i].done = cJSON_IsTrue(cJSON_GetObjectItem(r, "done"));
            t[i].valid = cJSON_IsTrue(cJSON_GetObjectItem(r, "valid"));
            t[i].empty_response = cJSON_IsTrue(cJSON_GetObjectItem(r, "empty_response"));
            t[i].switch_word = str_or_null(r, "switch");
            t[i].subgoal = str_or_null(r, "subgoal");
            t[i].v_high = cJSON_GetObjectItem(r, "v_high")->valuedouble;
            t[i].v_low = cJSON_GetObjectItem(r, "v_low")->valuedouble;
            t[i].v_term = cJSON_GetObjectItem(r, "v_term")->valuedouble;
        }
        hp_hae_out *o = calloc((size_t)n, sizeof *o);
        if (hp_adv_hae(t, (size_t)n, &cfg, o, &err)) fail_msg("case %d: %s", k, err.msg);
        const char *keys[] = {"reward_shaped", "adv_low", "ret_low", "adv_high", "ret_high", "adv_term", "ret_term"};
        for (int i = 0; i < n; i++) {
            assert_int_equal(o[i].boundary, cJSON_IsTrue(cJSON_GetArrayItem(cJSON_GetObjectItem(c, "boundary"), i)));
            const double got[] = {o[i].reward_shaped, o[i].adv_low, o[i].ret_low, o[i].adv_high,
                                  o[i].ret_high, o[i].adv_term, o[i].ret_term};
            for (int f = 0; f < 7; f++) {
                double want = cJSON_GetArrayItem(cJSON_GetObjectItem(c, keys[f]), i)->valuedouble;
                if (fabs(got[f] - want) > 1e-9 * (1 + fabs(want)))
                    fail_msg("case %d row %d %s: %.12g vs %.12g", k, i, keys[f], got[f], want);
            }
        }
        free(o);
        free(t);
        k++;
    }
    assert_int_equal(k, 80);
    cJSON_Delete(ref);
}

int main(void) {
    const struct CMUnitTest tests[] = {cmocka_unit_test(test_random_batches)};
    return cmocka_run_group_tests(tests, NULL, NULL);
}
