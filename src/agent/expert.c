/* The built-in experts (ALFWorld, WebShop) behind the hp_expert interface (see hiper/sft.h). */
#include "hiper/alfworld.h"
#include "hiper/sft.h"
#include "hiper/webshop.h"

#include <string.h>

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

int hp_expert_open(const char *env_kind, hp_expert *out, hp_err *err) {
    memset(out, 0, sizeof *out);
    if (!strcmp(env_kind, "alfworld")) {
        *out = (hp_expert){hp_alfworld_expert_create(), alf_next, alf_free};
        return HP_OK;
    }
    if (!strcmp(env_kind, "webshop")) {
        hp_webshop_expert *x = hp_webshop_expert_create(err);
        if (!x) return hp_err_wrap(err, "webshop expert");
        *out = (hp_expert){x, ws_next, ws_free};
        return HP_OK;
    }
    return hp_fail(err, "no built-in expert for environment '%s' (only alfworld and webshop have one)", env_kind);
}

void hp_expert_close(hp_expert *e) {
    if (e && e->free && e->self) e->free(e->self);
    if (e) memset(e, 0, sizeof *e);
}
