/* Every worked example of tests/rl/fixtures (HAE and the baselines; its README) through the estimators:
 * HAE cases A–H (1e-6, 1e-5 after normalisation) and the GiGPO/GRPO/RLOO cases A, Adup, B, C (1e-5;
 * case C holds the intended value 0 where the authors' float32 code shows its artefact). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "adv_test_util.h"
#include "hiper/advantage.h"

#include <math.h>

static bool in_list(cJSON *list, const char *s) {
    cJSON *it;
    cJSON_ArrayForEach(it, list) if (!strcmp(it->valuestring, s)) return true;
    return false;
}

/* Expected lines of the trajectories in `trajs`, in file order. */
static cJSON **expected_rows(const char *path, cJSON *trajs, size_t *n) {
    char *text = read_or_die(path);
    cJSON **rows = NULL;
    size_t cap = 0;
    *n = 0;
    for (char *line = strtok(text, "\n"); line; line = strtok(NULL, "\n")) {
        cJSON *o = cJSON_Parse(line);
        assert_non_null(o);
        if (!in_list(trajs, cJSON_GetObjectItem(o, "traj")->valuestring)) {
            cJSON_Delete(o);
            continue;
        }
        if (*n == cap) rows = realloc(rows, (cap = cap ? 2 * cap : 64) * sizeof *rows);
        rows[(*n)++] = o;
    }
    free(text);
    return rows;
}

static void free_rows(cJSON **rows, size_t n) {
    for (size_t i = 0; i < n; i++) cJSON_Delete(rows[i]);
    free(rows);
}

static double num(cJSON *o, const char *k) {
    cJSON *v = cJSON_GetObjectItem(o, k);
    assert_non_null(v);
    return v->valuedouble;
}

static void close_to(double got, double want, double tol, const char *what, const char *traj, int turn) {
    if (fabs(got - want) > tol) fail_msg("%s %s turn %d: got %.10f, want %.10f", what, traj, turn, got, want);
}

static void test_hae_cases(void **state) {
    (void)state;
    char *cases_text = read_or_die(EXAMPLES "hae_cases.json");
    char *examples = read_or_die(EXAMPLES "hae_examples.jsonl");
    cJSON *cases = cJSON_Parse(cases_text);
    assert_non_null(cases);
    int n_cases = 0;
    cJSON *c;
    cJSON_ArrayForEach(c, cases) {
        const char *id = cJSON_GetObjectItem(c, "case")->valuestring;
        char path[512];
        snprintf(path, sizeof path, EXAMPLES "%s", cJSON_GetObjectItem(c, "config")->valuestring);
        char *cfg_text = read_or_die(path);
        hp_hae_config cfg;
        hp_hae_config_default(&cfg);
        hp_err err = {{0}};
        assert_int_equal(hp_hae_config_parse(cfg_text, &cfg, &err), HP_OK);
        char *lines = select_lines(examples, "group", id, true);
        hp_adv_batch b;
        assert_int_equal(hp_adv_batch_parse(lines, strlen(lines), &b, &err), HP_OK);
        assert_int_equal(b.n, (size_t)cJSON_GetObjectItem(c, "n_rows")->valueint);
        hp_hae_out *out = calloc(b.n, sizeof *out);
        if (hp_adv_hae(b.turns, b.n, &cfg, out, &err)) fail_msg("%s: %s", id, err.msg);
        size_t ne;
        cJSON **exp = expected_rows(EXAMPLES "hae_expected.jsonl", cJSON_GetObjectItem(c, "trajs"), &ne);
        assert_int_equal(ne, b.n);
        double tol_adv = cfg.norm_adv ? 1e-5 : 1e-6;
        for (size_t i = 0; i < b.n; i++) {
            const char *traj = b.traj_name[i];
            int turn = b.turns[i].turn;
            assert_string_equal(cJSON_GetObjectItem(exp[i], "traj")->valuestring, traj);
            assert_int_equal((int)num(exp[i], "turn"), turn);
            assert_int_equal(out[i].boundary, cJSON_IsTrue(cJSON_GetObjectItem(exp[i], "boundary")));
            close_to(out[i].reward_shaped, num(exp[i], "reward_shaped"), 1e-6, "reward_shaped", traj, turn);
            close_to(out[i].adv_low, num(exp[i], "adv_low"), tol_adv, "adv_low", traj, turn);
            close_to(out[i].adv_high, num(exp[i], "adv_high"), tol_adv, "adv_high", traj, turn);
            close_to(out[i].adv_term, num(exp[i], "adv_term"), tol_adv, "adv_term", traj, turn);
            close_to(out[i].ret_low, num(exp[i], "ret_low"), 1e-6, "ret_low", traj, turn);
            close_to(out[i].ret_high, num(exp[i], "ret_high"), 1e-6, "ret_high", traj, turn);
            close_to(out[i].ret_term, num(exp[i], "ret_term"), 1e-6, "ret_term", traj, turn);
        }
        free_rows(exp, ne);
        free(out);
        hp_adv_batch_free(&b);
        free(lines);
        free(cfg_text);
        n_cases++;
    }
    assert_int_equal(n_cases, 9);
    cJSON_Delete(cases);
    free(cases_text);
    free(examples);
}

typedef enum { EST_GIGPO, EST_GRPO, EST_RLOO } est;

