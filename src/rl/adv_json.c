/* adv_json.c — turn records from JSON lines and estimator configurations from JSON objects, with
 * the key names of tests/rl/fixtures/README.md. Every failure names the line and the key. */
#include "adv_internal.h"

#include <cjson/cJSON.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

/* ---- string interning (traj and group names → int64 ids) ---- */

typedef struct strmap {
    const char **keys;
    int64_t *ids;
    size_t cap, count;
} strmap;

static void strmap_init(strmap *m) {
    m->cap = 64;
    m->count = 0;
    m->keys = hp_xcalloc(m->cap, sizeof *m->keys);
    m->ids = hp_xmalloc(m->cap * sizeof *m->ids);
}

static void strmap_free(strmap *m) {
    free(m->keys);
    free(m->ids);
}

static int64_t strmap_get(strmap *m, const char *key) {
    if (2 * (m->count + 1) > m->cap) {
        strmap bigger = {hp_xcalloc(2 * m->cap, sizeof(char *)), hp_xmalloc(2 * m->cap * sizeof(int64_t)),
                         2 * m->cap, 0};
        for (size_t i = 0; i < m->cap; i++)
            if (m->keys[i]) {
                size_t h = (size_t)hp_hash64(m->keys[i], strlen(m->keys[i]), 0) & (bigger.cap - 1);
                while (bigger.keys[h]) h = (h + 1) & (bigger.cap - 1);
                bigger.keys[h] = m->keys[i];
                bigger.ids[h] = m->ids[i];
                bigger.count++;
            }
        strmap_free(m);
        *m = bigger;
    }
    size_t h = (size_t)hp_hash64(key, strlen(key), 0) & (m->cap - 1);
    while (m->keys[h]) {
        if (!strcmp(m->keys[h], key)) return m->ids[h];
        h = (h + 1) & (m->cap - 1);
    }
    m->keys[h] = key;
    m->ids[h] = (int64_t)m->count++;
    return m->ids[h];
}

/* ---- turn records ---- */

static char *own(hp_adv_batch *b, const char *s) {
    if (b->n_owned == b->cap_owned) {
        b->cap_owned = b->cap_owned ? 2 * b->cap_owned : 256;
        b->owned = hp_xrealloc(b->owned, b->cap_owned * sizeof *b->owned);
    }
    return b->owned[b->n_owned++] = hp_xstrdup(s);
}

static int parse_line(hp_adv_batch *b, cJSON *obj, size_t line, strmap *trajs, strmap *groups,
                      hp_adv_turn *t, hp_err *err) {
    memset(t, 0, sizeof *t);
    t->valid = true;
    t->v_high = NAN;
    bool have_traj = false, have_turn = false;
    const char *group = "";
    for (cJSON *it = obj->child; it; it = it->next) {
        const char *k = it->string;
        if (!strcmp(k, "traj")) {
            if (!cJSON_IsString(it)) return hp_fail(err, "line %zu: key 'traj': expected a string", line);
            b->traj_name[b->n] = own(b, it->valuestring);
            t->traj = strmap_get(trajs, b->traj_name[b->n]);
            have_traj = true;
        } else if (!strcmp(k, "group")) {
            if (!cJSON_IsString(it)) return hp_fail(err, "line %zu: key 'group': expected a string", line);
            group = it->valuestring;
        } else if (!strcmp(k, "turn")) {
            double v = it->valuedouble;
            if (!cJSON_IsNumber(it) || v != floor(v) || v < 0 || v > 2147483647.0)
                return hp_fail(err, "line %zu: key 'turn': expected an integer >= 0", line);
            t->turn = (int32_t)v;
            have_turn = true;
        } else if (!strcmp(k, "done") || !strcmp(k, "valid")) {
            if (!cJSON_IsBool(it)) return hp_fail(err, "line %zu: key '%s': expected true or false", line, k);
            *(k[0] == 'd' ? &t->done : &t->valid) = cJSON_IsTrue(it);
        } else if (!strcmp(k, "switch") || !strcmp(k, "subgoal")) {
            const char **dst = k[1] == 'w' ? &t->switch_word : &t->subgoal;
            if (cJSON_IsNull(it)) *dst = NULL;
            else if (cJSON_IsString(it)) *dst = own(b, it->valuestring);
            else return hp_fail(err, "line %zu: key '%s': expected a string or null", line, k);
        } else if (!strcmp(k, "obs")) {
            if (!cJSON_IsString(it)) return hp_fail(err, "line %zu: key 'obs': expected a string", line);
            t->obs = own(b, it->valuestring);
        } else if (!strcmp(k, "reward") || !strcmp(k, "v_high") || !strcmp(k, "v_low") || !strcmp(k, "v_term")) {
            double *dst = k[0] == 'r' ? &t->reward : k[2] == 'h' ? &t->v_high : k[2] == 'l' ? &t->v_low : &t->v_term;
            if (cJSON_IsNull(it) && k[0] == 'v') *dst = NAN;
            else if (cJSON_IsNumber(it)) *dst = it->valuedouble;
            else return hp_fail(err, "line %zu: key '%s': expected a number", line, k);
        } else {
            return hp_fail(err, "line %zu: unknown key '%s'", line, k);
        }
    }
    if (!have_traj) return hp_fail(err, "line %zu: key 'traj' is missing", line);
    if (!have_turn) return hp_fail(err, "line %zu: key 'turn' is missing", line);
    t->group = strmap_get(groups, own(b, group));
    return HP_OK;
}

