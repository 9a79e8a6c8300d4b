/* hiper/config.h — the Hugging Face config.json of a Qwen2 model.
 *
 * Contract:
 * - Parses the fields a Qwen2 decoder needs; architectures other than Qwen2ForCausalLM and
 *   Qwen2ForTokenClassification (and model_type other than "qwen2") are refused with an error naming
 *   the file and the key. Missing required keys, wrong types and inconsistent sizes (hidden_size not
 *   divisible by num_attention_heads, heads not divisible by num_key_value_heads, odd head_dim) are
 *   errors naming the key, and so is a key given twice in one object (JSON readers disagree on which
 *   one counts).
 * - Keys that change what the model computes and that the engine does not implement are refused with
 *   an error naming the file and the key, never ignored: hidden_act other than "silu" ("swish"),
 *   rope_scaling other than null or {"rope_type": "default"}, rope_parameters with another rope_type
 *   (its rope_theta is used), partial_rotary_factor other than 1, use_sliding_window true, layer_types
 *   other than "full_attention", attention_dropout other than 0, quantization_config, and head_dim
 *   other than hidden_size / num_attention_heads.
 * - Optional keys take Qwen2 defaults: rms_norm_eps 1e-6, rope_theta 10000, tie_word_embeddings false,
 *   max_position_embeddings 32768, torch_dtype "float32", num_labels 0 (no value head).
 * - Writing produces a config.json that Hugging Face transformers loads as the same model.
 */
#ifndef HIPER_CONFIG_H
#define HIPER_CONFIG_H

#include "hiper/base.h"

typedef struct hp_config {
    int hidden_size;
    int intermediate_size;
    int num_hidden_layers;
    int num_attention_heads;
    int num_key_value_heads;
    int vocab_size;
    int max_position_embeddings;
    double rms_norm_eps;
    double rope_theta;
    bool tie_word_embeddings;
    char torch_dtype[16];     /* "float32", "bfloat16", "float16" */
    int bos_token_id;         /* -1 when absent */
    int eos_token_id;         /* -1 when absent (first id when a list is given) */
    /* Value head (critic): Qwen2ForTokenClassification with num_labels outputs; 0 for a causal LM. */
    int num_labels;
    int head_dim;             /* derived: hidden_size / num_attention_heads */
} hp_config;

/* A small default (4 layers, dim 256, 4 heads, 2 kv heads, ffn 704, vocab 4096, tied). */
void hp_config_default(hp_config *cfg);
/* Check the sizes (see the contract) and fill head_dim. what names the source in messages. */
int hp_config_validate(hp_config *cfg, const char *what, hp_err *err);
/* Parse JSON text; path is used in messages only. */
int hp_config_parse(const char *json, size_t len, const char *path, hp_config *cfg, hp_err *err);
/* Load from a config.json file or from a directory holding one. */
int hp_config_load(const char *path, hp_config *cfg, hp_err *err);
/* Serialise (newly allocated JSON text) / write atomically to path. */
char *hp_config_to_json(const hp_config *cfg);
int hp_config_write(const hp_config *cfg, const char *path, hp_err *err);

#endif /* HIPER_CONFIG_H */
