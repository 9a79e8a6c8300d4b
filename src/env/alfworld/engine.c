/* The ALFWorld rules (spec §2–§4.2): admissible commands, transitions, feedback text, goal check.
 * Everything works on the flat aw_state in place; nothing allocates. */
#include "aw.h"

#include <string.h>

/* ---- a bounded text writer ---------------------------------------------------------------- */

typedef struct {
    char *p, *end; /* end points at the last byte, reserved for the NUL */
} aw_w;

static void w_put(aw_w *w, const char *s) {
    if (!w->p) return;
    size_t n = strlen(s), room = (size_t)(w->end - w->p);
    if (n > room) n = room;
    memcpy(w->p, s, n);
    w->p += n;
    *w->p = '\0';
}

static const char HELP_TEXT[] =
    "\nAvailable commands:\n"
    "  look:                             look around your current location\n"
    "  inventory:                        check your current inventory\n"
    "  go to (receptacle):               move to a receptacle\n"
    "  open (receptacle):                open a receptacle\n"
    "  close (receptacle):               close a receptacle\n"
    "  take (object) from (receptacle):  take an object from a receptacle\n"
    "  move (object) to (receptacle):  place an object in or on a receptacle\n"
    "  examine (something):              examine a receptacle or an object\n"
    "  use (object):                     use an object\n"
    "  heat (object) with (receptacle):  heat an object using a receptacle\n"
    "  clean (object) with (receptacle): clean an object using a receptacle\n"
    "  cool (object) with (receptacle):  cool an object using a receptacle\n"
    "  slice (object) with (object):     slice an object using a sharp object\n";

/* Oxford-comma list separator before item i of n (spec §3.12). */
static void w_sep(aw_w *w, int i, int n) {
    if (i > 0) w_put(w, i == n - 1 ? ", and " : ", ");
}

/* "a X, a Y, and a Z" over the objects inside receptacle r, or "nothing". */
static void w_contents(aw_w *w, const aw_game *g, const aw_state *s, int r) {
    int n = __builtin_popcountll(s->inside[r][0]) + __builtin_popcountll(s->inside[r][1]);
    if (!n) {
        w_put(w, "nothing");
        return;
    }
    int i = 0;
    AW_FOR_EACH_OBJ(o, s->inside[r]) {
        w_sep(w, i++, n);
        w_put(w, "a ");
        w_put(w, g->oname[o]);
    }
}

/* The examine-receptacle text (§3.5). */
static void w_examine_recep(aw_w *w, const aw_game *g, const aw_state *s, int r) {
    if ((g->openable >> r) & 1u) {
        w_put(w, "The ");
        w_put(w, g->rname[r]);
        if (!((s->open >> r) & 1u)) {
            w_put(w, " is closed.");
            return;
        }
        w_put(w, " is open. In it, you see ");
    } else {
        w_put(w, "On the ");
        w_put(w, g->rname[r]);
        w_put(w, ", you see ");
    }
    w_contents(w, g, s, r);
    w_put(w, ".");
}

/* The examine-object text (§3.6): first matching rule wins. */
static void w_examine_obj(aw_w *w, const aw_game *g, const aw_state *s, int o) {
    const char *name = g->oname[o];
    if (aw_has(g->otype[o], AW_F_MOVREC)) {
        w_put(w, "This is a normal ");
        w_put(w, name);
        w_put(w, ". In it, you see nothing.");
        return;
    }
    unsigned f = s->flags[o];
    bool hot = f & AW_S_HOT, cool = f & AW_S_COOL, clean = f & AW_S_CLEAN, sliced = f & AW_S_SLICED;
    const char *pre = NULL;
    if (clean && hot && sliced) pre = "hot and clean sliced";
    else if (clean && cool && sliced) pre = "cool and clean sliced";
    else if (clean && sliced) pre = "clean sliced";
    else if (hot && sliced) pre = "hot sliced";
    else if (cool && sliced) pre = "cool sliced";
    else if (clean && hot) pre = "hot and clean";
    else if (clean && cool) pre = "cool and clean";
    else if (hot) pre = "hot";
    else if (clean) pre = "clean";
    else if (cool) pre = "cold";
    else if (sliced) pre = "sliced";
    if (!pre) {
        w_put(w, "There's nothing special about ");
        w_put(w, name);
        w_put(w, ".");
        return;
    }
    w_put(w, "This is a ");
    w_put(w, pre);
    w_put(w, " ");
    w_put(w, name);
    w_put(w, ".");
}

