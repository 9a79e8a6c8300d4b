/* The training pass: chunked forward (keeping activations), backward (recomputing all chunks but
 * the last), and scoring without stored activations. */
#include "model_impl.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

enum { HEAD_ROWS = 128 };

typedef struct dims {
    int D, F, Dq, Dkv, Hq, L, V, K;
} dims;

static dims get_dims(const hp_model *m) {
    const hp_config *c = &m->cfg;
    dims d = {c->hidden_size, c->intermediate_size, c->num_attention_heads * c->head_dim,
              c->num_key_value_heads * c->head_dim, c->num_attention_heads, c->num_hidden_layers,
              c->vocab_size, hp_model_n_values(m)};
    return d;
}

/* One layer's slab (model_impl.h) per token, in floats. */
static int64_t layer_floats(const dims *d) { return 4LL * d->D + 2LL * d->Dq + 2LL * d->Dkv + 2LL * d->F + d->Hq + 2; }

static slab slab_at(float *base, const dims *d, int64_t T) {
    slab s;
    float *p = base;
    s.x = p; p += T * d->D;
    s.h1 = p; p += T * d->D;
    s.q = p; p += T * d->Dq;
    s.k = p; p += T * d->Dkv;
    s.v = p; p += T * d->Dkv;
    s.att = p; p += T * d->Dq;
    s.lse = p; p += T * d->Hq;
    s.x2 = p; p += T * d->D;
    s.h2 = p; p += T * d->D;
    s.g = p; p += T * d->F;
    s.u = p; p += T * d->F;
    s.r1 = p; p += T;
    s.r2 = p;
    return s;
}

/* The activation buffer of a chunk of T tokens: n_slabs layer slabs, then the final region
 * (xf [T,D], hf [T,D], rf [T]). */
typedef struct chunk_mem {
    float *base;
    int64_t T;
    int n_slabs; /* L when stored, 1 when scoring */
} chunk_mem;

static slab layer_slab(const chunk_mem *cm, const dims *d, int l) {
    return slab_at(cm->base + (cm->n_slabs == 1 ? 0 : l) * layer_floats(d) * cm->T, d, cm->T);
}
static float *final_x(const chunk_mem *cm, const dims *d) { return cm->base + cm->n_slabs * layer_floats(d) * cm->T; }
static float *final_h(const chunk_mem *cm, const dims *d) { return final_x(cm, d) + cm->T * d->D; }
static float *final_r(const chunk_mem *cm, const dims *d) { return final_h(cm, d) + cm->T * d->D; }
static size_t chunk_floats(const dims *d, int64_t T, int n_slabs) {
    return (size_t)(n_slabs * layer_floats(d) * T + 2 * T * d->D + T);
}

/* Positions restart at 0 in every sequence; returns the longest sequence's length. */
static int64_t positions(const int64_t *offs, int n_seq, int32_t *pos) {
    int64_t mx = 1;
    for (int s = 0; s < n_seq; s++) {
        for (int64_t t = offs[s]; t < offs[s + 1]; t++) pos[t - offs[0]] = (int32_t)(t - offs[s]);
        mx = offs[s + 1] - offs[s] > mx ? offs[s + 1] - offs[s] : mx;
    }
    return mx;
}

static float silu(float x) { return x / (1.0f + expf(-x)); }

