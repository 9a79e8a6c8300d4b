/* Parameter tables: create, random init, load, save, clone, free, value head, tensor access. */
#include "model_impl.h"

#include "hiper/safetensors.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

mp *hp_mp_new(hp_model *m, const char *name, int64_t d0, int64_t d1) {
    mp *p = hp_xcalloc(1, sizeof *p);
    p->name = hp_xstrdup(name);
    p->ndim = d1 > 0 ? 2 : 1;
    p->shape[0] = d0;
    p->shape[1] = d1 > 0 ? d1 : 0;
    p->numel = d0 * (d1 > 0 ? d1 : 1);
    p->w = hp_xcalloc((size_t)p->numel, sizeof(float));
    p->train = true;
    m->p = hp_xrealloc(m->p, (size_t)(m->np + 1) * sizeof *m->p);
    m->p[m->np++] = p;
    return p;
}

static void mp_free(mp *p) {
    if (!p) return;
    free(p->name);
    free(p->w);
    free(p);
}

static lin mk_lin(hp_model *m, const char *name, int in, int out, bool bias) {
    char nb[320];
    lin l = {0};
    l.in = in;
    l.out = out;
    snprintf(nb, sizeof nb, "%s.weight", name);
    l.w = hp_mp_new(m, nb, out, in);
    if (bias) {
        snprintf(nb, sizeof nb, "%s.bias", name);
        l.b = hp_mp_new(m, nb, out, 0);
    }
    return l;
}

/* Lay out every tensor of cfg (no data yet beyond zeros). */
static hp_model *model_new(const hp_config *cfg) {
    hp_blas_single_thread();
    hp_model *m = hp_xcalloc(1, sizeof *m);
    m->cfg = *cfg;
    const hp_config *c = &m->cfg;
    int D = c->hidden_size, F = c->intermediate_size, hd = c->head_dim;
    int Dq = c->num_attention_heads * hd, Dkv = c->num_key_value_heads * hd;
    m->embed = hp_mp_new(m, "model.embed_tokens.weight", c->vocab_size, D);
    m->L = hp_xcalloc((size_t)c->num_hidden_layers, sizeof *m->L);
    char nb[256];
    for (int i = 0; i < c->num_hidden_layers; i++) {
        layer *L = &m->L[i];
        snprintf(nb, sizeof nb, "model.layers.%d.input_layernorm.weight", i);
        L->ln1 = hp_mp_new(m, nb, D, 0);
        snprintf(nb, sizeof nb, "model.layers.%d.self_attn.q_proj", i);
        L->q = mk_lin(m, nb, D, Dq, true);
        snprintf(nb, sizeof nb, "model.layers.%d.self_attn.k_proj", i);
        L->k = mk_lin(m, nb, D, Dkv, true);
        snprintf(nb, sizeof nb, "model.layers.%d.self_attn.v_proj", i);
        L->v = mk_lin(m, nb, D, Dkv, true);
        snprintf(nb, sizeof nb, "model.layers.%d.self_attn.o_proj", i);
        L->o = mk_lin(m, nb, Dq, D, false);
        snprintf(nb, sizeof nb, "model.layers.%d.post_attention_layernorm.weight", i);
        L->ln2 = hp_mp_new(m, nb, D, 0);
        snprintf(nb, sizeof nb, "model.layers.%d.mlp.gate_proj", i);
        L->gate = mk_lin(m, nb, D, F, false);
        snprintf(nb, sizeof nb, "model.layers.%d.mlp.up_proj", i);
        L->up = mk_lin(m, nb, D, F, false);
        snprintf(nb, sizeof nb, "model.layers.%d.mlp.down_proj", i);
        L->down = mk_lin(m, nb, F, D, false);
    }
    m->norm = hp_mp_new(m, "model.norm.weight", D, 0);
    if (c->num_labels > 0) {
        m->value_w = hp_mp_new(m, "score.weight", c->num_labels, D);
        m->value_b = hp_mp_new(m, "score.bias", c->num_labels, 0);
    } else if (!c->tie_word_embeddings) {
        m->lm_head = hp_mp_new(m, "lm_head.weight", c->vocab_size, D);
    }
    /* ~1 GiB of activations per chunk. */
    int64_t per_tok = (int64_t)c->num_hidden_layers * (6 * D + 2 * Dkv + 2 * F + c->num_attention_heads + 2) + 3 * D;
    m->chunk_tokens = (1LL << 28) / per_tok;
    if (m->chunk_tokens < 256) m->chunk_tokens = 256;
    return m;
}