/* `look` (§3.10, §3.11). */
static void w_look(aw_w *w, const aw_game *g, const aw_state *s) {
    if (s->loc == 0) {
        w_put(w, "You are in the middle of a room. Looking quickly around you, you see nothing.");
        return;
    }
    uint64_t here = g->at_loc[s->loc];
    int n = __builtin_popcountll(here), i = 0;
    w_put(w, "You are facing the ");
    for (int r = 0; r < g->n_recep; r++) {
        if (!((here >> r) & 1u)) continue;
        w_sep(w, i++, n);
        w_put(w, g->rname[r]);
    }
    w_put(w, ". Next to it, you see ");
    int m = 0;
    for (int o = 0; o < g->n_obj; o++)
        if (s->objloc[o] == s->loc) m += __builtin_popcountll(s->taken_from[o] & here);
    if (!m) w_put(w, "nothing");
    i = 0;
    for (int o = 0; o < g->n_obj; o++) {
        if (s->objloc[o] != s->loc) continue;
        int k = __builtin_popcountll(s->taken_from[o] & here);
        for (int j = 0; j < k; j++) {
            w_sep(w, i++, m);
            w_put(w, "a ");
            w_put(w, g->oname[o]);
        }
    }
    w_put(w, ".");
}

void aw_render_intro(const aw_game *g, char *out, size_t cap) {
    aw_w w = {out, out + cap - 1};
    *out = '\0';
    w_put(&w, "-= Welcome to TextWorld, ALFRED! =-\n\nYou are in the middle of a room. Looking quickly around you, you see ");
    for (int r = 0; r < g->n_recep; r++) {
        w_sep(&w, r, g->n_recep);
        w_put(&w, "a ");
        w_put(&w, g->rname[r]);
    }
    w_put(&w, ".\n\nYour task is to: ");
    w_put(&w, g->goal);
}

/* ---- state ---------------------------------------------------------------------------------- */

void aw_state_init(const aw_game *g, aw_state *s) {
    memset(s, 0, sizeof *s);
    s->held = -1;
    for (int o = 0; o < g->n_obj; o++) {
        s->parent[o] = g->parent0[o];
        if (g->parent0[o] >= 0) s->inside[g->parent0[o]][o >> 6] |= 1ull << (o & 63);
        s->objloc[o] = (int8_t)(g->parent0[o] >= 0 ? g->rloc[g->parent0[o]] : -1);
        s->flags[o] = g->flags0[o];
        s->seen[o] = -1;
    }
}

/* ---- admissible commands --------------------------------------------------------------------- */

/* Rank of each verb's text in byte order ("examine" covers receptacles and objects). */
static const uint8_t VERB_RANK[] = {
    [AW_V_CLEAN] = 0, [AW_V_CLOSE] = 1, [AW_V_COOL] = 2, [AW_V_EXAMINE_R] = 3, [AW_V_EXAMINE_O] = 3,
    [AW_V_GOTO] = 4, [AW_V_HEAT] = 5, [AW_V_HELP] = 6, [AW_V_INVENTORY] = 7, [AW_V_LOOK] = 8,
    [AW_V_MOVE] = 9, [AW_V_OPEN] = 10, [AW_V_SLICE] = 11, [AW_V_TAKE] = 12, [AW_V_USE] = 13,
};

