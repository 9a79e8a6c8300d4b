/* The search analyzer: a UAX#29-style word tokenizer (the subset that matters for product text),
 * English possessive removal, ASCII lowercasing, Lucene's 33 English stop words and the Porter
 * stemmer (the original algorithm, as Lucene's PorterStemFilter). */
#include "env/webshop/ws.h"

#include <string.h>

/* ---- Porter stemmer ---------------------------------------------------------------------------- */

typedef struct porter {
    char *b;
    int k, j; /* b[0..k] is the word; j marks the end of the stem when ends() matched */
} porter;

static bool p_cons(const porter *z, int i) {
    switch (z->b[i]) {
    case 'a': case 'e': case 'i': case 'o': case 'u': return false;
    case 'y': return i == 0 ? true : !p_cons(z, i - 1);
    default: return true;
    }
}

/* Number of vowel-consonant sequences in b[0..j]. */
static int p_m(const porter *z) {
    int n = 0, i = 0;
    for (;;) {
        if (i > z->j) return n;
        if (!p_cons(z, i)) break;
        i++;
    }
    i++;
    for (;;) {
        for (;;) {
            if (i > z->j) return n;
            if (p_cons(z, i)) break;
            i++;
        }
        i++;
        n++;
        for (;;) {
            if (i > z->j) return n;
            if (!p_cons(z, i)) break;
            i++;
        }
        i++;
    }
}

static bool p_vowel_in_stem(const porter *z) {
    for (int i = 0; i <= z->j; i++)
        if (!p_cons(z, i)) return true;
    return false;
}

static bool p_double(const porter *z, int j) { return j >= 1 && z->b[j] == z->b[j - 1] && p_cons(z, j); }

static bool p_cvc(const porter *z, int i) {
    if (i < 2 || !p_cons(z, i) || p_cons(z, i - 1) || !p_cons(z, i - 2)) return false;
    char c = z->b[i];
    return c != 'w' && c != 'x' && c != 'y';
}

static bool p_ends(porter *z, const char *s) {
    int n = (int)strlen(s);
    if (n > z->k + 1 || memcmp(z->b + z->k - n + 1, s, (size_t)n)) return false;
    z->j = z->k - n;
    return true;
}

static void p_setto(porter *z, const char *s) {
    int n = (int)strlen(s);
    memcpy(z->b + z->j + 1, s, (size_t)n);
    z->k = z->j + n;
}

static void p_r(porter *z, const char *s) {
    if (p_m(z) > 0) p_setto(z, s);
}

static void p_step1ab(porter *z) {
    if (z->b[z->k] == 's') {
        if (p_ends(z, "sses")) z->k -= 2;
        else if (p_ends(z, "ies")) p_setto(z, "i");
        else if (z->b[z->k - 1] != 's') z->k--;
    }
    if (p_ends(z, "eed")) {
        if (p_m(z) > 0) z->k--;
    } else if ((p_ends(z, "ed") || p_ends(z, "ing")) && p_vowel_in_stem(z)) {
        z->k = z->j;
        if (p_ends(z, "at")) p_setto(z, "ate");
        else if (p_ends(z, "bl")) p_setto(z, "ble");
        else if (p_ends(z, "iz")) p_setto(z, "ize");
        else if (p_double(z, z->k)) {
            z->k--;
            char c = z->b[z->k];
            if (c == 'l' || c == 's' || c == 'z') z->k++;
        } else if (p_m(z) == 1 && p_cvc(z, z->k)) {
            z->j = z->k;
            p_setto(z, "e");
        }
    }
}

static void p_step1c(porter *z) {
    if (p_ends(z, "y") && p_vowel_in_stem(z)) z->b[z->k] = 'i';
}

/* Suffix tables: on the first suffix that ends the word, replace it (if m > 0) and stop. */
static void p_table(porter *z, const char *const *pairs) {
    for (; *pairs; pairs += 2)
        if (p_ends(z, pairs[0])) {
            p_r(z, pairs[1]);
            return;
        }
}

