/* hiper tokenizer — encode, decode, chat-render and train byte-level BPE tokenizers (src/tok).
 *
 *   hiper tokenizer encode --tokenizer PATH [--text T]        ids of T (or of stdin), space-separated
 *   hiper tokenizer decode --tokenizer PATH [--ids "1 2"]     text of the ids (or of stdin)
 *   hiper tokenizer chat [--add-generation-prompt] [--tokenizer PATH]
 *                                                            render a JSON message list from stdin
 *   hiper tokenizer train --corpus FILE --vocab-size N --out DIR
 *
 * With --jsonl, encode/decode/chat read one JSON value per stdin line (a string, an id array, a
 * message array) and write one JSON line per input: this is how the reference tests drive it. */
#include "cli.h"
#include "hiper/tok.h"

#include <cjson/cJSON.h>
#include <stdlib.h>
#include <string.h>

static char *read_stream(FILE *fp, size_t *len) {
    hp_buf b = {0};
    char chunk[65536];
    size_t n;
    while ((n = fread(chunk, 1, sizeof chunk, fp)) > 0) hp_buf_append(&b, chunk, n);
    *len = b.len;
    return hp_buf_take(&b);
}

/* The printers append to a buffer that the caller writes with hp_cli_write (a failed write is an
 * error naming its reason, never ignored). */
static void print_ids(const hp_ids *ids, bool json, hp_buf *out) {
    hp_buf b = {0};
    if (json) hp_buf_putc(&b, '[');
    for (size_t i = 0; i < ids->len; i++) hp_buf_printf(&b, i ? (json ? ",%d" : " %d") : "%d", (int)ids->data[i]);
    if (json) hp_buf_putc(&b, ']');
    hp_buf_putc(&b, '\n');
    hp_buf_append(out, b.data, b.len);
    hp_buf_free(&b);
}

/* Print s[0..n) as a JSON string line (NUL bytes and control characters escaped). */
static void print_json_string(const char *s, size_t n, hp_buf *out) {
    hp_buf b = {0};
    hp_buf_putc(&b, '"');
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c == '"' || c == '\\') hp_buf_putc(&b, '\\'), hp_buf_putc(&b, (char)c);
        else if (c == '\n') hp_buf_puts(&b, "\\n");
        else if (c == '\r') hp_buf_puts(&b, "\\r");
        else if (c == '\t') hp_buf_puts(&b, "\\t");
        else if (c < 0x20) hp_buf_printf(&b, "\\u%04x", c);
        else hp_buf_putc(&b, (char)c);
    }
    hp_buf_puts(&b, "\"\n");
    hp_buf_append(out, b.data, b.len);
    hp_buf_free(&b);
}

/* Call fn on every line of stdin (a JSON value each); what it appends to out is written after each
 * line. */
typedef int (*line_fn)(const cJSON *value, void *ctx, hp_buf *out, hp_err *err);

static int each_jsonl_line(line_fn fn, void *ctx, hp_err *err) {
    size_t len;
    char *all = read_stream(stdin, &len);
    int rc = HP_OK, line = 0;
    hp_buf out = {0};
    for (char *p = all, *nl; p < all + len; p = nl + 1) {
        line++;
        nl = memchr(p, '\n', (size_t)(all + len - p));
        if (!nl) nl = all + len;
        if (nl == p) continue;
        cJSON *v = cJSON_ParseWithLength(p, (size_t)(nl - p));
        hp_buf_clear(&out);
        if (!v) rc = hp_fail(err, "not valid JSON");
        else rc = fn(v, ctx, &out, err);
        cJSON_Delete(v);
        if (rc) {
            hp_err_wrap(err, "stdin line %d", line);
            break;
        }
        if ((rc = hp_cli_write(out.data, out.len, err))) break;
    }
    hp_buf_free(&out);
    free(all);
    return rc;
}

static hp_tok *load_or_usage(const char *path, const char *cmd, int *rc) {
    if (!path) {
        *rc = hp_cli_usage_error(cmd, "--tokenizer PATH is required");
        return NULL;
    }
    hp_err err = {0};
    hp_tok *t = hp_tok_load(path, &err);
    if (!t) *rc = hp_cli_error(&err);
    return t;
}

