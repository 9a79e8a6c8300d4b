/* Generation: KV-cache decoding equals the full-recompute forward, per-request determinism regardless
 * of batch composition, EOS and stop strings, greedy/top-k/top-p, and the sampling distribution. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "hiper/model.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

static hp_model *tiny(int V, uint64_t seed) {
    hp_config c;
    hp_config_default(&c);
    c.num_hidden_layers = 2;
    c.hidden_size = 64;
    c.num_attention_heads = 4;
    c.num_key_value_heads = 2;
    c.intermediate_size = 96;
    c.vocab_size = V;
    c.tie_word_embeddings = false;
    hp_err e;
    hp_model *m = hp_model_init_random(&c, seed, &e);
    /* Larger weights than the 0.02 init so that the distributions are far from uniform. */
    for (int i = 0; i < hp_model_n_tensors(m); i++) {
        hp_tensor_info t;
        hp_model_tensor(m, i, &t);
        if (t.ndim == 2)
            for (int64_t k = 0; k < t.numel; k++) t.data[k] *= 15.0f;
    }
    return m;
}

static void make_reqs(hp_gen_req *r, int n, int32_t **prompts, uint64_t seed0, int V) {
    hp_rng g;
    hp_rng_seed(&g, 3, 3);
    for (int i = 0; i < n; i++) {
        int len = 1 + (int)hp_rng_below(&g, 12);
        prompts[i] = malloc((size_t)len * sizeof(int32_t));
        for (int t = 0; t < len; t++) prompts[i][t] = (int32_t)hp_rng_below(&g, (uint64_t)V);
        memset(&r[i], 0, sizeof r[i]);
        r[i].prompt = prompts[i];
        r[i].prompt_len = len;
        r[i].seed = seed0 + (uint64_t)i;
    }
}

/* Score prompt + output with the training forward (at `temperature`, hp_batch.temperature) and compare
 * the generated log-probs. */
static void check_against_forward_at(hp_model *m, const hp_gen_req *r, double temperature) {
    int n = r->prompt_len + r->n_out;
    int32_t *ids = malloc((size_t)n * sizeof *ids);
    memcpy(ids, r->prompt, (size_t)r->prompt_len * sizeof *ids);
    memcpy(ids + r->prompt_len, r->out, (size_t)r->n_out * sizeof *ids);
    int64_t offs[2] = {0, n};
    hp_batch b = {.ids = ids, .offsets = offs, .n_seq = 1, .temperature = temperature};
    float *lp = calloc((size_t)n, sizeof(float));
    hp_err e;
    assert_int_equal(hp_model_score(m, &b, lp, NULL, NULL, &e), HP_OK);
    for (int i = 0; i < r->n_out; i++) {
        float ref = lp[r->prompt_len - 1 + i];
        if (fabsf(ref - r->logp[i]) > 1e-4f + 1e-4f * fabsf(ref))
            fail_msg("token %d: generated log-prob %g, forward %g", i, r->logp[i], ref);
    }
    free(ids);
    free(lp);
}

static void check_against_forward(hp_model *m, const hp_gen_req *r) { check_against_forward_at(m, r, 1.0); }

static void test_kv_cache_matches_forward(void **state) {
    (void)state;
    hp_model *m = tiny(97, 1);
    enum { N = 7 };
    hp_gen_req r[N];
    int32_t *pr[N];
    make_reqs(r, N, pr, 100, 97);
    r[3].prompt = pr[2]; /* two identical prompts share a prefill */
    r[3].prompt_len = r[2].prompt_len;
    hp_gen_opts o;
    hp_gen_opts_default(&o);
    o.max_new = 20;
    o.max_batch = 3; /* sequences join and leave */
    hp_err e;
    assert_int_equal(hp_generate(m, &o, r, N, &e), HP_OK);
    for (int i = 0; i < N; i++) {
        assert_int_equal(r[i].n_out, 20);
        assert_int_equal(r[i].finish, HP_FINISH_LENGTH);
        check_against_forward(m, &r[i]);
    }
    /* Same prompt, different seeds: different samples. */
    assert_true(memcmp(r[2].out, r[3].out, 20 * sizeof(int32_t)) != 0);
    for (int i = 0; i < N; i++) {
        hp_gen_req_free(&r[i]);
        free(pr[i]);
    }
    hp_model_free(m);
}

