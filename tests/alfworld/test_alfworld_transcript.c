/* Transcript tests: every feedback line of hand-built games compared with the strings ALFWorld 0.4.x
 * prints for them (its command feedback, goal texts and a worked example game), one test per command
 * family and task type. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "aw_fixture.h"
#include "hiper/alfworld.h"

#include <stdio.h>

static void step(hp_env *e, const char *cmd, const char *expect) {
    hp_err err = {{0}};
    if (hp_env_step(e, cmd, &err)) fail_msg("step '%s': %s", cmd, err.msg);
    const hp_env_view *v = hp_env_get_view(e);
    if (strcmp(v->observation, expect)) fail_msg("after '%s'\n got: %s\nwant: %s", cmd, v->observation, expect);
}

static bool has(const hp_env *e, const char *cmd) {
    const hp_env_view *v = hp_env_get_view(e);
    for (int i = 0; i < v->n_admissible; i++)
        if (!strcmp(v->admissible[i], cmd)) return true;
    return false;
}

static int cmp_str(const void *a, const void *b) { return strcmp(*(const char *const *)a, *(const char *const *)b); }

/* The admissible list must equal exactly this set, in byte order (sorted here with strcmp). */
static void expect_admissible(const hp_env *e, const char **want, int n) {
    qsort(want, (size_t)n, sizeof *want, cmp_str);
    const hp_env_view *v = hp_env_get_view(e);
    for (int i = 0; i < n && i < v->n_admissible; i++)
        if (strcmp(v->admissible[i], want[i])) fail_msg("admissible[%d]: got '%s', want '%s'", i, v->admissible[i], want[i]);
    assert_int_equal(v->n_admissible, n);
}

static hp_env *start(const aw_game *g) {
    hp_env *e = aw_env_from_game(g, 50);
    hp_err err = {{0}};
    assert_int_equal(hp_env_reset(e, "train", 0, 0, &err), HP_OK);
    return e;
}

/* §8: the worked example, verbatim. */
static const fx_recep KITCHEN8[] = {
    {"cabinet", 1, 1, true},      {"cabinet", 2, 2, true},    {"cabinet", 3, 3, true},  {"cabinet", 4, 4, true},
    {"cabinet", 5, 5, true},      {"cabinet", 6, 6, true},    {"coffeemachine", 1, 7, false},
    {"countertop", 1, 8, false},  {"countertop", 2, 9, false}, {"countertop", 3, 10, false},
    {"drawer", 1, 11, true},      {"drawer", 2, 12, true},    {"drawer", 3, 13, true},  {"fridge", 1, 14, true},
    {"garbagecan", 1, 15, false}, {"microwave", 1, 16, true}, {"shelf", 1, 17, false},  {"shelf", 2, 18, false},
    {"shelf", 3, 19, false},      {"sinkbasin", 1, 20, false}, {"stoveburner", 1, 21, false},
    {"stoveburner", 2, 22, false}, {"stoveburner", 3, 23, false}, {"stoveburner", 4, 24, false},
    {"toaster", 1, 25, false},
};
static const fx_obj OBJ8[] = {
    {"egg", 1, "fridge 1"}, {"lettuce", 2, "fridge 1"}, {"bread", 1, "countertop 1"},
    {"fork", 1, "countertop 1"}, {"saltshaker", 1, "countertop 1"}, {"knife", 1, "countertop 2"},
    {"mug", 2, "countertop 3"}, {"apple", 1, "countertop 3"}, {"potato", 1, "drawer 1"},
};

