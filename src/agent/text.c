/* Small string helpers of the agent module (see text.h). */
#include "text.h"

#include <stdlib.h>
#include <string.h>

static bool is_space(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f'; }

char *hp_text_strip_n(const char *s, size_t n) {
    size_t a = 0, b = n;
    while (a < b && is_space(s[a])) a++;
    while (b > a && is_space(s[b - 1])) b--;
    return hp_xstrndup(s + a, b - a);
}

char *hp_text_lower(const char *s) {
    char *r = hp_xstrdup(s);
    for (char *p = r; *p; p++)
        if (*p >= 'A' && *p <= 'Z') *p = (char)(*p - 'A' + 'a');
    return r;
}

char *hp_text_upper(const char *s) {
    char *r = hp_xstrdup(s);
    for (char *p = r; *p; p++)
        if (*p >= 'a' && *p <= 'z') *p = (char)(*p - 'a' + 'A');
    return r;
}

char *hp_text_last_chars(const char *s, size_t n) {
    size_t len = strlen(s), i = len, count = 0;
    while (i > 0 && count < n) {
        i--;
        /* a code point starts at every byte that is not a continuation byte 10xxxxxx */
        if (((unsigned char)s[i] & 0xC0) != 0x80) count++;
    }
    return hp_xstrdup(s + i);
}

void hp_text_set(char **dst, const char *src) {
    char *c = hp_xstrdup(src ? src : "");
    free(*dst);
    *dst = c;
}