/* Sampling at temperature 0.5 with logp_at_temperature: the recorded log-probs are those of
 * softmax(logits / 0.5), as the scoring pass gives them for a batch at temperature 0.5, and differ from
 * the temperature-1 log-probs. */
static void test_logp_at_temperature(void **state) {
    (void)state;
    hp_model *m = tiny(97, 1);
    enum { N = 4 };
    hp_gen_req r[N], r1[N];
    int32_t *pr[N], *pr1[N];
    make_reqs(r, N, pr, 300, 97);
    make_reqs(r1, N, pr1, 300, 97);
    hp_gen_opts o;
    hp_gen_opts_default(&o);
    o.max_new = 12;
    o.temperature = 0.5;
    o.logp_at_temperature = true;
    hp_err e;
    assert_int_equal(hp_generate(m, &o, r, N, &e), HP_OK);
    o.logp_at_temperature = false;
    assert_int_equal(hp_generate(m, &o, r1, N, &e), HP_OK);
    int differ = 0;
    for (int i = 0; i < N; i++) {
        check_against_forward_at(m, &r[i], 0.5);
        check_against_forward(m, &r1[i]);
        assert_int_equal(r[i].n_out, r1[i].n_out); /* the flag changes what is recorded, not what is sampled */
        assert_memory_equal(r[i].out, r1[i].out, (size_t)r[i].n_out * sizeof(int32_t));
        for (int j = 0; j < r[i].n_out; j++) differ += fabsf(r[i].logp[j] - r1[i].logp[j]) > 1e-3f;
        hp_gen_req_free(&r[i]);
        hp_gen_req_free(&r1[i]);
        free(pr[i]);
        free(pr1[i]);
    }
    assert_true(differ > 0);
    hp_model_free(m);
}

/* The KV cache against the full forward for GQA ratios 4 and 1 with odd sizes (head_dim 6 and 10,
 * odd KV-head count, FFN width and vocabulary). */
static void test_kv_cache_gqa_odd(void **state) {
    (void)state;
    const int shapes[2][5] = {{48, 8, 2, 37, 53}, {50, 5, 5, 29, 41}}; /* D, H, Hk, F, V */
    for (int s = 0; s < 2; s++) {
        hp_config c;
        hp_config_default(&c);
        c.num_hidden_layers = 2;
        c.hidden_size = shapes[s][0];
        c.num_attention_heads = shapes[s][1];
        c.num_key_value_heads = shapes[s][2];
        c.intermediate_size = shapes[s][3];
        c.vocab_size = shapes[s][4];
        hp_err e;
        hp_model *m = hp_model_init_random(&c, 5 + (uint64_t)s, &e);
        assert_non_null(m);
        for (int i = 0; i < hp_model_n_tensors(m); i++) {
            hp_tensor_info t;
            hp_model_tensor(m, i, &t);
            if (t.ndim == 2)
                for (int64_t k = 0; k < t.numel; k++) t.data[k] *= 15.0f;
        }
        enum { N = 4 };
        hp_gen_req r[N];
        int32_t *pr[N];
        make_reqs(r, N, pr, 7, c.vocab_size);
        hp_gen_opts o;
        hp_gen_opts_default(&o);
        o.max_new = 9;
        o.max_batch = 2;
        assert_int_equal(hp_generate(m, &o, r, N, &e), HP_OK);
        for (int i = 0; i < N; i++) {
            assert_int_equal(r[i].n_out, 9);
            check_against_forward(m, &r[i]);
            hp_gen_req_free(&r[i]);
            free(pr[i]);
        }
        hp_model_free(m);
    }
}

static void test_determinism_batch_composition(void **state) {
    (void)state;
    hp_model *m = tiny(97, 2);
    enum { N = 6 };
    hp_gen_req r[N];
    int32_t *pr[N];
    make_reqs(r, N, pr, 500, 97);
    hp_gen_opts o;
    hp_gen_opts_default(&o);
    o.max_new = 16;
    o.temperature = 0.8;
    o.top_p = 0.9;
    hp_err e;
    assert_int_equal(hp_generate(m, &o, r, N, &e), HP_OK);
    for (int i = 0; i < N; i++) {
        /* alone, with a batch of one */
        hp_gen_req one = {.prompt = r[i].prompt, .prompt_len = r[i].prompt_len, .seed = r[i].seed};
        hp_gen_opts o1 = o;
        o1.max_batch = 1;
        assert_int_equal(hp_generate(m, &o1, &one, 1, &e), HP_OK);
        assert_int_equal(one.n_out, r[i].n_out);
        assert_memory_equal(one.out, r[i].out, (size_t)one.n_out * sizeof(int32_t));
        assert_memory_equal(one.logp, r[i].logp, (size_t)one.n_out * sizeof(float));
        hp_gen_req_free(&one);
    }
    for (int i = 0; i < N; i++) {
        hp_gen_req_free(&r[i]);
        free(pr[i]);
    }
    hp_model_free(m);
}