/* Forward of one chunk: tokens ids[0..T), local sequence offsets offs[0..n_seq] (offs[0] = 0). */
static void chunk_forward(hp_model *m, const int32_t *ids, const int64_t *offs, int n_seq, chunk_mem *cm) {
    dims d = get_dims(m);
    const hp_config *c = &m->cfg;
    int64_t T = cm->T;
    int32_t *pos = hp_xmalloc((size_t)T * sizeof *pos);
    const float *rt = hp_rope_table(m, positions(offs, n_seq, pos));
    slab s0 = layer_slab(cm, &d, 0);
    for (int64_t t = 0; t < T; t++) memcpy(s0.x + t * d.D, m->embed->w + (int64_t)ids[t] * d.D, (size_t)d.D * sizeof(float));
    for (int l = 0; l < d.L; l++) {
        const layer *L = &m->L[l];
        slab s = layer_slab(cm, &d, l);
        float *xo = l + 1 < d.L ? layer_slab(cm, &d, l + 1).x : final_x(cm, &d);
        hp_rmsnorm_fwd(s.x, L->ln1->w, T, d.D, c->rms_norm_eps, s.h1, s.r1);
        hp_lin_fwd(&L->q, s.h1, T, s.q, false);
        hp_lin_fwd(&L->k, s.h1, T, s.k, false);
        hp_lin_fwd(&L->v, s.h1, T, s.v, false);
        hp_rope_fwd(s.q, T, c->num_attention_heads, c->head_dim, pos, rt);
        hp_rope_fwd(s.k, T, c->num_key_value_heads, c->head_dim, pos, rt);
        hp_attn_fwd(c, s.q, s.k, s.v, offs, n_seq, s.att, s.lse);
        memcpy(s.x2, s.x, (size_t)(T * d.D) * sizeof(float));
        hp_lin_fwd(&L->o, s.att, T, s.x2, true);
        hp_rmsnorm_fwd(s.x2, L->ln2->w, T, d.D, c->rms_norm_eps, s.h2, s.r2);
        hp_lin_fwd(&L->gate, s.h2, T, s.g, false);
        hp_lin_fwd(&L->up, s.h2, T, s.u, false);
        /* a = silu(g) * u (T, F): a temporary, not kept (the backward recomputes it from g and u) */
        float *a = hp_xmalloc((size_t)(T * d.F) * sizeof(float));
#pragma omp parallel for schedule(static) if (T * d.F > 65536)
        for (int64_t i = 0; i < T * d.F; i++) a[i] = silu(s.g[i]) * s.u[i];
        if (xo != s.x2) memcpy(xo, s.x2, (size_t)(T * d.D) * sizeof(float));
        hp_lin_fwd(&L->down, a, T, xo, true);
        free(a);
    }
    hp_rmsnorm_fwd(final_x(cm, &d), m->norm->w, T, d.D, c->rms_norm_eps, final_h(cm, &d), final_r(cm, &d));
    free(pos);
}

static const float *head_weight(const hp_model *m) { return m->lm_head ? m->lm_head->w : m->embed->w; }
static float *head_grad(const hp_model *m) { return m->lm_head ? m->lm_head->g : m->embed->g; }

/* Per-row softmax statistics of logits z [V]: lse and entropy (f64 reductions). Logits of -inf (tokens
 * a vocabulary constraint forbids) have probability 0 and add nothing. */
static void row_stats(const float *z, int V, double *lse, double *H) {
    float mx = -INFINITY;
    for (int i = 0; i < V; i++) mx = z[i] > mx ? z[i] : mx;
    double s = 0, sz = 0;
    for (int i = 0; i < V; i++) {
        if (z[i] == -INFINITY) continue;
        float e = expf(z[i] - mx);
        s += e;
        sz += (double)e * z[i];
    }
    *lse = mx + log(s);
    *H = *lse - sz / s;
}

/* How the output layer turns hidden states into the policy: the allowed-token row of position t
 * (chunk-local; mask_of NULL when unconstrained) and the logit scale 1/temperature (hp_batch.temperature). */
typedef struct vmask {
    const int64_t *mask_of; /* offset to the chunk */
    const uint8_t *bits;
    size_t stride;
    float scale; /* logits = scale * W h */
} vmask;

static vmask chunk_vmask(const hp_model *m, const hp_batch *b, int64_t t0) {
    float scale = b->temperature > 0 ? (float)(1.0 / b->temperature) : 1.0f;
    if (!b->mask_of || !b->allowed_bits) return (vmask){.scale = scale};
    return (vmask){b->mask_of + t0, b->allowed_bits, hp_vocab_mask_bytes(m->cfg.vocab_size), scale};
}

/* Forbidden tokens of position t get logit -inf. */
static void apply_vmask(const vmask *vm, int64_t t, float *z, int V) {
    if (!vm->mask_of || vm->mask_of[t] < 0) return;
    const uint8_t *row = vm->bits + (size_t)vm->mask_of[t] * vm->stride;
    for (int v = 0; v < V; v++)
        if (!((row[v >> 3] >> (v & 7)) & 1)) z[v] = -INFINITY;
}

