/* Finite-difference check of the training pass's parameter gradients on micro models (no reference
 * implementation involved): for a sample of elements of every tensor kind — embedding, q/k/v weights
 * and biases, o, input/post-attention/final norms, gate/up/down, tied head (= embedding), untied
 * lm_head, value head weight and bias, LoRA A/B — the analytic gradient of
 *     L = sum_t a[t] logp[t] + b[t] entropy[t]      (policy)   or   sum_{t,k} c[t,k] values[t,k] (critic)
 * from hp_model_forward + hp_model_backward is compared with the central difference
 *     (L(w + h) - L(w - h)) / 2h,  L evaluated by hp_model_score (f32 math, f64 sum),
 * computed twice, with h and h/2 ("double-checked"): the two differences must agree with each other
 * (the difference itself is trustworthy) and with the analytic gradient.
 *
 * Tolerance, suited to f32: the loss carries rounding noise of about 1e-7 relative (~1e-6 absolute
 * here), so a central difference with h = 4e-3 has ~1e-4..1e-3 absolute noise; the truncation error is
 * O(h^2). An element passes when |g - fd| <= FD_ATOL + FD_RTOL * max(|g|, |fd|), FD_RTOL = 2e-2,
 * FD_ATOL = 2e-3 * (the tensor's largest |g|, at least 1e-2). Every tensor's sample includes its
 * element of largest |g|, where the relative test is the meaningful one. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "hiper/model.h"
#include "ref_util.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define FD_H 4e-3
#define FD_RTOL 2e-2
#define FD_ATOL_REL 2e-3
#define FD_SAMPLES 4

/* Larger weights than the 0.02 init, so that attention is far from uniform and every path carries a
 * gradient well above the f32 noise floor; non-trivial norms and biases. */
static void scale_up(hp_model *m, uint64_t seed) {
    hp_rng r;
    hp_rng_seed(&r, seed, 3);
    for (int i = 0; i < hp_model_n_tensors(m); i++) {
        hp_tensor_info t;
        hp_model_tensor(m, i, &t);
        bool norm = hp_str_ends(t.name, "norm.weight"), bias = hp_str_ends(t.name, ".bias");
        bool lora = strstr(t.name, "lora_") != NULL;
        for (int64_t k = 0; k < t.numel; k++) {
            if (norm) t.data[k] = (float)(1.0 + 0.2 * hp_rng_normal(&r));
            else if (bias) t.data[k] = (float)(0.2 * hp_rng_normal(&r));
            else if (lora) t.data[k] = (float)(0.2 * hp_rng_normal(&r));
            else t.data[k] = (float)(0.25 * hp_rng_normal(&r));
        }
    }
}

typedef struct fd_ctx {
    hp_model *m;
    hp_batch b;
    int64_t T;
    int K;
    float *wa, *wb; /* upstream weights (policy: logp, entropy; critic: values) */
    float *o1, *o2;
} fd_ctx;

static double loss(fd_ctx *x) {
    hp_err e;
    if (x->K) {
        if (hp_model_score(x->m, &x->b, NULL, NULL, x->o1, &e)) fail_msg("%s", e.msg);
        double s = 0;
        for (int64_t i = 0; i < x->T * x->K; i++) s += (double)x->wa[i] * x->o1[i];
        return s;
    }
    if (hp_model_score(x->m, &x->b, x->o1, x->o2, NULL, &e)) fail_msg("%s", e.msg);
    double s = 0;
    for (int64_t i = 0; i < x->T; i++) s += (double)x->wa[i] * x->o1[i] + (double)x->wb[i] * x->o2[i];
    return s;
}

static double central(fd_ctx *x, float *w, double h) {
    float w0 = *w;
    *w = (float)(w0 + h);
    double hp = (double)*w - w0; /* the step actually taken in f32 */
    double lp = loss(x);
    *w = (float)(w0 - h);
    double hm = w0 - (double)*w;
    double lm = loss(x);
    *w = w0;
    return (lp - lm) / (hp + hm);
}

/* Vocabulary constraints for the check (NULL: none): mask_of per token, allowed rows. */
typedef struct fd_masks {
    const int64_t *mask_of;
    const uint8_t *bits;
    double temperature; /* hp_batch.temperature (0 = plain) */
} fd_masks;