static void test_worked_example(void **state) {
    (void)state;
    aw_game g;
    fx_build(&g, KITCHEN8, 25, OBJ8, 9, AW_TASK_HEAT, "egg", "countertop", NULL, 1);
    hp_env *e = start(&g);
    const hp_env_view *v = hp_env_get_view(e);
    assert_string_equal(v->observation,
                        "-= Welcome to TextWorld, ALFRED! =-\n\nYou are in the middle of a room. Looking quickly around "
                        "you, you see a cabinet 6, a cabinet 5, a cabinet 4, a cabinet 3, a cabinet 2, a cabinet 1, a "
                        "coffeemachine 1, a countertop 3, a countertop 2, a countertop 1, a drawer 3, a drawer 2, a drawer "
                        "1, a fridge 1, a garbagecan 1, a microwave 1, a shelf 3, a shelf 2, a shelf 1, a sinkbasin 1, a "
                        "stoveburner 4, a stoveburner 3, a stoveburner 2, a stoveburner 1, and a toaster 1.\n\nYour task "
                        "is to: heat some egg and put it in countertop.");
    assert_string_equal(v->task, "heat some egg and put it in countertop.");
    assert_int_equal(v->task_type, 3);
    assert_string_equal(v->task_type_name, "heat");
    /* at the start: every go to, help, inventory, look (§3.13) */
    const char *want0[32];
    char buf[32][40];
    int n = 0;
    for (int r = 0; r < g.n_recep; r++) {
        snprintf(buf[n], sizeof buf[n], "go to %s", g.rname[r]);
        want0[n] = buf[n];
        n++;
    }
    want0[n++] = "help";
    want0[n++] = "inventory";
    want0[n++] = "look";
    expect_admissible(e, want0, n);
    assert_string_equal(v->admissible[0], "go to cabinet 1"); /* byte order: cabinet 1 < cabinet 2 */
    step(e, "go to fridge 1", "You arrive at fridge 1. The fridge 1 is closed.");
    step(e, "take egg 1 from fridge 1", "Nothing happens.");
    assert_int_equal(v->steps, 2);
    step(e, "open fridge 1", "You open the fridge 1. The fridge 1 is open. In it, you see a egg 1, and a lettuce 2.");
    step(e, "take egg 1 from fridge 1", "You pick up the egg 1 from the fridge 1.");
    /* §3.13: at an open fridge holding the object */
    const char *want1[40];
    n = 0;
    for (int r = 0; r < g.n_recep; r++) {
        if (!strcmp(g.rname[r], "fridge 1")) continue;
        snprintf(buf[n], sizeof buf[n], "go to %s", g.rname[r]);
        want1[n] = buf[n];
        n++;
    }
    const char *extra[] = {"close fridge 1", "cool egg 1 with fridge 1", "examine fridge 1", "examine egg 1", "help",
                           "inventory", "look", "move egg 1 to fridge 1"};
    for (int i = 0; i < 8; i++) want1[n++] = extra[i];
    expect_admissible(e, want1, n);
    step(e, "examine egg 1", "This is a cold egg 1."); /* target-type fridge contents start cool (§2) */
    step(e, "go to microwave 1", "You arrive at microwave 1. The microwave 1 is closed.");
    step(e, "heat egg 1 with microwave 1", "You heat the egg 1 using the microwave 1.");
    step(e, "examine egg 1", "This is a hot egg 1.");
    step(e, "go to countertop 1",
         "You arrive at countertop 1. On the countertop 1, you see a bread 1, a fork 1, and a saltshaker 1.");
    assert_false(v->won);
    assert_true(v->reward == 0.0);
    step(e, "move egg 1 to countertop 1", "You move the egg 1 to the countertop 1.");
    assert_true(v->won);
    assert_true(v->done);
    assert_false(v->truncated);
    assert_true(v->reward == 10.0);
    assert_true(v->score == 1.0);
    hp_err err = {{0}};
    assert_int_equal(hp_env_step(e, "look", &err), HP_FAIL);
    assert_non_null(strstr(err.msg, "ended"));
    hp_env_free(e);
}

