/* Evaluation: play episodes with a policy, report success per task type and the task score (see
 * hiper/eval.h). */
#include "hiper/eval.h"

#include <cjson/cJSON.h>
#include <stdlib.h>
#include <string.h>

hp_eval_cfg hp_eval_cfg_default(hp_fmt fmt, hp_env_family family) {
    hp_eval_cfg c = {0};
    c.rollout = hp_rollout_cfg_default(fmt, family);
    c.rollout.split = family == HP_FAM_WEBSHOP ? "test" : family == HP_FAM_ALFWORLD ? "valid_seen" : "test";
    c.rollout.gen.temperature = 0.4;
    c.rollout.gen.top_p = 1.0;
    c.rollout.max_steps = family == HP_FAM_WEBSHOP ? 15 : 50;
    c.n_episodes = 128;
    c.batch = 32;
    return c;
}

void hp_eval_add(hp_eval_result *res, const hp_rollout *r) {
    for (int i = 0; i < r->n_trajs; i++) {
        const hp_traj *tr = &r->trajs[i];
        res->n_episodes++;
        res->n_won += tr->won;
        res->mean_score += tr->score;
        res->mean_turns += tr->n_turns;
        res->invalid_rate += tr->n_invalid;
        res->n_turns += tr->n_turns;
        int ty = tr->task_type;
        if (ty >= 0 && ty < HP_EVAL_MAX_TYPES) {
            if (ty >= res->n_types) res->n_types = ty + 1;
            if (!res->type_name[ty][0]) snprintf(res->type_name[ty], sizeof res->type_name[ty], "%s", tr->task_type_name);
            res->type_n[ty]++;
            res->type_won[ty] += tr->won;
        }
    }
    res->n_tokens += r->n_prompt_tokens + r->n_response_tokens;
}

void hp_eval_finish(hp_eval_result *res) {
    if (!res->n_episodes) return;
    double n = res->n_episodes;
    res->success = res->n_won / n;
    res->mean_score /= n;
    res->mean_turns /= n;
    res->invalid_rate = res->n_turns ? res->invalid_rate / (double)res->n_turns : 0;
}

int hp_eval_run_envs(hp_env **envs, int n_envs, const hp_tok *tok, const hp_policy *policy, const hp_eval_cfg *cfg,
                     hp_eval_result *res, hp_err *err) {
    memset(res, 0, sizeof *res);
    if (cfg->n_episodes < 1) return hp_fail(err, "eval: episodes must be >= 1");
    int batch = cfg->batch > 0 ? cfg->batch : 32;
    if (batch > cfg->n_episodes) batch = cfg->n_episodes;
    if (n_envs < batch) return hp_fail(err, "eval: %d environments given, batch needs %d", n_envs, batch);
    double t0 = hp_now();
    int64_t size = hp_env_split_size(envs[0], cfg->rollout.split, err);
    if (size < 0) return hp_err_wrap(err, "eval");
    int64_t *idx = hp_xmalloc((size_t)cfg->n_episodes * sizeof *idx);
    if (cfg->sequential)
        for (int i = 0; i < cfg->n_episodes; i++) idx[i] = size ? i % size : 0;
    else hp_rollout_pick_tasks(size, cfg->n_episodes, cfg->rollout.seed ^ 0x6576616cULL, cfg->rollout.step, idx);
    FILE *fp = NULL;
    if (cfg->jsonl_path && !(fp = fopen(cfg->jsonl_path, "w"))) {
        free(idx);
        return hp_fail(err, "eval: cannot write %s", cfg->jsonl_path);
    }
    int rc = HP_OK;
    for (int start = 0, b = 0; start < cfg->n_episodes && rc == HP_OK; start += batch, b++) {
        hp_rollout_cfg rc_cfg = cfg->rollout;
        rc_cfg.n_tasks = cfg->n_episodes - start < batch ? cfg->n_episodes - start : batch;
        rc_cfg.group_n = 1;
        rc_cfg.task_indices = idx + start;
        /* each batch has its own streams (environment index i restarts at 0 in every batch) */
        rc_cfg.seed = hp_hash64(&b, sizeof b, cfg->rollout.seed);
        hp_rollout r;
        rc = hp_rollout_run(envs, tok, policy, &rc_cfg, &r, err);
        if (rc) {
            hp_err_wrap(err, "eval: episodes %d..%d", start, start + rc_cfg.n_tasks - 1);
            break;
        }
        hp_eval_add(res, &r);
        if (fp) rc = hp_rollout_append_jsonl(&r, fp, -1, err);
        hp_rollout_free(&r);
    }
    if (fp && fclose(fp) && rc == HP_OK) rc = hp_fail(err, "eval: writing %s failed", cfg->jsonl_path);
    free(idx);
    hp_eval_finish(res);
    res->seconds = hp_now() - t0;
    return rc;
}

