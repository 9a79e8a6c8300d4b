/* hiper/model.h — the Qwen2 decoder: load/save Hugging Face model directories, a training pass
 * (forward keeping activations + backward accumulating parameter gradients), scoring, AdamW, LoRA, a
 * value head (critic) and batched KV-cache generation.
 *
 * Contract:
 * - A model is Qwen2: token embedding; per layer RMSNorm → attention (q/k/v with bias, o without,
 *   RoPE rotate-half with rope_theta, grouped-query, causal) → residual → RMSNorm → SwiGLU MLP →
 *   residual; final RMSNorm; then either the LM head (tied to the embedding or lm_head.weight) or,
 *   for a critic, a value head score.weight [K, hidden] + score.bias [K] (Hugging Face
 *   Qwen2ForTokenClassification naming, num_labels = K).
 * - Tensors use the Hugging Face names ("model.layers.0.self_attn.q_proj.weight", ...). All math is
 *   f32; reductions (losses, norms) f64.
 * - Batches are packed: several sequences laid end to end; positions restart at 0 and attention never
 *   crosses a sequence boundary.
 * - Per-position outputs of a pass use the "next token" convention: for position t of a sequence,
 *   logp[t] = log p(ids[t+1] | ids[..t]) under softmax(logits[t]) (temperature 1), entropy[t] is the
 *   entropy of softmax(logits[t]) (nats); at the last position of each sequence logp is 0 and its
 *   gradient ignored (entropy is still defined there). values[t*K + k] is head k read at position t.
 * - Backward ACCUMULATES into the gradient buffers (zero them with hp_model_zero_grad). Memory is
 *   bounded: sequences are processed in chunks of about hp_model_set_chunk_tokens tokens (one long
 *   sequence is one chunk); the forward keeps the last chunk's activations and backward recomputes
 *   the others.
 * - Determinism: the same inputs, seed and thread count give the same numbers. Generation of a
 *   request depends only on its prompt, seed, options and the thread count, not on the other requests
 *   in the batch. Threads: OMP_NUM_THREADS; OpenBLAS is set to one thread and called from OpenMP slices.
 * - A model is not thread-safe; two models (policy and critic, reference) are independent.
 * - Errors: functions returning int return HP_OK/HP_FAIL with a message naming the file/tensor/key.
 */
#ifndef HIPER_MODEL_H
#define HIPER_MODEL_H

#include "hiper/base.h"
#include "hiper/config.h"
#include "hiper/tok.h" /* hp_token_bytes_fn: pass hp_tok_bytes_fn with ctx = the hp_tok */

typedef struct hp_model hp_model;

/* ---- life cycle ------------------------------------------------------------------------------ */

/* Load config.json + model.safetensors (or sharded model.safetensors.index.json) from dir.
 * F32/BF16/F16 weights become f32. A tied model's lm_head.weight, if present, is ignored. */
hp_model *hp_model_load(const char *dir, hp_err *err);
/* Random init (normal(0, 0.02) for matrices and embeddings, zero biases, unit norms), from seed. */
hp_model *hp_model_init_random(const hp_config *cfg, uint64_t seed, hp_err *err);
/* Write config.json, model.safetensors (dtype: HP_DT_F32 unless the config says bfloat16) and, when
 * tokenizer_dir is not NULL, copies of its tokenizer.json and tokenizer_config.json (those present).
 * LoRA weights are merged into the written tensors. Atomic: written to a temporary sibling directory,
 * then swapped in with hp_dir_replace. */
int hp_model_save(const hp_model *m, const char *dir, const char *tokenizer_dir, hp_err *err);
/* A frozen copy (weights only, LoRA merged, no gradients/optimizer state): e.g. the reference policy. */
hp_model *hp_model_clone(const hp_model *m);
void hp_model_free(hp_model *m);

const hp_config *hp_model_config(const hp_model *m);
int64_t hp_model_n_params(const hp_model *m);    /* all parameters (LoRA and value head included) */
int64_t hp_model_n_trainable(const hp_model *m); /* those that receive gradients */

/* Turn the model into a critic: drop the LM head (an untied lm_head.weight is freed) and add a fresh
 * value head score.weight [K, hidden] ~ normal(0, 0.02) (seeded), score.bias [K] = 0. Saved models then
 * say architectures ["Qwen2ForTokenClassification"], num_labels K. Fails if a head already exists. */
