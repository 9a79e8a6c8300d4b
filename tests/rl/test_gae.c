/* PPO's GAE against PyTorch: token-level GAE with veRL's post-EOS value quirk and masked whitening
 * (baselines.md §2.4), and turn-level GAE across turns (§2.5). Reference values come from
 * tests/rl/ref/gae_ref.py (torch 1.13), stored in tests/rl/data/gae_ref.json. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "adv_test_util.h"
#include "hiper/advantage.h"

#include <math.h>

static cJSON *load(void) {
    char *text = read_or_die(HP_SOURCE_DIR "/tests/rl/data/gae_ref.json");
    cJSON *j = cJSON_Parse(text);
    free(text);
    assert_non_null(j);
    return j;
}

static void test_token_gae(void **s) {
    (void)s;
    cJSON *ref = load();
    cJSON *c;
    int n_cases = 0;
    cJSON_ArrayForEach(c, cJSON_GetObjectItem(ref, "tokens")) {
        double gamma = cJSON_GetObjectItem(c, "gamma")->valuedouble, lam = cJSON_GetObjectItem(c, "lam")->valuedouble;
        int L = cJSON_GetObjectItem(c, "L")->valueint;
        cJSON *lens = cJSON_GetObjectItem(c, "resp_len");
        int B = cJSON_GetArraySize(lens);
        double *adv = calloc((size_t)(B * L), sizeof *adv), *ret = calloc((size_t)(B * L), sizeof *ret);
        uint8_t *mask = calloc((size_t)(B * L), 1);
        for (int b = 0; b < B; b++) {
            float vals[64], rews[64];
            for (int t = 0; t < L; t++) {
                vals[t] = (float)cJSON_GetArrayItem(cJSON_GetArrayItem(cJSON_GetObjectItem(c, "values"), b), t)->valuedouble;
                rews[t] = (float)cJSON_GetArrayItem(cJSON_GetArrayItem(cJSON_GetObjectItem(c, "rewards"), b), t)->valuedouble;
            }
            int n = cJSON_GetArrayItem(lens, b)->valueint;
            hp_adv_gae_tokens(rews, vals, L, n, gamma, lam, adv + b * L, ret + b * L);
            for (int t = 0; t < n; t++) mask[b * L + t] = 1;
        }
        hp_err err = {{0}};
        assert_int_equal(hp_adv_masked_whiten(adv, mask, (size_t)(B * L), &err), HP_OK);
        for (int b = 0; b < B; b++)
            for (int t = 0; t < L; t++) {
                double wa = cJSON_GetArrayItem(cJSON_GetArrayItem(cJSON_GetObjectItem(c, "adv"), b), t)->valuedouble;
                double wr = cJSON_GetArrayItem(cJSON_GetArrayItem(cJSON_GetObjectItem(c, "ret"), b), t)->valuedouble;
                if (fabs(adv[b * L + t] - wa) > 1e-9 || fabs(ret[b * L + t] - wr) > 1e-9)
                    fail_msg("case %d row %d pos %d: adv %.12g/%.12g ret %.12g/%.12g", n_cases, b, t, adv[b * L + t],
                             wa, ret[b * L + t], wr);
            }
        free(adv);
        free(ret);
        free(mask);
        n_cases++;
    }
    assert_int_equal(n_cases, 3);
    cJSON_Delete(ref);
}

static void test_turn_gae(void **s) {
    (void)s;
    cJSON *ref = load();
    cJSON *c;
    int n_cases = 0;
    cJSON_ArrayForEach(c, cJSON_GetObjectItem(ref, "turns")) {
        hp_buf lines = rows_jsonl(cJSON_GetObjectItem(c, "rows"));
        hp_adv_batch b;
        hp_err err = {{0}};
        assert_int_equal(hp_adv_batch_parse(lines.data, lines.len, &b, &err), HP_OK);
        hp_gae_config cfg;
        hp_gae_config_default(&cfg);
        cfg.gamma = cJSON_GetObjectItem(c, "gamma")->valuedouble;
        cfg.lam = cJSON_GetObjectItem(c, "lam")->valuedouble;
        double *adv = calloc(b.n, sizeof *adv), *ret = calloc(b.n, sizeof *ret);
        assert_int_equal(hp_adv_turn_gae(b.turns, b.n, &cfg, adv, ret, &err), HP_OK);
        for (size_t i = 0; i < b.n; i++) {
            double wa = cJSON_GetArrayItem(cJSON_GetObjectItem(c, "adv"), (int)i)->valuedouble;
            double wr = cJSON_GetArrayItem(cJSON_GetObjectItem(c, "ret"), (int)i)->valuedouble;
            if (fabs(adv[i] - wa) > 1e-9 || fabs(ret[i] - wr) > 1e-9)
                fail_msg("turn case %d row %zu: adv %.12g/%.12g ret %.12g/%.12g", n_cases, i, adv[i], wa, ret[i], wr);
        }
        free(adv);
        free(ret);
        hp_adv_batch_free(&b);
        hp_buf_free(&lines);
        n_cases++;
    }
    assert_int_equal(n_cases, 9);
    cJSON_Delete(ref);
}

/* γ = λ = 1 (the scripts' setting): A_t = R − V_t before whitening, ret = R on t < n, and the
 * post-EOS slot carries −V_n with target 0. */
static void test_token_gae_closed_form(void **s) {
    (void)s;
    const float v[6] = {1.0f, 2.0f, 3.0f, 4.0f, 5.0f, 6.0f}, r[6] = {0, 0, 0, 9.9f, 0, 0};
    double adv[6], ret[6];
    hp_adv_gae_tokens(r, v, 6, 4, 1.0, 1.0, adv, ret);
    for (int t = 0; t < 4; t++) {
        assert_true(fabs(adv[t] - ((double)9.9f - v[t])) < 1e-12);
        assert_true(fabs(ret[t] - (double)9.9f) < 1e-12);
    }
    assert_true(adv[4] == -5.0 && ret[4] == 0.0 && adv[5] == 0.0);
    hp_err err = {{0}};
    uint8_t m[6] = {1, 0, 0, 0, 0, 0};
    assert_int_equal(hp_adv_masked_whiten(adv, m, 6, &err), HP_FAIL);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_token_gae),
        cmocka_unit_test(test_turn_gae),
        cmocka_unit_test(test_token_gae_closed_form),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
