/* hiper/env.h — the interface every environment implements (built-in ALFWorld, built-in WebShop, and
 * environments served by another process).
 *
 * Contract:
 * - An environment is a struct whose first member is `hp_env` (its ops table). All text it returns
 *   (observation, task, admissible commands, task type name) is owned by the environment and stays
 *   valid until the next reset/step/free of that environment.
 * - reset(split, index, seed) starts the episode with that index of that split (the same game on every
 *   machine); `seed` only matters to environments with randomness inside an episode.
 * - step(action) runs one command. Every call counts as a step, valid or not; a command the game does
 *   not understand changes nothing but the step count. After done, step fails with an error.
 * - reward is the reward of the last step (ALFWorld: 10 on the winning step; WebShop: 10 × success on
 *   the ending step); `score` is the task score (ALFWorld: 1 if won; WebShop: the raw reward in [0,1]).
 * - `truncated` is set when the episode was ended from outside the game (step limit, or a failed
 *   external process), so trainers may bootstrap or mark it.
 * - clone() returns an independent copy of the whole state (for search, tests, anchor states).
 * - step_many (optional, may be NULL) steps several environments of the same kind at once; the batched
 *   helper hp_env_step_batch uses it when every environment shares the ops table, otherwise loops.
 */
#ifndef HIPER_ENV_H
#define HIPER_ENV_H

#include "hiper/base.h"

#include <cjson/cJSON.h>

typedef struct hp_env hp_env;

/* What the agent sees after reset or step. */
typedef struct hp_env_view {
    const char *observation;       /* the text returned by the last reset/step */
    const char *task;              /* the task description ("put a clean mug in coffeemachine.") */
    int task_type;                 /* environment-specific index (ALFWorld: 0..5), -1 if none */
    const char *task_type_name;    /* "pick", "look", ... or "" */
    const char *const *admissible; /* commands the environment accepts now (may be empty) */
    int n_admissible;
    double reward;   /* reward of the last step (0 after reset) */
    double score;    /* task score so far (see contract) */
    int steps;       /* steps taken in this episode */
    int max_steps;   /* step limit of this episode */
    bool done;
    bool won;
    bool truncated;
} hp_env_view;

typedef struct hp_env_ops {
    const char *name; /* "alfworld", "webshop", "external" */
    int (*reset)(hp_env *env, const char *split, int64_t index, uint64_t seed, hp_err *err);
    int (*step)(hp_env *env, const char *action, hp_err *err);
    const hp_env_view *(*view)(const hp_env *env);
    hp_env *(*clone)(const hp_env *env, hp_err *err);
    void (*free)(hp_env *env);
    /* Number of episodes in a split, or -1 with an error for an unknown split. */
    int64_t (*split_size)(const hp_env *env, const char *split, hp_err *err);
    /* Optional: step n environments (all with this ops table) with one action each. */
    int (*step_many)(hp_env **envs, int n, const char *const *actions, hp_err *err);
} hp_env_ops;

struct hp_env {
    const hp_env_ops *ops;
};

/* Create an environment by kind ("alfworld", "webshop", "external") with kind-specific options in a
 * JSON object (may be NULL for defaults). Unknown kinds and unknown option keys are errors. */
hp_env *hp_env_open(const char *kind, const cJSON *options, hp_err *err);

static inline int hp_env_reset(hp_env *e, const char *split, int64_t index, uint64_t seed, hp_err *err) {
    return e->ops->reset(e, split, index, seed, err);
}
static inline int hp_env_step(hp_env *e, const char *action, hp_err *err) { return e->ops->step(e, action, err); }
static inline const hp_env_view *hp_env_get_view(const hp_env *e) { return e->ops->view(e); }
static inline hp_env *hp_env_clone(const hp_env *e, hp_err *err) { return e->ops->clone(e, err); }
static inline void hp_env_free(hp_env *e) {
    if (e) e->ops->free(e);
}
static inline int64_t hp_env_split_size(const hp_env *e, const char *split, hp_err *err) {
    return e->ops->split_size(e, split, err);
}

/* Open n environments of one kind for lock-step use: external environments share server processes
 * (hp_external_open_many), built-in ones are one environment and n - 1 clones (clones share read-only
 * data such as WebShop's catalog). On failure nothing is left open. */
int hp_env_open_many(const char *kind, const cJSON *options, int n, hp_env **out, hp_err *err);

/* Step n environments with one action each (batched when the kind supports it). */
int hp_env_step_batch(hp_env **envs, int n, const char *const *actions, hp_err *err);

#endif /* HIPER_ENV_H */
