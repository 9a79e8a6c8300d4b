/* The client side of one server process (a "host"): handshake, request/reply exchange, faults,
 * restarts and counters. Many hp_env handles share one host; the host keeps a list of them so that a
 * fault can end every episode whose state lived in the process that was lost. */
#include "ext_internal.h"

#include <stdlib.h>
#include <string.h>

struct hp_ext_host {
    hp_ext_host_cfg cfg;
    char *cmd;
    char *name;         /* for messages: the env name from the handshake, else the command */
    hp_ext_proc proc;
    bool running;       /* a process is up and has answered the handshake */
    bool dead;          /* gave up: every call fails with dead_msg */
    char dead_msg[sizeof(hp_err)];
    uint64_t gen;       /* bumped at every successful start */
    int64_t next_req;
    int64_t next_env;
    /* the request in flight */
    int64_t pending_id; /* -1: none */
    int pending_ops;    /* ops in it, frees included */
    int pending_frees;  /* leading free ops to drop from the results */
    double pending_deadline;
    /* from the handshake */
    bool can_clone;
    int max_steps;
    char **split_names;
    int64_t *split_sizes;
    int n_splits;
    /* counters */
    hp_external_stats st;
    int64_t in_a_row;   /* faults since the last good reply */
    uint8_t *window;    /* outcome of the last fault_window requests (1 = fault), a ring */
    int win_pos, win_fill, win_faults;
    bool started_once;
    /* handles and server-side envs to free with the next request */
    hp_ext_env **envs;
    int n_envs, cap_envs;
    int64_t *frees;
    int n_frees, cap_frees;
};

static void clear_splits(hp_ext_host *h) {
    for (int i = 0; i < h->n_splits; i++) free(h->split_names[i]);
    free(h->split_names);
    free(h->split_sizes);
    h->split_names = NULL;
    h->split_sizes = NULL;
    h->n_splits = 0;
}

/* Give up on the host: every later call fails with this message. */
static int host_die(hp_ext_host *h, hp_err *err) {
    h->dead = true;
    snprintf(h->dead_msg, sizeof h->dead_msg, "%s", err ? err->msg : "failed");
    hp_ext_proc_stop(&h->proc, 0);
    h->running = false;
    return HP_FAIL;
}

int hp_ext_host_check(const hp_ext_host *h, hp_err *err) {
    if (h->dead) return hp_fail(err, "%s", h->dead_msg);
    return HP_OK;
}

/* End every episode that was in progress in the current process. */
static void end_episodes(hp_ext_host *h) {
    for (int i = 0; i < h->n_envs; i++) {
        hp_ext_env *e = h->envs[i];
        if (e->gen == h->gen && e->started && !e->view.v.done) {
            hp_ext_env_truncate(e, false);
            h->st.truncated++;
        }
        if (e->gen == h->gen) e->gen = 0;
    }
    h->n_frees = 0;
}

/* Count one request's outcome in the window of the last fault_window requests. */
static void window_push(hp_ext_host *h, bool fault) {
    if (h->win_fill == h->cfg.fault_window) h->win_faults -= h->window[h->win_pos];
    else h->win_fill++;
    h->window[h->win_pos] = fault;
    h->win_faults += fault;
    h->win_pos = (h->win_pos + 1) % h->cfg.fault_window;
}

/* Two limits: max_restarts faults in a row, and max_faults among the last fault_window requests, so
 * that a server failing every 8th request (each good reply resetting the count in a row) stops the
 * run instead of truncating every episode. */
int hp_ext_host_fault(hp_ext_host *h, hp_err *err) {
    hp_ext_proc_stop(&h->proc, 0);
    if (h->running) end_episodes(h);
    h->running = false;
    h->pending_id = -1;
    h->st.faults++;
    h->in_a_row++;
    window_push(h, true);
    if (h->in_a_row > h->cfg.max_restarts) {
        hp_err_wrap(err, "%lld failures in a row (max_restarts %d), giving up; the last one",
                    (long long)h->in_a_row, h->cfg.max_restarts);
        return host_die(h, err);
    }
    if (h->win_faults > h->cfg.max_faults) {
        hp_err_wrap(err, "%d faults in the last %d requests (more than max_faults %d per fault_window %d), giving up; "
                         "the last one", h->win_faults, h->win_fill, h->cfg.max_faults, h->cfg.fault_window);
        return host_die(h, err);
    }
    fprintf(stderr, "hiper: warning: %s; restarting the process (%lld in a row, %d in the last %d requests)\n",
            err ? err->msg : "fault", (long long)h->in_a_row, h->win_faults, h->win_fill);
    return HP_EXT_FAULT;
}