/* Target of token t (chunk-local) or -1 at the end of its sequence. */
static int32_t target_of(const int32_t *ids, const int64_t *offs, int n_seq, int64_t t, int *seq_hint) {
    while (*seq_hint < n_seq && t >= offs[*seq_hint + 1]) (*seq_hint)++;
    return t + 1 < offs[*seq_hint + 1] ? ids[t + 1] : -1;
}

/* The positions (chunk-local) whose log-prob/entropy is wanted: all, or those marked in the batch's
 * `scored` (forward), or those with a nonzero upstream gradient (backward). Returns the count. */
static int64_t head_rows(int64_t T, const uint8_t *scored, const float *dlogp, const float *dent, int64_t *rows) {
    int64_t n = 0;
    for (int64_t t = 0; t < T; t++) {
        bool want = scored ? scored[t] != 0 : true;
        if (dlogp || dent) want = (dlogp && dlogp[t] != 0.0f) || (dent && dent[t] != 0.0f);
        if (want) rows[n++] = t;
    }
    return n;
}

/* The value head on T hidden rows: values [T, K] = hf score.weight^T + score.bias. */
static void value_head_fwd(const hp_model *m, const float *hf, int64_t T, float *values) {
    dims d = get_dims(m);
    for (int64_t t = 0; t < T; t++)
        for (int k = 0; k < d.K; k++) values[t * d.K + k] = m->value_b->w[k];
    if (T > 0) hp_gemm(false, true, (int)T, d.K, d.D, 1.0f, hf, d.D, m->value_w->w, d.D, 1.0f, values, d.K);
}

/* Its parameter gradients from dval [T, K] (accumulated; tensors that do not train are skipped). */
static void value_head_grad(hp_model *m, const float *hf, int64_t T, const float *dval) {
    dims d = get_dims(m);
    if (T == 0) return;
    if (m->value_w->g) hp_gemm(true, false, d.K, d.D, (int)T, 1.0f, dval, d.K, hf, d.D, 1.0f, m->value_w->g, d.D);
    if (m->value_b->g)
        for (int64_t t = 0; t < T; t++)
            for (int k = 0; k < d.K; k++) m->value_b->g[k] += dval[t * d.K + k];
}

static void head_forward(const hp_model *m, const int32_t *ids, const int64_t *offs, int n_seq, const vmask *vm,
                         const uint8_t *scored, const float *hf, int64_t T, float *logp, float *ent, float *values) {
    dims d = get_dims(m);
    if (d.K > 0) {
        if (values) value_head_fwd(m, hf, T, values);
        return;
    }
    if (!logp && !ent) return;
    if (logp) memset(logp, 0, (size_t)T * sizeof *logp);
    if (ent) memset(ent, 0, (size_t)T * sizeof *ent);
    int64_t *rows = hp_xmalloc(((size_t)T + 1) * sizeof *rows);
    int64_t nr = head_rows(T, scored, NULL, NULL, rows);
    float *z = hp_xmalloc((size_t)HEAD_ROWS * d.V * sizeof(float));
    float *hg = hp_xmalloc((size_t)HEAD_ROWS * d.D * sizeof(float));
    int32_t *y = hp_xmalloc((size_t)T * sizeof *y);
    int hint = 0;
    for (int64_t t = 0; t < T; t++) y[t] = target_of(ids, offs, n_seq, t, &hint);
    for (int64_t r0 = 0; r0 < nr; r0 += HEAD_ROWS) {
        int n = (int)(nr - r0 < HEAD_ROWS ? nr - r0 : HEAD_ROWS);
        for (int i = 0; i < n; i++) memcpy(hg + (int64_t)i * d.D, hf + rows[r0 + i] * d.D, (size_t)d.D * sizeof *hg);
        hp_gemm(false, true, n, d.V, d.D, vm->scale, hg, d.D, head_weight(m), d.D, 0.0f, z, d.V);
        double lse[HEAD_ROWS], H[HEAD_ROWS];
#pragma omp parallel for schedule(static)
        for (int i = 0; i < n; i++) {
            apply_vmask(vm, rows[r0 + i], z + (int64_t)i * d.V, d.V);
            row_stats(z + (int64_t)i * d.V, d.V, &lse[i], &H[i]);
        }
        for (int i = 0; i < n; i++) {
            int64_t t = rows[r0 + i];
            if (logp) logp[t] = y[t] >= 0 ? (float)(z[(int64_t)i * d.V + y[t]] - lse[i]) : 0.0f;
            if (ent) ent[t] = (float)H[i];
        }
    }
    free(z);
    free(hg);
    free(y);
    free(rows);
}

