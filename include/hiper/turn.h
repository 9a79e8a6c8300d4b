/* hiper/turn.h — one agent turn, the same for rollouts and for expert demonstrations.
 *
 * Contract (docs/agent.md, "Data flow of one turn"): hp_turn_play runs, for n agents at once,
 *   render → respond → project → strip → step → memory
 * - Render: each agent's prompt from its memory and its environment's current view: with a tokenizer,
 *   hp_prompt_build (tokens, the length limit, truncation as the prompt config says); without one
 *   (demonstrations, which are played before a tokenizer exists), hp_prompt_render, text only.
 * - Respond: the caller's respond() sets every agent's response text: a rollout generates all of them in
 *   one batched policy call, a demonstration writes the expert's ideal response. It sees the state the
 *   prompt shows (neither the environment nor the memory has moved yet).
 * - Project: hp_project with the prompt config's format and family; the executed command is the projected
 *   action stripped of ASCII whitespace (the memory and the records keep it unstripped, as upstream).
 * - Step: every agent's command in one hp_env_step_batch call (their environments of one kind).
 * - Memory: for the HiPER format the next prompt's subgoal is hp_proj_next_subgoal(projection, current
 *   subgoal, keep_holds_subgoal) (the recorded subgoal; with keep_holds_subgoal a recorded KEEP keeps the
 *   current one); then the step (projected action, new observation) is pushed.
 * - Errors: a prompt over the limit names the agent (its name, else "agent k") and the turn; a failed step
 *   says "stepping turn t"; respond()'s own error is passed on as it is. The caller adds its context.
 */
#ifndef HIPER_TURN_H
#define HIPER_TURN_H

#include "hiper/project.h"
#include "hiper/prompt.h"

/* One agent's part in a turn. The caller sets env, mem (and name); hp_turn_play fills the rest, which
 * hp_turn_agent_clear frees (a caller may take prompt or prompt_ids, leaving NULL / an empty hp_ids). */
typedef struct hp_turn_agent {
    hp_env *env;
    hp_memory *mem;
    const char *name;      /* for error messages, e.g. "environment 3 (train[12])"; NULL: "agent k" */
    char *prompt;          /* the rendered prompt */
    hp_ids prompt_ids;     /* its tokens (only with a tokenizer) */
    bool prompt_truncated; /* hp_prompt_build cut it to the limit */
    const char *response;  /* set by respond(); owned by the caller, read until hp_turn_play returns */
    hp_proj proj;          /* the response's projection */
    char *exec;            /* the command executed: proj.action stripped */
} hp_turn_agent;

/* Set agents[k].response for k < n from what agents[k] shows (prompt, env, mem). */
typedef int (*hp_turn_respond_fn)(void *ctx, hp_turn_agent *agents, int n, hp_err *err);

typedef struct hp_turn_cfg {
    const hp_prompt_cfg *prompt;
    const hp_tok *tok;       /* NULL: prompts are rendered as text only, with no length limit */
    bool keep_holds_subgoal; /* see hp_proj_next_subgoal; false = faithful */
    hp_turn_respond_fn respond;
    void *ctx;               /* respond's first argument */
} hp_turn_cfg;

/* Play turn t (0-based; for messages) of n agents as the contract says. *step_seconds (may be NULL)
 * gains the wall time of the batched environment step. On failure no memory has changed; the agents
 * still need hp_turn_agent_clear. */
int hp_turn_play(const hp_turn_cfg *cfg, int t, hp_turn_agent *agents, int n, double *step_seconds, hp_err *err);
void hp_turn_agent_clear(hp_turn_agent *a);

#endif /* HIPER_TURN_H */