int hp_eval_run(const char *env_kind, const cJSON *env_options, const hp_tok *tok, const hp_policy *policy,
                const hp_eval_cfg *cfg, hp_eval_result *res, hp_err *err) {
    int batch = cfg->batch > 0 ? cfg->batch : 32;
    if (batch > cfg->n_episodes) batch = cfg->n_episodes > 0 ? cfg->n_episodes : 1;
    hp_env **envs = hp_xcalloc((size_t)batch, sizeof *envs);
    int rc = HP_OK;
    if (hp_env_open_many(env_kind, env_options, batch, envs, err)) rc = hp_err_wrap(err, "eval: opening %s", env_kind);
    else {
        rc = hp_eval_run_envs(envs, batch, tok, policy, cfg, res, err);
        for (int i = 0; i < batch; i++) hp_env_free(envs[i]);
    }
    free(envs);
    return rc;
}

/* ALFWorld's table names (Pick Look Clean Heat Cool Pick2) from the env's lower-case type names. */
static void type_label(const char *name, char *out, size_t n) {
    snprintf(out, n, "%s", name && *name ? name : "?");
    if (out[0] >= 'a' && out[0] <= 'z') out[0] = (char)(out[0] - 'a' + 'A');
}

void hp_eval_print(FILE *fp, const hp_eval_result *res, hp_env_family family) {
    if (family == HP_FAM_WEBSHOP) {
        fprintf(fp, "%-8s %-8s %-9s\n", "score", "success", "episodes");
        fprintf(fp, "%-8.1f %-8.1f %-9d\n", 100 * res->mean_score, 100 * res->success, res->n_episodes);
    } else {
        char label[16];
        for (int t = 0; t < res->n_types; t++) {
            if (!res->type_n[t]) continue;
            type_label(res->type_name[t], label, sizeof label);
            fprintf(fp, "%-7s ", label);
        }
        fprintf(fp, "%-7s\n", "All");
        for (int t = 0; t < res->n_types; t++)
            if (res->type_n[t]) fprintf(fp, "%-7.1f ", 100.0 * res->type_won[t] / res->type_n[t]);
        fprintf(fp, "%-7.1f\n", 100 * res->success);
        for (int t = 0; t < res->n_types; t++)
            if (res->type_n[t]) fprintf(fp, "%-7s ", "");
        fprintf(fp, "(%d episodes)\n", res->n_episodes);
    }
    fprintf(fp, "mean turns %.1f, invalid turns %.1f%%, %.1f s\n", res->mean_turns, 100 * res->invalid_rate,
            res->seconds);
}

char *hp_eval_json(const hp_eval_result *res) {
    cJSON *o = cJSON_CreateObject();
    cJSON_AddNumberToObject(o, "episodes", res->n_episodes);
    cJSON_AddNumberToObject(o, "won", res->n_won);
    cJSON_AddNumberToObject(o, "success", res->success);
    cJSON_AddNumberToObject(o, "score", res->mean_score);
    cJSON_AddNumberToObject(o, "mean_turns", res->mean_turns);
    cJSON_AddNumberToObject(o, "invalid_rate", res->invalid_rate);
    cJSON *types = cJSON_AddObjectToObject(o, "types");
    for (int t = 0; t < res->n_types; t++) {
        if (!res->type_n[t]) continue;
        cJSON *x = cJSON_AddObjectToObject(types, res->type_name[t][0] ? res->type_name[t] : "?");
        cJSON_AddNumberToObject(x, "episodes", res->type_n[t]);
        cJSON_AddNumberToObject(x, "success", (double)res->type_won[t] / res->type_n[t]);
    }
    cJSON_AddNumberToObject(o, "seconds", res->seconds);
    char *s = cJSON_PrintUnformatted(o);
    cJSON_Delete(o);
    char *r = hp_xstrdup(s);
    cJSON_free(s);
    return r;
}