/* Which entity kind each operand of a verb names: 'r' receptacle, 'o' object, 0 none. */
static const char ARG_A[] = {
    [AW_V_CLEAN] = 'o', [AW_V_CLOSE] = 'r', [AW_V_COOL] = 'o', [AW_V_EXAMINE_R] = 'r', [AW_V_EXAMINE_O] = 'o',
    [AW_V_GOTO] = 'r', [AW_V_HEAT] = 'o', [AW_V_MOVE] = 'o', [AW_V_OPEN] = 'r', [AW_V_SLICE] = 'o',
    [AW_V_TAKE] = 'o', [AW_V_USE] = 'o',
};
static const char ARG_B[] = {
    [AW_V_CLEAN] = 'r', [AW_V_COOL] = 'r', [AW_V_HEAT] = 'r', [AW_V_MOVE] = 'r', [AW_V_SLICE] = 'o',
    [AW_V_TAKE] = 'r', [AW_V_USE] = 0,
};

static uint64_t key_of(const aw_game *g, char kind, int i) {
    return kind == 'r' ? g->rkey[i] : kind == 'o' ? g->okey[i] : 0;
}

/* Commands compare like their text: verb text first, then the first name, then the second. */
static uint64_t action_key(const aw_game *g, aw_action a) {
    return (uint64_t)VERB_RANK[a.verb] << 40 | key_of(g, ARG_A[a.verb], a.a) << 20 | key_of(g, ARG_B[a.verb], a.b);
}

static void push(aw_action *out, int *n, uint8_t verb, int a, int b) {
    if (*n < AW_MAX_DYN) out[(*n)++] = (aw_action){verb, (uint8_t)a, (uint8_t)b};
}

int aw_dynamic_actions(const aw_game *g, const aw_state *s, aw_action *out) {
    int n = 0;
    uint64_t here = s->loc ? g->at_loc[s->loc] : 0;
    push(out, &n, AW_V_HELP, 0, 0);
    push(out, &n, AW_V_INVENTORY, 0, 0);
    push(out, &n, AW_V_LOOK, 0, 0);
    for (int r = 0; r < g->n_recep; r++) {
        if (!((here >> r) & 1u)) continue;
        push(out, &n, AW_V_EXAMINE_R, r, 0);
        bool acc = aw_accessible(g, s, r);
        if ((g->openable >> r) & 1u) push(out, &n, acc ? AW_V_CLOSE : AW_V_OPEN, r, 0);
        int rt = g->rtype[r];
        AW_FOR_EACH_OBJ(o, s->inside[r]) {
            int ot = g->otype[o];
            if (aw_has(ot, AW_F_TOGGLE)) push(out, &n, AW_V_USE, o, 0);
            if (acc && s->held < 0 && aw_has(ot, AW_F_PICKUP)) push(out, &n, AW_V_TAKE, o, r);
        }
        if (s->held >= 0) {
            int h = s->held, ht = g->otype[h];
            if (acc && aw_can_contain(rt, ht)) push(out, &n, AW_V_MOVE, h, r);
            if (rt == AW_T_MICROWAVE && aw_has(ht, AW_F_HEAT)) push(out, &n, AW_V_HEAT, h, r);
            if (rt == AW_T_FRIDGE && aw_has(ht, AW_F_COOL)) push(out, &n, AW_V_COOL, h, r);
            if (rt == AW_T_SINKBASIN && aw_has(ht, AW_F_CLEAN)) push(out, &n, AW_V_CLEAN, h, r);
        }
    }
    if (s->held >= 0) {
        push(out, &n, AW_V_EXAMINE_O, s->held, 0);
        if (aw_has(g->otype[s->held], AW_F_SHARP) && s->loc)
            for (int o = 0; o < g->n_obj; o++)
                if (s->objloc[o] == s->loc && aw_has(g->otype[o], AW_F_SLICE)) push(out, &n, AW_V_SLICE, o, s->held);
    }
    /* insertion sort by key (lists are short), then drop duplicates */
    uint64_t keys[AW_MAX_DYN];
    for (int i = 0; i < n; i++) {
        aw_action a = out[i];
        uint64_t k = action_key(g, a);
        int j = i;
        while (j > 0 && keys[j - 1] > k) {
            keys[j] = keys[j - 1];
            out[j] = out[j - 1];
            j--;
        }
        keys[j] = k;
        out[j] = a;
    }
    int m = 0;
    for (int i = 0; i < n; i++)
        if (!m || keys[i] != keys[m - 1]) {
            keys[m] = keys[i];
            out[m++] = out[i];
        }
    return m;
}

