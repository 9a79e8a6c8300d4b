/* hiper/train.h — the RL trainer: one run = tokenizer + model preparation, optional SFT warm start,
 * evaluation before RL, the PPO loop (rollout → scores → advantages → critic/actor updates →
 * metrics, validation, checkpoints), evaluation after RL, and an HTML report.
 *
 * Contract:
 * - A run lives in one directory (out_dir): run_config.json (every key), tokenizer/ (trained or
 *   copied), ref/ (the frozen initial policy = the KL reference), ckpt/latest and ckpt/best (model
 *   directories actor/ and critic/, their optimizer states, state.json with the step and the best
 *   validation score), metrics.jsonl (one JSON object per training step and per validation),
 *   rollouts.jsonl (optional), eval_before.json / eval_after.json, report.html.
 * - Every file and checkpoint directory is written atomically (temporary name, then rename), so a run
 *   killed at any moment (kill -9 included) can be resumed: `resume` reloads ckpt/latest after
 *   verifying it whole against its manifest.json (sizes and checksums; a missing or changed file is an
 *   error naming it), drops the metrics and trajectory lines written after it, and continues with the
 *   next step. Resuming a finished run does nothing and says so. One run per directory at a time
 *   (DIR/lock, flock): a second one fails at once. All randomness derives from
 *   (trainer.seed, env.seed, step), so a resumed run reproduces the uninterrupted run's metrics
 *   exactly (timings aside).
 * - The run configuration of a resumed run is the one stored in out_dir; a different one is an error.
 * - Errors name the phase, step and file.
 */
#ifndef HIPER_TRAIN_H
#define HIPER_TRAIN_H

#include "hiper/base.h"
#include "hiper/runcfg.h"

typedef struct hp_train_opts {
    const char *out_dir;
    bool resume;
    bool quiet;           /* no progress line */
    FILE *log;            /* progress and tables (NULL = stdout) */
    int64_t stop_after;   /* > 0: stop after this many training steps of this invocation (tests) */
    /* Data-parallel run (hiper/dist.h; NULL = one process): every rank calls hp_train_run with the same
     * configuration and directory; rank r plays its share of each step's task groups, the turn records
     * are gathered so that every rank computes the advantages of the whole batch, each rank scores its
     * own rows and runs its contiguous share of each mini-batch's micro-batches, and the gradients are
     * summed before every optimizer step, so all ranks keep the same weights. Rank 0 alone writes the
     * run directory (which every rank must see: one machine, or a shared file system) and the console;
     * the others read the tokenizer, ref/ and ckpt/latest it wrote. Any rank count works (a rank with
     * no group in a step plays nothing), and --resume works with another rank count. */
    const struct hp_dist *dist;
} hp_train_opts;

/* The whole run described in the contract. */
int hp_train_run(const hp_runcfg *cfg, const hp_train_opts *opts, hp_err *err);

/* Write out_dir/report.html from out_dir/metrics.jsonl (and the eval files when present): a
 * self-contained page with SVG curves of success, reward, losses, KL, entropy, switch rate, ... */
int hp_train_report(const char *run_dir, hp_err *err);

/* Several runs on one page, written to out_path: per chart one colour per label, every run a thin line
 * and the label's mean at each step (over the runs that reached it) a thick one; then each run's
 * evaluation after RL and, per label, the mean ± sd of its runs. labels[i] (labels or an entry may be
 * NULL) names run i's group; otherwise the run configuration's group_key (NULL: algorithm.adv_estimator)
 * does, else the directory's name. title: the page's heading (NULL: "runs compared"). Each directory
 * must hold metrics.jsonl or run_config.json. */
int hp_train_report_overlay(const char *const *run_dirs, const char *const *labels, int n, const char *group_key,
                            const char *title, const char *out_path, hp_err *err);

#endif /* HIPER_TRAIN_H */
