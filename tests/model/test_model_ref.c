/* The Qwen2 training pass against an independent PyTorch (float64) reference: log-probs, entropy,
 * values and every parameter's gradient on packed sequences; tied/untied, GQA, value head, LoRA,
 * bf16-loaded weights, chunked recomputation, AdamW steps with clipping vs torch.optim.AdamW, and GQA ratios
 * 1, 2, 4 with odd sizes. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "ref_util.h"

typedef struct tcase {
    const char *tag;
    hp_config cfg;
    int lens[6];
    int n_seq;
    int K;            /* value head outputs (0: policy) */
    int lora_rank;    /* 0: off */
    int64_t chunk;    /* 0: default */
    int adam_steps;
    double clip;
    bool bf16;        /* save as bf16 and reload before the pass */
    bool no_entropy;
} tcase;

/* Make norms and biases non-trivial so that their gradients are tested through every path. */
static void perturb(hp_model *m, uint64_t seed) {
    hp_rng r;
    hp_rng_seed(&r, seed, 99);
    for (int i = 0; i < hp_model_n_tensors(m); i++) {
        hp_tensor_info t;
        hp_model_tensor(m, i, &t);
        bool norm = hp_str_ends(t.name, "norm.weight"), bias = hp_str_ends(t.name, ".bias");
        bool lora_b = strstr(t.name, "lora_B") != NULL;
        for (int64_t k = 0; norm || bias || lora_b; k++) {
            if (k >= t.numel) break;
            t.data[k] = (float)((norm ? 1.0 : 0.0) + (lora_b ? 0.05 : 0.1) * hp_rng_normal(&r));
        }
    }
}

