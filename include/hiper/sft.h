/* hiper/sft.h — supervised warm start from expert demonstrations, and the environment-text corpus.
 *
 * Contract:
 * - Demonstrations: an expert (hp_expert) plays episodes; every turn is one hp_turn_play (hiper/turn.h),
 *   the turn a rollout plays (same prompt, projection, executed command, subgoal rule and memory), with
 *   the expert in the place of the policy; it becomes one example whose prompt is that turn's and whose
 *   response is the ideal response in the run's format (hp_prompt_response): for HiPER, SWITCH on the
 *   first turn and whenever the expert's subgoal label changes, KEEP otherwise, the label as subgoal.
 * - Noise: with probability `noise` a turn's action is replaced by a detour: with probability
 *   `noise_repeat` the previous action again, else a random admissible action (the expert replans from
 *   the new state); such turns are played but, unless
 *   keep_noisy_targets, not used as targets. The demonstrations are imperfect in the sense that the
 *   played trajectories contain detours, so RL has room to improve.
 * - Training on the examples (the loss, the schedule, the optimiser) is the train module's: hiper/sft_train.h.
 * - Corpus: plain environment text (observations, tasks, admissible lists, actions, the templates'
 *   fixed wording) for training a small BPE tokenizer.
 */
#ifndef HIPER_SFT_H
#define HIPER_SFT_H

#include "hiper/policy.h"
#include "hiper/prompt.h"

/* The experts (hp_expert, hp_expert_open) are in hiper/env.h: each environment kind names its own. */

/* One training example as text, and the same tokenised. */
typedef struct hp_sft_example {
    char *prompt;   /* rendered chat prompt (with generation prompt) */
    char *response; /* response text; the stop token (<|im_end|>) is appended when tokenising */
} hp_sft_example;

typedef struct hp_sft_set {
    hp_sft_example *ex;
    int n, cap;
    int n_episodes, n_won, n_noisy_turns;
} hp_sft_set;

typedef struct hp_demo_cfg {
    hp_prompt_cfg prompt;
    const char *split;     /* "train" */
    int n_episodes;
    int max_steps;         /* 50 */
    double noise;          /* share of detour steps */
    double noise_repeat;   /* share of the detours that repeat the previous action (usually a no-op such as
                            * "go to" where the agent already is, answered "Nothing happens."), so the
                            * demonstrations show recovering from the loops a weak policy falls into; the
                            * other detours are random admissible commands */
    bool keep_noisy_targets;
    bool keep_holds_subgoal; /* the rollouts' subgoal rule (hp_proj_next_subgoal; env.keep_holds_subgoal) */
    uint64_t seed;
    const int64_t *tasks;  /* optional: episode e plays task tasks[e % n_tasks] instead of a random one */
    int n_tasks;
} hp_demo_cfg;

hp_demo_cfg hp_demo_cfg_default(hp_fmt fmt, hp_env_family family);

/* Play n_episodes with the expert on env (reset to random tasks of the split) and collect examples. */
int hp_sft_collect(hp_env *env, hp_expert *expert, const hp_demo_cfg *cfg, hp_sft_set *out, hp_err *err);
void hp_sft_set_free(hp_sft_set *s);

/* Tokenised example: ids = prompt ids + response ids (+ <|im_end|>); weight 1 on response tokens. Over
 * max_len (> 0), the oldest prompt tokens are dropped and `truncated` is set; a response longer than
 * max_len is an error. */
typedef struct hp_sft_tokens {
    hp_ids ids;
    float *weight; /* ids.len */
    int n_prompt;
    bool truncated; /* the oldest prompt tokens were dropped to fit max_len */
} hp_sft_tokens;

int hp_sft_tokenize(const hp_tok *tok, const hp_sft_example *ex, int max_len, hp_sft_tokens *out, hp_err *err);
void hp_sft_tokens_free(hp_sft_tokens *t);

/* Environment-text corpus for tokenizer training: plays n_episodes with the expert (with noise for
 * variety) and writes every distinct observation, task, admissible list and action plus the templates'
 * wording of all formats to path (UTF-8 text, one document per line block). */
int hp_sft_write_corpus(hp_env *env, hp_expert *expert, const hp_demo_cfg *cfg, const char *path, hp_err *err);

#endif /* HIPER_SFT_H */
