/* LoRA adapters on the seven projections of every layer, and their files in PEFT's form. */
#include "model_impl.h"

#include "hiper/safetensors.h"

#include <cjson/cJSON.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

int hp_model_enable_lora(hp_model *m, const hp_lora *o, uint64_t seed, hp_err *err) {
    if (m->lora) return hp_fail(err, "lora: already enabled");
    if (o->rank <= 0) return hp_fail(err, "lora: rank must be positive (got %d)", o->rank);
    if (!(o->targets & HP_LORA_ALL)) return hp_fail(err, "lora: no target projections");
    hp_model_drop_grads(m);
    for (int i = 0; i < m->np; i++) m->p[i]->train = false;
    if (m->value_w) m->value_w->train = m->value_b->train = true;
    hp_rng r;
    hp_rng_seed(&r, seed, 0x10aa);
    for (int l = 0; l < m->cfg.num_hidden_layers; l++) {
        layer *L = &m->L[l];
        lin *ls[7] = {&L->q, &L->k, &L->v, &L->o, &L->gate, &L->up, &L->down};
        for (int k = 0; k < 7; k++) {
            if (!(o->targets & (1u << k))) continue;
            lin *li = ls[k];
            char base[320], nb[360];
            size_t n = strlen(li->w->name) - strlen(".weight");
            snprintf(base, sizeof base, "%.*s", (int)n, li->w->name);
            snprintf(nb, sizeof nb, "%s.lora_A.weight", base);
            li->la = hp_mp_new(m, nb, o->rank, li->in);
            snprintf(nb, sizeof nb, "%s.lora_B.weight", base);
            li->lb = hp_mp_new(m, nb, li->out, o->rank);
            li->r = o->rank;
            li->lscale = (float)(o->alpha / o->rank);
            /* PEFT: kaiming_uniform_(a=sqrt(5)) → U(-1/sqrt(in), 1/sqrt(in)); B = 0. */
            double bound = 1.0 / sqrt((double)li->in);
            for (int64_t i = 0; i < li->la->numel; i++) li->la->w[i] = (float)((2.0 * hp_rng_uniform(&r) - 1.0) * bound);
        }
    }
    m->lora = true;
    m->lora_cfg = *o;
    m->a.valid = false;
    return HP_OK;
}

const hp_lora *hp_model_lora(const hp_model *m) { return m->lora ? &m->lora_cfg : NULL; }

/* PEFT's names: the adapted model is base_model.model; a value head is a module saved whole
 * (modules_to_save), keyed by its own name there. */
#define PEFT_PREFIX "base_model.model."
static const char *const TARGET_NAMES[7] = {"q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"};

/* The tensors an adapter file holds: the LoRA matrices and a value head. */
static bool in_adapter(const char *name) { return strstr(name, ".lora_") || !strncmp(name, "score.", 6); }

static char *adapter_config(const hp_model *m, const char *base) {
    const hp_lora *o = &m->lora_cfg;
    cJSON *c = cJSON_CreateObject();
    cJSON_AddStringToObject(c, "peft_type", "LORA");
    cJSON_AddStringToObject(c, "task_type", hp_model_n_values(m) > 0 ? "TOKEN_CLS" : "CAUSAL_LM");
    cJSON_AddStringToObject(c, "base_model_name_or_path", base ? base : "");
    cJSON_AddNumberToObject(c, "r", o->rank);
    cJSON_AddNumberToObject(c, "lora_alpha", o->alpha);
    cJSON_AddNumberToObject(c, "lora_dropout", 0.0);
    cJSON_AddStringToObject(c, "bias", "none");
    cJSON_AddBoolToObject(c, "fan_in_fan_out", false);
    cJSON_AddBoolToObject(c, "inference_mode", true);
    cJSON *t = cJSON_AddArrayToObject(c, "target_modules");
    for (int k = 0; k < 7; k++)
        if (o->targets & (1u << k)) cJSON_AddItemToArray(t, cJSON_CreateString(TARGET_NAMES[k]));
    if (hp_model_n_values(m) > 0) {
        cJSON *s = cJSON_AddArrayToObject(c, "modules_to_save");
        cJSON_AddItemToArray(s, cJSON_CreateString("score"));
    } else {
        cJSON_AddNullToObject(c, "modules_to_save");
    }
    char *text = cJSON_Print(c);
    cJSON_Delete(c);
    return text;
}

