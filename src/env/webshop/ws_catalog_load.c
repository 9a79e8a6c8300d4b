/* Loader for WebShop's own catalog files (spec §2): items_shuffle_1000.json (or items_shuffle.json) with
 * items_ins_v2_1000.json (or items_ins_v2.json) from one folder. Records are converted to the loaded
 * schema of §2.2; a malformed file or record is an error naming the file and the record. */
#include "env/webshop/ws.h"

#include <stdlib.h>
#include <string.h>

/* ---- heuristic title nouns (stand-in for spaCy NOUN/PROPN tags on real titles) ------------------- */

static const char *const ws_not_nouns[] = {
    "a", "an", "and", "the", "for", "with", "of", "in", "on", "to", "by", "or", "at", "from", "as", "is", "it",
    "new", "best", "large", "small", "big", "mini", "extra", "super", "ultra", "premium", "soft", "black", "white",
    "red", "blue", "green", "pink", "grey", "gray", "natural", "organic", "portable", "adjustable", "wireless",
    "waterproof", "compatible", "durable", "lightweight", "non", "free", "high", "low", "long", "short", "easy",
    "classic", "modern", "vintage", "cute", "sexy", "comfortable", "professional", "heavy", "duty", "fresh", "pure",
    "1", "2", "3", "4", "5", "6", "x", "pcs", "pack", "set"};

static bool ws_not_noun(const char *w) {
    for (size_t i = 0; i < sizeof ws_not_nouns / sizeof *ws_not_nouns; i++)
        if (!strcmp(w, ws_not_nouns[i])) return true;
    for (const char *p = w; *p; p++)
        if (!((*p >= '0' && *p <= '9') || *p == '.')) return false;
    return true; /* a number */
}

void ws_title_nouns(ws_arena *a, const char *title, const char ***out, int *n) {
    size_t len = strlen(title);
    const char **v = ws_arena_alloc(a, (len / 2 + 1) * sizeof(char *));
    int k = 0;
    for (size_t i = 0; i < len;) {
        while (i < len && !((title[i] >= 'a' && title[i] <= 'z') || (title[i] >= 'A' && title[i] <= 'Z') ||
                            (title[i] >= '0' && title[i] <= '9') || (unsigned char)title[i] >= 0x80))
            i++;
        size_t b = i;
        while (i < len && ((title[i] >= 'a' && title[i] <= 'z') || (title[i] >= 'A' && title[i] <= 'Z') ||
                           (title[i] >= '0' && title[i] <= '9') || (unsigned char)title[i] >= 0x80 || title[i] == '.'))
            i++;
        if (i == b) continue;
        char *wd = ws_arena_strndup(a, title + b, i - b);
        ws_lower_inplace(wd);
        if (!ws_not_noun(wd)) v[k++] = wd;
    }
    *out = v;
    *n = k;
}

/* ---- record conversion --------------------------------------------------------------------------- */

static const char *ws_json_str(ws_arena *a, const cJSON *o, const char *key) {
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
    return ws_arena_strdup(a, cJSON_IsString(v) ? v->valuestring : "");
}

/* "$19.99$27.99" -> up to two numbers; none -> 100.0 (spec §2.2 step 4). */
static void ws_parse_price(ws_world *w, ws_product *p, const char *pricing) {
    double nums[2];
    int n = 0;
    const char *s = strchr(pricing, '$');
    while (s && n < 2) {
        s++;
        const char *e = strchr(s, '$');
        size_t len = e ? (size_t)(e - s) : strlen(s);
        char buf[64];
        size_t k = 0;
        for (size_t i = 0; i < len && k < sizeof buf - 1; i++)
            if ((s[i] >= '0' && s[i] <= '9') || s[i] == '.') buf[k++] = s[i];
        buf[k] = 0;
        double v;
        if (k && hp_parse_f64(buf, &v)) nums[n++] = v;
        s = e;
    }
    char x[32], y[32], tag[80];
    if (!n) {
        p->price_tag = "$100.0";
        p->reward_price = 100.0;
        return;
    }
    ws_py_float(nums[0], x, sizeof x);
    if (n == 1) {
        snprintf(tag, sizeof tag, "$%s", x);
        p->reward_price = nums[0];
    } else {
        ws_py_float(nums[1], y, sizeof y);
        snprintf(tag, sizeof tag, "$%s to $%s", x, y);
        p->reward_price = nums[0] + (nums[1] - nums[0]) * ws_py_random(&w->py); /* random.uniform */
    }
    p->price_tag = ws_arena_strdup(&w->arena, tag);
}

