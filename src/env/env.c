/* The table of environment kinds, the factory and the batched step helper (see hiper/env.h). Adding a
 * kind: its entry in KINDS below and its name in HP_ENV_KIND_NAMES (docs/architecture.md). */
#include "hiper/env.h"

#include "hiper/alfworld.h"
#include "hiper/external.h"
#include "hiper/webshop.h"

#include <string.h>

/* ---- the built-in experts behind the hp_expert interface ----------------------------------------- */

static int alf_next(void *self, const hp_env *env, hp_buf *action, hp_buf *subgoal, hp_err *err) {
    const char *a, *s;
    if (hp_alfworld_expert_act(self, env, &a, &s, err)) return HP_FAIL;
    hp_buf_clear(action);
    hp_buf_puts(action, a);
    hp_buf_clear(subgoal);
    hp_buf_puts(subgoal, s);
    return HP_OK;
}
static void alf_free(void *self) { hp_alfworld_expert_free(self); }
static int alf_expert(hp_expert *out, hp_err *err) {
    (void)err;
    *out = (hp_expert){hp_alfworld_expert_create(), alf_next, alf_free};
    return HP_OK;
}

static int ws_next(void *self, const hp_env *env, hp_buf *action, hp_buf *subgoal, hp_err *err) {
    const char *a, *s;
    if (hp_webshop_expert_act(self, env, &a, &s, err)) return HP_FAIL;
    hp_buf_clear(action);
    hp_buf_puts(action, a);
    hp_buf_clear(subgoal);
    hp_buf_puts(subgoal, s);
    return HP_OK;
}
static void ws_free(void *self) { hp_webshop_expert_free(self); }
static int ws_expert(hp_expert *out, hp_err *err) {
    hp_webshop_expert *x = hp_webshop_expert_create(err);
    if (!x) return hp_err_wrap(err, "webshop expert");
    *out = (hp_expert){x, ws_next, ws_free};
    return HP_OK;
}

static int ws_stats(FILE *out, const char *split, const cJSON *options, hp_err *err) {
    (void)split; /* the catalog and goal statistics cover every split */
    return hp_webshop_stats(out, options, err);
}

/* ---- the table ----------------------------------------------------------------------------------- */

static const char *const ALFWORLD_SPLITS[] = {"train", "valid_seen", "valid_unseen", NULL};
static const char *const WEBSHOP_SPLITS[] = {"test", "eval", "train", NULL};

static const hp_env_kind KINDS[] = {
    {.name = "alfworld",
     .family = HP_FAM_ALFWORLD,
     .open = hp_alfworld_open,
     .expert_open = alf_expert,
     .print_stats = hp_alfworld_print_stats,
     .splits = ALFWORLD_SPLITS,
     .val_split = "valid_seen",
     .test_split = "valid_unseen",
     .max_steps = 50},
    {.name = "webshop",
     .family = HP_FAM_WEBSHOP,
     .open = hp_webshop_open,
     .expert_open = ws_expert,
     .print_stats = ws_stats,
     .splits = WEBSHOP_SPLITS,
     .val_split = "test",
     .test_split = "",
     .max_steps = 15},
    /* A served environment: its text is that of the kind its server names (hp_env_family_get); the split
     * defaults are a served ALFWorld's. */
    {.name = "external",
     .family = HP_FAM_OTHER,
     .served = true,
     .open = hp_external_open,
     .open_many = hp_external_open_many,
     .val_split = "valid_seen",
     .test_split = "valid_unseen",
     .max_steps = 50},
};
enum { N_KINDS = (int)(sizeof KINDS / sizeof KINDS[0]) };

const hp_env_kind *hp_env_kind_find(const char *name) {
    for (int i = 0; name && i < N_KINDS; i++)
        if (!strcmp(KINDS[i].name, name)) return &KINDS[i];
    return NULL;
}

