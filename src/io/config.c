/* Qwen2 config.json parse/validate/write — see hiper/config.h. */
#include "hiper/config.h"
#include "hiper/json.h"

#include <cjson/cJSON.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

void hp_config_default(hp_config *c) {
    memset(c, 0, sizeof *c);
    c->hidden_size = 256;
    c->intermediate_size = 704;
    c->num_hidden_layers = 4;
    c->num_attention_heads = 4;
    c->num_key_value_heads = 2;
    c->vocab_size = 4096;
    c->max_position_embeddings = 32768;
    c->rms_norm_eps = 1e-6;
    c->rope_theta = 10000.0;
    c->tie_word_embeddings = true;
    strcpy(c->torch_dtype, "float32");
    c->bos_token_id = -1;
    c->eos_token_id = -1;
    c->num_labels = 0;
    c->head_dim = 64;
}

int hp_config_validate(hp_config *c, const char *what, hp_err *err) {
    struct { const char *k; int v; } pos[] = {
        {"hidden_size", c->hidden_size}, {"intermediate_size", c->intermediate_size},
        {"num_hidden_layers", c->num_hidden_layers}, {"num_attention_heads", c->num_attention_heads},
        {"num_key_value_heads", c->num_key_value_heads}, {"vocab_size", c->vocab_size},
        {"max_position_embeddings", c->max_position_embeddings},
    };
    for (size_t i = 0; i < sizeof pos / sizeof pos[0]; i++)
        if (pos[i].v <= 0) return hp_fail(err, "%s: '%s' must be positive (got %d)", what, pos[i].k, pos[i].v);
    if (c->hidden_size % c->num_attention_heads)
        return hp_fail(err, "%s: 'hidden_size' %d is not divisible by 'num_attention_heads' %d", what,
                       c->hidden_size, c->num_attention_heads);
    if (c->num_attention_heads % c->num_key_value_heads)
        return hp_fail(err, "%s: 'num_attention_heads' %d is not divisible by 'num_key_value_heads' %d", what,
                       c->num_attention_heads, c->num_key_value_heads);
    c->head_dim = c->hidden_size / c->num_attention_heads;
    if (c->head_dim > 1024) return hp_fail(err, "%s: head_dim %d is larger than 1024", what, c->head_dim);
    if (c->head_dim % 2) return hp_fail(err, "%s: head_dim %d must be even for RoPE", what, c->head_dim);
    if (!(c->rms_norm_eps > 0) || !isfinite(c->rms_norm_eps)) return hp_fail(err, "%s: 'rms_norm_eps' must be positive and finite", what);
    if (!(c->rope_theta > 0) || !isfinite(c->rope_theta)) return hp_fail(err, "%s: 'rope_theta' must be positive and finite", what);
    if (c->num_labels < 0) return hp_fail(err, "%s: 'num_labels' must be >= 0", what);
    if (strcmp(c->torch_dtype, "float32") && strcmp(c->torch_dtype, "bfloat16") && strcmp(c->torch_dtype, "float16"))
        return hp_fail(err, "%s: 'torch_dtype' '%s' is not float32, bfloat16 or float16", what, c->torch_dtype);
    return HP_OK;
}

static int get_int(const cJSON *j, const char *key, bool required, int *out, const char *path, hp_err *err) {
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(j, key);
    if (!v || cJSON_IsNull(v)) {
        if (required) return hp_fail(err, "%s: missing key '%s'", path, key);
        return HP_OK;
    }
    if (!cJSON_IsNumber(v) || v->valuedouble != floor(v->valuedouble) || fabs(v->valuedouble) > 2e9)
        return hp_fail(err, "%s: key '%s' must be an integer", path, key);
    *out = (int)v->valuedouble;
    return HP_OK;
}

static int get_num(const cJSON *j, const char *key, double *out, const char *path, hp_err *err) {
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(j, key);
    if (!v || cJSON_IsNull(v)) return HP_OK;
    if (!cJSON_IsNumber(v) || !isfinite(v->valuedouble)) return hp_fail(err, "%s: key '%s' must be a finite number", path, key);
    *out = v->valuedouble;
    return HP_OK;
}