/* Returns the number of tensors checked; fails on any mismatch. */
static int check_model_masked(hp_model *m, const char *tag, const fd_masks *mk) {
    int lens[3] = {7, 4, 6};
    int64_t offs[4] = {0};
    for (int s = 0; s < 3; s++) offs[s + 1] = offs[s] + lens[s];
    int64_t T = offs[3];
    const hp_config *c = hp_model_config(m);
    int32_t *ids = malloc((size_t)T * sizeof *ids);
    hp_rng r;
    hp_rng_seed(&r, 11, 0);
    for (int64_t t = 0; t < T; t++) ids[t] = (int32_t)hp_rng_below(&r, (uint64_t)c->vocab_size);
    fd_ctx x = {.m = m, .b = {.ids = ids, .offsets = offs, .n_seq = 3}, .T = T, .K = hp_model_n_values(m)};
    if (mk) {
        x.b.mask_of = mk->mask_of;
        x.b.allowed_bits = mk->bits;
        x.b.temperature = mk->temperature;
    }
    int64_t nout = x.K ? T * x.K : T;
    x.wa = malloc((size_t)nout * sizeof(float));
    x.wb = malloc((size_t)T * sizeof(float));
    x.o1 = malloc((size_t)nout * sizeof(float));
    x.o2 = malloc((size_t)T * sizeof(float));
    for (int64_t i = 0; i < nout; i++) x.wa[i] = (float)hp_rng_normal(&r);
    for (int64_t i = 0; i < T; i++) x.wb[i] = (float)(0.5 * hp_rng_normal(&r));

    hp_err e;
    hp_model_zero_grad(m);
    if (x.K) {
        assert_int_equal(hp_model_forward(m, &x.b, NULL, NULL, x.o1, &e), HP_OK);
        assert_int_equal(hp_model_backward(m, &x.b, NULL, NULL, x.wa, &e), HP_OK);
    } else {
        assert_int_equal(hp_model_forward(m, &x.b, x.o1, x.o2, NULL, &e), HP_OK);
        assert_int_equal(hp_model_backward(m, &x.b, x.wa, x.wb, NULL, &e), HP_OK);
    }
    bool ok = true;
    int n_checked = 0;
    double worst = 0;
    for (int i = 0; i < hp_model_n_tensors(m); i++) {
        hp_tensor_info t;
        hp_model_tensor(m, i, &t);
        if (!t.grad) continue;
        int64_t imax = 0;
        for (int64_t k = 0; k < t.numel; k++)
            if (fabsf(t.grad[k]) > fabsf(t.grad[imax])) imax = k;
        double gmax = fabs(t.grad[imax]);
        double atol = FD_ATOL_REL * fmax(gmax, 1e-2);
        for (int s = 0; s < FD_SAMPLES; s++) {
            int64_t k = s == 0 ? imax : (int64_t)hp_rng_below(&r, (uint64_t)t.numel);
            double g = t.grad[k];
            double f1 = central(&x, &t.data[k], FD_H), f2 = central(&x, &t.data[k], FD_H / 2);
            double tol1 = atol + FD_RTOL * fmax(fabs(g), fabs(f1));
            double tol2 = atol + FD_RTOL * fmax(fabs(f1), fabs(f2));
            bool good = fabs(g - f1) <= tol1 && fabs(f1 - f2) <= tol2;
            double rel = fabs(g - f1) / fmax(fmax(fabs(g), fabs(f1)), atol);
            if (rel > worst) worst = rel;
            if (!good || getenv("HP_TEST_VERBOSE"))
                fprintf(stderr, "%s %s %s[%lld]: analytic %.6g, fd(h) %.6g, fd(h/2) %.6g (tensor max |g| %.3g)\n",
                        good ? "ok" : "MISMATCH", tag, t.name, (long long)k, g, f1, f2, gmax);
            ok &= good;
        }
        n_checked++;
    }
    fprintf(stderr, "%s: %d tensors, worst relative difference %.3g\n", tag, n_checked, worst);
    assert_true(ok);
    free(ids);
    free(x.wa);
    free(x.wb);
    free(x.o1);
    free(x.o2);
    return n_checked;
}

static int check_model(hp_model *m, const char *tag) { return check_model_masked(m, tag, NULL); }

static bool has_tensor(hp_model *m, const char *name) {
    hp_tensor_info t;
    return hp_model_find_tensor(m, name, &t);
}

