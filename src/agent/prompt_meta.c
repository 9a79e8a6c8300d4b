/* DIR/agent.json: the prompt settings a model was trained with (see hiper/prompt.h). */
#include "hiper/prompt.h"

#include <cjson/cJSON.h>
#include <stdlib.h>
#include <string.h>

int hp_prompt_cfg_save(const hp_prompt_cfg *cfg, const char *env_kind, const char *dir, hp_err *err) {
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "format", hp_fmt_name(cfg->fmt));
    cJSON_AddStringToObject(o, "prompt_style", cfg->style == HP_STYLE_COMPACT ? "compact" : "upstream");
    cJSON_AddStringToObject(o, "env", env_kind ? env_kind : "");
    cJSON_AddNumberToObject(o, "history_length", cfg->history_length);
    cJSON_AddNumberToObject(o, "max_prompt_length", cfg->max_prompt_tokens);
    cJSON_AddNumberToObject(o, "max_response_length", cfg->max_response_tokens);
    cJSON_AddStringToObject(o, "truncation", cfg->truncate_prompt ? "left" : "error");
    cJSON_AddBoolToObject(o, "constrain_actions", cfg->constrain_actions);
    if (cfg->constrain_format) cJSON_AddBoolToObject(o, "constrain_format", true);
    char *s = cJSON_Print(o);
    cJSON_Delete(o);
    char *path = hp_path_join(dir, "agent.json");
    int rc = hp_write_text_atomic(path, s, err);
    cJSON_free(s);
    free(path);
    return rc;
}

static int get_int(const cJSON *it, const char *path, int lo, int *out, hp_err *err) {
    if (!cJSON_IsNumber(it) || it->valuedouble != (double)(int)it->valuedouble || (int)it->valuedouble < lo)
        return hp_fail(err, "%s: key '%s' must be an integer >= %d", path, it->string, lo);
    *out = (int)it->valuedouble;
    return HP_OK;
}

static int apply_key(const cJSON *it, const char *path, hp_prompt_cfg *cfg, hp_err *err) {
    const char *k = it->string;
    if (!strcmp(k, "history_length")) return get_int(it, path, 0, &cfg->history_length, err);
    if (!strcmp(k, "max_prompt_length")) return get_int(it, path, 0, &cfg->max_prompt_tokens, err);
    if (!strcmp(k, "max_response_length")) return get_int(it, path, 1, &cfg->max_response_tokens, err);
    if (!strcmp(k, "env")) return cJSON_IsString(it) ? HP_OK : hp_fail(err, "%s: key 'env' must be a string", path);
    if (!strcmp(k, "constrain_actions")) {
        if (!cJSON_IsBool(it)) return hp_fail(err, "%s: key 'constrain_actions' must be true or false", path);
        cfg->constrain_actions = cJSON_IsTrue(it);
        return HP_OK;
    }
    if (!strcmp(k, "constrain_format")) {
        if (!cJSON_IsBool(it)) return hp_fail(err, "%s: key 'constrain_format' must be true or false", path);
        cfg->constrain_format = cJSON_IsTrue(it);
        return HP_OK;
    }
    if (!cJSON_IsString(it)) return hp_fail(err, "%s: key '%s' must be a string", path, k);
    const char *v = it->valuestring;
    int rc;
    if (!strcmp(k, "format")) rc = hp_fmt_parse(v, &cfg->fmt, err);
    else if (!strcmp(k, "prompt_style")) rc = hp_prompt_style_parse(v, &cfg->style, err);
    else if (!strcmp(k, "truncation")) {
        if (strcmp(v, "left") && strcmp(v, "error")) rc = hp_fail(err, "truncation must be 'left' or 'error', got '%s'", v);
        else {
            cfg->truncate_prompt = !strcmp(v, "left");
            rc = HP_OK;
        }
    } else return hp_fail(err, "%s: unknown key '%s'", path, k);
    return rc ? hp_err_wrap(err, "%s: key '%s'", path, k) : HP_OK;
}

int hp_prompt_cfg_load(const char *dir, hp_prompt_cfg *cfg, bool *found, hp_err *err) {
    char *path = hp_path_join(dir, "agent.json");
    *found = false;
    if (!hp_path_exists(path)) {
        free(path);
        return HP_OK;
    }
    char *text;
    size_t len;
    if (hp_read_file(path, &text, &len, err)) {
        free(path);
        return HP_FAIL;
    }
    cJSON *o = cJSON_ParseWithLength(text, len);
    free(text);
    int rc = HP_OK;
    if (!cJSON_IsObject(o)) rc = hp_fail(err, "%s: not a JSON object", path);
    for (const cJSON *it = o ? o->child : NULL; it && rc == HP_OK; it = it->next) rc = apply_key(it, path, cfg, err);
    cJSON_Delete(o);
    free(path);
    if (rc == HP_OK) *found = true;
    return rc;
}
