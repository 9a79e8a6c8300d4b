/* The server side of the protocol: answer JSON-line requests with the environments of this process
 * (what `hiper serve` runs; docs/external-protocol.md). Environments are created on their first
 * reset and kept by id until a free request or the end. New ones are clones of a template made once
 * by the factory (never reset), so data an environment shares with its clones (WebShop's catalog and
 * index) is built once per process. */
#include "ext_internal.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

typedef struct {
    int64_t id;
    hp_env *env;
} slot;

typedef struct {
    const hp_external_serve_cfg *cfg;
    slot *slots;
    int n, cap;
    cJSON *splits;   /* the handshake's split map */
    hp_env *templ;   /* a fresh environment, cloned for every new id */
} server;

static slot *find(server *s, int64_t id) {
    for (int i = 0; i < s->n; i++)
        if (s->slots[i].id == id) return &s->slots[i];
    return NULL;
}

static slot *add(server *s, int64_t id, hp_env *env) {
    if (s->n == s->cap) {
        s->cap = s->cap ? 2 * s->cap : 16;
        s->slots = hp_xrealloc(s->slots, (size_t)s->cap * sizeof *s->slots);
    }
    s->slots[s->n] = (slot){id, env};
    return &s->slots[s->n++];
}

static void drop(server *s, int64_t id) {
    slot *sl = find(s, id);
    if (!sl) return;
    hp_env_free(sl->env);
    *sl = s->slots[--s->n];
}

/* The split map for the handshake: the configured names, or every common name the env accepts. */
static int probe_splits(server *s, hp_err *err) {
    static const char *const common[] = {"train", "valid_seen", "valid_unseen", "valid", "val", "test", "eval", "dev"};
    const char *const *names = s->cfg->splits ? s->cfg->splits : common;
    int n = s->cfg->splits ? s->cfg->n_splits : (int)(sizeof common / sizeof common[0]);
    hp_env *probe = s->cfg->open(s->cfg->ctx, err);
    if (!probe) return hp_err_wrap(err, "serve: creating the environment");
    s->templ = probe;
    s->splits = cJSON_CreateObject();
    for (int i = 0; i < n; i++) {
        hp_err e2 = {{0}};
        int64_t size = hp_env_split_size(probe, names[i], &e2);
        if (size >= 0) cJSON_AddNumberToObject(s->splits, names[i], (double)size);
        else if (s->cfg->splits) {
            return hp_fail(err, "serve: split '%s': %s", names[i], e2.msg);
        }
    }
    return HP_OK;
}

static cJSON *result_new(bool ok, const cJSON *op) {
    cJSON *r = cJSON_CreateObject();
    cJSON_AddBoolToObject(r, "ok", ok);
    const cJSON *env = cJSON_GetObjectItemCaseSensitive(op, "env");
    if (cJSON_IsNumber(env)) cJSON_AddNumberToObject(r, "env", env->valuedouble);
    return r;
}

static cJSON *result_error(const cJSON *op, const char *msg) {
    cJSON *r = result_new(false, op);
    cJSON_AddStringToObject(r, "error", msg);
    return r;
}

static cJSON *result_state(const cJSON *op, const hp_env *env) {
    cJSON *r = result_new(true, op);
    hp_ext_view_encode(r, hp_env_get_view(env));
    return r;
}

/* A fresh environment: a clone of the template, or a new one if the kind cannot clone a fresh env. */
static hp_env *take_env(server *s, hp_err *err) {
    hp_err ignored = {{0}};
    hp_env *e = hp_env_clone(s->templ, &ignored);
    return e ? e : s->cfg->open(s->cfg->ctx, err);
}

static cJSON *do_reset(server *s, const cJSON *op, int64_t id) {
    hp_err err = {{0}};
    const cJSON *split = cJSON_GetObjectItemCaseSensitive(op, "split");
    int64_t index;
    uint64_t seed;
    if (!cJSON_IsString(split)) return result_error(op, "reset: missing string 'split'");
    if (hp_ext_get_int(op, "index", &index, &err) || hp_ext_get_seed(op, "seed", &seed, &err))
        return result_error(op, err.msg);
    slot *sl = find(s, id);
    if (!sl) {
        hp_env *e = take_env(s, &err);
        if (!e) return result_error(op, err.msg);
        sl = add(s, id, e);
    }
    if (hp_env_reset(sl->env, split->valuestring, index, seed, &err)) return result_error(op, err.msg);
    return result_state(op, sl->env);
}

static cJSON *do_step(server *s, const cJSON *op, int64_t id) {
    hp_err err = {{0}};
    const cJSON *action = cJSON_GetObjectItemCaseSensitive(op, "action");
    if (!cJSON_IsString(action)) return result_error(op, "step: missing string 'action'");
    slot *sl = find(s, id);
    if (!sl) return result_error(op, "step: no such environment (reset it first)");
    if (hp_env_step(sl->env, action->valuestring, &err)) return result_error(op, err.msg);
    return result_state(op, sl->env);
}