static void test_fd_untied(void **state) {
    (void)state;
    hp_err e;
    hp_config c = tu_config(2, 16, 4, 2, 24, 20, false, 100.0);
    hp_model *m = hp_model_init_random(&c, 5, &e);
    assert_non_null(m);
    scale_up(m, 1);
    assert_true(has_tensor(m, "lm_head.weight"));
    /* embed, 2 x (ln1, q w/b, k w/b, v w/b, o, ln2, gate, up, down = 12), norm, lm_head */
    assert_int_equal(check_model(m, "untied"), 1 + 2 * 12 + 2);
    hp_model_free(m);
}

static void test_fd_tied_mha(void **state) {
    (void)state;
    hp_err e;
    hp_config c = tu_config(1, 12, 2, 2, 20, 19, true, 100.0);
    hp_model *m = hp_model_init_random(&c, 6, &e);
    assert_non_null(m);
    scale_up(m, 2);
    assert_false(has_tensor(m, "lm_head.weight"));
    assert_int_equal(check_model(m, "tied"), 1 + 12 + 1);
    hp_model_free(m);
}

static void test_fd_value_head(void **state) {
    (void)state;
    hp_err e;
    hp_config c = tu_config(2, 8, 2, 1, 16, 20, true, 100.0);
    hp_model *m = hp_model_init_random(&c, 7, &e);
    assert_non_null(m);
    assert_int_equal(hp_model_add_value_head(m, 2, 3, &e), HP_OK);
    scale_up(m, 3);
    assert_true(has_tensor(m, "score.weight") && has_tensor(m, "score.bias"));
    assert_int_equal(check_model(m, "critic"), 1 + 2 * 12 + 1 + 2);
    hp_model_free(m);
}

static void test_fd_lora(void **state) {
    (void)state;
    hp_err e;
    hp_config c = tu_config(1, 16, 4, 1, 24, 20, false, 100.0);
    hp_model *m = hp_model_init_random(&c, 8, &e);
    assert_non_null(m);
    hp_lora lo = {2, 4.0, HP_LORA_ALL};
    assert_int_equal(hp_model_enable_lora(m, &lo, 9, &e), HP_OK);
    scale_up(m, 4);
    /* only the 7 x (A, B) LoRA tensors train */
    assert_int_equal(check_model(m, "lora"), 14);
    hp_model_free(m);
}

/* NaN/Inf never trains silently: a non-finite weight surfaces as a forward error naming the token and
 * the tensor, a non-finite upstream gradient as a backward error naming the element, a non-finite
 * gradient as an hp_model_check_grad error naming the step and the tensor. */
/* Allowed sets for the 17 tokens of check_model's batch (ids drawn with seed 11): every third position
 * is restricted to a random half of the vocabulary that keeps its target; the last position of each
 * sequence (no target) and the others are free. */
static void make_masks(const hp_config *c, int64_t **mask_of, uint8_t **bits, int *n_rows) {
    int lens[3] = {7, 4, 6};
    int64_t T = 17;
    int32_t ids[17];
    hp_rng r;
    hp_rng_seed(&r, 11, 0);
    for (int64_t t = 0; t < T; t++) ids[t] = (int32_t)hp_rng_below(&r, (uint64_t)c->vocab_size);
    size_t stride = hp_vocab_mask_bytes(c->vocab_size);
    *mask_of = malloc((size_t)T * sizeof **mask_of);
    *bits = calloc((size_t)T, stride);
    *n_rows = 0;
    hp_rng q;
    hp_rng_seed(&q, 99, 0);
    int64_t t0 = 0;
    for (int s = 0; s < 3; t0 += lens[s], s++)
        for (int j = 0; j < lens[s]; j++) {
            int64_t t = t0 + j;
            (*mask_of)[t] = -1;
            if (j == lens[s] - 1 || t % 3 != 0) continue;
            uint8_t *row = *bits + (size_t)*n_rows * stride;
            for (int v = 0; v < c->vocab_size; v++)
                if (v == ids[t + 1] || hp_rng_uniform(&q) < 0.5) row[v >> 3] |= (uint8_t)(1u << (v & 7));
            (*mask_of)[t] = (*n_rows)++;
        }
}