static bool is_norm(const mp *p) { return hp_str_ends(p->name, "norm.weight"); }

static void init_tensor(mp *p, uint64_t seed, uint64_t stream) {
    if (is_norm(p)) {
        for (int64_t i = 0; i < p->numel; i++) p->w[i] = 1.0f;
        return;
    }
    if (p->ndim == 1) return; /* biases: zero */
    hp_rng r;
    hp_rng_seed(&r, seed, stream);
    for (int64_t i = 0; i < p->numel; i++) p->w[i] = (float)(0.02 * hp_rng_normal(&r));
}

hp_model *hp_model_init_random(const hp_config *cfg, uint64_t seed, hp_err *err) {
    hp_config c = *cfg;
    if (hp_config_validate(&c, "config", err)) return NULL;
    hp_model *m = model_new(&c);
    for (int i = 0; i < m->np; i++) init_tensor(m->p[i], seed, (uint64_t)i);
    return m;
}

hp_model *hp_model_load(const char *dir, hp_err *err) {
    hp_config c;
    if (hp_config_load(dir, &c, err)) return NULL;
    hp_st *st = hp_st_open(dir, err);
    if (!st) return NULL;
    hp_model *m = model_new(&c);
    for (int i = 0; i < m->np; i++) {
        mp *p = m->p[i];
        if (hp_st_read_f32(st, p->name, p->ndim, p->shape, p->w, err)) {
            hp_st_close(st);
            hp_model_free(m);
            return NULL;
        }
    }
    hp_st_close(st);
    return m;
}

void hp_model_set_chunk_tokens(hp_model *m, int64_t tokens) { m->chunk_tokens = tokens > 0 ? tokens : 1; }
const hp_config *hp_model_config(const hp_model *m) { return &m->cfg; }
int hp_model_n_values(const hp_model *m) { return m->value_w ? m->cfg.num_labels : 0; }

int64_t hp_model_n_params(const hp_model *m) {
    int64_t n = 0;
    for (int i = 0; i < m->np; i++) n += m->p[i]->numel;
    return n;
}

int64_t hp_model_n_trainable(const hp_model *m) {
    int64_t n = 0;
    for (int i = 0; i < m->np; i++) n += m->p[i]->train ? m->p[i]->numel : 0;
    return n;
}

int hp_model_n_tensors(const hp_model *m) { return m->np; }

void hp_model_tensor(const hp_model *m, int i, hp_tensor_info *o) {
    const mp *p = m->p[i];
    o->name = p->name;
    o->ndim = p->ndim;
    o->shape[0] = p->shape[0];
    o->shape[1] = p->shape[1];
    o->numel = p->numel;
    o->data = p->w;
    o->grad = p->g;
}

bool hp_model_find_tensor(const hp_model *m, const char *name, hp_tensor_info *o) {
    for (int i = 0; i < m->np; i++)
        if (!strcmp(m->p[i]->name, name)) {
            hp_model_tensor(m, i, o);
            return true;
        }
    return false;
}

void hp_model_drop_grads(hp_model *m) {
    free(m->grad_arena);
    free(m->m_arena);
    free(m->v_arena);
    m->grad_arena = m->m_arena = m->v_arena = NULL;
    m->grad_n = 0;
    for (int i = 0; i < m->np; i++) m->p[i]->g = m->p[i]->m = m->p[i]->v = NULL;
}

