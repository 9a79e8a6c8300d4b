/* trainlog.h — where a run's metric records go (trainer.logger, named as verl names its loggers).
 *
 * Contract:
 * - The trainer hands every record (one per training step, one per validation: a JSON object with
 *   "kind" and "step" and numbers) to hp_trainlog_write. jsonl appends it to RUN_DIR/metrics.jsonl
 *   (flushed to disk line by line); tensorboard writes its numbers as one TensorBoard event at that
 *   step into RUN_DIR/tensorboard/ (hiper/tfevents.h), each under its verl-style name
 *   (hp_trainlog_tag: actor/pg_loss, critic/vf_loss_low, timing_s/rollout, val/success, ...).
 *   console only says whether the trainer prints its step and validation lines.
 * - Steps: the record of the n-th RL update has step n (1 .. trainer.total_steps), a validation has the
 *   number of updates its policy has had (0 = before RL); the console prints the same numbers.
 * - hp_trainlog_open is called once metrics.jsonl has been cut back to the checkpoint being resumed
 *   (hp_run_trim_jsonl). With tensorboard and jsonl, it replaces the earlier event files of the run
 *   directory by one new file replaying metrics.jsonl, so that TensorBoard shows exactly the records
 *   of metrics.jsonl, resumed runs included (the replayed events carry the replay's wall time). With
 *   tensorboard alone (no metrics.jsonl to replay) earlier event files are kept and a resumed run's
 *   repeated steps appear twice.
 * - No global state: everything lives in the hp_trainlog.
 */
#ifndef HIPER_TRAINLOG_H
#define HIPER_TRAINLOG_H

#include "hiper/base.h"
#include "hiper/runcfg.h"

struct cJSON;
typedef struct hp_trainlog hp_trainlog;

hp_trainlog *hp_trainlog_open(const char *run_dir, const hp_runcfg *cfg, hp_err *err);
int hp_trainlog_write(hp_trainlog *l, const struct cJSON *record, hp_err *err);
bool hp_trainlog_console(const hp_trainlog *l);
void hp_trainlog_close(hp_trainlog *l);

/* The TensorBoard tag of a metrics.jsonl key (written into buf, returned), e.g. "pg_loss" ->
 * "actor/pg_loss", "t_rollout" -> "timing_s/rollout", "val_success_clean" -> "val/success/clean";
 * a key without a verl counterpart goes under "misc/". */
const char *hp_trainlog_tag(const char *key, char *buf, size_t cap);

#endif /* HIPER_TRAINLOG_H */
