/* ckpt.c — checkpoints: model directories (actor, critic), optimizer states and the loop state,
 * written as one directory that is swapped in atomically, so a run killed at any point resumes from
 * the last complete checkpoint. */
#include "train_internal.h"

#include "hiper/model.h"
#include "hiper/prompt.h"

#include <cjson/cJSON.h>
#include <dirent.h>
#include <errno.h>
#include <math.h>
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

/* An integer key of state.json, named in the error. */
static int state_int(const char *path, const cJSON *o, const char *key, int64_t *out, hp_err *err) {
    const cJSON *x = cJSON_GetObjectItemCaseSensitive(o, key);
    if (!cJSON_IsNumber(x) || x->valuedouble != (double)(int64_t)x->valuedouble || fabs(x->valuedouble) > 9e15)
        return hp_fail(err, "%s: key '%s': expected an integer", path, key);
    *out = (int64_t)x->valuedouble;
    return HP_OK;
}

int hp_ckpt_state_read(const char *path, hp_ckpt_state *st, hp_err *err) {
    char *text;
    size_t len;
    if (hp_read_file(path, &text, &len, err)) return HP_FAIL;
    cJSON *o = cJSON_ParseWithLength(text, len);
    free(text);
    const cJSON *b = cJSON_GetObjectItemCaseSensitive(o, "best_val");
    hp_ckpt_state s = {0, -1.0, -1};
    int rc = HP_OK;
    if (!cJSON_IsObject(o)) rc = hp_fail(err, "%s: not a JSON object", path);
    if (rc == HP_OK) rc = state_int(path, o, "next_step", &s.next_step, err);
    if (rc == HP_OK) rc = state_int(path, o, "best_step", &s.best_step, err);
    if (rc == HP_OK && (!cJSON_IsNumber(b) || !isfinite(b->valuedouble)))
        rc = hp_fail(err, "%s: key 'best_val': expected a number", path);
    if (rc == HP_OK && s.next_step < 0) rc = hp_fail(err, "%s: key 'next_step' is %lld, below 0", path, (long long)s.next_step);
    if (rc == HP_OK) {
        s.best_val = b->valuedouble;
        *st = s;
    }
    cJSON_Delete(o);
    return rc;
}

/* Save one model and its optimizer state under dir/name; with LoRA also its adapters as dir/name_lora. */
static int save_model(const char *dir, const char *name, hp_model *m, const char *tokdir, const char *base,
                      hp_err *err) {
    char *md = hp_path_join(dir, name);
    hp_buf opt = {0}, lora = {0};
    hp_buf_printf(&opt, "%s_optim.safetensors", md);
    hp_buf_printf(&lora, "%s_lora", md);
    int rc = hp_model_save(m, md, tokdir, err);
    if (rc == HP_OK && hp_model_lora(m)) rc = hp_model_save_lora(m, lora.data, base, err);
    if (rc == HP_OK && hp_model_optim_step_count(m) > 0) rc = hp_model_optim_save(m, opt.data, err);
    free(md);
    hp_buf_free(&opt);
    hp_buf_free(&lora);
    return rc;
}

int hp_ckpt_save(const char *dir, hp_model *actor, hp_model *critic, const hp_ckpt_files *f, const hp_ckpt_state *st,
                 hp_err *err) {
    hp_buf tmp = {0};
    hp_buf_printf(&tmp, "%s.tmp", dir);
    int rc = hp_remove_tree(tmp.data, err);
    if (rc == HP_OK) rc = hp_mkdirs(tmp.data, err);
    if (rc == HP_OK) rc = save_model(tmp.data, "actor", actor, f->tokenizer_dir, f->actor_base, err);
    if (rc == HP_OK) {
        char *ad = hp_path_join(tmp.data, "actor");
        rc = hp_prompt_cfg_save(f->prompt, f->env_kind, ad, err);
        free(ad);
    }
    if (rc == HP_OK && critic) rc = save_model(tmp.data, "critic", critic, f->tokenizer_dir, f->critic_base, err);
    if (rc == HP_OK) {
        char *sp = hp_path_join(tmp.data, "state.json");
        rc = state_write(sp, st, err);
        free(sp);
    }
    /* The fault tests kill here: a directory with every file but no manifest (points named e.g.
     * "ckpt.latest.files@2"), and one complete but not yet swapped in ("ckpt.latest.manifest@2"). */
    const char *slash = strrchr(dir, '/');
    char point[2][96];
    snprintf(point[0], sizeof point[0], "ckpt.%s.files", slash ? slash + 1 : dir);
    snprintf(point[1], sizeof point[1], "ckpt.%s.manifest", slash ? slash + 1 : dir);
    if (rc == HP_OK) hp_test_kill_point(point[0], st->next_step);
    /* Last, the manifest: the sizes and checksums of everything above, so that a checkpoint is used
     * only whole (hp_ckpt_manifest_check). */
    if (rc == HP_OK) rc = hp_ckpt_manifest_write(tmp.data, err);
    if (rc == HP_OK) hp_test_kill_point(point[1], st->next_step);
    if (rc == HP_OK) rc = hp_dir_replace(tmp.data, dir, err);
    hp_buf_free(&tmp);
    return rc ? hp_err_wrap(err, "checkpoint %s", dir) : HP_OK;
}