static char *ws_option_value(const char *v) {
    size_t len;
    const char *s = ws_strip(v, &len);
    hp_buf b = {0};
    for (size_t i = 0; i < len; i++)
        if (s[i] == '/') hp_buf_puts(&b, " | ");
        else hp_buf_putc(&b, s[i]);
    hp_buf_putc(&b, 0), b.len--;
    ws_lower_inplace(b.data);
    return hp_buf_take(&b);
}

static int ws_load_options(ws_world *w, ws_product *p, const cJSON *co, const char *file, int rec, hp_err *err) {
    if (!co || cJSON_IsString(co) || cJSON_IsNull(co)) return HP_OK;
    if (!cJSON_IsObject(co)) return hp_fail(err, "%s: record %d: 'customization_options' is not an object", file, rec);
    int n = cJSON_GetArraySize(co), k = 0;
    p->options = ws_arena_alloc(&w->arena, (size_t)(n ? n : 1) * sizeof(ws_option));
    const cJSON *grp;
    cJSON_ArrayForEach(grp, co) {
        if (cJSON_IsNull(grp)) continue;
        if (!cJSON_IsArray(grp)) return hp_fail(err, "%s: record %d: option '%s' is not a list", file, rec, grp->string);
        if (k >= WS_MAX_OPT_GROUPS) return hp_fail(err, "%s: record %d: more than %d option groups", file, rec, WS_MAX_OPT_GROUPS);
        ws_option *o = &p->options[k++];
        char *name = ws_lower(grp->string ? grp->string : "");
        o->name = ws_arena_strdup(&w->arena, name);
        free(name);
        int nv = cJSON_GetArraySize(grp);
        o->values = ws_arena_alloc(&w->arena, (size_t)(nv ? nv : 1) * sizeof(char *));
        const cJSON *val;
        cJSON_ArrayForEach(val, grp) {
            const cJSON *vs = cJSON_GetObjectItemCaseSensitive(val, "value");
            if (!cJSON_IsString(vs)) return hp_fail(err, "%s: record %d: option '%s' has a value without a 'value' string", file, rec, o->name);
            char *v = ws_option_value(vs->valuestring);
            o->values[o->n_values++] = ws_arena_strdup(&w->arena, v);
            free(v);
        }
    }
    p->n_options = k;
    return HP_OK;
}

static const char **ws_str_list(ws_arena *a, const cJSON *arr, int *n) {
    int m = cJSON_GetArraySize(arr), k = 0;
    const char **v = ws_arena_alloc(a, (size_t)(m ? m : 1) * sizeof(char *));
    const cJSON *it;
    cJSON_ArrayForEach(it, arr) if (cJSON_IsString(it)) v[k++] = ws_arena_strdup(a, it->valuestring);
    *n = k;
    return v;
}

/* The human instructions of one product (items_human_ins.json value: a list of objects). */
static int ws_load_human(ws_world *w, ws_product *p, const cJSON *list, const char *file, hp_err *err) {
    if (!cJSON_IsArray(list)) return hp_fail(err, "%s: ASIN %s: expected a list of instructions", file, p->asin);
    int n = cJSON_GetArraySize(list);
    p->human = ws_arena_alloc(&w->arena, (size_t)(n ? n : 1) * sizeof(ws_human_ins));
    const cJSON *it;
    cJSON_ArrayForEach(it, list) {
        const cJSON *t = cJSON_GetObjectItemCaseSensitive(it, "instruction");
        const cJSON *a = cJSON_GetObjectItemCaseSensitive(it, "instruction_attributes");
        const cJSON *o = cJSON_GetObjectItemCaseSensitive(it, "instruction_options");
        if (!cJSON_IsString(t)) return hp_fail(err, "%s: ASIN %s: an instruction without an 'instruction' string", file, p->asin);
        ws_human_ins *h = &p->human[p->n_human++];
        h->text = ws_arena_strdup(&w->arena, t->valuestring);
        if (cJSON_IsArray(a)) h->attrs = ws_str_list(&w->arena, a, &h->n_attrs);
        if (cJSON_IsArray(o)) h->opts = ws_str_list(&w->arena, o, &h->n_opts);
    }
    return HP_OK;
}

