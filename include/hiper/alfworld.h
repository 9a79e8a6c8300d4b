/* hiper/alfworld.h — the built-in ALFWorld text environment (a C re-implementation of ALFWorld 0.4.x
 * with the json_2.1.2 game text, as verl-agent plays it; choices: docs/alfworld.md).
 *
 * Contract:
 * - hp_alfworld_open returns an hp_env (see hiper/env.h). Splits "train" (3553 games), "valid_seen"
 *   (140) and "valid_unseen" (134, on room layouts never used in train). reset(split, index, seed)
 *   regenerates game `index` from a pure function of (options.seed, split, index): the same game on
 *   every machine; the reset seed argument is unused (the game has no randomness inside an episode).
 * - Task types are indices 0..5: pick, look, clean, heat, cool, pick2.
 * - A step accepts a command exactly equal (after trimming surrounding whitespace and lowercasing) to
 *   one of the admissible commands; anything else prints "Nothing happens." and still counts.
 *   Reward is 10 on the winning step, else 0; done = won or steps == max_steps (truncated then).
 * - Options (JSON object, all optional): "max_steps" (default 50), "seed" (generator seed, default 0).
 * - Stepping allocates nothing; clone copies one flat struct.
 */
#ifndef HIPER_ALFWORLD_H
#define HIPER_ALFWORLD_H

#include "hiper/env.h"

#define HP_ALFWORLD_N_TASK_TYPES 6

/* Open an alfworld environment; options is a JSON object of alfworld-specific settings, or NULL. */
hp_env *hp_alfworld_open(const cJSON *options, hp_err *err);

/* True if env was made by hp_alfworld_open. */
bool hp_alfworld_is(const hp_env *env);

/* "pick", "look", "clean", "heat", "cool", "pick2" (NULL out of range). */
const char *hp_alfworld_task_type_name(int type);

/* The usual optimal plan length range of a task type with full knowledge, estimated from ALFWorld's
 * action model (shown next to the expert's numbers by `hiper env stats`). */
void hp_alfworld_optimal_range(int type, int *lo, int *hi);

/* ---- the expert ------------------------------------------------------------------------------
 * Acts only from what the agent has been shown in this episode (the env records it whatever chose
 * the actions, so the expert may be asked at any step, after any detour). Each call returns an
 * admissible command and its subgoal ("find a mug", "take the mug", "clean the mug with sinkbasin
 * 1", "put the mug in cabinet 3", "use the desklamp 1", ...). Both strings stay valid until the
 * next call on the same expert. Fails if env is not an alfworld env or its episode is done. */
typedef struct hp_alfworld_expert hp_alfworld_expert;

hp_alfworld_expert *hp_alfworld_expert_create(void);
void hp_alfworld_expert_free(hp_alfworld_expert *x);
int hp_alfworld_expert_act(hp_alfworld_expert *x, const hp_env *env, const char **action, const char **subgoal,
                           hp_err *err);

/* ---- split statistics (hiper env stats) ---------------------------------------------------------- */
typedef struct hp_alfworld_stats {
    int64_t games[HP_ALFWORLD_N_TASK_TYPES];
    int64_t expert_won[HP_ALFWORLD_N_TASK_TYPES];
    int64_t expert_steps[HP_ALFWORLD_N_TASK_TYPES]; /* summed over won games */
    int64_t optimal_steps[HP_ALFWORLD_N_TASK_TYPES]; /* full-knowledge optimal lengths, summed */
    int64_t rooms[4];                               /* kitchen, living room, bedroom, bathroom */
    double receptacles_mean, objects_mean;
} hp_alfworld_stats;

/* Generate every game of a split and run the expert on it (options as for hp_alfworld_open). */
int hp_alfworld_stats_compute(const cJSON *options, const char *split, hp_alfworld_stats *out, hp_err *err);

/* hiper env stats: the tables of hp_alfworld_stats_compute for one split, or every split when split is
 * NULL, and the usual optimal plan lengths of each task type, printed to out. */
int hp_alfworld_print_stats(FILE *out, const char *split, const cJSON *options, hp_err *err);

#endif /* HIPER_ALFWORLD_H */
