/* hiper.md §4.10's edge-case table, one test per row, with values derived by hand from §4. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "hiper/advantage.h"

#include <math.h>
#include <string.h>

static hp_hae_config toy(void) {
    hp_hae_config c;
    hp_hae_config_default(&c);
    c.gamma = 0.9;
    c.lam_turn = 0.8;
    c.lam_seg = 0.95;
    c.bootstrap_truncated = false;
    c.norm_adv = false;
    return c;
}

static hp_adv_turn row(int64_t traj, int turn, double r, bool done, const char *sw, const char *sg,
                       double vh, double vl, double vt) {
    hp_adv_turn t;
    memset(&t, 0, sizeof t);
    t.traj = traj;
    t.turn = turn;
    t.reward = r;
    t.done = done;
    t.valid = true;
    t.switch_word = sw;
    t.subgoal = sg;
    t.v_high = vh;
    t.v_low = vl;
    t.v_term = vt;
    return t;
}

#define NEAR(a, b) assert_true(fabs((a) - (b)) < 1e-9)

/* Row 1: turn 0 says KEEP (or has no switch block): still a boundary with V_high and the high
 * advantage on its subgoal, and it pays the KEEP penalty. */
static void test_first_turn_keep(void **s) {
    (void)s;
    hp_hae_config c = toy();
    for (int variant = 0; variant < 2; variant++) {
        hp_adv_turn t[2] = {row(1, 0, 0, false, variant ? NULL : "KEEP", "a", 2.0, 1.0, 0.5),
                            row(1, 1, 5, true, "KEEP", "a", NAN, 3.0, 1.0)};
        hp_hae_out o[2];
        hp_err err = {{0}};
        assert_int_equal(hp_adv_hae(t, 2, &c, o, &err), HP_OK);
        assert_true(o[0].boundary);
        assert_false(o[1].boundary);
        NEAR(o[0].reward_shaped, -0.15); /* 2 KEEP turns of 2: κ/T each */
        NEAR(o[1].reward_shaped, 5 - 0.15);
        /* one segment [0, 1], done: G = −0.15 + 0.9·4.85, A^H = G − V^H_0 */
        NEAR(o[0].adv_high, -0.15 + 0.9 * 4.85 - 2.0);
        NEAR(o[0].ret_high, -0.15 + 0.9 * 4.85);
        /* term advantage only where a switch block exists */
        if (variant) assert_true(o[0].adv_term == 0.0);
        else NEAR(o[0].adv_term, -0.15 + 0.9 * 4.85 - 0.5);
        NEAR(o[0].ret_term, -0.15 + 0.9 * 4.85); /* the return exists either way */
    }
}

/* Row 2: a switch word other than KEEP/SWITCH starts a segment (the env separately marks it
 * invalid). Content is stripped (Unicode whitespace) and upper-cased. */
static void test_switch_words(void **s) {
    (void)s;
    assert_true(hp_adv_switch_is_keep(NULL));
    assert_true(hp_adv_switch_is_keep(""));
    assert_true(hp_adv_switch_is_keep("  \n\t"));
    assert_true(hp_adv_switch_is_keep("KEEP"));
    assert_true(hp_adv_switch_is_keep(" keep\n"));
    assert_true(hp_adv_switch_is_keep("Keep"));
    assert_true(hp_adv_switch_is_keep("\xc2\xa0KEEP\xe3\x80\x80")); /* NBSP, ideographic space */
    assert_true(hp_adv_switch_is_keep("\xe2\x80\x83keep\x1f"));     /* em space, unit separator */
    assert_false(hp_adv_switch_is_keep("SWITCH"));
    assert_false(hp_adv_switch_is_keep("Switch"));
    assert_false(hp_adv_switch_is_keep("MAYBE"));
    assert_false(hp_adv_switch_is_keep("KEEP or SWITCH"));
    assert_false(hp_adv_switch_is_keep("KEEP."));
    assert_false(hp_adv_switch_is_keep("K EEP"));
    assert_false(hp_adv_switch_is_keep("\xe2\x80\x8bKEEP")); /* zero-width space is not whitespace */
    hp_hae_config c = toy();
    hp_adv_turn t[3] = {row(1, 0, 0, false, "SWITCH", "a", 1, 1, 1), row(1, 1, 0, false, "MAYBE", "b", 2, 1, 1),
                        row(1, 2, 0, true, "keep", "b", NAN, 1, 1)};
    hp_hae_out o[3];
    assert_int_equal(hp_adv_hae(t, 3, &c, o, NULL), HP_OK);
    assert_true(o[1].boundary);
    assert_false(o[2].boundary);
    NEAR(o[1].reward_shaped, 0.0); /* MAYBE is not a KEEP turn */
    NEAR(o[2].reward_shaped, -0.1); /* 1 KEEP of 3 turns: −0.3/3 */
}

/* Row 3: no <switch> block = KEEP (not a boundary unless turn 0), no term advantage, and the turn is
 * outside the term normalisation set. */
