/* UTF-8 decoding with Rust's rules (what Hugging Face's decode relies on), and the GPT-2 byte-level
 * alphabet. */
#include "tok_internal.h"

/* The second byte's range for each lead byte, per the Unicode table of well-formed sequences. */
static bool second_ok(uint8_t lead, uint8_t b) {
    switch (lead) {
    case 0xE0: return b >= 0xA0 && b <= 0xBF;
    case 0xED: return b >= 0x80 && b <= 0x9F;
    case 0xF0: return b >= 0x90 && b <= 0xBF;
    case 0xF4: return b >= 0x80 && b <= 0x8F;
    default: return b >= 0x80 && b <= 0xBF;
    }
}

size_t hp_utf8_seq(const uint8_t *s, size_t n, uint32_t *cp, bool *incomplete) {
    *incomplete = false;
    uint8_t c = s[0];
    if (c < 0x80) {
        *cp = c;
        return 1;
    }
    size_t need;
    uint32_t v;
    if (c >= 0xC2 && c <= 0xDF) need = 2, v = c & 0x1F;
    else if (c >= 0xE0 && c <= 0xEF) need = 3, v = c & 0x0F;
    else if (c >= 0xF0 && c <= 0xF4) need = 4, v = c & 0x07;
    else {
        *cp = HP_UTF8_BAD;
        return 1;
    }
    size_t i = 1;
    for (; i < need; i++) {
        if (i >= n) {
            *incomplete = true;
            *cp = HP_UTF8_BAD;
            return i;
        }
        uint8_t b = s[i];
        bool ok = i == 1 ? second_ok(c, b) : (b & 0xC0) == 0x80;
        if (!ok) {
            *cp = HP_UTF8_BAD;
            return i;
        }
        v = (v << 6) | (b & 0x3F);
    }
    *cp = v;
    return need;
}

void hp_utf8_put(hp_buf *b, uint32_t cp) {
    char t[4];
    size_t n;
    if (cp < 0x80) t[0] = (char)cp, n = 1;
    else if (cp < 0x800) {
        t[0] = (char)(0xC0 | (cp >> 6));
        t[1] = (char)(0x80 | (cp & 0x3F));
        n = 2;
    } else if (cp < 0x10000) {
        t[0] = (char)(0xE0 | (cp >> 12));
        t[1] = (char)(0x80 | ((cp >> 6) & 0x3F));
        t[2] = (char)(0x80 | (cp & 0x3F));
        n = 3;
    } else {
        t[0] = (char)(0xF0 | (cp >> 18));
        t[1] = (char)(0x80 | ((cp >> 12) & 0x3F));
        t[2] = (char)(0x80 | ((cp >> 6) & 0x3F));
        t[3] = (char)(0x80 | (cp & 0x3F));
        n = 4;
    }
    hp_buf_append(b, t, n);
}

void hp_utf8_lossy(const char *s, size_t n, hp_buf *out) {
    const uint8_t *u = (const uint8_t *)s;
    size_t i = 0, run = 0; /* run: start of the pending stretch of valid bytes */
    hp_buf_reserve(out, n);
    while (i < n) {
        if (u[i] < 0x80) {
            i++;
            continue;
        }
        uint32_t cp;
        bool inc;
        size_t k = hp_utf8_seq(u + i, n - i, &cp, &inc);
        if (cp == HP_UTF8_BAD) {
            hp_buf_append(out, s + run, i - run);
            hp_utf8_put(out, 0xFFFD);
            run = i + k;
        }
        i += k;
    }
    hp_buf_append(out, s + run, n - run);
}

size_t hp_utf8_check(const char *s, size_t n) {
    const uint8_t *u = (const uint8_t *)s;
    size_t i = 0;
    while (i < n) {
        if (u[i] < 0x80) {
            i++;
            continue;
        }
        uint32_t cp;
        bool inc;
        size_t k = hp_utf8_seq(u + i, n - i, &cp, &inc);
        if (cp == HP_UTF8_BAD) return i;
        i += k;
    }
    return n;
}

/* GPT-2's table: the printable bytes '!'..'~', 0xA1..0xAC and 0xAE..0xFF stand for themselves; the
 * other 68 bytes, in increasing order, get the code points from 256 up. */
uint32_t hp_bytelevel_cp(uint8_t b) {
    if ((b >= 0x21 && b <= 0x7E) || (b >= 0xA1 && b <= 0xAC) || b >= 0xAE) return b;
    if (b <= 0x20) return 256u + b;
    if (b >= 0x7F && b <= 0xA0) return 256u + 33u + (b - 0x7Fu);
    return 256u + 33u + 34u; /* 0xAD */
}

int hp_bytelevel_byte(uint32_t cp) {
    if ((cp >= 0x21 && cp <= 0x7E) || (cp >= 0xA1 && cp <= 0xAC) || (cp >= 0xAE && cp <= 0xFF)) return (int)cp;
    if (cp >= 256 && cp <= 256 + 32) return (int)(cp - 256);
    if (cp >= 256 + 33 && cp <= 256 + 66) return (int)(cp - 256 - 33 + 0x7F);
    if (cp == 256 + 67) return 0xAD;
    return -1;
}

void hp_bytelevel_encode(const uint8_t *bytes, size_t n, hp_buf *out) {
    for (size_t i = 0; i < n; i++) hp_utf8_put(out, hp_bytelevel_cp(bytes[i]));
}

void hp_bytelevel_decode_token(const char *s, size_t n, hp_buf *out) {
    const uint8_t *u = (const uint8_t *)s;
    size_t start = out->len;
    for (size_t i = 0; i < n;) {
        uint32_t cp;
        bool inc;
        size_t k = hp_utf8_seq(u + i, n - i, &cp, &inc);
        int b = (cp == HP_UTF8_BAD) ? -1 : hp_bytelevel_byte(cp);
        if (b < 0) { /* a character outside the table: the token's own UTF-8 */
            out->len = start;
            if (out->data) out->data[start] = '\0';
            hp_buf_append(out, s, n);
            return;
        }
        hp_buf_putc(out, (char)b);
        i += k;
    }
}
