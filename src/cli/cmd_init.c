/* hiper init — create a randomly initialised Qwen2 model directory (config.json, model.safetensors and
 * the tokenizer's files). */
#include "cli.h"

#include "hiper/model.h"
#include "hiper/tok.h"

#include <dirent.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

static const char usage[] =
    "usage: hiper init --tokenizer DIR --out DIR [--layers L] [--dim D] [--heads H] [--kv-heads K]\n"
    "                  [--ffn F] [--seed S] [--untied] [--vocab N] [--max-pos N] [--rope-theta X] [--bf16]\n"
    "\n"
    "Writes a Qwen2ForCausalLM directory with weights ~ normal(0, 0.02). The vocabulary size is the\n"
    "tokenizer's (--vocab only without --tokenizer, or to pad it). Defaults: 4 layers, dim 256, 4 heads,\n"
    "2 kv heads, ffn 704, tied embeddings, seed 0. Prints {\"out\": ..., \"params\": N}.";

/* --out is replaced as a whole (hp_model_save), so it must be new, empty, or a model directory holding
 * nothing but model files: anything else would be deleted with it. */
static bool model_file(const char *name) {
    static const char *const names[] = {"config.json", "generation_config.json", "model.safetensors.index.json",
                                        "tokenizer.json", "tokenizer_config.json", "special_tokens_map.json",
                                        "added_tokens.json", "vocab.json", "merges.txt", "agent.json", NULL};
    for (int i = 0; names[i]; i++)
        if (!strcmp(name, names[i])) return true;
    return hp_str_ends(name, ".safetensors");
}

static int check_out_dir(const char *out, hp_err *err) {
    struct stat st;
    if (lstat(out, &st) != 0) return HP_OK; /* new */
    if (!S_ISDIR(st.st_mode)) return hp_fail(err, "%s exists and is not a directory; refusing to replace it", out);
    DIR *d = opendir(out);
    if (!d) return hp_fail(err, "%s: cannot read the directory: %s", out, strerror(errno));
    int rc = HP_OK;
    bool has_config = false, empty = true;
    for (struct dirent *e; rc == HP_OK && (e = readdir(d));) {
        if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, "..")) continue;
        empty = false;
        has_config |= !strcmp(e->d_name, "config.json");
        char *p = hp_path_join(out, e->d_name);
        struct stat es;
        if (lstat(p, &es) != 0 || !S_ISREG(es.st_mode) || !model_file(e->d_name))
            rc = hp_fail(err, "%s holds '%s', which is not a model file; refusing to replace the directory (init "
                              "writes a new model directory: give a new or empty --out)", out, e->d_name);
        free(p);
    }
    closedir(d);
    if (rc == HP_OK && !empty && !has_config)
        rc = hp_fail(err, "%s is not empty and has no config.json (not a model directory); refusing to replace it", out);
    return rc;
}

