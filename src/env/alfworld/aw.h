/* aw.h — internals of the ALFWorld engine (not a public header).
 *
 * A game is split into a static part (aw_game: receptacles, objects, names, task), regenerated from
 * (split, index) on reset, and a flat mutable part (aw_state) that a step changes in place. Entities
 * are indices: receptacles 0..n_recep-1 and objects 0..n_obj-1, each array kept in listing order
 * (type name ascending, instance number descending, spec §3.12), so any list prints in index order.
 * Commands are aw_action triples; their byte order is the order of a 32-bit key built from the verb
 * and precomputed name ranks, so admissible lists are sorted without comparing strings.
 */
#ifndef HP_ALFWORLD_AW_H
#define HP_ALFWORLD_AW_H

#include "hiper/env.h"
#include "vocab_data.h"

#include <stdbool.h>
#include <stdint.h>

#define AW_MAX_RECEP 64  /* bit masks over receptacles are uint64_t */
#define AW_MAX_OBJ 128
#define AW_NAME_LEN 24   /* "toiletpaperhanger 12" fits */
#define AW_CMD_LEN 64
#define AW_MAX_ADM 320
#define AW_MAX_DYN 256
#define AW_OBS_CAP 8192
#define AW_DEFAULT_MAX_STEPS 50

/* Type flags (vocab_data.c). */
enum {
    AW_F_RECEP = 1 << 0,
    AW_F_OPENABLE = 1 << 1, /* openable class; a receptacle instance may still be fixed open (§1.2) */
    AW_F_PICKUP = 1 << 2,
    AW_F_HEAT = 1 << 3,
    AW_F_COOL = 1 << 4,
    AW_F_CLEAN = 1 << 5,
    AW_F_TOGGLE = 1 << 6,
    AW_F_SLICE = 1 << 7,
    AW_F_MOVREC = 1 << 8, /* movable receptacle: examines as "This is a normal X" */
    AW_F_SHARP = 1 << 9,
};

typedef struct aw_type_info {
    const char *name;
    uint8_t len;
    uint16_t flags;
    uint64_t can[2]; /* receptacle types: object types it may contain (§1.4) */
} aw_type_info;

extern const aw_type_info aw_types[AW_N_TYPES];

static inline bool aw_has(int type, int flag) { return (aw_types[type].flags & flag) != 0; }
static inline bool aw_can_contain(int rtype, int otype) {
    return (aw_types[rtype].can[otype >> 6] >> (otype & 63)) & 1u;
}

/* Object state flags. */
enum {
    AW_S_HOT = 1 << 0,
    AW_S_COOL = 1 << 1,
    AW_S_CLEAN = 1 << 2,
    AW_S_SLICED = 1 << 3,
    AW_S_TOGGLED = 1 << 4,
    AW_S_ON = 1 << 5,
    AW_S_COOLED = 1 << 6, /* cooled by a command the agent saw (the initial fridge chill is hidden) */
};

enum { AW_ROOM_KITCHEN, AW_ROOM_LIVING, AW_ROOM_BEDROOM, AW_ROOM_BATHROOM, AW_N_ROOMS };
enum { AW_TASK_PICK, AW_TASK_LOOK, AW_TASK_CLEAN, AW_TASK_HEAT, AW_TASK_COOL, AW_TASK_PICK2, AW_N_TASKS };
enum { AW_SPLIT_TRAIN, AW_SPLIT_SEEN, AW_SPLIT_UNSEEN, AW_N_SPLITS };

extern const char *const aw_task_names[AW_N_TASKS];
extern const char *const aw_split_names[AW_N_SPLITS];
extern const int aw_split_counts[AW_N_SPLITS][AW_N_TASKS];

typedef struct aw_task {
    uint8_t type;     /* AW_TASK_* */
    uint8_t obj;      /* object type */
    uint8_t recep;    /* receptacle type (not for look) */
    uint8_t toggle;   /* lamp type (look only) */
    uint8_t template; /* 0 = A, 1 = B (§4.1) */
} aw_task;

typedef struct aw_game {
    uint8_t room, layout;
    int n_recep, n_obj, n_loc;
    uint8_t rtype[AW_MAX_RECEP], rnum[AW_MAX_RECEP], rloc[AW_MAX_RECEP];
    uint64_t openable;                  /* receptacles that open and close */
    uint64_t at_loc[AW_MAX_RECEP + 1];  /* receptacles at each location (location 0 = start) */
    uint8_t otype[AW_MAX_OBJ], onum[AW_MAX_OBJ];
    int8_t parent0[AW_MAX_OBJ];         /* initial receptacle */
    uint8_t flags0[AW_MAX_OBJ];         /* initial state flags */
    uint32_t rkey[AW_MAX_RECEP], okey[AW_MAX_OBJ]; /* name keys: integer order = byte order of names */
    char rname[AW_MAX_RECEP][AW_NAME_LEN];
    char oname[AW_MAX_OBJ][AW_NAME_LEN];
    aw_task task;
    int tgt_first, tgt_end;   /* index range of the target type's objects */
    int lamp_first, lamp_end; /* index range of the look task's lamp type */
    char goal[128]; /* "put a clean mug in coffeemachine." */
} aw_game;

