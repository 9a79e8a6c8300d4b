/* hiper score — next-token log-probs and mean cross-entropy of a model on token sequences, and
 * optionally the gradients of that loss under the checkpoint's tensor names. */
#include "cli.h"

#include "hiper/model.h"
#include "hiper/safetensors.h"
#include "hiper/tok.h"

#include <stdlib.h>
#include <string.h>

static const char usage[] =
    "usage: hiper score --model DIR --ids FILE [--grad-out FILE.safetensors]\n"
    "\n"
    "FILE holds token ids: integers separated by spaces or commas, one sequence per line, or JSON (a\n"
    "list of ids, or a list of lists of ids; nothing else). Prints {\"loss\": L, \"logprobs\": [...]}\n"
    "where logprobs are log p(ids[t+1] | ids[..t]) of every predicted token (each sequence's,\n"
    "concatenated) and L their negated mean. --grad-out writes dL/dparameter for every tensor (F32); a tied embedding gets the\n"
    "sum of both uses.";

static int write_grads(hp_model *m, const char *path, hp_err *err) {
    hp_st_writer *w = hp_st_writer_new();
    for (int i = 0; i < hp_model_n_tensors(m); i++) {
        hp_tensor_info t;
        hp_model_tensor(m, i, &t);
        hp_st_writer_add(w, t.name, HP_DT_F32, t.ndim, t.shape, t.grad);
    }
    int rc = hp_st_writer_write(w, path, err);
    hp_st_writer_free(w);
    return rc;
}

int hp_cmd_score(int argc, char **argv) {
    const char *model_dir = NULL, *ids_path = NULL, *grad_out = NULL;
    const hp_opt opts[] = {
        {"model", HP_OPT_STR, &model_dir, "model directory"},
        {"ids", HP_OPT_STR, &ids_path, "file of token ids"},
        {"grad-out", HP_OPT_STR, &grad_out, "write the loss gradients to this safetensors file"},
        {NULL, 0, NULL, NULL},
    };
    int a = hp_args_parse(argc, argv, 2, opts, usage, NULL, 0, NULL);
    if (a == 1) return HP_EXIT_OK;
    if (a) return HP_EXIT_USAGE;
    if (!model_dir || !ids_path) return hp_cli_usage_error("score", "--model and --ids are required");
    hp_err err;
    char *text;
    size_t len;
    if (hp_read_file(ids_path, &text, &len, &err)) return hp_cli_error(&err);
    hp_ids seq = {0};
    int64_t *offs = NULL;
    int n_seq = 0;
    int rc = hp_ids_parse_seqs(text, len, ids_path, &seq, &offs, &n_seq, &err);
    int32_t *ids = seq.data;
    free(text);
    hp_model *m = rc == HP_OK ? hp_model_load(model_dir, &err) : NULL;
    if (m && hp_model_n_values(m) > 0) rc = hp_fail(&err, "%s: a critic (value head) has no log-probs", model_dir);
    if (!m) rc = HP_FAIL;
    int64_t T = rc == HP_OK ? offs[n_seq] : 0;
    float *lp = hp_xcalloc((size_t)(T ? T : 1), sizeof(float));
    hp_batch b = {.ids = ids, .offsets = offs, .n_seq = n_seq};
    if (rc == HP_OK) rc = hp_model_forward(m, &b, lp, NULL, NULL, &err);
    int64_t npred = T - n_seq;
    if (rc == HP_OK && npred <= 0) rc = hp_fail(&err, "%s: no sequence has two tokens to predict from", ids_path);
    if (rc == HP_OK && grad_out) {
        float *d = hp_xcalloc((size_t)T, sizeof(float));
        for (int s = 0; s < n_seq; s++)
            for (int64_t t = offs[s]; t + 1 < offs[s + 1]; t++) d[t] = (float)(-1.0 / (double)npred);
        hp_model_zero_grad(m);
        rc = hp_model_backward(m, &b, d, NULL, NULL, &err);
        if (rc == HP_OK) rc = write_grads(m, grad_out, &err);
        free(d);
    }
    if (rc == HP_OK) {
        double sum = 0;
        hp_buf o = {0};
        hp_buf_puts(&o, "{\"logprobs\": [");
        int64_t k = 0;
        for (int s = 0; s < n_seq; s++)
            for (int64_t t = offs[s]; t + 1 < offs[s + 1]; t++) {
                sum += lp[t];
                hp_buf_printf(&o, "%s%.9g", k++ ? ", " : "", lp[t]);
            }
        hp_buf line = {0};
        hp_buf_printf(&line, "{\"loss\": %.9g, %s]}\n", -sum / (double)npred, o.data + 1);
        rc = hp_cli_write(line.data, line.len, &err);
        hp_buf_free(&line);
        hp_buf_free(&o);
    }
    free(lp);
    free(ids);
    free(offs);
    hp_model_free(m);
    return rc == HP_OK ? HP_EXIT_OK : hp_cli_error(&err);
}
