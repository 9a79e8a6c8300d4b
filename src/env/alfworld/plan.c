/* Full-knowledge optimal plan length of a game from its initial state (spec §4.5). Every `go to`
 * costs one step wherever it leads, so the best plan is a short sequence of visits: the source
 * receptacle (open it if needed, take), the appliance (unless it shares the spot), the destination
 * (unless it shares the spot; open it if needed), and for pick two a second round trip. The length is
 * the minimum of that cost over every choice of instances, appliance and destination. */
#include "aw.h"

static int goto_cost(const aw_game *g, int from_loc, int r) { return g->rloc[r] != from_loc; }
static int open_cost(const aw_game *g, int r) { return (int)((g->openable >> r) & 1u); }

/* Put the held object into the best receptacle of the goal type, starting at loc; `opened` is a
 * receptacle already opened on the way (or -1). */
static int place_cost(const aw_game *g, int loc, int opened) {
    int best = 1 << 20;
    for (int d = 0; d < g->n_recep; d++) {
        if (g->rtype[d] != g->task.recep || !aw_can_contain(g->rtype[d], g->task.obj)) continue;
        int c = goto_cost(g, loc, d) + (d == opened ? 0 : open_cost(g, d)) + 1;
        if (c < best) best = c;
    }
    return best;
}

static int single_cost(const aw_game *g, int o) {
    const aw_task *t = &g->task;
    int r = g->parent0[o], loc = g->rloc[r];
    int base = 1 + open_cost(g, r) + 1; /* go, open, take */
    int app_type = t->type == AW_TASK_CLEAN ? AW_T_SINKBASIN : t->type == AW_TASK_HEAT ? AW_T_MICROWAVE
                 : t->type == AW_TASK_COOL  ? AW_T_FRIDGE : -1;
    bool done = app_type < 0 || (t->type == AW_TASK_COOL && (g->flags0[o] & AW_S_COOL));
    if (app_type >= 0 && !done && !aw_has(g->otype[o], t->type == AW_TASK_CLEAN ? AW_F_CLEAN : t->type == AW_TASK_HEAT ? AW_F_HEAT : AW_F_COOL))
        return 1 << 20;
    if (done) return base + place_cost(g, loc, r);
    int best = 1 << 20;
    for (int a = 0; a < g->n_recep; a++) {
        if (g->rtype[a] != app_type) continue;
        int c = base + goto_cost(g, loc, a) + 1 + place_cost(g, g->rloc[a], r);
        if (c < best) best = c;
    }
    return best;
}

static int look_cost(const aw_game *g, int o) {
    int r = g->parent0[o], best = 1 << 20;
    for (int l = 0; l < g->n_obj; l++) {
        if (g->otype[l] != g->task.toggle) continue;
        int c = 1 + open_cost(g, r) + 1 + goto_cost(g, g->rloc[r], g->parent0[l]) + 1; /* go, open, take, go, use */
        if (c < best) best = c;
    }
    return best;
}

static int pick2_cost(const aw_game *g, int o1, int o2) {
    int r1 = g->parent0[o1], r2 = g->parent0[o2], best = 1 << 20;
    for (int d = 0; d < g->n_recep; d++) {
        if (g->rtype[d] != g->task.recep || !aw_can_contain(g->rtype[d], g->task.obj)) continue;
        int c = 1 + open_cost(g, r1) + 1;                          /* go r1, open, take */
        c += goto_cost(g, g->rloc[r1], d) + open_cost(g, d) + 1;   /* go d, open, move */
        c += goto_cost(g, g->rloc[d], r2) + (r2 == r1 ? 0 : open_cost(g, r2)) + 1; /* go r2, open, take */
        c += goto_cost(g, g->rloc[r2], d) + 1;                     /* go d, move */
        if (c < best) best = c;
    }
    return best;
}

/* -1 when no plan exists (the object cannot be processed or placed). */
int aw_optimal_length(const aw_game *g) {
    const aw_task *t = &g->task;
    int best = -1;
    for (int o = 0; o < g->n_obj; o++) {
        if (g->otype[o] != t->obj || g->parent0[o] < 0) continue;
        if (t->type == AW_TASK_PICK2) {
            for (int o2 = 0; o2 < g->n_obj; o2++) {
                if (o2 == o || g->otype[o2] != t->obj || g->parent0[o2] < 0) continue;
                int c = pick2_cost(g, o, o2);
                if (c >= (1 << 20)) continue;
                if (best < 0 || c < best) best = c;
            }
            continue;
        }
        int c = t->type == AW_TASK_LOOK ? look_cost(g, o) : single_cost(g, o);
        if (best < 0 || c < best) best = c;
    }
    return best >= (1 << 20) ? -1 : best;
}