/* dhf [T,D] = d(head outputs)/d(hf) given upstream gradients; parameter grads accumulate. Positions
 * whose upstream gradients are both zero contribute nothing and are skipped. */
static void head_backward(hp_model *m, const int32_t *ids, const int64_t *offs, int n_seq, const vmask *vm,
                          const float *hf, int64_t T, const float *dlogp, const float *dent, const float *dval,
                          float *dhf) {
    dims d = get_dims(m);
    memset(dhf, 0, (size_t)(T * d.D) * sizeof(float));
    if (d.K > 0) {
        if (!dval) return;
        value_head_grad(m, hf, T, dval);
        hp_gemm(false, false, (int)T, d.D, d.K, 1.0f, dval, d.K, m->value_w->w, d.D,
                    0.0f, dhf, d.D);
        return;
    }
    int64_t *rows = hp_xmalloc(((size_t)T + 1) * sizeof *rows);
    int64_t nr = head_rows(T, NULL, dlogp, dent, rows);
    float *z = hp_xmalloc((size_t)HEAD_ROWS * d.V * sizeof(float));
    float *hg = hp_xmalloc((size_t)HEAD_ROWS * d.D * sizeof(float));
    float *dg = hp_xmalloc((size_t)HEAD_ROWS * d.D * sizeof(float));
    int32_t *yall = hp_xmalloc((size_t)T * sizeof *yall);
    float *gW = head_grad(m);
    int hint = 0;
    for (int64_t t = 0; t < T; t++) yall[t] = target_of(ids, offs, n_seq, t, &hint);
    for (int64_t r0 = 0; r0 < nr; r0 += HEAD_ROWS) {
        int n = (int)(nr - r0 < HEAD_ROWS ? nr - r0 : HEAD_ROWS);
        for (int i = 0; i < n; i++) memcpy(hg + (int64_t)i * d.D, hf + rows[r0 + i] * d.D, (size_t)d.D * sizeof *hg);
        hp_gemm(false, true, n, d.V, d.D, vm->scale, hg, d.D, head_weight(m), d.D, 0.0f, z, d.V);
#pragma omp parallel for schedule(static)
        for (int i = 0; i < n; i++) {
            float *zi = z + (int64_t)i * d.V;
            double lse, H;
            int64_t t = rows[r0 + i];
            int32_t y = yall[t];
            apply_vmask(vm, t, zi, d.V);
            row_stats(zi, d.V, &lse, &H);
            float gl = dlogp && y >= 0 ? dlogp[t] : 0.0f, ge = dent ? dent[t] : 0.0f;
            float fl = (float)lse, fh = (float)H;
            for (int v = 0; v < d.V; v++) {
                if (zi[v] == -INFINITY) { /* a forbidden token: probability 0, no gradient */
                    zi[v] = 0.0f;
                    continue;
                }
                float lp = zi[v] - fl, p = expf(lp);
                zi[v] = -gl * p - ge * p * (lp + fh);
            }
            if (y >= 0) zi[y] += gl;
        }
        /* z holds dL/d(scaled logits); d(scaled logits)/d(W h) = scale */
        if (gW) hp_gemm(true, false, d.V, d.D, n, vm->scale, z, d.V, hg, d.D, 1.0f, gW, d.D);
        hp_gemm(false, false, n, d.D, d.V, vm->scale, z, d.V, head_weight(m), d.D, 0.0f, dg, d.D);
        for (int i = 0; i < n; i++) memcpy(dhf + rows[r0 + i] * d.D, dg + (int64_t)i * d.D, (size_t)d.D * sizeof *dg);
    }
    free(z);
    free(hg);
    free(dg);
    free(yall);
    free(rows);
}

