/* hiper generate — sample a continuation of a prompt with the model directory's tokenizer. */
#include "cli.h"

#include "hiper/model.h"
#include "hiper/tok.h"

#include <stdlib.h>
#include <string.h>

static const char usage[] =
    "usage: hiper generate --model DIR --prompt TEXT [--chat] [--temperature T] [--top-p P] [--top-k K]\n"
    "                      [--seed S] [--max-new N] [--stop STR] [--n N] [--json]\n"
    "\n"
    "Encodes TEXT with DIR's tokenizer (--chat: as one user message in the Qwen2.5 chat template, with\n"
    "the generation prompt), samples up to N new tokens (temperature 0 = greedy), stopping after\n"
    "<|im_end|>/<|endoftext|> or the stop string. Prints the text; --json prints\n"
    "{\"text\", \"ids\", \"logprobs\", \"finish\"} per sample (--n samples with seeds S, S+1, ...).";


static void json_str(hp_buf *b, const char *s) {
    hp_buf_putc(b, '"');
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        if (c == '"' || c == '\\') hp_buf_printf(b, "\\%c", c);
        else if (c == '\n') hp_buf_puts(b, "\\n");
        else if (c < 0x20) hp_buf_printf(b, "\\u%04x", c);
        else hp_buf_putc(b, (char)c);
    }
    hp_buf_putc(b, '"');
}

int hp_cmd_generate(int argc, char **argv) {
    const char *model_dir = NULL, *prompt = NULL, *stop = NULL;
    bool chat = false, json = false;
    double temperature = 1.0, top_p = 1.0;
    int64_t top_k = 0, seed = 0, max_new = 128, n = 1;
    const hp_opt opts[] = {
        {"model", HP_OPT_STR, &model_dir, "model directory (with tokenizer.json)"},
        {"prompt", HP_OPT_STR, &prompt, "prompt text"},
        {"chat", HP_OPT_FLAG, &chat, "wrap the prompt in the chat template"},
        {"temperature", HP_OPT_F64_NONNEG, &temperature, "sampling temperature (1; 0 = greedy)"},
        {"top-p", HP_OPT_F64_PROB, &top_p, "nucleus sampling mass (1 = off)"},
        {"top-k", HP_OPT_INT_NONNEG, &top_k, "keep the k most likely tokens (0 = off)"},
        {"seed", HP_OPT_INT, &seed, "random seed (0)"},
        {"max-new", HP_OPT_INT_POS, &max_new, "most new tokens (128)"},
        {"stop", HP_OPT_STR, &stop, "stop after this string appears"},
        {"n", HP_OPT_INT_POS, &n, "number of samples (1)"},
        {"json", HP_OPT_FLAG, &json, "print JSON lines with ids and log-probs"},
        {NULL, 0, NULL, NULL},
    };
    int a = hp_args_parse(argc, argv, 2, opts, usage, NULL, 0, NULL);
    if (a == 1) return HP_EXIT_OK;
    if (a) return HP_EXIT_USAGE;
    if (!model_dir || !prompt) return hp_cli_usage_error("generate", "--model and --prompt are required");
    if (max_new <= 0 || max_new > 1 << 20 || n <= 0 || n > 100000 || top_k < 0 || !(top_p > 0 && top_p <= 1))
        return hp_cli_usage_error("generate", "--max-new, --n, --top-k or --top-p out of range");
    hp_err err;
    hp_tok *tok = hp_tok_load(model_dir, &err);
    if (!tok) return hp_cli_error(&err);
    hp_model *m = hp_model_load(model_dir, &err);
    if (!m) {
        hp_tok_free(tok);
        return hp_cli_error(&err);
    }
    char *text = NULL;
    if (chat) {
        hp_chat_msg msg = {"user", prompt};
        text = hp_chat_render(&msg, 1, true);
    } else {
        text = hp_xstrdup(prompt);
    }
    hp_ids ids = {0};
    int rc = hp_tok_encode(tok, text, strlen(text), &ids, &err);
    if (rc == HP_OK && ids.len == 0) rc = hp_fail(&err, "the prompt encodes to no tokens");
    int32_t eos[2];
    int n_eos = 0;
    if (hp_tok_im_end(tok) >= 0) eos[n_eos++] = hp_tok_im_end(tok);
    if (hp_tok_eos(tok) >= 0) eos[n_eos++] = hp_tok_eos(tok);
    hp_gen_opts o;
    hp_gen_opts_default(&o);
    o.temperature = temperature;
    o.top_p = top_p;
    o.top_k = (int)top_k;
    o.max_new = (int)max_new;
    o.eos_ids = eos;
    o.n_eos = n_eos;
    o.stop = stop;
    o.token_bytes = hp_tok_bytes_fn;
    o.token_ctx = tok;
    hp_gen_req *r = hp_xcalloc((size_t)n, sizeof *r);
    for (int64_t i = 0; i < n; i++) {
        r[i].prompt = ids.data;
        r[i].prompt_len = (int)ids.len;
        r[i].seed = (uint64_t)seed + (uint64_t)i;
    }
    if (rc == HP_OK) rc = hp_generate(m, &o, r, (int)n, &err);
    static const char *fin[] = {"length", "eos", "stop"};
    for (int64_t i = 0; rc == HP_OK && i < n; i++) {
        char *out = hp_tok_decode(tok, r[i].out, (size_t)r[i].n_out);
        if (json) {
            hp_buf b = {0};
            hp_buf_puts(&b, "{\"text\": ");
            json_str(&b, out);
            hp_buf_puts(&b, ", \"ids\": [");
            for (int k = 0; k < r[i].n_out; k++) hp_buf_printf(&b, "%s%d", k ? ", " : "", r[i].out[k]);
            hp_buf_puts(&b, "], \"logprobs\": [");
            for (int k = 0; k < r[i].n_out; k++) hp_buf_printf(&b, "%s%.7g", k ? ", " : "", r[i].logp[k]);
            hp_buf_printf(&b, "], \"finish\": \"%s\"}", fin[r[i].finish]);
            printf("%s\n", b.data);
            hp_buf_free(&b);
        } else {
            printf("%s\n", out);
        }
        free(out);
    }
    for (int64_t i = 0; i < n; i++) hp_gen_req_free(&r[i]);
    free(r);
    hp_ids_free(&ids);
    free(text);
    hp_model_free(m);
    hp_tok_free(tok);
    return rc == HP_OK ? HP_EXIT_OK : hp_cli_error(&err);
}