static void p_step2(porter *z) {
    static const char *const a[] = {"ational", "ate", "tional", "tion", NULL};
    static const char *const c[] = {"enci", "ence", "anci", "ance", NULL};
    static const char *const e[] = {"izer", "ize", NULL};
    static const char *const l[] = {"bli", "ble", "alli", "al", "entli", "ent", "eli", "e", "ousli", "ous", NULL};
    static const char *const o[] = {"ization", "ize", "ation", "ate", "ator", "ate", NULL};
    static const char *const s[] = {"alism", "al", "iveness", "ive", "fulness", "ful", "ousness", "ous", NULL};
    static const char *const t[] = {"aliti", "al", "iviti", "ive", "biliti", "ble", NULL};
    static const char *const g[] = {"logi", "log", NULL};
    if (z->k < 1) return;
    switch (z->b[z->k - 1]) {
    case 'a': p_table(z, a); break;
    case 'c': p_table(z, c); break;
    case 'e': p_table(z, e); break;
    case 'l': p_table(z, l); break;
    case 'o': p_table(z, o); break;
    case 's': p_table(z, s); break;
    case 't': p_table(z, t); break;
    case 'g': p_table(z, g); break;
    default: break;
    }
}

static void p_step3(porter *z) {
    static const char *const e[] = {"icate", "ic", "ative", "", "alize", "al", NULL};
    static const char *const i[] = {"iciti", "ic", NULL};
    static const char *const l[] = {"ical", "ic", "ful", "", NULL};
    static const char *const s[] = {"ness", "", NULL};
    switch (z->b[z->k]) {
    case 'e': p_table(z, e); break;
    case 'i': p_table(z, i); break;
    case 'l': p_table(z, l); break;
    case 's': p_table(z, s); break;
    default: break;
    }
}

static void p_step4(porter *z) {
    static const char *const suf[] = {"al", "ance", "ence", "er", "ic", "able", "ible", "ant", "ement", "ment",
                                      "ent", "ou", "ism", "ate", "iti", "ous", "ive", "ize", NULL};
    if (z->k < 1) return;
    bool hit = false;
    char c = z->b[z->k - 1];
    if (c == 'o') {
        if (p_ends(z, "ion") && z->j >= 0 && (z->b[z->j] == 's' || z->b[z->j] == 't')) hit = true;
        else if (p_ends(z, "ou")) hit = true;
    } else {
        /* the reference switches on b[k-1] first; a suffix can only end the word if its own
         * penultimate letter is b[k-1], so scanning the table in the same order is equivalent */
        for (int i = 0; suf[i]; i++) {
            size_t n = strlen(suf[i]);
            if (suf[i][n - 2] != c || !strcmp(suf[i], "ou")) continue; /* "ou" belongs to the 'o' case */
            if (p_ends(z, suf[i])) {
                hit = true;
                break;
            }
        }
    }
    if (hit && p_m(z) > 1) z->k = z->j;
}

static void p_step5(porter *z) {
    z->j = z->k;
    if (z->b[z->k] == 'e') {
        int a = p_m(z);
        if (a > 1 || (a == 1 && !p_cvc(z, z->k - 1))) z->k--;
    }
    if (z->b[z->k] == 'l' && p_double(z, z->k) && p_m(z) > 1) z->k--;
}

size_t ws_porter(char *w, size_t len) {
    if (len <= 2) return len;
    porter z = {w, (int)len - 1, 0};
    p_step1ab(&z);
    if (z.k > 0) {
        p_step1c(&z);
        p_step2(&z);
        p_step3(&z);
        p_step4(&z);
        p_step5(&z);
    }
    return (size_t)z.k + 1;
}

/* ---- tokenizer --------------------------------------------------------------------------------- */

enum { C_OTHER, C_LETTER, C_DIGIT, C_MIDLET, C_MIDNUM, C_MIDBOTH };

/* Decode one UTF-8 code point at s (len bytes available); returns its byte length (>= 1). */
static int ws_utf8(const unsigned char *s, size_t len, uint32_t *cp) {
    unsigned c = s[0];
    int n = c < 0x80 ? 1 : (c >> 5) == 6 ? 2 : (c >> 4) == 14 ? 3 : (c >> 3) == 30 ? 4 : 0;
    if (!n || (size_t)n > len) {
        *cp = 0xFFFD;
        return 1;
    }
    uint32_t v = n == 1 ? c : c & (0x3Fu >> (n - 1));
    for (int i = 1; i < n; i++) {
        if ((s[i] & 0xC0) != 0x80) {
            *cp = 0xFFFD;
            return 1;
        }
        v = (v << 6) | (s[i] & 0x3F);
    }
    *cp = v;
    return n;
}

