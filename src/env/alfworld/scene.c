/* The seeded scene generator (spec §6, §7): room layouts, object placement, task tuples, splits.
 *
 * A game is a pure function of (split, index, seed). Layouts are a pure function of (room type,
 * layout number); games draw a layout, a task tuple and object placements from an hp_rng stream
 * seeded by a hash of (seed, split, index). Only integer draws and exact comparisons of 53-bit
 * uniforms against constants are used, so the result does not depend on the platform's libm,
 * float formatting or RNG. Every game is certified solvable by running the expert on it; a
 * placement the expert cannot finish within AW_CERT_STEPS is redrawn (§7.5). */
#include "aw.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define AW_LAYOUTS 30   /* per room type, like AI2-THOR's 30 scenes */
#define AW_CERT_STEPS 45

const char *const aw_task_names[AW_N_TASKS] = {"pick", "look", "clean", "heat", "cool", "pick2"};
const char *const aw_split_names[AW_N_SPLITS] = {"train", "valid_seen", "valid_unseen"};
/* §5: per task type (pick, look, clean, heat, cool, pick two). */
const int aw_split_counts[AW_N_SPLITS][AW_N_TASKS] = {
    {790, 308, 650, 459, 533, 813}, {35, 13, 27, 16, 25, 24}, {24, 18, 31, 23, 21, 17}};
/* Held-out layouts for valid_unseen: FloorPlan10, 219, 308, 424 (§6). */
static const int HELD_OUT[AW_N_ROOMS] = {9, 18, 7, 23};

int aw_split_code(const char *split) {
    for (int i = 0; i < AW_N_SPLITS; i++)
        if (!strcmp(split, aw_split_names[i])) return i;
    return -1;
}

/* ---- room tables (§6.1, §6.2) ---------------------------------------------------------------- */

/* A receptacle type in a room: present with probability pct%, count uniform in [lo, hi]; with
 * probability tail% the count is instead uniform in [tlo, thi] (heavy tails of cabinets, drawers). */
typedef struct {
    uint8_t type, pct, lo, hi, tail, tlo, thi;
} rspec;

