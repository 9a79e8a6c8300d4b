/* The search expert (spec §4.4), deciding only from what the agent has been shown: where it is, what
 * it holds, which receptacles are open, the contents of receptacles it has seen (aw_state.seen,
 * .searched) and the effects of commands it has run. It re-derives its sub-goal from that every step,
 * so it recovers from any state other actions lead to. Deterministic: ties go to the receptacle
 * that lists first. */
#include "aw.h"

#include <stdio.h>
#include <string.h>

typedef struct {
    const aw_game *g;
    const aw_state *s;
} ctx;

static bool here(const ctx *c, int r) { return c->s->loc != 0 && c->g->rloc[r] == c->s->loc; }

static aw_action act(int verb, int a, int b) { return (aw_action){(uint8_t)verb, (uint8_t)a, (uint8_t)b}; }

/* Leave for r, closing first whatever is open here (the expert closes what it searched). */
static aw_action leave_for(const ctx *c, int r) {
    if (c->s->loc) {
        uint64_t open_here = c->s->open & c->g->at_loc[c->s->loc];
        if (open_here) return act(AW_V_CLOSE, __builtin_ctzll(open_here), 0);
    }
    return act(AW_V_GOTO, r, 0);
}

/* Get to r with its contents accessible; *ready is set when already there. */
static aw_action reach(const ctx *c, int r, bool *ready) {
    *ready = false;
    if (!here(c, r)) return leave_for(c, r);
    if (!aw_accessible(c->g, c->s, r)) return act(AW_V_OPEN, r, 0);
    *ready = true;
    return act(AW_V_LOOK, 0, 0);
}

/* Preference among receptacles: here, then never needing to open, then listing order. */
static int cost(const ctx *c, int r) {
    return (here(c, r) ? 0 : 2) + (aw_accessible(c->g, c->s, r) ? 0 : 1);
}

/* Receptacle of type rt that is best to go to (lowest cost; ties: lowest number = listed last). */
static int best_of_type(const ctx *c, int rt) {
    int best = -1;
    for (int r = 0; r < c->g->n_recep; r++)
        if (c->g->rtype[r] == rt && (best < 0 || cost(c, r) <= cost(c, best))) best = r;
    return best;
}

/* Pick two: the receptacle of the target type holding most known target objects (or -1). */
static int pick2_dst(const ctx *c) {
    int count[AW_MAX_RECEP] = {0}, best = -1;
    for (int o = 0; o < c->g->n_obj; o++) {
        int r = c->s->seen[o];
        if (r >= 0 && c->g->otype[o] == c->g->task.obj && c->g->rtype[r] == c->g->task.recep) count[r]++;
    }
    for (int r = 0; r < c->g->n_recep; r++)
        if (count[r] && (best < 0 || count[r] > count[best])) best = r;
    return best;
}

/* Search for an object of type ot: unsearched plausible receptacles first (§4.4). */
static aw_action search(const ctx *c, int ot) {
    const aw_game *g = c->g;
    bool lamp = aw_has(ot, AW_F_TOGGLE);
    int best = -1, best_score = 1 << 30;
    for (int r = 0; r < g->n_recep; r++) {
        if ((c->s->searched >> r) & 1u) continue;
        bool plausible = lamp ? !((g->openable >> r) & 1u) : aw_can_contain(g->rtype[r], ot);
        int score = (plausible ? 0 : 8) + cost(c, r);
        if (score < best_score) best = r, best_score = score;
    }
    if (best < 0) return act(AW_V_LOOK, 0, 0); /* everything seen: nothing left to learn */
    if (here(c, best)) return act(aw_accessible(g, c->s, best) ? AW_V_EXAMINE_R : AW_V_OPEN, best, 0);
    return leave_for(c, best);
}

static bool processed(const aw_game *g, const aw_state *s, int o) {
    switch (g->task.type) {
    case AW_TASK_CLEAN: return s->flags[o] & AW_S_CLEAN;
    case AW_TASK_HEAT: return s->flags[o] & AW_S_HOT;
    case AW_TASK_COOL: return s->flags[o] & AW_S_COOLED;
    default: return true;
    }
}

