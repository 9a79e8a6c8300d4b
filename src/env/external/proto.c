/* The JSON shapes of the protocol shared by client and server: environment state and seeds
 * (docs/external-protocol.md, "State"). */
#include "ext_internal.h"

#include "hiper/json.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#define HP_EXT_MAX_EXACT 9007199254740992.0 /* 2^53 */

void hp_ext_view_free(hp_ext_view *ev) {
    free(ev->observation);
    free(ev->task);
    free(ev->task_type_name);
    for (int i = 0; ev->admissible && i < ev->v.n_admissible; i++) free(ev->admissible[i]);
    free(ev->admissible);
    memset(ev, 0, sizeof *ev);
}

/* Point the public view's strings at the owned copies. */
static void link_view(hp_ext_view *ev) {
    ev->v.observation = ev->observation;
    ev->v.task = ev->task;
    ev->v.task_type_name = ev->task_type_name;
    ev->v.admissible = (const char *const *)ev->admissible;
}

void hp_ext_view_copy(hp_ext_view *dst, const hp_env_view *src) {
    hp_ext_view_free(dst);
    dst->v = *src;
    dst->observation = hp_xstrdup(src->observation ? src->observation : "");
    dst->task = hp_xstrdup(src->task ? src->task : "");
    dst->task_type_name = hp_xstrdup(src->task_type_name ? src->task_type_name : "");
    int n = src->n_admissible > 0 ? src->n_admissible : 0;
    dst->admissible = hp_xcalloc((size_t)n + 1, sizeof(char *));
    for (int i = 0; i < n; i++) dst->admissible[i] = hp_xstrdup(src->admissible[i] ? src->admissible[i] : "");
    dst->v.n_admissible = n;
    link_view(dst);
}

int hp_ext_get_int(const cJSON *obj, const char *key, int64_t *out, hp_err *err) {
    const cJSON *it = cJSON_GetObjectItemCaseSensitive(obj, key);
    if (!it) return hp_fail(err, "missing key '%s'", key);
    double d = it->valuedouble;
    if (!cJSON_IsNumber(it) || d != floor(d) || fabs(d) > HP_EXT_MAX_EXACT)
        return hp_fail(err, "key '%s' must be an integer", key);
    *out = (int64_t)d;
    return HP_OK;
}

static int get_string(const cJSON *obj, const char *key, char **out, hp_err *err) {
    const cJSON *it = cJSON_GetObjectItemCaseSensitive(obj, key);
    if (!it) return hp_fail(err, "missing key '%s'", key);
    if (!cJSON_IsString(it)) return hp_fail(err, "key '%s' must be a string", key);
    *out = hp_xstrdup(it->valuestring);
    return HP_OK;
}

static int get_bool(const cJSON *obj, const char *key, bool dflt, bool required, bool *out, hp_err *err) {
    const cJSON *it = cJSON_GetObjectItemCaseSensitive(obj, key);
    if (!it) {
        if (required) return hp_fail(err, "missing key '%s'", key);
        *out = dflt;
        return HP_OK;
    }
    if (!cJSON_IsBool(it)) return hp_fail(err, "key '%s' must be true or false", key);
    *out = cJSON_IsTrue(it);
    return HP_OK;
}

static int get_number(const cJSON *obj, const char *key, double dflt, bool required, double *out, hp_err *err) {
    const cJSON *it = cJSON_GetObjectItemCaseSensitive(obj, key);
    if (!it) {
        if (required) return hp_fail(err, "missing key '%s'", key);
        *out = dflt;
        return HP_OK;
    }
    if (!cJSON_IsNumber(it) || !isfinite(it->valuedouble)) return hp_fail(err, "key '%s' must be a finite number", key);
    *out = it->valuedouble;
    return HP_OK;
}

/* A reward or score: finite and within ±HP_EXT_MAX_ABS_REWARD (1e300 would overflow the critic's loss). */
static int get_bounded(const cJSON *obj, const char *key, bool required, double *out, hp_err *err) {
    if (get_number(obj, key, 0.0, required, out, err)) return HP_FAIL;
    if (fabs(*out) > HP_EXT_MAX_ABS_REWARD)
        return hp_fail(err, "key '%s' is %g, outside [-%g, %g]", key, *out, HP_EXT_MAX_ABS_REWARD, HP_EXT_MAX_ABS_REWARD);
    return HP_OK;
}