static const rspec KITCHEN_R[] = {
    {AW_T_FRIDGE, 100, 1, 1, 0, 0, 0},     {AW_T_MICROWAVE, 100, 1, 1, 0, 0, 0},
    {AW_T_SINKBASIN, 100, 1, 1, 0, 0, 0},  {AW_T_COFFEEMACHINE, 100, 1, 1, 0, 0, 0},
    {AW_T_GARBAGECAN, 100, 1, 1, 0, 0, 0}, {AW_T_TOASTER, 100, 1, 1, 0, 0, 0},
    {AW_T_STOVEBURNER, 100, 4, 4, 20, 6, 6}, {AW_T_COUNTERTOP, 100, 1, 4, 0, 0, 0},
    {AW_T_CABINET, 100, 4, 12, 30, 10, 28}, {AW_T_DRAWER, 93, 1, 8, 20, 8, 27},
    {AW_T_DININGTABLE, 53, 1, 1, 30, 2, 3}, {AW_T_SHELF, 17, 2, 3, 0, 0, 0},
    {AW_T_SIDETABLE, 10, 1, 1, 0, 0, 0},   {AW_T_SAFE, 3, 1, 1, 0, 0, 0},
};
static const rspec LIVING_R[] = {
    {AW_T_SOFA, 100, 1, 1, 30, 2, 2},      {AW_T_GARBAGECAN, 100, 1, 1, 0, 0, 0},
    {AW_T_ARMCHAIR, 90, 1, 2, 15, 3, 3},   {AW_T_COFFEETABLE, 83, 1, 1, 20, 2, 2},
    {AW_T_SIDETABLE, 80, 1, 2, 20, 3, 5},  {AW_T_DRAWER, 77, 1, 6, 15, 7, 19},
    {AW_T_DININGTABLE, 47, 1, 2, 0, 0, 0}, {AW_T_SHELF, 40, 1, 8, 30, 8, 14},
    {AW_T_TVSTAND, 40, 1, 1, 0, 0, 0},     {AW_T_DRESSER, 33, 1, 1, 0, 0, 0},
    {AW_T_OTTOMAN, 13, 1, 1, 0, 0, 0},     {AW_T_CABINET, 13, 4, 8, 0, 0, 0},
    {AW_T_SAFE, 7, 1, 1, 0, 0, 0},         {AW_T_DESK, 3, 1, 1, 0, 0, 0},
};
static const rspec BEDROOM_R[] = {
    {AW_T_BED, 100, 1, 1, 10, 2, 2},       {AW_T_GARBAGECAN, 100, 1, 1, 0, 0, 0},
    {AW_T_DRAWER, 97, 1, 8, 20, 8, 16},    {AW_T_SHELF, 67, 1, 6, 25, 6, 14},
    {AW_T_SIDETABLE, 63, 1, 2, 0, 0, 0},   {AW_T_DESK, 63, 1, 1, 20, 2, 2},
    {AW_T_DRESSER, 50, 1, 1, 10, 2, 2},    {AW_T_LAUNDRYHAMPER, 27, 1, 1, 0, 0, 0},
    {AW_T_ARMCHAIR, 20, 1, 1, 0, 0, 0},    {AW_T_DININGTABLE, 17, 1, 1, 0, 0, 0},
    {AW_T_CABINET, 17, 2, 6, 0, 0, 0},     {AW_T_SAFE, 17, 1, 1, 0, 0, 0},
    {AW_T_COFFEETABLE, 3, 1, 1, 0, 0, 0},  {AW_T_COUNTERTOP, 3, 1, 1, 0, 0, 0},
};
static const rspec BATHROOM_R[] = {
    {AW_T_SINKBASIN, 100, 1, 2, 0, 0, 0},  {AW_T_TOILET, 100, 1, 1, 0, 0, 0},
    {AW_T_GARBAGECAN, 100, 1, 1, 0, 0, 0}, {AW_T_TOILETPAPERHANGER, 100, 1, 1, 0, 0, 0},
    {AW_T_HANDTOWELHOLDER, 100, 1, 2, 0, 0, 0}, {AW_T_TOWELHOLDER, 100, 1, 2, 0, 0, 0},
    {AW_T_COUNTERTOP, 83, 1, 1, 0, 0, 0},  {AW_T_BATHTUBBASIN, 67, 1, 1, 0, 0, 0},
    {AW_T_CABINET, 50, 2, 9, 0, 0, 0},     {AW_T_DRAWER, 50, 1, 8, 0, 0, 0},
    {AW_T_SHELF, 27, 1, 4, 0, 0, 0},       {AW_T_DRESSER, 7, 1, 1, 0, 0, 0},
    {AW_T_SIDETABLE, 7, 1, 1, 0, 0, 0},    {AW_T_CART, 7, 1, 1, 0, 0, 0},
};

/* A pickupable (or scenery) type present in a room with probability pct%. */
typedef struct {
    uint8_t type, pct;
} ospec;

static const ospec KITCHEN_O[] = {
    {AW_T_APPLE, 100}, {AW_T_BOWL, 100}, {AW_T_BREAD, 100}, {AW_T_BUTTERKNIFE, 100}, {AW_T_CUP, 100},
    {AW_T_DISHSPONGE, 100}, {AW_T_EGG, 100}, {AW_T_FORK, 100}, {AW_T_KNIFE, 100}, {AW_T_LETTUCE, 100},
    {AW_T_MUG, 100}, {AW_T_PAN, 100}, {AW_T_PEPPERSHAKER, 100}, {AW_T_PLATE, 100}, {AW_T_POT, 100},
    {AW_T_POTATO, 100}, {AW_T_SALTSHAKER, 100}, {AW_T_SOAPBOTTLE, 100}, {AW_T_SPATULA, 100},
    {AW_T_SPOON, 100}, {AW_T_TOMATO, 100}, {AW_T_KETTLE, 60}, {AW_T_LADLE, 60}, {AW_T_WINEBOTTLE, 60},
    {AW_T_GLASSBOTTLE, 50}, {AW_T_CREDITCARD, 10}, {AW_T_CELLPHONE, 7}, {AW_T_VASE, 7},
    {AW_T_STATUE, 7},
};
static const ospec LIVING_O[] = {
    {AW_T_BOX, 100}, {AW_T_CREDITCARD, 100}, {AW_T_KEYCHAIN, 100}, {AW_T_LAPTOP, 100},
    {AW_T_PILLOW, 100}, {AW_T_REMOTECONTROL, 100}, {AW_T_STATUE, 100}, {AW_T_VASE, 60},
    {AW_T_NEWSPAPER, 60}, {AW_T_WATCH, 50}, {AW_T_WATERINGCAN, 40}, {AW_T_PLATE, 30},
    {AW_T_TISSUEBOX, 40}, {AW_T_CELLPHONE, 20}, {AW_T_BOOK, 20}, {AW_T_BOWL, 15}, {AW_T_CANDLE, 15},
};
static const ospec BEDROOM_O[] = {
    {AW_T_ALARMCLOCK, 100}, {AW_T_BOOK, 100}, {AW_T_CD, 100}, {AW_T_CELLPHONE, 100},
    {AW_T_CREDITCARD, 100}, {AW_T_KEYCHAIN, 100}, {AW_T_LAPTOP, 100}, {AW_T_PEN, 100},
    {AW_T_PENCIL, 100}, {AW_T_PILLOW, 100}, {AW_T_MUG, 40}, {AW_T_BASEBALLBAT, 40}, {AW_T_BOWL, 30},
    {AW_T_BOX, 30}, {AW_T_BASKETBALL, 30}, {AW_T_TENNISRACKET, 30}, {AW_T_CLOTH, 10},
    {AW_T_STATUE, 10}, {AW_T_VASE, 10}, {AW_T_WATCH, 10},
};
static const ospec BATHROOM_O[] = {
    {AW_T_CANDLE, 100}, {AW_T_CLOTH, 100}, {AW_T_HANDTOWEL, 100}, {AW_T_PLUNGER, 100},
    {AW_T_SOAPBAR, 100}, {AW_T_SOAPBOTTLE, 100}, {AW_T_SPRAYBOTTLE, 100}, {AW_T_TOILETPAPER, 100},
    {AW_T_TOWEL, 100}, {AW_T_TISSUEBOX, 30}, {AW_T_DISHSPONGE, 30},
};