bool aw_legal(const aw_game *g, const aw_state *s, aw_action a) {
    if (a.verb == AW_V_GOTO) return a.a < g->n_recep && g->rloc[a.a] != s->loc;
    aw_action dyn[AW_MAX_DYN];
    int n = aw_dynamic_actions(g, s, dyn);
    for (int i = 0; i < n; i++)
        if (dyn[i].verb == a.verb && dyn[i].a == a.a && dyn[i].b == a.b) return true;
    return false;
}

int aw_render_action(const aw_game *g, aw_action a, char *dst) {
    aw_w w = {dst, dst + AW_CMD_LEN - 1};
    *dst = '\0';
    const char *A = ARG_A[a.verb] == 'r' ? g->rname[a.a] : g->oname[a.a];
    const char *B = ARG_B[a.verb] == 'r' ? g->rname[a.b] : g->oname[a.b];
    switch (a.verb) {
    case AW_V_HELP: w_put(&w, "help"); break;
    case AW_V_INVENTORY: w_put(&w, "inventory"); break;
    case AW_V_LOOK: w_put(&w, "look"); break;
    case AW_V_GOTO: w_put(&w, "go to "); w_put(&w, A); break;
    case AW_V_OPEN: w_put(&w, "open "); w_put(&w, A); break;
    case AW_V_CLOSE: w_put(&w, "close "); w_put(&w, A); break;
    case AW_V_EXAMINE_R:
    case AW_V_EXAMINE_O: w_put(&w, "examine "); w_put(&w, A); break;
    case AW_V_USE: w_put(&w, "use "); w_put(&w, A); break;
    case AW_V_TAKE: w_put(&w, "take "); w_put(&w, A); w_put(&w, " from "); w_put(&w, B); break;
    case AW_V_MOVE: w_put(&w, "move "); w_put(&w, A); w_put(&w, " to "); w_put(&w, B); break;
    case AW_V_HEAT: w_put(&w, "heat "); w_put(&w, A); w_put(&w, " with "); w_put(&w, B); break;
    case AW_V_COOL: w_put(&w, "cool "); w_put(&w, A); w_put(&w, " with "); w_put(&w, B); break;
    case AW_V_CLEAN: w_put(&w, "clean "); w_put(&w, A); w_put(&w, " with "); w_put(&w, B); break;
    case AW_V_SLICE: w_put(&w, "slice "); w_put(&w, A); w_put(&w, " with "); w_put(&w, B); break;
    default: break;
    }
    return (int)(w.p - dst);
}

/* ---- transitions ----------------------------------------------------------------------------- */

/* The agent is shown receptacle r's contents: update what it knows. */
static void reveal(const aw_game *g, aw_state *s, int r) {
    if (!aw_accessible(g, s, r)) return;
    for (int o = 0; o < g->n_obj; o++) {
        if (s->parent[o] == r) s->seen[o] = (int8_t)r;
        else if (s->seen[o] == r) s->seen[o] = -1;
    }
    s->searched |= 1ull << r;
}

static void fb3(aw_w *w, const char *a, const char *b, const char *c, const char *d, const char *e) {
    w_put(w, a);
    w_put(w, b);
    w_put(w, c);
    if (d) w_put(w, d);
    if (e) w_put(w, e);
}

