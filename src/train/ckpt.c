/* ckpt.c — checkpoints: model directories (actor, critic), optimizer states and the loop state,
 * written as one directory that is swapped in atomically, so a run killed at any point resumes from
 * the last complete checkpoint. */
#include "train_internal.h"

#include "hiper/model.h"
#include "hiper/prompt.h"

#include <cjson/cJSON.h>
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int state_write(const char *path, const hp_ckpt_state *st, hp_err *err) {
    hp_buf b = {0};
    hp_buf_printf(&b, "{\"next_step\": %lld, \"best_val\": %.17g, \"best_step\": %lld}\n", (long long)st->next_step,
                  st->best_val, (long long)st->best_step);
    int rc = hp_write_file_atomic(path, b.data, b.len, err);
    hp_buf_free(&b);
    return rc;
}

int hp_ckpt_state_read(const char *path, hp_ckpt_state *st, hp_err *err) {
    char *text;
    size_t len;
    if (hp_read_file(path, &text, &len, err)) return HP_FAIL;
    cJSON *o = cJSON_Parse(text);
    free(text);
    const cJSON *a = cJSON_GetObjectItemCaseSensitive(o, "next_step");
    const cJSON *b = cJSON_GetObjectItemCaseSensitive(o, "best_val");
    const cJSON *c = cJSON_GetObjectItemCaseSensitive(o, "best_step");
    int rc = HP_OK;
    if (!cJSON_IsNumber(a) || !cJSON_IsNumber(b) || !cJSON_IsNumber(c))
        rc = hp_fail(err, "%s: expected next_step, best_val and best_step numbers", path);
    else
        *st = (hp_ckpt_state){(int64_t)a->valuedouble, b->valuedouble, (int64_t)c->valuedouble};
    cJSON_Delete(o);
    return rc;
}

/* Save one model and its optimizer state under dir/name. */
static int save_model(const char *dir, const char *name, hp_model *m, const char *tokdir, hp_err *err) {
    char *md = hp_path_join(dir, name);
    hp_buf opt = {0};
    hp_buf_printf(&opt, "%s_optim.safetensors", md);
    int rc = hp_model_save(m, md, tokdir, err);
    if (rc == HP_OK && hp_model_optim_step_count(m) > 0) rc = hp_model_optim_save(m, opt.data, err);
    free(md);
    hp_buf_free(&opt);
    return rc;
}

int hp_ckpt_save(const char *dir, hp_model *actor, hp_model *critic, const char *tokdir,
                 const hp_prompt_cfg *prompt, const char *env_kind, const hp_ckpt_state *st, hp_err *err) {
    hp_buf tmp = {0};
    hp_buf_printf(&tmp, "%s.tmp", dir);
    int rc = hp_remove_tree(tmp.data, err);
    if (rc == HP_OK) rc = hp_mkdirs(tmp.data, err);
    if (rc == HP_OK) rc = save_model(tmp.data, "actor", actor, tokdir, err);
    if (rc == HP_OK) {
        char *ad = hp_path_join(tmp.data, "actor");
        rc = hp_prompt_cfg_save(prompt, env_kind, ad, err);
        free(ad);
    }
    if (rc == HP_OK && critic) rc = save_model(tmp.data, "critic", critic, tokdir, err);
    if (rc == HP_OK) {
        char *sp = hp_path_join(tmp.data, "state.json");
        rc = state_write(sp, st, err);
        free(sp);
    }
    if (rc == HP_OK) rc = hp_dir_replace(tmp.data, dir, err);
    hp_buf_free(&tmp);
    return rc ? hp_err_wrap(err, "checkpoint %s", dir) : HP_OK;
}

char *hp_ckpt_find(const char *dir, hp_err *err) {
    char *state = hp_path_join(dir, "state.json");
    bool ok = hp_path_exists(state);
    free(state);
    if (ok) return hp_xstrdup(dir);
    /* An interrupted hp_dir_replace leaves "<dir>.old.<pid>" and maybe no dir: move it back. */
    char *parent = hp_xstrdup(dir);
    char *slash = strrchr(parent, '/');
    const char *base = slash ? slash + 1 : parent;
    char *pdir = slash ? (*slash = '\0', parent) : ".";
    hp_buf prefix = {0};
    hp_buf_printf(&prefix, "%s.old.", base);
    DIR *d = opendir(pdir);
    char *found = NULL;
    struct dirent *e;
    while (d && (e = readdir(d)))
        if (hp_str_starts(e->d_name, prefix.data) && !found) found = hp_path_join(pdir, e->d_name);
    if (d) closedir(d);
    hp_buf_free(&prefix);
    free(parent);
    if (!found) return NULL;
    char *fs = hp_path_join(found, "state.json");
    bool complete = hp_path_exists(fs);
    free(fs);
    if (complete && !hp_path_exists(dir) && rename(found, dir) == 0) {
        free(found);
        return hp_xstrdup(dir);
    }
    free(found);
    (void)err;
    return NULL;
}

static int load_model(const char *dir, const char *name, hp_model **out, hp_err *err) {
    char *md = hp_path_join(dir, name);
    hp_buf opt = {0};
    hp_buf_printf(&opt, "%s_optim.safetensors", md);
    int rc = HP_OK;
    *out = hp_model_load(md, err);
    if (!*out) rc = HP_FAIL;
    else if (hp_path_exists(opt.data)) rc = hp_model_optim_load(*out, opt.data, err);
    free(md);
    hp_buf_free(&opt);
    return rc;
}

int hp_ckpt_load(const char *dir, hp_model **actor, hp_model **critic, hp_ckpt_state *st, hp_err *err) {
    *actor = NULL;
    if (critic) *critic = NULL;
    char *sp = hp_path_join(dir, "state.json");
    int rc = hp_ckpt_state_read(sp, st, err);
    free(sp);
    if (rc == HP_OK) rc = load_model(dir, "actor", actor, err);
    char *cd = hp_path_join(dir, "critic");
    if (rc == HP_OK && critic && hp_is_dir(cd)) rc = load_model(dir, "critic", critic, err);
    free(cd);
    return rc ? hp_err_wrap(err, "loading checkpoint %s", dir) : HP_OK;
}