/* Scenery (never taken): type, presence %, count range, and the receptacle types that may hold it. */
typedef struct {
    uint8_t type, pct, lo, hi;
    uint8_t hosts[6]; /* terminated by 0 (AW_T_ALARMCLOCK is never a host) */
} sspec;

static const sspec KITCHEN_S[] = {
    {AW_T_WINDOW, 50, 1, 3, {AW_T_COUNTERTOP, 0}},
    {AW_T_HOUSEPLANT, 30, 1, 1, {AW_T_COUNTERTOP, AW_T_DININGTABLE, 0}},
    {AW_T_SINK, 70, 1, 1, {AW_T_COUNTERTOP, 0}},
};
static const sspec LIVING_S[] = {
    {AW_T_FLOORLAMP, 100, 1, 1, {AW_T_SIDETABLE, AW_T_DRESSER, AW_T_ARMCHAIR, AW_T_SOFA, 0}},
    {AW_T_DESKLAMP, 23, 1, 1, {AW_T_SIDETABLE, AW_T_DESK, AW_T_DRESSER, AW_T_SHELF, 0}},
    {AW_T_TELEVISION, 60, 1, 1, {AW_T_TVSTAND, AW_T_DRESSER, AW_T_SIDETABLE, AW_T_COFFEETABLE, 0}},
    {AW_T_HOUSEPLANT, 50, 1, 1, {AW_T_SIDETABLE, AW_T_COFFEETABLE, AW_T_DININGTABLE, AW_T_SHELF, 0}},
};
static const sspec BEDROOM_S[] = {
    {AW_T_DESKLAMP, 75, 1, 1, {AW_T_DESK, AW_T_SIDETABLE, AW_T_DRESSER, AW_T_SHELF, 0}},
    {AW_T_FLOORLAMP, 25, 1, 1, {AW_T_SIDETABLE, AW_T_DRESSER, AW_T_ARMCHAIR, 0}},
    {AW_T_HOUSEPLANT, 15, 1, 1, {AW_T_DESK, AW_T_SIDETABLE, AW_T_DRESSER, AW_T_SHELF, 0}},
};
static const sspec BATHROOM_S[] = {
    {AW_T_SINK, 50, 1, 1, {AW_T_COUNTERTOP, 0}},
};

typedef struct {
    const rspec *r;
    int nr;
    const ospec *o;
    int no;
    const sspec *s;
    int ns;
    int min_recep, max_recep;
} room_spec;

#define LEN(a) ((int)(sizeof(a) / sizeof((a)[0])))
static const room_spec ROOMS[AW_N_ROOMS] = {
    {KITCHEN_R, LEN(KITCHEN_R), KITCHEN_O, LEN(KITCHEN_O), KITCHEN_S, LEN(KITCHEN_S), 20, 54},
    {LIVING_R, LEN(LIVING_R), LIVING_O, LEN(LIVING_O), LIVING_S, LEN(LIVING_S), 6, 35},
    {BEDROOM_R, LEN(BEDROOM_R), BEDROOM_O, LEN(BEDROOM_O), BEDROOM_S, LEN(BEDROOM_S), 9, 25},
    {BATHROOM_R, LEN(BATHROOM_R), BATHROOM_O, LEN(BATHROOM_O), BATHROOM_S, LEN(BATHROOM_S), 10, 18},
};

