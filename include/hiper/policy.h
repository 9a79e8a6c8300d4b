/* hiper/policy.h — what the agent needs from a language model: batched sampling of responses.
 *
 * Contract:
 * - A policy generates, for n prompts at once, one response each: at most max_new_tokens tokens,
 *   sampled at `temperature` (0 = greedy) with optional top-k / top-p, stopping after the first stop id
 *   (the stop token is part of the response, as in veRL's response mask). Sequences join and leave the
 *   batch independently; the result for sequence i depends only on its prompt, the options and rngs[i].
 * - logprobs[j] is the log-probability of response token j under the sampling distribution
 *   (logits / temperature, before top-k/top-p; plain log-softmax when temperature is 0 or 1).
 * - `truncated` is set when max_new_tokens was reached without a stop id.
 * - The agent module adapts the model engine to this interface (hp_policy_model in agent.h); tests use
 *   scripted policies.
 */
#ifndef HIPER_POLICY_H
#define HIPER_POLICY_H

#include "hiper/base.h"
#include "hiper/tok.h"

typedef struct hp_gen_opts {
    int max_new_tokens; /* 512 */
    double temperature; /* 1.0 training, 0.4 validation */
    int top_k;          /* 0 = off */
    double top_p;       /* 1.0 = off */
    const int32_t *stop_ids;
    int n_stop;
} hp_gen_opts;

typedef struct hp_gen_out {
    hp_ids ids;       /* response ids (stop id included when reached) */
    float *logprobs;  /* ids.len values, malloc'd */
    bool truncated;
} hp_gen_out;

void hp_gen_out_free(hp_gen_out *o);

typedef struct hp_policy {
    void *self;
    /* Fill outs[0..n) (zero-initialised by the caller). */
    int (*generate)(void *self, int n, const hp_ids *prompts, const hp_gen_opts *opts, hp_rng *rngs,
                    hp_gen_out *outs, hp_err *err);
} hp_policy;

static inline int hp_policy_generate(const hp_policy *p, int n, const hp_ids *prompts, const hp_gen_opts *o,
                                     hp_rng *rngs, hp_gen_out *outs, hp_err *err) {
    return p->generate(p->self, n, prompts, o, rngs, outs, err);
}

#endif /* HIPER_POLICY_H */