/* Backward of one chunk whose activations are in cm. */
static void chunk_backward(hp_model *m, const int32_t *ids, const int64_t *offs, int n_seq, const vmask *vm, chunk_mem *cm,
                           const float *dlogp, const float *dent, const float *dval) {
    dims d = get_dims(m);
    const hp_config *c = &m->cfg;
    int64_t T = cm->T;
    int rmax = 0;
    for (int l = 0; l < d.L; l++) {
        const lin *ls[7] = {&m->L[l].q, &m->L[l].k, &m->L[l].v, &m->L[l].o, &m->L[l].gate, &m->L[l].up, &m->L[l].down};
        for (int k = 0; k < 7; k++) rmax = ls[k]->r > rmax ? ls[k]->r : rmax;
    }
    int32_t *pos = hp_xmalloc((size_t)T * sizeof *pos);
    const float *rt = hp_rope_table(m, positions(offs, n_seq, pos));
    float *dX = hp_xmalloc((size_t)(T * d.D) * sizeof(float));
    float *tD = hp_xmalloc((size_t)(T * d.D) * sizeof(float));
    float *tF1 = hp_xmalloc((size_t)(T * d.F) * sizeof(float));
    float *tF2 = hp_xmalloc((size_t)(T * d.F) * sizeof(float));
    float *tQ1 = hp_xmalloc((size_t)(T * d.Dq) * sizeof(float));
    float *tQ2 = hp_xmalloc((size_t)(T * d.Dq) * sizeof(float));
    float *tK = hp_xmalloc((size_t)(T * d.Dkv) * sizeof(float));
    float *tV = hp_xmalloc((size_t)(T * d.Dkv) * sizeof(float));
    float *tR = rmax ? hp_xmalloc((size_t)(2 * T * rmax) * sizeof(float)) : NULL;

    head_backward(m, ids, offs, n_seq, vm, final_h(cm, &d), T, dlogp, dent, dval, tD);
    hp_rmsnorm_bwd(final_x(cm, &d), m->norm->w, final_r(cm, &d), tD, T, d.D, dX, false, m->norm->g);
    for (int l = d.L - 1; l >= 0; l--) {
        const layer *L = &m->L[l];
        slab s = layer_slab(cm, &d, l);
#pragma omp parallel for schedule(static) if (T * d.F > 65536)
        for (int64_t i = 0; i < T * d.F; i++) tF1[i] = silu(s.g[i]) * s.u[i];
        hp_lin_bwd(&L->down, tF1, dX, T, tF2, false, tR);
#pragma omp parallel for schedule(static) if (T * d.F > 65536)
        for (int64_t i = 0; i < T * d.F; i++) {
            float g = s.g[i], sg = 1.0f / (1.0f + expf(-g)), da = tF2[i];
            tF1[i] = da * s.u[i] * sg * (1.0f + g * (1.0f - sg));
            tF2[i] = da * g * sg;
        }
        hp_lin_bwd(&L->gate, s.h2, tF1, T, tD, false, tR);
        hp_lin_bwd(&L->up, s.h2, tF2, T, tD, true, tR);
        hp_rmsnorm_bwd(s.x2, L->ln2->w, s.r2, tD, T, d.D, dX, true, L->ln2->g);
        hp_lin_bwd(&L->o, s.att, dX, T, tQ1, false, tR);
        hp_attn_bwd(c, s.q, s.k, s.v, s.att, s.lse, tQ1, offs, n_seq, tQ2, tK, tV);
        hp_rope_bwd(tQ2, T, c->num_attention_heads, c->head_dim, pos, rt);
        hp_rope_bwd(tK, T, c->num_key_value_heads, c->head_dim, pos, rt);
        hp_lin_bwd(&L->q, s.h1, tQ2, T, tD, false, tR);
        hp_lin_bwd(&L->k, s.h1, tK, T, tD, true, tR);
        hp_lin_bwd(&L->v, s.h1, tV, T, tD, true, tR);
        hp_rmsnorm_bwd(s.x, L->ln1->w, s.r1, tD, T, d.D, dX, true, L->ln1->g);
    }
    if (m->embed->g)
        for (int64_t t = 0; t < T; t++) {
            float *g = m->embed->g + (int64_t)ids[t] * d.D;
            const float *dx = dX + t * d.D;
            for (int i = 0; i < d.D; i++) g[i] += dx[i];
        }
    free(pos);
    free(dX);
    free(tD);
    free(tF1);
    free(tF2);
    free(tQ1);
    free(tQ2);
    free(tK);
    free(tV);
    free(tR);
}