static int hex4(const char *p, uint32_t *v) {
    *v = 0;
    for (int i = 0; i < 4; i++) {
        char c = p[i];
        int d = c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
        if (d < 0) return HP_FAIL;
        *v = *v << 4 | (uint32_t)d;
    }
    return HP_OK;
}

static void put_utf8(hp_buf *b, uint32_t cp) {
    char t[4];
    size_t n = 0;
    if (cp < 0x80) t[n++] = (char)cp;
    else if (cp < 0x800) t[n++] = (char)(0xC0 | cp >> 6), t[n++] = (char)(0x80 | (cp & 0x3F));
    else if (cp < 0x10000)
        t[n++] = (char)(0xE0 | cp >> 12), t[n++] = (char)(0x80 | ((cp >> 6) & 0x3F)), t[n++] = (char)(0x80 | (cp & 0x3F));
    else
        t[n++] = (char)(0xF0 | cp >> 18), t[n++] = (char)(0x80 | ((cp >> 12) & 0x3F)),
        t[n++] = (char)(0x80 | ((cp >> 6) & 0x3F)), t[n++] = (char)(0x80 | (cp & 0x3F));
    hp_buf_append(b, t, n);
}

/* A JSON string literal s[0..n) (quotes included) → its bytes, NUL characters kept (cJSON would cut
 * the string at the first one). */
static int json_string(const char *s, size_t n, hp_buf *out, hp_err *err) {
    while (n && (s[n - 1] == '\r' || s[n - 1] == ' ')) n--;
    if (n < 2 || s[0] != '"' || s[n - 1] != '"') return hp_fail(err, "expected a JSON string");
    for (size_t i = 1; i + 1 < n; i++) {
        if (s[i] != '\\') {
            hp_buf_putc(out, s[i]);
            continue;
        }
        if (++i + 1 >= n) return hp_fail(err, "bad escape in JSON string");
        char c = s[i];
        static const char esc[] = "\"\\/bfnrt", val[] = "\"\\/\b\f\n\r\t";
        const char *e = c ? strchr(esc, c) : NULL;
        if (e) {
            hp_buf_putc(out, val[e - esc]);
            continue;
        }
        uint32_t cp, lo;
        if (c != 'u' || i + 4 >= n || hex4(s + i + 1, &cp)) return hp_fail(err, "bad escape in JSON string");
        i += 4;
        if (cp >= 0xD800 && cp <= 0xDBFF && i + 6 < n && s[i + 1] == '\\' && s[i + 2] == 'u' && !hex4(s + i + 3, &lo) &&
            lo >= 0xDC00 && lo <= 0xDFFF) {
            cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
            i += 6;
        }
        put_utf8(out, cp);
    }
    return HP_OK;
}

static int encode_jsonl(const hp_tok *t, hp_err *err) {
    size_t len;
    char *all = read_stream(stdin, &len);
    int rc = HP_OK, line = 0;
    hp_buf text = {0}, out = {0};
    hp_ids ids = {0};
    for (char *p = all, *nl; p < all + len && !rc; p = nl + 1) {
        line++;
        nl = memchr(p, '\n', (size_t)(all + len - p));
        if (!nl) nl = all + len;
        if (nl == p) continue;
        hp_buf_clear(&text);
        hp_ids_clear(&ids);
        rc = json_string(p, (size_t)(nl - p), &text, err);
        if (!rc) rc = hp_tok_encode(t, text.data ? text.data : "", text.len, &ids, err);
        if (rc) {
            hp_err_wrap(err, "stdin line %d", line);
            break;
        }
        hp_buf_clear(&out);
        print_ids(&ids, true, &out);
        rc = hp_cli_write(out.data, out.len, err);
    }
    hp_buf_free(&text);
    hp_buf_free(&out);
    hp_ids_free(&ids);
    free(all);
    return rc;
}

/* Length of a plausible UTF-8 sequence at s[0..n) (for display only), 0 if it is not one. */
static size_t utf8_len(const unsigned char *s, size_t n) {
    size_t k = s[0] < 0x80 ? 1 : (s[0] & 0xE0) == 0xC0 ? 2 : (s[0] & 0xF0) == 0xE0 ? 3 : (s[0] & 0xF8) == 0xF0 ? 4 : 0;
    if (!k || k > n) return 0;
    for (size_t i = 1; i < k; i++)
        if ((s[i] & 0xC0) != 0x80) return 0;
    return k;
}

