/* The hp_env handles of external environments: reset, step (batched per host), clone, free.
 *
 * A handle keeps its episode (split, index, seed, actions) so that clone works on servers without a
 * clone operation: the copy is a new environment on the same server that replays the episode, all in
 * one request. */
#include "ext_internal.h"

#include <stdlib.h>
#include <string.h>

static const hp_env_ops EXT_OPS;

static hp_ext_env *env_new(hp_ext_host *h) {
    hp_ext_env *e = hp_xcalloc(1, sizeof *e);
    e->base.ops = &EXT_OPS;
    hp_env_view empty = {.observation = "", .task = "", .task_type = -1, .task_type_name = "",
                         .max_steps = hp_ext_host_max_steps(h)};
    hp_ext_view_copy(&e->view, &empty);
    hp_ext_host_attach(h, e);
    return e;
}

static void clear_actions(hp_ext_env *e) {
    for (int i = 0; i < e->n_actions; i++) free(e->actions[i]);
    e->n_actions = 0;
}

static void push_action(hp_ext_env *e, const char *a) {
    if (e->n_actions == e->cap_actions) {
        e->cap_actions = e->cap_actions ? 2 * e->cap_actions : 16;
        e->actions = hp_xrealloc(e->actions, (size_t)e->cap_actions * sizeof *e->actions);
    }
    e->actions[e->n_actions++] = hp_xstrdup(a);
}

/* Copy the episode record (not the view) of src into dst. */
static void copy_episode(hp_ext_env *dst, const hp_ext_env *src) {
    clear_actions(dst);
    free(dst->split);
    dst->split = src->split ? hp_xstrdup(src->split) : NULL;
    dst->index = src->index;
    dst->seed = src->seed;
    dst->started = src->started;
    for (int i = 0; i < src->n_actions; i++) push_action(dst, src->actions[i]);
}

void hp_ext_env_truncate(hp_ext_env *e, bool stepped) {
    e->view.v.done = true;
    e->view.v.truncated = true;
    e->view.v.reward = 0;
    if (stepped) e->view.v.steps++;
}

static cJSON *op_new(const char *op, int64_t env) {
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "op", op);
    cJSON_AddNumberToObject(o, "env", (double)env);
    return o;
}

static cJSON *reset_op(int64_t env, const char *split, int64_t index, uint64_t seed) {
    cJSON *o = op_new("reset", env);
    cJSON_AddStringToObject(o, "split", split);
    cJSON_AddNumberToObject(o, "index", (double)index);
    hp_ext_add_seed(o, "seed", seed);
    return o;
}

static cJSON *step_op(int64_t env, const char *action) {
    cJSON *o = op_new("step", env);
    cJSON_AddStringToObject(o, "action", action);
    return o;
}

/* Check that result r answers an op on env `id`; an error it reports is returned as `*env_error`
 * (HP_OK, not a fault). Returns HP_FAIL for a protocol violation (the caller declares a fault). */
static int check_result(const cJSON *r, int64_t id, const char **env_error, hp_err *err) {
    int64_t got;
    *env_error = NULL;
    if (hp_ext_get_int(r, "env", &got, err)) return HP_FAIL;
    if (got != id) return hp_fail(err, "a result is for env %lld where env %lld was expected", (long long)got, (long long)id);
    if (!cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(r, "ok"))) {
        const cJSON *m = cJSON_GetObjectItemCaseSensitive(r, "error");
        *env_error = cJSON_IsString(m) ? m->valuestring : "(no message)";
    }
    return HP_OK;
}

/* Decode the state in result r into e's view; `stepped` counts one more step when the server does
 * not report steps. HP_FAIL is a protocol violation. */
static int apply_state(hp_ext_env *e, const cJSON *r, bool stepped, hp_err *err) {
    hp_ext_view nv = {0};
    if (hp_ext_view_decode(&nv, r, hp_ext_host_max_steps(e->host), hp_ext_host_max_message(e->host), err)) {
        hp_ext_view_free(&nv);
        return HP_FAIL;
    }
    if (nv.v.steps < 0) nv.v.steps = stepped ? e->view.v.steps + 1 : 0;
    hp_ext_view_free(&e->view);
    e->view = nv;
    e->view.v.observation = e->view.observation; /* re-link after the struct copy */
    e->view.v.task = e->view.task;
    e->view.v.task_type_name = e->view.task_type_name;
    e->view.v.admissible = (const char *const *)e->view.admissible;
    return HP_OK;
}

