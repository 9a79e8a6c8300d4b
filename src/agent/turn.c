/* One agent turn, shared by rollouts and demonstrations: render → respond → project → strip → step →
 * memory (see hiper/turn.h). */
#include "hiper/turn.h"

#include "text.h"

#include <stdlib.h>
#include <string.h>

void hp_turn_agent_clear(hp_turn_agent *a) {
    if (!a) return;
    free(a->prompt);
    hp_ids_free(&a->prompt_ids);
    hp_proj_free(&a->proj);
    free(a->exec);
    a->prompt = NULL;
    a->prompt_truncated = false;
    a->response = NULL;
    a->exec = NULL;
}

static int render(const hp_turn_cfg *cfg, int t, int k, hp_turn_agent *a, hp_err *err) {
    const hp_env_view *v = hp_env_get_view(a->env);
    if (!cfg->tok) {
        a->prompt = hp_prompt_render(cfg->prompt, a->mem, v);
        return HP_OK;
    }
    if (hp_prompt_build(cfg->prompt, cfg->tok, a->mem, v, &a->prompt, &a->prompt_ids, &a->prompt_truncated, err)) {
        if (a->name) return hp_err_wrap(err, "%s turn %d", a->name, t);
        return hp_err_wrap(err, "agent %d turn %d", k, t);
    }
    return HP_OK;
}

int hp_turn_play(const hp_turn_cfg *cfg, int t, hp_turn_agent *agents, int n, double *step_seconds, hp_err *err) {
    if (n <= 0) return HP_OK;
    for (int k = 0; k < n; k++)
        if (render(cfg, t, k, &agents[k], err)) return HP_FAIL;
    for (int k = 0; k < n; k++) agents[k].response = NULL;
    if (cfg->respond(cfg->ctx, agents, n, err)) return HP_FAIL;
    hp_env **envs = hp_xmalloc((size_t)n * sizeof *envs);
    const char **cmds = hp_xmalloc((size_t)n * sizeof *cmds);
    for (int k = 0; k < n; k++) {
        hp_turn_agent *a = &agents[k];
        hp_project(cfg->prompt->fmt, cfg->prompt->family, a->response, &a->proj);
        a->exec = hp_text_strip_n(a->proj.action, strlen(a->proj.action));
        envs[k] = a->env;
        cmds[k] = a->exec;
    }
    double t0 = hp_now();
    int rc = hp_env_step_batch(envs, n, cmds, err);
    if (step_seconds) *step_seconds += hp_now() - t0;
    free(envs);
    free(cmds);
    if (rc) return hp_err_wrap(err, "stepping turn %d", t);
    for (int k = 0; k < n; k++) {
        hp_turn_agent *a = &agents[k];
        if (cfg->prompt->fmt == HP_FMT_HIPER)
            hp_memory_set_subgoal(a->mem, hp_proj_next_subgoal(&a->proj, a->mem->subgoal, cfg->keep_holds_subgoal));
        hp_memory_push(a->mem, a->proj.action, hp_env_get_view(a->env));
    }
    return HP_OK;
}