static const char *const ws_dummy_attr[] = {"DUMMY_ATTR"};

static int ws_load_record(ws_world *w, ws_product *p, const cJSON *rec, const cJSON *ins, int i, const char *file,
                          const char *attr_file, hp_err *err) {
    const cJSON *asin = cJSON_GetObjectItemCaseSensitive(rec, "asin");
    snprintf(p->asin, sizeof p->asin, "%s", asin->valuestring);
    p->title = ws_json_str(&w->arena, rec, "name");
    p->desc = ws_json_str(&w->arena, rec, "full_description");
    const cJSON *sd = cJSON_GetObjectItemCaseSensitive(rec, "small_description");
    if (cJSON_IsArray(sd)) p->bullets = ws_str_list(&w->arena, sd, &p->n_bullets);
    else {
        p->bullets = ws_arena_alloc(&w->arena, sizeof(char *));
        p->bullets[0] = ws_arena_strdup(&w->arena, cJSON_IsString(sd) ? sd->valuestring : "");
        p->n_bullets = 1;
    }
    char *q = ws_lower(cJSON_IsString(cJSON_GetObjectItemCaseSensitive(rec, "query"))
                           ? cJSON_GetObjectItemCaseSensitive(rec, "query")->valuestring : "");
    size_t ql;
    const char *qs = ws_strip(q, &ql);
    p->query = ws_arena_strndup(&w->arena, qs, ql);
    free(q);
    p->category = ws_json_str(&w->arena, rec, "category");
    p->product_category = ws_json_str(&w->arena, rec, "product_category");
    const cJSON *pr = cJSON_GetObjectItemCaseSensitive(rec, "pricing");
    ws_parse_price(w, p, cJSON_IsString(pr) ? pr->valuestring : "");
    if (ws_load_options(w, p, cJSON_GetObjectItemCaseSensitive(rec, "customization_options"), file, i, err)) return HP_FAIL;
    const cJSON *attrs = cJSON_GetObjectItemCaseSensitive(ins, "attributes");
    if (!ins) { /* human-goal mode: a product absent from the attribute file gets DUMMY_ATTR */
        p->attrs = (const char **)ws_dummy_attr;
        p->n_attrs = 1;
        ws_title_nouns(&w->arena, p->title, &p->nouns, &p->n_nouns);
        return HP_OK;
    }
    if (!cJSON_IsArray(attrs)) return hp_fail(err, "%s: ASIN %s has no 'attributes' list", attr_file, p->asin);
    p->attrs = ws_str_list(&w->arena, attrs, &p->n_attrs);
    const cJSON *it = cJSON_GetObjectItemCaseSensitive(ins, "instruction");
    const cJSON *ia = cJSON_GetObjectItemCaseSensitive(ins, "instruction_attributes");
    if (cJSON_IsString(it) && cJSON_IsArray(ia)) {
        p->instruction = ws_arena_strdup(&w->arena, it->valuestring);
        p->ins_attrs = ws_str_list(&w->arena, ia, &p->n_ins_attrs);
    }
    ws_title_nouns(&w->arena, p->title, &p->nouns, &p->n_nouns);
    return HP_OK;
}

static cJSON *ws_parse_file(const char *path, hp_err *err) {
    char *data;
    size_t len;
    if (hp_read_file(path, &data, &len, err)) return NULL;
    const char *end = NULL;
    cJSON *root = cJSON_ParseWithLengthOpts(data, len, &end, false);
    if (!root) {
        size_t off = end ? (size_t)(end - data) : 0;
        hp_fail(err, "%s: malformed JSON near byte %zu", path, off);
    }
    free(data);
    return root;
}

