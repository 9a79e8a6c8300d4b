/* model_impl.h — the private layout of hp_model shared by the files of src/model/. */
#ifndef HIPER_MODEL_IMPL_H
#define HIPER_MODEL_IMPL_H

#include "hiper/model.h"

/* One named parameter tensor. w is owned; g/m/v point into the model's arenas (NULL when frozen). */
typedef struct mp {
    char *name;
    int ndim;
    int64_t shape[2];
    int64_t numel;
    float *w;
    float *g;
    float *m, *v; /* AdamW moments */
    bool train;
} mp;

/* A linear layer y = x W^T (+ b) (+ scale * (x A^T) B^T with LoRA). */
typedef struct lin {
    mp *w, *b;     /* W [out, in], b [out] or NULL */
    mp *la, *lb;   /* LoRA A [r, in], B [out, r] or NULL */
    int in, out, r;
    float lscale;
} lin;

typedef struct layer {
    mp *ln1, *ln2;
    lin q, k, v, o, gate, up, down;
} layer;

/* The activations a training pass keeps for its backward, for a chunk of T packed tokens (pass.c;
 * shapes row-major, D = hidden_size, F = intermediate_size, Hq = num_attention_heads, Dq = Hq * head_dim,
 * Dkv = num_key_value_heads * head_dim). One layer's slab, in this order: */
typedef struct slab {
    float *x;   // (T, D)   the layer's input (the residual stream)
    float *h1;  // (T, D)   rmsnorm(x) * ln1, the attention's input
    float *q;   // (T, Dq)  queries, rotated (RoPE)
    float *k;   // (T, Dkv) keys, rotated
    float *v;   // (T, Dkv) values
    float *att; // (T, Dq)  attention output, heads concatenated (before o_proj)
    float *lse; // (T, Hq)  log-sum-exp of each query row's attention scores (for the backward)
    float *x2;  // (T, D)   x + o_proj(att), the MLP's residual input
    float *h2;  // (T, D)   rmsnorm(x2) * ln2, the MLP's input
    float *g;   // (T, F)   gate_proj(h2)
    float *u;   // (T, F)   up_proj(h2); the MLP's output is down_proj(silu(g) * u), recomputed in the backward
    float *r1;  // (T)      1 / rms of x
    float *r2;  // (T)      1 / rms of x2
} slab;

/* The model's activation buffer for one chunk of T tokens: L slabs, then the final region xf (T, D) = the
 * last layer's output, hf (T, D) = rmsnorm(xf) * norm (what the output layer and the value head read),
 * rf (T) = 1 / rms of xf. It holds the last chunk of a forward that keeps activations (hp_model_forward),
 * which hp_model_backward reuses when the batch is the same, and the chunks the backward recomputes.
 * A chunk not kept (every chunk of a scoring pass, hp_model_score, and all but the last of a forward)
 * reuses one slab for every layer in a scratch buffer instead. */
typedef struct acts {
    float *buf;
    size_t buf_n; /* floats allocated */
    /* the chunk whose activations buf holds */
    bool valid;
    int seq0, seq1;       /* its sequences [seq0, seq1) in the batch */
    uint64_t fingerprint; /* of the batch's ids and offsets */
} acts;

struct hp_model {
    hp_config cfg;
    mp **p;
    int np;
    layer *L;
    mp *embed, *norm, *lm_head;
    mp *value_w, *value_b; /* a critic's value head (K, D), (K): Hugging Face's tensors score.weight, score.bias */
    bool lora;
    hp_lora lora_cfg; /* as enabled (hp_model_enable_lora) */
    float *grad_arena;
    size_t grad_n;
    float *m_arena, *v_arena;
    int64_t step;
    int64_t chunk_tokens;
    acts a;
    float *rope;        /* [rope_n][head_dim/2][2] cos, sin of pos * theta^(-2i/hd) */
    int64_t rope_n;
};

/* weights.c */
mp *hp_mp_new(hp_model *m, const char *name, int64_t d0, int64_t d1);
void hp_model_ensure_grads(hp_model *m);
void hp_model_drop_grads(hp_model *m);

/* kernels.c: row-major f32 helpers. */
/* OpenBLAS to one thread (process-wide; called when a model is created and before products). */
void hp_blas_single_thread(void);
/* C[M,N] = alpha op(A) op(B) + beta C (OpenBLAS, sliced over OpenMP threads). */
void hp_gemm(bool ta, bool tb, int64_t M, int64_t N, int64_t K, float alpha, const float *A, int64_t lda,
             const float *B, int64_t ldb, float beta, float *C, int64_t ldc);
/* y[T,out] = x[T,in] W^T (+ b) (+ LoRA); accumulate into y when acc. */
void hp_lin_fwd(const lin *l, const float *x, int64_t T, float *y, bool acc);
/* dx[T,in] (+)= dy W (+ LoRA part); parameter grads accumulate. dx may be NULL. */
void hp_lin_bwd(const lin *l, const float *x, const float *dy, int64_t T, float *dx, bool dx_acc,
                float *tmp_r);
/* Dot product with a fixed summation order (AVX2). */
float hp_dot(const float *a, const float *b, int64_t n);
/* Deterministic batched mat-vec used by generation: per row, independent of T. */
void hp_lin_fwd_rows(const lin *l, const float *x, int64_t T, float *y);
void hp_matvec_rows(const float *W, int64_t out, int64_t in, const float *x, int64_t T, float *y);
void hp_rmsnorm_fwd(const float *x, const float *w, int64_t T, int D, double eps, float *y, float *rstd);
void hp_rmsnorm_bwd(const float *x, const float *w, const float *rstd, const float *dy, int64_t T, int D,
                    float *dx, bool dx_acc, float *dw);
/* The cos/sin table for positions [0, npos) (grown on demand; valid until the next call). */
const float *hp_rope_table(hp_model *m, int64_t npos);
void hp_rope_fwd(float *x, int64_t T, int nh, int hd, const int32_t *pos, const float *table);
void hp_rope_bwd(float *dx, int64_t T, int nh, int hd, const int32_t *pos, const float *table);

/* attention.c: causal GQA attention over packed sequences [s0, s1) of a chunk. */
void hp_attn_fwd(const hp_config *c, const float *q, const float *k, const float *v, const int64_t *offs,
                 int n_seq, float *out, float *lse);
void hp_attn_bwd(const hp_config *c, const float *q, const float *k, const float *v, const float *out,
                 const float *lse, const float *dout, const int64_t *offs, int n_seq, float *dq, float *dk,
                 float *dv);

#endif /* HIPER_MODEL_IMPL_H */