/* One line per token: the id, a tab, and its bytes quoted (characters as they are, control bytes and
 * bytes that are not whole UTF-8 characters as \xNN). */
static void print_tokens(const hp_tok *t, const hp_ids *ids, hp_buf *out) {
    hp_buf b = {0};
    for (size_t i = 0; i < ids->len; i++) {
        size_t n = 0;
        const unsigned char *p = (const unsigned char *)hp_tok_token_bytes(t, ids->data[i], &n);
        hp_buf_printf(&b, "%d\t\"", (int)ids->data[i]);
        for (size_t j = 0; p && j < n;) {
            size_t k = utf8_len(p + j, n - j);
            if (k == 1 && p[j] >= 0x20 && p[j] != 0x7F && p[j] != '"' && p[j] != '\\') hp_buf_putc(&b, (char)p[j]);
            else if (k > 1) hp_buf_append(&b, p + j, k);
            else {
                hp_buf_printf(&b, "\\x%02x", p[j]);
                k = 1;
            }
            j += k;
        }
        hp_buf_puts(&b, "\"\n");
    }
    hp_buf_append(out, b.data, b.len);
    hp_buf_free(&b);
}

static int cmd_encode(int argc, char **argv) {
    const char *path = NULL, *text = NULL;
    bool jsonl = false, tokens = false;
    hp_opt opts[] = {{"tokenizer", HP_OPT_STR, &path, "tokenizer.json or a directory holding one"},
                     {"text", HP_OPT_STR, &text, "the text (default: all of stdin)"},
                     {"jsonl", HP_OPT_FLAG, &jsonl, "stdin holds one JSON string per line; print a JSON id array per line"},
                     {"tokens", HP_OPT_FLAG, &tokens, "print one token per line: id, tab, its bytes as a JSON string"},
                     {0}};
    int a = hp_args_parse(argc, argv, 3, opts, "usage: hiper tokenizer encode --tokenizer PATH [--text T | < file]", NULL, 0, NULL);
    if (a) return a == 1 ? HP_EXIT_OK : HP_EXIT_USAGE;
    int rc = HP_EXIT_OK;
    hp_tok *t = load_or_usage(path, "tokenizer encode", &rc);
    if (!t) return rc;
    hp_err err = {0};
    if (jsonl) {
        if (encode_jsonl(t, &err)) rc = hp_cli_error(&err);
    } else {
        size_t len = 0;
        char *owned = text ? NULL : read_stream(stdin, &len);
        const char *s = text ? text : owned;
        if (text) len = strlen(text);
        hp_ids ids = {0};
        hp_buf out = {0};
        int er = hp_tok_encode(t, s, len, &ids, &err);
        if (!er) {
            if (tokens) print_tokens(t, &ids, &out);
            else print_ids(&ids, false, &out);
            er = hp_cli_write(out.data, out.len, &err);
        }
        if (er) rc = hp_cli_error(&err);
        hp_buf_free(&out);
        hp_ids_free(&ids);
        free(owned);
    }
    hp_tok_free(t);
    return rc;
}

typedef struct {
    hp_tok *tok;
    bool skip_special;
} decode_ctx;

static int decode_line(const cJSON *v, void *ctx, hp_buf *out, hp_err *err) {
    decode_ctx *d = ctx;
    if (!cJSON_IsArray(v)) return hp_fail(err, "expected a JSON array of ids");
    hp_ids ids = {0};
    const cJSON *e;
    cJSON_ArrayForEach(e, v) {
        if (!cJSON_IsNumber(e)) {
            hp_ids_free(&ids);
            return hp_fail(err, "expected a JSON array of ids");
        }
        hp_ids_push(&ids, (int32_t)e->valuedouble);
    }
    hp_buf text = {0};
    hp_tok_decode_buf(d->tok, ids.data, ids.len, d->skip_special, &text);
    print_json_string(text.data ? text.data : "", text.len, out);
    hp_buf_free(&text);
    hp_ids_free(&ids);
    return HP_OK;
}

/* Parse ids separated by spaces, commas, newlines or brackets. */
static int parse_ids(const char *s, hp_ids *ids, hp_err *err) {
    while (*s) {
        if (strchr(" \t\r\n,[]", *s)) {
            s++;
            continue;
        }
        char *end;
        long v = strtol(s, &end, 10);
        if (end == s || v < 0 || v > INT32_MAX) return hp_fail(err, "not a token id: '%.20s'", s);
        hp_ids_push(ids, (int32_t)v);
        s = end;
    }
    return HP_OK;
}