void aw_apply(const aw_game *g, aw_state *s, aw_action a, char *out, size_t cap) {
    aw_w w = {out, out ? out + cap - 1 : NULL};
    if (out) *out = '\0';
    int A = a.a, B = a.b;
    switch (a.verb) {
    case AW_V_HELP: w_put(&w, HELP_TEXT); break;
    case AW_V_INVENTORY:
        if (s->held < 0) w_put(&w, "You are not carrying anything.");
        else fb3(&w, "You are carrying: a ", g->oname[s->held], ".", NULL, NULL);
        break;
    case AW_V_LOOK:
        if (out) w_look(&w, g, s);
        break;
    case AW_V_GOTO:
        s->loc = g->rloc[A];
        fb3(&w, "You arrive at ", g->rname[A], ". ", NULL, NULL);
        if (out) w_examine_recep(&w, g, s, A);
        reveal(g, s, A);
        break;
    case AW_V_OPEN:
        s->open |= 1ull << A;
        fb3(&w, "You open the ", g->rname[A], ". ", NULL, NULL);
        if (out) w_examine_recep(&w, g, s, A);
        reveal(g, s, A);
        break;
    case AW_V_CLOSE:
        s->open &= ~(1ull << A);
        fb3(&w, "You close the ", g->rname[A], ".", NULL, NULL);
        break;
    case AW_V_EXAMINE_R:
        if (out) w_examine_recep(&w, g, s, A);
        reveal(g, s, A);
        break;
    case AW_V_EXAMINE_O:
        if (out) w_examine_obj(&w, g, s, A);
        break;
    case AW_V_TAKE:
        s->parent[A] = -1;
        s->inside[B][A >> 6] &= ~(1ull << (A & 63));
        s->held = A;
        s->objloc[A] = -1;
        s->taken_from[A] |= 1ull << B;
        s->seen[A] = -2;
        fb3(&w, "You pick up the ", g->oname[A], " from the ", g->rname[B], ".");
        break;
    case AW_V_MOVE:
        s->parent[A] = (int8_t)B;
        s->inside[B][A >> 6] |= 1ull << (A & 63);
        s->held = -1;
        s->objloc[A] = (int8_t)s->loc;
        s->taken_from[A] &= ~(1ull << B);
        s->seen[A] = (int8_t)B;
        fb3(&w, "You move the ", g->oname[A], " to the ", g->rname[B], ".");
        break;
    case AW_V_HEAT:
        s->flags[A] = (uint8_t)((s->flags[A] | AW_S_HOT) & ~(AW_S_COOL | AW_S_COOLED));
        fb3(&w, "You heat the ", g->oname[A], " using the ", g->rname[B], ".");
        break;
    case AW_V_COOL:
        s->flags[A] = (uint8_t)((s->flags[A] | AW_S_COOL | AW_S_COOLED) & ~AW_S_HOT);
        fb3(&w, "You cool the ", g->oname[A], " using the ", g->rname[B], ".");
        break;
    case AW_V_CLEAN:
        s->flags[A] |= AW_S_CLEAN;
        fb3(&w, "You clean the ", g->oname[A], " using the ", g->rname[B], ".");
        break;
    case AW_V_USE:
        s->flags[A] = (uint8_t)((s->flags[A] ^ AW_S_ON) | AW_S_TOGGLED);
        fb3(&w, "You turn on the ", g->oname[A], ".", NULL, NULL);
        break;
    case AW_V_SLICE:
        s->flags[A] |= AW_S_SLICED;
        fb3(&w, "You sliced the ", g->oname[A], " with the ", g->oname[B], ".");
        break;
    default: break;
    }
}

/* ---- goal (§4.2) ----------------------------------------------------------------------------- */

bool aw_goal(const aw_game *g, const aw_state *s) {
    const aw_task *t = &g->task;
    if (t->type == AW_TASK_LOOK) {
        if (s->held < 0 || g->otype[s->held] != t->obj || s->loc == 0) return false;
        uint64_t here = g->at_loc[s->loc];
        for (int o = g->lamp_first; o < g->lamp_end; o++)
            if ((s->flags[o] & AW_S_TOGGLED) && s->parent[o] >= 0 && ((here >> s->parent[o]) & 1u)) return true;
        return false;
    }
    unsigned need = t->type == AW_TASK_CLEAN ? AW_S_CLEAN : t->type == AW_TASK_HEAT ? AW_S_HOT
                  : t->type == AW_TASK_COOL  ? AW_S_COOL : 0;
    /* objects are in type order, so the target type's instances are one index range */
    for (int o = g->tgt_first; o < g->tgt_end; o++) {
        int r = s->parent[o];
        if (r < 0 || g->rtype[r] != t->recep || (s->flags[o] & need) != need) continue;
        if (t->type != AW_TASK_PICK2) return true;
        for (int o2 = o + 1; o2 < g->tgt_end; o2++)
            if (s->parent[o2] == r) return true;
    }
    return false;
}
