/* bench_model — throughput of the Qwen2 engine on this machine: sgemm GFLOP/s (the ceiling), scoring
 * (forward) and training (forward + backward) tokens/s, and generation tokens/s.
 *
 *   bench_model [--layers L --dim D --heads H --kv-heads K --ffn F --vocab V] [--seq S --nseq N]
 *               [--gen-batch B --gen-prompt P --gen-new G] [--reps R]
 *
 * Threads: OMP_NUM_THREADS and OPENBLAS_NUM_THREADS (run with both = 2 for the project's numbers). */
#include "hiper/model.h"

#include <cblas.h>
#include <omp.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static double cpu_now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

/* The machine's sgemm rate on all OpenMP threads (OpenBLAS's own threading), best of 5. */
static double sgemm_gflops(int M, int N, int K) {
    openblas_set_num_threads(omp_get_max_threads());
    float *a = hp_xcalloc((size_t)M * K, 4), *b = hp_xcalloc((size_t)N * K, 4), *c = hp_xcalloc((size_t)M * N, 4);
    for (size_t i = 0; i < (size_t)M * K; i++) a[i] = (float)(i % 7) * 0.1f;
    for (size_t i = 0; i < (size_t)N * K; i++) b[i] = (float)(i % 5) * 0.1f;
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, M, N, K, 1, a, K, b, K, 0, c, N);
    double best = 0;
    for (int r = 0; r < 5; r++) {
        double t = hp_now();
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, M, N, K, 1, a, K, b, K, 0, c, N);
        double g = 2.0 * M * N * K / (hp_now() - t) / 1e9;
        best = g > best ? g : best;
    }
    free(a);
    free(b);
    free(c);
    openblas_set_num_threads(1);
    return best;
}

static int64_t arg(int argc, char **argv, const char *name, int64_t def) {
    for (int i = 1; i + 1 < argc; i++)
        if (!strcmp(argv[i], name)) return atoll(argv[i + 1]);
    return def;
}