/* Gradients of the constrained log-probs and entropies against finite differences. */
static void test_fd_masked(void **state) {
    (void)state;
    hp_err e;
    hp_config c = tu_config(1, 12, 2, 2, 20, 19, true, 100.0);
    hp_model *m = hp_model_init_random(&c, 8, &e);
    assert_non_null(m);
    scale_up(m, 4);
    int64_t *mask_of;
    uint8_t *bits;
    int n_rows;
    make_masks(&c, &mask_of, &bits, &n_rows);
    assert_true(n_rows >= 3);
    fd_masks mk = {mask_of, bits, 0};
    assert_int_equal(check_model_masked(m, "masked", &mk), 1 + 12 + 1);
    mk.temperature = 0.6; /* a tempered, constrained policy */
    assert_int_equal(check_model_masked(m, "masked, temperature 0.6", &mk), 1 + 12 + 1);
    free(mask_of);
    free(bits);
    hp_model_free(m);
}

/* The constrained log-prob and entropy at a position equal those computed from the unconstrained
 * model: log p(y) − log Σ_{v allowed} p(v), and the entropy of that renormalised distribution, where
 * p(v) comes from scoring the sequence with v in place of the target (causality: the distribution at
 * t does not depend on token t + 1). `scored` leaves unmarked positions at 0 and the others as they
 * are without it. */
static void test_masked_reference(void **state) {
    (void)state;
    hp_err e;
    hp_config c = tu_config(2, 16, 4, 2, 24, 20, false, 100.0);
    hp_model *m = hp_model_init_random(&c, 9, &e);
    assert_non_null(m);
    scale_up(m, 5);
    int64_t *mask_of;
    uint8_t *bits;
    int n_rows;
    make_masks(&c, &mask_of, &bits, &n_rows);
    int64_t offs[4] = {0, 7, 11, 17}, T = 17;
    int32_t ids[17], alt[17];
    hp_rng r;
    hp_rng_seed(&r, 11, 0);
    for (int64_t t = 0; t < T; t++) ids[t] = (int32_t)hp_rng_below(&r, (uint64_t)c.vocab_size);
    float lp[17], en[17], full[17], lp2[17], en2[17];
    hp_batch b = {.ids = ids, .offsets = offs, .n_seq = 3, .mask_of = mask_of, .allowed_bits = bits};
    assert_int_equal(hp_model_score(m, &b, lp, en, NULL, &e), HP_OK);
    size_t stride = hp_vocab_mask_bytes(c.vocab_size);
    int checked = 0;
    for (int64_t t = 0; t < T; t++) {
        if (mask_of[t] < 0) continue;
        const uint8_t *row = bits + (size_t)mask_of[t] * stride;
        double lse = -INFINITY, lpy = 0, lpv[64];
        for (int v = 0; v < c.vocab_size; v++) {
            if (!((row[v >> 3] >> (v & 7)) & 1)) continue;
            memcpy(alt, ids, sizeof alt);
            alt[t + 1] = v;
            hp_batch ub = {.ids = alt, .offsets = offs, .n_seq = 3};
            assert_int_equal(hp_model_score(m, &ub, full, NULL, NULL, &e), HP_OK);
            lpv[v] = full[t];
            lse = lse == -INFINITY ? lpv[v] : fmax(lse, lpv[v]) + log1p(exp(-fabs(lse - lpv[v])));
            if (v == ids[t + 1]) lpy = lpv[v];
        }
        double H = 0;
        for (int v = 0; v < c.vocab_size; v++)
            if ((row[v >> 3] >> (v & 7)) & 1) H -= exp(lpv[v] - lse) * (lpv[v] - lse);
        assert_float_equal(lp[t], lpy - lse, 2e-5);
        assert_float_equal(en[t], H, 2e-5);
        checked++;
    }
    assert_true(checked >= 3);
    /* scored: the marked positions keep their values, the others are 0 */
    uint8_t scored[17] = {0};
    for (int64_t t = 0; t < T; t += 2) scored[t] = 1;
    b.scored = scored;
    assert_int_equal(hp_model_score(m, &b, lp2, en2, NULL, &e), HP_OK);
    for (int64_t t = 0; t < T; t++) {
        assert_float_equal(lp2[t], scored[t] ? lp[t] : 0.0f, 1e-6);
        assert_float_equal(en2[t], scored[t] ? en[t] : 0.0f, 1e-6);
    }
    free(mask_of);
    free(bits);
    hp_model_free(m);
}