/* Send one line and wait for its reply, for the handshake and close. */
static int roundtrip(hp_ext_host *h, cJSON *ops, double timeout, cJSON **reply, hp_err *err) {
    int64_t id = h->next_req++;
    int n_ops = cJSON_GetArraySize(ops);
    cJSON *req = cJSON_CreateObject();
    cJSON_AddNumberToObject(req, "id", (double)id);
    cJSON_AddItemToObject(req, "ops", ops);
    char *txt = cJSON_PrintUnformatted(req);
    cJSON_Delete(req);
    double deadline = hp_now() + timeout;
    size_t max_len = h->cfg.max_message_bytes * (size_t)(n_ops > 1 ? n_ops : 1);
    int rc = hp_ext_proc_send(&h->proc, txt, strlen(txt), deadline, max_len, err);
    free(txt);
    char *line;
    size_t len;
    if (!rc) rc = hp_ext_proc_recv(&h->proc, deadline, max_len, &line, &len, err);
    *reply = NULL;
    if (!rc) rc = hp_ext_reply_parse(line, len, id, n_ops, reply, err);
    return rc;
}

static int read_splits(hp_ext_host *h, const cJSON *res, hp_err *err) {
    const cJSON *sp = cJSON_GetObjectItemCaseSensitive(res, "splits");
    if (!cJSON_IsObject(sp)) return hp_fail(err, "handshake: 'splits' must be an object of split name -> size");
    clear_splits(h);
    int n = cJSON_GetArraySize(sp);
    h->split_names = hp_xcalloc((size_t)n + 1, sizeof(char *));
    h->split_sizes = hp_xcalloc((size_t)n + 1, sizeof(int64_t));
    for (const cJSON *s = sp->child; s; s = s->next) {
        double d = s->valuedouble;
        if (!cJSON_IsNumber(s) || d < 0 || d != (double)(int64_t)d)
            return hp_fail(err, "handshake: splits.%s must be a non-negative integer", s->string);
        h->split_names[h->n_splits] = hp_xstrdup(s->string);
        h->split_sizes[h->n_splits++] = (int64_t)d;
    }
    return HP_OK;
}

static int handshake(hp_ext_host *h, hp_err *err) {
    cJSON *ops = cJSON_CreateArray();
    cJSON *hello = cJSON_CreateObject();
    cJSON_AddStringToObject(hello, "op", "hello");
    cJSON_AddNumberToObject(hello, "version", HP_EXTERNAL_PROTOCOL_VERSION);
    cJSON_AddItemToArray(ops, hello);
    cJSON *reply = NULL;
    int rc = roundtrip(h, ops, h->cfg.start_timeout_s, &reply, err);
    if (rc) {
        cJSON_Delete(reply);
        return hp_err_wrap(err, "handshake");
    }
    const cJSON *res = cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(reply, "results"), 0);
    int64_t version = 0, max_steps = 0;
    const cJSON *name = cJSON_GetObjectItemCaseSensitive(res, "env");
    const cJSON *clone = cJSON_GetObjectItemCaseSensitive(res, "clone");
    const cJSON *msg = cJSON_GetObjectItemCaseSensitive(res, "error");
    if (!cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(res, "ok")))
        rc = hp_fail(err, "handshake refused: %s", cJSON_IsString(msg) ? msg->valuestring : "(no message)");
    else if (hp_ext_get_int(res, "version", &version, err))
        rc = hp_err_wrap(err, "handshake");
    else if (version != HP_EXTERNAL_PROTOCOL_VERSION)
        rc = hp_fail(err, "handshake: the server speaks protocol version %lld, hiper speaks %d", (long long)version,
                     HP_EXTERNAL_PROTOCOL_VERSION);
    else if (!cJSON_IsString(name) || !name->valuestring[0])
        rc = hp_fail(err, "handshake: 'env' must be a non-empty string");
    else if (clone && !cJSON_IsBool(clone))
        rc = hp_fail(err, "handshake: 'clone' must be true or false");
    else if (cJSON_GetObjectItemCaseSensitive(res, "max_steps") && hp_ext_get_int(res, "max_steps", &max_steps, err))
        rc = hp_err_wrap(err, "handshake");
    else
        rc = read_splits(h, res, err);
    if (!rc) {
        free(h->name);
        h->name = hp_xstrdup(name->valuestring);
        h->can_clone = cJSON_IsTrue(clone);
        h->max_steps = max_steps > 0 ? (int)max_steps : h->cfg.max_steps;
    }
    cJSON_Delete(reply);
    return rc;
}