static bool is_set(const cJSON *v) { return v && !cJSON_IsNull(v); }

/* Keys that change what the model computes and that this engine does not implement: refused, never
 * ignored (the engine is Qwen2 with SiLU, plain RoPE, full attention everywhere, no dropout, float
 * weights). Keys that only matter for features off by default (sliding_window without
 * use_sliding_window) pass. */
static int check_unsupported(const cJSON *j, hp_config *c, const char *path, hp_err *err) {
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(j, "hidden_act");
    if (is_set(v) && (!cJSON_IsString(v) || (strcmp(v->valuestring, "silu") && strcmp(v->valuestring, "swish"))))
        return hp_fail(err, "%s: key 'hidden_act' is %s%s%s: only \"silu\" is implemented", path,
                       cJSON_IsString(v) ? "\"" : "", cJSON_IsString(v) ? v->valuestring : "not a string",
                       cJSON_IsString(v) ? "\"" : "");
    /* RoPE: plain only. transformers 5 writes rope_parameters {"rope_type", "rope_theta"}. */
    const char *rope_keys[] = {"rope_scaling", "rope_parameters"};
    for (int k = 0; k < 2; k++) {
        v = cJSON_GetObjectItemCaseSensitive(j, rope_keys[k]);
        if (!is_set(v)) continue;
        if (!cJSON_IsObject(v)) return hp_fail(err, "%s: key '%s' must be an object or null", path, rope_keys[k]);
        const cJSON *type = cJSON_GetObjectItemCaseSensitive(v, "rope_type");
        if (!type) type = cJSON_GetObjectItemCaseSensitive(v, "type");
        bool plain = k == 1 ? !type || (cJSON_IsString(type) && !strcmp(type->valuestring, "default"))
                            : cJSON_IsString(type) && !strcmp(type->valuestring, "default");
        if (!plain)
            return hp_fail(err, "%s: key '%s' asks for RoPE scaling (%s%s%s), which is not implemented (only plain RoPE: "
                           "null or {\"rope_type\": \"default\"})", path, rope_keys[k], cJSON_IsString(type) ? "\"" : "",
                           cJSON_IsString(type) ? type->valuestring : "no rope_type", cJSON_IsString(type) ? "\"" : "");
        const cJSON *pf = cJSON_GetObjectItemCaseSensitive(v, "partial_rotary_factor");
        if (is_set(pf) && !(cJSON_IsNumber(pf) && pf->valuedouble == 1.0))
            return hp_fail(err, "%s: key '%s.partial_rotary_factor': only 1 (RoPE on the whole head) is implemented",
                           path, rope_keys[k]);
        const cJSON *th = cJSON_GetObjectItemCaseSensitive(v, "rope_theta");
        if (is_set(th)) {
            if (!cJSON_IsNumber(th) || !isfinite(th->valuedouble))
                return hp_fail(err, "%s: key '%s.rope_theta' must be a finite number", path, rope_keys[k]);
            const cJSON *top = cJSON_GetObjectItemCaseSensitive(j, "rope_theta");
            if (is_set(top) && cJSON_IsNumber(top) && top->valuedouble != th->valuedouble)
                return hp_fail(err, "%s: keys 'rope_theta' (%g) and '%s.rope_theta' (%g) disagree", path,
                               top->valuedouble, rope_keys[k], th->valuedouble);
            c->rope_theta = th->valuedouble;
        }
    }
    v = cJSON_GetObjectItemCaseSensitive(j, "partial_rotary_factor");
    if (is_set(v) && !(cJSON_IsNumber(v) && v->valuedouble == 1.0))
        return hp_fail(err, "%s: key 'partial_rotary_factor': only 1 (RoPE on the whole head) is implemented", path);
    v = cJSON_GetObjectItemCaseSensitive(j, "use_sliding_window");
    if (is_set(v) && !cJSON_IsFalse(v))
        return hp_fail(err, "%s: key 'use_sliding_window' is %s: sliding-window attention is not implemented (only false)",
                       path, cJSON_IsTrue(v) ? "true" : "not false");
    v = cJSON_GetObjectItemCaseSensitive(j, "layer_types");
    if (is_set(v)) {
        if (!cJSON_IsArray(v)) return hp_fail(err, "%s: key 'layer_types' must be a list", path);
        int i = 0;
        for (const cJSON *e = v->child; e; e = e->next, i++)
            if (!cJSON_IsString(e) || strcmp(e->valuestring, "full_attention"))
                return hp_fail(err, "%s: key 'layer_types[%d]' is not \"full_attention\" (only full attention is "
                               "implemented)", path, i);
    }
    v = cJSON_GetObjectItemCaseSensitive(j, "attention_dropout");
    if (is_set(v) && !(cJSON_IsNumber(v) && v->valuedouble == 0.0))
        return hp_fail(err, "%s: key 'attention_dropout': only 0 is implemented (no dropout)", path);
    v = cJSON_GetObjectItemCaseSensitive(j, "quantization_config");
    if (is_set(v)) return hp_fail(err, "%s: key 'quantization_config': quantized weights are not supported", path);
    v = cJSON_GetObjectItemCaseSensitive(j, "head_dim");
    if (is_set(v) && c->num_attention_heads > 0 &&
        !(cJSON_IsNumber(v) && v->valuedouble == (double)(c->hidden_size / c->num_attention_heads) &&
          c->hidden_size % c->num_attention_heads == 0))
        return hp_fail(err, "%s: key 'head_dim' must equal hidden_size / num_attention_heads (%d / %d): another head "
                       "size is not implemented", path, c->hidden_size, c->num_attention_heads);
    return HP_OK;
}