int hp_model_add_value_head(hp_model *m, int K, uint64_t seed, hp_err *err);
int hp_model_n_values(const hp_model *m); /* K, or 0 for a causal LM */
/* A critic whose backbone does not train (critic.backbone = reference): only score.weight and
 * score.bias keep gradients and optimizer state. Call before any optimizer step (gradients and moments
 * are dropped). Its values are then computed with hp_model_head_values on final hidden states from
 * hp_model_score_hidden of a model with the same backbone, which is cheaper than a pass of its own. */
int hp_model_freeze_backbone(hp_model *m, hp_err *err);

/* Tokens per activation chunk of the training pass (default: sized to about 1 GiB of activations,
 * at least 256 tokens). */
void hp_model_set_chunk_tokens(hp_model *m, int64_t tokens);

/* ---- tensors (for checkpoints, gradient export, data-parallel all-reduce) -------------------- */

typedef struct hp_tensor_info {
    const char *name; /* Hugging Face name; LoRA tensors: "<target>.lora_A.weight" / ".lora_B.weight" */
    int ndim;
    int64_t shape[2];
    int64_t numel;
    float *data;      /* the parameter (f32) */
    float *grad;      /* its gradient, or NULL when it does not train */
} hp_tensor_info;

int hp_model_n_tensors(const hp_model *m);
void hp_model_tensor(const hp_model *m, int i, hp_tensor_info *out);
/* Lookup by name; fills out and returns true when found. */
bool hp_model_find_tensor(const hp_model *m, const char *name, hp_tensor_info *out);
/* All trainable gradients as one contiguous f32 array (for an MPI all-reduce); *n = element count.
 * Allocated on first use; valid until the model is freed. */
float *hp_model_grad_data(hp_model *m, size_t *n);

/* ---- training pass and scoring --------------------------------------------------------------- */

typedef struct hp_batch {
    const int32_t *ids;      /* all tokens, sequences laid end to end */
    const int64_t *offsets;  /* n_seq + 1 offsets into ids: sequence s is ids[offsets[s]..offsets[s+1]) */
    int n_seq;
    /* Optional vocabulary constraints (a policy that sampled under a token filter, hp_gen_req.filter):
     * mask_of[t] = -1, or the row of allowed_bits whose set bits (bit v of byte v/8) are the tokens the
     * distribution at position t was restricted to. log-probs, entropies and their gradients at t are
     * then those of the softmax over the allowed tokens only. NULL = no constraints. */
    const int64_t *mask_of;
    const uint8_t *allowed_bits; /* rows of hp_vocab_mask_bytes(vocab) bytes */
    /* Optional: scored[t] != 0 marks the positions whose log-prob and entropy are wanted; the others
     * come out as 0 and skip the output layer (an RL batch needs them at response positions only).
     * NULL = every position. The backward skips positions whose upstream gradients are both 0. */
    const uint8_t *scored;
    /* The policy is softmax(logits / temperature): log-probs, entropies and their gradients are those
     * of the tempered distribution (verl's actor convention when rollouts sample at a temperature).
     * 0 or 1 = the plain softmax. Value heads ignore it. */
    double temperature;
} hp_batch;

/* Bytes of one allowed-token row for a vocabulary of size V. */
static inline size_t hp_vocab_mask_bytes(int V) { return ((size_t)V + 7) / 8; }

/* Forward of a training pass. Policy: logp and entropy (each n_tokens floats; entropy may be NULL).
 * Critic: values (n_tokens * K floats). Keeps what hp_model_backward needs; a following backward must
 * receive the same batch. */
int hp_model_forward(hp_model *m, const hp_batch *b, float *logp, float *entropy, float *values,
                     hp_err *err);
/* Backward: upstream gradients dL/dlogp[t], dL/dentropy[t] (policy; dentropy may be NULL) or
 * dL/dvalues[t*K+k] (critic). ACCUMULATES parameter gradients. */
int hp_model_backward(hp_model *m, const hp_batch *b, const float *dlogp, const float *dentropy,
                      const float *dvalues, hp_err *err);
/* Forward only (old/reference log-probs, values): stores no activations. Any output may be NULL. */
int hp_model_score(hp_model *m, const hp_batch *b, float *logp, float *entropy, float *values,
                   hp_err *err);