int hp_cmd_init(int argc, char **argv) {
    int64_t layers = 4, dim = 256, heads = 4, kv = 2, ffn = 704, seed = 0, vocab = 0, max_pos = 4096;
    double theta = 10000.0;
    const char *tokdir = NULL, *out = NULL;
    bool untied = false, bf16 = false;
    const hp_opt opts[] = {
        {"tokenizer", HP_OPT_STR, &tokdir, "directory (or tokenizer.json) of the tokenizer to copy"},
        {"out", HP_OPT_STR, &out, "output model directory: new, empty, or a model directory (replaced atomically)"},
        {"layers", HP_OPT_INT_POS, &layers, "decoder layers (4)"},
        {"dim", HP_OPT_INT_POS, &dim, "hidden size (256)"},
        {"heads", HP_OPT_INT_POS, &heads, "attention heads (4)"},
        {"kv-heads", HP_OPT_INT_POS, &kv, "key/value heads (2)"},
        {"ffn", HP_OPT_INT_POS, &ffn, "MLP intermediate size (704)"},
        {"seed", HP_OPT_INT, &seed, "initialisation seed (0)"},
        {"vocab", HP_OPT_INT, &vocab, "vocabulary size (default: the tokenizer's)"},
        {"max-pos", HP_OPT_INT_POS, &max_pos, "max_position_embeddings (4096)"},
        {"rope-theta", HP_OPT_F64_POS, &theta, "RoPE base (10000)"},
        {"untied", HP_OPT_FLAG, &untied, "separate lm_head.weight instead of the tied embedding"},
        {"bf16", HP_OPT_FLAG, &bf16, "store the weights as bfloat16"},
        {NULL, 0, NULL, NULL},
    };
    int a = hp_args_parse(argc, argv, 2, opts, usage, NULL, 0, NULL);
    if (a == 1) return HP_EXIT_OK;
    if (a) return HP_EXIT_USAGE;
    if (!out) return hp_cli_usage_error("init", "--out DIR is required");
    if (!tokdir && vocab <= 0) return hp_cli_usage_error("init", "--tokenizer DIR (or --vocab N) is required");
    if (layers <= 0 || dim <= 0 || heads <= 0 || kv <= 0 || ffn <= 0 || max_pos <= 0 || layers > 4096 ||
        dim > 1 << 20 || ffn > 1 << 22 || heads > 4096 || kv > 4096 || vocab > 1 << 24 || max_pos > 1 << 24)
        return hp_cli_usage_error("init", "sizes must be positive and reasonable");
    hp_err err;
    if (check_out_dir(out, &err)) return hp_cli_error(&err);
    hp_config c;
    hp_config_default(&c);
    c.num_hidden_layers = (int)layers;
    c.hidden_size = (int)dim;
    c.num_attention_heads = (int)heads;
    c.num_key_value_heads = (int)kv;
    c.intermediate_size = (int)ffn;
    c.max_position_embeddings = (int)max_pos;
    c.rope_theta = theta;
    c.tie_word_embeddings = !untied;
    if (bf16) strcpy(c.torch_dtype, "bfloat16");
    char *tok_dir_owned = NULL;
    if (tokdir) {
        hp_tok *tok = hp_tok_load(tokdir, &err);
        if (!tok) return hp_cli_error(&err);
        int32_t tv = hp_tok_vocab_size(tok);
        if (vocab > 0 && vocab < tv) {
            hp_tok_free(tok);
            return hp_cli_usage_error("init", "--vocab %lld is smaller than the tokenizer's %d", (long long)vocab, tv);
        }
        c.vocab_size = vocab > 0 ? (int)vocab : tv;
        c.eos_token_id = hp_tok_im_end(tok) >= 0 ? hp_tok_im_end(tok) : hp_tok_eos(tok);
        c.bos_token_id = hp_tok_eos(tok);
        hp_tok_free(tok);
        /* hp_model_save copies from a directory */
        if (!hp_is_dir(tokdir)) {
            const char *slash = strrchr(tokdir, '/');
            tok_dir_owned = slash ? hp_xstrndup(tokdir, (size_t)(slash - tokdir)) : hp_xstrdup(".");
        }
    } else {
        c.vocab_size = (int)vocab;
    }
    if (hp_config_validate(&c, "hiper init", &err)) {
        free(tok_dir_owned);
        return hp_cli_error(&err);
    }
    hp_model *m = hp_model_init_random(&c, (uint64_t)seed, &err);
    int rc = m ? hp_model_save(m, out, tok_dir_owned ? tok_dir_owned : tokdir, &err) : HP_FAIL;
    if (rc == HP_OK) printf("{\"out\": \"%s\", \"params\": %lld}\n", out, (long long)hp_model_n_params(m));
    hp_model_free(m);
    free(tok_dir_owned);
    return rc == HP_OK ? HP_EXIT_OK : hp_cli_error(&err);
}