/* Large surfaces carry most objects (§6.2): placement weight 5 instead of 1. */
static int surface_weight(int rtype) {
    switch (rtype) {
    case AW_T_COUNTERTOP: case AW_T_DININGTABLE: case AW_T_COFFEETABLE: case AW_T_DESK:
    case AW_T_DRESSER: case AW_T_BED: case AW_T_SOFA: case AW_T_SIDETABLE: return 5;
    default: return 1;
    }
}

static bool chance(hp_rng *r, int pct) { return (int)hp_rng_below(r, 100) < pct; }
static int uniform(hp_rng *r, int lo, int hi) { return lo + (int)hp_rng_below(r, (uint64_t)(hi - lo + 1)); }

/* ---- layouts ---------------------------------------------------------------------------------- */

typedef struct {
    int n;
    uint8_t type[AW_MAX_RECEP], num[AW_MAX_RECEP], loc[AW_MAX_RECEP];
    uint64_t openable;
    int n_loc;
    int n_types;
    uint8_t types[AW_N_TYPES];          /* pickupable types present */
    int n_scen;
    uint8_t scen_type[16], scen_host[16]; /* scenery instances and the receptacle holding each */
    unsigned layout_bits;                  /* small per-layout quirks (bit 0: window numbering gap) */
} layout;

static int cmp_recep(const void *a, const void *b) {
    const uint16_t *x = a, *y = b; /* type << 8 | (255 - num): ascending gives type asc, num desc */
    return (*x > *y) - (*x < *y);
}

