/* Row-major f32 kernels: linear layers (OpenBLAS sgemm, plus LoRA), a deterministic batched mat-vec
 * for decoding, RMSNorm and RoPE. */
#include "model_impl.h"

#include <cblas.h>
#include <immintrin.h>
#include <math.h>
#include <omp.h>
#include <stdlib.h>
#include <string.h>

/* C[M,N] = alpha * op(A) op(B) + beta * C, row-major.
 *
 * One thread pool: OpenBLAS runs single-threaded and large products are split into OpenMP slices of
 * rows (or columns) of C, so that OpenBLAS's and OpenMP's threads never spin against each other on a
 * small machine. The slices depend only on the thread count, so results are deterministic for it. */
void hp_blas_single_thread(void) {
    if (openblas_get_num_threads() != 1) openblas_set_num_threads(1);
}

void hp_gemm(bool ta, bool tb, int64_t M, int64_t N, int64_t K, float alpha, const float *A, int64_t lda,
             const float *B, int64_t ldb, float beta, float *C, int64_t ldc) {
    if (M <= 0 || N <= 0) return;
    if (K <= 0) {
        for (int64_t i = 0; i < M; i++)
            for (int64_t j = 0; j < N; j++) C[i * ldc + j] = beta == 0.0f ? 0.0f : beta * C[i * ldc + j];
        return;
    }
    if (!omp_in_parallel()) hp_blas_single_thread();
    int nt = omp_in_parallel() ? 1 : omp_get_max_threads();
    if (nt > 1 && (double)M * N * K < 4e6) nt = 1;
    bool split_m = M >= N;
    int64_t S = split_m ? M : N;
    if (nt > S / 16) nt = (int)(S / 16) > 1 ? (int)(S / 16) : 1;
#pragma omp parallel num_threads(nt) if (nt > 1)
    {
        int t = omp_get_thread_num(), n = omp_get_num_threads();
        /* slice boundaries rounded to 16 rows/columns */
        int64_t blocks = (S + 15) / 16;
        int64_t b0 = blocks * t / n, b1 = blocks * (t + 1) / n;
        int64_t s0 = b0 * 16, s1 = b1 * 16 < S ? b1 * 16 : S;
        if (s1 > s0) {
            if (split_m) {
                const float *a = ta ? A + s0 : A + s0 * lda;
                cblas_sgemm(CblasRowMajor, ta ? CblasTrans : CblasNoTrans, tb ? CblasTrans : CblasNoTrans,
                            (int)(s1 - s0), (int)N, (int)K, alpha, a, (int)lda, B, (int)ldb, beta, C + s0 * ldc,
                            (int)ldc);
            } else {
                const float *b = tb ? B + s0 * ldb : B + s0;
                cblas_sgemm(CblasRowMajor, ta ? CblasTrans : CblasNoTrans, tb ? CblasTrans : CblasNoTrans, (int)M,
                            (int)(s1 - s0), (int)K, alpha, A, (int)lda, b, (int)ldb, beta, C + s0, (int)ldc);
            }
        }
    }
}

static void gemm(bool ta, bool tb, int64_t M, int64_t N, int64_t K, float alpha, const float *A, int64_t lda,
                 const float *B, int64_t ldb, float beta, float *C, int64_t ldc) {
    hp_gemm(ta, tb, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc);
}

void hp_lin_fwd(const lin *l, const float *x, int64_t T, float *y, bool acc) {
    if (l->b) { /* y = b (+ y), then y += x W^T */
        const float *b = l->b->w;
        for (int64_t t = 0; t < T; t++)
            for (int o = 0; o < l->out; o++) y[t * l->out + o] = acc ? y[t * l->out + o] + b[o] : b[o];
        acc = true;
    }
    gemm(false, true, T, l->out, l->in, 1.0f, x, l->in, l->w->w, l->in, acc ? 1.0f : 0.0f, y, l->out);
    if (l->la) {
        float *xa = hp_xmalloc((size_t)(T * l->r) * sizeof(float));
        gemm(false, true, T, l->r, l->in, 1.0f, x, l->in, l->la->w, l->in, 0.0f, xa, l->r);
        gemm(false, true, T, l->out, l->r, l->lscale, xa, l->r, l->lb->w, l->r, 1.0f, y, l->out);
        free(xa);
    }
}