/* §1.5, §3.10, §3.11: shared locations, look, next-to-it, inventory, help, invalid commands. */
static const fx_recep SHARED[] = {
    {"cabinet", 1, 1, true}, {"cabinet", 2, 1, true}, {"countertop", 1, 2, false}, {"toaster", 1, 2, false},
    {"fridge", 1, 3, true},  {"sinkbasin", 1, 4, false}, {"drawer", 1, 5, false},
};
static const fx_obj SHARED_O[] = {
    {"box", 1, "cabinet 1"}, {"potato", 1, "fridge 1"}, {"window", 3, "countertop 1"}, {"window", 1, "countertop 1"},
    {"houseplant", 1, "cabinet 2"}, {"book", 2, "drawer 1"}, {"book", 10, "drawer 1"},
};

static void test_shared_locations_and_look(void **state) {
    (void)state;
    aw_game g;
    fx_build(&g, SHARED, 7, SHARED_O, 7, AW_TASK_PICK, "book", "cabinet", NULL, 0);
    hp_env *e = start(&g);
    assert_string_equal(hp_env_get_view(e)->task, "put a book in cabinet.");
    step(e, "look", "You are in the middle of a room. Looking quickly around you, you see nothing.");
    step(e, "inventory", "You are not carrying anything.");
    step(e, "examine countertop 1", "Nothing happens."); /* not here */
    step(e, "go to countertop 1", "You arrive at countertop 1. On the countertop 1, you see a window 3, and a window 1.");
    assert_false(has(e, "go to countertop 1"));
    assert_false(has(e, "go to toaster 1"));
    assert_true(has(e, "examine toaster 1"));
    assert_false(has(e, "take window 1 from countertop 1")); /* scenery */
    step(e, "examine toaster 1", "On the toaster 1, you see nothing.");
    step(e, "look", "You are facing the countertop 1, and toaster 1. Next to it, you see nothing.");
    step(e, "go to cabinet 2", "You arrive at cabinet 2. The cabinet 2 is closed.");
    assert_false(has(e, "go to cabinet 1"));
    assert_true(has(e, "open cabinet 1"));
    step(e, "open cabinet 1", "You open the cabinet 1. The cabinet 1 is open. In it, you see a box 1.");
    step(e, "take box 1 from cabinet 1", "You pick up the box 1 from the cabinet 1.");
    step(e, "inventory", "You are carrying: a box 1.");
    step(e, "examine box 1", "This is a normal box 1. In it, you see nothing.");
    assert_false(has(e, "take houseplant 1 from cabinet 2"));
    step(e, "open cabinet 2", "You open the cabinet 2. The cabinet 2 is open. In it, you see a houseplant 1.");
    step(e, "move box 1 to cabinet 2", "You move the box 1 to the cabinet 2.");
    step(e, "look", "You are facing the cabinet 2, and cabinet 1. Next to it, you see a box 1.");
    step(e, "examine cabinet 2", "The cabinet 2 is open. In it, you see a box 1, and a houseplant 1.");
    step(e, "close cabinet 1", "You close the cabinet 1.");
    step(e, "examine cabinet 1", "The cabinet 1 is closed.");
    step(e, "go to drawer 1", "You arrive at drawer 1. On the drawer 1, you see a book 10, and a book 2.");
    /* odd spacing and case: surrounding whitespace is stripped and text lowercased; inner spacing is not */
    step(e, "take book 2 from  drawer 1", "Nothing happens.");
    step(e, "  Take BOOK 2 from drawer 1 \n", "You pick up the book 2 from the drawer 1.");
    step(e, "go to cabinet 1", "You arrive at cabinet 1. The cabinet 1 is closed.");
    assert_false(has(e, "move book 2 to cabinet 1"));
    step(e, "move book 2 to cabinet 1", "Nothing happens."); /* closed: open first */
    step(e, "open cabinet 1", "You open the cabinet 1. The cabinet 1 is open. In it, you see nothing.");
    step(e, "help",
         "\nAvailable commands:\n  look:                             look around your current location\n  inventory:     "
         "                   check your current inventory\n  go to (receptacle):               move to a receptacle\n  "
         "open (receptacle):                open a receptacle\n  close (receptacle):               close a receptacle\n "
         " take (object) from (receptacle):  take an object from a receptacle\n  move (object) to (receptacle):  place "
         "an object in or on a receptacle\n  examine (something):              examine a receptacle or an object\n  use "
         "(object):                     use an object\n  heat (object) with (receptacle):  heat an object using a "
         "receptacle\n  clean (object) with (receptacle): clean an object using a receptacle\n  cool (object) with "
         "(receptacle):  cool an object using a receptacle\n  slice (object) with (object):     slice an object using a "
         "sharp object\n");
    assert_false(hp_env_get_view(e)->won);
    step(e, "move book 2 to cabinet 1", "You move the book 2 to the cabinet 1.");
    assert_true(hp_env_get_view(e)->won);
    hp_env_free(e);
}

