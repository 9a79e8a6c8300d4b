/* trainlog.c — metric records to metrics.jsonl and TensorBoard event files (see trainlog.h). */
#include "trainlog.h"

#include "hiper/tfevents.h"
#include "train_internal.h"

#include <cjson/cJSON.h>
#include <dirent.h>
#include <stdlib.h>
#include <string.h>

struct hp_trainlog {
    int loggers; /* HP_LOG_* bits */
    char *metrics;
    hp_tfevents *tb;
};

/* metrics.jsonl key -> verl-style tag: exact names first, then prefixes (key prefix -> tag prefix). */
static const char *const EXACT[][2] = {
    {"success", "episode/success"},
    {"score", "episode/score"},
    {"reward", "episode/reward/mean"},
    {"episodes", "episode/count"},
    {"turns", "episode/turns_total"},
    {"mean_turns", "episode/length/mean"},
    {"invalid_rate", "episode/invalid_action_rate"},
    {"episodes_truncated", "episode/truncated"},
    {"switch_rate", "hiper/switch_rate"},
    {"mean_segment", "hiper/mean_segment"},
    {"adv_mean", "critic/advantages/mean"},
    {"adv_abs_mean", "critic/advantages/abs_mean"},
    {"loss_tokens", "actor/loss_tokens"},
    {"pg_loss", "actor/pg_loss"},
    {"entropy", "actor/entropy"},
    {"kl", "actor/kl_loss"},
    {"clipfrac", "actor/pg_clipfrac"},
    {"clipfrac_lower", "actor/pg_clipfrac_lower"},
    {"approx_kl", "actor/ppo_kl"},
    {"actor_grad_norm", "actor/grad_norm"},
    {"actor_lr", "actor/lr"},
    {"optim_steps", "actor/optim_steps"},
    {"skipped_steps", "actor/skipped_steps"},
    {"vf_clipfrac", "critic/vf_clipfrac"},
    {"critic_grad_norm", "critic/grad_norm"},
    {"critic_lr", "critic/lr"},
    {"env_faults", "env/faults"},
    {"env_restarts", "env/restarts"},
    {"env_truncated", "env/truncated"},
    {"prompt_truncated", "prompt_length/truncated"},
    {"max_prompt_len", "prompt_length/max"},
    {"response_length", "response_length/mean"},
    {"response_truncated", "response_length/truncated"},
    {"tokens", "perf/total_num_tokens"},
    {"tokens_per_s", "perf/throughput"},
    {"t_rollout", "timing_s/rollout"},
    {"t_score", "timing_s/score"},
    {"t_adv", "timing_s/adv"},
    {"t_critic", "timing_s/update_critic"},
    {"t_actor", "timing_s/update_actor"},
    {"t_step", "timing_s/step"},
    {"t_val", "timing_s/testing"},
    {"val_success", "val/success"},
    {"val_score", "val/score"},
    {"val_turns", "val/length/mean"},
    {"val_invalid_rate", "val/invalid_action_rate"},
};

static const char *const PREFIX[][2] = {
    {"val_success_", "val/success/"},
    {"success_", "episode/success/"},
    {"vf_loss_", "critic/vf_loss_"},
    {"explained_var_", "critic/vf_explained_var_"},
    {"ret_std_", "critic/returns_std/"},
    {"ret_", "critic/returns/"},
    {"adv_raw_mean_", "critic/advantages_raw_mean/"},
    {"adv_raw_std_", "critic/advantages_raw_std/"},
};

const char *hp_trainlog_tag(const char *key, char *buf, size_t cap) {
    for (size_t i = 0; i < sizeof EXACT / sizeof EXACT[0]; i++)
        if (!strcmp(key, EXACT[i][0])) {
            snprintf(buf, cap, "%s", EXACT[i][1]);
            return buf;
        }
    for (size_t i = 0; i < sizeof PREFIX / sizeof PREFIX[0]; i++)
        if (hp_str_starts(key, PREFIX[i][0])) {
            snprintf(buf, cap, "%s%s", PREFIX[i][1], key + strlen(PREFIX[i][0]));
            return buf;
        }
    snprintf(buf, cap, "misc/%s", key);
    return buf;
}