void hp_model_ensure_grads(hp_model *m) {
    if (m->grad_arena) return;
    size_t n = 0;
    for (int i = 0; i < m->np; i++) n += m->p[i]->train ? (size_t)m->p[i]->numel : 0;
    m->grad_arena = hp_xcalloc(n ? n : 1, sizeof(float));
    m->grad_n = n;
    size_t off = 0;
    for (int i = 0; i < m->np; i++) {
        mp *p = m->p[i];
        if (!p->train) continue;
        p->g = m->grad_arena + off;
        off += (size_t)p->numel;
    }
}

float *hp_model_grad_data(hp_model *m, size_t *n) {
    hp_model_ensure_grads(m);
    *n = m->grad_n;
    return m->grad_arena;
}

/* The tensor as it is saved: LoRA merged into W. Returns w itself or a new buffer (*owned). */
static const float *merged(const hp_model *m, const mp *p, bool *owned) {
    *owned = false;
    if (!m->lora) return p->w;
    for (int i = 0; i < m->cfg.num_hidden_layers; i++) {
        const lin *ls[7] = {&m->L[i].q, &m->L[i].k, &m->L[i].v, &m->L[i].o, &m->L[i].gate, &m->L[i].up,
                            &m->L[i].down};
        for (int k = 0; k < 7; k++) {
            const lin *l = ls[k];
            if (l->w != p || !l->la) continue;
            float *w = hp_xmalloc((size_t)p->numel * sizeof(float));
            memcpy(w, p->w, (size_t)p->numel * sizeof(float));
            for (int o = 0; o < l->out; o++)
                for (int r = 0; r < l->r; r++) {
                    float s = l->lscale * l->lb->w[(int64_t)o * l->r + r];
                    const float *a = l->la->w + (int64_t)r * l->in;
                    float *wo = w + (int64_t)o * l->in;
                    for (int c = 0; c < l->in; c++) wo[c] += s * a[c];
                }
            *owned = true;
            return w;
        }
    }
    return p->w;
}

static bool is_lora(const mp *p) { return strstr(p->name, ".lora_") != NULL; }

static int copy_file(const char *src, const char *dst, hp_err *err) {
    char *data;
    size_t len;
    if (hp_read_file(src, &data, &len, err)) return HP_FAIL;
    int rc = hp_write_file_atomic(dst, data, len, err);
    free(data);
    return rc;
}

int hp_model_save(const hp_model *m, const char *dir, const char *tokenizer_dir, hp_err *err) {
    hp_buf tmp = {0};
    hp_buf_printf(&tmp, "%s.tmp.%ld", dir, (long)getpid());
    int rc = HP_OK;
    if (hp_path_exists(tmp.data)) rc = hp_remove_tree(tmp.data, err);
    if (rc == HP_OK) rc = hp_mkdirs(tmp.data, err);
    char *p = NULL;
    if (rc == HP_OK) {
        p = hp_path_join(tmp.data, "config.json");
        rc = hp_config_write(&m->cfg, p, err);
        free(p);
    }
    if (rc == HP_OK) {
        hp_dtype dt = !strcmp(m->cfg.torch_dtype, "bfloat16") ? HP_DT_BF16 : HP_DT_F32;
        hp_st_writer *w = hp_st_writer_new();
        float **own = hp_xcalloc((size_t)m->np, sizeof *own);
        for (int i = 0; i < m->np; i++) {
            if (is_lora(m->p[i])) continue;
            bool owned;
            const float *d = merged(m, m->p[i], &owned);
            if (owned) own[i] = (float *)d;
            hp_st_writer_add(w, m->p[i]->name, dt, m->p[i]->ndim, m->p[i]->shape, d);
        }
        p = hp_path_join(tmp.data, "model.safetensors");
        rc = hp_st_writer_write(w, p, err);
        free(p);
        for (int i = 0; i < m->np; i++) free(own[i]);
        free(own);
        hp_st_writer_free(w);
    }
    const char *tok_files[] = {"tokenizer.json", "tokenizer_config.json"};
    for (int i = 0; i < 2 && rc == HP_OK && tokenizer_dir; i++) {
        char *src = hp_path_join(tokenizer_dir, tok_files[i]);
        if (hp_path_exists(src)) {
            char *dst = hp_path_join(tmp.data, tok_files[i]);
            rc = copy_file(src, dst, err);
            free(dst);
        } else if (i == 0) {
            rc = hp_fail(err, "%s: no tokenizer.json to copy", tokenizer_dir);
        }
        free(src);
    }
    if (rc == HP_OK) rc = hp_dir_replace(tmp.data, dir, err);
    if (rc != HP_OK) {
        hp_err e2;
        if (hp_path_exists(tmp.data)) hp_remove_tree(tmp.data, &e2);
        hp_err_wrap(err, "saving model to %s", dir);
    }
    hp_buf_free(&tmp);
    return rc;
}

