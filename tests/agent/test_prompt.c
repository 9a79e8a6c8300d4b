/* Prompt templates: the structure and byte-level details spec hiper.md §2 (and alfworld.md §5,
 * webshop.md §8) prescribe, written out by hand here. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "hiper/prompt.h"

#include <stdlib.h>
#include <string.h>

static const char ALF_INTRO[] = "-= Welcome to TextWorld, ALFRED! =-\n\nYou are in the middle of a room. Looking quickly "
                                "around you, you see a cabinet 1, a coffeemachine 1, and a sinkbasin 1.\n\nYour task "
                                "is to: put a clean mug in coffeemachine.";
static const char *ALF_ADM[] = {"go to cabinet 1", "help", "inventory", "look"};

static hp_env_view alf_view(const char *obs) {
    hp_env_view v = {0};
    v.observation = obs;
    v.task = "put a clean mug in coffeemachine.";
    v.admissible = ALF_ADM;
    v.n_admissible = 4;
    return v;
}

/* Index of needle in hay, failing the test when absent. */
static long pos_of(const char *hay, const char *needle) {
    const char *p = strstr(hay, needle);
    if (!p) fail_msg("missing <<%s>> in prompt:\n%s", needle, hay);
    return p - hay;
}

static void test_alfworld_first_turn(void **state) {
    (void)state;
    hp_prompt_cfg cfg = hp_prompt_cfg_default(HP_FMT_HIPER, HP_FAM_ALFWORLD);
    hp_memory m = {0};
    hp_env_view v = alf_view(ALF_INTRO);
    hp_memory_reset(&m, HP_FAM_ALFWORLD, &v);
    assert_string_equal(m.task, "put a clean mug in coffeemachine.");
    assert_string_equal(m.subgoal, "None");
    char *p = hp_prompt_user_text(&cfg, &m, &v);
    /* starts and ends with a newline; role line first */
    assert_true(hp_str_starts(p, "\nYou are an expert agent operating in the ALFRED Embodied Environment.\n"));
    assert_true(hp_str_ends(p, "\n"));
    /* blocks in order, headings end with ':' and content starts on the next line */
    long role = pos_of(p, "ALFRED"), para = pos_of(p, "sub-goal"), obs = pos_of(p, "\nYour current observation is:\n-= Welcome");
    long sub = pos_of(p, "(it is \"None\" on the first step):\nNone\n");
    long adm = pos_of(p, "\nYour admissible actions are:\n['go to cabinet 1'\n 'inventory'\n 'look']\n");
    long skel = pos_of(p, "\n<switch>KEEP or SWITCH</switch>\n<subgoal>the sub-goal you will follow next</subgoal>\n"
                          "<action>EXACTLY one ADMISSIBLE action</action>\n");
    assert_true(role < para && para < obs && obs < sub && sub < adm && adm < skel);
    assert_true(hp_str_ends(p, "<action>EXACTLY one ADMISSIBLE action</action>\n"));
    /* the whole intro is the observation; no task line, no history, help is not listed */
    assert_non_null(strstr(p, ALF_INTRO));
    assert_null(strstr(p, "Your overall task is"));
    assert_null(strstr(p, "step(s)"));
    assert_null(strstr(p, "'help'"));
    free(p);
    hp_memory_free(&m);
}

static void test_alfworld_history(void **state) {
    (void)state;
    hp_prompt_cfg cfg = hp_prompt_cfg_default(HP_FMT_HIPER, HP_FAM_ALFWORLD);
    hp_memory m = {0};
    hp_env_view v = alf_view(ALF_INTRO);
    hp_memory_reset(&m, HP_FAM_ALFWORLD, &v);
    const char *obs[] = {"You arrive at cabinet 1. The cabinet 1 is closed.", "You open the cabinet 1. In it, you see a mug 1.",
                         "You pick up the mug 1 from the cabinet 1."};
    const char *act[] = {"go to cabinet 1", "open cabinet 1", "take mug 1 from cabinet 1"};
    for (int i = 0; i < 3; i++) {
        hp_env_view n = alf_view(obs[i]);
        hp_memory_push(&m, act[i], &n);
    }
    hp_memory_set_subgoal(&m, "take the mug");
    hp_env_view cur = alf_view(obs[2]);
    char *p = hp_prompt_user_text(&cfg, &m, &cur);
    assert_true(hp_str_starts(p, "\nYou are an expert agent operating in the ALFRED Embodied Environment.\n"
                                 "Your overall task is: put a clean mug in coffeemachine.\n"));
    long hist = pos_of(p, "You have already taken 3 step(s)");
    long lines = pos_of(p, "Most recent 2 observations and actions:\n"
                           "[Observation 2: 'You arrive at cabinet 1. The cabinet 1 is closed.', Action 2: 'open cabinet 1']\n"
                           "[Observation 3: 'You open the cabinet 1. In it, you see a mug 1.', Action 3: 'take mug 1 from cabinet 1']\n");
    long obsp = pos_of(p, "\nYour current observation is:\nYou pick up the mug 1 from the cabinet 1.\n");
    long sub = pos_of(p, "\ntake the mug\n");
    long adm = pos_of(p, "Your admissible actions are:\n[");
    assert_true(hist < lines && lines < obsp && obsp < sub && sub < adm);
    assert_null(strstr(p, "Observation 1:"));
    assert_null(strstr(p, "you are now at step"));
    assert_null(strstr(p, "You are now at step"));
    assert_null(strstr(p, "first step"));
    assert_true(hp_str_ends(p, "</action>\n"));
    free(p);
    hp_memory_free(&m);
}

