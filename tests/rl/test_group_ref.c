/* GiGPO, GRPO and RLOO on 60 random batches (shuffled rows, duplicated rows, invalid rows, several
 * task groups, repeated anchors, both modes, by-length scores, penalty on/off) against a PyTorch
 * transcription of baselines.md §1–§2 (tests/rl/ref/group_ref.py → tests/rl/data/group_ref.json). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "adv_test_util.h"
#include "hiper/advantage.h"

#include <math.h>

static void test_random_batches(void **s) {
    (void)s;
    char *text = read_or_die(HP_SOURCE_DIR "/tests/rl/data/group_ref.json");
    cJSON *ref = cJSON_Parse(text);
    free(text);
    cJSON *c;
    int k = 0;
    cJSON_ArrayForEach(c, ref) {
        hp_group_config cfg;
        hp_group_config_default(&cfg);
        char *cj = cJSON_PrintUnformatted(cJSON_GetObjectItem(c, "config"));
        hp_err err = {{0}};
        assert_int_equal(hp_group_config_parse(cj, &cfg, &err), HP_OK);
        free(cj);
        hp_buf lines = rows_jsonl(cJSON_GetObjectItem(c, "rows"));
        hp_adv_batch b;
        assert_int_equal(hp_adv_batch_parse(lines.data, lines.len, &b, &err), HP_OK);
        hp_gigpo_out *go = calloc(b.n, sizeof *go);
        double *grpo = calloc(b.n, sizeof *grpo), *rloo = calloc(b.n, sizeof *rloo);
        assert_int_equal(hp_adv_gigpo(b.turns, b.n, &cfg, go, &err), HP_OK);
        assert_int_equal(hp_adv_grpo(b.turns, b.n, &cfg, grpo, &err), HP_OK);
        assert_int_equal(hp_adv_rloo(b.turns, b.n, &cfg, rloo, &err), HP_OK);
        for (size_t i = 0; i < b.n; i++) {
            double wg = cJSON_GetArrayItem(cJSON_GetObjectItem(c, "gigpo"), (int)i)->valuedouble;
            double wp = cJSON_GetArrayItem(cJSON_GetObjectItem(c, "grpo"), (int)i)->valuedouble;
            double wr = cJSON_GetArrayItem(cJSON_GetObjectItem(c, "rloo"), (int)i)->valuedouble;
            if (fabs(go[i].adv - wg) > 1e-6 || fabs(grpo[i] - wp) > 1e-6 || fabs(rloo[i] - wr) > 1e-6)
                fail_msg("case %d row %zu: gigpo %.9g/%.9g grpo %.9g/%.9g rloo %.9g/%.9g", k, i, go[i].adv, wg, grpo[i],
                         wp, rloo[i], wr);
        }
        free(go), free(grpo), free(rloo);
        hp_adv_batch_free(&b);
        hp_buf_free(&lines);
        k++;
    }
    assert_int_equal(k, 60);
    cJSON_Delete(ref);
}

int main(void) {
    const struct CMUnitTest tests[] = {cmocka_unit_test(test_random_batches)};
    return cmocka_run_group_tests(tests, NULL, NULL);
}