/* Start a process and shake hands, retrying while failures in a row stay within max_restarts. */
static int ensure_running(hp_ext_host *h, hp_err *err) {
    while (!h->running) {
        if (h->dead) return hp_fail(err, "%s", h->dead_msg);
        if (h->started_once) h->st.restarts++;
        h->started_once = true;
        if (hp_ext_proc_start(&h->proc, h->cmd, err)) return host_die(h, err); /* spawn itself failed */
        int rc = handshake(h, err);
        if (rc == HP_OK) {
            h->running = true;
            h->gen++;
            return HP_OK;
        }
        hp_err_wrap(err, "external env: starting '%s'", h->cmd);
        if (hp_ext_host_fault(h, err) == HP_FAIL) return HP_FAIL;
    }
    return HP_OK;
}

hp_ext_host *hp_ext_host_open(const hp_ext_host_cfg *cfg, hp_err *err) {
    hp_ext_host *h = hp_xcalloc(1, sizeof *h);
    h->cfg = *cfg;
    h->cmd = hp_xstrdup(cfg->cmd);
    h->cfg.cmd = h->cmd;
    size_t nl = strlen(cfg->cmd);
    h->name = hp_xstrndup(cfg->cmd, nl < 60 ? nl : 60);
    h->max_steps = cfg->max_steps;
    h->pending_id = -1;
    h->next_req = 0;
    h->next_env = 1;
    h->window = hp_xcalloc((size_t)cfg->fault_window, 1);
    hp_ext_proc_init(&h->proc);
    if (ensure_running(h, err)) {
        hp_ext_host_close(h);
        return NULL;
    }
    return h;
}

/* Ask a healthy server to close, then stop and reap it. */
static void shutdown_proc(hp_ext_host *h) {
    double grace = h->cfg.timeout_s < 1.0 ? h->cfg.timeout_s : 1.0;
    if (h->running && h->pending_id < 0) {
        cJSON *ops = cJSON_CreateArray();
        cJSON *c = cJSON_CreateObject();
        cJSON_AddStringToObject(c, "op", "close");
        cJSON_AddItemToArray(ops, c);
        cJSON *reply = NULL;
        hp_err ignored = {{0}};
        roundtrip(h, ops, grace, &reply, &ignored);
        cJSON_Delete(reply);
    }
    hp_ext_proc_stop(&h->proc, grace);
    h->running = false;
}

void hp_ext_host_close(hp_ext_host *h) {
    if (!h) return;
    shutdown_proc(h);
    hp_ext_proc_free(&h->proc);
    clear_splits(h);
    free(h->envs);
    free(h->frees);
    free(h->window);
    free(h->cmd);
    free(h->name);
    free(h);
}

void hp_ext_host_attach(hp_ext_host *h, hp_ext_env *e) {
    if (h->n_envs == h->cap_envs) {
        h->cap_envs = h->cap_envs ? 2 * h->cap_envs : 8;
        h->envs = hp_xrealloc(h->envs, (size_t)h->cap_envs * sizeof *h->envs);
    }
    h->envs[h->n_envs++] = e;
    e->host = h;
    e->id = h->next_env++;
}

void hp_ext_host_detach(hp_ext_host *h, hp_ext_env *e) {
    for (int i = 0; i < h->n_envs; i++) {
        if (h->envs[i] != e) continue;
        h->envs[i] = h->envs[--h->n_envs];
        break;
    }
    if (h->running && e->gen == h->gen && e->gen != 0) { /* free its server state with the next request */
        if (h->n_frees == h->cap_frees) {
            h->cap_frees = h->cap_frees ? 2 * h->cap_frees : 8;
            h->frees = hp_xrealloc(h->frees, (size_t)h->cap_frees * sizeof *h->frees);
        }
        h->frees[h->n_frees++] = e->id;
    }
    e->host = NULL;
    if (h->n_envs == 0) hp_ext_host_close(h);
}

/* The longest reply line accepted for the request in flight: max_message_bytes per result. */
static size_t max_reply(const hp_ext_host *h) {
    return h->cfg.max_message_bytes * (size_t)(h->pending_ops > 1 ? h->pending_ops : 1);
}

