/* Constrained action decoding (see hiper/constrain.h). */
#include "hiper/constrain.h"
#include "hiper/prompt.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

struct hp_vocab_bytes {
    int V;
    char **bytes;   /* [V], NULL for tokens without bytes */
    size_t *len;    /* [V] */
    int *by_first;  /* token ids sorted by first byte; bucket b is by_first[first[b] .. first[b+1]) */
    bool *has_gt;   /* [V] the token holds a '>' (only those can complete "<action>") */
    int first[257];
};

hp_vocab_bytes *hp_vocab_bytes_new(hp_token_bytes_fn bytes, const void *ctx, int vocab) {
    hp_vocab_bytes *vb = hp_xcalloc(1, sizeof *vb);
    vb->V = vocab;
    vb->bytes = hp_xcalloc((size_t)vocab + 1, sizeof *vb->bytes);
    vb->len = hp_xcalloc((size_t)vocab + 1, sizeof *vb->len);
    vb->by_first = hp_xmalloc(((size_t)vocab + 1) * sizeof *vb->by_first);
    vb->has_gt = hp_xcalloc((size_t)vocab + 1, sizeof *vb->has_gt);
    int count[256] = {0};
    for (int v = 0; v < vocab; v++) {
        size_t n = 0;
        const char *b = bytes(ctx, v, &n);
        if (!b || n == 0) continue;
        vb->bytes[v] = hp_xmalloc(n);
        memcpy(vb->bytes[v], b, n);
        vb->len[v] = n;
        vb->has_gt[v] = memchr(b, '>', n) != NULL;
        count[(unsigned char)b[0]]++;
    }
    vb->first[0] = 0;
    for (int b = 0; b < 256; b++) vb->first[b + 1] = vb->first[b] + count[b];
    int fill[256];
    memcpy(fill, vb->first, sizeof fill);
    for (int v = 0; v < vocab; v++)
        if (vb->bytes[v]) vb->by_first[fill[(unsigned char)vb->bytes[v][0]]++] = v;
    return vb;
}

void hp_vocab_bytes_free(hp_vocab_bytes *vb) {
    if (!vb) return;
    for (int v = 0; v < vb->V; v++) free(vb->bytes[v]);
    free(vb->bytes);
    free(vb->len);
    free(vb->by_first);
    free(vb->has_gt);
    free(vb);
}

int hp_vocab_bytes_size(const hp_vocab_bytes *vb) { return vb->V; }

static const char OPEN[] = "<action>", CLOSE[] = "</action>";

struct hp_action_filter {
    const hp_vocab_bytes *vb;
    char **targets; /* "CMD</action>" */
    size_t *tlen;
    int n_targets;
    hp_buf text;    /* bytes of the tokens seen so far */
    int seen;       /* tokens appended to text */
    long action_at; /* offset of the action text in text, -1 before "<action>" */
    bool off;       /* the response left every command: no more constraints */
    int32_t *row_of;
    int row_cap;
    uint8_t *rows;
    int n_rows;
    const hp_response_shape *shape; /* NULL: only the action is constrained */
    struct shape_state {
        int phase;       /* SH_HEAD, SH_FREE, SH_MID */
        unsigned alive;  /* heads still matching (SH_HEAD) */
        size_t pos;      /* bytes matched of the head or of mid */
    } st;
};

enum { SH_HEAD, SH_FREE, SH_MID };

static char *substr(const char *a, const char *b) {
    char *s = hp_xmalloc((size_t)(b - a) + 1);
    memcpy(s, a, (size_t)(b - a));
    s[b - a] = 0;
    return s;
}

hp_response_shape *hp_response_shape_new(int fmt) {
    hp_response_shape *sh = hp_xcalloc(1, sizeof *sh);
    /* The template with marks where the free text (\x01) and the action (\x02) go. */
    for (int k = 0; k < (fmt == HP_FMT_HIPER ? 2 : 1); k++) {
        char *t = hp_prompt_response((hp_fmt)fmt, k == 0, "\x01", "\x01", "\x02");
        char *free_at = strchr(t, '\x01'), *act_at = strchr(t, '\x02');
        if (free_at) {
            sh->heads[sh->n_heads++] = substr(t, free_at);
            if (!sh->mid) sh->mid = substr(free_at + 1, act_at);
        } else {
            sh->heads[sh->n_heads++] = substr(t, act_at);
        }
        free(t);
    }
    return sh;
}

void hp_response_shape_free(hp_response_shape *sh) {
    if (!sh) return;
    for (int k = 0; k < sh->n_heads; k++) free(sh->heads[k]);
    free(sh->mid);
    free(sh);
}

hp_action_filter *hp_action_filter_new(const hp_vocab_bytes *vb, const char *const *commands, int n_commands) {
    hp_action_filter *f = hp_xcalloc(1, sizeof *f);
    f->vb = vb;
    f->targets = hp_xcalloc((size_t)n_commands + 1, sizeof *f->targets);
    f->tlen = hp_xcalloc((size_t)n_commands + 1, sizeof *f->tlen);
    for (int i = 0; i < n_commands; i++) {
        size_t n = strlen(commands[i]);
        f->targets[i] = hp_xmalloc(n + sizeof CLOSE);
        memcpy(f->targets[i], commands[i], n);
        memcpy(f->targets[i] + n, CLOSE, sizeof CLOSE);
        f->tlen[i] = n + sizeof CLOSE - 1;
    }
    f->n_targets = n_commands;
    f->action_at = -1;
    f->off = n_commands == 0;
    return f;
}

