/* Causal grouped-query attention over packed sequences, forward and backward. The forward keeps only
 * the log-sum-exp of each score row; the backward recomputes the probabilities from it. */
#include "model_impl.h"

#include <immintrin.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

static float dot(const float *a, const float *b, int n) {
    __m256 s0 = _mm256_setzero_ps(), s1 = s0;
    int i = 0;
    for (; i + 16 <= n; i += 16) {
        s0 = _mm256_fmadd_ps(_mm256_loadu_ps(a + i), _mm256_loadu_ps(b + i), s0);
        s1 = _mm256_fmadd_ps(_mm256_loadu_ps(a + i + 8), _mm256_loadu_ps(b + i + 8), s1);
    }
    for (; i + 8 <= n; i += 8) s0 = _mm256_fmadd_ps(_mm256_loadu_ps(a + i), _mm256_loadu_ps(b + i), s0);
    float l[8];
    _mm256_storeu_ps(l, _mm256_add_ps(s0, s1));
    float r = ((l[0] + l[4]) + (l[1] + l[5])) + ((l[2] + l[6]) + (l[3] + l[7]));
    for (; i < n; i++) r += a[i] * b[i];
    return r;
}

static int64_t max_len(const int64_t *offs, int n_seq) {
    int64_t m = 1;
    for (int s = 0; s < n_seq; s++)
        if (offs[s + 1] - offs[s] > m) m = offs[s + 1] - offs[s];
    return m;
}

void hp_attn_fwd(const hp_config *c, const float *q, const float *k, const float *v, const int64_t *offs,
                 int n_seq, float *out, float *lse) {
    const int Hq = c->num_attention_heads, Hk = c->num_key_value_heads, hd = c->head_dim, G = Hq / Hk;
    const int64_t sq = (int64_t)Hq * hd, sk = (int64_t)Hk * hd;
    const float scale = 1.0f / sqrtf((float)hd);
    int64_t nmax = max_len(offs, n_seq);
#pragma omp parallel
    {
        float *s = hp_xmalloc((size_t)nmax * sizeof(float));
#pragma omp for schedule(dynamic, 1)
        for (int64_t task = 0; task < (int64_t)n_seq * Hq; task++) {
            int sid = (int)(task / Hq), h = (int)(task % Hq), g = h / G;
            int64_t b = offs[sid], n = offs[sid + 1] - b;
            for (int64_t i = 0; i < n; i++) {
                const float *qi = q + (b + i) * sq + h * hd;
                float mx = -INFINITY;
                for (int64_t j = 0; j <= i; j++) {
                    s[j] = dot(qi, k + (b + j) * sk + g * hd, hd) * scale;
                    if (s[j] > mx) mx = s[j];
                }
                double sum = 0;
                for (int64_t j = 0; j <= i; j++) {
                    s[j] = expf(s[j] - mx);
                    sum += s[j];
                }
                float inv = (float)(1.0 / sum);
                float *o = out + (b + i) * sq + h * hd;
                memset(o, 0, (size_t)hd * sizeof(float));
                for (int64_t j = 0; j <= i; j++) {
                    const float *vj = v + (b + j) * sk + g * hd;
                    float p = s[j] * inv;
                    for (int d = 0; d < hd; d++) o[d] += p * vj[d];
                }
                lse[(b + i) * Hq + h] = mx + (float)log(sum);
            }
        }
        free(s);
    }
}

void hp_attn_bwd(const hp_config *c, const float *q, const float *k, const float *v, const float *out,
                 const float *lse, const float *dout, const int64_t *offs, int n_seq, float *dq, float *dk,
                 float *dv) {
    const int Hq = c->num_attention_heads, Hk = c->num_key_value_heads, hd = c->head_dim, G = Hq / Hk;
    const int64_t sq = (int64_t)Hq * hd, sk = (int64_t)Hk * hd;
    const float scale = 1.0f / sqrtf((float)hd);
#pragma omp parallel for schedule(dynamic, 1)
        for (int64_t task = 0; task < (int64_t)n_seq * Hk; task++) {
            int sid = (int)(task / Hk), g = (int)(task % Hk);
            int64_t b = offs[sid], n = offs[sid + 1] - b;
            for (int64_t j = 0; j < n; j++) {
                memset(dk + (b + j) * sk + g * hd, 0, (size_t)hd * sizeof(float));
                memset(dv + (b + j) * sk + g * hd, 0, (size_t)hd * sizeof(float));
            }
            for (int h = g * G; h < (g + 1) * G; h++) {
                for (int64_t i = 0; i < n; i++) {
                    const float *qi = q + (b + i) * sq + h * hd;
                    const float *doi = dout + (b + i) * sq + h * hd;
                    float l = lse[(b + i) * Hq + h];
                    float Di = dot(doi, out + (b + i) * sq + h * hd, hd);
                    float *dqi = dq + (b + i) * sq + h * hd;
                    memset(dqi, 0, (size_t)hd * sizeof(float));
                    for (int64_t j = 0; j <= i; j++) {
                        const float *kj = k + (b + j) * sk + g * hd, *vj = v + (b + j) * sk + g * hd;
                        float pj = expf(dot(qi, kj, hd) * scale - l);
                        float dpj = dot(doi, vj, hd);
                        float ds = pj * (dpj - Di) * scale;
                        float *dkj = dk + (b + j) * sk + g * hd, *dvj = dv + (b + j) * sk + g * hd;
                        for (int d = 0; d < hd; d++) {
                            dqi[d] += ds * kj[d];
                            dkj[d] += ds * qi[d];
                            dvj[d] += pj * doi[d];
                        }
                    }
                }
            }
        }
}