static void test_no_switch_block(void **s) {
    (void)s;
    hp_hae_config c = toy();
    c.norm_adv = true;
    hp_adv_turn t[3] = {row(1, 0, 0, false, "SWITCH", "a", 1, 1, 1.0), row(1, 1, 0, false, NULL, "a", NAN, 1, 5.0),
                        row(1, 2, 1, true, "KEEP", "a", NAN, 1, 2.0)};
    hp_hae_out o[3];
    assert_int_equal(hp_adv_hae(t, 3, &c, o, NULL), HP_OK);
    assert_false(o[1].boundary);
    assert_true(o[1].adv_term == 0.0);
    /* term set = turns 0 and 2: two values normalise to ±1 (population std) */
    assert_true(fabs(o[0].adv_term + o[2].adv_term) < 1e-9);
    assert_true(fabs(fabs(o[0].adv_term) - 1.0) < 1e-6);
}

/* Row 4: no <subgoal> block: no high advantage on that (boundary) turn, and the consistency check is
 * skipped for the turn and for the next turn's comparison. */
static void test_no_subgoal_block(void **s) {
    (void)s;
    hp_hae_config c = toy();
    hp_adv_turn t[4] = {row(1, 0, 0, false, "SWITCH", NULL, 1, 1, 1), row(1, 1, 0, false, "KEEP", "x", NAN, 1, 1),
                        row(1, 2, 0, false, "KEEP", NULL, NAN, 1, 1), row(1, 3, 0, true, "KEEP", "y", NAN, 1, 1)};
    hp_hae_out o[4];
    assert_int_equal(hp_adv_hae(t, 4, &c, o, NULL), HP_OK);
    assert_true(o[0].boundary);
    assert_true(o[0].adv_high == 0.0);
    assert_true(o[0].ret_high != 0.0); /* the high head still gets its target */
    for (int i = 1; i < 4; i++) NEAR(o[i].reward_shaped, -0.3 * 3.0 / 4.0 / 3.0); /* KEEP only, no κ_c */
    /* with requires_both off, a missing subgoal on a KEEP turn is penalised */
    c.keep_consistency_requires_both = false;
    assert_int_equal(hp_adv_hae(t, 4, &c, o, NULL), HP_OK);
    NEAR(o[1].reward_shaped, -0.075 - 0.3);
    NEAR(o[2].reward_shaped, -0.075 - 0.3);
    NEAR(o[3].reward_shaped, -0.075 - 0.3);
    /* and a changed subgoal on a KEEP turn is penalised in both settings */
    c.keep_consistency_requires_both = true;
    t[2].subgoal = "x2";
    assert_int_equal(hp_adv_hae(t, 4, &c, o, NULL), HP_OK);
    NEAR(o[2].reward_shaped, -0.075 - 0.3);
    NEAR(o[3].reward_shaped, -0.075 - 0.3);
}

/* Row 5: no <action> block: the env marks the turn invalid, which costs c_inv. */
static void test_invalid_turn(void **s) {
    (void)s;
    hp_hae_config c = toy();
    hp_adv_turn t[1] = {row(1, 0, 0, true, "SWITCH", "a", 1, 1, 1)};
    t[0].valid = false;
    hp_hae_out o[1];
    assert_int_equal(hp_adv_hae(t, 1, &c, o, NULL), HP_OK);
    NEAR(o[0].reward_shaped, -0.1);
    NEAR(o[0].adv_low, -0.1 - 1.0);
}

/* Row 6: truncated episode: bootstrap 0, or self-bootstrap (V^L of the last turn for the low level,
 * V^H of the current segment start for the high level and the term return). */
static void test_truncated(void **s) {
    (void)s;
    hp_hae_config c = toy();
    hp_adv_turn t[2] = {row(1, 0, 1, false, "SWITCH", "a", 2.0, 1.5, 1.0), row(1, 1, 0, false, "SWITCH", "b", 3.0, 4.0, 2.0)};
    hp_hae_out o[2];
    assert_int_equal(hp_adv_hae(t, 2, &c, o, NULL), HP_OK);
    NEAR(o[1].adv_low, 0 - 4.0);
    NEAR(o[1].adv_high, 0 - 3.0);
    NEAR(o[1].ret_term, 0.0);
    NEAR(o[0].adv_low, 1 + 0.9 * 3.0 - 1.5);
    c.bootstrap_truncated = true;
    assert_int_equal(hp_adv_hae(t, 2, &c, o, NULL), HP_OK);
    NEAR(o[1].adv_low, 0.9 * 4.0 - 4.0);
    NEAR(o[1].adv_high, 0.9 * 3.0 - 3.0);
    NEAR(o[1].ret_term, 0.9 * 3.0);
    NEAR(o[0].adv_high, (1 + 0.9 * 3.0 - 2.0) + 0.9 * 0.95 * (0.9 * 3.0 - 3.0));
    /* a done last turn never bootstraps */
    t[1].done = true;
    assert_int_equal(hp_adv_hae(t, 2, &c, o, NULL), HP_OK);
    NEAR(o[1].adv_low, -4.0);
    NEAR(o[1].adv_high, -3.0);
}

/* Row 7: a single-turn trajectory is one segment and pays no KEEP penalty in normalized mode (it
 * does in fixed mode). */