int hp_model_save_lora(const hp_model *m, const char *dir, const char *base, hp_err *err) {
    if (!m->lora) return hp_fail(err, "saving LoRA adapters to %s: the model has none", dir);
    hp_buf tmp = {0};
    hp_buf_printf(&tmp, "%s.tmp", dir);
    int rc = hp_path_exists(tmp.data) ? hp_remove_tree(tmp.data, err) : HP_OK;
    if (rc == HP_OK) rc = hp_mkdirs(tmp.data, err);
    if (rc == HP_OK) { /* f32: a resumed run continues from exactly these numbers */
        hp_st_writer *w = hp_st_writer_new();
        for (int i = 0; i < m->np; i++) {
            const mp *p = m->p[i];
            if (!in_adapter(p->name)) continue;
            hp_buf name = {0};
            hp_buf_printf(&name, PEFT_PREFIX "%s", p->name);
            hp_st_writer_add(w, name.data, HP_DT_F32, p->ndim, p->shape, p->w);
            hp_buf_free(&name);
        }
        char *path = hp_path_join(tmp.data, "adapter_model.safetensors");
        rc = hp_st_writer_write(w, path, err);
        free(path);
        hp_st_writer_free(w);
    }
    if (rc == HP_OK) {
        char *text = adapter_config(m, base), *path = hp_path_join(tmp.data, "adapter_config.json");
        rc = hp_write_text_atomic(path, text, err);
        free(path);
        cJSON_free(text);
    }
    if (rc == HP_OK) rc = hp_dir_replace(tmp.data, dir, err);
    hp_buf_free(&tmp);
    return rc ? hp_err_wrap(err, "saving LoRA adapters to %s", dir) : HP_OK;
}

/* adapter_config.json's rank and alpha must be the model's: the same numbers under another scale
 * would be another model. */
static int check_config(const hp_model *m, const char *dir, hp_err *err) {
    char *path = hp_path_join(dir, "adapter_config.json"), *text = NULL;
    size_t len = 0;
    int rc = hp_read_file(path, &text, &len, err);
    cJSON *c = rc == HP_OK ? cJSON_ParseWithLength(text, len) : NULL;
    const cJSON *r = cJSON_GetObjectItemCaseSensitive(c, "r"), *a = cJSON_GetObjectItemCaseSensitive(c, "lora_alpha");
    if (rc == HP_OK && (!cJSON_IsNumber(r) || !cJSON_IsNumber(a)))
        rc = hp_fail(err, "%s: no numeric 'r' and 'lora_alpha'", path);
    else if (rc == HP_OK && (r->valuedouble != m->lora_cfg.rank || a->valuedouble != m->lora_cfg.alpha))
        rc = hp_fail(err, "%s: adapters of rank %g, alpha %g; the model's are rank %d, alpha %g", path, r->valuedouble,
                     a->valuedouble, m->lora_cfg.rank, m->lora_cfg.alpha);
    cJSON_Delete(c);
    free(text);
    free(path);
    return rc;
}

int hp_model_load_lora(hp_model *m, const char *dir, hp_err *err) {
    if (!m->lora) return hp_fail(err, "loading LoRA adapters from %s: enable LoRA on the model first", dir);
    if (check_config(m, dir, err)) return HP_FAIL;
    char *path = hp_path_join(dir, "adapter_model.safetensors");
    hp_st *st = hp_st_open(path, err);
    int rc = st ? HP_OK : HP_FAIL, n = 0;
    for (int i = 0; rc == HP_OK && i < m->np; i++) {
        mp *p = m->p[i];
        if (!in_adapter(p->name)) continue;
        hp_buf name = {0};
        hp_buf_printf(&name, PEFT_PREFIX "%s", p->name);
        rc = hp_st_read_f32(st, name.data, p->ndim, p->shape, p->w, err);
        hp_buf_free(&name);
        n++;
    }
    if (rc == HP_OK && n != hp_st_count(st))
        rc = hp_fail(err, "%s: %d tensors, the model's adapters are %d", path, hp_st_count(st), n);
    if (st) hp_st_close(st);
    free(path);
    m->a.valid = false;
    return rc ? hp_err_wrap(err, "loading LoRA adapters from %s", dir) : HP_OK;
}
