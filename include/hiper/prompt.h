/* hiper/prompt.h — the per-turn prompt of an LLM agent: episode memory (task, last observations and
 * projected actions, current subgoal) and the templates that turn it into one chat user message.
 *
 * Contract (after HiPER's Plan–Execute prompts and verl-agent's ALFWorld and WebShop prompts;
 * docs/agent.md):
 * - Every turn is a fresh single-turn chat: one user message holding the whole prompt, rendered with
 *   hp_chat_render and the generation prompt. History exists only as text inside that message.
 * - Output formats: HP_FMT_HIPER (the three blocks <switch>, <subgoal>, <action>), HP_FMT_THINK
 *   (<think>…</think><action>…</action>, the verl-agent baselines) and HP_FMT_ACTION (<action>…</action>
 *   only, the "nothink" baselines).
 * - Styles: HP_STYLE_UPSTREAM follows the upstream template structure (first-turn and history
 *   variants, block order, headings, quoting, brackets, U+2011 in WebShop's role line, leading and
 *   trailing newline); HP_STYLE_COMPACT carries the same information (task, current subgoal, last
 *   history_length (obs, action) pairs, current observation, admissible list) in a few lines for small
 *   models with a small vocabulary, and uses a one-word system message.
 * - The memory keeps the observation as shown to the model (WebShop: the quoted [SEP] pieces after the
 *   instruction), the projected action of each step, and the current subgoal ("None" at the start).
 * - Length limits: a prompt longer than max_prompt_tokens is an error naming the length and limit
 *   (rollouts add the environment and step), unless truncate_prompt is set: then hp_prompt_build
 *   drops remembered steps, then the oldest tokens, and reports it (counted by rollouts).
 */
#ifndef HIPER_PROMPT_H
#define HIPER_PROMPT_H

#include "hiper/base.h"
#include "hiper/env.h"
#include "hiper/tok.h"

/* What the model is asked to emit every turn. */
typedef enum hp_fmt {
    HP_FMT_HIPER = 0,  /* <switch>KEEP|SWITCH</switch> <subgoal>…</subgoal> <action>…</action> */
    HP_FMT_THINK = 1,  /* <think>…</think><action>…</action> */
    HP_FMT_ACTION = 2, /* <action>…</action> */
} hp_fmt;

typedef enum hp_prompt_style {
    HP_STYLE_UPSTREAM = 0, /* the upstream templates' structure */
    HP_STYLE_COMPACT = 1,  /* same information, far fewer tokens */
} hp_prompt_style;

/* The environment family a prompt is written for (templates and projection differ): hp_env_family
 * in hiper/env.h, from an environment kind's descriptor or an open environment (hp_env_family_get). */

/* Parse "hiper" | "think" | "action" (also "nothink"); returns HP_FAIL with a message otherwise. */
int hp_fmt_parse(const char *s, hp_fmt *out, hp_err *err);
const char *hp_fmt_name(hp_fmt f);
int hp_prompt_style_parse(const char *s, hp_prompt_style *out, hp_err *err);

typedef struct hp_prompt_cfg {
    hp_fmt fmt;
    hp_prompt_style style;
    hp_env_family family;
    int history_length;        /* remembered steps shown (2) */
    int max_prompt_tokens;     /* 2048 */
    int max_response_tokens;   /* 512 */
    bool truncate_prompt;      /* false: overlong prompt is an error; true: cut and report */
    size_t history_char_limit; /* WebShop: history prompt above this many chars → no-history template (13000) */
    bool constrain_actions;    /* sample <action> text among the admissible commands (hiper/constrain.h); false */
    bool constrain_format;     /* with constrain_actions: the text before the action too (hp_response_shape); false */
} hp_prompt_cfg;

/* Defaults of the released scripts for this format and family (upstream style). */
hp_prompt_cfg hp_prompt_cfg_default(hp_fmt fmt, hp_env_family family);

