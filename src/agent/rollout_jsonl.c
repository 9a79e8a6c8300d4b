/* Rollouts as JSON lines a person can read (see hiper/rollout.h). One object per trajectory; each
 * turn carries the observation it acted on, the response text and the projection; the full rendered
 * prompt is written for the first turn only (later prompts repeat it with a new history). */
#include "hiper/rollout.h"

#include <cjson/cJSON.h>
#include <stdlib.h>
#include <string.h>

static cJSON *turn_json(const hp_turn *u) {
    cJSON *o = cJSON_CreateObject();
    cJSON_AddNumberToObject(o, "t", u->t);
    if (u->t == 0) cJSON_AddStringToObject(o, "prompt", u->prompt_text ? u->prompt_text : "");
    cJSON_AddStringToObject(o, "obs", u->anchor_obs ? u->anchor_obs : "");
    cJSON_AddStringToObject(o, "response", u->response_text ? u->response_text : "");
    cJSON_AddStringToObject(o, "action", u->action ? u->action : "");
    cJSON_AddStringToObject(o, "switch", u->switch_word ? u->switch_word : "");
    cJSON_AddStringToObject(o, "subgoal", u->subgoal ? u->subgoal : "");
    cJSON_AddBoolToObject(o, "valid", u->valid);
    cJSON_AddNumberToObject(o, "reward", u->reward);
    cJSON_AddNumberToObject(o, "score", u->score);
    cJSON_AddBoolToObject(o, "done", u->done);
    cJSON_AddBoolToObject(o, "won", u->won);
    cJSON_AddBoolToObject(o, "truncated", u->truncated);
    cJSON_AddNumberToObject(o, "prompt_tokens", (double)u->prompt.len);
    cJSON_AddNumberToObject(o, "response_tokens", (double)u->response.len);
    if (u->resp_truncated) cJSON_AddBoolToObject(o, "response_truncated", true);
    if (u->prompt_truncated) cJSON_AddBoolToObject(o, "prompt_truncated", true);
    return o;
}

int hp_rollout_append_jsonl(const hp_rollout *r, FILE *fp, int64_t step, hp_err *err) {
    for (int i = 0; i < r->n_trajs; i++) {
        const hp_traj *tr = &r->trajs[i];
        cJSON *o = cJSON_CreateObject();
        if (step >= 0) cJSON_AddNumberToObject(o, "step", (double)step);
        cJSON_AddNumberToObject(o, "traj", i);
        cJSON_AddNumberToObject(o, "group", tr->group);
        cJSON_AddNumberToObject(o, "task_index", (double)tr->task_index);
        cJSON_AddStringToObject(o, "task", tr->task ? tr->task : "");
        cJSON_AddStringToObject(o, "task_type", tr->task_type_name ? tr->task_type_name : "");
        cJSON_AddBoolToObject(o, "won", tr->won);
        cJSON_AddNumberToObject(o, "score", tr->score);
        cJSON_AddNumberToObject(o, "return", tr->ret);
        cJSON_AddNumberToObject(o, "turns", tr->n_turns);
        cJSON_AddNumberToObject(o, "invalid", tr->n_invalid);
        cJSON *arr = cJSON_AddArrayToObject(o, "steps");
        for (int k = 0; k < tr->n_turns; k++) cJSON_AddItemToArray(arr, turn_json(&r->turns[tr->first_turn + k]));
        char *s = cJSON_PrintUnformatted(o);
        cJSON_Delete(o);
        int bad = fputs(s, fp) < 0 || fputc('\n', fp) == EOF;
        cJSON_free(s);
        if (bad) return hp_fail(err, "writing rollout JSONL failed");
    }
    return HP_OK;
}

int hp_rollout_write_jsonl(const hp_rollout *r, const char *path, hp_err *err) {
    hp_afile af;
    if (hp_afile_open(&af, path, err)) return HP_FAIL;
    if (hp_rollout_append_jsonl(r, af.fp, -1, err)) {
        hp_afile_abort(&af);
        return hp_err_wrap(err, "%s", path);
    }
    return hp_afile_commit(&af, err);
}
