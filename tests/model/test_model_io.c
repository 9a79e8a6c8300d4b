/* Model directories: save/load round trips (F32, BF16), tokenizer files copied, LoRA merged on save,
 * the value head saved as score.*, clone, missing/misshapen tensors named in errors, optimizer state
 * resume, and the learning-rate schedules. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "ref_util.h"

static hp_config cfg(bool tied) {
    hp_config c;
    hp_config_default(&c);
    c.num_hidden_layers = 2;
    c.hidden_size = 32;
    c.num_attention_heads = 4;
    c.num_key_value_heads = 2;
    c.intermediate_size = 40;
    c.vocab_size = 50;
    c.tie_word_embeddings = tied;
    return c;
}

static void score(hp_model *m, float *lp, float *val) {
    static const int32_t ids[9] = {1, 5, 9, 2, 7, 7, 3, 0, 4};
    int64_t offs[3] = {0, 4, 9};
    hp_batch b = {.ids = ids, .offsets = offs, .n_seq = 2};
    hp_err e;
    assert_int_equal(hp_model_score(m, &b, lp, NULL, val, &e), HP_OK);
}

static void test_roundtrip(void **state) {
    (void)state;
    char *dir = tu_tmpdir("io_rt");
    hp_err e;
    hp_config c = cfg(false);
    hp_model *m = hp_model_init_random(&c, 11, &e);
    char *tokdir = hp_path_join(dir, "tok"), *md = hp_path_join(dir, "model");
    assert_int_equal(hp_mkdirs(tokdir, &e), HP_OK);
    char *tj = hp_path_join(tokdir, "tokenizer.json");
    assert_int_equal(hp_write_file_atomic(tj, "{\"model\":{}}", 12, &e), HP_OK);
    assert_int_equal(hp_model_save(m, md, tokdir, &e), HP_OK);
    /* saving again replaces the directory */
    assert_int_equal(hp_model_save(m, md, tokdir, &e), HP_OK);
    char *copied = hp_path_join(md, "tokenizer.json");
    assert_true(hp_path_exists(copied));
    hp_model *m2 = hp_model_load(md, &e);
    if (!m2) fail_msg("%s", e.msg);
    assert_int_equal(hp_model_n_tensors(m2), hp_model_n_tensors(m));
    assert_int_equal(hp_model_n_params(m2), hp_model_n_params(m));
    for (int i = 0; i < hp_model_n_tensors(m); i++) {
        hp_tensor_info a, b;
        hp_model_tensor(m, i, &a);
        hp_model_tensor(m2, i, &b);
        assert_string_equal(a.name, b.name);
        assert_memory_equal(a.data, b.data, (size_t)a.numel * sizeof(float));
    }
    /* parameter count of the architecture: embed + head + layers + norm */
    int64_t D = 32, F = 40, V = 50, Dkv = 16;
    int64_t per_layer = 2 * D + D * D + D + 2 * (D * Dkv + Dkv) + D * D + 3 * D * F;
    assert_int_equal(hp_model_n_params(m), 2 * V * D + 2 * per_layer + D);
    /* bf16 save: values are the bf16 roundings */
    hp_config cb = c;
    strcpy(cb.torch_dtype, "bfloat16");
    hp_model *mb = hp_model_init_random(&cb, 11, &e);
    assert_int_equal(hp_model_save(mb, md, NULL, &e), HP_OK);
    hp_model *mb2 = hp_model_load(md, &e);
    assert_non_null(mb2);
    hp_tensor_info a, b;
    hp_model_tensor(mb, 3, &a);
    hp_model_tensor(mb2, 3, &b);
    for (int64_t k = 0; k < a.numel; k++) assert_true(b.data[k] == hp_bf16_to_f32(hp_f32_to_bf16(a.data[k])));
    hp_model_free(mb);
    hp_model_free(mb2);
    hp_model_free(m);
    hp_model_free(m2);
    free(tj);
    free(copied);
    free(tokdir);
    free(md);
    tu_rmdir(dir);
}