static void run_group_cases(est which, const char *expected_file) {
    char *cases_text = read_or_die(EXAMPLES "gigpo_cases.json");
    char *examples = read_or_die(EXAMPLES "gigpo_examples.jsonl");
    cJSON *cases = cJSON_Parse(cases_text);
    cJSON *c;
    int n_cases = 0;
    cJSON_ArrayForEach(c, cases) {
        const char *id = cJSON_GetObjectItem(c, "case")->valuestring;
        char path[512], prefix[64];
        snprintf(path, sizeof path, EXAMPLES "%s", cJSON_GetObjectItem(c, "config")->valuestring);
        snprintf(prefix, sizeof prefix, "%s.", id);
        char *cfg_text = read_or_die(path);
        hp_group_config cfg;
        hp_group_config_default(&cfg);
        hp_err err = {{0}};
        assert_int_equal(hp_group_config_parse(cfg_text, &cfg, &err), HP_OK);
        char *lines = select_lines(examples, "group", prefix, false);
        hp_adv_batch b;
        assert_int_equal(hp_adv_batch_parse(lines, strlen(lines), &b, &err), HP_OK);
        assert_int_equal(b.n, (size_t)cJSON_GetObjectItem(c, "n_rows")->valueint);
        double *adv = calloc(b.n, sizeof *adv);
        int rc;
        if (which == EST_GIGPO) {
            hp_gigpo_out *o = calloc(b.n, sizeof *o);
            rc = hp_adv_gigpo(b.turns, b.n, &cfg, o, &err);
            for (size_t i = 0; i < b.n; i++) adv[i] = o[i].adv;
            free(o);
        } else if (which == EST_GRPO) {
            rc = hp_adv_grpo(b.turns, b.n, &cfg, adv, &err);
        } else {
            rc = hp_adv_rloo(b.turns, b.n, &cfg, adv, &err);
        }
        if (rc) fail_msg("%s: %s", id, err.msg);
        size_t ne;
        cJSON **exp = expected_rows(expected_file, cJSON_GetObjectItem(c, "trajs"), &ne);
        assert_int_equal(ne, b.n);
        for (size_t i = 0; i < b.n; i++) {
            assert_string_equal(cJSON_GetObjectItem(exp[i], "traj")->valuestring, b.traj_name[i]);
            assert_int_equal((int)num(exp[i], "turn"), b.turns[i].turn);
            close_to(adv[i], num(exp[i], "adv"), 1e-5, id, b.traj_name[i], b.turns[i].turn);
        }
        free_rows(exp, ne);
        free(adv);
        hp_adv_batch_free(&b);
        free(lines);
        free(cfg_text);
        n_cases++;
    }
    assert_int_equal(n_cases, 4);
    cJSON_Delete(cases);
    free(cases_text);
    free(examples);
}

static void test_gigpo_cases(void **state) {
    (void)state;
    run_group_cases(EST_GIGPO, EXAMPLES "gigpo_expected.jsonl");
}
static void test_grpo_cases(void **state) {
    (void)state;
    run_group_cases(EST_GRPO, EXAMPLES "grpo_expected.jsonl");
}
static void test_rloo_cases(void **state) {
    (void)state;
    run_group_cases(EST_RLOO, EXAMPLES "rloo_expected.jsonl");
}

/* Hand derivations of baselines.md §7.1 step 3 (A^S per step group, mean_norm). */
static void test_gigpo_step_parts(void **state) {
    (void)state;
    char *examples = read_or_die(EXAMPLES "gigpo_examples.jsonl");
    char *lines = select_lines(examples, "group", "A.", false);
    hp_adv_batch b;
    hp_err err = {{0}};
    assert_int_equal(hp_adv_batch_parse(lines, strlen(lines), &b, &err), HP_OK);
    hp_group_config cfg;
    hp_group_config_default(&cfg);
    hp_gigpo_out *o = calloc(b.n, sizeof *o);
    assert_int_equal(hp_adv_gigpo(b.turns, b.n, &cfg, o, &err), HP_OK);
    /* rows: T1 A B C, T2 A B D, T3 A E* B C, T4 A E E* */
    const double want_step[] = {4.6253125, 3.166667, 0, -4.3996875, -6.333333, 0,
                                4.1740625, 5.983333, 3.166667, 0, -4.3996875, -2.941667, -3.041667};
    const double want_ep[] = {4.630769, 4.630769, 4.630769, -5.369231, -5.369231, -5.369231,
                              4.630769, 4.530769, 4.630769, 4.630769, -5.369231, -5.369231, -5.469231};
    const int want_size[] = {4, 3, 2, 4, 3, 1, 4, 3, 3, 2, 4, 3, 3};
    assert_int_equal(b.n, 13);
    for (size_t i = 0; i < 13; i++) {
        close_to(o[i].adv_step, want_step[i], 1e-5, "A^S", b.traj_name[i], b.turns[i].turn);
        close_to(o[i].adv_episode, want_ep[i], 1e-5, "A^E", b.traj_name[i], b.turns[i].turn);
        assert_int_equal(o[i].step_group_size, want_size[i]);
    }
    free(o);
    hp_adv_batch_free(&b);
    free(lines);
    free(examples);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_hae_cases),
        cmocka_unit_test(test_gigpo_cases),
        cmocka_unit_test(test_grpo_cases),
        cmocka_unit_test(test_rloo_cases),
        cmocka_unit_test(test_gigpo_step_parts),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