static const char *WS_ADM[] = {"search[<your query>]", "click[search]"};
static const char WS_RAW0[] = "WebShop [SEP] Instruction: [SEP] i need a red cotton shirt, and price lower than 30.00 dollars [SEP] Search";
static const char WS_TASK[] = "i need a red cotton shirt, and price lower than 30.00 dollars";

static void test_webshop_obs_and_task(void **state) {
    (void)state;
    char *t = hp_prompt_extract_task(HP_FAM_WEBSHOP, WS_RAW0);
    assert_string_equal(t, WS_TASK);
    char *o = hp_prompt_format_obs(HP_FAM_WEBSHOP, WS_RAW0, t);
    assert_string_equal(o, "'Search'");
    free(o);
    o = hp_prompt_format_obs(HP_FAM_WEBSHOP,
                             "Instruction: [SEP] i need a red cotton shirt, and price lower than 30.00 dollars [SEP] "
                             "Back to Search [SEP] Page 1 (Total results: 50) [SEP] Next > [SEP] B0001 [SEP] Red Shirt [SEP] $12.99",
                             t);
    assert_string_equal(o, "'Back to Search' [SEP] 'Page 1 (Total results: 50)' [SEP] 'Next >' [SEP] 'B0001' [SEP] 'Red Shirt' "
                           "[SEP] '$12.99'");
    free(o);
    /* done page: no piece equals the instruction → unchanged; an already formatted observation too */
    o = hp_prompt_format_obs(HP_FAM_WEBSHOP, "Thank you for shopping with us! [SEP] Your code: [SEP] None", t);
    assert_string_equal(o, "Thank you for shopping with us! [SEP] Your code: [SEP] None");
    free(o);
    o = hp_prompt_format_obs(HP_FAM_WEBSHOP, "'Search'", t);
    assert_string_equal(o, "'Search'");
    free(o);
    /* instruction as the last piece → nothing after it */
    o = hp_prompt_format_obs(HP_FAM_WEBSHOP, "WebShop [SEP] i need a red cotton shirt, and price lower than 30.00 dollars", t);
    assert_string_equal(o, "");
    free(o);
    /* ALFWorld observations are never reformatted */
    o = hp_prompt_format_obs(HP_FAM_ALFWORLD, "a [SEP] b", "a");
    assert_string_equal(o, "a [SEP] b");
    free(o);
    free(t);
}