static int cmd_decode(int argc, char **argv) {
    const char *path = NULL, *idstr = NULL;
    bool jsonl = false, skip = false;
    hp_opt opts[] = {{"tokenizer", HP_OPT_STR, &path, "tokenizer.json or a directory holding one"},
                     {"ids", HP_OPT_STR, &idstr, "the ids, separated by spaces or commas (default: stdin)"},
                     {"skip-special", HP_OPT_FLAG, &skip, "leave out special tokens"},
                     {"jsonl", HP_OPT_FLAG, &jsonl, "stdin holds one JSON id array per line; print a JSON string per line"},
                     {0}};
    int a = hp_args_parse(argc, argv, 3, opts, "usage: hiper tokenizer decode --tokenizer PATH [--ids \"1 2 3\" | < file]", NULL, 0, NULL);
    if (a) return a == 1 ? HP_EXIT_OK : HP_EXIT_USAGE;
    int rc = HP_EXIT_OK;
    hp_tok *t = load_or_usage(path, "tokenizer decode", &rc);
    if (!t) return rc;
    hp_err err = {0};
    decode_ctx d = {t, skip};
    if (jsonl) {
        if (each_jsonl_line(decode_line, &d, &err)) rc = hp_cli_error(&err);
    } else {
        size_t len;
        char *owned = idstr ? NULL : read_stream(stdin, &len);
        hp_ids ids = {0};
        if (parse_ids(idstr ? idstr : owned, &ids, &err)) {
            rc = hp_cli_error(&err);
        } else {
            hp_buf text = {0};
            hp_tok_decode_buf(t, ids.data, ids.len, skip, &text);
            if (hp_cli_write(text.data, text.len, &err)) rc = hp_cli_error(&err);
            hp_buf_free(&text);
        }
        hp_ids_free(&ids);
        free(owned);
    }
    hp_tok_free(t);
    return rc;
}

typedef struct {
    hp_tok *tok; /* NULL: print the text */
    bool gen;
    bool jsonl;
} chat_ctx;

/* A message list: [{"role": ..., "content": ...}, ...]. */
static int chat_value(const cJSON *v, void *ctx, hp_buf *out, hp_err *err) {
    chat_ctx *c = ctx;
    if (!cJSON_IsArray(v)) return hp_fail(err, "expected a JSON array of {\"role\", \"content\"} messages");
    int n = cJSON_GetArraySize(v), i = 0;
    hp_chat_msg *msgs = hp_xcalloc((size_t)n + 1, sizeof *msgs);
    const cJSON *m;
    cJSON_ArrayForEach(m, v) {
        const cJSON *role = cJSON_GetObjectItemCaseSensitive(m, "role");
        const cJSON *content = cJSON_GetObjectItemCaseSensitive(m, "content");
        if (!cJSON_IsString(role) || !cJSON_IsString(content)) {
            free(msgs);
            return hp_fail(err, "message %d needs string \"role\" and \"content\"", i);
        }
        msgs[i++] = (hp_chat_msg){role->valuestring, content->valuestring};
    }
    char *text = hp_chat_render(msgs, n, c->gen);
    free(msgs);
    int rc = HP_OK;
    if (c->tok) {
        hp_ids ids = {0};
        rc = hp_tok_encode(c->tok, text, strlen(text), &ids, err);
        if (!rc) print_ids(&ids, c->jsonl, out);
        hp_ids_free(&ids);
    } else if (c->jsonl) {
        print_json_string(text, strlen(text), out);
    } else {
        hp_buf_puts(out, text);
    }
    free(text);
    return rc;
}