static int tb_write(hp_tfevents *tb, const cJSON *rec, hp_err *err) {
    const cJSON *st = cJSON_GetObjectItemCaseSensitive(rec, "step");
    if (!cJSON_IsNumber(st)) return HP_OK;
    int n = 0, cap = 0;
    char **tags = NULL;
    double *vals = NULL;
    const cJSON *x;
    cJSON_ArrayForEach(x, rec) {
        if (!cJSON_IsNumber(x) || !x->string || !strcmp(x->string, "step")) continue;
        if (n == cap) {
            cap = cap ? 2 * cap : 64;
            tags = hp_xrealloc(tags, (size_t)cap * sizeof *tags);
            vals = hp_xrealloc(vals, (size_t)cap * sizeof *vals);
        }
        char tag[400];
        tags[n] = hp_xstrdup(hp_trainlog_tag(x->string, tag, sizeof tag));
        vals[n++] = x->valuedouble;
    }
    int rc = hp_tfevents_write(tb, (int64_t)st->valuedouble, -1, (const char *const *)tags, vals, n, err);
    for (int i = 0; i < n; i++) free(tags[i]);
    free(tags);
    free(vals);
    return rc;
}

/* Remove the event files of earlier invocations (tensorboard/events.out.tfevents.*). */
static int remove_old_events(const char *dir, hp_err *err) {
    DIR *d = opendir(dir);
    if (!d) return HP_OK;
    int rc = HP_OK;
    for (struct dirent *e; rc == HP_OK && (e = readdir(d));) {
        if (!hp_str_starts(e->d_name, "events.out.tfevents.")) continue;
        char *p = hp_path_join(dir, e->d_name);
        if (remove(p) != 0) rc = hp_fail(err, "%s: cannot remove the earlier event file", p);
        free(p);
    }
    closedir(d);
    return rc;
}

/* Replay metrics.jsonl into the new event file. */
static int replay(hp_trainlog *l, hp_err *err) {
    if (!hp_path_exists(l->metrics)) return HP_OK;
    char *text = NULL;
    size_t len = 0;
    if (hp_read_file(l->metrics, &text, &len, err)) return HP_FAIL;
    int rc = HP_OK;
    char *save = NULL;
    for (char *line = strtok_r(text, "\n", &save); line && rc == HP_OK; line = strtok_r(NULL, "\n", &save)) {
        cJSON *o = cJSON_Parse(line);
        if (o) rc = tb_write(l->tb, o, err);
        cJSON_Delete(o);
    }
    free(text);
    return rc;
}

hp_trainlog *hp_trainlog_open(const char *run_dir, const hp_runcfg *cfg, hp_err *err) {
    int set = hp_runcfg_loggers(cfg);
    if (set < 0) {
        hp_fail(err, "key 'trainer.logger': '%s' is not a list of console, jsonl, tensorboard", cfg->trainer.logger);
        return NULL;
    }
    hp_trainlog *l = hp_xcalloc(1, sizeof *l);
    l->loggers = set;
    l->metrics = hp_path_join(run_dir, "metrics.jsonl");
    if (set & HP_LOG_TENSORBOARD) {
        char *dir = hp_path_join(run_dir, "tensorboard");
        int rc = set & HP_LOG_JSONL ? remove_old_events(dir, err) : HP_OK;
        if (rc == HP_OK) l->tb = hp_tfevents_open(dir, err);
        free(dir);
        if (rc || !l->tb || ((set & HP_LOG_JSONL) && replay(l, err))) {
            hp_trainlog_close(l);
            return NULL;
        }
    }
    return l;
}

int hp_trainlog_write(hp_trainlog *l, const cJSON *record, hp_err *err) {
    if (l->loggers & HP_LOG_JSONL) {
        char *line = cJSON_PrintUnformatted(record);
        int rc = hp_metrics_append(l->metrics, line, err);
        cJSON_free(line);
        if (rc) return HP_FAIL;
    }
    if (l->tb && tb_write(l->tb, record, err)) return HP_FAIL;
    return HP_OK;
}

bool hp_trainlog_console(const hp_trainlog *l) { return l && (l->loggers & HP_LOG_CONSOLE); }

void hp_trainlog_close(hp_trainlog *l) {
    if (!l) return;
    hp_tfevents_close(l->tb, NULL);
    free(l->metrics);
    free(l);
}
