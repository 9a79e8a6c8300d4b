/* PPO losses against the PyTorch 1.13 reference of tests/train/ref_ppo.py (autograd gradients).
 * Usage: test_ppo [REF.json]   (default: the committed fixture tests/train/data/ppo_ref.json) */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <cjson/cJSON.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "hiper/ppo.h"

static const char *g_ref_path = HP_SOURCE_DIR "/tests/train/data/ppo_ref.json";

/* A (B,L) array from a JSON list of lists. */
static double *read_mat(const cJSON *c, const char *key, int B, int L) {
    const cJSON *m = cJSON_GetObjectItemCaseSensitive(c, key);
    assert_non_null(m);
    assert_int_equal(cJSON_GetArraySize(m), B);
    double *out = calloc((size_t)B * L + 1, sizeof *out);
    for (int b = 0; b < B; b++) {
        const cJSON *row = cJSON_GetArrayItem(m, b);
        assert_int_equal(cJSON_GetArraySize(row), L);
        for (int t = 0; t < L; t++) out[(size_t)b * L + t] = cJSON_GetArrayItem(row, t)->valuedouble;
    }
    return out;
}

static float *to_f32(const double *x, size_t n) {
    float *f = calloc(n + 1, sizeof *f);
    for (size_t i = 0; i < n; i++) f[i] = (float)x[i];
    return f;
}

static uint8_t *to_mask(const double *x, size_t n) {
    uint8_t *m = calloc(n + 1, 1);
    for (size_t i = 0; i < n; i++) m[i] = x[i] != 0.0;
    return m;
}

static double num(const cJSON *o, const char *key) {
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
    assert_non_null(v);
    return cJSON_IsBool(v) ? (double)cJSON_IsTrue(v) : v->valuedouble;
}

static const char *str(const cJSON *o, const char *key) {
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
    assert_true(cJSON_IsString(v));
    return v->valuestring;
}

static int close_to(double got, double want, double rtol, double atol) {
    return fabs(got - want) <= atol + rtol * fabs(want);
}

#define CHECK_CLOSE(name, field, got, want, rtol, atol)                                                    \
    do {                                                                                                   \
        if (!close_to((got), (want), (rtol), (atol)))                                                      \
            fail_msg("%s: %s = %.10g, PyTorch %.10g", (name), (field), (double)(got), (double)(want));    \
    } while (0)

static void check_grad(const char *name, const char *field, const float *got, const double *want, size_t n,
                       double scale_ref) {
    for (size_t i = 0; i < n; i++)
        if (!close_to(got[i], want[i], 2e-5, 1e-7 + 1e-6 * scale_ref))
            fail_msg("%s: %s[%zu] = %.9g, PyTorch %.9g", name, field, i, (double)got[i], want[i]);
}

static double max_abs(const double *x, size_t n) {
    double m = 0;
    for (size_t i = 0; i < n; i++) m = fmax(m, fabs(x[i]));
    return m;
}

