/* Causal grouped-query attention over packed sequences, forward and backward, one (sequence, head)
 * at a time with OpenBLAS: S = scale Q K^T, row softmax under the causal mask, O = P V. The forward
 * keeps only the log-sum-exp of each row; the backward recomputes P from it. */
#include "model_impl.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

static int64_t max_len(const int64_t *offs, int n_seq) {
    int64_t m = 1;
    for (int s = 0; s < n_seq; s++)
        if (offs[s + 1] - offs[s] > m) m = offs[s + 1] - offs[s];
    return m;
}

/* S [n,n] = scale * Q K^T for one head (rows strided by ldq / ldk). */
static void scores(const float *q, int64_t ldq, const float *k, int64_t ldk, int64_t n, int hd, float scale, float *S) {
    hp_gemm(false, true, (int)n, (int)n, hd, scale, q, (int)ldq, k, (int)ldk, 0.0f, S,
                (int)n);
}

void hp_attn_fwd(const hp_config *c, const float *q, const float *k, const float *v, const int64_t *offs,
                 int n_seq, float *out, float *lse) {
    const int Hq = c->num_attention_heads, Hk = c->num_key_value_heads, hd = c->head_dim, G = Hq / Hk;
    const int64_t sq = (int64_t)Hq * hd, sk = (int64_t)Hk * hd;
    const float scale = 1.0f / sqrtf((float)hd);
    int64_t nmax = max_len(offs, n_seq);
    /* One task per (sequence, head), each single-threaded (one parallel region per call). */
    bool tasks = n_seq * Hq > 1;
#pragma omp parallel if (tasks)
    {
        float *S = hp_xmalloc((size_t)(nmax * nmax) * sizeof(float));
#pragma omp for schedule(dynamic, 1)
        for (int64_t task = 0; task < (int64_t)n_seq * Hq; task++) {
            int sid = (int)(task / Hq), h = (int)(task % Hq), g = h / G;
            int64_t b = offs[sid], n = offs[sid + 1] - b;
            if (n == 0) continue;
            scores(q + b * sq + h * hd, sq, k + b * sk + g * hd, sk, n, hd, scale, S);
#pragma omp parallel for schedule(static) if (!tasks && n * n > 16384)
            for (int64_t i = 0; i < n; i++) {
                float *row = S + i * n, mx = -INFINITY;
                for (int64_t j = 0; j <= i; j++) mx = row[j] > mx ? row[j] : mx;
                double sum = 0;
                for (int64_t j = 0; j <= i; j++) {
                    row[j] = expf(row[j] - mx);
                    sum += row[j];
                }
                float inv = (float)(1.0 / sum);
                for (int64_t j = 0; j <= i; j++) row[j] *= inv;
                for (int64_t j = i + 1; j < n; j++) row[j] = 0.0f;
                lse[(b + i) * Hq + h] = mx + (float)log(sum);
            }
            hp_gemm(false, false, n, hd, n, 1.0f, S, n, v + b * sk + g * hd, sk, 0.0f, out + b * sq + h * hd, sq);
        }
        free(S);
    }
}

void hp_attn_bwd(const hp_config *c, const float *q, const float *k, const float *v, const float *out,
                 const float *lse, const float *dout, const int64_t *offs, int n_seq, float *dq, float *dk,
                 float *dv) {
    const int Hq = c->num_attention_heads, Hk = c->num_key_value_heads, hd = c->head_dim, G = Hq / Hk;
    const int64_t sq = (int64_t)Hq * hd, sk = (int64_t)Hk * hd;
    const float scale = 1.0f / sqrtf((float)hd);
    int64_t nmax = max_len(offs, n_seq);
    /* Tasks are (sequence, kv head): the heads of one group accumulate into the same dK, dV. */
    bool tasks = n_seq * Hk > 1;
#pragma omp parallel if (tasks)
    {
        float *P = hp_xmalloc((size_t)(nmax * nmax) * sizeof(float));
        float *dP = hp_xmalloc((size_t)(nmax * nmax) * sizeof(float));
#pragma omp for schedule(dynamic, 1)
        for (int64_t task = 0; task < (int64_t)n_seq * Hk; task++) {
            int sid = (int)(task / Hk), g = (int)(task % Hk);
            int64_t b = offs[sid], n = offs[sid + 1] - b;
            if (n == 0) continue;
            for (int64_t j = 0; j < n; j++) {
                memset(dk + (b + j) * sk + g * hd, 0, (size_t)hd * sizeof(float));
                memset(dv + (b + j) * sk + g * hd, 0, (size_t)hd * sizeof(float));
            }
            for (int h = g * G; h < (g + 1) * G; h++) {
                const float *qh = q + b * sq + h * hd, *kg = k + b * sk + g * hd, *vg = v + b * sk + g * hd;
                const float *oh = out + b * sq + h * hd, *doh = dout + b * sq + h * hd;
                scores(qh, sq, kg, sk, n, hd, scale, P);
                /* dP = dO V^T */
                hp_gemm(false, true, n, n, hd, 1.0f, doh, sq, vg, sk, 0.0f, dP, n);
#pragma omp parallel for schedule(static) if (!tasks && n * n > 16384)
                for (int64_t i = 0; i < n; i++) {
                    float *p = P + i * n, *dp = dP + i * n, l = lse[(b + i) * Hq + h];
                    double Di = 0;
                    for (int e = 0; e < hd; e++) Di += (double)doh[i * sq + e] * oh[i * sq + e];
                    for (int64_t j = 0; j <= i; j++) {
                        p[j] = expf(p[j] - l);
                        dp[j] = p[j] * (dp[j] - (float)Di) * scale; /* dS, with the score scale folded in */
                    }
                    for (int64_t j = i + 1; j < n; j++) p[j] = dp[j] = 0.0f;
                }
                /* dQ = dS K; dK += dS^T Q; dV += P^T dO */
                hp_gemm(false, false, n, hd, n, 1.0f, dP, n, kg, sk, 0.0f, dq + b * sq + h * hd, sq);
                hp_gemm(true, false, n, hd, n, 1.0f, dP, n, qh, sq, 1.0f, dk + b * sk + g * hd, sk);
                hp_gemm(true, false, n, hd, n, 1.0f, P, n, doh, sq, 1.0f, dv + b * sk + g * hd, sk);
            }
        }
        free(P);
        free(dP);
    }
}