static const char *letters(const void *ctx, int32_t id, size_t *len) {
    (void)ctx;
    static const char tab[] = "abcdefghijklmnopqrstuvwxyz0123456789";
    *len = 1;
    return tab + id % 36;
}

static void test_eos_and_stop(void **state) {
    (void)state;
    hp_model *m = tiny(36, 3);
    int32_t prompt[3] = {1, 2, 3};
    hp_gen_opts o;
    hp_gen_opts_default(&o);
    o.max_new = 30;
    hp_err e;
    hp_gen_req a = {.prompt = prompt, .prompt_len = 3, .seed = 9};
    assert_int_equal(hp_generate(m, &o, &a, 1, &e), HP_OK);
    assert_int_equal(a.n_out, 30);
    /* EOS = the token at index 4: generation stops at its first occurrence, token kept. */
    int32_t eos = a.out[4];
    int first = 0;
    while (a.out[first] != eos) first++;
    hp_gen_opts oe = o;
    oe.eos_ids = &eos;
    oe.n_eos = 1;
    hp_gen_req b = {.prompt = prompt, .prompt_len = 3, .seed = 9};
    assert_int_equal(hp_generate(m, &oe, &b, 1, &e), HP_OK);
    assert_int_equal(b.finish, HP_FINISH_EOS);
    assert_int_equal(b.n_out, first + 1);
    assert_memory_equal(b.out, a.out, (size_t)b.n_out * sizeof(int32_t));
    /* Stop string = the text of tokens 5..6. */
    char stop[3];
    size_t l;
    stop[0] = letters(NULL, a.out[5], &l)[0];
    stop[1] = letters(NULL, a.out[6], &l)[0];
    stop[2] = 0;
    int at = 0;
    while (!(letters(NULL, a.out[at], &l)[0] == stop[0] && letters(NULL, a.out[at + 1], &l)[0] == stop[1])) at++;
    hp_gen_opts os = o;
    os.stop = stop;
    os.token_bytes = letters;
    hp_gen_req c = {.prompt = prompt, .prompt_len = 3, .seed = 9};
    assert_int_equal(hp_generate(m, &os, &c, 1, &e), HP_OK);
    assert_int_equal(c.finish, HP_FINISH_STOP);
    assert_int_equal(c.n_out, at + 2);
    /* A stop string needs token bytes. */
    os.token_bytes = NULL;
    assert_int_equal(hp_generate(m, &os, &c, 1, &e), HP_FAIL);
    hp_gen_req_free(&a);
    hp_gen_req_free(&b);
    hp_gen_req_free(&c);
    hp_model_free(m);
}

/* The next-token distribution after a prompt, from the training forward (independent of the sampler). */
static void next_dist(hp_model *m, const int32_t *prompt, int n, double *p, int V) {
    int32_t ids[16];
    memcpy(ids, prompt, (size_t)n * sizeof *ids);
    int64_t offs[2] = {0, n + 1};
    hp_batch b = {.ids = ids, .offsets = offs, .n_seq = 1};
    float lp[16];
    hp_err e;
    for (int v = 0; v < V; v++) {
        ids[n] = v;
        assert_int_equal(hp_model_score(m, &b, lp, NULL, NULL, &e), HP_OK);
        p[v] = exp(lp[n - 1]);
    }
}

