/* The table of environment kinds (hiper/env.h, src/env/env.c): every kind is found by its name and the
 * run configuration's env.name choices are the table's names; the family of a kind and of an open
 * environment, a served ALFWorld speaking ALFWorld through `hiper serve`; experts, statistics and
 * counters where a kind has them, and the factory's errors. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "hiper/env.h"

#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

static void test_table(void **state) {
    (void)state;
    char joined[256] = "";
    int n = 0;
    for (const hp_env_kind *k; (k = hp_env_kind_at(n)); n++) {
        assert_ptr_equal(hp_env_kind_find(k->name), k);
        assert_non_null(k->open);
        assert_non_null(k->val_split);
        assert_non_null(k->test_split);
        assert_true(k->max_steps > 0);
        if (k->splits) { /* the default splits are among the kind's own */
            bool val = false, test = !k->test_split[0];
            for (int i = 0; k->splits[i]; i++) {
                val |= !strcmp(k->splits[i], k->val_split);
                test |= !strcmp(k->splits[i], k->test_split);
            }
            assert_true(val && test);
        }
        if (n) strcat(joined, "|");
        strcat(joined, k->name);
    }
    assert_int_equal(n, 3);
    assert_null(hp_env_kind_at(n));
    assert_null(hp_env_kind_at(-1));
    /* runcfg's env.name accepts exactly the table's kinds */
    assert_string_equal(joined, HP_ENV_KIND_NAMES);
    assert_null(hp_env_kind_find("nethack"));
    assert_null(hp_env_kind_find(NULL));
    assert_int_equal(hp_env_family_of("alfworld"), HP_FAM_ALFWORLD);
    assert_int_equal(hp_env_family_of("webshop"), HP_FAM_WEBSHOP);
    assert_int_equal(hp_env_family_of("external"), HP_FAM_OTHER);
    assert_int_equal(hp_env_family_of("nethack"), HP_FAM_OTHER);
    assert_int_equal(hp_env_family_of(NULL), HP_FAM_OTHER);
}

static bool has_expert(const hp_env_kind *k) { return k->expert_open != NULL; }

static void test_names(void **state) {
    (void)state;
    char buf[128];
    assert_string_equal(hp_env_kind_names(buf, sizeof buf, " or ", NULL), "alfworld, webshop or external");
    assert_string_equal(hp_env_kind_names(buf, sizeof buf, " and ", has_expert), "alfworld and webshop");
    assert_string_equal(hp_env_kind_names(buf, 9, " or ", NULL), "alfworld"); /* cut to fit */
    hp_err err = {{0}};
    assert_null(hp_env_open("nethack", NULL, &err));
    assert_string_equal(err.msg, "unknown environment 'nethack' (expected alfworld, webshop or external)");
    hp_env *envs[2];
    assert_int_equal(hp_env_open_many("nethack", NULL, 2, envs, &err), HP_FAIL);
    hp_expert x;
    assert_int_equal(hp_expert_open("external", &x, &err), HP_FAIL);
    assert_string_equal(err.msg, "no built-in expert for environment 'external' (only alfworld and webshop have one)");
}

/* A built-in kind: its environments speak its family, count nothing, and its expert plays. */
static void test_builtin(void **state) {
    (void)state;
    hp_err err = {{0}};
    const hp_env_kind *k = hp_env_kind_find("alfworld");
    hp_env *envs[3];
    assert_int_equal(hp_env_open_many(k->name, NULL, 3, envs, &err), HP_OK);
    hp_env_stats st = {.faults = 7};
    assert_false(hp_env_get_stats(envs[0], &st));
    assert_int_equal(st.faults, 0);
    assert_int_equal(hp_env_family_get(envs[2]), HP_FAM_ALFWORLD);
    hp_expert x;
    assert_int_equal(hp_expert_open(k->name, &x, &err), HP_OK);
    assert_int_equal(hp_env_reset(envs[1], k->val_split, 0, 0, &err), HP_OK);
    hp_buf a = {0}, s = {0};
    while (!hp_env_get_view(envs[1])->done) {
        assert_int_equal(x.next(x.self, envs[1], &a, &s, &err), HP_OK);
        assert_true(a.len > 0 && s.len > 0);
        assert_int_equal(hp_env_step(envs[1], a.data, &err), HP_OK);
    }
    assert_true(hp_env_get_view(envs[1])->won);
    hp_buf_free(&a);
    hp_buf_free(&s);
    hp_expert_close(&x);
    assert_null(x.self);
    for (int i = 0; i < 3; i++) hp_env_free(envs[i]);
}

/* A served ALFWorld (`hiper serve --env alfworld`) speaks ALFWorld and reports its server's counters;
 * `hiper serve` refuses to serve the external kind itself. */
static void test_served(void **state) {
    (void)state;
    hp_err err = {{0}};
    cJSON *o = cJSON_CreateObject();
    hp_buf cmd = {0};
    hp_buf_printf(&cmd, "%s serve --env alfworld", HP_CLI);
    cJSON_AddStringToObject(o, "cmd", cmd.data);
    hp_env *envs[2];
    assert_int_equal(hp_env_open_many("external", o, 2, envs, &err), HP_OK);
    assert_int_equal(hp_env_family_get(envs[0]), HP_FAM_ALFWORLD);
    assert_int_equal(hp_env_family_get(envs[1]), HP_FAM_ALFWORLD);
    hp_env_stats st;
    assert_true(hp_env_get_stats(envs[1], &st));
    assert_int_equal(st.faults + st.restarts + st.truncated, 0);
    for (int i = 0; i < 2; i++) hp_env_free(envs[i]);
    hp_buf_clear(&cmd);
    hp_buf_printf(&cmd, "%s serve --env external 2>/dev/null", HP_CLI);
    assert_int_equal(WEXITSTATUS(system(cmd.data)), 2);
    hp_buf_free(&cmd);
    cJSON_Delete(o);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_table),
        cmocka_unit_test(test_names),
        cmocka_unit_test(test_builtin),
        cmocka_unit_test(test_served),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