/* §3.7, §3.6: clean only at a sinkbasin, repeats allowed, examine rules, wrong placement. */
static const fx_recep BATH[] = {
    {"sinkbasin", 1, 1, false}, {"bathtubbasin", 1, 2, false}, {"countertop", 1, 3, false},
    {"drawer", 1, 4, true},     {"toilet", 1, 5, false},       {"towelholder", 1, 6, false},
};
static const fx_obj BATH_O[] = {
    {"cloth", 1, "countertop 1"}, {"soapbar", 2, "toilet 1"}, {"towel", 1, "towelholder 1"},
};

static void test_clean_task(void **state) {
    (void)state;
    aw_game g;
    fx_build(&g, BATH, 6, BATH_O, 3, AW_TASK_CLEAN, "cloth", "drawer", NULL, 0);
    hp_env *e = start(&g);
    assert_string_equal(hp_env_get_view(e)->task, "put a clean cloth in drawer.");
    step(e, "go to countertop 1", "You arrive at countertop 1. On the countertop 1, you see a cloth 1.");
    step(e, "take cloth 1 from countertop 1", "You pick up the cloth 1 from the countertop 1.");
    step(e, "examine cloth 1", "There's nothing special about cloth 1.");
    step(e, "go to bathtubbasin 1", "You arrive at bathtubbasin 1. On the bathtubbasin 1, you see nothing.");
    assert_false(has(e, "clean cloth 1 with bathtubbasin 1"));
    assert_true(has(e, "move cloth 1 to bathtubbasin 1"));
    step(e, "go to sinkbasin 1", "You arrive at sinkbasin 1. On the sinkbasin 1, you see nothing.");
    step(e, "clean cloth 1 with sinkbasin 1", "You clean the cloth 1 using the sinkbasin 1.");
    step(e, "clean cloth 1 with sinkbasin 1", "You clean the cloth 1 using the sinkbasin 1.");
    step(e, "examine cloth 1", "This is a clean cloth 1.");
    step(e, "go to towelholder 1", "You arrive at towelholder 1. On the towelholder 1, you see a towel 1.");
    step(e, "move cloth 1 to towelholder 1", "Nothing happens."); /* towelholder takes towels only */
    step(e, "go to drawer 1", "You arrive at drawer 1. The drawer 1 is closed.");
    step(e, "open drawer 1", "You open the drawer 1. The drawer 1 is open. In it, you see nothing.");
    step(e, "move cloth 1 to drawer 1", "You move the cloth 1 to the drawer 1.");
    assert_true(hp_env_get_view(e)->won);
    hp_env_free(e);
}

/* §2 and §4.2: cool task won without a cool command when the object starts in the fridge; heat undoes
 * cool; examine rules with several flags; slice admissible for hidden objects at the spot. */