static void test_sampling_distribution(void **state) {
    (void)state;
    enum { V = 12, S = 4000 };
    hp_model *m = tiny(V, 4);
    int32_t prompt[4] = {3, 1, 4, 1};
    double p[V];
    next_dist(m, prompt, 4, p, V);
    struct { double T, top_p; int top_k; } cfgs[] = {{1.0, 1.0, 0}, {0.7, 1.0, 3}, {1.3, 0.8, 0}};
    hp_gen_req *r = calloc(S, sizeof *r);
    for (size_t c = 0; c < sizeof cfgs / sizeof cfgs[0]; c++) {
        /* Expected: p^(1/T), top-k, then the smallest top-p prefix, renormalised. */
        double q[V], tot = 0;
        int idx[V];
        for (int v = 0; v < V; v++) {
            q[v] = pow(p[v], 1.0 / cfgs[c].T);
            idx[v] = v;
        }
        for (int i = 0; i < V; i++)
            for (int k = i + 1; k < V; k++)
                if (q[idx[k]] > q[idx[i]]) {
                    int t = idx[i];
                    idx[i] = idx[k];
                    idx[k] = t;
                }
        int keep = cfgs[c].top_k ? cfgs[c].top_k : V;
        for (int i = 0; i < keep; i++) tot += q[idx[i]];
        double acc = 0;
        for (int i = 0; i < keep && cfgs[c].top_p < 1; i++) {
            acc += q[idx[i]] / tot;
            if (acc >= cfgs[c].top_p) {
                keep = i + 1;
                break;
            }
        }
        double e_[V] = {0}, t2 = 0;
        for (int i = 0; i < keep; i++) t2 += q[idx[i]];
        for (int i = 0; i < keep; i++) e_[idx[i]] = q[idx[i]] / t2;
        hp_gen_opts o;
        hp_gen_opts_default(&o);
        o.max_new = 1;
        o.temperature = cfgs[c].T;
        o.top_p = cfgs[c].top_p;
        o.top_k = cfgs[c].top_k;
        for (int i = 0; i < S; i++) r[i] = (hp_gen_req){.prompt = prompt, .prompt_len = 4, .seed = 1000 + (uint64_t)i};
        hp_err err;
        assert_int_equal(hp_generate(m, &o, r, S, &err), HP_OK);
        int cnt[V] = {0};
        for (int i = 0; i < S; i++) {
            cnt[r[i].out[0]]++;
            /* the returned log-prob is the temperature-1 policy's */
            assert_true(fabs(exp(r[i].logp[0]) - p[r[i].out[0]]) < 1e-4);
            hp_gen_req_free(&r[i]);
        }
        for (int v = 0; v < V; v++) {
            double f = (double)cnt[v] / S, sd = sqrt(e_[v] * (1 - e_[v]) / S);
            if (fabs(f - e_[v]) > 5 * sd + 1e-9)
                fail_msg("config %zu token %d: frequency %.4f, expected %.4f", c, v, f, e_[v]);
        }
    }
    /* Greedy = the most likely token; top_k 1 also. */
    int best = 0;
    for (int v = 1; v < V; v++) best = p[v] > p[best] ? v : best;
    hp_gen_opts o;
    hp_gen_opts_default(&o);
    o.max_new = 1;
    o.temperature = 0;
    hp_err err;
    hp_gen_req g = {.prompt = prompt, .prompt_len = 4, .seed = 1};
    assert_int_equal(hp_generate(m, &o, &g, 1, &err), HP_OK);
    assert_int_equal(g.out[0], best);
    hp_gen_req_free(&g);
    o.temperature = 1;
    o.top_k = 1;
    assert_int_equal(hp_generate(m, &o, &g, 1, &err), HP_OK);
    assert_int_equal(g.out[0], best);
    hp_gen_req_free(&g);
    free(r);
    hp_model_free(m);
}

static void test_bad_requests(void **state) {
    (void)state;
    hp_model *m = tiny(20, 5);
    int32_t bad[2] = {3, 25};
    hp_gen_opts o;
    hp_gen_opts_default(&o);
    hp_gen_req r = {.prompt = bad, .prompt_len = 2, .seed = 1};
    hp_err e;
    assert_int_equal(hp_generate(m, &o, &r, 1, &e), HP_FAIL);
    assert_non_null(strstr(e.msg, "outside the vocabulary"));
    r.prompt_len = 0;
    assert_int_equal(hp_generate(m, &o, &r, 1, &e), HP_FAIL);
    assert_int_equal(hp_model_add_value_head(m, 2, 1, &e), HP_OK);
    r.prompt_len = 1;
    assert_int_equal(hp_generate(m, &o, &r, 1, &e), HP_FAIL);
    assert_non_null(strstr(e.msg, "critic"));
    hp_model_free(m);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_kv_cache_matches_forward),
        cmocka_unit_test(test_logp_at_temperature), cmocka_unit_test(test_kv_cache_gqa_odd),
        cmocka_unit_test(test_determinism_batch_composition),
        cmocka_unit_test(test_eos_and_stop),
        cmocka_unit_test(test_sampling_distribution),
        cmocka_unit_test(test_bad_requests),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