/* hp_model_score that also writes the final hidden states (after the last RMSNorm, the input of the
 * LM or value head): hidden[t*hidden_size .. +hidden_size) for every position t of the batch. */
int hp_model_score_hidden(hp_model *m, const hp_batch *b, float *logp, float *entropy, float *hidden,
                          hp_err *err);
/* A critic's value head on n given hidden-state rows: values[i*K + k] = score.weight[k]·hidden[i] +
 * score.bias[k] (the numbers the critic's own pass gives when its backbone produced those rows). */
int hp_model_head_values(const hp_model *m, const float *hidden, int64_t n, float *values, hp_err *err);
/* Its backward: ACCUMULATES the gradients of score.weight and score.bias from dvalues [n, K]. */
int hp_model_head_backward(hp_model *m, const float *hidden, int64_t n, const float *dvalues, hp_err *err);

/* ---- optimisation ---------------------------------------------------------------------------- */

void hp_model_zero_grad(hp_model *m);
/* Global L2 norm of all trainable gradients (f64). */
double hp_model_grad_norm(const hp_model *m);
/* Scale gradients so that their global norm is at most max_norm (if max_norm > 0); returns the norm
 * before clipping (as torch.nn.utils.clip_grad_norm_ does, scale = max_norm / (norm + 1e-6)). */
double hp_model_clip_grad(hp_model *m, double max_norm);
/* HP_OK when norm (from hp_model_grad_norm / hp_model_clip_grad) is finite; otherwise HP_FAIL with a
 * message naming the coming optimizer step, the first tensor whose gradient has a NaN/Inf element and
 * that element. Costs nothing on the good path; call it between clipping and hp_model_adamw_step so
 * that a NaN never reaches the weights. (A non-finite norm leaves the gradients unscaled.) */
int hp_model_check_grad(const hp_model *m, double norm, hp_err *err);

typedef struct hp_adamw {
    double beta1;        /* 0.9 */
    double beta2;        /* 0.999 */
    double eps;          /* 1e-8 */
    double weight_decay; /* decoupled, applied to every trainable tensor (as torch.optim.AdamW) */
} hp_adamw;
void hp_adamw_default(hp_adamw *o); /* 0.9, 0.999, 1e-8, 0.01 */
/* One AdamW step at learning rate lr over all trainable tensors (torch.optim.AdamW semantics,
 * bias-corrected). The moment buffers are allocated on the first step. */
void hp_model_adamw_step(hp_model *m, const hp_adamw *o, double lr);
int64_t hp_model_optim_step_count(const hp_model *m);
/* Optimizer state as safetensors: "<name>.exp_avg", "<name>.exp_avg_sq" (F32) and "step" ([1], F32
 * holding the integer step count). Loading checks every name and shape. */
int hp_model_optim_save(const hp_model *m, const char *path, hp_err *err);
int hp_model_optim_load(hp_model *m, const char *path, hp_err *err);

/* Learning-rate schedules: the one schedule of PPO (train/update.c) and SFT (hp_sft_lr_sched). */
typedef enum { HP_LR_CONSTANT = 0, HP_LR_COSINE = 1 } hp_lr_kind;
typedef struct hp_lr_sched {
    hp_lr_kind kind;
    double lr;            /* peak learning rate */
    int64_t warmup_steps; /* linear warm-up (see hp_lr_at) */
    int64_t total_steps;  /* cosine: the step at which the decay reaches min_lr_ratio*lr (PPO: the step
                           * after its last, as verl; SFT: its last step) */
    double min_lr_ratio;  /* 0 by default */
} hp_lr_sched;
/* lr at (0-based) step: warm-up lr*(step+1)/(warmup_steps+1) while step < warmup_steps (the warm-up
 * steps climb below lr; step warmup_steps is the first at lr); then constant, or cosine
 * lr*(min_lr_ratio + (1-min_lr_ratio)*0.5*(1+cos(pi*progress))), progress =
 * (step-warmup)/(total-warmup) clamped to [0,1] (1 when total <= warmup). */
double hp_lr_at(const hp_lr_sched *s, int64_t step);

/* ---- LoRA ------------------------------------------------------------------------------------ */