/* The names "<base>.old.<pid>" beside dir, which an interrupted hp_dir_replace leaves, sorted. */
static int old_copies(const char *dir, char ***out, size_t *n) {
    char *parent = hp_xstrdup(dir);
    char *slash = strrchr(parent, '/');
    const char *base = slash ? slash + 1 : parent;
    const char *pdir = slash ? (*slash = '\0', parent) : ".";
    hp_buf prefix = {0};
    hp_buf_printf(&prefix, "%s.old.", base);
    DIR *d = opendir(pdir);
    struct dirent *e;
    size_t cap = 0;
    *out = NULL;
    *n = 0;
    while (d && (e = readdir(d))) {
        if (!hp_str_starts(e->d_name, prefix.data)) continue;
        if (*n == cap) *out = hp_xrealloc(*out, (cap = cap ? 2 * cap : 4) * sizeof **out);
        (*out)[(*n)++] = hp_path_join(pdir, e->d_name);
    }
    if (d) closedir(d);
    for (size_t i = 1; i < *n; i++) /* insertion sort: a handful at most */
        for (size_t j = i; j > 0 && strcmp((*out)[j - 1], (*out)[j]) > 0; j--) {
            char *x = (*out)[j];
            (*out)[j] = (*out)[j - 1];
            (*out)[j - 1] = x;
        }
    hp_buf_free(&prefix);
    free(parent);
    return HP_OK;
}

int hp_ckpt_find(const char *dir, bool *found, hp_err *err) {
    char **old = NULL;
    size_t n_old = 0;
    old_copies(dir, &old, &n_old);
    int rc = HP_OK;
    *found = hp_is_dir(dir);
    if (*found) {
        /* Copies beside a checkpoint that was swapped in are what an interrupted removal left. */
        char *mf = hp_path_join(dir, "manifest.json");
        for (size_t i = 0; hp_path_exists(mf) && i < n_old; i++) {
            hp_err ignored;
            hp_remove_tree(old[i], &ignored);
        }
        free(mf);
    } else if (n_old) {
        /* The swap was interrupted between its two renames: the previous checkpoint waits under its
         * temporary name; move it back if it is whole. */
        hp_err why = {{0}};
        for (size_t i = 0; i < n_old && !*found; i++) {
            if (hp_ckpt_manifest_check(old[i], &why)) continue;
            if (rename(old[i], dir) != 0)
                rc = hp_fail(err, "%s: cannot move back to %s: %s", old[i], dir, strerror(errno));
            else
                *found = true;
            break;
        }
        if (rc == HP_OK && !*found)
            rc = hp_fail(err, "%s: missing, and the copy an interrupted save left is incomplete (%s)", dir, why.msg);
    }
    for (size_t i = 0; i < n_old; i++) free(old[i]);
    free(old);
    return rc;
}

int hp_ckpt_check(const char *dir, int64_t total_steps, hp_ckpt_state *st, hp_err *err) {
    char *sp = hp_path_join(dir, "state.json");
    int rc = hp_ckpt_state_read(sp, st, err);
    if (rc == HP_OK && st->next_step > total_steps)
        rc = hp_fail(err, "%s: key 'next_step' is %lld, beyond trainer.total_steps (%lld)", sp, (long long)st->next_step,
                     (long long)total_steps);
    free(sp);
    if (rc == HP_OK) rc = hp_ckpt_manifest_check(dir, err);
    return rc;
}

static int load_model(const char *dir, const char *name, bool head_only, hp_model **out, hp_err *err) {
    char *md = hp_path_join(dir, name);
    hp_buf opt = {0};
    hp_buf_printf(&opt, "%s_optim.safetensors", md);
    int rc = HP_OK;
    *out = hp_model_load(md, err);
    if (!*out) rc = HP_FAIL;
    else if (head_only && hp_model_freeze_backbone(*out, err)) rc = HP_FAIL;
    else if (hp_path_exists(opt.data)) rc = hp_model_optim_load(*out, opt.data, err);
    free(md);
    hp_buf_free(&opt);
    return rc;
}

/* A LoRA model's adapters and optimizer state, into m built by the caller. */
static int load_lora(const char *dir, const char *name, hp_model *m, hp_err *err) {
    char *md = hp_path_join(dir, name);
    hp_buf opt = {0}, lora = {0};
    hp_buf_printf(&opt, "%s_optim.safetensors", md);
    hp_buf_printf(&lora, "%s_lora", md);
    int rc = hp_model_load_lora(m, lora.data, err);
    if (rc == HP_OK && hp_path_exists(opt.data)) rc = hp_model_optim_load(m, opt.data, err);
    free(md);
    hp_buf_free(&opt);
    hp_buf_free(&lora);
    return rc;
}

int hp_ckpt_load_lora(const char *dir, hp_model *actor, hp_model *critic, hp_ckpt_state *st, hp_err *err) {
    char *sp = hp_path_join(dir, "state.json");
    int rc = hp_ckpt_state_read(sp, st, err);
    free(sp);
    if (rc == HP_OK) rc = load_lora(dir, "actor", actor, err);
    if (rc == HP_OK && critic) rc = load_lora(dir, "critic", critic, err);
    return rc ? hp_err_wrap(err, "loading checkpoint %s", dir) : HP_OK;
}

int hp_ckpt_load(const char *dir, hp_model **actor, hp_model **critic, bool critic_head_only, hp_ckpt_state *st,
                 hp_err *err) {
    *actor = NULL;
    if (critic) *critic = NULL;
    char *sp = hp_path_join(dir, "state.json");
    int rc = hp_ckpt_state_read(sp, st, err);
    free(sp);
    if (rc == HP_OK) rc = load_model(dir, "actor", false, actor, err);
    char *cd = hp_path_join(dir, "critic");
    if (rc == HP_OK && critic && hp_is_dir(cd)) rc = load_model(dir, "critic", critic_head_only, critic, err);
    free(cd);
    return rc ? hp_err_wrap(err, "loading checkpoint %s", dir) : HP_OK;
}