static int ext_reset(hp_env *env, const char *split, int64_t index, uint64_t seed, hp_err *err) {
    hp_ext_env *e = (hp_ext_env *)env;
    hp_ext_host *h = e->host;
    if (hp_ext_host_check(h, err)) return HP_FAIL;
    int64_t n = hp_ext_host_split_size(h, split, err);
    if (n < 0) return HP_FAIL;
    if (index < 0 || index >= n)
        return hp_fail(err, "external env '%s': index %lld is outside split '%s' (size %lld)", hp_ext_host_name(h),
                       (long long)index, split, (long long)n);
    for (;;) {
        cJSON *ops = cJSON_CreateArray(), *res = NULL;
        cJSON_AddItemToArray(ops, reset_op(e->id, split, index, seed));
        int rc = hp_ext_host_exchange(h, ops, &res, err);
        if (rc == HP_FAIL) return HP_FAIL;
        if (rc == HP_EXT_FAULT) continue; /* a fresh process: try again */
        const cJSON *r = res->child;
        const char *env_error = NULL;
        rc = check_result(r, e->id, &env_error, err);
        if (!rc && env_error) {
            hp_fail(err, "external env '%s': reset(%s, %lld): %s", hp_ext_host_name(h), split, (long long)index, env_error);
            cJSON_Delete(res);
            return HP_FAIL;
        }
        if (!rc) rc = apply_state(e, r, false, err);
        cJSON_Delete(res);
        if (rc == HP_OK) {
            clear_actions(e);
            free(e->split);
            e->split = hp_xstrdup(split);
            e->index = index;
            e->seed = seed;
            e->started = true;
            e->gen = hp_ext_host_gen(h);
            return HP_OK;
        }
        hp_err_wrap(err, "external env '%s': reset(%s, %lld)", hp_ext_host_name(h), split, (long long)index);
        if (hp_ext_host_fault(h, err) == HP_FAIL) return HP_FAIL;
    }
}

/* Apply one host's results to its environments (envs[k] answered by the k-th result). */
static int apply_results(hp_ext_host *h, hp_ext_env **envs, const char *const *actions, int n, cJSON *res,
                         hp_err *err, hp_err *env_err, bool *had_env_err) {
    int k = 0;
    for (const cJSON *r = res->child; r; r = r->next, k++) {
        const char *env_error = NULL;
        int rc = check_result(r, envs[k]->id, &env_error, err);
        if (!rc && env_error) {
            if (!*had_env_err)
                hp_fail(env_err, "external env '%s': step '%s': %s", hp_ext_host_name(h), actions[k], env_error);
            *had_env_err = true;
            continue;
        }
        if (!rc) rc = apply_state(envs[k], r, true, err);
        if (rc) {
            hp_err_wrap(err, "external env '%s': step result %d", hp_ext_host_name(h), k);
            return hp_ext_host_fault(h, err);
        }
        push_action(envs[k], actions[k]);
    }
    (void)n;
    return HP_OK;
}

static int check_steppable(hp_ext_env **envs, int n, hp_err *err) {
    for (int i = 0; i < n; i++) {
        if (!envs[i]->started) return hp_fail(err, "environment %d: step before reset", i);
        if (envs[i]->view.v.done) return hp_fail(err, "environment %d: step after the episode ended", i);
        if (hp_ext_host_check(envs[i]->host, err)) return hp_err_wrap(err, "environment %d", i);
        for (int j = 0; j < i; j++)
            if (envs[j] == envs[i]) return hp_fail(err, "environment %d appears twice in one batch", i);
    }
    return HP_OK;
}

/* One host's share of a batch. */
typedef struct {
    hp_ext_host *host;
    hp_ext_env **envs;
    const char **actions;
    int n;
    int status; /* of begin */
} host_batch;