int hp_adv_batch_parse(const char *text, size_t len, hp_adv_batch *b, hp_err *err) {
    memset(b, 0, sizeof *b);
    strmap trajs, groups;
    strmap_init(&trajs);
    strmap_init(&groups);
    int rc = HP_OK;
    size_t line = 0, pos = 0;
    while (pos < len && rc == HP_OK) {
        size_t e = pos;
        while (e < len && text[e] != '\n') e++;
        line++;
        size_t s = pos;
        pos = e + 1;
        while (s < e && (text[s] == ' ' || text[s] == '\t' || text[s] == '\r')) s++;
        if (s == e) continue; /* blank line */
        const char *end = NULL;
        cJSON *obj = cJSON_ParseWithLengthOpts(text + s, e - s, &end, false);
        if (!obj || !cJSON_IsObject(obj)) {
            cJSON_Delete(obj);
            rc = hp_fail(err, "line %zu: not a JSON object", line);
            break;
        }
        for (const char *q = end; q && q < text + e; q++)
            if (*q != ' ' && *q != '\t' && *q != '\r') {
                rc = hp_fail(err, "line %zu: text after the JSON object", line);
                break;
            }
        if (rc == HP_OK) {
            if (b->n == b->cap) {
                b->cap = b->cap ? 2 * b->cap : 256;
                b->turns = hp_xrealloc(b->turns, b->cap * sizeof *b->turns);
                b->traj_name = hp_xrealloc(b->traj_name, b->cap * sizeof *b->traj_name);
                b->line = hp_xrealloc(b->line, b->cap * sizeof *b->line);
            }
            rc = parse_line(b, obj, line, &trajs, &groups, &b->turns[b->n], err);
            if (rc == HP_OK) b->line[b->n++] = line;
        }
        cJSON_Delete(obj);
    }
    strmap_free(&trajs);
    strmap_free(&groups);
    if (rc) hp_adv_batch_free(b);
    return rc;
}

void hp_adv_batch_free(hp_adv_batch *b) {
    for (size_t i = 0; i < b->n_owned; i++) free(b->owned[i]);
    free(b->owned);
    free(b->turns);
    free(b->traj_name);
    free(b->line);
    memset(b, 0, sizeof *b);
}

/* ---- configurations ---- */

typedef enum { K_NUM, K_BOOL, K_ENUM } key_kind;

typedef struct key_def {
    const char *name;
    key_kind kind;
    void *dst;              /* double*, bool*, int* */
    const char *const *enum_names; /* K_ENUM: names in value order, NULL-terminated */
} key_def;