static void test_lora_merge_clone_critic(void **state) {
    (void)state;
    char *dir = tu_tmpdir("io_lora");
    hp_err e;
    hp_config c = cfg(true);
    hp_model *m = hp_model_init_random(&c, 12, &e);
    hp_lora lo = {4, 8.0, HP_LORA_Q | HP_LORA_V | HP_LORA_DOWN};
    assert_int_equal(hp_model_enable_lora(m, &lo, 3, &e), HP_OK);
    assert_int_equal(hp_model_n_trainable(m), 2 * (4 * 32 + 32 * 4) + 2 * (4 * 32 + 16 * 4) + 2 * (4 * 40 + 32 * 4));
    hp_rng r;
    hp_rng_seed(&r, 1, 1);
    for (int i = 0; i < hp_model_n_tensors(m); i++) {
        hp_tensor_info t;
        hp_model_tensor(m, i, &t);
        if (strstr(t.name, "lora_B"))
            for (int64_t k = 0; k < t.numel; k++) t.data[k] = (float)(0.3 * hp_rng_normal(&r));
    }
    float lp1[9], lp2[9], lp3[9];
    score(m, lp1, NULL);
    char *md = hp_path_join(dir, "merged");
    assert_int_equal(hp_model_save(m, md, NULL, &e), HP_OK);
    hp_model *m2 = hp_model_load(md, &e);
    assert_non_null(m2);
    score(m2, lp2, NULL);
    assert_true(tu_close("merged", lp2, lp1, 9, 1e-5, 1e-5));
    hp_model *cl = hp_model_clone(m);
    score(cl, lp3, NULL);
    assert_true(tu_close("clone", lp3, lp1, 9, 1e-5, 1e-5));
    assert_int_equal(hp_model_n_trainable(cl), 0);
    /* critic: head saved as score.*, architecture Qwen2ForTokenClassification */
    assert_int_equal(hp_model_add_value_head(m2, 3, 4, &e), HP_OK);
    assert_int_equal(hp_model_add_value_head(m2, 3, 4, &e), HP_FAIL);
    float v1[27], v2[27];
    score(m2, NULL, v1);
    char *cd = hp_path_join(dir, "critic");
    assert_int_equal(hp_model_save(m2, cd, NULL, &e), HP_OK);
    hp_config cc;
    assert_int_equal(hp_config_load(cd, &cc, &e), HP_OK);
    assert_int_equal(cc.num_labels, 3);
    hp_model *m3 = hp_model_load(cd, &e);
    assert_non_null(m3);
    hp_tensor_info t;
    assert_true(hp_model_find_tensor(m3, "score.weight", &t));
    assert_true(hp_model_find_tensor(m3, "score.bias", &t));
    score(m3, NULL, v2);
    assert_memory_equal(v1, v2, sizeof v1);
    hp_model_free(m);
    hp_model_free(m2);
    hp_model_free(m3);
    hp_model_free(cl);
    free(md);
    free(cd);
    tu_rmdir(dir);
}

static void test_load_errors(void **state) {
    (void)state;
    char *dir = tu_tmpdir("io_err");
    hp_err e;
    hp_config c = cfg(false);
    hp_model *m = hp_model_init_random(&c, 13, &e);
    char *cp = hp_path_join(dir, "config.json"), *sp = hp_path_join(dir, "model.safetensors");
    assert_int_equal(hp_config_write(&c, cp, &e), HP_OK);
    /* a missing tensor */
    hp_st_writer *w = hp_st_writer_new();
    for (int i = 0; i < hp_model_n_tensors(m); i++) {
        hp_tensor_info t;
        hp_model_tensor(m, i, &t);
        if (strcmp(t.name, "model.layers.1.mlp.up_proj.weight"))
            hp_st_writer_add(w, t.name, HP_DT_F32, t.ndim, t.shape, t.data);
    }
    assert_int_equal(hp_st_writer_write(w, sp, &e), HP_OK);
    hp_st_writer_free(w);
    assert_null(hp_model_load(dir, &e));
    assert_non_null(strstr(e.msg, "'model.layers.1.mlp.up_proj.weight' is missing"));
    /* a misshapen tensor */
    w = hp_st_writer_new();
    for (int i = 0; i < hp_model_n_tensors(m); i++) {
        hp_tensor_info t;
        hp_model_tensor(m, i, &t);
        int64_t sh[2] = {t.shape[0], t.shape[1]};
        if (!strcmp(t.name, "lm_head.weight")) sh[0] -= 1;
        hp_st_writer_add(w, t.name, HP_DT_F32, t.ndim, sh, t.data);
    }
    assert_int_equal(hp_st_writer_write(w, sp, &e), HP_OK);
    hp_st_writer_free(w);
    assert_null(hp_model_load(dir, &e));
    assert_non_null(strstr(e.msg, "'lm_head.weight' has shape [49, 32], expected [50, 32]"));
    assert_non_null(strstr(e.msg, "model.safetensors"));
    /* no config */
    assert_null(hp_model_load(HP_BINARY_DIR "/no/such/dir", &e));
    /* bad batches */
    int32_t ids[3] = {1, 60, 2};
    int64_t offs[2] = {0, 3};
    hp_batch b = {.ids = ids, .offsets = offs, .n_seq = 1};
    float lp[3];
    assert_int_equal(hp_model_score(m, &b, lp, NULL, NULL, &e), HP_FAIL);
    assert_non_null(strstr(e.msg, "outside the vocabulary"));
    hp_model_free(m);
    free(cp);
    free(sp);
    tu_rmdir(dir);
}

static void train_steps(hp_model *m, int n) {
    static const int32_t ids[9] = {1, 5, 9, 2, 7, 7, 3, 0, 4};
    int64_t offs[3] = {0, 4, 9};
    hp_batch b = {.ids = ids, .offsets = offs, .n_seq = 2};
    float lp[9], d[9];
    for (int i = 0; i < 9; i++) d[i] = -1.0f / 7;
    hp_adamw o;
    hp_adamw_default(&o);
    hp_err e;
    for (int s = 0; s < n; s++) {
        hp_model_zero_grad(m);
        assert_int_equal(hp_model_forward(m, &b, lp, NULL, NULL, &e), HP_OK);
        assert_int_equal(hp_model_backward(m, &b, d, NULL, NULL, &e), HP_OK);
        hp_model_clip_grad(m, 1.0);
        hp_model_adamw_step(m, &o, 1e-2);
    }
}

