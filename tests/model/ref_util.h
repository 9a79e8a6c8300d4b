/* ref_util.h — helpers shared by the model tests: temporary directories, writing a model's tensors
 * and a case for the PyTorch reference (tests/ref/model_qwen2_ref.py), running it, comparing. */
#ifndef HIPER_TEST_REF_UTIL_H
#define HIPER_TEST_REF_UTIL_H

#include "hiper/model.h"
#include "hiper/safetensors.h"

#include <cjson/cJSON.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define REF_PY "/usr/bin/python3 " HP_SOURCE_DIR "/tests/ref/model_qwen2_ref.py"

/* A small Qwen2 configuration for tests. */
static inline hp_config tu_config(int L, int D, int H, int Hk, int F, int V, bool tied, double rope_theta) {
    hp_config c;
    hp_config_default(&c);
    c.num_hidden_layers = L;
    c.hidden_size = D;
    c.num_attention_heads = H;
    c.num_key_value_heads = Hk;
    c.intermediate_size = F;
    c.vocab_size = V;
    c.tie_word_embeddings = tied;
    c.rope_theta = rope_theta;
    c.rms_norm_eps = 1e-5;
    return c;
}

static inline char *tu_tmpdir(const char *tag) {
    hp_buf b = {0};
    hp_buf_printf(&b, "%s/tmp_%s.%ld", HP_BINARY_DIR, tag, (long)getpid());
    hp_err e;
    if (hp_path_exists(b.data)) hp_remove_tree(b.data, &e);
    if (hp_mkdirs(b.data, &e)) fprintf(stderr, "%s\n", e.msg);
    return hp_buf_take(&b);
}

static inline void tu_rmdir(char *d) {
    hp_err e;
    hp_remove_tree(d, &e);
    free(d);
}

/* Every tensor of m (LoRA unmerged) as F32. */
static inline int tu_write_params(const hp_model *m, const char *path, hp_err *err) {
    hp_st_writer *w = hp_st_writer_new();
    for (int i = 0; i < hp_model_n_tensors(m); i++) {
        hp_tensor_info t;
        hp_model_tensor(m, i, &t);
        hp_st_writer_add(w, t.name, HP_DT_F32, t.ndim, t.shape, t.data);
    }
    int rc = hp_st_writer_write(w, path, err);
    hp_st_writer_free(w);
    return rc;
}

static inline cJSON *tu_farr(const float *a, int64_t n) {
    cJSON *j = cJSON_CreateArray();
    for (int64_t i = 0; i < n; i++) cJSON_AddItemToArray(j, cJSON_CreateNumber((double)a[i]));
    return j;
}

/* Run the reference on a case object (takes ownership); returns the opened result or NULL. */
static inline hp_st *tu_run_ref(const char *dir, cJSON *c) {
    char *cp = hp_path_join(dir, "case.json"), *op = hp_path_join(dir, "ref_out.safetensors");
    cJSON_AddStringToObject(c, "out", op);
    char *s = cJSON_PrintUnformatted(c);
    hp_err e;
    hp_write_file_atomic(cp, s, strlen(s), &e);
    cJSON_free(s);
    cJSON_Delete(c);
    hp_buf cmd = {0};
    hp_buf_printf(&cmd, "OMP_NUM_THREADS=2 " REF_PY " %s", cp);
    int rc = system(cmd.data);
    hp_buf_free(&cmd);
    hp_st *st = NULL;
    if (rc == 0) {
        st = hp_st_open(op, &e);
        if (!st) fprintf(stderr, "%s\n", e.msg);
    } else {
        fprintf(stderr, "reference failed (%d)\n", rc);
    }
    free(cp);
    free(op);
    return st;
}

/* max |a - b| <= atol + rtol * max |b|; prints the worst element. */
static inline bool tu_close(const char *what, const float *a, const float *b, int64_t n, double atol, double rtol) {
    double mx = 0, worst = 0;
    int64_t wi = 0;
    for (int64_t i = 0; i < n; i++) mx = fmax(mx, fabs(b[i]));
    for (int64_t i = 0; i < n; i++) {
        double d = fabs((double)a[i] - b[i]);
        if (!(d <= worst)) {
            worst = d;
            wi = i;
        }
    }
    bool ok = worst <= atol + rtol * mx;
    if (!ok || getenv("HP_TEST_VERBOSE"))
        fprintf(stderr, "%s %s: max diff %.3g at %lld (%g vs %g), max|ref| %.3g\n", ok ? "ok" : "MISMATCH", what,
                worst, (long long)wi, n ? a[wi] : 0.0, n ? b[wi] : 0.0, mx);
    return ok;
}

/* Compare a C array with the reference tensor name. */
static inline bool tu_check(hp_st *st, const char *name, const float *a, int64_t n, double atol, double rtol) {
    const hp_st_tensor *t = hp_st_find(st, name);
    if (!t || t->numel != n) {
        fprintf(stderr, "reference tensor %s missing or wrong size\n", name);
        return false;
    }
    float *b = hp_xmalloc((size_t)(n ? n : 1) * sizeof(float));
    hp_err e;
    hp_st_tensor_f32(t, b, &e);
    bool ok = tu_close(name, a, b, n, atol, rtol);
    free(b);
    return ok;
}

#endif
