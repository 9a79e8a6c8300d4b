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
 * - Kinds: every environment kind has one descriptor (hp_env_kind) in the table of src/env/env.c: its
 *   name, prompt family, how to open it, its built-in expert, statistics and defaults. Code outside
 *   src/env/ asks the table (hp_env_kind_find) and never compares kind names itself.
 */
#ifndef HIPER_ENV_H
#define HIPER_ENV_H

#include "hiper/base.h"

#include <cjson/cJSON.h>
#include <stdio.h>

typedef struct hp_env hp_env;

/* Which family of text an environment speaks: the agent's prompts (hiper/prompt.h), its projection of
 * responses to actions and some defaults differ by family. */
typedef enum hp_env_family {
    HP_FAM_ALFWORLD = 0,
    HP_FAM_WEBSHOP = 1,
    HP_FAM_OTHER = 2, /* external environments: ALFWorld-like wording with a generic role line */
} hp_env_family;

/* Counters of what serves an environment from another process (cumulative, shared by every environment
 * of that process), for the trainer's metrics. */
typedef struct hp_env_stats {
    int64_t faults;    /* malformed, late or missing replies, failed starts */
    int64_t restarts;  /* processes started after the first */
    int64_t truncated; /* episodes ended because of a fault */
} hp_env_stats;

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
    /* Optional: the name of the kind whose text this environment speaks when it is not `name` (an
     * external environment: the name its server gave in the handshake); NULL: `name`. */
    const char *(*speaks)(const hp_env *env);
    /* Optional: fill *out for what serves this environment; false when nothing is counted. */
    bool (*stats)(const hp_env *env, hp_env_stats *out);
} hp_env_ops;

struct hp_env {
    const hp_env_ops *ops;
};

/* Create an environment by kind ("alfworld", "webshop", "external") with kind-specific options in a
 * JSON object (may be NULL for defaults). Unknown kinds and unknown option keys are errors. */
hp_env *hp_env_open(const char *kind, const cJSON *options, hp_err *err);

/* The family of the text env speaks: its kind's, or for an external environment that of the kind its
 * server names (so that a served ALFWorld is prompted exactly like the built-in one); HP_FAM_OTHER for
 * a name that is no kind. */
hp_env_family hp_env_family_get(const hp_env *env);

/* The counters of what serves env (hp_env_stats); false, *out zeroed, when env has none (built-in). */
bool hp_env_get_stats(const hp_env *env, hp_env_stats *out);

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

/* ---- experts ------------------------------------------------------------------------------------ */

/* An expert: fills the next action and its subgoal label for the environment's current state (the
 * demonstrations of hiper/sft.h, hiper play --expert). */
typedef struct hp_expert {
    void *self;
    int (*next)(void *self, const hp_env *env, hp_buf *action, hp_buf *subgoal, hp_err *err);
    void (*free)(void *self);
} hp_expert;

/* The built-in expert of an environment kind (hp_env_kind.expert_open); fails for a kind without one. */
int hp_expert_open(const char *env_kind, hp_expert *out, hp_err *err);
void hp_expert_close(hp_expert *e);

/* ---- the table of environment kinds ------------------------------------------------------------- */

/* One environment kind: everything code outside src/env/ needs to know about it. Adding a kind is one
 * entry in the table of src/env/env.c and its name in HP_ENV_KIND_NAMES (docs/architecture.md). */
typedef struct hp_env_kind {
    const char *name;     /* env.name, --env: "alfworld", "webshop", "external" */
    hp_env_family family; /* the prompts its text takes (an external environment's: hp_env_family_get) */
    bool served;          /* its environments run in another process: hiper serve does not serve it */
    hp_env *(*open)(const cJSON *options, hp_err *err);
    /* Optional: n environments for lock-step use (hp_env_open_many); NULL: one opened, n - 1 clones. */
    int (*open_many)(const cJSON *options, int n, hp_env **out, hp_err *err);
    /* Optional: the built-in expert (demonstrations, tokenizer corpus, play --expert); NULL: none. */
    int (*expert_open)(hp_expert *out, hp_err *err);
    /* Optional: hiper env stats, printed to out for one split (one of `splits`) or all (NULL). */
    int (*print_stats)(FILE *out, const char *split, const cJSON *options, hp_err *err);
    const char *const *splits; /* its split names, NULL-terminated; NULL when a server names them */
    /* Defaults of a run (env.val_split, env.test_split) and of the commands. */
    const char *val_split;  /* validation and first evaluation split ("valid_seen", "test") */
    const char *test_split; /* second evaluation split, "" for none ("valid_unseen") */
    int max_steps;          /* the episode step limit its own options default to (50, 15) */
} hp_env_kind;

/* The kind names in table order, as the run configuration's env.name choices (a test checks that
 * they are the table's). */
#define HP_ENV_KIND_NAMES "alfworld|webshop|external"

/* The kind called name, NULL when none is (or name is NULL). */
const hp_env_kind *hp_env_kind_find(const char *name);
/* The i-th kind in table order, NULL past the last. */
const hp_env_kind *hp_env_kind_at(int i);
/* The names of the kinds for which has(kind) is true (every kind when has is NULL), joined by ", "
 * and `last` before the last one (" or ": "alfworld, webshop or external"), in buf; returns buf. */
const char *hp_env_kind_names(char *buf, size_t cap, const char *last, bool (*has)(const hp_env_kind *));
/* The family of the kind called env_kind; HP_FAM_OTHER for NULL or a name that is no kind. */
hp_env_family hp_env_family_of(const char *env_kind);

#endif /* HIPER_ENV_H */
