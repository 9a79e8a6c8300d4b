/* hiper/eval.h — evaluation of a policy: success per ALFWorld task type, WebShop score and success.
 *
 * Contract (spec hiper.md §6.2 step 8):
 * - n_episodes episodes of the split, one rollout each (group_n 1), sampled at temperature 0.4 (top-p 1)
 *   by default; the metric is `won` at the last active turn, overall and per task type; the mean task
 *   score of each episode's last turn is reported too (WebShop's "score", ×100 in tables).
 * - Episodes are played in batches of at most batch envs; task indices are drawn without replacement
 *   from the split with (seed, step), or are 0..n-1 when sequential is set, or the whole split in order
 *   when whole_split is set.
 * - Deterministic given the seed.
 * - The result keeps every episode's task index and outcome in play order, so that two evaluations of
 *   the same games (same split, seed and count) can be compared pair by pair (hp_eval_print_paired:
 *   exact McNemar test). The functions that fill a result overwrite it without freeing what it held:
 *   free a result with hp_eval_result_free before reusing it.
 * - progress (optional): one line per finished batch, "episodes done/total, won, elapsed, ETA".
 */
#ifndef HIPER_EVAL_H
#define HIPER_EVAL_H

#include "hiper/rollout.h"

#include <stdio.h>

#define HP_EVAL_MAX_TYPES 8

typedef struct hp_eval_cfg {
    hp_rollout_cfg rollout; /* prompt, split, max_steps, gen (temperature 0.4), seed, step */
    int n_episodes;         /* 128 */
    int batch;              /* environments stepped together (<= n_episodes) */
    bool sequential;        /* task indices 0..n-1 instead of a draw */
    bool whole_split;       /* every task of the split once, in order (n_episodes is ignored) */
    const char *jsonl_path; /* optional: trajectories written here */
    FILE *progress;         /* optional: progress lines (a terminal gets one line rewritten in place) */
    const char *label;      /* progress label (default: the split) */
    /* Data-parallel (hiper/dist.h; NULL = one process): every rank calls with the same cfg; rank r plays
     * its contiguous share of the episodes (each batch's seeds and streams unchanged, so every episode is
     * the one a single process plays), and every rank returns the whole result, summed in episode order
     * (identical to one process's). Only rank 0 writes jsonl_path and progress. */
    const struct hp_dist *dist;
} hp_eval_cfg;

hp_eval_cfg hp_eval_cfg_default(hp_fmt fmt, hp_env_family family);

typedef struct hp_eval_result {
    int n_episodes, n_won;
    double success;         /* n_won / n_episodes */
    double mean_score;      /* mean final task score */
    double mean_turns;
    double invalid_rate;    /* invalid turns / turns */
    int n_types;            /* task types seen (index = env task_type) */
    char type_name[HP_EVAL_MAX_TYPES][16];
    int type_n[HP_EVAL_MAX_TYPES], type_won[HP_EVAL_MAX_TYPES];
    int64_t n_turns, n_tokens;
    double seconds;
    int64_t *ep_task;       /* n_episodes task indices, in play order */
    unsigned char *ep_won;  /* n_episodes outcomes (1 = won) */
    int ep_cap;
} hp_eval_result;

void hp_eval_result_free(hp_eval_result *res);

/* Play and score: opens the batch with hp_env_open_many (built-in kinds: one environment and clones;
 * external: environments sharing server processes). */
int hp_eval_run(const char *env_kind, const cJSON *env_options, const hp_tok *tok, const hp_policy *policy,
                const hp_eval_cfg *cfg, hp_eval_result *res, hp_err *err);
/* Same with environments the caller owns (at least cfg->batch of them, of one kind). */
int hp_eval_run_envs(hp_env **envs, int n_envs, const hp_tok *tok, const hp_policy *policy,
                     const hp_eval_cfg *cfg, hp_eval_result *res, hp_err *err);

/* Accumulate one rollout's trajectories into a result (used by hp_eval_run and by trainers that
 * report training success). */
void hp_eval_add(hp_eval_result *res, const hp_rollout *r);
/* Finish the rates after the last hp_eval_add. */
void hp_eval_finish(hp_eval_result *res);

/* Human-readable table: one line per task type and "All" with games, wins, success and its 95% Wilson
 * interval (ALFWorld), or score and success with its interval (WebShop). */
void hp_eval_print(FILE *fp, const hp_eval_result *res, hp_env_family family);
/* Several results as one (e.g. valid_seen + valid_unseen): counts add up, episodes concatenate. */
void hp_eval_merge(hp_eval_result *dst, const hp_eval_result *src);
/* Paired comparison of two evaluations of the same games (episode i of each has the same task):
 * games won by each, won only before / only after, and the exact McNemar p. Returns the p value, or
 * -1 (and prints why) when the episodes do not pair up. */
double hp_eval_print_paired(FILE *fp, const char *what, const hp_eval_result *before, const hp_eval_result *after);
/* One JSON object (no newline), newly allocated: counts, success with its 95% interval, per type, and
 * the episodes (episode_task, episode_won). */
char *hp_eval_json(const hp_eval_result *res);
/* Back from such an object (e.g. a run's eval_before.json); an error names what is missing. */
int hp_eval_from_json(const cJSON *o, hp_eval_result *res, hp_err *err);

#endif /* HIPER_EVAL_H */