static void test_optimizer_resume(void **state) {
    (void)state;
    char *dir = tu_tmpdir("io_opt");
    hp_err e;
    hp_config c = cfg(true);
    hp_model *a = hp_model_init_random(&c, 14, &e);
    train_steps(a, 2);
    char *md = hp_path_join(dir, "m"), *op = hp_path_join(dir, "optim.safetensors");
    assert_int_equal(hp_model_save(a, md, NULL, &e), HP_OK);
    assert_int_equal(hp_model_optim_save(a, op, &e), HP_OK);
    hp_model *b = hp_model_load(md, &e);
    assert_int_equal(hp_model_optim_load(b, op, &e), HP_OK);
    assert_int_equal(hp_model_optim_step_count(b), 2);
    train_steps(a, 2);
    train_steps(b, 2);
    for (int i = 0; i < hp_model_n_tensors(a); i++) {
        hp_tensor_info x, y;
        hp_model_tensor(a, i, &x);
        hp_model_tensor(b, i, &y);
        assert_memory_equal(x.data, y.data, (size_t)x.numel * sizeof(float));
    }
    /* a state file of another architecture is refused, naming the tensor */
    hp_config c2 = cfg(true);
    c2.intermediate_size = 48;
    hp_model *z = hp_model_init_random(&c2, 1, &e);
    assert_int_equal(hp_model_optim_load(z, op, &e), HP_FAIL);
    assert_non_null(strstr(e.msg, "gate_proj.weight.exp_avg"));
    hp_model_free(a);
    hp_model_free(b);
    hp_model_free(z);
    free(md);
    free(op);
    tu_rmdir(dir);
}

static void test_lr_schedules(void **state) {
    (void)state;
    hp_lr_sched s = {HP_LR_CONSTANT, 1e-3, 0, 100, 0};
    assert_true(hp_lr_at(&s, 0) == 1e-3 && hp_lr_at(&s, 99) == 1e-3);
    /* warm-up: 10 steps climbing below lr (lr*(step+1)/11, SFT's ramp, which PPO shares), then lr */
    s.warmup_steps = 10;
    assert_true(fabs(hp_lr_at(&s, 0) - 1e-3 / 11) < 1e-15);
    assert_true(fabs(hp_lr_at(&s, 9) - 1e-3 * 10 / 11) < 1e-15);
    assert_true(hp_lr_at(&s, 10) == 1e-3);
    s.kind = HP_LR_COSINE;
    s.min_lr_ratio = 0.1;
    /* halfway through the decay: min + (max-min)/2 */
    assert_true(fabs(hp_lr_at(&s, 55) - (1e-4 + 0.5 * 9e-4)) < 1e-12);
    assert_true(fabs(hp_lr_at(&s, 100) - 1e-4) < 1e-15);
    assert_true(fabs(hp_lr_at(&s, 500) - 1e-4) < 1e-15);
    assert_true(fabs(hp_lr_at(&s, 10) - 1e-3) < 1e-15);
}

/* Same inputs and thread count: bitwise the same outputs and gradients (sizes large enough for the
 * products to be split across threads). */
static void test_determinism(void **state) {
    (void)state;
    hp_config c = cfg(false);
    c.hidden_size = 128;
    c.intermediate_size = 352;
    c.vocab_size = 300;
    hp_err e;
    int32_t ids[400];
    hp_rng r;
    hp_rng_seed(&r, 5, 0);
    for (int i = 0; i < 400; i++) ids[i] = (int32_t)hp_rng_below(&r, 300);
    int64_t offs[4] = {0, 150, 170, 400};
    hp_batch b = {.ids = ids, .offsets = offs, .n_seq = 3};
    float lp[2][400], d[400], *g[2];
    size_t n = 0;
    for (int i = 0; i < 400; i++) d[i] = (float)hp_rng_normal(&r);
    for (int k = 0; k < 2; k++) {
        hp_model *m = hp_model_init_random(&c, 3, &e);
        hp_model_zero_grad(m);
        assert_int_equal(hp_model_forward(m, &b, lp[k], NULL, NULL, &e), HP_OK);
        assert_int_equal(hp_model_backward(m, &b, d, NULL, NULL, &e), HP_OK);
        float *gd = hp_model_grad_data(m, &n);
        g[k] = malloc(n * sizeof(float));
        memcpy(g[k], gd, n * sizeof(float));
        hp_model_free(m);
    }
    assert_memory_equal(lp[0], lp[1], sizeof lp[0]);
    assert_memory_equal(g[0], g[1], n * sizeof(float));
    free(g[0]);
    free(g[1]);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_roundtrip),       cmocka_unit_test(test_lora_merge_clone_critic),
        cmocka_unit_test(test_load_errors),     cmocka_unit_test(test_optimizer_resume),
        cmocka_unit_test(test_lr_schedules),    cmocka_unit_test(test_determinism),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
