/* Environment factory and the batched step helper (see hiper/env.h). */
#include "hiper/env.h"

#include "hiper/alfworld.h"
#include "hiper/external.h"
#include "hiper/webshop.h"

#include <string.h>

hp_env *hp_env_open(const char *kind, const cJSON *options, hp_err *err) {
    if (!strcmp(kind, "alfworld")) return hp_alfworld_open(options, err);
    if (!strcmp(kind, "webshop")) return hp_webshop_open(options, err);
    if (!strcmp(kind, "external")) return hp_external_open(options, err);
    hp_fail(err, "unknown environment '%s' (expected alfworld, webshop or external)", kind);
    return NULL;
}

int hp_env_open_many(const char *kind, const cJSON *options, int n, hp_env **out, hp_err *err) {
    if (n <= 0) return HP_OK;
    if (!strcmp(kind, "external")) return hp_external_open_many(options, n, out, err);
    if (!(out[0] = hp_env_open(kind, options, err))) return HP_FAIL;
    for (int i = 1; i < n; i++) {
        if ((out[i] = hp_env_clone(out[0], err))) continue;
        for (int j = 0; j < i; j++) hp_env_free(out[j]);
        return hp_err_wrap(err, "%s: cloning environment %d", kind, i);
    }
    return HP_OK;
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