static int check_arch(const cJSON *j, hp_config *c, const char *path, hp_err *err) {
    const cJSON *mt = cJSON_GetObjectItemCaseSensitive(j, "model_type");
    if (mt && (!cJSON_IsString(mt) || strcmp(mt->valuestring, "qwen2")))
        return hp_fail(err, "%s: key 'model_type' is %s%s%s, only \"qwen2\" is supported", path,
                       cJSON_IsString(mt) ? "\"" : "", cJSON_IsString(mt) ? mt->valuestring : "not a string",
                       cJSON_IsString(mt) ? "\"" : "");
    const cJSON *ar = cJSON_GetObjectItemCaseSensitive(j, "architectures");
    if (!ar) return HP_OK;
    if (!cJSON_IsArray(ar) || cJSON_GetArraySize(ar) != 1 || !cJSON_IsString(cJSON_GetArrayItem(ar, 0)))
        return hp_fail(err, "%s: key 'architectures' must be a list of one name", path);
    const char *a = cJSON_GetArrayItem(ar, 0)->valuestring;
    if (!strcmp(a, "Qwen2ForCausalLM")) return HP_OK;
    if (!strcmp(a, "Qwen2ForTokenClassification")) {
        if (c->num_labels <= 0) c->num_labels = 2; /* transformers' default num_labels */
        return HP_OK;
    }
    return hp_fail(err, "%s: key 'architectures': '%s' is not supported (Qwen2ForCausalLM, "
                   "Qwen2ForTokenClassification are)", path, a);
}