static cJSON *do_clone(server *s, const cJSON *op, int64_t id) {
    hp_err err = {{0}};
    int64_t from;
    if (hp_ext_get_int(op, "from", &from, &err)) return result_error(op, err.msg);
    slot *src = find(s, from);
    if (!src) return result_error(op, "clone: no such environment to clone from");
    hp_env *copy = hp_env_clone(src->env, &err);
    if (!copy) return result_error(op, err.msg);
    drop(s, id);
    add(s, id, copy);
    return result_state(op, copy);
}

static cJSON *do_hello(server *s, const cJSON *op) {
    cJSON *r = result_new(true, op);
    cJSON_AddNumberToObject(r, "version", HP_EXTERNAL_PROTOCOL_VERSION);
    cJSON_AddStringToObject(r, "env", s->cfg->env_name);
    cJSON_AddItemToObject(r, "splits", cJSON_Duplicate(s->splits, true));
    cJSON_AddBoolToObject(r, "clone", true);
    return r;
}

/* Run one operation; *closing is set by a close request. */
static cJSON *do_op(server *s, const cJSON *op, bool *closing) {
    const cJSON *name = cJSON_GetObjectItemCaseSensitive(op, "op");
    if (!cJSON_IsObject(op) || !cJSON_IsString(name)) return result_error(op, "an operation needs a string 'op'");
    const char *o = name->valuestring;
    if (!strcmp(o, "hello")) return do_hello(s, op);
    if (!strcmp(o, "close")) {
        *closing = true;
        return result_new(true, op);
    }
    hp_err err = {{0}};
    int64_t id;
    if (hp_ext_get_int(op, "env", &id, &err) || id < 0) return result_error(op, "missing or negative integer 'env'");
    if (!strcmp(o, "reset")) return do_reset(s, op, id);
    if (!strcmp(o, "step")) return do_step(s, op, id);
    if (!strcmp(o, "clone")) return do_clone(s, op, id);
    if (!strcmp(o, "free")) {
        drop(s, id);
        return result_new(true, op);
    }
    return result_error(op, "unknown op (expected hello, reset, step, clone, free, close)");
}

static cJSON *handle_line(server *s, const char *line, size_t len, bool *closing) {
    cJSON *reply = cJSON_CreateObject();
    cJSON *req = cJSON_ParseWithLength(line, len);
    const cJSON *id = req ? cJSON_GetObjectItemCaseSensitive(req, "id") : NULL;
    const cJSON *ops = req ? cJSON_GetObjectItemCaseSensitive(req, "ops") : NULL;
    if (cJSON_IsNumber(id)) cJSON_AddNumberToObject(reply, "id", id->valuedouble);
    else cJSON_AddNullToObject(reply, "id");
    if (!req || !cJSON_IsObject(req)) cJSON_AddStringToObject(reply, "error", "the request is not a JSON object");
    else if (!cJSON_IsNumber(id)) cJSON_AddStringToObject(reply, "error", "the request has no numeric 'id'");
    else if (!cJSON_IsArray(ops)) cJSON_AddStringToObject(reply, "error", "the request has no 'ops' list");
    else {
        cJSON *results = cJSON_AddArrayToObject(reply, "results");
        for (const cJSON *op = ops->child; op; op = op->next) cJSON_AddItemToArray(results, do_op(s, op, closing));
    }
    cJSON_Delete(req);
    return reply;
}

/* Write a whole reply line with as few write() calls as the socket allows: a reply split into
 * stdio-buffer-sized pieces costs the client one wake-up per piece. */
static int write_line(FILE *out, char *txt, hp_err *err) {
    size_t n = strlen(txt);
    txt[n] = '\n'; /* replaces the terminator; the length is known */
    if (fflush(out) != 0) return hp_fail(err, "serve: writing a reply failed");
    int fd = fileno(out);
    for (size_t off = 0; off < n + 1;) {
        ssize_t w = write(fd, txt + off, n + 1 - off);
        if (w < 0 && errno == EINTR) continue;
        if (w <= 0) return hp_fail(err, "serve: writing a reply failed: %s", strerror(errno));
        off += (size_t)w;
    }
    return HP_OK;
}

int hp_external_serve(const hp_external_serve_cfg *cfg, FILE *in, FILE *out, hp_err *err) {
    server s = {.cfg = cfg};
    int rc = probe_splits(&s, err);
    char *line = NULL;
    size_t cap = 0;
    bool closing = false;
    while (!rc && !closing) {
        ssize_t n = getline(&line, &cap, in);
        if (n < 0) break; /* end of input: the client is gone */
        if (n > 0 && line[n - 1] == '\n') line[--n] = '\0';
        if (n == 0) continue;
        cJSON *reply = handle_line(&s, line, (size_t)n, &closing);
        char *txt = cJSON_PrintUnformatted(reply);
        cJSON_Delete(reply);
        rc = write_line(out, txt, err);
        free(txt);
    }
    free(line);
    for (int i = 0; i < s.n; i++) hp_env_free(s.slots[i].env);
    free(s.slots);
    hp_env_free(s.templ);
    cJSON_Delete(s.splits);
    return rc;
}