static int ext_step_many(hp_env **envs_in, int n, const char *const *actions, hp_err *err) {
    hp_ext_env **envs = (hp_ext_env **)envs_in;
    if (check_steppable(envs, n, err)) return HP_FAIL;
    host_batch *hb = hp_xcalloc((size_t)n, sizeof *hb);
    int nh = 0;
    for (int i = 0; i < n; i++) { /* group by host, keeping the order inside each group */
        int g = 0;
        while (g < nh && hb[g].host != envs[i]->host) g++;
        if (g == nh) {
            hb[nh].host = envs[i]->host;
            hb[nh].envs = hp_xcalloc((size_t)n, sizeof(hp_ext_env *));
            hb[nh].actions = hp_xcalloc((size_t)n, sizeof(char *));
            nh++;
        }
        hb[g].envs[hb[g].n] = envs[i];
        hb[g].actions[hb[g].n++] = actions[i];
    }
    for (int g = 0; g < nh; g++) { /* send every host its request, so the processes work in parallel */
        cJSON *ops = cJSON_CreateArray();
        for (int k = 0; k < hb[g].n; k++) cJSON_AddItemToArray(ops, step_op(hb[g].envs[k]->id, hb[g].actions[k]));
        hb[g].status = hp_ext_host_begin(hb[g].host, ops, err);
    }
    int rc = HP_OK;
    hp_err env_err = {{0}};
    bool had_env_err = false;
    for (int g = 0; g < nh; g++) {
        int st = hb[g].status;
        cJSON *res = NULL;
        if (st == HP_OK) st = hp_ext_host_finish(hb[g].host, &res, err);
        if (st == HP_OK)
            st = apply_results(hb[g].host, hb[g].envs, hb[g].actions, hb[g].n, res, err, &env_err, &had_env_err);
        cJSON_Delete(res);
        if (st == HP_FAIL) rc = HP_FAIL; /* keep collecting the other hosts' replies */
    }
    for (int g = 0; g < nh; g++) {
        free(hb[g].envs);
        free(hb[g].actions);
    }
    free(hb);
    if (rc == HP_OK && had_env_err) {
        *err = env_err;
        rc = HP_FAIL;
    }
    return rc;
}

static int ext_step(hp_env *env, const char *action, hp_err *err) {
    hp_env *one[1] = {env};
    return ext_step_many(one, 1, &action, err);
}

static const hp_env_view *ext_view(const hp_env *env) { return &((const hp_ext_env *)env)->view.v; }

/* Rebuild the episode of src in dst on the server (clone op, or reset + replayed steps). */
static int clone_on_server(hp_ext_env *dst, const hp_ext_env *src, hp_err *err) {
    hp_ext_host *h = src->host;
    cJSON *ops = cJSON_CreateArray(), *res = NULL;
    if (hp_ext_host_can_clone(h)) {
        cJSON *o = op_new("clone", dst->id);
        cJSON_AddNumberToObject(o, "from", (double)src->id);
        cJSON_AddItemToArray(ops, o);
    } else {
        cJSON_AddItemToArray(ops, reset_op(dst->id, src->split, src->index, src->seed));
        for (int i = 0; i < src->n_actions; i++) cJSON_AddItemToArray(ops, step_op(dst->id, src->actions[i]));
    }
    int rc = hp_ext_host_exchange(h, ops, &res, err);
    if (rc) return rc;
    const cJSON *last = NULL;
    for (const cJSON *r = res->child; r && !rc; r = r->next) {
        const char *env_error = NULL;
        rc = check_result(r, dst->id, &env_error, err);
        if (!rc && env_error) {
            hp_fail(err, "external env '%s': clone: %s", hp_ext_host_name(h), env_error);
            cJSON_Delete(res);
            return HP_FAIL;
        }
        last = r;
    }
    if (!rc) rc = apply_state(dst, last, false, err);
    cJSON_Delete(res);
    if (rc) {
        hp_err_wrap(err, "external env '%s': clone", hp_ext_host_name(h));
        return hp_ext_host_fault(h, err);
    }
    dst->gen = hp_ext_host_gen(h);
    return HP_OK;
}

static void ext_free(hp_env *env);