/* One remembered step: the observation shown before the step and the projected action. */
typedef struct hp_mem_step {
    char *obs;
    char *action;
} hp_mem_step;

/* Everything a prompt needs besides the current view. Zero-initialise, then hp_memory_reset. */
typedef struct hp_memory {
    hp_env_family family;
    char *task;         /* task text taken from the first observation (or the env's task) */
    char *obs;          /* current observation as shown to the model */
    char *subgoal;      /* current subgoal ("None" at the start) */
    hp_mem_step *steps; /* all steps of the episode, oldest first */
    int n_steps, cap;
} hp_memory;

/* Start an episode from the view after reset: extracts the task and formats the first observation. */
void hp_memory_reset(hp_memory *m, hp_env_family family, const hp_env_view *first);
/* Record a taken step (the projected action) and the new view's observation. */
void hp_memory_push(hp_memory *m, const char *action, const hp_env_view *next);
/* Set the current subgoal (the one the projection recorded). */
void hp_memory_set_subgoal(hp_memory *m, const char *subgoal);
void hp_memory_free(hp_memory *m);

/* The observation as the model sees it (WebShop: pieces after the instruction, single-quoted, joined by
 * " [SEP] "; the raw text when no piece equals the instruction; others unchanged). Newly allocated. */
char *hp_prompt_format_obs(hp_env_family family, const char *raw, const char *instruction);
/* The task from a first observation: ALFWorld: text after the first "Your task is to: ", stripped;
 * WebShop: piece 2 of the " [SEP] " split. NULL when not found. Newly allocated. */
char *hp_prompt_extract_task(hp_env_family family, const char *first_obs);

/* The user message (template filled in) for the current state. Newly allocated. */
char *hp_prompt_user_text(const hp_prompt_cfg *cfg, const hp_memory *m, const hp_env_view *v);
/* The full chat text: hp_chat_render of the user message (compact style: with a one-word system
 * message) plus the generation prompt. Newly allocated. */
char *hp_prompt_render(const hp_prompt_cfg *cfg, const hp_memory *m, const hp_env_view *v);

/* Tokenise a rendered prompt into ids (appended after clearing). Enforces max_prompt_tokens:
 * an error, or with truncate_prompt a left-truncation that sets *truncated. */
int hp_prompt_encode(const hp_prompt_cfg *cfg, const hp_tok *tok, const char *rendered, hp_ids *ids,
                     bool *truncated, hp_err *err);

/* Render and tokenise the prompt of the current state (what rollouts use). When the prompt is over
 * max_prompt_tokens: an error without truncate_prompt; with it, the prompt is re-rendered with fewer
 * remembered steps until it fits, and only then are the oldest tokens cut; *truncated reports either.
 * *text receives the rendered prompt actually used (newly allocated). */
int hp_prompt_build(const hp_prompt_cfg *cfg, const hp_tok *tok, const hp_memory *m, const hp_env_view *v, char **text,
                    hp_ids *ids, bool *truncated, hp_err *err);

/* The response an ideal agent would write for (switch, subgoal, action) in this format; switch and
 * subgoal are ignored by the flat formats, `think` only by HP_FMT_THINK. Newly allocated. */
char *hp_prompt_response(hp_fmt fmt, bool do_switch, const char *subgoal, const char *think,
                         const char *action);

/* The prompt settings a model was trained with, kept next to its weights as DIR/agent.json
 * ({"format", "prompt_style", "env", "history_length", "max_prompt_length", "max_response_length",
 * "truncation"}), so that evaluation renders prompts the way training did. */
int hp_prompt_cfg_save(const hp_prompt_cfg *cfg, const char *env_kind, const char *dir, hp_err *err);
/* Read DIR/agent.json into cfg (keys absent from the file keep cfg's values); *found = false and HP_OK
 * when the file does not exist. Unknown keys and bad values are errors naming the file and key. */
int hp_prompt_cfg_load(const char *dir, hp_prompt_cfg *cfg, bool *found, hp_err *err);

#endif /* HIPER_PROMPT_H */
