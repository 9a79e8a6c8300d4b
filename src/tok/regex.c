/* The pre-tokenizer regex: Hugging Face compiles it with Oniguruma, we with PCRE2 (UTF + UCP).
 * The one difference that matters for byte-level BPE patterns is \s: Oniguruma's is Unicode
 * White_Space, PCRE2's also takes U+180E. So \s and \S are rewritten to \p{White_Space} and
 * \P{White_Space}, which mean the same inside and outside a character class. */
#include "tok_internal.h"

#include <string.h>

static void translate(const char *p, hp_buf *out) {
    for (size_t i = 0; p[i]; i++) {
        if (p[i] != '\\' || !p[i + 1]) {
            hp_buf_putc(out, p[i]);
            continue;
        }
        char c = p[++i];
        if (c == 's') hp_buf_puts(out, "\\p{White_Space}");
        else if (c == 'S') hp_buf_puts(out, "\\P{White_Space}");
        else {
            hp_buf_putc(out, '\\');
            hp_buf_putc(out, c);
        }
    }
}

pcre2_code *hp_tok_regex_compile(const char *pattern, bool literal, const char *what, hp_err *err) {
    hp_buf pat = {0};
    if (literal) hp_buf_puts(&pat, pattern);
    else translate(pattern, &pat);
    int code;
    PCRE2_SIZE off;
    uint32_t opts = PCRE2_UTF | PCRE2_UCP | (literal ? PCRE2_LITERAL : 0);
    pcre2_code *re = pcre2_compile((PCRE2_SPTR)(pat.data ? pat.data : ""), pat.len, opts, &code, &off, NULL);
    hp_buf_free(&pat);
    if (!re) {
        PCRE2_UCHAR msg[256];
        pcre2_get_error_message(code, msg, sizeof msg);
        hp_fail(err, "%s: the pre-tokenizer regex does not compile: %s (pattern \"%s\")", what, (const char *)msg, pattern);
        return NULL;
    }
    pcre2_jit_compile(re, PCRE2_JIT_COMPLETE); /* without JIT (unsupported CPU) the interpreter runs */
    return re;
}