/* A batch at temperature T scores the policy softmax(z / T): from the plain log-probs of every token v
 * at position t (scoring the sequence with v in place of the target; they equal z_v minus a constant),
 * log p_T(y) = lp(y)/T − logsumexp_v lp(v)/T and H_T = −Σ p_T log p_T. With a constraint, the same
 * over the allowed tokens. The untied head's gradient is checked by finite differences at T = 0.4. */
static void test_tempered_reference(void **state) {
    (void)state;
    hp_err e;
    hp_config c = tu_config(2, 16, 4, 2, 24, 20, false, 100.0);
    hp_model *m = hp_model_init_random(&c, 10, &e);
    assert_non_null(m);
    scale_up(m, 6);
    int64_t *mask_of;
    uint8_t *bits;
    int n_rows;
    make_masks(&c, &mask_of, &bits, &n_rows);
    size_t stride = hp_vocab_mask_bytes(c.vocab_size);
    int64_t offs[4] = {0, 7, 11, 17}, T = 17;
    int32_t ids[17], alt[17];
    hp_rng r;
    hp_rng_seed(&r, 11, 0); /* the ids make_masks keeps the targets of */
    for (int64_t t = 0; t < T; t++) ids[t] = (int32_t)hp_rng_below(&r, (uint64_t)c.vocab_size);
    const double temps[2] = {0.4, 2.0};
    for (int masked = 0; masked < 2; masked++)
        for (int k = 0; k < 2; k++) {
            double tau = temps[k];
            float lp[17], en[17], full[17];
            hp_batch b = {.ids = ids, .offsets = offs, .n_seq = 3, .temperature = tau};
            if (masked) {
                b.mask_of = mask_of;
                b.allowed_bits = bits;
            }
            assert_int_equal(hp_model_score(m, &b, lp, en, NULL, &e), HP_OK);
            int checked = 0;
            for (int64_t t = 0; t < T; t++) {
                if (t + 1 == offs[1] || t + 1 == offs[2] || t + 1 == offs[3]) continue; /* no target */
                if (masked && mask_of[t] < 0) continue;
                const uint8_t *row = masked ? bits + (size_t)mask_of[t] * stride : NULL;
                double lse = -INFINITY, zy = 0, zv[64];
                for (int v = 0; v < c.vocab_size; v++) {
                    if (row && !((row[v >> 3] >> (v & 7)) & 1)) continue;
                    memcpy(alt, ids, sizeof alt);
                    alt[t + 1] = v;
                    hp_batch ub = {.ids = alt, .offsets = offs, .n_seq = 3};
                    assert_int_equal(hp_model_score(m, &ub, full, NULL, NULL, &e), HP_OK);
                    zv[v] = full[t] / tau;
                    lse = lse == -INFINITY ? zv[v] : fmax(lse, zv[v]) + log1p(exp(-fabs(lse - zv[v])));
                    if (v == ids[t + 1]) zy = zv[v];
                }
                double H = 0;
                for (int v = 0; v < c.vocab_size; v++)
                    if (!row || ((row[v >> 3] >> (v & 7)) & 1)) H -= exp(zv[v] - lse) * (zv[v] - lse);
                assert_float_equal(lp[t], zy - lse, 5e-5);
                assert_float_equal(en[t], H, 5e-5);
                checked++;
            }
            assert_true(checked >= 3);
        }
    fd_masks plain = {NULL, NULL, 0.4};
    assert_int_equal(check_model_masked(m, "untied, temperature 0.4", &plain), 1 + 2 * 12 + 2);
    free(mask_of);
    free(bits);
    hp_model_free(m);
}