static void test_webshop_templates(void **state) {
    (void)state;
    hp_prompt_cfg cfg = hp_prompt_cfg_default(HP_FMT_HIPER, HP_FAM_WEBSHOP);
    hp_env_view v = {.observation = WS_RAW0, .task = WS_TASK, .admissible = WS_ADM, .n_admissible = 2};
    hp_memory m = {0};
    hp_memory_reset(&m, HP_FAM_WEBSHOP, &v);
    char *p = hp_prompt_user_text(&cfg, &m, &v);
    /* U+2011 NON-BREAKING HYPHEN in "e‑commerce" (E2 80 91), task inline with a full stop */
    assert_true(hp_str_starts(p, "\nYou are an expert agent operating in the WebShop e\xE2\x80\x91"
                                 "commerce environment. Your task is to: i need a red cotton shirt, and price lower "
                                 "than 30.00 dollars.\n"));
    assert_null(strstr(p, "e-commerce"));
    long obs = pos_of(p, "\nYour current observation is: 'Search'.\n");
    long sub = pos_of(p, "\nYour current sub-goal is: None.\n");
    long adm = pos_of(p, "\nYour admissible actions of the current situation are: \n[\n'search[<your query>]',\n'click[search]',\n].\n");
    long skel = pos_of(p, "<switch>KEEP or SWITCH</switch>\n");
    assert_true(obs < sub && sub < adm && adm < skel);
    assert_null(strstr(p, "first step"));
    assert_true(hp_str_ends(p, "\n"));
    free(p);

    /* one step later: doubled quotes in the history line, step counter, current step = steps + 1 */
    static const char *adm2[] = {"search[<your query>]", "click[back to search]", "click[b0001]"};
    hp_env_view v2 = {.observation = "'Back to Search' [SEP] 'B0001'", .task = WS_TASK, .admissible = adm2, .n_admissible = 3};
    hp_memory_push(&m, "search[red cotton shirt]", &v2);
    hp_memory_set_subgoal(&m, "search for the shirt");
    p = hp_prompt_user_text(&cfg, &m, &v2);
    long h = pos_of(p, "You have already taken 1 step(s). Below are the most recent 1 observations and the corresponding "
                       "actions you took: [Observation 1: ''Search'', Action 1: 'search[red cotton shirt]']\n");
    long now = pos_of(p, "You are now at step 2 and your current observation is: 'Back to Search' [SEP] 'B0001'.\n");
    long sub2 = pos_of(p, "Your current sub-goal is: search for the shirt.\n");
    assert_true(h < now && now < sub2);
    free(p);

    /* over 13,000 characters with history → the no-history template, still with the current subgoal */
    char *big = malloc(14001);
    memset(big, 'x', 14000);
    big[14000] = 0;
    hp_env_view v3 = {.observation = big, .task = WS_TASK, .admissible = WS_ADM, .n_admissible = 2};
    hp_memory_push(&m, "click[b0001]", &v3);
    hp_env_view v4 = {.observation = "'small'", .task = WS_TASK, .admissible = WS_ADM, .n_admissible = 2};
    hp_memory_push(&m, "click[< prev]", &v4);
    p = hp_prompt_user_text(&cfg, &m, &v4);
    assert_null(strstr(p, "step(s)"));
    pos_of(p, "Your current observation is: 'small'.\n");
    pos_of(p, "Your current sub-goal is: search for the shirt.\n");
    free(p);
    cfg.history_char_limit = 0; /* no limit: history kept */
    p = hp_prompt_user_text(&cfg, &m, &v4);
    pos_of(p, "You have already taken 3 step(s)");
    free(p);
    free(big);
    hp_memory_free(&m);
}

static void test_flat_templates(void **state) {
    (void)state;
    hp_memory m = {0};
    hp_env_view v = alf_view(ALF_INTRO);
    hp_memory_reset(&m, HP_FAM_ALFWORLD, &v);
    hp_prompt_cfg cfg = hp_prompt_cfg_default(HP_FMT_THINK, HP_FAM_ALFWORLD);
    char *p = hp_prompt_user_text(&cfg, &m, &v);
    pos_of(p, "Your admissible actions of the current situation are: ['go to cabinet 1'\n 'inventory'\n 'look'].\n");
    pos_of(p, "<think> </think>");
    pos_of(p, "<action> </action>");
    assert_null(strstr(p, "<switch>"));
    assert_null(strstr(p, "sub-goal"));
    free(p);
    hp_env_view n = alf_view("Nothing happens.");
    hp_memory_push(&m, "look", &n);
    p = hp_prompt_user_text(&cfg, &m, &n);
    assert_true(hp_str_starts(p, "\nYou are an expert agent operating in the ALFRED Embodied Environment. Your task is to: "
                                 "put a clean mug in coffeemachine.\n"));
    pos_of(p, "Prior to this step, you have already taken 1 step(s).");
    pos_of(p, "[Observation 1: '-= Welcome");
    pos_of(p, "Action 1: 'look']");
    pos_of(p, "You are now at step 2 and your current observation is: Nothing happens.\n");
    free(p);
    cfg = hp_prompt_cfg_default(HP_FMT_ACTION, HP_FAM_ALFWORLD);
    p = hp_prompt_user_text(&cfg, &m, &n);
    pos_of(p, "<action> </action>");
    assert_null(strstr(p, "<think>"));
    free(p);
    hp_memory_free(&m);
}

static void test_compact(void **state) {
    (void)state;
    hp_memory m = {0};
    hp_env_view v = alf_view(ALF_INTRO);
    hp_memory_reset(&m, HP_FAM_ALFWORLD, &v);
    hp_prompt_cfg cfg = hp_prompt_cfg_default(HP_FMT_HIPER, HP_FAM_ALFWORLD);
    cfg.style = HP_STYLE_COMPACT;
    const char *obs[] = {"o1", "o2", "o3"};
    const char *act[] = {"a1", "a2", "a3"};
    for (int i = 0; i < 3; i++) {
        hp_env_view n = alf_view(obs[i]);
        hp_memory_push(&m, act[i], &n);
    }
    hp_memory_set_subgoal(&m, "find mug");
    hp_env_view cur = alf_view("o3");
    char *p = hp_prompt_user_text(&cfg, &m, &cur);
    /* exactly: task, subgoal, last two (obs, action), current observation, admissible list, reply format */
    assert_string_equal(p, "Task: put a clean mug in coffeemachine.\nSubgoal: find mug\nObs 2: o1\nAct 2: a2\nObs 3: o2\n"
                           "Act 3: a3\nNow: o3\nActions: go to cabinet 1; inventory; look;\n"
                           "Reply <switch>KEEP|SWITCH</switch><subgoal>...</subgoal><action>...</action>");
    free(p);
    hp_memory_free(&m);
}

