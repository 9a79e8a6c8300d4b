/* Episode memory that feeds the prompt: task, observations as shown, projected actions, current
 * subgoal (see hiper/prompt.h). */
#include "hiper/prompt.h"

#include "text.h"

#include <stdlib.h>
#include <string.h>

#define SEP " [SEP] "
#define TASK_MARK "Your task is to: "

char *hp_prompt_extract_task(hp_env_family family, const char *first_obs) {
    if (!first_obs) return NULL;
    if (family == HP_FAM_WEBSHOP) {
        /* piece 2 (0-based) of the " [SEP] " split: the one after "Instruction:" */
        const char *p = first_obs;
        for (int i = 0; i < 2; i++) {
            p = strstr(p, SEP);
            if (!p) return NULL;
            p += strlen(SEP);
        }
        const char *end = strstr(p, SEP);
        return hp_xstrndup(p, end ? (size_t)(end - p) : strlen(p));
    }
    const char *p = strstr(first_obs, TASK_MARK);
    if (!p) return NULL;
    p += strlen(TASK_MARK);
    return hp_text_strip_n(p, strlen(p));
}

char *hp_prompt_format_obs(hp_env_family family, const char *raw, const char *instruction) {
    if (!raw) return hp_xstrdup("");
    if (family != HP_FAM_WEBSHOP || !instruction || !*instruction) return hp_xstrdup(raw);
    /* find the first piece equal to the instruction; everything after it is quoted and re-joined */
    size_t ilen = strlen(instruction), seplen = strlen(SEP);
    const char *piece = raw, *after = NULL;
    bool found = false;
    for (;;) {
        const char *end = strstr(piece, SEP);
        size_t len = end ? (size_t)(end - piece) : strlen(piece);
        if (len == ilen && !memcmp(piece, instruction, ilen)) {
            found = true;
            after = end ? end + seplen : NULL; /* NULL: the instruction is the last piece */
            break;
        }
        if (!end) break;
        piece = end + seplen;
    }
    if (!found) return hp_xstrdup(raw);
    hp_buf b = {0};
    if (!after) return hp_buf_take(&b);
    const char *p = after;
    for (bool first = true;; first = false) {
        const char *end = strstr(p, SEP);
        size_t len = end ? (size_t)(end - p) : strlen(p);
        if (!first) hp_buf_puts(&b, SEP);
        hp_buf_putc(&b, '\'');
        hp_buf_append(&b, p, len);
        hp_buf_putc(&b, '\'');
        if (!end) break;
        p = end + seplen;
    }
    return hp_buf_take(&b);
}

void hp_memory_reset(hp_memory *m, hp_env_family family, const hp_env_view *first) {
    hp_memory_free(m);
    m->family = family;
    char *task = NULL;
    if (family == HP_FAM_WEBSHOP && first->task && *first->task) task = hp_xstrdup(first->task);
    if (!task) task = hp_prompt_extract_task(family, first->observation);
    if (!task) task = hp_xstrdup(first->task ? first->task : "");
    m->task = task;
    m->obs = hp_prompt_format_obs(family, first->observation, m->task);
    m->subgoal = hp_xstrdup("None");
}

void hp_memory_push(hp_memory *m, const char *action, const hp_env_view *next) {
    if (m->n_steps == m->cap) {
        m->cap = m->cap ? 2 * m->cap : 16;
        m->steps = hp_xrealloc(m->steps, (size_t)m->cap * sizeof *m->steps);
    }
    m->steps[m->n_steps].obs = m->obs;
    m->steps[m->n_steps].action = hp_xstrdup(action ? action : "");
    m->n_steps++;
    m->obs = hp_prompt_format_obs(m->family, next->observation, m->task);
}

void hp_memory_set_subgoal(hp_memory *m, const char *subgoal) { hp_text_set(&m->subgoal, subgoal); }

void hp_memory_free(hp_memory *m) {
    for (int i = 0; i < m->n_steps; i++) {
        free(m->steps[i].obs);
        free(m->steps[i].action);
    }
    free(m->steps);
    free(m->task);
    free(m->obs);
    free(m->subgoal);
    memset(m, 0, sizeof *m);
}
