/* Evaluation: play episodes with a policy, report success per task type and the task score (see
 * hiper/eval.h). */
#include "hiper/eval.h"

#include "hiper/dist.h"
#include "hiper/stats.h"

#include <cjson/cJSON.h>
#include <stdlib.h>
#include <unistd.h>
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

void hp_eval_result_free(hp_eval_result *res) {
    free(res->ep_task);
    free(res->ep_won);
    res->ep_task = NULL;
    res->ep_won = NULL;
    res->ep_cap = 0;
}

static void push_episode(hp_eval_result *res, int64_t task, bool won) {
    if (res->n_episodes >= res->ep_cap) {
        res->ep_cap = res->ep_cap ? 2 * res->ep_cap : 64;
        res->ep_task = hp_xrealloc(res->ep_task, (size_t)res->ep_cap * sizeof *res->ep_task);
        res->ep_won = hp_xrealloc(res->ep_won, (size_t)res->ep_cap);
    }
    res->ep_task[res->n_episodes] = task;
    res->ep_won[res->n_episodes] = won;
}

void hp_eval_add(hp_eval_result *res, const hp_rollout *r) {
    for (int i = 0; i < r->n_trajs; i++) {
        const hp_traj *tr = &r->trajs[i];
        push_episode(res, tr->task_index, tr->won);
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

void hp_eval_merge(hp_eval_result *dst, const hp_eval_result *src) {
    double n0 = dst->n_episodes, n1 = src->n_episodes, n = n0 + n1;
    if (n1 == 0) return;
    for (int i = 0; i < src->n_episodes; i++) {
        push_episode(dst, src->ep_task[i], src->ep_won[i]);
        dst->n_episodes++;
    }
    dst->mean_score = (dst->mean_score * n0 + src->mean_score * n1) / n;
    dst->mean_turns = (dst->mean_turns * n0 + src->mean_turns * n1) / n;
    double inv = dst->invalid_rate * (double)dst->n_turns + src->invalid_rate * (double)src->n_turns;
    dst->n_turns += src->n_turns;
    dst->invalid_rate = dst->n_turns ? inv / (double)dst->n_turns : 0.0;
    dst->n_won += src->n_won;
    dst->success = dst->n_won / n;
    for (int t = 0; t < src->n_types; t++) {
        if (!src->type_n[t]) continue;
        int d = 0; /* the same type by name, else a free slot */
        while (d < dst->n_types && strcmp(dst->type_name[d], src->type_name[t])) d++;
        if (d == dst->n_types) {
            if (d >= HP_EVAL_MAX_TYPES) continue;
            dst->n_types++;
            memcpy(dst->type_name[d], src->type_name[t], sizeof dst->type_name[d]);
        }
        dst->type_n[d] += src->type_n[t];
        dst->type_won[d] += src->type_won[t];
    }
    dst->n_tokens += src->n_tokens;
    dst->seconds += src->seconds;
}

/* One progress line after a batch; a terminal gets it rewritten in place. */
static void progress(const hp_eval_cfg *cfg, const hp_eval_result *res, double t0, bool last) {
    if (!cfg->progress) return;
    double el = hp_now() - t0;
    int done = res->n_episodes, total = cfg->n_episodes;
    double eta = done ? el * (total - done) / done : 0.0;
    bool tty = isatty(fileno(cfg->progress));
    fprintf(cfg->progress, "%s  eval %s: %d/%d episodes, %d won, %.0f s, ETA %.0f s%s", tty ? "\r" : "",
            cfg->label ? cfg->label : cfg->rollout.split, done, total, res->n_won, el, eta,
            tty ? (last ? "\n" : "") : "\n");
    fflush(cfg->progress);
}

void hp_eval_finish(hp_eval_result *res) {
    if (!res->n_episodes) return;
    double n = res->n_episodes;
    res->success = res->n_won / n;
    res->mean_score /= n;
    res->mean_turns /= n;
    res->invalid_rate = res->n_turns ? res->invalid_rate / (double)res->n_turns : 0;
}

/* Data-parallel: this rank plays episodes [e0, e1) in the slices of the single process's batches that
 * fall into it (each batch's seed; first_group places the slice in its batch), the ranks' packed
 * slices are gathered, and every rank adds them up in episode order. Every rank returns through the
 * agreement on its play, so an environment failing on one rank fails all of them with its message. */
static int eval_parallel(hp_env **envs, int n_envs, const hp_tok *tok, const hp_policy *policy, const hp_eval_cfg *c,
                         const int64_t *idx, int batch, bool with_turns, hp_eval_result *res, FILE *fp, double t0,
                         hp_err *err) {
    const hp_dist *d = c->dist;
    int64_t e0, e1;
    hp_dist_share(c->n_episodes, hp_dist_rank(d), hp_dist_size(d), &e0, &e1);
    hp_buf mine = {0}, all = {0};
    int rc = HP_OK;
    for (int start = 0, b = 0; start < c->n_episodes && rc == HP_OK; start += batch, b++) {
        int end = c->n_episodes - start < batch ? c->n_episodes : start + batch;
        int a = start > e0 ? start : (int)e0, z = end < e1 ? end : (int)e1;
        if (a >= z) continue;
        if (z - a > n_envs) {
            rc = hp_fail(err, "eval: %d environments given, episodes %d..%d need %d", n_envs, a, z - 1, z - a);
            break;
        }
        hp_rollout_cfg rc_cfg = c->rollout;
        rc_cfg.n_tasks = z - a;
        rc_cfg.group_n = 1;
        rc_cfg.task_indices = idx + a;
        rc_cfg.seed = hp_hash64(&b, sizeof b, c->rollout.seed);
        rc_cfg.first_group = a - start;
        rc_cfg.total_groups = end - start;
        hp_rollout r;
        rc = hp_rollout_run(envs, tok, policy, &rc_cfg, &r, err);
        if (rc) {
            hp_err_wrap(err, "eval: episodes %d..%d", a, z - 1);
            break;
        }
        int64_t tag = b;
        hp_buf_append(&mine, &tag, sizeof tag);
        hp_rollout_pack(&r, with_turns, &mine); /* the turns only for rank 0's jsonl file */
        hp_rollout_free(&r);
    }
    rc = hp_dist_agree(d, rc, err);
    if (rc == HP_OK) hp_dist_allgather(d, mine.data, mine.len, &all, NULL);
    /* The slices in rank order are in episode order; those of one batch are joined for the jsonl file. */
    size_t pos = 0;
    hp_rollout cur = {0};
    int64_t cur_b = -1;
    while (rc == HP_OK && pos < all.len) {
        int64_t b;
        hp_rollout r;
        if (all.len - pos < sizeof b) {
            rc = hp_fail(err, "eval: gathered results truncated");
            break;
        }
        memcpy(&b, all.data + pos, sizeof b);
        pos += sizeof b;
        if ((rc = hp_rollout_unpack(all.data, all.len, &pos, &r, err))) break;
        hp_eval_add(res, &r);
        if (fp && b != cur_b && cur_b >= 0) {
            rc = hp_rollout_append_jsonl(&cur, fp, -1, err);
            hp_rollout_free(&cur);
        }
        cur_b = b;
        hp_rollout_concat(&cur, &r);
    }
    if (rc == HP_OK && fp && cur_b >= 0) rc = hp_rollout_append_jsonl(&cur, fp, -1, err);
    hp_rollout_free(&cur);
    progress(c, res, t0, true);
    hp_buf_free(&mine);
    hp_buf_free(&all);
    return rc;
}

int hp_eval_run_envs(hp_env **envs, int n_envs, const hp_tok *tok, const hp_policy *policy, const hp_eval_cfg *cfg,
                     hp_eval_result *res, hp_err *err) {
    memset(res, 0, sizeof *res);
    hp_eval_cfg c = *cfg;
    bool parallel = hp_dist_parallel(c.dist);
    if (!hp_dist_root(c.dist)) c.progress = NULL, c.jsonl_path = NULL; /* rank 0 writes */
    double t0 = hp_now();
    int64_t size = 0;
    int rc = HP_OK;
    if (!c.whole_split && c.n_episodes < 1) rc = hp_fail(err, "eval: episodes must be >= 1");
    else if ((size = hp_env_split_size(envs[0], c.rollout.split, err)) < 0) rc = hp_err_wrap(err, "eval");
    else if (c.whole_split && size < 1) rc = hp_fail(err, "eval: split %s has no tasks to play whole", c.rollout.split);
    if (rc == HP_OK && c.whole_split) {
        c.n_episodes = (int)size;
        c.sequential = true;
    }
    int batch = c.batch > 0 ? c.batch : 32;
    if (batch > c.n_episodes) batch = c.n_episodes;
    if (rc == HP_OK && n_envs < batch && !parallel)
        rc = hp_fail(err, "eval: %d environments given, batch needs %d", n_envs, batch);
    FILE *fp = NULL;
    if (rc == HP_OK && c.jsonl_path && !(fp = fopen(c.jsonl_path, "w")))
        rc = hp_fail(err, "eval: cannot write %s", c.jsonl_path);
    if (parallel) rc = hp_dist_agree(c.dist, rc, err); /* one rank's failure is every rank's */
    if (rc) {
        if (fp) fclose(fp);
        return rc;
    }
    int64_t *idx = hp_xmalloc((size_t)c.n_episodes * sizeof *idx);
    if (c.sequential)
        for (int i = 0; i < c.n_episodes; i++) idx[i] = size ? i % size : 0;
    else hp_rollout_pick_tasks(size, c.n_episodes, c.rollout.seed ^ 0x6576616cULL, c.rollout.step, idx);
    if (parallel) rc = eval_parallel(envs, n_envs, tok, policy, &c, idx, batch, cfg->jsonl_path != NULL, res, fp, t0, err);
    for (int start = 0, b = 0; !parallel && start < c.n_episodes && rc == HP_OK; start += batch, b++) {
        hp_rollout_cfg rc_cfg = c.rollout;
        rc_cfg.n_tasks = c.n_episodes - start < batch ? c.n_episodes - start : batch;
        rc_cfg.group_n = 1;
        rc_cfg.task_indices = idx + start;
        /* each batch has its own streams (environment index i restarts at 0 in every batch) */
        rc_cfg.seed = hp_hash64(&b, sizeof b, c.rollout.seed);
        hp_rollout r;
        rc = hp_rollout_run(envs, tok, policy, &rc_cfg, &r, err);
        if (rc) {
            hp_err_wrap(err, "eval: episodes %d..%d", start, start + rc_cfg.n_tasks - 1);
            break;
        }
        hp_eval_add(res, &r);
        progress(&c, res, t0, start + rc_cfg.n_tasks >= c.n_episodes);
        if (fp) rc = hp_rollout_append_jsonl(&r, fp, -1, err);
        hp_rollout_free(&r);
    }
    if (fp && fclose(fp) && rc == HP_OK) rc = hp_fail(err, "eval: writing %s failed", c.jsonl_path);
    if (parallel) rc = hp_dist_agree(c.dist, rc, err);
    free(idx);
    hp_eval_finish(res);
    res->seconds = hp_now() - t0;
    return rc;
}

int hp_eval_run(const char *env_kind, const cJSON *env_options, const hp_tok *tok, const hp_policy *policy,
                const hp_eval_cfg *cfg, hp_eval_result *res, hp_err *err) {
    memset(res, 0, sizeof *res);
    int batch = cfg->batch > 0 ? cfg->batch : 32;
    if (!cfg->whole_split && batch > cfg->n_episodes) batch = cfg->n_episodes > 0 ? cfg->n_episodes : 1;
    if (hp_dist_parallel(cfg->dist) && !cfg->whole_split) { /* this rank's share of a batch at most (one at least) */
        int64_t e0, e1;
        hp_dist_share(cfg->n_episodes, hp_dist_rank(cfg->dist), hp_dist_size(cfg->dist), &e0, &e1);
        if (e1 - e0 < batch) batch = e1 - e0 > 0 ? (int)(e1 - e0) : 1;
    }
    hp_env **envs = hp_xcalloc((size_t)batch, sizeof *envs);
    int rc = HP_OK;
    if (hp_env_open_many(env_kind, env_options, batch, envs, err)) rc = hp_err_wrap(err, "eval: opening %s", env_kind);
    if (hp_dist_parallel(cfg->dist) && hp_dist_agree(cfg->dist, rc, err)) {
        if (rc == HP_OK)
            for (int i = 0; i < batch; i++) hp_env_free(envs[i]);
        rc = HP_FAIL;
    } else if (rc == HP_OK) {
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

static void print_line(FILE *fp, const char *label, int won, int n) {
    double lo, hi;
    hp_wilson(won, n, 1.96, &lo, &hi);
    fprintf(fp, "%-7s %6d %5d %7.1f%%  [%5.1f, %5.1f]\n", label, n, won, n ? 100.0 * won / n : 0.0, 100 * lo, 100 * hi);
}

void hp_eval_print(FILE *fp, const hp_eval_result *res, hp_env_family family) {
    if (family == HP_FAM_WEBSHOP) {
        double lo, hi;
        hp_wilson(res->n_won, res->n_episodes, 1.96, &lo, &hi);
        fprintf(fp, "%-8s %-8s %-16s %-9s\n", "score", "success", "95% interval", "episodes");
        fprintf(fp, "%-8.1f %-8.1f [%5.1f, %5.1f]   %-9d\n", 100 * res->mean_score, 100 * res->success, 100 * lo,
                100 * hi, res->n_episodes);
    } else {
        char label[16];
        fprintf(fp, "%-7s %6s %5s %8s  %s\n", "type", "games", "won", "success", "95% interval (Wilson)");
        for (int t = 0; t < res->n_types; t++) {
            if (!res->type_n[t]) continue;
            type_label(res->type_name[t], label, sizeof label);
            print_line(fp, label, res->type_won[t], res->type_n[t]);
        }
        print_line(fp, "All", res->n_won, res->n_episodes);
    }
    fprintf(fp, "mean turns %.1f, invalid turns %.1f%%, %.1f s\n", res->mean_turns, 100 * res->invalid_rate,
            res->seconds);
}

double hp_eval_print_paired(FILE *fp, const char *what, const hp_eval_result *before, const hp_eval_result *after) {
    int n = before->n_episodes;
    bool pairs = n == after->n_episodes && n > 0 && before->ep_task && after->ep_task;
    for (int i = 0; pairs && i < n; i++) pairs = before->ep_task[i] == after->ep_task[i];
    if (!pairs) {
        fprintf(fp, "%s: the two evaluations did not play the same games; no paired test\n", what);
        return -1.0;
    }
    int b = 0, c = 0;
    for (int i = 0; i < n; i++) {
        b += !before->ep_won[i] && after->ep_won[i];
        c += before->ep_won[i] && !after->ep_won[i];
    }
    double p = hp_mcnemar_exact(b, c), lo0, hi0, lo1, hi1;
    hp_wilson(before->n_won, n, 1.96, &lo0, &hi0);
    hp_wilson(after->n_won, n, 1.96, &lo1, &hi1);
    fprintf(fp, "%s, same %d games: %.1f%% [%.1f, %.1f] -> %.1f%% [%.1f, %.1f] (%+.1f points); won only after %d, "
                "only before %d; McNemar exact p = %.3g (%s)\n",
            what, n, 100.0 * before->n_won / n, 100 * lo0, 100 * hi0, 100.0 * after->n_won / n, 100 * lo1, 100 * hi1,
            100.0 * (after->n_won - before->n_won) / n, b, c, p, p < 0.05 ? "a measured change" : "not a measured change");
    return p;
}

char *hp_eval_json(const hp_eval_result *res) {
    cJSON *o = cJSON_CreateObject();
    cJSON_AddNumberToObject(o, "episodes", res->n_episodes);
    cJSON_AddNumberToObject(o, "won", res->n_won);
    cJSON_AddNumberToObject(o, "success", res->success);
    double lo, hi;
    hp_wilson(res->n_won, res->n_episodes, 1.96, &lo, &hi);
    cJSON_AddNumberToObject(o, "success_lo95", lo);
    cJSON_AddNumberToObject(o, "success_hi95", hi);
    cJSON_AddNumberToObject(o, "score", res->mean_score);
    cJSON_AddNumberToObject(o, "mean_turns", res->mean_turns);
    cJSON_AddNumberToObject(o, "invalid_rate", res->invalid_rate);
    cJSON *types = cJSON_AddObjectToObject(o, "types");
    for (int t = 0; t < res->n_types; t++) {
        if (!res->type_n[t]) continue;
        cJSON *x = cJSON_AddObjectToObject(types, res->type_name[t][0] ? res->type_name[t] : "?");
        cJSON_AddNumberToObject(x, "episodes", res->type_n[t]);
        cJSON_AddNumberToObject(x, "won", res->type_won[t]);
        cJSON_AddNumberToObject(x, "success", (double)res->type_won[t] / res->type_n[t]);
        hp_wilson(res->type_won[t], res->type_n[t], 1.96, &lo, &hi);
        cJSON_AddNumberToObject(x, "success_lo95", lo);
        cJSON_AddNumberToObject(x, "success_hi95", hi);
    }
    if (res->ep_task) {
        cJSON *tasks = cJSON_AddArrayToObject(o, "episode_task"), *won = cJSON_AddArrayToObject(o, "episode_won");
        for (int i = 0; i < res->n_episodes; i++) {
            cJSON_AddItemToArray(tasks, cJSON_CreateNumber((double)res->ep_task[i]));
            cJSON_AddItemToArray(won, cJSON_CreateNumber(res->ep_won[i]));
        }
    }
    cJSON_AddNumberToObject(o, "seconds", res->seconds);
    char *s = cJSON_PrintUnformatted(o);
    cJSON_Delete(o);
    char *r = hp_xstrdup(s);
    cJSON_free(s);
    return r;
}

int hp_eval_from_json(const cJSON *o, hp_eval_result *res, hp_err *err) {
    memset(res, 0, sizeof *res);
    const cJSON *n = cJSON_GetObjectItemCaseSensitive(o, "episodes"), *w = cJSON_GetObjectItemCaseSensitive(o, "won");
    if (!cJSON_IsNumber(n) || !cJSON_IsNumber(w) || n->valuedouble < 0 || w->valuedouble < 0 ||
        w->valuedouble > n->valuedouble)
        return hp_fail(err, "evaluation: 'episodes' and 'won' must be counts with won <= episodes");
    res->n_episodes = (int)n->valuedouble;
    res->n_won = (int)w->valuedouble;
    res->success = res->n_episodes ? (double)res->n_won / res->n_episodes : 0.0;
    const cJSON *x;
    if (cJSON_IsNumber(x = cJSON_GetObjectItemCaseSensitive(o, "score"))) res->mean_score = x->valuedouble;
    if (cJSON_IsNumber(x = cJSON_GetObjectItemCaseSensitive(o, "mean_turns"))) res->mean_turns = x->valuedouble;
    if (cJSON_IsNumber(x = cJSON_GetObjectItemCaseSensitive(o, "invalid_rate"))) res->invalid_rate = x->valuedouble;
    if (cJSON_IsNumber(x = cJSON_GetObjectItemCaseSensitive(o, "seconds"))) res->seconds = x->valuedouble;
    const cJSON *types = cJSON_GetObjectItemCaseSensitive(o, "types"), *ty;
    cJSON_ArrayForEach(ty, types) {
        if (res->n_types >= HP_EVAL_MAX_TYPES) break;
        const cJSON *te = cJSON_GetObjectItemCaseSensitive(ty, "episodes"), *tw = cJSON_GetObjectItemCaseSensitive(ty, "won");
        if (!cJSON_IsNumber(te) || !cJSON_IsNumber(tw))
            return hp_fail(err, "evaluation: task type '%s' needs 'episodes' and 'won'", ty->string ? ty->string : "?");
        int k = res->n_types++;
        snprintf(res->type_name[k], sizeof res->type_name[k], "%s", ty->string ? ty->string : "?");
        res->type_n[k] = (int)te->valuedouble;
        res->type_won[k] = (int)tw->valuedouble;
    }
    const cJSON *et = cJSON_GetObjectItemCaseSensitive(o, "episode_task"), *ew = cJSON_GetObjectItemCaseSensitive(o, "episode_won");
    if (cJSON_IsArray(et) && cJSON_IsArray(ew)) {
        if (cJSON_GetArraySize(et) != res->n_episodes || cJSON_GetArraySize(ew) != res->n_episodes)
            return hp_fail(err, "evaluation: episode_task/episode_won do not hold %d entries", res->n_episodes);
        int count = res->n_episodes;
        res->n_episodes = 0;
        for (int i = 0; i < count; i++) {
            const cJSON *a = cJSON_GetArrayItem(et, i), *b = cJSON_GetArrayItem(ew, i);
            if (!cJSON_IsNumber(a) || !cJSON_IsNumber(b))
                return hp_fail(err, "evaluation: episode %d: task and outcome must be numbers", i);
            push_episode(res, (int64_t)a->valuedouble, b->valuedouble != 0);
            res->n_episodes++;
        }
    }
    return HP_OK;
}