static void test_cool_heat_slice(void **state) {
    (void)state;
    const fx_recep K[] = {{"fridge", 1, 1, true}, {"microwave", 1, 2, true}, {"countertop", 1, 3, false},
                          {"sinkbasin", 1, 4, false}, {"diningtable", 1, 5, false}};
    const fx_obj O[] = {{"apple", 1, "fridge 1"}, {"apple", 2, "countertop 1"}, {"knife", 1, "countertop 1"},
                        {"potato", 1, "fridge 1"}, {"mug", 2, "diningtable 1"}};
    aw_game g;
    fx_build(&g, K, 5, O, 5, AW_TASK_COOL, "apple", "diningtable", NULL, 1);
    hp_env *e = start(&g);
    assert_string_equal(hp_env_get_view(e)->task, "cool some apple and put it in diningtable.");
    step(e, "go to countertop 1", "You arrive at countertop 1. On the countertop 1, you see a apple 2, and a knife 1.");
    step(e, "take knife 1 from countertop 1", "You pick up the knife 1 from the countertop 1.");
    assert_true(has(e, "slice apple 2 with knife 1"));
    step(e, "slice apple 2 with knife 1", "You sliced the apple 2 with the knife 1.");
    step(e, "go to fridge 1", "You arrive at fridge 1. The fridge 1 is closed.");
    /* §3.9: no visibility check — sliceable objects inside the closed fridge here are offered */
    assert_true(has(e, "slice apple 1 with knife 1"));
    assert_true(has(e, "slice potato 1 with knife 1"));
    assert_true(has(e, "clean knife 1 with sinkbasin 1") == false);
    step(e, "open fridge 1", "You open the fridge 1. The fridge 1 is open. In it, you see a apple 1, and a potato 1.");
    step(e, "move knife 1 to fridge 1", "Nothing happens.");
    step(e, "go to sinkbasin 1", "You arrive at sinkbasin 1. On the sinkbasin 1, you see nothing.");
    step(e, "move knife 1 to sinkbasin 1", "You move the knife 1 to the sinkbasin 1.");
    step(e, "go to fridge 1", "You arrive at fridge 1. The fridge 1 is open. In it, you see a apple 1, and a potato 1.");
    step(e, "take apple 1 from fridge 1", "You pick up the apple 1 from the fridge 1.");
    step(e, "examine apple 1", "This is a cold apple 1.");
    step(e, "go to microwave 1", "You arrive at microwave 1. The microwave 1 is closed.");
    step(e, "heat apple 1 with microwave 1", "You heat the apple 1 using the microwave 1.");
    step(e, "examine apple 1", "This is a hot apple 1.");
    step(e, "go to sinkbasin 1", "You arrive at sinkbasin 1. On the sinkbasin 1, you see a knife 1.");
    step(e, "clean apple 1 with sinkbasin 1", "You clean the apple 1 using the sinkbasin 1.");
    step(e, "examine apple 1", "This is a hot and clean apple 1.");
    step(e, "go to fridge 1", "You arrive at fridge 1. The fridge 1 is open. In it, you see a potato 1.");
    step(e, "cool apple 1 with fridge 1", "You cool the apple 1 using the fridge 1.");
    step(e, "examine apple 1", "This is a cool and clean apple 1.");
    step(e, "move apple 1 to fridge 1", "You move the apple 1 to the fridge 1.");
    step(e, "take apple 1 from fridge 1", "You pick up the apple 1 from the fridge 1.");
    step(e, "go to diningtable 1", "You arrive at diningtable 1. On the diningtable 1, you see a mug 2.");
    step(e, "move apple 1 to diningtable 1", "You move the apple 1 to the diningtable 1.");
    assert_true(hp_env_get_view(e)->won);
    hp_env_free(e);

    /* the quirk: a target-type object from the fridge is already cool, so this wins at once */
    e = start(&g);
    step(e, "go to fridge 1", "You arrive at fridge 1. The fridge 1 is closed.");
    step(e, "open fridge 1", "You open the fridge 1. The fridge 1 is open. In it, you see a apple 1, and a potato 1.");
    step(e, "take apple 1 from fridge 1", "You pick up the apple 1 from the fridge 1.");
    step(e, "go to diningtable 1", "You arrive at diningtable 1. On the diningtable 1, you see a mug 2.");
    step(e, "move apple 1 to diningtable 1", "You move the apple 1 to the diningtable 1.");
    assert_true(hp_env_get_view(e)->won);
    hp_env_free(e);

    /* a heated-then-cooled or merely heated object does not satisfy cool; mug examines as normal */
    e = start(&g);
    step(e, "go to diningtable 1", "You arrive at diningtable 1. On the diningtable 1, you see a mug 2.");
    step(e, "take mug 2 from diningtable 1", "You pick up the mug 2 from the diningtable 1.");
    step(e, "go to microwave 1", "You arrive at microwave 1. The microwave 1 is closed.");
    step(e, "heat mug 2 with microwave 1", "You heat the mug 2 using the microwave 1.");
    step(e, "examine mug 2", "This is a normal mug 2. In it, you see nothing.");
    step(e, "go to countertop 1", "You arrive at countertop 1. On the countertop 1, you see a apple 2, and a knife 1.");
    step(e, "move mug 2 to countertop 1", "You move the mug 2 to the countertop 1.");
    step(e, "take apple 2 from countertop 1", "You pick up the apple 2 from the countertop 1.");
    step(e, "examine apple 2", "There's nothing special about apple 2.");
    step(e, "go to diningtable 1", "You arrive at diningtable 1. On the diningtable 1, you see nothing.");
    step(e, "move apple 2 to diningtable 1", "You move the apple 2 to the diningtable 1.");
    assert_false(hp_env_get_view(e)->won);
    hp_env_free(e);
}