static void run_actor(const cJSON *c) {
    const char *name = str(c, "name");
    int B = (int)num(c, "B"), L = (int)num(c, "L");
    size_t n = (size_t)B * L;
    const cJSON *cf = cJSON_GetObjectItemCaseSensitive(c, "cfg");
    hp_ppo_actor_cfg cfg = hp_ppo_actor_cfg_default();
    cfg.clip_low = num(cf, "clip_low");
    cfg.clip_high = num(cf, "clip_high");
    cfg.clip_c = num(cf, "clip_c");
    cfg.entropy_coeff = num(cf, "entropy_coeff");
    cfg.kl_coef = num(cf, "kl_coef");
    cfg.use_kl = num(cf, "use_kl") != 0;
    cfg.scale = num(cf, "scale");
    hp_err err = {{0}};
    assert_int_equal(hp_ppo_agg_parse(str(cf, "agg"), &cfg.agg, &err), HP_OK);
    assert_int_equal(hp_ppo_kl_parse(str(cf, "kl_type"), &cfg.kl_type, &err), HP_OK);

    double *logp = read_mat(c, "logp", B, L), *old = read_mat(c, "old_logp", B, L);
    double *ref = read_mat(c, "ref_logp", B, L), *ent = read_mat(c, "entropy", B, L);
    double *adv = read_mat(c, "adv", B, L), *maskd = read_mat(c, "mask", B, L);
    float *flogp = to_f32(logp, n), *fold = to_f32(old, n), *fref = to_f32(ref, n), *fent = to_f32(ent, n);
    uint8_t *mask = to_mask(maskd, n);
    hp_ppo_actor_in in = {.B = B, .L = L, .logp = flogp, .old_logp = fold, .ref_logp = fref,
                          .entropy = fent, .adv = adv, .mask = mask};
    hp_ppo_actor_out out;
    float *g_logp = calloc(n + 1, sizeof(float)), *g_ent = calloc(n + 1, sizeof(float));
    if (hp_ppo_actor_loss(&cfg, &in, &out, g_logp, g_ent, &err)) fail_msg("%s: %s", name, err.msg);

    const cJSON *e = cJSON_GetObjectItemCaseSensitive(c, "expect");
    CHECK_CLOSE(name, "loss", out.loss, num(e, "loss"), 1e-9, 1e-9);
    CHECK_CLOSE(name, "pg_loss", out.pg_loss, num(e, "pg_loss"), 1e-9, 1e-9);
    CHECK_CLOSE(name, "entropy", out.entropy, num(e, "entropy"), 1e-9, 1e-9);
    CHECK_CLOSE(name, "kl", out.kl, num(e, "kl"), 1e-9, 1e-9);
    CHECK_CLOSE(name, "clipfrac", out.clipfrac, num(e, "clipfrac"), 1e-9, 1e-9);
    CHECK_CLOSE(name, "clipfrac_lower", out.clipfrac_lower, num(e, "clipfrac_lower"), 1e-9, 1e-9);
    CHECK_CLOSE(name, "approx_kl", out.approx_kl, num(e, "approx_kl"), 1e-9, 1e-9);
    double *eg = read_mat(e, "g_logp", B, L), *ee = read_mat(e, "g_entropy", B, L);
    check_grad(name, "g_logp", g_logp, eg, n, max_abs(eg, n));
    check_grad(name, "g_entropy", g_ent, ee, n, max_abs(ee, n));
    free(eg), free(ee), free(g_logp), free(g_ent), free(mask);
    free(flogp), free(fold), free(fref), free(fent);
    free(logp), free(old), free(ref), free(ent), free(adv), free(maskd);
}

static void run_value(const cJSON *c) {
    const char *name = str(c, "name");
    int B = (int)num(c, "B"), L = (int)num(c, "L");
    size_t n = (size_t)B * L;
    const cJSON *cf = cJSON_GetObjectItemCaseSensitive(c, "cfg");
    hp_ppo_value_cfg cfg = hp_ppo_value_cfg_default();
    cfg.cliprange = num(cf, "cliprange");
    cfg.coef = num(cf, "coef");
    cfg.scale = num(cf, "scale");
    hp_err err = {{0}};
    assert_int_equal(hp_ppo_agg_parse(str(cf, "agg"), &cfg.agg, &err), HP_OK);
    double *v = read_mat(c, "v", B, L), *vo = read_mat(c, "v_old", B, L), *ret = read_mat(c, "ret", B, L);
    double *maskd = read_mat(c, "mask", B, L);
    float *fv = to_f32(v, n), *fvo = to_f32(vo, n);
    uint8_t *mask = to_mask(maskd, n);
    hp_ppo_value_in in = {.B = B, .L = L, .v = fv, .v_old = fvo, .ret = ret, .mask = mask};
    hp_ppo_value_out out;
    float *g = calloc(n + 1, sizeof(float));
    if (hp_ppo_value_loss(&cfg, &in, &out, g, &err)) fail_msg("%s: %s", name, err.msg);
    const cJSON *e = cJSON_GetObjectItemCaseSensitive(c, "expect");
    CHECK_CLOSE(name, "loss", out.loss, num(e, "loss"), 1e-9, 1e-9);
    CHECK_CLOSE(name, "vf_loss", out.vf_loss, num(e, "vf_loss"), 1e-9, 1e-9);
    CHECK_CLOSE(name, "clipfrac", out.clipfrac, num(e, "clipfrac"), 1e-9, 1e-9);
    double *eg = read_mat(e, "g_v", B, L);
    check_grad(name, "g_v", g, eg, n, max_abs(eg, n));
    free(eg), free(g), free(mask), free(fv), free(fvo), free(v), free(vo), free(ret), free(maskd);
}

static void test_against_torch(void **state) {
    (void)state;
    char *text = NULL;
    size_t len = 0;
    hp_err err = {{0}};
    if (hp_read_file(g_ref_path, &text, &len, &err)) fail_msg("%s", err.msg);
    cJSON *root = cJSON_Parse(text);
    free(text);
    assert_non_null(root);
    const cJSON *cases = cJSON_GetObjectItemCaseSensitive(root, "cases");
    int n_actor = 0, n_value = 0;
    const cJSON *c;
    cJSON_ArrayForEach(c, cases) {
        if (!strcmp(str(c, "kind"), "actor")) run_actor(c), n_actor++;
        else run_value(c), n_value++;
    }
    assert_true(n_actor >= 40 && n_value >= 10);
    cJSON_Delete(root);
}

