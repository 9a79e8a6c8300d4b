/* Loading a Hugging Face tokenizer.json: the byte-level BPE model, added tokens, the NFC normalizer and
 * the Split pre-tokenizer. Anything this module does not implement is refused with an error naming the
 * key, so that a file never silently encodes differently from Hugging Face. */
#include "tok_internal.h"

#include "hiper/json.h"

#include <cjson/cJSON.h>
#include <stdlib.h>
#include <string.h>

/* Ids above this are refused: no real vocabulary is near it, and the id table is sized by the largest id. */
#define HP_TOK_MAX_ID 4000000

static const cJSON *get(const cJSON *obj, const char *key) {
    return cJSON_GetObjectItemCaseSensitive(obj, key);
}

static bool is_null(const cJSON *j) { return !j || cJSON_IsNull(j); }

static const char *get_type(const cJSON *obj) {
    const cJSON *t = get(obj, "type");
    return cJSON_IsString(t) ? t->valuestring : NULL;
}

static int bad(const char *path, hp_err *err, const char *fmt, ...) HP_PRINTF(3, 4);
static int bad(const char *path, hp_err *err, const char *fmt, ...) {
    char what[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(what, sizeof what, fmt, ap);
    va_end(ap);
    return hp_fail(err, "%s: %s", path, what);
}

/* The id table: grow to hold id, return false for a negative id. */
static void ensure_id(hp_tok *t, int32_t id) {
    if (id < t->n_ids) return;
    int32_t n = t->n_ids ? t->n_ids : 1024;
    while (n <= id) n *= 2;
    t->tok_str = hp_xrealloc(t->tok_str, (size_t)n * sizeof *t->tok_str);
    t->tok_bytes = hp_xrealloc(t->tok_bytes, (size_t)n * sizeof *t->tok_bytes);
    t->tok_nbytes = hp_xrealloc(t->tok_nbytes, (size_t)n * sizeof *t->tok_nbytes);
    t->is_special = hp_xrealloc(t->is_special, (size_t)n * sizeof *t->is_special);
    t->is_added = hp_xrealloc(t->is_added, (size_t)n * sizeof *t->is_added);
    for (int32_t i = t->n_ids; i < n; i++) {
        t->tok_str[i] = NULL;
        t->tok_bytes[i] = NULL;
        t->tok_nbytes[i] = 0;
        t->is_special[i] = false;
        t->is_added[i] = false;
    }
    t->n_ids = n;
}

static void set_token(hp_tok *t, int32_t id, const char *s) {
    ensure_id(t, id);
    free(t->tok_str[id]);
    t->tok_str[id] = hp_xstrdup(s);
}

/* s as a JSON string literal (quotes and control characters escaped) in out[0..cap), for messages. */
static const char *quoted(const char *s, char *out, size_t cap) {
    hp_buf b = {0};
    hp_buf_json_string(&b, s);
    snprintf(out, cap, "%s", b.data);
    hp_buf_free(&b);
    return out;
}

/* Every id is given once (and every token string once: hp_tok_load refuses a key twice): a duplicate
 * would make two strings decode from one id, and the file encode differently from Hugging Face. */
static int load_vocab(hp_tok *t, const cJSON *model, hp_err *err) {
    const cJSON *vocab = get(model, "vocab");
    if (!cJSON_IsObject(vocab)) return bad(t->path, err, "model.vocab is missing or not an object");
    int rc = HP_OK;
    const cJSON *e;
    cJSON_ArrayForEach(e, vocab) {
        if (!cJSON_IsNumber(e) || e->valuedouble < 0 || e->valuedouble > HP_TOK_MAX_ID || e->valuedouble != (double)e->valueint) {
            rc = bad(t->path, err, "model.vocab[\"%s\"] is not a valid id", e->string);
            break;
        }
        int32_t id = e->valueint; /* a token listed twice is refused before (hp_json_duplicate_key) */
        char q1[256], q2[256];
        if (id < t->n_ids && t->tok_str[id]) {
            rc = bad(t->path, err, "model.vocab: id %d is given to both %s and %s", id, quoted(t->tok_str[id], q1, sizeof q1),
                     quoted(e->string, q2, sizeof q2));
            break;
        }
        set_token(t, id, e->string);
    }
    return rc;
}

/* Ids run from 0 to the largest without a gap (added tokens included): an id with no token would
 * decode to nothing and shift what the model's rows mean. */
static int check_no_gap(hp_tok *t, hp_err *err) {
    int32_t last = t->n_ids - 1;
    while (last >= 0 && !t->tok_str[last]) last--;
    for (int32_t i = 0; i < last; i++)
        if (!t->tok_str[i])
            return bad(t->path, err, "no token has id %d (model.vocab and added_tokens must cover the ids 0..%d "
                                     "without a gap)", i, last);
    return HP_OK;
}

/* One merge as "a b" or ["a", "b"]: split into its two parts (a and b point into scratch or the JSON). */
static int merge_parts(hp_tok *t, const cJSON *m, size_t i, const char **a, size_t *na, const char **b,
                       size_t *nb, hp_err *err) {
    char idx[32];
    snprintf(idx, sizeof idx, "%zu", i);
    if (cJSON_IsString(m)) {
        const char *s = m->valuestring;
        const char *sp = strchr(s, ' ');
        if (!sp || strchr(sp + 1, ' '))
            return bad(t->path, err, "model.merges[%s] \"%s\" is not two tokens separated by one space", idx, s);
        *a = s, *na = (size_t)(sp - s), *b = sp + 1, *nb = strlen(sp + 1);
        return HP_OK;
    }
    if (cJSON_IsArray(m) && cJSON_GetArraySize(m) == 2 && cJSON_IsString(m->child) &&
        cJSON_IsString(m->child->next)) {
        *a = m->child->valuestring, *na = strlen(*a);
        *b = m->child->next->valuestring, *nb = strlen(*b);
        return HP_OK;
    }
    return bad(t->path, err, "model.merges[%s] is neither \"a b\" nor [\"a\", \"b\"]", idx);
}

static int load_merges(hp_tok *t, const cJSON *model, hp_err *err) {
    const cJSON *merges = get(model, "merges");
    if (is_null(merges)) merges = NULL;
    else if (!cJSON_IsArray(merges)) return bad(t->path, err, "model.merges is not an array");
    hp_pairmap_init(&t->merges, merges ? (size_t)cJSON_GetArraySize(merges) : 16);
    if (!merges) return HP_OK;
    hp_buf cat = {0};
    size_t i = 0;
    const cJSON *m;
    int rc = HP_OK;
    cJSON_ArrayForEach(m, merges) {
        const char *a = NULL, *b = NULL;
        size_t na = 0, nb = 0;
        if ((rc = merge_parts(t, m, i, &a, &na, &b, &nb, err))) break;
        int32_t ia = hp_strmap_get(&t->str_to_id, a, na), ib = hp_strmap_get(&t->str_to_id, b, nb);
        hp_buf_clear(&cat);
        hp_buf_append(&cat, a, na);
        hp_buf_append(&cat, b, nb);
        int32_t im = hp_strmap_get(&t->str_to_id, cat.data, cat.len);
        if (ia < 0 || ib < 0 || im < 0) {
            char idx[32];
            snprintf(idx, sizeof idx, "%zu", i);
            rc = bad(t->path, err, "model.merges[%s]: token \"%s\" is not in the vocabulary", idx,
                     ia < 0 ? (hp_buf_clear(&cat), hp_buf_append(&cat, a, na), cat.data)
                     : ib < 0 ? (hp_buf_clear(&cat), hp_buf_append(&cat, b, nb), cat.data)
                              : cat.data);
            break;
        }
        hp_pairmap_add(&t->merges, ia, ib, (int32_t)i, im);
        i++;
    }
    hp_buf_free(&cat);
    return rc;
}

/* Settings of the BPE model that would change the result and that this module does not implement. */
static int check_model(hp_tok *t, const cJSON *model, hp_err *err) {
    const char *type = get_type(model);
    if (!cJSON_IsObject(model)) return bad(t->path, err, "\"model\" is missing");
    if (type && strcmp(type, "BPE")) return bad(t->path, err, "model.type \"%s\" is not supported (only BPE)", type);
    if (!is_null(get(model, "dropout")) && cJSON_IsNumber(get(model, "dropout")) && get(model, "dropout")->valuedouble > 0)
        return bad(t->path, err, "model.dropout is not supported");
    if (cJSON_IsTrue(get(model, "byte_fallback"))) return bad(t->path, err, "model.byte_fallback is not supported");
    if (cJSON_IsTrue(get(model, "ignore_merges"))) return bad(t->path, err, "model.ignore_merges is not supported");
    const char *keys[] = {"continuing_subword_prefix", "end_of_word_suffix"};
    for (int k = 0; k < 2; k++) {
        const cJSON *v = get(model, keys[k]);
        if (cJSON_IsString(v) && v->valuestring[0]) return bad(t->path, err, "model.%s is not supported", keys[k]);
    }
    return HP_OK;
}

static int cmp_added(const void *x, const void *y) {
    const hp_tok_added *a = x, *b = y;
    return strcmp(a->content, b->content);
}

static int load_added(hp_tok *t, const cJSON *root, hp_err *err) {
    const cJSON *arr = get(root, "added_tokens");
    if (is_null(arr)) return HP_OK;
    if (!cJSON_IsArray(arr)) return bad(t->path, err, "added_tokens is not an array");
    int n = cJSON_GetArraySize(arr);
    t->added = hp_xcalloc((size_t)n + 1, sizeof *t->added);
    const cJSON *a;
    int i = 0;
    cJSON_ArrayForEach(a, arr) {
        char idx[32];
        snprintf(idx, sizeof idx, "%d", i);
        const cJSON *id = get(a, "id"), *content = get(a, "content");
        if (!cJSON_IsNumber(id) || id->valuedouble < 0 || id->valuedouble > HP_TOK_MAX_ID ||
            id->valuedouble != (double)id->valueint || !cJSON_IsString(content) ||
            !content->valuestring[0])
            return bad(t->path, err, "added_tokens[%s] needs an \"id\" and a non-empty \"content\"", idx);
        const char *flags[] = {"lstrip", "rstrip", "single_word"};
        for (int f = 0; f < 3; f++)
            if (cJSON_IsTrue(get(a, flags[f])))
                return bad(t->path, err, "added_tokens[%s]: \"%s\": true is not supported", idx, flags[f]);
        int32_t idv = id->valueint;
        char q[256];
        if (idv < t->n_ids && t->tok_str[idv] && (t->is_added[idv] || strcmp(t->tok_str[idv], content->valuestring)))
            return bad(t->path, err, "added_tokens[%s]: id %d is already %s %s", idx, idv,
                       t->is_added[idv] ? "the added token" : "the vocabulary's token", quoted(t->tok_str[idv], q, sizeof q));
        for (int k = 0; k < i; k++)
            if (!strcmp(t->added[k].content, content->valuestring))
                return bad(t->path, err, "added_tokens[%s]: %s is added twice (ids %d and %d)", idx,
                           quoted(content->valuestring, q, sizeof q), t->added[k].id, idv);
        hp_tok_added *d = &t->added[i++];
        t->n_added = i; /* counted at once, so that a later error frees this one */
        d->content = hp_xstrdup(content->valuestring);
        d->len = strlen(d->content);
        d->id = id->valueint;
        d->special = cJSON_IsTrue(get(a, "special"));
        set_token(t, d->id, d->content);
        t->is_special[d->id] = d->special;
        t->is_added[d->id] = true;
        t->added_first_byte[(uint8_t)d->content[0]] = true;
    }
    qsort(t->added, (size_t)i, sizeof *t->added, cmp_added);
    return HP_OK;
}

static int load_normalizer(hp_tok *t, const cJSON *root, hp_err *err) {
    const cJSON *n = get(root, "normalizer");
    if (is_null(n)) return HP_OK;
    const char *type = get_type(n);
    if (type && !strcmp(type, "Sequence")) {
        const cJSON *list = get(n, "normalizers"), *e;
        if (!cJSON_IsArray(list)) return bad(t->path, err, "normalizer.normalizers is not an array");
        cJSON_ArrayForEach(e, list) {
            const char *et = get_type(e);
            if (!et || strcmp(et, "NFC")) return bad(t->path, err, "normalizer \"%s\" is not supported (only NFC)", et ? et : "?");
            t->nfc = true;
        }
        return HP_OK;
    }
    if (!type || strcmp(type, "NFC")) return bad(t->path, err, "normalizer \"%s\" is not supported (only NFC)", type ? type : "?");
    t->nfc = true;
    return HP_OK;
}

static int compile_split(hp_tok *t, const cJSON *split, hp_err *err) {
    const cJSON *pat = get(split, "pattern");
    const cJSON *re = get(pat, "Regex"), *lit = get(pat, "String");
    const cJSON *beh = get(split, "behavior");
    if (!cJSON_IsString(re) && !cJSON_IsString(lit))
        return bad(t->path, err, "pre_tokenizer Split needs pattern.Regex or pattern.String");
    if (!cJSON_IsString(beh) || strcmp(beh->valuestring, "Isolated"))
        return bad(t->path, err, "pre_tokenizer Split behavior \"%s\" is not supported (only Isolated)",
                   cJSON_IsString(beh) ? beh->valuestring : "?");
    if (cJSON_IsTrue(get(split, "invert"))) return bad(t->path, err, "pre_tokenizer Split invert is not supported");
    if (t->split_re) return bad(t->path, err, "more than one Split pre-tokenizer is not supported");
    const char *p = cJSON_IsString(re) ? re->valuestring : lit->valuestring;
    t->split_re = hp_tok_regex_compile(p, !cJSON_IsString(re), t->path, err);
    return t->split_re ? HP_OK : HP_FAIL;
}

static int check_bytelevel(hp_tok *t, const cJSON *bl, const char *where, hp_err *err) {
    if (cJSON_IsTrue(get(bl, "add_prefix_space"))) return bad(t->path, err, "%s ByteLevel add_prefix_space is not supported", where);
    if (!cJSON_IsFalse(get(bl, "use_regex")) && !strcmp(where, "pre_tokenizer"))
        return bad(t->path, err, "pre_tokenizer ByteLevel with use_regex is not supported (give the regex as a Split)");
    return HP_OK;
}

static int load_pretok(hp_tok *t, const cJSON *root, hp_err *err) {
    const cJSON *p = get(root, "pre_tokenizer");
    if (is_null(p)) return bad(t->path, err, "pre_tokenizer is missing (a byte-level BPE needs ByteLevel)");
    const char *type = get_type(p);
    const cJSON *list = p, *e;
    bool single = !(type && !strcmp(type, "Sequence"));
    if (!single) {
        list = get(p, "pretokenizers");
        if (!cJSON_IsArray(list)) return bad(t->path, err, "pre_tokenizer.pretokenizers is not an array");
    }
    bool have_bl = false;
    for (e = single ? p : list->child; e; e = single ? NULL : e->next) {
        const char *et = get_type(e);
        if (et && !strcmp(et, "Split")) {
            if (have_bl) return bad(t->path, err, "pre_tokenizer Split after ByteLevel is not supported");
            if (compile_split(t, e, err)) return HP_FAIL;
        } else if (et && !strcmp(et, "ByteLevel")) {
            if (check_bytelevel(t, e, "pre_tokenizer", err)) return HP_FAIL;
            have_bl = true;
        } else {
            return bad(t->path, err, "pre_tokenizer \"%s\" is not supported (only Split and ByteLevel)", et ? et : "?");
        }
    }
    if (!have_bl) return bad(t->path, err, "pre_tokenizer has no ByteLevel step (only byte-level BPE is supported)");
    return HP_OK;
}

static int check_decoder_post(hp_tok *t, const cJSON *root, hp_err *err) {
    const cJSON *d = get(root, "decoder"), *pp = get(root, "post_processor");
    if (!is_null(d) && (!get_type(d) || strcmp(get_type(d), "ByteLevel")))
        return bad(t->path, err, "decoder \"%s\" is not supported (only ByteLevel)", get_type(d) ? get_type(d) : "?");
    if (!is_null(pp) && (!get_type(pp) || strcmp(get_type(pp), "ByteLevel")))
        return bad(t->path, err, "post_processor \"%s\" is not supported (only ByteLevel)", get_type(pp) ? get_type(pp) : "?");
    return HP_OK;
}

/* After everything is read: the id lookup, the bytes of every token and the byte → id table. */
static void finish(hp_tok *t) {
    size_t n = 0;
    for (int32_t i = 0; i < t->n_ids; i++) n += t->tok_str[i] != NULL;
    hp_strmap_init(&t->str_to_id, n);
    hp_buf b = {0};
    for (int32_t i = 0; i < t->n_ids; i++) {
        if (!t->tok_str[i]) continue;
        hp_strmap_put(&t->str_to_id, t->tok_str[i], strlen(t->tok_str[i]), i);
    }
    /* added tokens take precedence over a vocabulary entry with the same string */
    for (int i = 0; i < t->n_added; i++) hp_strmap_put(&t->str_to_id, t->tok_str[t->added[i].id], t->added[i].len, t->added[i].id);
    for (int32_t i = 0; i < t->n_ids; i++) {
        if (!t->tok_str[i]) continue;
        hp_buf_clear(&b);
        hp_bytelevel_decode_token(t->tok_str[i], strlen(t->tok_str[i]), &b);
        t->tok_bytes[i] = hp_xmalloc(b.len + 1);
        memcpy(t->tok_bytes[i], b.data ? b.data : "", b.len + 1);
        t->tok_nbytes[i] = (uint32_t)b.len;
    }
    for (int c = 0; c < 256; c++) {
        hp_buf_clear(&b);
        hp_utf8_put(&b, hp_bytelevel_cp((uint8_t)c));
        t->byte_id[c] = hp_strmap_get(&t->str_to_id, b.data, b.len);
    }
    hp_buf_free(&b);
    t->im_end = hp_strmap_get(&t->str_to_id, "<|im_end|>", 10);
    t->eos = hp_strmap_get(&t->str_to_id, "<|endoftext|>", 13);
}

static int load_json(hp_tok *t, const cJSON *root, hp_err *err) {
    if (!cJSON_IsObject(root)) return bad(t->path, err, "not a JSON object");
    const cJSON *model = get(root, "model");
    if (check_model(t, model, err) || load_vocab(t, model, err) || load_added(t, root, err) || check_no_gap(t, err))
        return HP_FAIL;
    /* merges are resolved against the vocabulary, so build the lookup first */
    finish(t);
    if (load_merges(t, model, err) || load_normalizer(t, root, err) || load_pretok(t, root, err) ||
        check_decoder_post(t, root, err))
        return HP_FAIL;
    /* trim the id table to largest id + 1 */
    int32_t last = t->n_ids - 1;
    while (last >= 0 && !t->tok_str[last]) last--;
    t->n_ids = last + 1;
    return HP_OK;
}

hp_tok *hp_tok_load(const char *path, hp_err *err) {
    hp_tok *t = hp_xcalloc(1, sizeof *t);
    t->path = hp_is_dir(path) ? hp_path_join(path, "tokenizer.json") : hp_xstrdup(path);
    char *data = NULL;
    size_t len = 0;
    if (hp_read_file(t->path, &data, &len, err)) {
        hp_tok_free(t);
        return NULL;
    }
    const char *end = NULL;
    cJSON *root = cJSON_ParseWithLengthOpts(data, len, &end, false);
    int rc;
    const char *dup = root ? hp_json_duplicate_key(root, true) : NULL;
    char q[256];
    if (!root) rc = hp_fail(err, "%s: not valid JSON (error near byte %zu)", t->path, end ? (size_t)(end - data) : (size_t)0);
    else if (dup) /* Hugging Face keeps the last, cJSON finds the first */
        rc = hp_fail(err, "%s: key %s appears twice in one object", t->path, quoted(dup, q, sizeof q));
    else rc = load_json(t, root, err);
    cJSON_Delete(root);
    free(data);
    if (rc) {
        hp_tok_free(t);
        return NULL;
    }
    return t;
}

void hp_tok_free(hp_tok *t) {
    if (!t) return;
    for (int32_t i = 0; i < t->n_ids; i++) {
        free(t->tok_str[i]);
        free(t->tok_bytes[i]);
    }
    /* ids past the trimmed n_ids hold nothing */
    free(t->tok_str);
    free(t->tok_bytes);
    free(t->tok_nbytes);
    free(t->is_special);
    free(t->is_added);
    hp_strmap_free(&t->str_to_id);
    hp_pairmap_free(&t->merges);
    for (int i = 0; i < t->n_added; i++) free(t->added[i].content);
    free(t->added);
    if (t->split_re) pcre2_code_free(t->split_re);
    free(t->path);
    free(t);
}

int32_t hp_tok_vocab_size(const hp_tok *t) { return t->n_ids; }

int32_t hp_tok_id(const hp_tok *t, const char *token) { return hp_strmap_get(&t->str_to_id, token, strlen(token)); }

int32_t hp_tok_im_end(const hp_tok *t) { return t->im_end; }
int32_t hp_tok_eos(const hp_tok *t) { return t->eos; }

bool hp_tok_is_special(const hp_tok *t, int32_t id) { return id >= 0 && id < t->n_ids && t->is_special[id]; }

const char *hp_tok_token_bytes(const hp_tok *t, int32_t id, size_t *len) {
    if (id < 0 || id >= t->n_ids || !t->tok_bytes[id]) return NULL;
    if (len) *len = t->tok_nbytes[id];
    return t->tok_bytes[id];
}

const char *hp_tok_bytes_fn(const void *ctx, int32_t id, size_t *len) { return hp_tok_token_bytes(ctx, id, len); }