static hp_env *ext_clone(const hp_env *env, hp_err *err) {
    const hp_ext_env *src = (const hp_ext_env *)env;
    if (hp_ext_host_check(src->host, err)) return NULL;
    hp_ext_env *dst = env_new(src->host);
    copy_episode(dst, src);
    bool live = src->started && !src->view.v.done && src->gen != 0 && src->gen == hp_ext_host_gen(src->host);
    int rc = live ? clone_on_server(dst, src, err) : HP_OK;
    if (rc == HP_FAIL) {
        ext_free(&dst->base);
        return NULL;
    }
    if (!live || rc == HP_EXT_FAULT) { /* nothing on the server (or lost): a copy of the view */
        hp_ext_view_copy(&dst->view, &src->view.v);
        dst->gen = 0;
    } else {
        dst->view.v.steps = src->view.v.steps; /* servers without step counts */
    }
    return &dst->base;
}

static void ext_free(hp_env *env) {
    hp_ext_env *e = (hp_ext_env *)env;
    if (e->host) hp_ext_host_detach(e->host, e);
    clear_actions(e);
    free(e->actions);
    free(e->split);
    hp_ext_view_free(&e->view);
    free(e);
}

static int64_t ext_split_size(const hp_env *env, const char *split, hp_err *err) {
    return hp_ext_host_split_size(((const hp_ext_env *)env)->host, split, err);
}

/* The kind a served environment's text belongs to (hp_env_family_get): the name in its server's
 * handshake. */
static const char *ext_speaks(const hp_env *env) { return hp_ext_host_name(((const hp_ext_env *)env)->host); }

/* The counters of its host (hp_env_get_stats). */
static bool ext_stats(const hp_env *env, hp_env_stats *out) {
    hp_external_stats xs;
    hp_ext_host_stats(((const hp_ext_env *)env)->host, &xs);
    *out = (hp_env_stats){.faults = xs.faults, .restarts = xs.restarts, .truncated = xs.truncated};
    return true;
}

static const hp_env_ops EXT_OPS = {
    .name = "external",
    .reset = ext_reset,
    .step = ext_step,
    .view = ext_view,
    .clone = ext_clone,
    .free = ext_free,
    .split_size = ext_split_size,
    .step_many = ext_step_many,
    .speaks = ext_speaks,
    .stats = ext_stats,
};

/* ---- opening ----------------------------------------------------------------------------------- */

static int opt_number(const cJSON *it, double lo, double hi, double *out, hp_err *err) {
    if (!cJSON_IsNumber(it) || !(it->valuedouble >= lo && it->valuedouble <= hi))
        return hp_fail(err, "external: option '%s' must be a number in [%g, %g]", it->string, lo, hi);
    *out = it->valuedouble;
    return HP_OK;
}