int hp_config_parse(const char *json, size_t len, const char *path, hp_config *c, hp_err *err) {
    hp_config_default(c);
    c->tie_word_embeddings = false; /* transformers' Qwen2Config default */
    c->vocab_size = 0;
    cJSON *j = cJSON_ParseWithLength(json, len);
    if (!j || !cJSON_IsObject(j)) {
        cJSON_Delete(j);
        return hp_fail(err, "%s: not a JSON object", path);
    }
    int rc = HP_OK;
    const char *dup = hp_json_duplicate_key(j, true);
    if (dup) rc = hp_fail(err, "%s: key '%s' appears twice in one object (readers disagree on which counts)", path, dup);
    const char *req[] = {"hidden_size", "intermediate_size", "num_hidden_layers", "num_attention_heads",
                         "vocab_size"};
    int *dst[] = {&c->hidden_size, &c->intermediate_size, &c->num_hidden_layers, &c->num_attention_heads,
                  &c->vocab_size};
    for (int i = 0; i < 5 && rc == HP_OK; i++) rc = get_int(j, req[i], true, dst[i], path, err);
    c->num_key_value_heads = c->num_attention_heads;
    if (rc == HP_OK) rc = get_int(j, "num_key_value_heads", false, &c->num_key_value_heads, path, err);
    if (rc == HP_OK) rc = get_int(j, "max_position_embeddings", false, &c->max_position_embeddings, path, err);
    if (rc == HP_OK) rc = get_int(j, "bos_token_id", false, &c->bos_token_id, path, err);
    if (rc == HP_OK) rc = get_num(j, "rms_norm_eps", &c->rms_norm_eps, path, err);
    if (rc == HP_OK) rc = get_num(j, "rope_theta", &c->rope_theta, path, err);
    const cJSON *eos = cJSON_GetObjectItemCaseSensitive(j, "eos_token_id");
    if (rc == HP_OK && cJSON_IsArray(eos) && cJSON_GetArraySize(eos) > 0)
        eos = cJSON_GetArrayItem(eos, 0);
    if (rc == HP_OK && eos && !cJSON_IsNull(eos)) {
        if (!cJSON_IsNumber(eos) || !(eos->valuedouble >= -1 && eos->valuedouble < 2147483647.0) ||
            eos->valuedouble != floor(eos->valuedouble))
            rc = hp_fail(err, "%s: key 'eos_token_id' must be an integer id", path);
        else c->eos_token_id = (int)eos->valuedouble;
    }
    const cJSON *nl = cJSON_GetObjectItemCaseSensitive(j, "num_labels");
    const cJSON *id2l = cJSON_GetObjectItemCaseSensitive(j, "id2label");
    if (rc == HP_OK && nl) rc = get_int(j, "num_labels", false, &c->num_labels, path, err);
    else if (rc == HP_OK && cJSON_IsObject(id2l)) c->num_labels = cJSON_GetArraySize(id2l);
    const cJSON *tie = cJSON_GetObjectItemCaseSensitive(j, "tie_word_embeddings");
    if (rc == HP_OK && tie) {
        if (!cJSON_IsBool(tie)) rc = hp_fail(err, "%s: key 'tie_word_embeddings' must be true or false", path);
        else c->tie_word_embeddings = cJSON_IsTrue(tie);
    }
    const cJSON *dt = cJSON_GetObjectItemCaseSensitive(j, "torch_dtype");
    if (rc == HP_OK && dt && !cJSON_IsNull(dt)) {
        if (!cJSON_IsString(dt) || strlen(dt->valuestring) >= sizeof c->torch_dtype)
            rc = hp_fail(err, "%s: key 'torch_dtype' must be a short string", path);
        else strcpy(c->torch_dtype, dt->valuestring);
    }
    /* A causal LM config may carry num_labels/id2label (transformers writes id2label for every
     * model); only Qwen2ForTokenClassification makes it a critic. */
    const cJSON *ar = cJSON_GetObjectItemCaseSensitive(j, "architectures");
    bool is_tc = cJSON_IsArray(ar) && cJSON_IsString(cJSON_GetArrayItem(ar, 0)) &&
                 !strcmp(cJSON_GetArrayItem(ar, 0)->valuestring, "Qwen2ForTokenClassification");
    if (rc == HP_OK && !is_tc) c->num_labels = 0;
    if (rc == HP_OK) rc = check_arch(j, c, path, err);
    if (rc == HP_OK) rc = check_unsupported(j, c, path, err);
    cJSON_Delete(j);
    if (rc == HP_OK) rc = hp_config_validate(c, path, err);
    return rc;
}

