/* hiper/project.h — the environment-side projection: from a decoded response to the executed action,
 * the recorded switch and subgoal, and the format-validity flag, as the projection functions of HiPER's
 * and verl-agent's released code (ALFWorld and WebShop) do it.
 *
 * Contract:
 * - Action: the whole response is lower-cased (ASCII) and the text between the first "<action>" and
 *   the first "</action>" (searched independently) is stripped and executed; if a tag is missing the
 *   last 30 (ALFWorld/other) or 20 (WebShop) characters (code points) of the lower-cased response are
 *   executed and the turn is invalid; the other checks are then skipped (recorded
 *   switch and subgoal stay "").
 * - HiPER: "<switch>"/"</switch>" and "<subgoal>"/"</subgoal>" are searched case-sensitively from the
 *   start. Missing switch tags → invalid, switch "", subgoal = last 30 characters of the action (ALFWorld) or
 *   "None" (WebShop). Switch word (stripped, upper-cased) not KEEP/SWITCH → invalid, switch "KEEP"
 *   (WebShop) or "" (ALFWorld), subgoal "". Missing subgoal tags → invalid, subgoal "". Otherwise the
 *   subgoal is the stripped text between the tags, case preserved.
 * - Think: valid iff both action tags and both "<think>"/"</think>" tags exist (case-sensitive).
 * - Action-only: valid iff both action tags exist.
 * - Any code point U+4E00..U+9FFF anywhere makes the turn invalid.
 * - Admissibility is never checked here.
 */
#ifndef HIPER_PROJECT_H
#define HIPER_PROJECT_H

#include "hiper/prompt.h"

typedef struct hp_proj {
    char *action;      /* what the environment executes */
    char *switch_word; /* recorded switch: "", "KEEP" or "SWITCH" (HiPER only) */
    char *subgoal;     /* recorded subgoal (HiPER only; "" otherwise) */
    bool valid;        /* format validity */
    bool has_cjk;
} hp_proj;

/* Project one response. Never fails; out must be freed with hp_proj_free. */
void hp_project(hp_fmt fmt, hp_env_family family, const char *response, hp_proj *out);
void hp_proj_free(hp_proj *p);

/* The subgoal the next prompt shows after this turn. Faithful (keep_holds == false): the recorded
 * subgoal, whatever it is. keep_holds == true: on a recorded KEEP the previous subgoal stays. */
const char *hp_proj_next_subgoal(const hp_proj *p, const char *previous, bool keep_holds);

/* True if the UTF-8 text holds a code point in U+4E00..U+9FFF. */
bool hp_has_cjk(const char *s);

#endif /* HIPER_PROJECT_H */
