/* text.h — small string helpers private to the agent module (candidates for base if others need them). */
#ifndef HP_AGENT_TEXT_H
#define HP_AGENT_TEXT_H

#include "hiper/base.h"

/* Copy of s[0..n) with ASCII whitespace stripped at both ends (like Python's str.strip for ASCII). */
char *hp_text_strip_n(const char *s, size_t n);
/* Copy with ASCII letters lower-/upper-cased. */
char *hp_text_lower(const char *s);
char *hp_text_upper(const char *s);
/* Copy of the last n code points of the UTF-8 string s (the whole string when shorter). */
char *hp_text_last_chars(const char *s, size_t n);
/* Replace *dst (freed) by a copy of src. */
void hp_text_set(char **dst, const char *src);

#endif /* HP_AGENT_TEXT_H */