static int ws_class(uint32_t c) {
    if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_') return C_LETTER;
    if (c >= '0' && c <= '9') return C_DIGIT;
    if (c == '\'' || c == '.' || c == 0x2019 || c == 0x2018) return C_MIDBOTH;
    if (c == ':' || c == 0xB7) return C_MIDLET;
    if (c == ',' || c == ';') return C_MIDNUM;
    if (c < 0xC0 || c == 0xD7 || c == 0xF7 || c == 0xFFFD) return C_OTHER;
    if ((c >= 0x2000 && c <= 0x2BFF) || (c >= 0x3000 && c <= 0x303F) || (c >= 0xFF01 && c <= 0xFF0F)) return C_OTHER;
    if (c >= 0x1F000 && c <= 0x1FAFF) return C_OTHER;
    return C_LETTER;
}

static const char *const ws_stop[] = {"a", "an", "and", "are", "as", "at", "be", "but", "by", "for", "if",
                                      "in", "into", "is", "it", "no", "not", "of", "on", "or", "such", "that",
                                      "the", "their", "then", "there", "these", "they", "this", "to", "was",
                                      "will", "with"};

static bool ws_is_stop(const char *t) {
    for (size_t i = 0; i < sizeof ws_stop / sizeof *ws_stop; i++)
        if (!strcmp(t, ws_stop[i])) return true;
    return false;
}

#define WS_MAX_TOKEN 255

static void ws_emit(char *t, size_t n, void (*fn)(const char *, size_t, void *), void *ctx) {
    /* English possessive: drop a trailing 's (ASCII or U+2019 quote) */
    if (n >= 2 && (t[n - 1] == 's' || t[n - 1] == 'S') && t[n - 2] == '\'') n -= 2;
    else if (n >= 4 && (t[n - 1] == 's' || t[n - 1] == 'S') && !memcmp(t + n - 4, "\xE2\x80\x99", 3)) n -= 4;
    if (!n) return;
    t[n] = 0;
    ws_lower_inplace(t);
    if (ws_is_stop(t)) return;
    n = ws_porter(t, n);
    t[n] = 0;
    fn(t, n, ctx);
}

void ws_analyze(const char *text, void (*fn)(const char *term, size_t len, void *ctx), void *ctx) {
    const unsigned char *s = (const unsigned char *)text;
    size_t len = strlen(text), i = 0;
    char tok[WS_MAX_TOKEN + 8];
    size_t n = 0;
    int last = C_OTHER; /* class of the last code point in tok */
    while (i < len) {
        uint32_t cp;
        int bl = ws_utf8(s + i, len - i, &cp);
        int c = ws_class(cp);
        if (c == C_LETTER || c == C_DIGIT) {
            if (n + (size_t)bl > WS_MAX_TOKEN) {
                ws_emit(tok, n, fn, ctx);
                n = 0;
            }
            memcpy(tok + n, s + i, (size_t)bl);
            n += (size_t)bl;
            last = c;
            i += (size_t)bl;
            continue;
        }
        if (n && c != C_OTHER && i + (size_t)bl < len) {
            /* a single mid character joins two word characters of the right kinds */
            uint32_t nx;
            ws_utf8(s + i + bl, len - i - (size_t)bl, &nx);
            int nc = ws_class(nx);
            bool letters = last == C_LETTER && nc == C_LETTER && (c == C_MIDLET || c == C_MIDBOTH);
            bool digits = last == C_DIGIT && nc == C_DIGIT && (c == C_MIDNUM || c == C_MIDBOTH);
            if ((letters || digits) && n + (size_t)bl < WS_MAX_TOKEN) {
                memcpy(tok + n, s + i, (size_t)bl);
                n += (size_t)bl;
                i += (size_t)bl;
                continue;
            }
        }
        if (n) ws_emit(tok, n, fn, ctx);
        n = 0;
        last = C_OTHER;
        i += (size_t)bl;
    }
    if (n) ws_emit(tok, n, fn, ctx);
}