/* Holding something the task does not need: put it back where it came from, or anywhere it fits. */
static aw_action put_down(const ctx *c, char *sub, size_t cap) {
    const aw_game *g = c->g;
    int h = c->s->held, ht = g->otype[h], dst = -1;
    for (int r = 0; r < g->n_recep && dst < 0; r++)
        if (here(c, r) && aw_accessible(g, c->s, r) && aw_can_contain(g->rtype[r], ht)) dst = r;
    for (int r = 0; r < g->n_recep && dst < 0; r++)
        if (((c->s->taken_from[h] >> r) & 1u) && aw_can_contain(g->rtype[r], ht)) dst = r;
    for (int r = 0; r < g->n_recep; r++)
        if (aw_can_contain(g->rtype[r], ht) && (dst < 0 || cost(c, r) < cost(c, dst))) dst = r;
    if (dst < 0) {
        snprintf(sub, cap, "put the %s down", aw_types[ht].name);
        return act(AW_V_LOOK, 0, 0); /* nothing can hold it (never generated) */
    }
    snprintf(sub, cap, "put the %s in %s", aw_types[ht].name, g->rname[dst]);
    bool ready;
    aw_action a = reach(c, dst, &ready);
    return ready ? act(AW_V_MOVE, h, dst) : a;
}

static aw_action with_held(const ctx *c, char *sub, size_t cap) {
    const aw_game *g = c->g;
    const aw_task *t = &g->task;
    const char *on = aw_types[t->obj].name;
    int h = c->s->held;
    bool ready;
    if (t->type == AW_TASK_LOOK) {
        int lamp = -1;
        for (int o = 0; o < g->n_obj; o++)
            if (g->otype[o] == t->toggle && c->s->seen[o] >= 0 && (lamp < 0 || cost(c, c->s->seen[o]) < cost(c, c->s->seen[lamp])))
                lamp = o;
        if (lamp < 0) {
            snprintf(sub, cap, "find a %s", aw_types[t->toggle].name);
            return search(c, t->toggle);
        }
        snprintf(sub, cap, "use the %s", g->oname[lamp]);
        int r = c->s->seen[lamp];
        return here(c, r) ? act(AW_V_USE, lamp, 0) : leave_for(c, r);
    }
    if (!processed(g, c->s, h)) {
        int at = t->type == AW_TASK_CLEAN ? AW_T_SINKBASIN : t->type == AW_TASK_HEAT ? AW_T_MICROWAVE : AW_T_FRIDGE;
        int verb = t->type == AW_TASK_CLEAN ? AW_V_CLEAN : t->type == AW_TASK_HEAT ? AW_V_HEAT : AW_V_COOL;
        int app = best_of_type(c, at);
        snprintf(sub, cap, "%s the %s with %s", t->type == AW_TASK_CLEAN ? "clean" : t->type == AW_TASK_HEAT ? "heat" : "cool",
                 on, g->rname[app]);
        return here(c, app) ? act(verb, h, app) : leave_for(c, app);
    }
    int dst = t->type == AW_TASK_PICK2 ? pick2_dst(c) : -1;
    if (dst < 0) dst = best_of_type(c, t->recep);
    snprintf(sub, cap, "put the %s in %s", on, g->rname[dst]);
    aw_action a = reach(c, dst, &ready);
    return ready ? act(AW_V_MOVE, h, dst) : a;
}

static aw_action with_empty_hands(const ctx *c, char *sub, size_t cap) {
    const aw_game *g = c->g;
    const aw_task *t = &g->task;
    const char *on = aw_types[t->obj].name;
    int skip = t->type == AW_TASK_PICK2 ? pick2_dst(c) : -1;
    int best = -1;
    for (int o = 0; o < g->n_obj; o++) {
        int r = c->s->seen[o];
        if (g->otype[o] != t->obj || r < 0 || r == skip) continue;
        if (best < 0 || cost(c, r) < cost(c, c->s->seen[best])) best = o;
    }
    if (best < 0) {
        snprintf(sub, cap, "find a %s", on);
        return search(c, t->obj);
    }
    int r = c->s->seen[best];
    if (!here(c, r)) {
        snprintf(sub, cap, "find a %s", on);
        return leave_for(c, r);
    }
    snprintf(sub, cap, "take the %s", on);
    if (!aw_accessible(g, c->s, r)) return act(AW_V_OPEN, r, 0);
    return act(AW_V_TAKE, best, r);
}

aw_action aw_expert_decide(const aw_game *g, const aw_state *s, char *sub, size_t cap) {
    ctx c = {g, s};
    if (s->held >= 0 && g->otype[s->held] != g->task.obj) return put_down(&c, sub, cap);
    if (s->held >= 0) return with_held(&c, sub, cap);
    return with_empty_hands(&c, sub, cap);
}