int hp_config_load(const char *path, hp_config *c, hp_err *err) {
    char *p = hp_is_dir(path) ? hp_path_join(path, "config.json") : hp_xstrdup(path);
    char *text;
    size_t len;
    int rc = hp_read_file(p, &text, &len, err);
    if (rc == HP_OK) {
        rc = hp_config_parse(text, len, p, c, err);
        free(text);
    }
    free(p);
    return rc;
}

/* A double written so that it reads back exactly: cJSON prints 15 significant digits, which loses the
 * last bits of a rope_theta such as 6.689007199254741e+20. */
static void add_exact(cJSON *j, const char *key, double v) {
    char s[64];
    snprintf(s, sizeof s, "%.15g", v);
    if (strtod(s, NULL) != v) snprintf(s, sizeof s, "%.17g", v);
    if (!strpbrk(s, ".eEn")) strcat(s, ".0"); /* stays a float for Python readers */
    cJSON_AddRawToObject(j, key, s);
}

char *hp_config_to_json(const hp_config *c) {
    cJSON *j = cJSON_CreateObject();
    cJSON *ar = cJSON_AddArrayToObject(j, "architectures");
    cJSON_AddItemToArray(ar, cJSON_CreateString(c->num_labels > 0 ? "Qwen2ForTokenClassification"
                                                                   : "Qwen2ForCausalLM"));
    cJSON_AddStringToObject(j, "model_type", "qwen2");
    cJSON_AddNumberToObject(j, "hidden_size", c->hidden_size);
    cJSON_AddNumberToObject(j, "intermediate_size", c->intermediate_size);
    cJSON_AddNumberToObject(j, "num_hidden_layers", c->num_hidden_layers);
    cJSON_AddNumberToObject(j, "num_attention_heads", c->num_attention_heads);
    cJSON_AddNumberToObject(j, "num_key_value_heads", c->num_key_value_heads);
    cJSON_AddNumberToObject(j, "vocab_size", c->vocab_size);
    cJSON_AddNumberToObject(j, "max_position_embeddings", c->max_position_embeddings);
    add_exact(j, "rms_norm_eps", c->rms_norm_eps);
    add_exact(j, "rope_theta", c->rope_theta);
    cJSON_AddBoolToObject(j, "tie_word_embeddings", c->tie_word_embeddings);
    cJSON_AddStringToObject(j, "torch_dtype", c->torch_dtype);
    cJSON_AddStringToObject(j, "hidden_act", "silu");
    cJSON_AddBoolToObject(j, "use_sliding_window", false);
    cJSON_AddNumberToObject(j, "attention_dropout", 0.0);
    cJSON_AddBoolToObject(j, "use_cache", true);
    if (c->bos_token_id >= 0) cJSON_AddNumberToObject(j, "bos_token_id", c->bos_token_id);
    if (c->eos_token_id >= 0) cJSON_AddNumberToObject(j, "eos_token_id", c->eos_token_id);
    if (c->num_labels > 0) {
        cJSON_AddNumberToObject(j, "num_labels", c->num_labels);
        cJSON *id2 = cJSON_AddObjectToObject(j, "id2label");
        cJSON *l2id = cJSON_AddObjectToObject(j, "label2id");
        for (int i = 0; i < c->num_labels; i++) {
            char k[32], v[32];
            snprintf(k, sizeof k, "%d", i);
            snprintf(v, sizeof v, "LABEL_%d", i);
            cJSON_AddStringToObject(id2, k, v);
            cJSON_AddNumberToObject(l2id, v, i);
        }
    }
    char *s = cJSON_Print(j);
    cJSON_Delete(j);
    char *out = hp_xstrdup(s);
    cJSON_free(s);
    return out;
}

int hp_config_write(const hp_config *c, const char *path, hp_err *err) {
    char *s = hp_config_to_json(c);
    int rc = hp_write_text_atomic(path, s, err);
    free(s);
    return rc;
}