static void gen_layout(int room, int index, layout *L) {
    const room_spec *rs = &ROOMS[room];
    hp_rng rng;
    hp_rng_seed(&rng, hp_hash64("alfworld-layout", 15, (uint64_t)(room * 100 + index)), 1);
    int count[AW_N_TYPES] = {0}, total = 0;
    for (int i = 0; i < rs->nr; i++) {
        const rspec *p = &rs->r[i];
        if (!chance(&rng, p->pct)) continue;
        count[p->type] = p->tail && chance(&rng, p->tail) ? uniform(&rng, p->tlo, p->thi) : uniform(&rng, p->lo, p->hi);
        total += count[p->type];
    }
    /* bring the total into the room type's range by adjusting the most numerous enclosed type */
    int adj = count[AW_T_CABINET] >= count[AW_T_DRAWER] ? AW_T_CABINET : AW_T_DRAWER;
    if (room == AW_ROOM_BATHROOM || room == AW_ROOM_LIVING) adj = count[AW_T_SHELF] ? AW_T_SHELF : adj;
    while (total > rs->max_recep && count[adj] > 1) count[adj]--, total--;
    for (int t = 0; total > rs->max_recep && t < AW_N_TYPES; t++)
        while (total > rs->max_recep && count[t] > 1) count[t]--, total--;
    while (total < rs->min_recep) count[adj]++, total++;
    /* receptacles in listing order */
    uint16_t keys[AW_MAX_RECEP];
    L->n = 0;
    for (int t = 0; t < AW_N_TYPES; t++)
        for (int k = 1; k <= count[t]; k++) keys[L->n++] = (uint16_t)(t << 8 | (255 - k));
    qsort(keys, (size_t)L->n, sizeof keys[0], cmp_recep);
    L->openable = 0;
    for (int i = 0; i < L->n; i++) {
        L->type[i] = (uint8_t)(keys[i] >> 8);
        L->num[i] = (uint8_t)(255 - (keys[i] & 255));
        L->loc[i] = (uint8_t)(i + 1);
        int t = L->type[i];
        bool op = t == AW_T_FRIDGE || t == AW_T_MICROWAVE || (t == AW_T_SAFE && chance(&rng, 88)) ||
                  (t == AW_T_CABINET && chance(&rng, 75)) || (t == AW_T_DRAWER && chance(&rng, 80));
        if (op) L->openable |= 1ull << i;
    }
    /* shared locations: 0-3 pairs (cabinet pairs, drawer pairs, countertop + toaster/coffeemachine) */
    int pairs = chance(&rng, 45) ? 0 : uniform(&rng, 1, 3);
    uint64_t shared = 0;
    for (int p = 0; p < pairs; p++) {
        for (int tries = 0; tries < 20; tries++) {
            int a = (int)hp_rng_below(&rng, (uint64_t)L->n), b = (int)hp_rng_below(&rng, (uint64_t)L->n);
            int ta = L->type[a], tb = L->type[b];
            bool ok = (ta == AW_T_CABINET || ta == AW_T_DRAWER) && (tb == AW_T_CABINET || tb == AW_T_DRAWER);
            ok = ok || (ta == AW_T_COUNTERTOP && (tb == AW_T_TOASTER || tb == AW_T_COFFEEMACHINE));
            if (!ok || a == b || ((shared >> a) & 1u) || ((shared >> b) & 1u)) continue;
            L->loc[b] = L->loc[a];
            shared |= 1ull << a | 1ull << b;
            break;
        }
    }
    /* renumber locations densely 1..n_loc */
    uint8_t map[AW_MAX_RECEP + 1] = {0};
    L->n_loc = 0;
    for (int i = 0; i < L->n; i++) {
        if (!map[L->loc[i]]) map[L->loc[i]] = (uint8_t)++L->n_loc;
        L->loc[i] = map[L->loc[i]];
    }
    /* pickupable types: only those some receptacle here may hold (others would lie on the floor) */
    L->n_types = 0;
    for (int i = 0; i < rs->no; i++) {
        int t = rs->o[i].type;
        if (!chance(&rng, rs->o[i].pct)) continue;
        bool placeable = false;
        for (int r = 0; r < L->n && !placeable; r++) placeable = aw_can_contain(L->type[r], t);
        if (placeable) L->types[L->n_types++] = (uint8_t)t;
    }
    /* scenery, fixed per layout; held-out living rooms and bedrooms always have a lamp */
    L->layout_bits = chance(&rng, 40) ? 1u : 0u;
    L->n_scen = 0;
    for (int i = 0; i < rs->ns; i++) {
        const sspec *sp = &rs->s[i];
        bool force = index == HELD_OUT[room] && i == 0;
        if (!force && !chance(&rng, sp->pct)) continue;
        int hosts[AW_MAX_RECEP], nh = 0;
        for (int r = 0; r < L->n; r++)
            for (int k = 0; sp->hosts[k]; k++)
                if (L->type[r] == sp->hosts[k]) hosts[nh++] = r;
        if (!nh) continue;
        int c = uniform(&rng, sp->lo, sp->hi);
        for (int k = 0; k < c && L->n_scen < 16; k++) {
            L->scen_type[L->n_scen] = sp->type;
            L->scen_host[L->n_scen++] = (uint8_t)hosts[hp_rng_below(&rng, (uint64_t)nh)];
        }
    }
}

/* ---- task tuples (§4.3) ---------------------------------------------------------------------- */

static bool room_allows(int task, int room) {
    switch (task) {
    case AW_TASK_LOOK: return room == AW_ROOM_LIVING || room == AW_ROOM_BEDROOM;
    case AW_TASK_CLEAN: return room == AW_ROOM_KITCHEN || room == AW_ROOM_BATHROOM;
    case AW_TASK_HEAT:
    case AW_TASK_COOL: return room == AW_ROOM_KITCHEN;
    default: return true;
    }
}

static bool recep_forbidden(int task, int rtype) {
    if (rtype == AW_T_TOASTER) return true;
    if (task == AW_TASK_HEAT && rtype == AW_T_MICROWAVE) return true;
    if (task == AW_TASK_COOL && rtype == AW_T_FRIDGE) return true;
    if (task == AW_TASK_CLEAN && rtype == AW_T_SINKBASIN) return true;
    if (task == AW_TASK_PICK2 && (rtype == AW_T_COFFEEMACHINE || rtype == AW_T_TOILETPAPERHANGER ||
                                  rtype == AW_T_HANDTOWELHOLDER))
        return true;
    return false;
}