static int get_opt_int(const cJSON *obj, const char *key, int dflt, int *out, hp_err *err) {
    if (!cJSON_GetObjectItemCaseSensitive(obj, key)) {
        *out = dflt;
        return HP_OK;
    }
    int64_t v;
    if (hp_ext_get_int(obj, key, &v, err)) return HP_FAIL;
    if (v < -1 || v > 1000000000) return hp_fail(err, "key '%s' is out of range", key);
    *out = (int)v;
    return HP_OK;
}

static int decode_admissible(hp_ext_view *dst, const cJSON *result, hp_err *err) {
    const cJSON *adm = cJSON_GetObjectItemCaseSensitive(result, "admissible");
    if (!adm) return hp_fail(err, "missing key 'admissible'");
    if (!cJSON_IsArray(adm)) return hp_fail(err, "key 'admissible' must be a list of strings");
    int n = cJSON_GetArraySize(adm);
    dst->admissible = hp_xcalloc((size_t)n + 1, sizeof(char *));
    int i = 0;
    for (const cJSON *a = adm->child; a; a = a->next, i++) {
        if (!cJSON_IsString(a)) return hp_fail(err, "admissible[%d] must be a string", i);
        dst->admissible[i] = hp_xstrdup(a->valuestring);
        dst->v.n_admissible = i + 1;
    }
    return HP_OK;
}

static int decode_info(hp_ext_view *dst, const cJSON *result, int default_max_steps, hp_err *err) {
    const cJSON *info = cJSON_GetObjectItemCaseSensitive(result, "info");
    static const cJSON empty = {0};
    if (!info) info = &empty;
    else if (!cJSON_IsObject(info)) return hp_fail(err, "key 'info' must be an object");
    const cJSON *tn = cJSON_GetObjectItemCaseSensitive(info, "task_type_name");
    if (tn && !cJSON_IsString(tn)) return hp_fail(err, "key 'info.task_type_name' must be a string");
    dst->task_type_name = hp_xstrdup(tn ? tn->valuestring : "");
    if (get_opt_int(info, "task_type", -1, &dst->v.task_type, err) ||
        get_bounded(info, "score", false, &dst->v.score, err) ||
        get_bool(info, "truncated", false, false, &dst->v.truncated, err) ||
        get_opt_int(info, "steps", -1, &dst->v.steps, err) ||
        get_opt_int(info, "max_steps", default_max_steps, &dst->v.max_steps, err))
        return hp_err_wrap(err, "info");
    return HP_OK;
}

/* Bytes of text in a decoded state. */
static size_t state_bytes(const hp_ext_view *v) {
    size_t n = (v->observation ? strlen(v->observation) : 0) + (v->task ? strlen(v->task) : 0);
    for (int i = 0; v->admissible && i < v->v.n_admissible; i++) n += strlen(v->admissible[i]);
    return n;
}

int hp_ext_view_decode(hp_ext_view *dst, const cJSON *result, int default_max_steps, size_t max_bytes, hp_err *err) {
    hp_ext_view_free(dst);
    int rc = HP_OK;
    if (get_string(result, "obs", &dst->observation, err) || get_string(result, "task", &dst->task, err) ||
        decode_admissible(dst, result, err) || get_bounded(result, "reward", true, &dst->v.reward, err) ||
        get_bool(result, "done", false, true, &dst->v.done, err) ||
        get_bool(result, "won", false, false, &dst->v.won, err) || decode_info(dst, result, default_max_steps, err))
        rc = HP_FAIL;
    size_t bytes = rc == HP_OK ? state_bytes(dst) : 0;
    if (rc == HP_OK && max_bytes && bytes > max_bytes)
        rc = hp_fail(err, "obs, task and admissible hold %zu bytes, more than the limit of %zu (env.options "
                          "max_message_bytes)", bytes, max_bytes);
    if (!dst->observation) dst->observation = hp_xstrdup("");
    if (!dst->task) dst->task = hp_xstrdup("");
    if (!dst->task_type_name) dst->task_type_name = hp_xstrdup("");
    if (!dst->admissible) dst->admissible = hp_xcalloc(1, sizeof(char *));
    link_view(dst);
    return rc;
}