/* §4.2 look: lamp type must match; use always says "turn on"; win on arrival after using the lamp. */
static void test_look_task(void **state) {
    (void)state;
    const fx_recep B[] = {{"bed", 1, 1, false}, {"desk", 1, 2, false}, {"sidetable", 1, 3, false},
                          {"drawer", 1, 4, true}};
    const fx_obj O[] = {{"book", 1, "bed 1"}, {"book", 2, "bed 1"}, {"desklamp", 1, "desk 1"},
                        {"floorlamp", 1, "sidetable 1"}, {"pen", 1, "desk 1"}};
    aw_game g;
    fx_build(&g, B, 4, O, 5, AW_TASK_LOOK, "book", NULL, "desklamp", 0);
    hp_env *e = start(&g);
    assert_string_equal(hp_env_get_view(e)->task, "look at book under the desklamp.");
    step(e, "go to bed 1", "You arrive at bed 1. On the bed 1, you see a book 2, and a book 1.");
    step(e, "take book 1 from bed 1", "You pick up the book 1 from the bed 1.");
    step(e, "go to sidetable 1", "You arrive at sidetable 1. On the sidetable 1, you see a floorlamp 1.");
    assert_false(has(e, "take floorlamp 1 from sidetable 1"));
    step(e, "use floorlamp 1", "You turn on the floorlamp 1.");
    assert_false(hp_env_get_view(e)->won);
    step(e, "go to desk 1", "You arrive at desk 1. On the desk 1, you see a desklamp 1, and a pen 1.");
    assert_false(hp_env_get_view(e)->won);
    step(e, "use desklamp 1", "You turn on the desklamp 1.");
    assert_true(hp_env_get_view(e)->won);
    hp_env_free(e);

    /* use first (twice: still "turn on"), then fetch the book: wins on arrival */
    e = start(&g);
    step(e, "go to desk 1", "You arrive at desk 1. On the desk 1, you see a desklamp 1, and a pen 1.");
    step(e, "use desklamp 1", "You turn on the desklamp 1.");
    step(e, "use desklamp 1", "You turn on the desklamp 1.");
    step(e, "go to bed 1", "You arrive at bed 1. On the bed 1, you see a book 2, and a book 1.");
    step(e, "take book 2 from bed 1", "You pick up the book 2 from the bed 1.");
    assert_false(hp_env_get_view(e)->won);
    step(e, "go to desk 1", "You arrive at desk 1. On the desk 1, you see a desklamp 1, and a pen 1.");
    assert_true(hp_env_get_view(e)->won);
    assert_string_equal(hp_env_get_view(e)->task_type_name, "look");
    hp_env_free(e);
}

