/* Rendering a prompt through the chat template and tokenising it with the length limit (see
 * hiper/prompt.h). Kept apart from the templates so they can be tested without a tokenizer. */
#include "hiper/prompt.h"

#include <stdlib.h>
#include <string.h>

char *hp_prompt_render(const hp_prompt_cfg *cfg, const hp_memory *m, const hp_env_view *v) {
    char *user = hp_prompt_user_text(cfg, m, v);
    hp_chat_msg msgs[2];
    int n = 0;
    if (cfg->style == HP_STYLE_COMPACT) msgs[n++] = (hp_chat_msg){"system", "agent"};
    msgs[n++] = (hp_chat_msg){"user", user};
    char *r = hp_chat_render(msgs, n, true);
    free(user);
    return r;
}

int hp_prompt_encode(const hp_prompt_cfg *cfg, const hp_tok *tok, const char *rendered, hp_ids *ids,
                     bool *truncated, hp_err *err) {
    hp_ids_clear(ids);
    if (truncated) *truncated = false;
    if (hp_tok_encode(tok, rendered, strlen(rendered), ids, err)) return hp_err_wrap(err, "encoding the prompt");
    if (cfg->max_prompt_tokens <= 0 || ids->len <= (size_t)cfg->max_prompt_tokens) return HP_OK;
    if (!cfg->truncate_prompt)
        return hp_fail(err, "prompt of %zu tokens exceeds max_prompt_tokens = %d (set prompt truncation to cut it)",
                       ids->len, cfg->max_prompt_tokens);
    /* keep the end (the current state and the generation prompt): drop the oldest tokens */
    size_t drop = ids->len - (size_t)cfg->max_prompt_tokens;
    memmove(ids->data, ids->data + drop, (size_t)cfg->max_prompt_tokens * sizeof *ids->data);
    ids->len = (size_t)cfg->max_prompt_tokens;
    if (truncated) *truncated = true;
    return HP_OK;
}


int hp_prompt_build(const hp_prompt_cfg *cfg, const hp_tok *tok, const hp_memory *m, const hp_env_view *v, char **text,
                    hp_ids *ids, bool *truncated, hp_err *err) {
    *text = hp_prompt_render(cfg, m, v);
    *truncated = false;
    if (!cfg->truncate_prompt || cfg->max_prompt_tokens <= 0) return hp_prompt_encode(cfg, tok, *text, ids, truncated, err);
    /* over the limit: show fewer remembered steps first, then cut the oldest tokens */
    hp_prompt_cfg c = *cfg;
    c.truncate_prompt = false;
    for (;;) {
        hp_err probe = {{0}};
        if (hp_prompt_encode(&c, tok, *text, ids, NULL, &probe) == HP_OK) return HP_OK;
        if (ids->len <= (size_t)c.max_prompt_tokens) return hp_fail(err, "%s", probe.msg); /* not a length error */
        *truncated = true;
        int shown = m->n_steps < c.history_length ? m->n_steps : c.history_length;
        if (shown <= 0) break;
        c.history_length = shown - 1;
        free(*text);
        *text = hp_prompt_render(&c, m, v);
    }
    return hp_prompt_encode(cfg, tok, *text, ids, truncated, err);
}