enum {
    HP_LORA_Q = 1 << 0, HP_LORA_K = 1 << 1, HP_LORA_V = 1 << 2, HP_LORA_O = 1 << 3,
    HP_LORA_GATE = 1 << 4, HP_LORA_UP = 1 << 5, HP_LORA_DOWN = 1 << 6,
    HP_LORA_ALL = 0x7f
};
typedef struct hp_lora {
    int rank;
    double alpha;       /* scale = alpha / rank */
    unsigned targets;   /* HP_LORA_* bits */
} hp_lora;
/* Add LoRA adapters W' = W + (alpha/rank) B A (A [rank, in] ~ kaiming-uniform as PEFT, B [out, rank]
 * = 0). Afterwards only LoRA tensors (and a value head, if any) train. Call before the first backward. */
int hp_model_enable_lora(hp_model *m, const hp_lora *opts, uint64_t seed, hp_err *err);
/* The LoRA settings the model was enabled with, or NULL. */
const hp_lora *hp_model_lora(const hp_model *m);
/* The adapters in PEFT's form, written atomically as directory dir: adapter_model.safetensors (F32:
 * every "base_model.model.<name>.lora_A.weight" / ".lora_B.weight", and a value head's score.weight /
 * score.bias as PEFT's modules_to_save) and adapter_config.json (peft_type LORA, r, lora_alpha,
 * target_modules, task_type CAUSAL_LM or TOKEN_CLS, base_model_name_or_path = base). hp_model_save
 * writes the same model with the adapters merged. */
int hp_model_save_lora(const hp_model *m, const char *dir, const char *base, hp_err *err);
/* Read adapters written by hp_model_save_lora into a model with the same base architecture on which
 * hp_model_enable_lora was called with the same settings (and a value head added when they hold one):
 * every tensor's name and shape, and adapter_config.json's r and lora_alpha, are checked. */
int hp_model_load_lora(hp_model *m, const char *dir, hp_err *err);

/* ---- generation ------------------------------------------------------------------------------ */


typedef struct hp_gen_opts {
    double temperature;   /* <= 0: greedy (argmax) */
    double top_p;         /* 1 = off */
    int top_k;            /* 0 = off */
    int max_new;          /* max new tokens per request */
    const int32_t *eos_ids; /* generation stops after emitting one of these (kept in the output) */
    int n_eos;
    const char *stop;     /* stop string or NULL: stops after the token that completes it (kept) */
    hp_token_bytes_fn token_bytes; /* required when stop is set */
    const void *token_ctx;
    int max_batch;        /* most sequences decoded together (0 = 64) */
    int max_context;      /* prompt + output limit (0 = max_position_embeddings) */
    bool logp_at_temperature; /* hp_gen_req.logp under softmax(logits / temperature) instead of
                                 temperature 1 (the distribution sampled, without top-p/top-k) */
} hp_gen_opts;
void hp_gen_opts_default(hp_gen_opts *o); /* temperature 1, top_p 1, top_k 0, max_new 256 */

typedef enum { HP_FINISH_LENGTH = 0, HP_FINISH_EOS = 1, HP_FINISH_STOP = 2 } hp_finish;

/* A token filter: before each sampling step of a request, with the tokens it generated so far, it may
 * set the logits of forbidden tokens to -INFINITY (at least one must stay finite). The sampled token's
 * recorded log-prob is then that of the softmax over the allowed tokens. */
typedef void (*hp_logit_filter_fn)(void *ctx, const int32_t *out, int n_out, float *logits, int vocab);

typedef struct hp_gen_req {
    /* in */
    const int32_t *prompt;
    int prompt_len;       /* >= 1 */
    uint64_t seed;        /* this request's RNG stream: hp_rng_seed(seed, 0) */
    hp_logit_filter_fn filter; /* optional */
    void *filter_ctx;
    /* out (allocated by hp_generate; free with hp_gen_req_free) */
    int32_t *out;         /* generated ids */
    float *logp;          /* log-prob of each generated id under softmax(logits) at temperature 1
                             (or at the sampling temperature, hp_gen_opts.logp_at_temperature),
                             without top-p/top-k: the policy's log-prob, as hp_model_score gives */
    int n_out;
    hp_finish finish;
} hp_gen_req;

/* Generate for all requests with continuous batching: up to max_batch sequences decode together,
 * finished ones leave and waiting ones join. Identical prompts are prefilled once. */
int hp_generate(hp_model *m, const hp_gen_opts *o, hp_gen_req *reqs, int n_reqs, hp_err *err);
void hp_gen_req_free(hp_gen_req *r);

#endif /* HIPER_MODEL_H */