static void test_single_turn(void **s) {
    (void)s;
    hp_hae_config c = toy();
    hp_adv_turn t[1] = {row(1, 0, 2.0, true, "KEEP", "a", 1.0, 0.5, 0.25)};
    hp_hae_out o[1];
    assert_int_equal(hp_adv_hae(t, 1, &c, o, NULL), HP_OK);
    assert_true(o[0].boundary);
    NEAR(o[0].reward_shaped, 2.0);
    NEAR(o[0].adv_low, 1.5);
    NEAR(o[0].adv_high, 1.0);
    NEAR(o[0].adv_term, 1.75);
    c.keep_penalty_mode = HP_KEEP_PENALTY_FIXED;
    assert_int_equal(hp_adv_hae(t, 1, &c, o, NULL), HP_OK);
    NEAR(o[0].reward_shaped, 1.7);
}

/* Row 8: duplicated rows (adjust_batch copies keep traj and turn): HAE sees an extra consecutive
 * turn, i.e. exactly what the same rows give with the copy renumbered as the next turn. */
static void test_duplicated_rows(void **s) {
    (void)s;
    hp_hae_config c = toy();
    hp_adv_turn dup[4] = {row(1, 0, 0, false, "SWITCH", "a", 1, 1, 1), row(1, 1, 0, false, "KEEP", "a", NAN, 2, 1),
                          row(1, 2, 1, true, "SWITCH", "b", 3, 2, 1), row(1, 1, 0, false, "KEEP", "a", NAN, 2, 1)};
    hp_adv_turn ren[4] = {dup[0], dup[1], dup[3], dup[2]};
    ren[2].turn = 2;
    ren[3].turn = 3;
    hp_hae_out od[4], orn[4];
    assert_int_equal(hp_adv_hae(dup, 4, &c, od, NULL), HP_OK);
    assert_int_equal(hp_adv_hae(ren, 4, &c, orn, NULL), HP_OK);
    const int map[4] = {0, 1, 3, 2};
    for (int i = 0; i < 4; i++) assert_memory_equal(&od[i], &orn[map[i]], sizeof od[i]);
    NEAR(od[1].reward_shaped, -0.3 * 2 / 4 / 2); /* T = 4 with the copy */
}

/* Row 9: an empty response is outside the low normalisation set and gets no low advantage. */
static void test_empty_response(void **s) {
    (void)s;
    hp_hae_config c = toy();
    c.norm_adv = true;
    hp_adv_turn t[3] = {row(1, 0, 0, true, "SWITCH", "a", 1, 1.0, 1), row(2, 0, 0, true, "SWITCH", "a", 1, 3.0, 1),
                        row(3, 0, 0, true, NULL, NULL, 1, 100.0, 1)};
    t[2].empty_response = true;
    hp_hae_out o[3];
    assert_int_equal(hp_adv_hae(t, 3, &c, o, NULL), HP_OK);
    /* raw low: −1 and −3 → normalised over those two: +1 and −1 */
    assert_true(fabs(o[0].adv_low - 1.0) < 1e-6);
    assert_true(fabs(o[1].adv_low + 1.0) < 1e-6);
    assert_true(o[2].adv_low == 0.0);
}

/* Bad input names the row and the field. */
static void test_errors(void **s) {
    (void)s;
    hp_hae_config c = toy();
    hp_err err = {{0}};
    hp_adv_turn t[2] = {row(1, 0, 0, false, "SWITCH", "a", 1, 1, 1), row(1, 1, 0, true, "SWITCH", "b", NAN, 1, 1)};
    hp_hae_out o[2];
    assert_int_equal(hp_adv_hae(t, 2, &c, o, &err), HP_FAIL);
    assert_non_null(strstr(err.msg, "row 1"));
    assert_non_null(strstr(err.msg, "v_high"));
    t[1].v_high = 1;
    t[0].turn = -1;
    assert_int_equal(hp_adv_hae(t, 2, &c, o, &err), HP_FAIL);
    assert_non_null(strstr(err.msg, "row 0"));
    t[0].turn = 0;
    t[0].reward = INFINITY;
    assert_int_equal(hp_adv_hae(t, 2, &c, o, &err), HP_FAIL);
    assert_non_null(strstr(err.msg, "reward"));
    t[0].reward = 0;
    c.gamma = 1.5;
    assert_int_equal(hp_adv_hae(t, 2, &c, o, &err), HP_FAIL);
    assert_non_null(strstr(err.msg, "gamma"));
    /* an empty batch is fine */
    c.gamma = 0.9;
    assert_int_equal(hp_adv_hae(t, 0, &c, o, &err), HP_OK);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_first_turn_keep), cmocka_unit_test(test_switch_words),
        cmocka_unit_test(test_no_switch_block), cmocka_unit_test(test_no_subgoal_block),
        cmocka_unit_test(test_invalid_turn),    cmocka_unit_test(test_truncated),
        cmocka_unit_test(test_single_turn),     cmocka_unit_test(test_duplicated_rows),
        cmocka_unit_test(test_empty_response),  cmocka_unit_test(test_errors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
