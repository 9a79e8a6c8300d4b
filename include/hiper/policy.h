/* hiper/policy.h — what the agent needs from a language model: batched sampling of responses.
 *
 * Contract:
 * - A policy generates, for n prompts at once, one response each: at most max_new_tokens tokens,
 *   sampled at `temperature` (0 = greedy) with optional top-k / top-p, stopping after the first stop id
 *   (the stop token is part of the response, as in veRL's response mask). Sequences join and leave the
 *   batch independently; the result for sequence i depends only on its prompt, the options and seeds[i]
 *   (the sequence's RNG stream is hp_rng_seed(seeds[i], 0)).
 * - logprobs[j] is the policy's log-probability of response token j: log-softmax of the logits at
 *   temperature 1, without top-k/top-p (as hp_model_score gives it), whatever the sampling temperature
 *   — or, with logp_at_temperature, of the logits divided by the sampling temperature (as
 *   hp_model_score gives it for a batch with that temperature).
 * - `truncated` is set when max_new_tokens was reached without a stop id.
 * - With constrained actions (opts.vocab set), the log-probs are those of the constrained distribution,
 *   and the output carries the allowed set of every constrained position.
 * - The agent module adapts the model engine to this interface (hp_policy_model in agent.h); tests use
 *   scripted policies.
 */
#ifndef HIPER_POLICY_H
#define HIPER_POLICY_H

#include "hiper/base.h"
#include "hiper/tok.h"

typedef struct hp_policy_opts {
    int max_new_tokens; /* 512 */
    double temperature; /* 1.0 training, 0.4 validation */
    int top_k;          /* 0 = off */
    double top_p;       /* 1.0 = off */
    bool logp_at_temperature; /* logprobs of softmax(logits / temperature) */
    const int32_t *stop_ids;
    int n_stop;
    /* Constrained actions (hiper/constrain.h), when vocab is set: admissible[i] holds the n_admissible[i]
     * commands of prompt i. Scripted policies (tests) ignore it. */
    const struct hp_vocab_bytes *vocab;
    const struct hp_response_shape *shape; /* with vocab: the text before the action kept to this shape */
    const char *const *const *admissible;
    const int *n_admissible;
} hp_policy_opts;

typedef struct hp_gen_out {
    hp_ids ids;       /* response ids (stop id included when reached) */
    float *logprobs;  /* ids.len values, malloc'd */
    bool truncated;
    /* Constrained actions: per response token the row of `allowed` its distribution was restricted to
     * (-1 = none), and the rows (bit v of byte v/8). NULL / 0 when the response was not constrained. */
    int32_t *mask_row;
    uint8_t *allowed;
    int n_allowed;
    int allowed_stride; /* bytes per row: (the model's vocabulary + 7) / 8 */
} hp_gen_out;

void hp_gen_out_free(hp_gen_out *o);

typedef struct hp_policy {
    void *self;
    /* Fill outs[0..n) (zero-initialised by the caller). */
    int (*generate)(void *self, int n, const hp_ids *prompts, const hp_policy_opts *opts, const uint64_t *seeds,
                    hp_gen_out *outs, hp_err *err);
} hp_policy;

static inline int hp_policy_generate(const hp_policy *p, int n, const hp_ids *prompts, const hp_policy_opts *o,
                                     const uint64_t *seeds, hp_gen_out *outs, hp_err *err) {
    return p->generate(p->self, n, prompts, o, seeds, outs, err);
}

#endif /* HIPER_POLICY_H */