/* ---- batches and chunks ---- */

static int check_batch(const hp_model *m, const hp_batch *b, hp_err *err) {
    if (!b || !b->ids || !b->offsets || b->n_seq < 0) return hp_fail(err, "batch: missing ids or offsets");
    if (b->offsets[0] != 0) return hp_fail(err, "batch: offsets[0] must be 0 (got %lld)", (long long)b->offsets[0]);
    for (int s = 0; s < b->n_seq; s++)
        if (b->offsets[s + 1] < b->offsets[s])
            return hp_fail(err, "batch: offsets decrease at sequence %d", s);
    int64_t n = b->offsets[b->n_seq];
    for (int64_t t = 0; t < n; t++)
        if (b->ids[t] < 0 || b->ids[t] >= m->cfg.vocab_size)
            return hp_fail(err, "batch: token %lld has id %d outside the vocabulary [0, %d)", (long long)t, b->ids[t],
                           m->cfg.vocab_size);
    for (int s = 0; s < b->n_seq; s++)
        if (b->offsets[s + 1] - b->offsets[s] > m->cfg.max_position_embeddings)
            return hp_fail(err, "batch: sequence %d has %lld tokens, more than max_position_embeddings %d", s,
                           (long long)(b->offsets[s + 1] - b->offsets[s]), m->cfg.max_position_embeddings);
    return HP_OK;
}

static uint64_t fingerprint(const hp_batch *b) {
    uint64_t h = hp_hash64(b->offsets, (size_t)(b->n_seq + 1) * sizeof *b->offsets, 17);
    return hp_hash64(b->ids, (size_t)b->offsets[b->n_seq] * sizeof *b->ids, h);
}

/* Chunks: consecutive sequences up to chunk_tokens tokens (at least one sequence). */
static int next_chunk(const hp_model *m, const hp_batch *b, int s0) {
    int s1 = s0 + 1;
    while (s1 < b->n_seq && b->offsets[s1 + 1] - b->offsets[s0] <= m->chunk_tokens) s1++;
    return s1;
}

/* Run one chunk forward into cm (allocated here) with local offsets. */
static void run_chunk(hp_model *m, const hp_batch *b, int s0, int s1, chunk_mem *cm, int64_t **loffs_out) {
    int64_t t0 = b->offsets[s0];
    int64_t *loffs = hp_xmalloc((size_t)(s1 - s0 + 1) * sizeof *loffs);
    for (int s = s0; s <= s1; s++) loffs[s - s0] = b->offsets[s] - t0;
    cm->T = b->offsets[s1] - t0;
    chunk_forward(m, b->ids + t0, loffs, s1 - s0, cm);
    *loffs_out = loffs;
}

static void ensure_acts(hp_model *m, size_t n) {
    if (m->a.buf_n < n) {
        free(m->a.buf);
        m->a.buf = hp_xmalloc(n * sizeof(float));
        m->a.buf_n = n;
    }
}

/* The first non-finite output of a chunk → an error naming the token, its sequence and position, and
 * the first parameter tensor holding a NaN/Inf, if any (a silent NaN would otherwise train on). */
