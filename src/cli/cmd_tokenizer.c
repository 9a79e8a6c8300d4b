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

static void print_ids(const hp_ids *ids, bool json) {
    hp_buf b = {0};
    if (json) hp_buf_putc(&b, '[');
    for (size_t i = 0; i < ids->len; i++) hp_buf_printf(&b, i ? (json ? ",%d" : " %d") : "%d", (int)ids->data[i]);
    if (json) hp_buf_putc(&b, ']');
    hp_buf_putc(&b, '\n');
    fwrite(b.data, 1, b.len, stdout);
    hp_buf_free(&b);
}

static void print_json_string(const char *s) {
    cJSON *j = cJSON_CreateString(s);
    char *out = cJSON_PrintUnformatted(j);
    puts(out);
    free(out);
    cJSON_Delete(j);
}

/* Call fn on every line of stdin (a JSON value each). */
typedef int (*line_fn)(const cJSON *value, void *ctx, hp_err *err);

static int each_jsonl_line(line_fn fn, void *ctx, hp_err *err) {
    size_t len;
    char *all = read_stream(stdin, &len);
    int rc = HP_OK, line = 0;
    for (char *p = all, *nl; p < all + len; p = nl + 1) {
        line++;
        nl = memchr(p, '\n', (size_t)(all + len - p));
        if (!nl) nl = all + len;
        if (nl == p) continue;
        cJSON *v = cJSON_ParseWithLength(p, (size_t)(nl - p));
        if (!v) rc = hp_fail(err, "stdin line %d: not valid JSON", line);
        else rc = fn(v, ctx, err);
        cJSON_Delete(v);
        if (rc) {
            hp_err_wrap(err, "stdin line %d", line);
            break;
        }
    }
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

static int encode_line(const cJSON *v, void *ctx, hp_err *err) {
    if (!cJSON_IsString(v)) return hp_fail(err, "expected a JSON string");
    hp_ids ids = {0};
    int rc = hp_tok_encode(ctx, v->valuestring, strlen(v->valuestring), &ids, err);
    if (!rc) print_ids(&ids, true);
    hp_ids_free(&ids);
    return rc;
}

static int cmd_encode(int argc, char **argv) {
    const char *path = NULL, *text = NULL;
    bool jsonl = false;
    hp_opt opts[] = {{"tokenizer", HP_OPT_STR, &path, "tokenizer.json or a directory holding one"},
                     {"text", HP_OPT_STR, &text, "the text (default: all of stdin)"},
                     {"jsonl", HP_OPT_FLAG, &jsonl, "stdin holds one JSON string per line; print a JSON id array per line"},
                     {0}};
    int a = hp_args_parse(argc, argv, 3, opts, "usage: hiper tokenizer encode --tokenizer PATH [--text T | < file]", NULL, 0, NULL);
    if (a) return a == 1 ? HP_EXIT_OK : HP_EXIT_USAGE;
    int rc = HP_EXIT_OK;
    hp_tok *t = load_or_usage(path, "tokenizer encode", &rc);
    if (!t) return rc;
    hp_err err = {0};
    if (jsonl) {
        if (each_jsonl_line(encode_line, t, &err)) rc = hp_cli_error(&err);
    } else {
        size_t len = 0;
        char *owned = text ? NULL : read_stream(stdin, &len);
        const char *s = text ? text : owned;
        if (text) len = strlen(text);
        hp_ids ids = {0};
        if (hp_tok_encode(t, s, len, &ids, &err)) rc = hp_cli_error(&err);
        else print_ids(&ids, false);
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

static int decode_line(const cJSON *v, void *ctx, hp_err *err) {
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
    char *s = hp_tok_decode_ex(d->tok, ids.data, ids.len, d->skip_special);
    print_json_string(s);
    free(s);
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
            char *s = hp_tok_decode_ex(t, ids.data, ids.len, skip);
            fputs(s, stdout);
            free(s);
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
static int chat_value(const cJSON *v, void *ctx, hp_err *err) {
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
        if (!rc) print_ids(&ids, c->jsonl);
        hp_ids_free(&ids);
    } else if (c->jsonl) {
        print_json_string(text);
    } else {
        fputs(text, stdout);
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
        if (!v) rc = hp_cli_errorf("stdin: not valid JSON");
        else if (chat_value(v, &c, &err)) rc = hp_cli_error(&err);
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