static int cmd_chat(int argc, char **argv) {
    const char *path = NULL;
    bool gen = false, jsonl = false;
    hp_opt opts[] = {{"add-generation-prompt", HP_OPT_FLAG, &gen, "end with the assistant turn's header"},
                     {"tokenizer", HP_OPT_STR, &path, "print the ids of the rendered text instead of the text"},
                     {"jsonl", HP_OPT_FLAG, &jsonl, "one message array per stdin line; one JSON line out per input"},
                     {0}};
    int a = hp_args_parse(argc, argv, 3, opts,
                          "usage: hiper tokenizer chat [--add-generation-prompt] < messages.json\n"
                          "  messages.json: [{\"role\": \"user\", \"content\": \"...\"}, ...] (Qwen2.5 template, no tools)",
                          NULL, 0, NULL);
    if (a) return a == 1 ? HP_EXIT_OK : HP_EXIT_USAGE;
    int rc = HP_EXIT_OK;
    chat_ctx c = {NULL, gen, jsonl};
    if (path && !(c.tok = load_or_usage(path, "tokenizer chat", &rc))) return rc;
    hp_err err = {0};
    if (jsonl) {
        if (each_jsonl_line(chat_value, &c, &err)) rc = hp_cli_error(&err);
    } else {
        size_t len;
        char *all = read_stream(stdin, &len);
        cJSON *v = cJSON_ParseWithLength(all, len);
        hp_buf out = {0};
        if (!v) rc = hp_cli_errorf("stdin: not valid JSON");
        else if (chat_value(v, &c, &out, &err) || hp_cli_write(out.data, out.len, &err)) rc = hp_cli_error(&err);
        hp_buf_free(&out);
        cJSON_Delete(v);
        free(all);
    }
    hp_tok_free(c.tok);
    return rc;
}

static int cmd_train(int argc, char **argv) {
    const char *corpus = NULL, *out = NULL;
    int64_t vocab = 0, minf = 2;
    hp_opt opts[] = {{"corpus", HP_OPT_STR, &corpus, "the training text (UTF-8)"},
                     {"vocab-size", HP_OPT_INT, &vocab, "vocabulary size, counting the 256 bytes and 3 special tokens"},
                     {"min-frequency", HP_OPT_INT, &minf, "stop when the best pair occurs fewer times (default 2)"},
                     {"out", HP_OPT_STR, &out, "output directory (tokenizer.json, tokenizer_config.json)"},
                     {0}};
    int a = hp_args_parse(argc, argv, 3, opts, "usage: hiper tokenizer train --corpus FILE --vocab-size N --out DIR", NULL, 0, NULL);
    if (a) return a == 1 ? HP_EXIT_OK : HP_EXIT_USAGE;
    if (!corpus || !out) return hp_cli_usage_error("tokenizer train", "--corpus and --out are required");
    if (vocab < 259 || vocab > 10000000) return hp_cli_usage_error("tokenizer train", "--vocab-size must be between 259 and 10000000");
    hp_err err = {0};
    char *text = NULL;
    size_t len = 0;
    if (hp_read_file(corpus, &text, &len, &err)) return hp_cli_error(&err);
    int rc = HP_EXIT_OK;
    hp_bpe_trainer *tr = hp_bpe_trainer_new(NULL, &err);
    if (!tr || hp_bpe_trainer_feed(tr, text, len, &err) ||
        hp_bpe_trainer_write(tr, (int32_t)vocab, minf, out, &err)) {
        hp_err_wrap(&err, "%s", corpus);
        rc = hp_cli_error(&err);
    }
    hp_bpe_trainer_free(tr);
    free(text);
    return rc;
}

int hp_cmd_tokenizer(int argc, char **argv) {
    static const char usage[] =
        "usage: hiper tokenizer SUBCOMMAND [options]   (hiper tokenizer SUBCOMMAND --help)\n\n"
        "subcommands:\n"
        "  encode   text → token ids\n"
        "  decode   token ids → text\n"
        "  chat     render chat messages (JSON on stdin) with the Qwen2.5 template\n"
        "  train    learn a byte-level BPE tokenizer from a corpus";
    if (argc < 3) {
        fprintf(stderr, "%s\n", usage);
        return HP_EXIT_USAGE;
    }
    const char *sub = argv[2];
    if (!strcmp(sub, "--help") || !strcmp(sub, "-h") || !strcmp(sub, "help")) {
        printf("%s\n", usage);
        return HP_EXIT_OK;
    }
    if (!strcmp(sub, "encode")) return cmd_encode(argc, argv);
    if (!strcmp(sub, "decode")) return cmd_decode(argc, argv);
    if (!strcmp(sub, "chat")) return cmd_chat(argc, argv);
    if (!strcmp(sub, "train")) return cmd_train(argc, argv);
    return hp_cli_usage_error("tokenizer", "unknown subcommand '%s'", sub);
}