static int check_outputs(const hp_model *m, const hp_batch *b, int s0, int s1, const float *logp, const float *ent,
                         const float *values, int K, hp_err *err) {
    for (int s = s0; s < s1; s++)
        for (int64_t t = b->offsets[s]; t < b->offsets[s + 1]; t++) {
            const char *what = NULL;
            double v = 0;
            if (logp && !isfinite(logp[t])) what = "log-prob", v = logp[t];
            else if (ent && !isfinite(ent[t])) what = "entropy", v = ent[t];
            for (int k = 0; values && !what && k < K; k++)
                if (!isfinite(values[t * K + k])) what = "value", v = values[t * K + k];
            if (!what) continue;
            const char *bad = NULL;
            for (int i = 0; i < m->np && !bad; i++)
                for (int64_t j = 0; j < m->p[i]->numel; j++)
                    if (!isfinite(m->p[i]->w[j])) {
                        bad = m->p[i]->name;
                        break;
                    }
            return hp_fail(err, "forward: %s %g at token %lld (sequence %d, position %lld)%s%s%s", what, v,
                           (long long)t, s, (long long)(t - b->offsets[s]), bad ? "; parameter '" : "",
                           bad ? bad : "", bad ? "' is not finite" : "");
        }
    return HP_OK;
}

static int check_upstream(const char *what, const float *d, int64_t n, int K, hp_err *err) {
    for (int64_t i = 0; d && i < n; i++)
        if (!isfinite(d[i]))
            return K ? hp_fail(err, "backward: %s[%lld] (token %lld, head %lld) is %g", what, (long long)i,
                               (long long)(i / K), (long long)(i % K), (double)d[i])
                     : hp_fail(err, "backward: %s[%lld] is %g", what, (long long)i, (double)d[i]);
    return HP_OK;
}

static int forward_impl(hp_model *m, const hp_batch *b, float *logp, float *ent, float *values, float *hidden,
                        bool keep, hp_err *err) {
    if (check_batch(m, b, err)) return HP_FAIL;
    if (hp_model_n_values(m) == 0 && values) return hp_fail(err, "forward: values requested from a model without a value head");
    if (hp_model_n_values(m) > 0 && (logp || ent)) return hp_fail(err, "forward: log-probs requested from a critic");
    dims d = get_dims(m);
    m->a.valid = false;
    float *scratch = NULL;
    int s0 = 0;
    while (s0 < b->n_seq) {
        int s1 = next_chunk(m, b, s0);
        int64_t t0 = b->offsets[s0], T = b->offsets[s1] - t0;
        bool last = s1 == b->n_seq;
        chunk_mem cm = {0};
        cm.n_slabs = keep && last ? d.L : 1;
        size_t need = chunk_floats(&d, T, cm.n_slabs);
        if (cm.n_slabs > 1) {
            ensure_acts(m, need);
            cm.base = m->a.buf;
        } else {
            scratch = hp_xrealloc(scratch, (need ? need : 1) * sizeof(float));
            cm.base = scratch;
        }
        int64_t *loffs;
        if (T > 0) {
            run_chunk(m, b, s0, s1, &cm, &loffs);
            if (hidden) memcpy(hidden + t0 * d.D, final_h(&cm, &d), (size_t)(T * d.D) * sizeof *hidden);
            vmask vm = chunk_vmask(m, b, t0);
            head_forward(m, b->ids + t0, loffs, s1 - s0, &vm, b->scored ? b->scored + t0 : NULL, final_h(&cm, &d), T,
                         logp ? logp + t0 : NULL,
                         ent ? ent + t0 : NULL, values ? values + t0 * d.K : NULL);
            free(loffs);
            if (check_outputs(m, b, s0, s1, logp, ent, values, d.K, err)) {
                m->a.valid = false;
                free(scratch);
                return HP_FAIL;
            }
            if (cm.n_slabs > 1) {
                m->a.valid = true;
                m->a.seq0 = s0;
                m->a.seq1 = s1;
                m->a.fingerprint = fingerprint(b);
            }
        }
        s0 = s1;
    }
    free(scratch);
    return HP_OK;
}

int hp_model_forward(hp_model *m, const hp_batch *b, float *logp, float *entropy, float *values, hp_err *err) {
    return forward_impl(m, b, logp, entropy, values, NULL, true, err);
}

int hp_model_score(hp_model *m, const hp_batch *b, float *logp, float *entropy, float *values, hp_err *err) {
    return forward_impl(m, b, logp, entropy, values, NULL, false, err);
}

int hp_model_score_hidden(hp_model *m, const hp_batch *b, float *logp, float *entropy, float *hidden, hp_err *err) {
    if (!hidden) return hp_fail(err, "score_hidden: no output for the hidden states");
    return forward_impl(m, b, logp, entropy, NULL, hidden, false, err);
}