int hp_ext_host_begin(hp_ext_host *h, cJSON *ops, hp_err *err) {
    if (h->pending_id >= 0) {
        cJSON_Delete(ops);
        return hp_fail(err, "external env '%s': a request is already in flight", h->name);
    }
    if (ensure_running(h, err)) {
        cJSON_Delete(ops);
        return HP_FAIL;
    }
    cJSON *all = cJSON_CreateArray();
    for (int i = 0; i < h->n_frees; i++) {
        cJSON *f = cJSON_CreateObject();
        cJSON_AddStringToObject(f, "op", "free");
        cJSON_AddNumberToObject(f, "env", (double)h->frees[i]);
        cJSON_AddItemToArray(all, f);
    }
    h->pending_frees = h->n_frees;
    h->n_frees = 0;
    while (ops->child) cJSON_AddItemToArray(all, cJSON_DetachItemViaPointer(ops, ops->child));
    cJSON_Delete(ops);
    int64_t id = h->next_req++;
    h->pending_ops = cJSON_GetArraySize(all);
    cJSON *req = cJSON_CreateObject();
    cJSON_AddNumberToObject(req, "id", (double)id);
    cJSON_AddItemToObject(req, "ops", all);
    char *txt = cJSON_PrintUnformatted(req);
    cJSON_Delete(req);
    h->pending_deadline = hp_now() + h->cfg.timeout_s;
    int rc = hp_ext_proc_send(&h->proc, txt, strlen(txt), h->pending_deadline, max_reply(h), err);
    free(txt);
    if (rc) {
        hp_err_wrap(err, "external env '%s': request %lld", h->name, (long long)id);
        return hp_ext_host_fault(h, err);
    }
    h->pending_id = id;
    return HP_OK;
}

int hp_ext_host_finish(hp_ext_host *h, cJSON **results, hp_err *err) {
    *results = NULL;
    if (h->pending_id < 0) return hp_fail(err, "external env '%s': no request in flight", h->name);
    char *line;
    size_t len;
    cJSON *reply = NULL;
    int64_t id = h->pending_id;
    int rc = hp_ext_proc_recv(&h->proc, h->pending_deadline, max_reply(h), &line, &len, err);
    if (!rc) rc = hp_ext_reply_parse(line, len, id, h->pending_ops, &reply, err);
    if (rc) {
        cJSON_Delete(reply);
        if (strstr(err->msg, "time limit"))
            hp_err_wrap(err, "external env '%s': request %lld (timeout_s %g)", h->name, (long long)id, h->cfg.timeout_s);
        else
            hp_err_wrap(err, "external env '%s': request %lld", h->name, (long long)id);
        return hp_ext_host_fault(h, err);
    }
    h->pending_id = -1;
    h->in_a_row = 0;
    window_push(h, false);
    h->st.requests++;
    cJSON *res = cJSON_DetachItemFromObjectCaseSensitive(reply, "results");
    cJSON_Delete(reply);
    for (int i = 0; i < h->pending_frees; i++) cJSON_Delete(cJSON_DetachItemFromArray(res, 0));
    *results = res;
    return HP_OK;
}

int hp_ext_host_exchange(hp_ext_host *h, cJSON *ops, cJSON **results, hp_err *err) {
    *results = NULL;
    int rc = hp_ext_host_begin(h, ops, err);
    if (rc) return rc;
    return hp_ext_host_finish(h, results, err);
}

uint64_t hp_ext_host_gen(const hp_ext_host *h) { return h->running ? h->gen : 0; }
bool hp_ext_host_can_clone(const hp_ext_host *h) { return h->can_clone; }
int hp_ext_host_max_steps(const hp_ext_host *h) { return h->max_steps; }
size_t hp_ext_host_max_message(const hp_ext_host *h) { return h->cfg.max_message_bytes; }
const char *hp_ext_host_name(const hp_ext_host *h) { return h->name; }

int64_t hp_ext_host_split_size(const hp_ext_host *h, const char *split, hp_err *err) {
    for (int i = 0; i < h->n_splits; i++)
        if (!strcmp(h->split_names[i], split)) return h->split_sizes[i];
    hp_buf known = {0};
    for (int i = 0; i < h->n_splits; i++) hp_buf_printf(&known, "%s%s", i ? ", " : "", h->split_names[i]);
    hp_fail(err, "external env '%s': unknown split '%s' (the server has: %s)", h->name, split,
            known.len ? known.data : "none");
    hp_buf_free(&known);
    return -1;
}

void hp_ext_host_stats(const hp_ext_host *h, hp_external_stats *out) {
    *out = h->st;
    out->envs = h->n_envs;
}