static int parse_options(const cJSON *options, hp_ext_host_cfg *cfg, int *processes, hp_err *err) {
    *processes = 1;
    *cfg = (hp_ext_host_cfg){.cmd = NULL, .timeout_s = 30, .start_timeout_s = 120, .max_restarts = 3, .max_faults = 3,
                             .fault_window = 100, .max_steps = 50, .max_message_bytes = HP_EXT_DEFAULT_MAX_MESSAGE};
    if (!options) return hp_fail(err, "external: option 'cmd' (the server command) is required");
    if (!cJSON_IsObject(options)) return hp_fail(err, "external: options must be a JSON object");
    for (const cJSON *it = options->child; it; it = it->next) {
        double d = 0;
        const char *k = it->string;
        if (!strcmp(k, "cmd")) {
            if (!cJSON_IsString(it) || !it->valuestring[0])
                return hp_fail(err, "external: option 'cmd' must be a non-empty string");
            cfg->cmd = it->valuestring;
        } else if (!strcmp(k, "timeout_s")) {
            if (opt_number(it, 0.001, 1e6, &cfg->timeout_s, err)) return HP_FAIL;
        } else if (!strcmp(k, "start_timeout_s")) {
            if (opt_number(it, 0.001, 1e6, &cfg->start_timeout_s, err)) return HP_FAIL;
        } else if (!strcmp(k, "max_restarts")) {
            if (opt_number(it, 0, 1e6, &d, err) || d != (int)d)
                return hp_fail(err, "external: option 'max_restarts' must be an integer in [0, 1000000]");
            cfg->max_restarts = (int)d;
        } else if (!strcmp(k, "max_faults")) {
            if (opt_number(it, 0, 1e6, &d, err) || d != (int)d)
                return hp_fail(err, "external: option 'max_faults' must be an integer in [0, 1000000]");
            cfg->max_faults = (int)d;
        } else if (!strcmp(k, "fault_window")) {
            if (opt_number(it, 1, 100000, &d, err) || d != (int)d)
                return hp_fail(err, "external: option 'fault_window' must be an integer in [1, 100000]");
            cfg->fault_window = (int)d;
        } else if (!strcmp(k, "max_message_bytes")) {
            if (opt_number(it, 1024, 1073741824.0, &d, err) || d != (double)(int64_t)d)
                return hp_fail(err, "external: option 'max_message_bytes' must be an integer in [1024, 2^30]");
            cfg->max_message_bytes = (size_t)d;
        } else if (!strcmp(k, "max_steps")) {
            if (opt_number(it, 1, 1e9, &d, err) || d != (int)d)
                return hp_fail(err, "external: option 'max_steps' must be a positive integer");
            cfg->max_steps = (int)d;
        } else if (!strcmp(k, "processes")) {
            if (opt_number(it, 1, 1024, &d, err) || d != (int)d)
                return hp_fail(err, "external: option 'processes' must be an integer in [1, 1024]");
            *processes = (int)d;
        } else {
            return hp_fail(err, "external: unknown option '%s' (known: cmd, timeout_s, start_timeout_s, max_restarts, "
                                "max_faults, fault_window, max_message_bytes, max_steps, processes)", k);
        }
    }
    if (!cfg->cmd) return hp_fail(err, "external: option 'cmd' (the server command) is required");
    return HP_OK;
}

hp_env *hp_external_open(const cJSON *options, hp_err *err) {
    hp_ext_host_cfg cfg;
    int processes;
    if (parse_options(options, &cfg, &processes, err)) return NULL;
    hp_ext_host *h = hp_ext_host_open(&cfg, err);
    if (!h) return NULL;
    return &env_new(h)->base;
}

hp_env *hp_external_attach(const hp_env *sibling, hp_err *err) {
    if (!sibling || sibling->ops != &EXT_OPS) {
        hp_fail(err, "hp_external_attach: not an external environment");
        return NULL;
    }
    const hp_ext_env *s = (const hp_ext_env *)sibling;
    if (hp_ext_host_check(s->host, err)) return NULL;
    return &env_new(s->host)->base;
}

int hp_external_open_many(const cJSON *options, int n, hp_env **out, hp_err *err) {
    hp_ext_host_cfg cfg;
    int processes;
    if (n < 0) return hp_fail(err, "hp_external_open_many: negative count %d", n);
    if (parse_options(options, &cfg, &processes, err)) return HP_FAIL;
    if (processes > n) processes = n > 0 ? n : 1;
    for (int i = 0; i < n; i++) out[i] = NULL;
    for (int i = 0; i < n; i++) {
        if (i < processes) {
            hp_ext_host *h = hp_ext_host_open(&cfg, err);
            if (h) out[i] = &env_new(h)->base;
        } else {
            out[i] = hp_external_attach(out[i % processes], err);
        }
        if (!out[i]) {
            for (int j = i - 1; j >= 0; j--) {
                hp_env_free(out[j]);
                out[j] = NULL;
            }
            return hp_err_wrap(err, "opening external environment %d of %d", i, n);
        }
    }
    return HP_OK;
}

const char *hp_external_env_name(const hp_env *env) { return env && env->ops == &EXT_OPS ? ext_speaks(env) : NULL; }

bool hp_external_get_stats(const hp_env *env, hp_external_stats *out) {
    memset(out, 0, sizeof *out);
    if (!env || env->ops != &EXT_OPS) return false;
    hp_ext_host_stats(((const hp_ext_env *)env)->host, out);
    return true;
}
