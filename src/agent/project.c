/* The environment-side projection of a response: executed action, recorded switch/subgoal, validity
 * (see hiper/project.h and spec hiper.md §3.1). */
#include "hiper/project.h"

#include "text.h"

#include <stdlib.h>
#include <string.h>

bool hp_has_cjk(const char *s) {
    const unsigned char *p = (const unsigned char *)s;
    while (*p) {
        /* U+4E00..U+9FFF are the 3-byte sequences E4 B8 80 .. E9 BF BF */
        if ((p[0] & 0xF0) == 0xE0 && p[1] && p[2]) {
            uint32_t cp = ((uint32_t)(p[0] & 0x0F) << 12) | ((uint32_t)(p[1] & 0x3F) << 6) | (p[2] & 0x3F);
            if (cp >= 0x4E00 && cp <= 0x9FFF) return true;
            p += 3;
            continue;
        }
        p++;
    }
    return false;
}

/* Text between the first `open` and the first `close` (each searched from the start), stripped; an
 * empty string when close comes first. NULL when a tag is missing. */
static char *between(const char *text, const char *open, const char *close) {
    const char *a = strstr(text, open), *b = strstr(text, close);
    if (!a || !b) return NULL;
    a += strlen(open);
    if (b < a) return hp_xstrdup("");
    return hp_text_strip_n(a, (size_t)(b - a));
}

static size_t fallback_chars(hp_env_family family) { return family == HP_FAM_WEBSHOP ? 20 : 30; }

/* HiPER: the switch and subgoal checks (spec §3.1 steps 2 and 3). */
static void project_hiper(hp_env_family family, const char *response, hp_proj *out) {
    char *word = between(response, "<switch>", "</switch>");
    if (!word) {
        out->valid = false;
        if (family == HP_FAM_WEBSHOP) hp_text_set(&out->subgoal, "None");
        else {
            free(out->subgoal);
            out->subgoal = hp_text_last_chars(out->action, 30);
        }
        return;
    }
    char *up = hp_text_upper(word);
    free(word);
    if (strcmp(up, "SWITCH") != 0 && strcmp(up, "KEEP") != 0) {
        out->valid = false;
        hp_text_set(&out->switch_word, family == HP_FAM_WEBSHOP ? "KEEP" : "");
        free(up);
        return;
    }
    free(out->switch_word);
    out->switch_word = up;
    char *sub = between(response, "<subgoal>", "</subgoal>");
    if (!sub) {
        out->valid = false;
        return;
    }
    free(out->subgoal);
    out->subgoal = sub;
}

void hp_project(hp_fmt fmt, hp_env_family family, const char *response, hp_proj *out) {
    memset(out, 0, sizeof *out);
    out->switch_word = hp_xstrdup("");
    out->subgoal = hp_xstrdup("");
    if (!response) response = "";
    char *lower = hp_text_lower(response);
    char *action = between(lower, "<action>", "</action>");
    out->has_cjk = hp_has_cjk(response);
    if (!action) {
        out->action = hp_text_last_chars(lower, fallback_chars(family));
        out->valid = false;
        free(lower);
        return;
    }
    free(lower);
    out->action = action;
    out->valid = true;
    if (fmt == HP_FMT_HIPER) project_hiper(family, response, out);
    else if (fmt == HP_FMT_THINK) {
        if (!strstr(response, "<think>") || !strstr(response, "</think>")) out->valid = false;
    }
    if (out->has_cjk) out->valid = false;
}

void hp_proj_free(hp_proj *p) {
    if (!p) return;
    free(p->action);
    free(p->switch_word);
    free(p->subgoal);
    memset(p, 0, sizeof *p);
}

const char *hp_proj_next_subgoal(const hp_proj *p, const char *previous, bool keep_holds) {
    if (keep_holds && !strcmp(p->switch_word, "KEEP") && previous) return previous;
    return p->subgoal;
}