void hp_lin_bwd(const lin *l, const float *x, const float *dy, int64_t T, float *dx, bool dx_acc, float *tmp) {
    if (l->w->g) gemm(true, false, l->out, l->in, T, 1.0f, dy, l->out, x, l->in, 1.0f, l->w->g, l->in);
    if (l->b && l->b->g) {
        float *gb = l->b->g;
        for (int64_t t = 0; t < T; t++)
            for (int o = 0; o < l->out; o++) gb[o] += dy[t * l->out + o];
    }
    if (dx) gemm(false, false, T, l->in, l->out, 1.0f, dy, l->out, l->w->w, l->in, dx_acc ? 1.0f : 0.0f, dx, l->in);
    if (l->la) {
        /* h = x A^T [T,r]; y += s h B^T.  dB += s dy^T h; dh = s dy B; dA += dh^T x; dx += dh A. */
        float *h = tmp, *dh = tmp + T * l->r;
        gemm(false, true, T, l->r, l->in, 1.0f, x, l->in, l->la->w, l->in, 0.0f, h, l->r);
        if (l->lb->g) gemm(true, false, l->out, l->r, T, l->lscale, dy, l->out, h, l->r, 1.0f, l->lb->g, l->r);
        gemm(false, false, T, l->r, l->out, l->lscale, dy, l->out, l->lb->w, l->r, 0.0f, dh, l->r);
        if (l->la->g) gemm(true, false, l->r, l->in, T, 1.0f, dh, l->r, x, l->in, 1.0f, l->la->g, l->in);
        if (dx) gemm(false, false, T, l->in, l->r, 1.0f, dh, l->r, l->la->w, l->in, 1.0f, dx, l->in);
    }
}

/* Dot product with a fixed summation order (4 x 8-lane accumulators, then a fixed tree). */
float hp_dot(const float *a, const float *b, int64_t n) {
    __m256 s0 = _mm256_setzero_ps(), s1 = s0, s2 = s0, s3 = s0;
    int64_t i = 0;
    for (; i + 32 <= n; i += 32) {
        s0 = _mm256_fmadd_ps(_mm256_loadu_ps(a + i), _mm256_loadu_ps(b + i), s0);
        s1 = _mm256_fmadd_ps(_mm256_loadu_ps(a + i + 8), _mm256_loadu_ps(b + i + 8), s1);
        s2 = _mm256_fmadd_ps(_mm256_loadu_ps(a + i + 16), _mm256_loadu_ps(b + i + 16), s2);
        s3 = _mm256_fmadd_ps(_mm256_loadu_ps(a + i + 24), _mm256_loadu_ps(b + i + 24), s3);
    }
    for (; i + 8 <= n; i += 8) s0 = _mm256_fmadd_ps(_mm256_loadu_ps(a + i), _mm256_loadu_ps(b + i), s0);
    __m256 s = _mm256_add_ps(_mm256_add_ps(s0, s1), _mm256_add_ps(s2, s3));
    float lanes[8];
    _mm256_storeu_ps(lanes, s);
    float r = ((lanes[0] + lanes[4]) + (lanes[1] + lanes[5])) + ((lanes[2] + lanes[6]) + (lanes[3] + lanes[7]));
    for (; i < n; i++) r += a[i] * b[i];
    return r;
}

void hp_matvec_rows(const float *W, int64_t out, int64_t in, const float *x, int64_t T, float *y) {
#pragma omp parallel for schedule(static) if (out * in * T > 65536)
    for (int64_t j = 0; j < out; j++) {
        const float *w = W + j * in;
        for (int64_t t = 0; t < T; t++) y[t * out + j] = hp_dot(w, x + t * in, in);
    }
}

void hp_lin_fwd_rows(const lin *l, const float *x, int64_t T, float *y) {
    hp_matvec_rows(l->w->w, l->out, l->in, x, T, y);
    if (l->b)
        for (int64_t t = 0; t < T; t++)
            for (int o = 0; o < l->out; o++) y[t * l->out + o] += l->b->w[o];
    if (l->la) {
        float *h = hp_xmalloc((size_t)(T * l->r) * sizeof(float));
        float *d = hp_xmalloc((size_t)(T * l->out) * sizeof(float));
        hp_matvec_rows(l->la->w, l->r, l->in, x, T, h);
        hp_matvec_rows(l->lb->w, l->out, l->r, h, T, d);
        for (int64_t i = 0; i < T * l->out; i++) y[i] += l->lscale * d[i];
        free(h);
        free(d);
    }
}