static void test_non_finite(void **state) {
    (void)state;
    hp_err e;
    hp_config c = tu_config(1, 8, 2, 1, 16, 20, false, 100.0);
    hp_model *m = hp_model_init_random(&c, 10, &e);
    assert_non_null(m);
    int32_t ids[6] = {1, 2, 3, 4, 5, 6};
    int64_t offs[3] = {0, 4, 6};
    hp_batch b = {.ids = ids, .offsets = offs, .n_seq = 2};
    float lp[6], ent[6], up[6] = {1, 1, 1, 1, 1, 1};
    hp_model_zero_grad(m);
    assert_int_equal(hp_model_forward(m, &b, lp, ent, NULL, &e), HP_OK);
    assert_int_equal(hp_model_backward(m, &b, up, NULL, NULL, &e), HP_OK);
    double n = hp_model_clip_grad(m, 1.0);
    assert_true(isfinite(n) && n > 0);
    assert_int_equal(hp_model_check_grad(m, n, &e), HP_OK);

    /* upstream gradient */
    up[3] = NAN;
    assert_int_equal(hp_model_backward(m, &b, up, NULL, NULL, &e), HP_FAIL);
    assert_non_null(strstr(e.msg, "dlogp[3] is nan"));
    up[3] = 1;

    /* gradient: the first non-finite tensor is named, clipping leaves it alone, the step is refused */
    hp_tensor_info t;
    assert_true(hp_model_find_tensor(m, "model.layers.0.mlp.up_proj.weight", &t));
    t.grad[5] = INFINITY;
    n = hp_model_clip_grad(m, 1.0);
    assert_false(isfinite(n));
    assert_int_equal(hp_model_check_grad(m, n, &e), HP_FAIL);
    assert_non_null(strstr(e.msg, "optimizer step 1: the gradient of 'model.layers.0.mlp.up_proj.weight' is not finite"));
    assert_non_null(strstr(e.msg, "element 5 = inf"));
    hp_model_zero_grad(m);

    /* a NaN weight: the forward names the first bad output and the tensor */
    assert_true(hp_model_find_tensor(m, "model.layers.0.self_attn.v_proj.weight", &t));
    t.data[0] = NAN;
    assert_int_equal(hp_model_score(m, &b, lp, ent, NULL, &e), HP_FAIL);
    assert_non_null(strstr(e.msg, "forward: log-prob nan at token 0 (sequence 0, position 0)"));
    assert_non_null(strstr(e.msg, "parameter 'model.layers.0.self_attn.v_proj.weight' is not finite"));
    assert_int_equal(hp_model_forward(m, &b, lp, NULL, NULL, &e), HP_FAIL);
    hp_model_free(m);
}

/* A critic on a frozen backbone (critic.backbone = reference): the policy's final hidden states from
 * hp_model_score_hidden, fed to the critic's value head by hp_model_head_values, give the values of the
 * critic's own pass when both share the backbone; hp_model_head_backward's gradients match central
 * differences of the head-only loss and the head gradients of the whole critic's backward; after
 * hp_model_freeze_backbone only the head trains, and an AdamW step leaves the backbone as it was. */