/* Draw a task tuple valid in layout L; false if there is none. */
static bool draw_task(hp_rng *rng, int task, const layout *L, aw_task *t) {
    uint16_t cand[AW_N_TYPES * 32];
    int n = 0;
    bool rpresent[AW_N_TYPES] = {false};
    for (int r = 0; r < L->n; r++) rpresent[L->type[r]] = true;
    if (task == AW_TASK_LOOK) {
        bool lamp[AW_N_TYPES] = {false};
        for (int i = 0; i < L->n_scen; i++) lamp[L->scen_type[i]] = aw_has(L->scen_type[i], AW_F_TOGGLE);
        for (int k = 0; k < 2; k++) {
            int lt = k ? AW_T_FLOORLAMP : AW_T_DESKLAMP;
            if (!lamp[lt]) continue;
            for (int i = 0; i < L->n_types; i++) cand[n++] = (uint16_t)(L->types[i] << 8 | lt);
        }
    } else {
        int need = task == AW_TASK_CLEAN ? AW_F_CLEAN : task == AW_TASK_HEAT ? AW_F_HEAT
                 : task == AW_TASK_COOL  ? AW_F_COOL : 0;
        uint8_t rtypes[AW_N_TYPES];
        int nrt = 0;
        for (int rt = 0; rt < AW_N_TYPES; rt++)
            if (rpresent[rt]) rtypes[nrt++] = (uint8_t)rt;
        for (int i = 0; i < L->n_types; i++) {
            int ot = L->types[i], hosts = 0;
            if (need && !aw_has(ot, need)) continue;
            for (int k = 0; k < nrt; k++) hosts += aw_can_contain(rtypes[k], ot);
            for (int k = 0; k < nrt; k++) {
                int rt = rtypes[k];
                /* placeable in rt, and able to start somewhere else (another receptacle type) */
                if (recep_forbidden(task, rt) || !aw_can_contain(rt, ot) || hosts < 2) continue;
                cand[n++] = (uint16_t)(ot << 8 | rt);
            }
        }
    }
    if (!n) return false;
    uint16_t c = cand[hp_rng_below(rng, (uint64_t)n)];
    t->type = (uint8_t)task;
    t->obj = (uint8_t)(c >> 8);
    t->recep = task == AW_TASK_LOOK ? 0 : (uint8_t)(c & 255);
    t->toggle = task == AW_TASK_LOOK ? (uint8_t)(c & 255) : 0;
    t->template = (uint8_t)hp_rng_below(rng, 2);
    return true;
}

static void render_goal(aw_game *g) {
    const aw_task *t = &g->task;
    const char *o = aw_types[t->obj].name, *r = aw_types[t->recep].name, *l = aw_types[t->toggle].name;
    bool b = t->template == 1;
    char *d = g->goal;
    size_t n = sizeof g->goal;
    switch (t->type) {
    case AW_TASK_PICK: snprintf(d, n, b ? "put some %s on %s." : "put a %s in %s.", o, r); break;
    case AW_TASK_LOOK: snprintf(d, n, b ? "examine the %s with the %s." : "look at %s under the %s.", o, l); break;
    case AW_TASK_CLEAN: snprintf(d, n, b ? "clean some %s and put it in %s." : "put a clean %s in %s.", o, r); break;
    case AW_TASK_HEAT: snprintf(d, n, b ? "heat some %s and put it in %s." : "put a hot %s in %s.", o, r); break;
    case AW_TASK_COOL: snprintf(d, n, b ? "cool some %s and put it in %s." : "put a cool %s in %s.", o, r); break;
    default: snprintf(d, n, b ? "find two %s and put them in %s." : "put two %s in %s.", o, r); break;
    }
}

/* ---- objects -------------------------------------------------------------------------------- */

