/* bench_model — throughput of the Qwen2 engine on this machine: sgemm GFLOP/s (the ceiling), scoring
 * (forward) and training (forward + backward) tokens/s, and generation tokens/s.
 *
 *   bench_model [--layers L --dim D --heads H --kv-heads K --ffn F --vocab V] [--seq S --nseq N]
 *               [--gen-batch B --gen-prompt P --gen-new G] [--reps R] [--lora RANK] [--no-score 1]
 *
 * train = forward + backward + one AdamW step. Generation is timed twice: max_new 1 (prefill: the
 * prompts' tokens/s) and max_new G; decode tokens/s = the extra tokens over the extra time. Ceilings
 * measured in the same run: sgemm GFLOP/s on a 1024^3 product ("sgemm_peak") and memory bandwidth
 * (a STREAM-style triad over 3 x 64 MiB); decode bytes/s = decode steps/s x (weights + KV cache read per
 * step), against that bandwidth. --gen-new 0 skips generation; --lora RANK trains LoRA adapters only
 * (all projections, alpha 2·rank). peak_rss_mib = getrusage's ru_maxrss.
 *
 * Threads: OMP_NUM_THREADS and OPENBLAS_NUM_THREADS (run with both = 2 for the project's numbers). */
#include "hiper/model.h"

#include <cblas.h>
#include <omp.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
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

/* Memory bandwidth: a[i] = b[i] + s c[i] over 3 arrays of 16 Mi floats on all OpenMP threads, counted
 * as 3 x 4 bytes per element (STREAM convention, no write-allocate), best of 5. */