hp_action_filter *hp_action_filter_new_shaped(const hp_vocab_bytes *vb, const char *const *commands, int n_commands,
                                              const hp_response_shape *shape) {
    hp_action_filter *f = hp_action_filter_new(vb, commands, n_commands);
    if (shape && !f->off) {
        f->shape = shape;
        f->st = (struct shape_state){SH_HEAD, (1u << shape->n_heads) - 1, 0};
    }
    return f;
}

void hp_action_filter_free(hp_action_filter *f) {
    if (!f) return;
    for (int i = 0; i < f->n_targets; i++) free(f->targets[i]);
    free(f->targets);
    free(f->tlen);
    hp_buf_free(&f->text);
    free(f->row_of);
    free(f->rows);
    free(f);
}

static void note_row(hp_action_filter *f, int pos, int32_t row) {
    if (pos >= f->row_cap) {
        int cap = f->row_cap ? f->row_cap : 64;
        while (cap <= pos) cap *= 2;
        f->row_of = hp_xrealloc(f->row_of, (size_t)cap * sizeof *f->row_of);
        for (int i = f->row_cap; i < cap; i++) f->row_of[i] = -1;
        f->row_cap = cap;
    }
    f->row_of[pos] = row;
}

static const char *find(const char *hay, size_t n, const char *needle) {
    size_t k = strlen(needle);
    for (size_t i = 0; i + k <= n; i++)
        if (!memcmp(hay + i, needle, k)) return hay + i;
    return NULL;
}

/* Does the text rest[0..n) stay on some command: a prefix of "CMD</action>", or all of it and more? */
static bool on_some_command(const hp_action_filter *f, const char *rest, size_t n) {
    for (int c = 0; c < f->n_targets; c++) {
        size_t k = n < f->tlen[c] ? n : f->tlen[c];
        if (!memcmp(f->targets[c], rest, k)) return true;
    }
    return false;
}

static uint8_t *new_row(hp_action_filter *f, size_t stride) {
    f->rows = hp_xrealloc(f->rows, (size_t)(f->n_rows + 1) * stride);
    uint8_t *row = f->rows + (size_t)f->n_rows * stride;
    memset(row, 0, stride);
    return row;
}

/* Before "<action>": every token is allowed except one that would complete "<action>" and carry text
 * off every command after it. Records a row only when some token is forbidden. */
static void before_action(hp_action_filter *f, int n_out, float *logits, int vocab) {
    const hp_vocab_bytes *vb = f->vb;
    size_t keep = f->text.len < sizeof OPEN - 2 ? f->text.len : sizeof OPEN - 2;
    char buf[512];
    if (keep) memcpy(buf, f->text.data + f->text.len - keep, keep);
    size_t stride = ((size_t)vocab + 7) / 8;
    uint8_t *row = NULL;
    int lim = vb->V < vocab ? vb->V : vocab;
    for (int v = 0; v < lim; v++) {
        size_t n = vb->len[v];
        if (!vb->has_gt[v] || keep + n > sizeof buf) continue;
        memcpy(buf + keep, vb->bytes[v], n);
        const char *p = find(buf, keep + n, OPEN);
        if (!p) continue;
        const char *rest = p + sizeof OPEN - 1;
        if (on_some_command(f, rest, (size_t)(buf + keep + n - rest))) continue;
        if (!row) {
            row = new_row(f, stride);
            memset(row, 0xff, stride);
        }
        row[v >> 3] &= (uint8_t)~(1u << (v & 7));
        logits[v] = -INFINITY;
    }
    if (row) note_row(f, n_out, f->n_rows++);
}

/* Feed bytes to the shape's state machine. Returns -1 when they leave the shape, else the number of
 * bytes consumed when the action's opening tag was completed by them (the rest is action text), or
 * n + 1 when all were consumed before the action. */
static long shape_feed(const hp_response_shape *sh, struct shape_state *st, const char *b, size_t n) {
    for (size_t i = 0; i < n; i++) {
        char c = b[i];
        if (st->phase == SH_HEAD) {
            unsigned alive = 0;
            bool done = false;
            for (int h = 0; h < sh->n_heads; h++)
                if ((st->alive >> h) & 1 && sh->heads[h][st->pos] == c) {
                    alive |= 1u << h;
                    done |= sh->heads[h][st->pos + 1] == 0;
                }
            if (!alive) return -1;
            st->alive = alive;
            st->pos++;
            if (done) {
                if (!sh->mid) return (long)i + 1;
                st->phase = SH_FREE;
            }
        } else if (st->phase == SH_FREE) {
            if (c == sh->mid[0]) {
                st->phase = SH_MID;
                st->pos = 1;
                if (!sh->mid[1]) return (long)i + 1;
            }
        } else {
            if (sh->mid[st->pos] != c) return -1;
            if (!sh->mid[++st->pos]) return (long)i + 1;
        }
    }
    return (long)n + 1;
}