const hp_env_kind *hp_env_kind_at(int i) { return i >= 0 && i < N_KINDS ? &KINDS[i] : NULL; }

const char *hp_env_kind_names(char *buf, size_t cap, const char *last, bool (*has)(const hp_env_kind *)) {
    const char *names[N_KINDS];
    int n = 0;
    for (int i = 0; i < N_KINDS; i++)
        if (!has || has(&KINDS[i])) names[n++] = KINDS[i].name;
    size_t len = 0;
    if (cap) buf[0] = '\0';
    for (int i = 0; i < n && len < cap; i++) {
        int w = snprintf(buf + len, cap - len, "%s%s", i == 0 ? "" : i + 1 < n ? ", " : last, names[i]);
        if (w < 0) break;
        len += (size_t)w;
    }
    return buf;
}

hp_env_family hp_env_family_of(const char *env_kind) {
    const hp_env_kind *k = hp_env_kind_find(env_kind);
    return k ? k->family : HP_FAM_OTHER;
}

/* ---- environments -------------------------------------------------------------------------------- */

static int unknown_kind(const char *kind, hp_err *err) {
    char names[128];
    return hp_fail(err, "unknown environment '%s' (expected %s)", kind, hp_env_kind_names(names, sizeof names, " or ", NULL));
}

hp_env *hp_env_open(const char *kind, const cJSON *options, hp_err *err) {
    const hp_env_kind *k = hp_env_kind_find(kind);
    if (!k) {
        unknown_kind(kind, err);
        return NULL;
    }
    return k->open(options, err);
}

int hp_env_open_many(const char *kind, const cJSON *options, int n, hp_env **out, hp_err *err) {
    if (n <= 0) return HP_OK;
    const hp_env_kind *k = hp_env_kind_find(kind);
    if (!k) return unknown_kind(kind, err);
    if (k->open_many) return k->open_many(options, n, out, err);
    if (!(out[0] = k->open(options, err))) return HP_FAIL;
    for (int i = 1; i < n; i++) {
        if ((out[i] = hp_env_clone(out[0], err))) continue;
        for (int j = 0; j < i; j++) hp_env_free(out[j]);
        return hp_err_wrap(err, "%s: cloning environment %d", kind, i);
    }
    return HP_OK;
}

hp_env_family hp_env_family_get(const hp_env *env) {
    return hp_env_family_of(env->ops->speaks ? env->ops->speaks(env) : env->ops->name);
}

bool hp_env_get_stats(const hp_env *env, hp_env_stats *out) {
    memset(out, 0, sizeof *out);
    return env && env->ops->stats && env->ops->stats(env, out);
}

int hp_env_step_batch(hp_env **envs, int n, const char *const *actions, hp_err *err) {
    if (n <= 0) return HP_OK;
    const hp_env_ops *ops = envs[0]->ops;
    bool same = ops->step_many != NULL;
    for (int i = 1; same && i < n; i++) same = envs[i]->ops == ops;
    if (same) return ops->step_many(envs, n, actions, err);
    for (int i = 0; i < n; i++)
        if (hp_env_step(envs[i], actions[i], err)) return hp_err_wrap(err, "environment %d", i);
    return HP_OK;
}

/* ---- experts ------------------------------------------------------------------------------------- */

static bool has_expert(const hp_env_kind *k) { return k->expert_open != NULL; }

int hp_expert_open(const char *env_kind, hp_expert *out, hp_err *err) {
    memset(out, 0, sizeof *out);
    const hp_env_kind *k = hp_env_kind_find(env_kind);
    if (k && k->expert_open) return k->expert_open(out, err);
    char names[128];
    return hp_fail(err, "no built-in expert for environment '%s' (only %s have one)", env_kind,
                   hp_env_kind_names(names, sizeof names, " and ", has_expert));
}

void hp_expert_close(hp_expert *e) {
    if (e && e->free && e->self) e->free(e->self);
    if (e) memset(e, 0, sizeof *e);
}