void hp_rmsnorm_fwd(const float *x, const float *w, int64_t T, int D, double eps, float *y, float *rstd) {
#pragma omp parallel for schedule(static) if (T * D > 65536)
    for (int64_t t = 0; t < T; t++) {
        const float *xr = x + t * D;
        double ss = 0;
        for (int i = 0; i < D; i++) ss += (double)xr[i] * xr[i];
        float r = (float)(1.0 / sqrt(ss / D + eps));
        if (rstd) rstd[t] = r;
        float *yr = y + t * D;
        for (int i = 0; i < D; i++) yr[i] = w[i] * (xr[i] * r);
    }
}

/* y = w * x * r, r = (mean x^2 + eps)^-1/2:  dx = r * (w dy) - r^3 / D * x * sum(w dy x);
 * dw += dy * x * r. */
void hp_rmsnorm_bwd(const float *x, const float *w, const float *rstd, const float *dy, int64_t T, int D,
                    float *dx, bool dx_acc, float *dw) {
#pragma omp parallel for schedule(static) if (T * D > 65536)
    for (int64_t t = 0; t < T; t++) {
        const float *xr = x + t * D, *dyr = dy + t * D;
        float r = rstd[t];
        double s = 0;
        for (int i = 0; i < D; i++) s += (double)w[i] * dyr[i] * xr[i];
        float c = (float)(s * r * r * r / D);
        float *dxr = dx + t * D;
        for (int i = 0; i < D; i++) {
            float v = r * w[i] * dyr[i] - c * xr[i];
            dxr[i] = dx_acc ? dxr[i] + v : v;
        }
    }
    if (dw)
        for (int64_t t = 0; t < T; t++) {
            const float *xr = x + t * D, *dyr = dy + t * D;
            float r = rstd[t];
            for (int i = 0; i < D; i++) dw[i] += dyr[i] * xr[i] * r;
        }
}

const float *hp_rope_table(hp_model *m, int64_t npos) {
    if (npos <= m->rope_n) return m->rope;
    int64_t n = npos > 2 * m->rope_n ? npos : 2 * m->rope_n;
    int hd = m->cfg.head_dim, h2 = hd / 2;
    m->rope = hp_xrealloc(m->rope, (size_t)(n * h2 * 2) * sizeof(float));
    for (int64_t p = m->rope_n; p < n; p++)
        for (int i = 0; i < h2; i++) {
            double a = (double)p * pow(m->cfg.rope_theta, -2.0 * i / hd);
            m->rope[(p * h2 + i) * 2] = (float)cos(a);
            m->rope[(p * h2 + i) * 2 + 1] = (float)sin(a);
        }
    m->rope_n = n;
    return m->rope;
}

/* Rotate-half RoPE: for i < hd/2, (x_i, x_{i+h}) -> (x_i c - x_{i+h} s, x_{i+h} c + x_i s),
 * angle = pos * theta^(-2i/hd). sign -1 applies the inverse rotation (the backward). */
static void rope(float *x, int64_t T, int nh, int hd, const int32_t *pos, const float *tab, float sign) {
    int h2 = hd / 2;
#pragma omp parallel for schedule(static) if (T * nh * hd > 32768)
    for (int64_t t = 0; t < T; t++) {
        const float *cs = tab + (int64_t)pos[t] * h2 * 2;
        for (int h = 0; h < nh; h++) {
            float *v = x + (t * nh + h) * hd;
            for (int i = 0; i < h2; i++) {
                float a = v[i], b = v[i + h2], c = cs[2 * i], s = sign * cs[2 * i + 1];
                v[i] = a * c - b * s;
                v[i + h2] = b * c + a * s;
            }
        }
    }
}

void hp_rope_fwd(float *x, int64_t T, int nh, int hd, const int32_t *pos, const float *tab) {
    rope(x, T, nh, hd, pos, tab, 1.0f);
}

/* The inverse rotation carries the gradient back. */
void hp_rope_bwd(float *dx, int64_t T, int nh, int hd, const int32_t *pos, const float *tab) {
    rope(dx, T, nh, hd, pos, tab, -1.0f);
}