/* The spec's single-token examples (hiper.md §6.1) worked by hand, independent of the fixture. */
static void test_hand_examples(void **state) {
    (void)state;
    hp_ppo_actor_cfg cfg = hp_ppo_actor_cfg_default();
    cfg.use_kl = false;
    cfg.entropy_coeff = 0;
    hp_err err = {{0}};
    uint8_t m = 1;
    float g;
    hp_ppo_actor_out out;
    /* ratio e^0.5 ≈ 1.6487 with A = +1: clipped at 1.2 → loss −1.2, no gradient, clipfrac 1. */
    float lp = 0.5f, old = 0.0f;
    double a = 1.0;
    hp_ppo_actor_in in = {.B = 1, .L = 1, .logp = &lp, .old_logp = &old, .adv = &a, .mask = &m};
    assert_int_equal(hp_ppo_actor_loss(&cfg, &in, &out, &g, NULL, &err), HP_OK);
    assert_true(fabs(out.loss + 1.2) < 1e-7 / (1 + 1e-8) + 1e-7);
    assert_true(g == 0.0f && fabs(out.clipfrac - 1.0) < 1e-7);
    /* ratio e^2 ≈ 7.39 with A = −1: −A·ratio = 7.39 > c·|A| = 3 → dual clip caps at 3, no gradient. */
    lp = 2.0f;
    a = -1.0;
    assert_int_equal(hp_ppo_actor_loss(&cfg, &in, &out, &g, NULL, &err), HP_OK);
    assert_true(fabs(out.loss - 3.0) < 1e-6 && g == 0.0f && fabs(out.clipfrac_lower - 1.0) < 1e-7);
    /* ratio 1 with A = 2: loss −2, gradient −A·ratio = −2. */
    lp = 0.0f;
    a = 2.0;
    assert_int_equal(hp_ppo_actor_loss(&cfg, &in, &out, &g, NULL, &err), HP_OK);
    assert_true(fabs(out.loss + 2.0) < 1e-6 && fabs(g + 2.0f) < 1e-6);
    /* Value: v = 3, v_old = 1, R = 0 → unclipped 9, clipped (1.5)² = 2.25 → 9, gradient 2·3 = 6. */
    float v = 3.0f, vo = 1.0f, gv;
    double r = 0.0;
    hp_ppo_value_cfg vc = hp_ppo_value_cfg_default();
    hp_ppo_value_in vin = {.B = 1, .L = 1, .v = &v, .v_old = &vo, .ret = &r, .mask = &m};
    hp_ppo_value_out vout;
    assert_int_equal(hp_ppo_value_loss(&vc, &vin, &vout, &gv, &err), HP_OK);
    assert_true(fabs(vout.loss - 9.0) < 1e-6 && fabs(gv - 6.0f) < 1e-5 && vout.clipfrac == 0.0);
}

static void test_bad_config(void **state) {
    (void)state;
    hp_err err = {{0}};
    hp_ppo_agg agg;
    hp_ppo_kl kl;
    assert_int_equal(hp_ppo_agg_parse("token-sum", &agg, &err), HP_FAIL);
    assert_non_null(strstr(err.msg, "token-sum"));
    assert_int_equal(hp_ppo_kl_parse("full", &kl, &err), HP_FAIL);
    assert_non_null(strstr(err.msg, "full"));
    hp_ppo_actor_cfg cfg = hp_ppo_actor_cfg_default();
    cfg.clip_c = 0.5;
    float lp = 0, ref = 0, ent = 0;
    double a = 1;
    uint8_t m = 1;
    hp_ppo_actor_in in = {.B = 1, .L = 1, .logp = &lp, .old_logp = &lp, .ref_logp = &ref, .entropy = &ent,
                          .adv = &a, .mask = &m};
    hp_ppo_actor_out out;
    assert_int_equal(hp_ppo_actor_loss(&cfg, &in, &out, NULL, NULL, &err), HP_FAIL);
    assert_non_null(strstr(err.msg, "dual-clip"));
    cfg = hp_ppo_actor_cfg_default();
    in.ref_logp = NULL;
    assert_int_equal(hp_ppo_actor_loss(&cfg, &in, &out, NULL, NULL, &err), HP_FAIL);
    assert_non_null(strstr(err.msg, "reference"));
}

int main(int argc, char **argv) {
    if (argc > 1) g_ref_path = argv[1];
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_against_torch),
        cmocka_unit_test(test_hand_examples),
        cmocka_unit_test(test_bad_config),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