void hp_ext_view_encode(cJSON *r, const hp_env_view *v) {
    cJSON_AddStringToObject(r, "obs", v->observation ? v->observation : "");
    cJSON_AddStringToObject(r, "task", v->task ? v->task : "");
    cJSON *adm = cJSON_AddArrayToObject(r, "admissible");
    for (int i = 0; i < v->n_admissible; i++)
        cJSON_AddItemToArray(adm, cJSON_CreateString(v->admissible[i] ? v->admissible[i] : ""));
    cJSON_AddNumberToObject(r, "reward", v->reward);
    cJSON_AddBoolToObject(r, "done", v->done);
    cJSON_AddBoolToObject(r, "won", v->won);
    cJSON *info = cJSON_AddObjectToObject(r, "info");
    cJSON_AddNumberToObject(info, "task_type", v->task_type);
    cJSON_AddStringToObject(info, "task_type_name", v->task_type_name ? v->task_type_name : "");
    cJSON_AddNumberToObject(info, "score", v->score);
    cJSON_AddBoolToObject(info, "truncated", v->truncated);
    cJSON_AddNumberToObject(info, "steps", v->steps);
    cJSON_AddNumberToObject(info, "max_steps", v->max_steps);
}

/* A reply line: its envelope (see ext_internal.h). */
int hp_ext_reply_parse(const char *line, size_t len, int64_t want_id, int n_ops, cJSON **reply, hp_err *err) {
    cJSON *r = cJSON_ParseWithLength(line, len);
    if (!r || !cJSON_IsObject(r)) {
        cJSON_Delete(r);
        return hp_fail(err, "reply to request %lld is not a JSON object: '%.80s'", (long long)want_id, line);
    }
    *reply = r;
    const char *dup = hp_json_duplicate_key(r, true);
    if (dup) return hp_fail(err, "reply to request %lld: key '%s' appears twice in one object", (long long)want_id, dup);
    int64_t id;
    if (hp_ext_get_int(r, "id", &id, err)) return hp_err_wrap(err, "reply to request %lld", (long long)want_id);
    if (id != want_id) return hp_fail(err, "reply has id %lld, expected %lld", (long long)id, (long long)want_id);
    const cJSON *e = cJSON_GetObjectItemCaseSensitive(r, "error");
    if (cJSON_IsString(e)) return hp_fail(err, "the server rejected request %lld: %s", (long long)id, e->valuestring);
    const cJSON *res = cJSON_GetObjectItemCaseSensitive(r, "results");
    if (!cJSON_IsArray(res)) return hp_fail(err, "reply to request %lld has no 'results' list", (long long)id);
    if (cJSON_GetArraySize(res) != n_ops)
        return hp_fail(err, "reply to request %lld has %d results for %d operations", (long long)id,
                       cJSON_GetArraySize(res), n_ops);
    int i = 0;
    for (const cJSON *x = res->child; x; x = x->next, i++) {
        if (!cJSON_IsObject(x) || !cJSON_IsBool(cJSON_GetObjectItemCaseSensitive(x, "ok")))
            return hp_fail(err, "reply to request %lld: results[%d] is not an object with a boolean 'ok'",
                           (long long)id, i);
        const cJSON *msg = cJSON_GetObjectItemCaseSensitive(x, "error");
        if (!cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(x, "ok")) && msg && !cJSON_IsString(msg))
            return hp_fail(err, "reply to request %lld: results[%d].error must be a string", (long long)id, i);
    }
    return HP_OK;
}

void hp_ext_add_seed(cJSON *obj, const char *key, uint64_t seed) {
    if ((double)seed < HP_EXT_MAX_EXACT) {
        cJSON_AddNumberToObject(obj, key, (double)seed);
    } else {
        char s[32];
        snprintf(s, sizeof s, "%llu", (unsigned long long)seed);
        cJSON_AddStringToObject(obj, key, s);
    }
}

int hp_ext_get_seed(const cJSON *obj, const char *key, uint64_t *seed, hp_err *err) {
    const cJSON *it = cJSON_GetObjectItemCaseSensitive(obj, key);
    if (!it) {
        *seed = 0;
        return HP_OK;
    }
    if (cJSON_IsNumber(it)) {
        double d = it->valuedouble;
        if (d < 0 || d != floor(d) || d > HP_EXT_MAX_EXACT)
            return hp_fail(err, "key '%s' must be a non-negative integer (a decimal string above 2^53)", key);
        *seed = (uint64_t)d;
        return HP_OK;
    }
    if (cJSON_IsString(it)) {
        const char *s = it->valuestring;
        char *end = NULL;
        if (*s >= '0' && *s <= '9') {
            errno = 0;
            unsigned long long v = strtoull(s, &end, 10);
            if (errno == 0 && end && *end == '\0') {
                *seed = (uint64_t)v;
                return HP_OK;
            }
        }
    }
    return hp_fail(err, "key '%s' must be a non-negative integer (a decimal string above 2^53)", key);
}