static char *ws_first_existing(const char *dir, const char *a, const char *b) {
    char *p = hp_path_join(dir, a);
    if (hp_path_exists(p)) return p;
    free(p);
    p = hp_path_join(dir, b);
    if (hp_path_exists(p)) return p;
    free(p);
    return NULL;
}

int ws_catalog_load(ws_world *w, const char *dir, uint64_t seed, hp_err *err) {
    char *items = ws_first_existing(dir, "items_shuffle_1000.json", "items_shuffle.json");
    char *attrs = ws_first_existing(dir, "items_ins_v2_1000.json", "items_ins_v2.json");
    char *human = w->human_goals ? hp_path_join(dir, "items_human_ins.json") : NULL;
    cJSON *root = NULL, *ins = NULL, *hum = NULL;
    int rc = HP_FAIL, *seen = NULL;
    if (!items || !attrs) {
        hp_fail(err, "%s: catalog_dir needs items_shuffle_1000.json (or items_shuffle.json) and items_ins_v2_1000.json (or items_ins_v2.json)", dir);
        goto done;
    }
    if (!(root = ws_parse_file(items, err)) || !(ins = ws_parse_file(attrs, err))) goto done;
    if (human && !(hum = ws_parse_file(human, err))) goto done;
    if (hum && !cJSON_IsObject(hum)) {
        hp_fail(err, "%s: expected a JSON object ASIN -> list of instructions", human);
        goto done;
    }
    if (!cJSON_IsArray(root)) {
        hp_fail(err, "%s: expected a JSON list of product records", items);
        goto done;
    }
    if (!cJSON_IsObject(ins)) {
        hp_fail(err, "%s: expected a JSON object ASIN -> attributes", attrs);
        goto done;
    }
    int n = cJSON_GetArraySize(root), k = 0, skipped = 0;
    size_t cap = 16;
    while (cap < (size_t)n * 2) cap <<= 1;
    seen = hp_xmalloc(cap * sizeof(int)); /* open addressing: product index per ASIN, -1 = empty */
    for (size_t j = 0; j < cap; j++) seen[j] = -1;
    w->products = hp_xcalloc((size_t)(n ? n : 1), sizeof(ws_product));
    ws_py_seed(&w->py, seed); /* verl-agent seeds Python's random with the env seed before loading */
    w->py_seeded = true;
    const cJSON *rec;
    int i = 0;
    cJSON_ArrayForEach(rec, root) {
        const cJSON *asin = cJSON_GetObjectItemCaseSensitive(rec, "asin");
        if (!cJSON_IsObject(rec) || !cJSON_IsString(asin)) {
            hp_fail(err, "%s: record %d is not an object with an 'asin' string", items, i);
            goto done;
        }
        const char *a = asin->valuestring;
        bool dup = false;
        size_t h = hp_hash64(a, strlen(a), 3) & (cap - 1);
        for (; seen[h] >= 0 && !dup; h = (h + 1) & (cap - 1)) dup = !strcmp(w->products[seen[h]].asin, a);
        const cJSON *pi = cJSON_GetObjectItemCaseSensitive(ins, a);
        if (!strcmp(a, "nan") || strlen(a) > 10 || dup || (!pi && !hum)) {
            skipped += !pi && !dup && strcmp(a, "nan") && strlen(a) <= 10;
            i++;
            continue;
        }
        if (ws_load_record(w, &w->products[k], rec, pi, i, items, attrs, err)) goto done;
        const cJSON *hl = hum ? cJSON_GetObjectItemCaseSensitive(hum, a) : NULL;
        if (hl && ws_load_human(w, &w->products[k], hl, human, err)) goto done;
        seen[h] = k;
        k++, i++;
    }
    w->n_products = k;
    snprintf(w->source, sizeof w->source, "%s (%d products, %d skipped: not in %s)", items, k, skipped, attrs);
    rc = HP_OK;
done:
    free(seen);
    cJSON_Delete(root);
    cJSON_Delete(ins);
    cJSON_Delete(hum);
    free(human);
    free(items);
    free(attrs);
    return rc;
}