/* §4.2 pick two: two distinct objects in one receptacle instance; one in each of two does not count. */
static void test_pick_two(void **state) {
    (void)state;
    const fx_recep L[] = {{"sofa", 1, 1, false}, {"armchair", 1, 2, false}, {"armchair", 2, 3, false},
                          {"coffeetable", 1, 4, false}};
    const fx_obj O[] = {{"pillow", 1, "coffeetable 1"}, {"pillow", 2, "coffeetable 1"}, {"pillow", 3, "sofa 1"}};
    aw_game g;
    fx_build(&g, L, 4, O, 3, AW_TASK_PICK2, "pillow", "armchair", NULL, 1);
    hp_env *e = start(&g);
    assert_string_equal(hp_env_get_view(e)->task, "find two pillow and put them in armchair.");
    step(e, "go to coffeetable 1", "You arrive at coffeetable 1. On the coffeetable 1, you see a pillow 2, and a pillow 1.");
    step(e, "take pillow 1 from coffeetable 1", "You pick up the pillow 1 from the coffeetable 1.");
    step(e, "go to armchair 1", "You arrive at armchair 1. On the armchair 1, you see nothing.");
    step(e, "move pillow 1 to armchair 1", "You move the pillow 1 to the armchair 1.");
    step(e, "go to coffeetable 1", "You arrive at coffeetable 1. On the coffeetable 1, you see a pillow 2.");
    step(e, "take pillow 2 from coffeetable 1", "You pick up the pillow 2 from the coffeetable 1.");
    step(e, "go to armchair 2", "You arrive at armchair 2. On the armchair 2, you see nothing.");
    step(e, "move pillow 2 to armchair 2", "You move the pillow 2 to the armchair 2.");
    assert_false(hp_env_get_view(e)->won);
    step(e, "take pillow 2 from armchair 2", "You pick up the pillow 2 from the armchair 2.");
    step(e, "go to armchair 1", "You arrive at armchair 1. On the armchair 1, you see a pillow 1.");
    step(e, "move pillow 2 to armchair 1", "You move the pillow 2 to the armchair 1.");
    assert_true(hp_env_get_view(e)->won);
    hp_env_free(e);
}

/* §5: 50 steps (invalid ones count), then done and truncated with reward 0. */
static void test_step_limit(void **state) {
    (void)state;
    aw_game g;
    fx_build(&g, BATH, 6, BATH_O, 3, AW_TASK_PICK, "cloth", "drawer", NULL, 0);
    hp_env *e = start(&g);
    const hp_env_view *v = hp_env_get_view(e);
    const char *before = v->admissible[0];
    int n_before = v->n_admissible;
    for (int i = 0; i < 49; i++) step(e, i % 2 ? "dance" : "go to nowhere", "Nothing happens.");
    assert_int_equal(v->n_admissible, n_before);
    assert_string_equal(v->admissible[0], before);
    assert_false(v->done);
    step(e, "look", "You are in the middle of a room. Looking quickly around you, you see nothing.");
    assert_int_equal(v->steps, 50);
    assert_true(v->done);
    assert_true(v->truncated);
    assert_false(v->won);
    assert_true(v->reward == 0.0);
    hp_err err = {{0}};
    assert_int_equal(hp_env_step(e, "look", &err), HP_FAIL);
    hp_env_free(e);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_worked_example), cmocka_unit_test(test_shared_locations_and_look),
        cmocka_unit_test(test_clean_task),     cmocka_unit_test(test_cool_heat_slice),
        cmocka_unit_test(test_look_task),      cmocka_unit_test(test_pick_two),
        cmocka_unit_test(test_step_limit),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