typedef struct aw_state {
    int loc;          /* 0 = the start spot, which holds no receptacle */
    int held;         /* object index or -1 */
    int steps;
    uint64_t open;    /* receptacles currently open */
    int8_t parent[AW_MAX_OBJ];  /* receptacle index, -1 when held */
    int8_t objloc[AW_MAX_OBJ];  /* object_location (§2), -1 when unset */
    uint64_t taken_from[AW_MAX_OBJ];
    uint64_t inside[AW_MAX_RECEP][2]; /* objects in each receptacle (bit o), mirrors parent[] */
    uint8_t flags[AW_MAX_OBJ];
    /* What the agent has been shown (for the expert; never read by the rules). */
    int8_t seen[AW_MAX_OBJ];    /* receptacle the object was last seen in, -1 unknown, -2 held */
    uint64_t searched;          /* receptacles whose contents have been shown */
} aw_state;

enum {
    AW_V_CLEAN, AW_V_CLOSE, AW_V_COOL, AW_V_EXAMINE_R, AW_V_EXAMINE_O, AW_V_GOTO, AW_V_HEAT, AW_V_HELP,
    AW_V_INVENTORY, AW_V_LOOK, AW_V_MOVE, AW_V_OPEN, AW_V_SLICE, AW_V_TAKE, AW_V_USE
};

/* One grounded command: verb and up to two entity indices (object first, as in the text). */
typedef struct aw_action {
    uint8_t verb, a, b;
} aw_action;

/* Visit the objects in a 128-bit set in index (= listing) order. */
#define AW_FOR_EACH_OBJ(o, set)                                                                             \
    for (int aw_w_ = 0; aw_w_ < 2; aw_w_++)                                                                 \
        for (uint64_t aw_m_ = (set)[aw_w_]; aw_m_; aw_m_ &= aw_m_ - 1)                                       \
            for (int o = aw_w_ * 64 + __builtin_ctzll(aw_m_), aw_once_ = 1; aw_once_; aw_once_ = 0)

/* ---- engine.c ---- */
void aw_state_init(const aw_game *g, aw_state *s);
/* Dynamic admissible commands (everything except `go to`), sorted and unique; returns the count. */
int aw_dynamic_actions(const aw_game *g, const aw_state *s, aw_action *out);
/* Is this action admissible now? */
bool aw_legal(const aw_game *g, const aw_state *s, aw_action a);
/* Apply an admissible action; writes the feedback into out (cap bytes) when out is not NULL. */
void aw_apply(const aw_game *g, aw_state *s, aw_action a, char *out, size_t cap);
bool aw_goal(const aw_game *g, const aw_state *s);
/* Render a command; returns its length. dst has AW_CMD_LEN bytes. */
int aw_render_action(const aw_game *g, aw_action a, char *dst);
void aw_render_intro(const aw_game *g, char *out, size_t cap);
/* 1 if receptacle r's contents are visible (not openable, or open). */
static inline bool aw_accessible(const aw_game *g, const aw_state *s, int r) {
    return !((g->openable >> r) & 1u) || ((s->open >> r) & 1u);
}

/* ---- scene.c ---- */
int aw_split_code(const char *split);
/* Build game `index` of split (deterministic, platform-independent); seed perturbs the generator. */
int aw_game_generate(aw_game *g, int split, int64_t index, uint64_t seed, hp_err *err);
/* Derive at_loc, n_loc, names, ranks and the goal sentence from the raw fields (for hand-built games). */
void aw_game_finish(aw_game *g);

/* ---- alfworld_env.c ---- */
/* An environment that always plays this one game (tests); reset ignores split and index. */
hp_env *aw_env_from_game(const aw_game *g, int max_steps);
/* The game and state behind an alfworld env (tests and tools). */
const aw_game *aw_env_game(const hp_env *env);
const aw_state *aw_env_state(const hp_env *env);

/* ---- plan.c ---- */
/* Length of the shortest winning command sequence from the initial state, with full knowledge. */
int aw_optimal_length(const aw_game *g);

/* ---- expert.c ---- */
/* Next expert action from the agent-visible part of the state, with its subgoal text (cap bytes). */
aw_action aw_expert_decide(const aw_game *g, const aw_state *s, char *subgoal, size_t cap);

#endif /* HP_ALFWORLD_AW_H */