static void run_case(const tcase *tc) {
    hp_err err;
    char *dir = tu_tmpdir(tc->tag);
    hp_model *m = hp_model_init_random(&tc->cfg, 1234, &err);
    assert_non_null(m);
    if (tc->K) assert_int_equal(hp_model_add_value_head(m, tc->K, 7, &err), HP_OK);
    if (tc->lora_rank) {
        hp_lora lo = {tc->lora_rank, 2.0 * tc->lora_rank, HP_LORA_ALL};
        assert_int_equal(hp_model_enable_lora(m, &lo, 5, &err), HP_OK);
    }
    perturb(m, 42);
    if (tc->bf16) {
        hp_config c = *hp_model_config(m);
        strcpy(c.torch_dtype, "bfloat16");
        hp_model *m2 = hp_model_init_random(&c, 1, &err);
        for (int i = 0; i < hp_model_n_tensors(m); i++) {
            hp_tensor_info a, b;
            hp_model_tensor(m, i, &a);
            hp_model_tensor(m2, i, &b);
            memcpy(b.data, a.data, (size_t)a.numel * sizeof(float));
        }
        char *md = hp_path_join(dir, "bf16model");
        if (hp_model_save(m2, md, NULL, &err)) fail_msg("%s", err.msg);
        hp_model_free(m2);
        hp_model_free(m);
        m = hp_model_load(md, &err);
        if (!m) fail_msg("%s", err.msg);
        free(md);
    }
    if (tc->chunk) hp_model_set_chunk_tokens(m, tc->chunk);
    const hp_config *c = hp_model_config(m);
    char *cfgp = hp_path_join(dir, "config.json"), *pp = hp_path_join(dir, "params.safetensors");
    assert_int_equal(hp_config_write(c, cfgp, &err), HP_OK);
    if (tu_write_params(m, pp, &err)) fail_msg("%s", err.msg);

    int64_t offs[7] = {0};
    for (int s = 0; s < tc->n_seq; s++) offs[s + 1] = offs[s] + tc->lens[s];
    int64_t T = offs[tc->n_seq];
    int32_t *ids = hp_xmalloc((size_t)T * sizeof *ids);
    hp_rng r;
    hp_rng_seed(&r, 77, 0);
    for (int64_t t = 0; t < T; t++) ids[t] = (int32_t)hp_rng_below(&r, (uint64_t)c->vocab_size);
    int K = hp_model_n_values(m);
    int64_t nout = K ? T * K : T;
    float *up1 = hp_xmalloc((size_t)nout * sizeof(float)), *up2 = hp_xmalloc((size_t)T * sizeof(float));
    /* Upstream gradients = a token weight mask (every third token off) times random weights. */
    for (int64_t i = 0; i < nout; i++) up1[i] = (i / (K ? K : 1)) % 3 == 1 ? 0.0f : (float)hp_rng_normal(&r);
    for (int64_t i = 0; i < T; i++) up2[i] = (float)(0.3 * hp_rng_normal(&r));
    hp_batch b = {.ids = ids, .offsets = offs, .n_seq = tc->n_seq};

    float *o1 = hp_xcalloc((size_t)nout, sizeof(float)), *o2 = hp_xcalloc((size_t)T, sizeof(float));
    float *s1 = hp_xcalloc((size_t)nout, sizeof(float)), *s2 = hp_xcalloc((size_t)T, sizeof(float));
    const float *dent = tc->no_entropy ? NULL : up2;
    hp_model_zero_grad(m);
    if (K) {
        assert_int_equal(hp_model_forward(m, &b, NULL, NULL, o1, &err), HP_OK);
        assert_int_equal(hp_model_score(m, &b, NULL, NULL, s1, &err), HP_OK);
        assert_int_equal(hp_model_backward(m, &b, NULL, NULL, up1, &err), HP_OK);
    } else {
        assert_int_equal(hp_model_forward(m, &b, o1, o2, NULL, &err), HP_OK);
        assert_int_equal(hp_model_score(m, &b, s1, s2, NULL, &err), HP_OK);
        assert_int_equal(hp_model_backward(m, &b, up1, dent, NULL, &err), HP_OK);
    }
    /* Scoring and the training forward are the same computation. */
    assert_memory_equal(o1, s1, (size_t)nout * sizeof(float));

    cJSON *j = cJSON_CreateObject();
    cJSON_AddStringToObject(j, "config", cfgp);
    cJSON_AddStringToObject(j, "params", pp);
    cJSON *ji = cJSON_AddArrayToObject(j, "ids");
    for (int64_t t = 0; t < T; t++) cJSON_AddItemToArray(ji, cJSON_CreateNumber(ids[t]));
    cJSON *jo = cJSON_AddArrayToObject(j, "offsets");
    for (int s = 0; s <= tc->n_seq; s++) cJSON_AddItemToArray(jo, cJSON_CreateNumber((double)offs[s]));
    cJSON_AddItemToObject(j, K ? "dval" : "dlogp", tu_farr(up1, nout));
    if (!K && dent) cJSON_AddItemToObject(j, "dent", tu_farr(up2, T));
    if (tc->lora_rank) {
        cJSON *lo = cJSON_AddObjectToObject(j, "lora");
        cJSON_AddNumberToObject(lo, "rank", tc->lora_rank);
        cJSON_AddNumberToObject(lo, "alpha", 2.0 * tc->lora_rank);
    }
    if (tc->adam_steps) {
        cJSON *ad = cJSON_AddObjectToObject(j, "adam");
        cJSON_AddNumberToObject(ad, "steps", tc->adam_steps);
        cJSON_AddNumberToObject(ad, "lr", 1e-3);
        cJSON_AddNumberToObject(ad, "wd", 0.1);
        cJSON_AddNumberToObject(ad, "clip", tc->clip);
    }
    hp_st *ref = tu_run_ref(dir, j);
    assert_non_null(ref);
    bool ok = true;
    if (K) ok &= tu_check(ref, "values", o1, nout, 1e-5, 1e-4);
    else {
        ok &= tu_check(ref, "logp", o1, T, 1e-5, 1e-4);
        ok &= tu_check(ref, "entropy", o2, T, 1e-5, 1e-4);
    }
    int n_grads = 0;
    for (int i = 0; i < hp_model_n_tensors(m); i++) {
        hp_tensor_info t;
        hp_model_tensor(m, i, &t);
        if (!t.grad) continue;
        char name[400];
        snprintf(name, sizeof name, "grad.%s", t.name);
        ok &= tu_check(ref, name, t.grad, t.numel, 1e-6, 2e-3);
        n_grads++;
    }
    /* The reference's trainable set must match ours. */
    int ref_grads = 0;
    for (int i = 0; i < hp_st_count(ref); i++) ref_grads += hp_str_starts(hp_st_at(ref, i)->name, "grad.");
    assert_int_equal(n_grads, ref_grads);
    assert_true(n_grads > 0);

    if (tc->adam_steps) {
        /* Re-run from the same start: reload parameters written before the pass. */
        hp_st *p0 = hp_st_open(pp, &err);
        assert_non_null(p0);
        for (int i = 0; i < hp_model_n_tensors(m); i++) {
            hp_tensor_info t;
            hp_model_tensor(m, i, &t);
            assert_int_equal(hp_st_tensor_f32(hp_st_find(p0, t.name), t.data, &err), HP_OK);
        }
        hp_st_close(p0);
        hp_adamw o;
        hp_adamw_default(&o);
        o.weight_decay = 0.1;
        float norms[16];
        for (int s = 0; s < tc->adam_steps; s++) {
            hp_model_zero_grad(m);
            if (K) {
                assert_int_equal(hp_model_forward(m, &b, NULL, NULL, o1, &err), HP_OK);
                assert_int_equal(hp_model_backward(m, &b, NULL, NULL, up1, &err), HP_OK);
            } else {
                assert_int_equal(hp_model_forward(m, &b, o1, o2, NULL, &err), HP_OK);
                assert_int_equal(hp_model_backward(m, &b, up1, dent, NULL, &err), HP_OK);
            }
            norms[s] = (float)hp_model_clip_grad(m, tc->clip);
            hp_model_adamw_step(m, &o, 1e-3);
        }
        if (tc->clip > 0) ok &= tu_check(ref, "norms", norms, tc->adam_steps, 1e-6, 1e-4);
        for (int i = 0; i < hp_model_n_tensors(m); i++) {
            hp_tensor_info t;
            hp_model_tensor(m, i, &t);
            if (!t.grad) continue;
            char name[400];
            snprintf(name, sizeof name, "param.%s", t.name);
            ok &= tu_check(ref, name, t.data, t.numel, 2e-5, 1e-4);
        }
    }
    assert_true(ok);
    hp_st_close(ref);
    free(ids);
    free(up1);
    free(up2);
    free(o1);
    free(o2);
    free(s1);
    free(s2);
    free(cfgp);
    free(pp);
    hp_model_free(m);
    tu_rmdir(dir);
}

