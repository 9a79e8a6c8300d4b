/* hiper/rollout.h — many environments stepped in lock-step with batched generation; per-turn records.
 *
 * Contract (HiPER's / verl-agent's rollout loop, one training row per turn):
 * - A rollout plays n_tasks × group_n episodes. The group_n members of group g all reset to the same
 *   (split, task index) and share group id g; each environment i draws from its own RNG stream
 *   (seed, i) and so does its sequence sampling: the result is deterministic given the seed and does
 *   not depend on the batch composition.
 * - Every turn: each active environment's prompt is rendered (prompt.h), all prompts are generated in
 *   one batched policy call, each response is decoded (special tokens skipped) and projected
 *   (project.h), and the executed actions are stepped in one hp_env_step_batch call. An environment
 *   stops at done or after max_steps turns (then `truncated` marks the episode).
 * - One record per kept turn (turns after done are never recorded), trajectory-major: trajectory 0's
 *   turns in order, then trajectory 1's, ... A trajectory's turns are records[first_turn ..
 *   first_turn + n_turns).
 * - A prompt over the limit fails the rollout with an error naming the environment and step, unless
 *   the prompt config truncates (counted in n_prompt_truncated).
 */
#ifndef HIPER_ROLLOUT_H
#define HIPER_ROLLOUT_H

#include "hiper/env.h"
#include "hiper/policy.h"
#include "hiper/project.h"
#include "hiper/prompt.h"

/* One agent turn. */
typedef struct hp_turn {
    int traj;            /* trajectory index in the rollout */
    int group;           /* group id (members play the same task) */
    int t;               /* turn index in its trajectory, 0-based */
    hp_ids prompt;       /* prompt ids (chat-rendered) */
    hp_ids response;     /* response ids (stop id included when generated) */
    float *logprobs;     /* response.len sampling log-probs */
    int32_t *mask_row;   /* constrained actions: per response token its row of `allowed`, or -1 (NULL = none) */
    uint8_t *allowed;    /* n_allowed rows of allowed_stride = (model vocab + 7)/8 bytes */
    int n_allowed, allowed_stride;
    char *prompt_text;   /* rendered prompt */
    char *response_text; /* decoded response, special tokens skipped */
    char *action;        /* executed action (projection) */
    char *switch_word;   /* recorded switch: "", "KEEP", "SWITCH" */
    char *subgoal;       /* recorded subgoal */
    char *anchor_obs;    /* observation of the state acted in (GiGPO anchor; WebShop: formatted) */
    bool valid;          /* format validity (projection) */
    bool resp_truncated; /* response hit max_response_tokens */
    bool prompt_truncated;
    double reward;       /* environment reward of this step */
    double score;        /* task score after this step */
    bool done;           /* environment done after this step */
    bool won;            /* environment won after this step */
    bool truncated;      /* last kept turn of an episode cut at max_steps (or by the env) without done */
    int task_type;       /* environment task type index, -1 if none */
} hp_turn;

/* One episode. */
typedef struct hp_traj {
    int group;
    int64_t task_index;
    char *task;           /* task description */
    int task_type;
    char *task_type_name; /* "pick", ... or "" */
    int first_turn, n_turns;
    bool won, done, truncated;
    double score;         /* task score at the last turn */
    double ret;           /* sum of rewards */
    int n_invalid;
} hp_traj;

typedef struct hp_rollout {
    hp_turn *turns;
    size_t n_turns;
    hp_traj *trajs;
    int n_trajs;
    /* statistics */
    int64_t n_prompt_tokens, n_response_tokens;
    int n_prompt_truncated, n_resp_truncated;
    int max_prompt_len;
    double seconds, gen_seconds, env_seconds;
} hp_rollout;

typedef struct hp_rollout_cfg {
    hp_prompt_cfg prompt;
    const char *split;           /* "train", "valid_seen", ... */
    int n_tasks;                 /* groups */
    int group_n;                 /* rollouts per task (1 for HiPER, 8 for GRPO/GiGPO) */
    const int64_t *task_indices; /* n_tasks indices, or NULL: drawn from the split with (seed, step) */
    int max_steps;               /* 50 */
    hp_policy_opts gen;          /* sampling; the rollout fills max_new_tokens from prompt.max_response_tokens
                                  * (the one response limit) and the stop ids from the tokenizer when
                                  * n_stop == 0 */
    uint64_t seed;
    int64_t step;                /* training step (selects tasks and streams when indices are drawn) */
    bool keep_holds_subgoal;     /* see hp_proj_next_subgoal; false = faithful */
    /* Data-parallel share (hiper/dist.h): this rollout plays groups [first_group, first_group +
     * n_tasks) of a batch of total_groups (0 = n_tasks, the whole batch). Seeds, and the task indices
     * drawn with (seed, step), are those of the whole batch, so an episode does not depend on which
     * process plays it; task_indices, when given, are this share's n_tasks indices. The records'
     * group and trajectory ids stay local (0-based); hp_rollout_concat renumbers them. */
    int first_group, total_groups;
} hp_rollout_cfg;

/* Defaults: upstream prompts for this format/family, group_n 1, max_steps 50, temperature 1.0. */
hp_rollout_cfg hp_rollout_cfg_default(hp_fmt fmt, hp_env_family family);

/* Draw n task indices from [0, split_size) without replacement when n <= split_size (with replacement
 * otherwise), from the stream (seed, step). */
void hp_rollout_pick_tasks(int64_t split_size, int n, uint64_t seed, int64_t step, int64_t *out);

/* Play one rollout. envs holds n_tasks × group_n environments of one kind (member j of group g is
 * envs[g * group_n + j]); they are reset here. */
int hp_rollout_run(hp_env **envs, const hp_tok *tok, const hp_policy *policy, const hp_rollout_cfg *cfg,
                   hp_rollout *out, hp_err *err);
void hp_rollout_free(hp_rollout *r);

/* ---- data parallelism: rollouts travel between processes (hiper/dist.h) ---- */

/* Append r to out in a self-describing binary form (this machine's byte order; every rank of a job
 * runs the same build). Without turns: the episode summaries and token counts only (what hp_eval_add
 * reads). */
void hp_rollout_pack(const hp_rollout *r, bool with_turns, hp_buf *out);
/* Read one packed rollout from data[*pos..n) and advance *pos; a truncated or damaged buffer is an
 * error naming what did not fit. */
int hp_rollout_unpack(const char *data, size_t n, size_t *pos, hp_rollout *out, hp_err *err);
/* Move src's records to the end of dst (src is left empty): trajectory, group and first-turn indices
 * are renumbered to follow dst's, counts add up, max_prompt_len and the times take the larger. Shares
 * concatenated in group order give the rollout one process would have played. */
void hp_rollout_concat(hp_rollout *dst, hp_rollout *src);

/* Trajectories as JSON lines a person can read: one object per trajectory with its turns' prompt,
 * response, action, switch, subgoal, valid, reward, done, won and the token counts. */
int hp_rollout_write_jsonl(const hp_rollout *r, const char *path, hp_err *err);
/* Append to an open file instead (e.g. one file for a whole training run). */
int hp_rollout_append_jsonl(const hp_rollout *r, FILE *fp, int64_t step, hp_err *err);

#endif /* HIPER_ROLLOUT_H */