static void test_head_only_critic(void **state) {
    (void)state;
    hp_err e;
    hp_config c = tu_config(2, 8, 2, 1, 16, 20, true, 100.0);
    hp_model *pol = hp_model_init_random(&c, 7, &e), *cri = hp_model_init_random(&c, 7, &e);
    assert_non_null(pol);
    assert_non_null(cri);
    scale_up(pol, 3);
    scale_up(cri, 3);
    assert_int_equal(hp_model_add_value_head(cri, 3, 4, &e), HP_OK);
    hp_tensor_info sw, sb;
    assert_true(hp_model_find_tensor(cri, "score.weight", &sw) && hp_model_find_tensor(cri, "score.bias", &sb));
    hp_rng r;
    hp_rng_seed(&r, 12, 0);
    for (int64_t k = 0; k < sw.numel; k++) sw.data[k] = (float)(0.5 * hp_rng_normal(&r));
    for (int64_t k = 0; k < sb.numel; k++) sb.data[k] = (float)hp_rng_normal(&r);
    int64_t offs[3] = {0, 6, 11};
    int64_t T = offs[2], D = c.hidden_size, K = 3;
    int32_t ids[11];
    for (int64_t t = 0; t < T; t++) ids[t] = (int32_t)hp_rng_below(&r, (uint64_t)c.vocab_size);
    hp_batch b = {.ids = ids, .offsets = offs, .n_seq = 2};
    float *hid = malloc((size_t)(T * D) * sizeof *hid), *lp1 = malloc((size_t)T * sizeof *lp1);
    float *lp2 = malloc((size_t)T * sizeof *lp2), *v1 = malloc((size_t)(T * K) * sizeof *v1);
    float *v2 = malloc((size_t)(T * K) * sizeof *v2), *w = malloc((size_t)(T * K) * sizeof *w);
    assert_int_equal(hp_model_score_hidden(pol, &b, lp1, NULL, hid, &e), HP_OK);
    assert_int_equal(hp_model_score(pol, &b, lp2, NULL, NULL, &e), HP_OK);
    assert_memory_equal(lp1, lp2, (size_t)T * sizeof *lp1); /* the hidden output changes nothing else */
    assert_int_equal(hp_model_head_values(cri, hid, T, v1, &e), HP_OK);
    assert_int_equal(hp_model_score(cri, &b, NULL, NULL, v2, &e), HP_OK);
    for (int64_t i = 0; i < T * K; i++) assert_true(fabsf(v1[i] - v2[i]) <= 1e-5f * (1.0f + fabsf(v2[i])));
    /* the whole critic's head gradients, for L = sum w * values */
    for (int64_t i = 0; i < T * K; i++) w[i] = (float)hp_rng_normal(&r);
    hp_model_zero_grad(cri);
    assert_int_equal(hp_model_forward(cri, &b, NULL, NULL, v2, &e), HP_OK);
    assert_int_equal(hp_model_backward(cri, &b, NULL, NULL, w, &e), HP_OK);
    hp_model_find_tensor(cri, "score.weight", &sw);
    hp_model_find_tensor(cri, "score.bias", &sb);
    float *gw_full = malloc((size_t)sw.numel * sizeof *gw_full), gb_full[3];
    memcpy(gw_full, sw.grad, (size_t)sw.numel * sizeof *gw_full);
    memcpy(gb_full, sb.grad, sizeof gb_full);
    /* freeze: only the head trains */
    assert_int_equal(hp_model_freeze_backbone(cri, &e), HP_OK);
    assert_int_equal(hp_model_n_trainable(cri), K * D + K);
    hp_model_zero_grad(cri);
    assert_int_equal(hp_model_head_backward(cri, hid, T, w, &e), HP_OK);
    hp_model_find_tensor(cri, "score.weight", &sw);
    hp_model_find_tensor(cri, "score.bias", &sb);
    assert_non_null(sw.grad);
    for (int64_t k = 0; k < sw.numel; k++) {
        assert_true(fabsf(sw.grad[k] - gw_full[k]) <= 1e-4f * (1.0f + fabsf(gw_full[k])));
        /* central difference of the head-only loss (linear in the weight: exact up to rounding) */
        float w0 = sw.data[k];
        double l[2];
        for (int s = 0; s < 2; s++) {
            sw.data[k] = w0 + (s ? -1.0f : 1.0f) * 1e-2f;
            assert_int_equal(hp_model_head_values(cri, hid, T, v1, &e), HP_OK);
            l[s] = 0;
            for (int64_t i = 0; i < T * K; i++) l[s] += (double)w[i] * v1[i];
        }
        sw.data[k] = w0;
        double fd = (l[0] - l[1]) / 2e-2;
        assert_true(fabs(sw.grad[k] - fd) <= 2e-3 * (1.0 + fabs(fd)));
    }
    for (int k = 0; k < K; k++) {
        double s = 0;
        for (int64_t t = 0; t < T; t++) s += w[t * K + k];
        assert_true(fabs(sb.grad[k] - s) <= 1e-4 * (1.0 + fabs(s)));
        assert_true(fabsf(sb.grad[k] - gb_full[k]) <= 1e-4f * (1.0f + fabsf(gb_full[k])));
    }
    /* an optimizer step moves the head only */
    hp_tensor_info q;
    assert_true(hp_model_find_tensor(cri, "model.layers.0.self_attn.q_proj.weight", &q));
    assert_null(q.grad);
    float q0 = q.data[0], s0 = sw.data[0];
    hp_adamw o;
    hp_adamw_default(&o);
    hp_model_adamw_step(cri, &o, 1e-2);
    assert_true(q.data[0] == q0);
    assert_true(sw.data[0] != s0);
    /* misuse is one clear error */
    assert_int_equal(hp_model_head_values(pol, hid, T, v1, &e), HP_FAIL);
    assert_int_equal(hp_model_freeze_backbone(pol, &e), HP_FAIL);
    free(hid), free(lp1), free(lp2), free(v1), free(v2), free(w), free(gw_full);
    hp_model_free(pol);
    hp_model_free(cri);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_fd_untied),
        cmocka_unit_test(test_fd_tied_mha),
        cmocka_unit_test(test_fd_value_head),
        cmocka_unit_test(test_fd_lora),
        cmocka_unit_test(test_fd_masked),
        cmocka_unit_test(test_masked_reference),
        cmocka_unit_test(test_tempered_reference),
        cmocka_unit_test(test_non_finite),
        cmocka_unit_test(test_head_only_critic),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