/* Before the action, with a shape: a token is allowed when its bytes stay on the shape and, if they
 * complete the action's opening tag, what follows stays on some command. */
static void before_action_shaped(hp_action_filter *f, int n_out, float *logits, int vocab) {
    const hp_vocab_bytes *vb = f->vb;
    size_t stride = ((size_t)vocab + 7) / 8;
    uint8_t *row = new_row(f, stride);
    int lim = vb->V < vocab ? vb->V : vocab;
    for (int v = 0; v < lim; v++) {
        size_t n = vb->len[v];
        if (!vb->bytes[v]) continue;
        struct shape_state st = f->st;
        long k = shape_feed(f->shape, &st, vb->bytes[v], n);
        if (k < 0) continue;
        if (k <= (long)n && !on_some_command(f, vb->bytes[v] + k, n - (size_t)k)) continue;
        row[v >> 3] |= (uint8_t)(1u << (v & 7));
    }
    for (int v = 0; v < vocab; v++)
        if (!((row[v >> 3] >> (v & 7)) & 1)) logits[v] = -INFINITY;
    note_row(f, n_out, f->n_rows++);
}

void hp_action_filter_apply(void *filter, const int32_t *out, int n_out, float *logits, int vocab) {
    hp_action_filter *f = filter;
    const hp_vocab_bytes *vb = f->vb;
    for (; f->seen < n_out; f->seen++) {
        int32_t id = out[f->seen];
        if (id < 0 || id >= vb->V || !vb->bytes[id]) continue;
        size_t at = f->text.len;
        hp_buf_append(&f->text, vb->bytes[id], vb->len[id]);
        if (f->shape && f->action_at < 0 && !f->off) {
            long k = shape_feed(f->shape, &f->st, vb->bytes[id], vb->len[id]);
            if (k < 0) f->off = true; /* cannot happen: the token was allowed */
            else if (k <= (long)vb->len[id]) f->action_at = (long)(at + (size_t)k);
        }
    }
    if (f->off) return;
    if (f->shape && f->action_at < 0) {
        before_action_shaped(f, n_out, logits, vocab);
        return;
    }
    if (f->action_at < 0) {
        const char *p = find(f->text.data ? f->text.data : "", f->text.len, OPEN);
        if (!p) {
            before_action(f, n_out, logits, vocab);
            return;
        }
        f->action_at = (long)(p - f->text.data) + (long)(sizeof OPEN - 1);
    }
    const char *act = f->text.data + f->action_at;
    size_t alen = f->text.len - (size_t)f->action_at;
    /* The commands the action text still leads to; done when it holds one of them whole. */
    uint8_t next_byte[256] = {0};
    int alive = 0;
    int *live = hp_xmalloc(((size_t)f->n_targets + 1) * sizeof *live);
    for (int c = 0; c < f->n_targets; c++) {
        size_t k = alen < f->tlen[c] ? alen : f->tlen[c];
        if (memcmp(f->targets[c], act, k)) continue;
        if (alen >= f->tlen[c]) { /* complete: the rest of the response is free */
            f->off = true;
            free(live);
            return;
        }
        next_byte[(unsigned char)f->targets[c][alen]] = 1;
        live[alive++] = c;
    }
    if (!alive) { /* cannot happen once the opening token was checked; stay safe */
        f->off = true;
        free(live);
        return;
    }
    size_t stride = ((size_t)vocab + 7) / 8;
    uint8_t *row = new_row(f, stride);
    for (int b = 0; b < 256; b++) {
        if (!next_byte[b]) continue;
        for (int k = vb->first[b]; k < vb->first[b + 1]; k++) {
            int v = vb->by_first[k];
            if (v >= vocab) continue;
            size_t n = vb->len[v];
            for (int j = 0; j < alive; j++) {
                int c = live[j];
                size_t rem = f->tlen[c] - alen, m = n < rem ? n : rem; /* a token may run past the command's end */
                if (!memcmp(f->targets[c] + alen, vb->bytes[v], m)) {
                    row[v >> 3] |= (uint8_t)(1u << (v & 7));
                    break;
                }
            }
        }
    }
    free(live);
    for (int v = 0; v < vocab; v++)
        if (!((row[v >> 3] >> (v & 7)) & 1)) logits[v] = -INFINITY;
    note_row(f, n_out, f->n_rows++);
}

void hp_action_filter_take(hp_action_filter *f, int n_out, int32_t **row_of, uint8_t **allowed, int *n_rows) {
    *row_of = hp_xmalloc(((size_t)n_out + 1) * sizeof **row_of);
    for (int i = 0; i < n_out; i++) (*row_of)[i] = i < f->row_cap ? f->row_of[i] : -1;
    *allowed = f->rows;
    *n_rows = f->n_rows;
    f->rows = NULL;
    f->n_rows = 0;
}
