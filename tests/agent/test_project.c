/* Projection tables: the cases of spec hiper.md §3.1 / webshop.md §8.5 / baselines.md §1, each with
 * the expected action, recorded switch, recorded subgoal and validity written out by hand. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "hiper/project.h"

#include <string.h>

typedef struct pcase {
    const char *name;
    hp_fmt fmt;
    hp_env_family fam;
    const char *response;
    const char *action, *sw, *subgoal;
    bool valid;
} pcase;

#define A HP_FAM_ALFWORLD
#define W HP_FAM_WEBSHOP
#define H HP_FMT_HIPER
#define T HP_FMT_THINK
#define N HP_FMT_ACTION

static const pcase CASES[] = {
    {"well-formed", H, A, "<switch>SWITCH</switch>\n<subgoal>Find the Mug</subgoal>\n<action>Go To Countertop 1</action>",
     "go to countertop 1", "SWITCH", "Find the Mug", true},
    {"keep, spaces stripped, word upper-cased", H, A, "<switch> keep </switch><subgoal>  heat it </subgoal><action> open microwave 1 </action>",
     "open microwave 1", "KEEP", "heat it", true},
    {"upper-case action tags count", H, W, "<switch>KEEP</switch><subgoal>buy</subgoal><ACTION>Click[Buy Now]</ACTION>",
     "click[buy now]", "KEEP", "buy", true},
    {"closing action tag first: empty action, still valid", N, A, "</action> look <action>", "", "", "", true},
    {"missing action tags (alfworld): last 30 chars", H, A, "<switch>KEEP</switch><subgoal>x</subgoal> I will GO TO the fridge number one now",
     "o to the fridge number one now", "", "", false},
    {"missing action tags (webshop): last 20 chars", H, W, "<switch>KEEP</switch> Search for a RED shirt please",
     "r a red shirt please", "", "", false},
    {"missing switch tags (alfworld): subgoal = last 30 chars of the action", H, A,
     "<subgoal>s</subgoal><action>take the very long named object 12 from countertop 3</action>",
     "take the very long named object 12 from countertop 3", "", "ed object 12 from countertop 3", false},
    {"missing switch tags (webshop): subgoal None", H, W, "<subgoal>s</subgoal><action>search[red shirt]</action>",
     "search[red shirt]", "", "None", false},
    {"illegal switch word (alfworld)", H, A, "<switch>MAYBE</switch><subgoal>s</subgoal><action>look</action>", "look", "", "", false},
    {"illegal switch word (webshop) records KEEP", H, W, "<switch>KEEP or SWITCH</switch><subgoal>s</subgoal><action>click[next >]</action>",
     "click[next >]", "KEEP", "", false},
    {"switch tags are case-sensitive", H, A, "<SWITCH>KEEP</SWITCH><subgoal>s</subgoal><action>look</action>", "look", "", "look", false},
    {"missing subgoal", H, A, "<switch>SWITCH</switch><action>inventory</action>", "inventory", "SWITCH", "", false},
    {"subgoal tags reversed: empty subgoal, valid", H, A, "<switch>SWITCH</switch></subgoal>x<subgoal><action>look</action>",
     "look", "SWITCH", "", true},
    {"CJK in subgoal", H, A, "<switch>KEEP</switch><subgoal>\xE6\x89\xBE\xE6\x9D\xAF\xE5\xAD\x90</subgoal><action>look</action>",
     "look", "KEEP", "\xE6\x89\xBE\xE6\x9D\xAF\xE5\xAD\x90", false},
    {"U+9FFF is CJK, U+A000 is not", N, A, "<action>look</action>\xEA\x80\x80", "look", "", "", true},
    {"U+9FFF edge", N, A, "<action>look</action>\xE9\xBF\xBF", "look", "", "", false},
    {"U+4E00 edge in think format", T, W, "\xE4\xB8\x80<think>t</think><action>click[buy now]</action>", "click[buy now]", "", "", false},
    {"U+4DFF is not CJK", N, A, "<action>look</action>\xE4\xB7\xBF", "look", "", "", true},
    {"garbage", H, A, "asdf", "asdf", "", "", false},
    {"empty response", H, W, "", "", "", "", false},
    {"think: both pairs", T, A, "<think>the mug is on the table</think>\n<action>take mug 1 from table 1</action>",
     "take mug 1 from table 1", "", "", true},
    {"think: missing think", T, A, "<action>look</action>", "look", "", "", false},
    {"think: think tags are case-sensitive", T, A, "<THINK>x</THINK><action>look</action>", "look", "", "", false},
    {"action-only: no think needed", N, W, "<action>search[blue mug]</action>", "search[blue mug]", "", "", true},
    {"fallback counts characters, not bytes", N, W, "x\xC3\xA9\xC3\xA9\xC3\xA9 abcdefghijklmnop",
     "\xC3\xA9\xC3\xA9\xC3\xA9 abcdefghijklmnop", "", "", false},
    {"first tags win", H, A, "<switch>SWITCH</switch><subgoal>a</subgoal><action>look</action><action>inventory</action>",
     "look", "SWITCH", "a", true},
};

static void test_cases(void **state) {
    (void)state;
    for (size_t i = 0; i < sizeof CASES / sizeof *CASES; i++) {
        const pcase *c = &CASES[i];
        hp_proj p;
        hp_project(c->fmt, c->fam, c->response, &p);
        if (strcmp(p.action, c->action) || strcmp(p.switch_word, c->sw) || strcmp(p.subgoal, c->subgoal) ||
            p.valid != c->valid)
            fail_msg("case '%s': got action '%s' switch '%s' subgoal '%s' valid %d; want '%s' '%s' '%s' %d", c->name,
                     p.action, p.switch_word, p.subgoal, p.valid, c->action, c->sw, c->subgoal, c->valid);
        hp_proj_free(&p);
    }
}

static void test_fallback_lengths(void **state) {
    (void)state;
    /* 40 characters without tags: ALFWorld keeps 30, WebShop 20 */
    const char *r = "0123456789ABCDEFGHIJ0123456789abcdefghij";
    hp_proj p;
    hp_project(HP_FMT_HIPER, HP_FAM_ALFWORLD, r, &p);
    assert_string_equal(p.action, "abcdefghij0123456789abcdefghij");
    hp_proj_free(&p);
    hp_project(HP_FMT_HIPER, HP_FAM_WEBSHOP, r, &p);
    assert_string_equal(p.action, "0123456789abcdefghij");
    hp_proj_free(&p);
}

static void test_next_subgoal(void **state) {
    (void)state;
    hp_proj p;
    hp_project(HP_FMT_HIPER, HP_FAM_ALFWORLD, "<switch>KEEP</switch><subgoal>find mug 2</subgoal><action>look</action>", &p);
    /* faithful: the recorded subgoal, even on KEEP */
    assert_string_equal(hp_proj_next_subgoal(&p, "find mug", false), "find mug 2");
    /* keep-holds: KEEP keeps the old one */
    assert_string_equal(hp_proj_next_subgoal(&p, "find mug", true), "find mug");
    hp_proj_free(&p);
    hp_project(HP_FMT_HIPER, HP_FAM_ALFWORLD, "<switch>SWITCH</switch><subgoal>heat mug</subgoal><action>look</action>", &p);
    assert_string_equal(hp_proj_next_subgoal(&p, "find mug", true), "heat mug");
    hp_proj_free(&p);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_cases),
        cmocka_unit_test(test_fallback_lengths),
        cmocka_unit_test(test_next_subgoal),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