static int parse_config(const char *json, const char *what, const key_def *keys, hp_err *err) {
    cJSON *obj = cJSON_Parse(json);
    if (!obj || !cJSON_IsObject(obj)) {
        cJSON_Delete(obj);
        return hp_fail(err, "%s config: not a JSON object", what);
    }
    int rc = HP_OK;
    for (cJSON *it = obj->child; it && rc == HP_OK; it = it->next) {
        const key_def *k = keys;
        while (k->name && strcmp(k->name, it->string)) k++;
        if (!k->name) {
            rc = hp_fail(err, "%s config: unknown key '%s'", what, it->string);
            break;
        }
        switch (k->kind) {
        case K_NUM:
            if (!cJSON_IsNumber(it)) rc = hp_fail(err, "%s config: key '%s': expected a number", what, k->name);
            else *(double *)k->dst = it->valuedouble;
            break;
        case K_BOOL:
            if (!cJSON_IsBool(it)) rc = hp_fail(err, "%s config: key '%s': expected true or false", what, k->name);
            else *(bool *)k->dst = cJSON_IsTrue(it);
            break;
        case K_ENUM: {
            int v = -1;
            if (cJSON_IsString(it))
                for (int j = 0; k->enum_names[j]; j++)
                    if (!strcmp(k->enum_names[j], it->valuestring)) v = j;
            if (v < 0) rc = hp_fail(err, "%s config: key '%s': expected %s or %s", what, k->name, k->enum_names[0], k->enum_names[1]);
            else *(int *)k->dst = v;
            break;
        }
        }
    }
    cJSON_Delete(obj);
    return rc;
}

static const char *const KEEP_MODES[] = {"normalized", "fixed", NULL};
static const char *const GIGPO_MODES[] = {"mean_norm", "mean_std_norm", NULL};

int hp_hae_config_parse(const char *json, hp_hae_config *c, hp_err *err) {
    int mode = (int)c->keep_penalty_mode;
    const key_def keys[] = {
        {"gamma", K_NUM, &c->gamma, NULL},
        {"lam_turn", K_NUM, &c->lam_turn, NULL},
        {"lam_seg", K_NUM, &c->lam_seg, NULL},
        {"keep_penalty", K_NUM, &c->keep_penalty, NULL},
        {"keep_penalty_mode", K_ENUM, &mode, KEEP_MODES},
        {"invalid_action_penalty_coef", K_NUM, &c->invalid_action_penalty_coef, NULL},
        {"keep_consistency_penalty", K_NUM, &c->keep_consistency_penalty, NULL},
        {"keep_consistency_requires_both", K_BOOL, &c->keep_consistency_requires_both, NULL},
        {"bootstrap_truncated", K_BOOL, &c->bootstrap_truncated, NULL},
        {"norm_adv", K_BOOL, &c->norm_adv, NULL},
        {"has_term", K_BOOL, &c->has_term, NULL},
        {NULL, K_NUM, NULL, NULL},
    };
    if (parse_config(json, "hae", keys, err)) return HP_FAIL;
    c->keep_penalty_mode = (hp_keep_penalty_mode)mode;
    return HP_OK;
}

int hp_group_config_parse(const char *json, hp_group_config *c, hp_err *err) {
    int mode = (int)c->mode;
    const key_def keys[] = {
        {"gamma", K_NUM, &c->gamma, NULL},
        {"step_advantage_w", K_NUM, &c->step_advantage_w, NULL},
        {"mode", K_ENUM, &mode, GIGPO_MODES},
        {"epsilon", K_NUM, &c->epsilon, NULL},
        {"use_invalid_action_penalty", K_BOOL, &c->use_invalid_action_penalty, NULL},
        {"invalid_action_penalty_coef", K_NUM, &c->invalid_action_penalty_coef, NULL},
        {"normalize_by_length", K_BOOL, &c->normalize_by_length, NULL},
        {"enable_similarity", K_BOOL, &c->enable_similarity, NULL},
        {"similarity_thresh", K_NUM, &c->similarity_thresh, NULL},
        {"norm_adv_by_std_in_grpo", K_BOOL, &c->norm_adv_by_std_in_grpo, NULL},
        {NULL, K_NUM, NULL, NULL},
    };
    if (parse_config(json, "group", keys, err)) return HP_FAIL;
    c->mode = (hp_gigpo_mode)mode;
    return HP_OK;
}

int hp_gae_config_parse(const char *json, hp_gae_config *c, hp_err *err) {
    const key_def keys[] = {
        {"gamma", K_NUM, &c->gamma, NULL},
        {"lam", K_NUM, &c->lam, NULL},
        {"norm_adv", K_BOOL, &c->norm_adv, NULL},
        {"use_invalid_action_penalty", K_BOOL, &c->use_invalid_action_penalty, NULL},
        {"invalid_action_penalty_coef", K_NUM, &c->invalid_action_penalty_coef, NULL},
        {NULL, K_NUM, NULL, NULL},
    };
    return parse_config(json, "gae", keys, err);
}