/* The value head alone, on hidden states computed elsewhere (a critic on a frozen backbone). */
static int check_head(const hp_model *m, const float *hidden, int64_t n, const float *io, const char *what,
                      hp_err *err) {
    if (!m->value_w) return hp_fail(err, "%s: the model has no value head", what);
    if (n < 0 || (n > 0 && (!hidden || !io))) return hp_fail(err, "%s: bad arguments (n = %lld)", what, (long long)n);
    return HP_OK;
}

int hp_model_head_values(const hp_model *m, const float *hidden, int64_t n, float *values, hp_err *err) {
    if (check_head(m, hidden, n, values, "head_values", err)) return HP_FAIL;
    dims d = get_dims(m);
    value_head_fwd(m, hidden, n, values);
    for (int64_t i = 0; i < n * d.K; i++)
        if (!isfinite(values[i]))
            return hp_fail(err, "head_values: value %g at row %lld, head %lld", (double)values[i], (long long)(i / d.K),
                           (long long)(i % d.K));
    return HP_OK;
}

int hp_model_head_backward(hp_model *m, const float *hidden, int64_t n, const float *dvalues, hp_err *err) {
    if (check_head(m, hidden, n, dvalues, "head_backward", err)) return HP_FAIL;
    dims d = get_dims(m);
    if (check_upstream("dvalues", dvalues, n * d.K, d.K, err)) return HP_FAIL;
    hp_model_ensure_grads(m);
    value_head_grad(m, hidden, n, dvalues);
    return HP_OK;
}

int hp_model_backward(hp_model *m, const hp_batch *b, const float *dlogp, const float *dentropy,
                      const float *dvalues, hp_err *err) {
    if (check_batch(m, b, err)) return HP_FAIL;
    dims d = get_dims(m);
    if (d.K > 0 && !dvalues) return hp_fail(err, "backward: a critic needs dvalues");
    if (d.K == 0 && !dlogp && !dentropy) return hp_fail(err, "backward: a policy needs dlogp or dentropy");
    int64_t n = b->offsets[b->n_seq];
    if (check_upstream("dlogp", d.K ? NULL : dlogp, n, 0, err) ||
        check_upstream("dentropy", d.K ? NULL : dentropy, n, 0, err) ||
        check_upstream("dvalues", d.K ? dvalues : NULL, n * d.K, d.K, err))
        return HP_FAIL;
    hp_model_ensure_grads(m);
    /* Chunk starts, then walk them in reverse. */
    int *starts = hp_xmalloc((size_t)(b->n_seq + 1) * sizeof *starts);
    int nc = 0;
    for (int s0 = 0; s0 < b->n_seq; s0 = next_chunk(m, b, s0)) starts[nc++] = s0;
    starts[nc] = b->n_seq;
    bool cached = m->a.valid && m->a.fingerprint == fingerprint(b);
    for (int ci = nc - 1; ci >= 0; ci--) {
        int s0 = starts[ci], s1 = starts[ci + 1];
        int64_t t0 = b->offsets[s0], T = b->offsets[s1] - t0;
        if (T == 0) continue;
        chunk_mem cm = {0};
        cm.n_slabs = d.L;
        cm.T = T;
        int64_t *loffs = hp_xmalloc((size_t)(s1 - s0 + 1) * sizeof *loffs);
        for (int s = s0; s <= s1; s++) loffs[s - s0] = b->offsets[s] - t0;
        if (!(cached && m->a.seq0 == s0 && m->a.seq1 == s1)) {
            ensure_acts(m, chunk_floats(&d, T, d.L));
            cm.base = m->a.buf;
            chunk_forward(m, b->ids + t0, loffs, s1 - s0, &cm);
        } else {
            cm.base = m->a.buf;
        }
        m->a.valid = false;
        vmask vm = chunk_vmask(m, b, t0);
        chunk_backward(m, b->ids + t0, loffs, s1 - s0, &vm, &cm, dlogp ? dlogp + t0 : NULL,
                       dentropy ? dentropy + t0 : NULL, dvalues ? dvalues + t0 * d.K : NULL);
        free(loffs);
    }
    free(starts);
    return HP_OK;
}