static void test_compact_first_obs(void **state) {
    (void)state;
    hp_memory m = {0};
    hp_env_view v = alf_view(ALF_INTRO);
    hp_memory_reset(&m, HP_FAM_ALFWORLD, &v);
    hp_prompt_cfg cfg = hp_prompt_cfg_default(HP_FMT_ACTION, HP_FAM_ALFWORLD);
    cfg.style = HP_STYLE_COMPACT;
    char *p = hp_prompt_user_text(&cfg, &m, &v);
    /* the banner and the repeated task sentence are left out of the compact observation */
    assert_string_equal(p, "Task: put a clean mug in coffeemachine.\nNow: You are in the middle of a room. Looking quickly "
                           "around you, you see a cabinet 1, a coffeemachine 1, and a sinkbasin 1.\n"
                           "Actions: go to cabinet 1; inventory; look;\nReply <action>...</action>");
    free(p);
    hp_memory_free(&m);
}

static void test_compact_grouped_actions(void **state) {
    (void)state;
    static const char *adm[] = {"examine desk 1", "go to bed 1", "go to shelf 2", "help", "inventory", "look",
                                "take mug 1 from desk 1", "take pen 2 from desk 1", "go to shelf 10"};
    hp_env_view v = {.observation = "You arrive at desk 1.", .task = "x", .admissible = adm, .n_admissible = 9};
    hp_memory m = {0};
    hp_memory_reset(&m, HP_FAM_ALFWORLD, &v);
    hp_prompt_cfg cfg = hp_prompt_cfg_default(HP_FMT_ACTION, HP_FAM_ALFWORLD);
    cfg.style = HP_STYLE_COMPACT;
    char *p = hp_prompt_user_text(&cfg, &m, &v);
    pos_of(p, "\nActions: examine desk 1; go to [bed 1, shelf 2, shelf 10]; inventory; look; "
              "take [mug 1 from desk 1, pen 2 from desk 1];\n");
    free(p);
    /* WebShop lists are never grouped */
    static const char *ws[] = {"click[back to search]", "click[b0001]"};
    hp_env_view w = {.observation = "'x'", .task = "t", .admissible = ws, .n_admissible = 2};
    hp_memory_reset(&m, HP_FAM_WEBSHOP, &w);
    cfg.family = HP_FAM_WEBSHOP;
    p = hp_prompt_user_text(&cfg, &m, &w);
    pos_of(p, "\nActions: click[back to search]; click[b0001];\n");
    free(p);
    hp_memory_free(&m);
}

static void test_responses(void **state) {
    (void)state;
    char *r = hp_prompt_response(HP_FMT_HIPER, true, "find mug", NULL, "go to cabinet 1");
    assert_string_equal(r, "<switch>SWITCH</switch>\n<subgoal>find mug</subgoal>\n<action>go to cabinet 1</action>");
    free(r);
    r = hp_prompt_response(HP_FMT_HIPER, false, "find mug", NULL, "look");
    assert_string_equal(r, "<switch>KEEP</switch>\n<subgoal>find mug</subgoal>\n<action>look</action>");
    free(r);
    r = hp_prompt_response(HP_FMT_THINK, false, NULL, "why", "look");
    assert_string_equal(r, "<think>why</think>\n<action>look</action>");
    free(r);
    r = hp_prompt_response(HP_FMT_ACTION, true, "x", "y", "look");
    assert_string_equal(r, "<action>look</action>");
    free(r);
}

static void test_parse_names(void **state) {
    (void)state;
    hp_fmt f;
    hp_err e = {{0}};
    assert_int_equal(hp_fmt_parse("think", &f, &e), HP_OK);
    assert_int_equal(f, HP_FMT_THINK);
    assert_int_equal(hp_fmt_parse("nothink", &f, &e), HP_OK);
    assert_int_equal(f, HP_FMT_ACTION);
    assert_int_equal(hp_fmt_parse("bogus", &f, &e), HP_FAIL);
    assert_non_null(strstr(e.msg, "bogus"));
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_alfworld_first_turn), cmocka_unit_test(test_alfworld_history),
        cmocka_unit_test(test_webshop_obs_and_task), cmocka_unit_test(test_webshop_templates),
        cmocka_unit_test(test_flat_templates),      cmocka_unit_test(test_compact),
        cmocka_unit_test(test_responses),           cmocka_unit_test(test_parse_names),
        cmocka_unit_test(test_compact_first_obs),   cmocka_unit_test(test_compact_grouped_actions),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