/* Place the objects of a game. `easy` puts target instances on open surfaces only. */
static void place_objects(hp_rng *rng, const layout *L, aw_game *g, bool easy) {
    const aw_task *t = &g->task;
    uint32_t keys[AW_MAX_OBJ]; /* type << 16 | (255 - num) << 8 | parent */
    int n = 0;
    for (int i = 0; i < L->n_types; i++) {
        int ot = L->types[i];
        bool target = ot == t->obj;
        int c = target ? (t->type == AW_TASK_PICK2 ? uniform(rng, 2, 4) : uniform(rng, 1, 4)) : uniform(rng, 1, 3);
        int hosts[AW_MAX_RECEP], w[AW_MAX_RECEP], nh = 0, wsum = 0;
        for (int pass = easy && target ? 0 : 1; pass < 2 && !nh; pass++)
            for (int r = 0; r < L->n; r++) {
                int rt = L->type[r];
                if (!aw_can_contain(rt, ot)) continue;
                if (target && t->type != AW_TASK_LOOK && rt == t->recep) continue; /* goal false at reset */
                if (pass == 0 && ((L->openable >> r) & 1u)) continue; /* easy: open surfaces only */
                hosts[nh] = r;
                w[nh] = surface_weight(rt);
                wsum += w[nh++];
            }
        if (!nh) continue;
        /* an instance THOR never put in a receptacle still takes a number (§1.1): a gap */
        int gap = chance(rng, 10) ? uniform(rng, 1, c + 1) : 0;
        for (int k = 1; k <= c && n < AW_MAX_OBJ - 16; k++) {
            int x = (int)hp_rng_below(rng, (uint64_t)wsum), h = 0;
            while (x >= w[h]) x -= w[h++];
            int num = gap && k >= gap ? k + 1 : k;
            keys[n++] = (uint32_t)ot << 16 | (uint32_t)(255 - num) << 8 | hosts[h];
        }
    }
    int per_type[AW_N_TYPES] = {0};
    for (int i = 0; i < L->n_scen; i++) {
        int st = L->scen_type[i];
        if (!per_type[st] && st == AW_T_WINDOW && (L->layout_bits & 1u)) per_type[st]++; /* "a window 3, and a window 1" */
        keys[n++] = (uint32_t)st << 16 | (uint32_t)(255 - ++per_type[st]) << 8 | L->scen_host[i];
    }
    /* listing order: type ascending, number descending */
    for (int i = 1; i < n; i++)
        for (int j = i; j > 0 && keys[j - 1] > keys[j]; j--) {
            uint32_t tmp = keys[j];
            keys[j] = keys[j - 1];
            keys[j - 1] = tmp;
        }
    g->n_obj = n;
    for (int o = 0; o < n; o++) {
        g->otype[o] = (uint8_t)(keys[o] >> 16);
        g->onum[o] = (uint8_t)(255 - ((keys[o] >> 8) & 255));
        g->parent0[o] = (int8_t)(keys[o] & 255);
        g->flags0[o] = 0;
        /* augment_pddl_states: target-type objects that start in the fridge are already cool */
        if (g->otype[o] == t->obj && g->rtype[g->parent0[o]] == AW_T_FRIDGE) g->flags0[o] = AW_S_COOL;
    }
}

/* "<type> <num>" (num < 256) into an AW_NAME_LEN buffer, without printf. */
static void make_name(char *dst, int type, int num) {
    const aw_type_info *t = &aw_types[type];
    memcpy(dst, t->name, t->len);
    char *p = dst + t->len;
    *p++ = ' ';
    if (num >= 100) *p++ = (char)('0' + num / 100);
    if (num >= 10) *p++ = (char)('0' + num / 10 % 10);
    *p++ = (char)('0' + num % 10);
    *p = '\0';
}

/* A key whose integer order is the byte order of "<type> <num>": types are numbered in name order
 * (a type that prefixes another sorts first, as ' ' < any letter), then the decimal digits of num
 * compare left to right with a missing digit lowest ("1" < "10" < "2"), as strcmp does. */
static uint32_t name_key(int type, int num) {
    char d[4];
    int n = 0;
    if (num >= 100) d[n++] = (char)(num / 100);
    if (num >= 10) d[n++] = (char)(num / 10 % 10);
    d[n++] = (char)(num % 10);
    uint32_t enc = 0;
    for (int i = 0; i < 3; i++) enc = enc * 11 + (i < n ? (uint32_t)d[i] + 1 : 0);
    return (uint32_t)type << 12 | enc;
}

/* Locations, names, name keys and the goal sentence from the raw fields. */
void aw_game_finish(aw_game *g) {
    memset(g->at_loc, 0, sizeof g->at_loc);
    g->n_loc = 0;
    for (int r = 0; r < g->n_recep; r++) {
        g->at_loc[g->rloc[r]] |= 1ull << r;
        if (g->rloc[r] > g->n_loc) g->n_loc = g->rloc[r];
    }
    render_goal(g);
    for (int r = 0; r < g->n_recep; r++) {
        make_name(g->rname[r], g->rtype[r], g->rnum[r]);
        g->rkey[r] = name_key(g->rtype[r], g->rnum[r]);
    }
    g->tgt_first = g->tgt_end = g->lamp_first = g->lamp_end = 0;
    for (int o = 0; o < g->n_obj; o++) {
        make_name(g->oname[o], g->otype[o], g->onum[o]);
        g->okey[o] = name_key(g->otype[o], g->onum[o]);
        if (g->otype[o] == g->task.obj) {
            if (g->tgt_end == 0) g->tgt_first = o;
            g->tgt_end = o + 1;
        }
        if (g->task.type == AW_TASK_LOOK && g->otype[o] == g->task.toggle) {
            if (g->lamp_end == 0) g->lamp_first = o;
            g->lamp_end = o + 1;
        }
    }
}