static double triad_gbs(void) {
    const int64_t n = (int64_t)16 << 20;
    float *a = hp_xmalloc((size_t)n * 4), *b = hp_xmalloc((size_t)n * 4), *c = hp_xmalloc((size_t)n * 4);
#pragma omp parallel for schedule(static)
    for (int64_t i = 0; i < n; i++) {
        a[i] = 0;
        b[i] = (float)(i & 7);
        c[i] = (float)(i & 3);
    }
    double best = 0;
    for (int r = 0; r < 5; r++) {
        double t = hp_now();
#pragma omp parallel for schedule(static)
        for (int64_t i = 0; i < n; i++) a[i] = b[i] + 0.5f * c[i];
        double g = 3.0 * 4.0 * (double)n / (hp_now() - t) / 1e9;
        best = g > best ? g : best;
    }
    if (a[n - 1] < 0) printf("?");
    free(a);
    free(b);
    free(c);
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
    int lora = (int)arg(argc, argv, "--lora", 0), no_score = (int)arg(argc, argv, "--no-score", 0);
    hp_err err;
    hp_model *m = hp_model_init_random(&c, 1, &err);
    if (!m) {
        fprintf(stderr, "%s\n", err.msg);
        return 1;
    }
    if (lora) {
        hp_lora lo = {lora, 2.0 * lora, HP_LORA_ALL};
        if (hp_model_enable_lora(m, &lo, 3, &err)) {
            fprintf(stderr, "%s\n", err.msg);
            return 1;
        }
    }
    hp_adamw aw;
    hp_adamw_default(&aw);
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
    hp_batch b = {.ids = ids, .offsets = offs, .n_seq = nseq};
    float *lp = hp_xmalloc((size_t)T * 4), *ent = hp_xmalloc((size_t)T * 4), *d = hp_xmalloc((size_t)T * 4);
    for (int64_t t = 0; t < T; t++) d[t] = 1e-3f;
    double gemm = sgemm_gflops((int)(T < 1024 ? T : 1024), (int)F, (int)D);
    double peak = sgemm_gflops(1024, 1024, 1024), bw = triad_gbs();
    double t_score = 1e30, t_train = 1e30, c_score = 1e30, c_train = 1e30;
    hp_model_zero_grad(m);
    for (int i = 0; i < reps; i++) {
        double t0 = hp_now(), c0 = cpu_now();
        if (!no_score) hp_model_score(m, &b, lp, ent, NULL, &err);
        double t1 = hp_now(), c1 = cpu_now();
        if (hp_model_forward(m, &b, lp, ent, NULL, &err) || hp_model_backward(m, &b, d, d, NULL, &err)) {
            fprintf(stderr, "%s\n", err.msg);
            return 1;
        }
        hp_model_adamw_step(m, &aw, 1e-6);
        double t2 = hp_now(), c2 = cpu_now();
        t_score = t1 - t0 < t_score ? t1 - t0 : t_score;
        t_train = t2 - t1 < t_train ? t2 - t1 : t_train;
        c_score = c1 - c0 < c_score ? c1 - c0 : c_score;
        c_train = c2 - c1 < c_train ? c2 - c1 : c_train;
    }
    /* generation: gb requests of gp-token prompts; max_new 1 (prefill), then gn new tokens each (no EOS) */
    hp_gen_req *rq = hp_xcalloc((size_t)gb, sizeof *rq);
    int32_t *prompts = hp_xmalloc((size_t)gb * gp * sizeof *prompts);
    for (int64_t i = 0; i < (int64_t)gb * gp; i++) prompts[i] = (int32_t)hp_rng_below(&r, (uint64_t)V);
    double t_gen = 0, c_gen = 0, t_pf = 0;
    int64_t ngen = 0, npf = 0;
    for (int pass = 0; pass < 2 && gn > 0; pass++) {
        for (int i = 0; i < gb; i++)
            rq[i] = (hp_gen_req){.prompt = prompts + (int64_t)i * gp, .prompt_len = gp, .seed = (uint64_t)i};
        hp_gen_opts o;
        hp_gen_opts_default(&o);
        o.max_new = pass == 0 ? 1 : gn;
        o.max_batch = gb;
        double t0 = hp_now(), c0 = cpu_now();
        hp_generate(m, &o, rq, gb, &err);
        double dt = hp_now() - t0, dc = cpu_now() - c0;
        int64_t n = 0;
        for (int i = 0; i < gb; i++) {
            n += rq[i].n_out;
            hp_gen_req_free(&rq[i]);
        }
        if (pass == 0) t_pf = dt, npf = n;
        else t_gen = dt, c_gen = dc, ngen = n;
    }
    double prefill_tps = t_pf > 0 ? (double)gb * gp / t_pf : 0;
    double decode_tps = t_gen > t_pf ? (double)(ngen - npf) / (t_gen - t_pf) : 0;
    /* bytes read per decode step: every weight once (tied: the embedding as the head) + each sequence's
     * KV cache at its mean length */
    double kv_per_seq = 2.0 * (double)L * (double)Dkv * 4.0 * (gp + gn / 2.0);
    double step_bytes = 4.0 * (double)hp_model_n_params(m) + (double)gb * kv_per_seq;
    double decode_bytes_s = decode_tps / gb * step_bytes;
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    double score_tps = no_score ? 0 : T / t_score, train_tps = T / t_train;
    printf("{\"params\": %lld, \"trainable\": %lld, \"tokens\": %lld, \"seq\": %d, \"threads\": %d,\n"
           " \"sgemm_gflops\": %.1f, \"sgemm_peak_gflops\": %.1f, \"triad_gb_s\": %.2f,\n"
           " \"score_tok_s\": %.1f, \"score_gflops\": %.1f, \"score_share\": %.2f, \"score_peak_share\": %.2f,\n"
           " \"train_tok_s\": %.1f, \"train_gflops\": %.1f, \"train_share\": %.2f, \"train_peak_share\": %.2f,\n"
           " \"gen_tok_s\": %.1f, \"gen_batch\": %d, \"gen_prompt\": %d, \"gen_new\": %d, \"gen_seconds\": %.2f,\n"
           " \"prefill_tok_s\": %.1f, \"decode_tok_s\": %.2f, \"decode_gb_s\": %.2f, \"decode_bw_share\": %.2f,\n"
           " \"peak_rss_mib\": %.0f,\n"
           " \"cpu_time_rates\": {\"score_tok_s\": %.1f, \"train_tok_s\": %.1f, \"gen_tok_s\": %.1f}}\n",
           (long long)hp_model_n_params(m), (long long)hp_model_n_trainable(m), (long long)T, seq,
           omp_get_max_threads(), gemm, peak, bw, score_tps, score_tps * fwd_flops / 1e9,
           score_tps * fwd_flops / 1e9 / gemm, score_tps * fwd_flops / 1e9 / peak, train_tps,
           3 * train_tps * fwd_flops / 1e9, 3 * train_tps * fwd_flops / 1e9 / gemm,
           3 * train_tps * fwd_flops / 1e9 / peak, t_gen > 0 ? ngen / t_gen : 0, gb, gp, gn, t_gen, prefill_tps,
           decode_tps, decode_bytes_s / 1e9, decode_bytes_s / 1e9 / bw, (double)ru.ru_maxrss / 1024.0,
           no_score ? 0 : T / c_score, T / c_train, c_gen > 0 ? ngen / c_gen : 0);
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