int main(int argc, char **argv) {
    hp_config c;
    hp_config_default(&c);
    c.num_hidden_layers = (int)arg(argc, argv, "--layers", 4);
    c.hidden_size = (int)arg(argc, argv, "--dim", 256);
    c.num_attention_heads = (int)arg(argc, argv, "--heads", 4);
    c.num_key_value_heads = (int)arg(argc, argv, "--kv-heads", 2);
    c.intermediate_size = (int)arg(argc, argv, "--ffn", 704);
    c.vocab_size = (int)arg(argc, argv, "--vocab", 4096);
    c.tie_word_embeddings = true;
    int seq = (int)arg(argc, argv, "--seq", 256), nseq = (int)arg(argc, argv, "--nseq", 8);
    int gb = (int)arg(argc, argv, "--gen-batch", 16), gp = (int)arg(argc, argv, "--gen-prompt", 128);
    int gn = (int)arg(argc, argv, "--gen-new", 64), reps = (int)arg(argc, argv, "--reps", 2);
    hp_err err;
    hp_model *m = hp_model_init_random(&c, 1, &err);
    if (!m) {
        fprintf(stderr, "%s\n", err.msg);
        return 1;
    }
    int64_t D = c.hidden_size, F = c.intermediate_size, L = c.num_hidden_layers, V = c.vocab_size;
    int64_t hd = D / c.num_attention_heads, Dkv = c.num_key_value_heads * hd;
    int64_t nonembed = L * (2 * D * D + 2 * D * Dkv + 3 * D * F), head = V * D;
    /* FLOPs per token: matmuls 2*(nonembed + head) + causal attention 2 * 2 * (seq/2) * D per layer. */
    double fwd_flops = 2.0 * (double)(nonembed + head) + (double)L * 2.0 * seq * D;
    int64_t T = (int64_t)seq * nseq;
    int32_t *ids = hp_xmalloc((size_t)T * sizeof *ids);
    hp_rng r;
    hp_rng_seed(&r, 2, 0);
    for (int64_t t = 0; t < T; t++) ids[t] = (int32_t)hp_rng_below(&r, (uint64_t)V);
    int64_t *offs = hp_xmalloc((size_t)(nseq + 1) * sizeof *offs);
    for (int s = 0; s <= nseq; s++) offs[s] = (int64_t)s * seq;
    hp_batch b = {ids, offs, nseq};
    float *lp = hp_xmalloc((size_t)T * 4), *ent = hp_xmalloc((size_t)T * 4), *d = hp_xmalloc((size_t)T * 4);
    for (int64_t t = 0; t < T; t++) d[t] = 1e-3f;
    double gemm = sgemm_gflops((int)(T < 1024 ? T : 1024), (int)F, (int)D);
    double t_score = 1e30, t_train = 1e30, c_score = 1e30, c_train = 1e30;
    hp_model_zero_grad(m);
    for (int i = 0; i < reps; i++) {
        double t0 = hp_now(), c0 = cpu_now();
        hp_model_score(m, &b, lp, ent, NULL, &err);
        double t1 = hp_now(), c1 = cpu_now();
        hp_model_forward(m, &b, lp, ent, NULL, &err);
        hp_model_backward(m, &b, d, d, NULL, &err);
        double t2 = hp_now(), c2 = cpu_now();
        t_score = t1 - t0 < t_score ? t1 - t0 : t_score;
        t_train = t2 - t1 < t_train ? t2 - t1 : t_train;
        c_score = c1 - c0 < c_score ? c1 - c0 : c_score;
        c_train = c2 - c1 < c_train ? c2 - c1 : c_train;
    }
    /* generation: gb requests of gp-token prompts, gn new tokens each (no EOS) */
    hp_gen_req *rq = hp_xcalloc((size_t)gb, sizeof *rq);
    int32_t *prompts = hp_xmalloc((size_t)gb * gp * sizeof *prompts);
    for (int64_t i = 0; i < (int64_t)gb * gp; i++) prompts[i] = (int32_t)hp_rng_below(&r, (uint64_t)V);
    for (int i = 0; i < gb; i++) rq[i] = (hp_gen_req){.prompt = prompts + (int64_t)i * gp, .prompt_len = gp, .seed = (uint64_t)i};
    hp_gen_opts o;
    hp_gen_opts_default(&o);
    o.max_new = gn;
    o.max_batch = gb;
    double t0 = hp_now(), c0 = cpu_now();
    hp_generate(m, &o, rq, gb, &err);
    double t_gen = hp_now() - t0, c_gen = cpu_now() - c0;
    int64_t ngen = 0;
    for (int i = 0; i < gb; i++) {
        ngen += rq[i].n_out;
        hp_gen_req_free(&rq[i]);
    }
    double score_tps = T / t_score, train_tps = T / t_train;
    printf("{\"params\": %lld, \"tokens\": %lld, \"seq\": %d, \"sgemm_gflops\": %.1f,\n"
           " \"score_tok_s\": %.1f, \"score_gflops\": %.1f, \"score_share\": %.2f,\n"
           " \"train_tok_s\": %.1f, \"train_gflops\": %.1f, \"train_share\": %.2f,\n"
           " \"gen_tok_s\": %.1f, \"gen_batch\": %d, \"gen_prompt\": %d, \"gen_new\": %d, \"gen_seconds\": %.2f,\n"
           " \"cpu_time_rates\": {\"score_tok_s\": %.1f, \"train_tok_s\": %.1f, \"gen_tok_s\": %.1f}}\n",
           (long long)hp_model_n_params(m), (long long)T, seq, gemm, score_tps, score_tps * fwd_flops / 1e9,
           score_tps * fwd_flops / 1e9 / gemm, train_tps, 3 * train_tps * fwd_flops / 1e9,
           3 * train_tps * fwd_flops / 1e9 / gemm, ngen / t_gen, gb, gp, gn, t_gen, T / c_score, T / c_train,
           ngen / c_gen);
    free(rq);
    free(prompts);
    free(ids);
    free(offs);
    free(lp);
    free(ent);
    free(d);
    hp_model_free(m);
    return 0;
}