static void test_untied_gqa_packed(void **state) {
    (void)state;
    tcase tc = {.tag = "untied_gqa", .cfg = tu_config(2, 32, 4, 2, 48, 61, false, 1000.0), .lens = {5, 9, 1, 7}, .n_seq = 4};
    run_case(&tc);
}

static void test_tied_mha_chunked(void **state) {
    (void)state;
    /* chunk of 8 tokens: the three sequences run as separate chunks, two of them recomputed. */
    tcase tc = {.tag = "tied_chunked", .cfg = tu_config(3, 24, 3, 3, 40, 53, true, 1000.0), .lens = {6, 11, 4},
                .n_seq = 3, .chunk = 8};
    run_case(&tc);
}

static void test_value_head(void **state) {
    (void)state;
    tcase tc = {.tag = "critic", .cfg = tu_config(2, 32, 4, 1, 48, 40, true, 1000.0), .lens = {7, 5}, .n_seq = 2, .K = 3};
    run_case(&tc);
}

static void test_lora(void **state) {
    (void)state;
    tcase tc = {.tag = "lora", .cfg = tu_config(2, 32, 4, 2, 48, 45, false, 1000.0), .lens = {6, 8}, .n_seq = 2,
                .lora_rank = 4, .no_entropy = true};
    run_case(&tc);
}

static void test_bf16_loaded(void **state) {
    (void)state;
    tcase tc = {.tag = "bf16", .cfg = tu_config(2, 32, 4, 2, 48, 50, true, 1000.0), .lens = {9, 4}, .n_seq = 2, .bf16 = true};
    run_case(&tc);
}

static void test_adamw_clip(void **state) {
    (void)state;
    tcase tc = {.tag = "adamw", .cfg = tu_config(2, 16, 2, 1, 24, 30, false, 1000.0), .lens = {6, 5}, .n_seq = 2,
                .adam_steps = 3, .clip = 0.5};
    run_case(&tc);
}

static void test_adamw_lora_critic(void **state) {
    (void)state;
    tcase tc = {.tag = "adamw_lora_critic", .cfg = tu_config(2, 16, 2, 2, 24, 30, true, 1000.0), .lens = {6, 5},
                .n_seq = 2, .K = 2, .lora_rank = 2, .adam_steps = 2};
    run_case(&tc);
}

/* GQA ratios 1, 2 and 4 (H / Hk) with sizes that are not multiples of the SIMD width: odd head and KV-head
 * counts, head_dim 4 and 6, odd FFN widths and vocabularies, one-token sequences. */
static void test_gqa4_odd_sizes(void **state) {
    (void)state;
    tcase tc = {.tag = "gqa4_odd", .cfg = tu_config(2, 48, 8, 2, 37, 67, false, 1000.0), .lens = {3, 10, 1, 6},
                .n_seq = 4};
    run_case(&tc);
}

static void test_gqa2_odd_kv_heads(void **state) {
    (void)state;
    tcase tc = {.tag = "gqa2_odd", .cfg = tu_config(2, 36, 6, 3, 29, 41, true, 1000.0), .lens = {1, 8, 5}, .n_seq = 3};
    run_case(&tc);
}

static void test_gqa1_odd_heads(void **state) {
    (void)state;
    tcase tc = {.tag = "gqa1_odd", .cfg = tu_config(1, 20, 5, 5, 19, 23, false, 1000.0), .lens = {11, 1, 2}, .n_seq = 3,
                .chunk = 4};
    run_case(&tc);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_untied_gqa_packed), cmocka_unit_test(test_tied_mha_chunked),
        cmocka_unit_test(test_value_head),        cmocka_unit_test(test_lora),
        cmocka_unit_test(test_bf16_loaded),       cmocka_unit_test(test_adamw_clip),
        cmocka_unit_test(test_adamw_lora_critic), cmocka_unit_test(test_gqa4_odd_sizes),
        cmocka_unit_test(test_gqa2_odd_kv_heads), cmocka_unit_test(test_gqa1_odd_heads),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