hp_model *hp_model_clone(const hp_model *src) {
    hp_model *m = model_new(&src->cfg);
    for (int i = 0; i < m->np; i++) {
        mp *p = m->p[i];
        const mp *q = NULL;
        for (int k = 0; k < src->np && !q; k++)
            if (!strcmp(src->p[k]->name, p->name)) q = src->p[k];
        bool owned;
        const float *d = merged(src, q, &owned);
        memcpy(p->w, d, (size_t)p->numel * sizeof(float));
        if (owned) free((float *)d);
        p->train = false;
    }
    m->chunk_tokens = src->chunk_tokens;
    return m;
}

void hp_model_free(hp_model *m) {
    if (!m) return;
    for (int i = 0; i < m->np; i++) mp_free(m->p[i]);
    free(m->p);
    free(m->L);
    free(m->grad_arena);
    free(m->m_arena);
    free(m->v_arena);
    free(m->a.buf);
    free(m->rope);
    free(m);
}

int hp_model_freeze_backbone(hp_model *m, hp_err *err) {
    if (!m->value_w) return hp_fail(err, "freeze_backbone: the model has no value head");
    if (m->lora) return hp_fail(err, "freeze_backbone: the model has LoRA adapters");
    hp_model_drop_grads(m);
    for (int i = 0; i < m->np; i++) m->p[i]->train = m->p[i] == m->value_w || m->p[i] == m->value_b;
    return HP_OK;
}

int hp_model_add_value_head(hp_model *m, int K, uint64_t seed, hp_err *err) {
    if (m->value_w) return hp_fail(err, "add_value_head: the model already has a value head");
    if (K <= 0) return hp_fail(err, "add_value_head: K must be positive (got %d)", K);
    hp_model_drop_grads(m);
    if (m->lm_head) {
        for (int i = 0; i < m->np; i++)
            if (m->p[i] == m->lm_head) {
                memmove(&m->p[i], &m->p[i + 1], (size_t)(m->np - i - 1) * sizeof *m->p);
                m->np--;
                break;
            }
        mp_free(m->lm_head);
        m->lm_head = NULL;
    }
    m->cfg.num_labels = K;
    m->value_w = hp_mp_new(m, "score.weight", K, m->cfg.hidden_size);
    m->value_b = hp_mp_new(m, "score.bias", K, 0);
    hp_rng r;
    hp_rng_seed(&r, seed, 0x5c0e);
    for (int64_t i = 0; i < m->value_w->numel; i++) m->value_w->w[i] = (float)(0.02 * hp_rng_normal(&r));
    if (m->lora) { /* with LoRA only adapters and the head train */
        m->value_w->train = m->value_b->train = true;
    }
    m->a.valid = false;
    return HP_OK;
}