/* Does the expert finish this game within AW_CERT_STEPS? */
static bool certify(const aw_game *g) {
    aw_state s;
    aw_state_init(g, &s);
    if (aw_goal(g, &s)) return false;
    char sub[96];
    for (int k = 0; k < AW_CERT_STEPS; k++) {
        aw_action a = aw_expert_decide(g, &s, sub, sizeof sub);
        if (a.verb == AW_V_LOOK) return false; /* the expert is stuck */
        aw_apply(g, &s, a, NULL, 0);
        if (aw_goal(g, &s)) return true;
    }
    return false;
}

/* Task type of game `index`: a fixed stride permutation of the split's quota (§5). */
static int task_of(int split, int64_t index) {
    int total = 0;
    for (int t = 0; t < AW_N_TASKS; t++) total += aw_split_counts[split][t];
    int64_t pos = (index * 1013 + 17) % total;
    for (int t = 0; t < AW_N_TASKS; t++) {
        if (pos < aw_split_counts[split][t]) return t;
        pos -= aw_split_counts[split][t];
    }
    return 0;
}

static void seed_game_rng(hp_rng *rng, uint64_t seed, int split, int64_t index) {
    uint64_t key[3] = {seed, (uint64_t)split, (uint64_t)index};
    hp_rng_seed(rng, hp_hash64(key, sizeof key, 0x616c66776f726c64ull), 2);
}

/* Room, layout and task tuple of game `index` of a split (the first draws of its stream). */
static int draw_scene(hp_rng *rng, int split, int64_t index, layout *L, aw_game *g, hp_err *err) {
    int task = task_of(split, index);
    for (int attempt = 0;; attempt++) {
        int room, li;
        do room = (int)hp_rng_below(rng, AW_N_ROOMS);
        while (!room_allows(task, room));
        if (split == AW_SPLIT_UNSEEN) li = HELD_OUT[room];
        else do li = (int)hp_rng_below(rng, AW_LAYOUTS);
            while (li == HELD_OUT[room]);
        gen_layout(room, li, L);
        memset(g, 0, sizeof *g);
        if (draw_task(rng, task, L, &g->task)) {
            g->room = (uint8_t)room;
            g->layout = (uint8_t)li;
            return HP_OK;
        }
        if (attempt > 1000) return hp_fail(err, "alfworld: no valid task for %s game %lld", aw_split_names[split], (long long)index);
    }
}

int aw_game_generate(aw_game *g, int split, int64_t index, uint64_t seed, hp_err *err) {
    int total = 0;
    for (int t = 0; t < AW_N_TASKS; t++) total += aw_split_counts[split][t];
    if (index < 0 || index >= total)
        return hp_fail(err, "alfworld: index %lld out of range for split %s (0..%d)", (long long)index,
                       aw_split_names[split], total - 1);
    hp_rng rng;
    seed_game_rng(&rng, seed, split, index);
    layout L;
    if (split == AW_SPLIT_SEEN) {
        /* seen = a task instance {type, object, receptacle, room} of a train game, with new object
         * placements and quantities: borrow the scene of a train game of the same task type */
        int task = task_of(split, index), train_n = 0;
        for (int t = 0; t < AW_N_TASKS; t++) train_n += aw_split_counts[AW_SPLIT_TRAIN][t];
        int64_t j;
        do j = (int64_t)hp_rng_below(&rng, (uint64_t)train_n);
        while (task_of(AW_SPLIT_TRAIN, j) != task);
        hp_rng train_rng;
        seed_game_rng(&train_rng, seed, AW_SPLIT_TRAIN, j);
        if (draw_scene(&train_rng, AW_SPLIT_TRAIN, j, &L, g, err)) return HP_FAIL;
    } else if (draw_scene(&rng, split, index, &L, g, err)) {
        return HP_FAIL;
    }
    g->n_recep = L.n;
    g->n_loc = L.n_loc;
    g->openable = L.openable;
    for (int r = 0; r < L.n; r++) {
        g->rtype[r] = L.type[r];
        g->rnum[r] = L.num[r];
        g->rloc[r] = L.loc[r];
    }
    for (int attempt = 0; attempt < 64; attempt++) {
        place_objects(&rng, &L, g, attempt >= 8);
        aw_game_finish(g);
        if (certify(g)) return HP_OK;
    }
    return hp_fail(err, "alfworld: could not certify %s game %lld", aw_split_names[split], (long long)index);
}
