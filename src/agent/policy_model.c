/* The model engine as a policy: batched KV-cache generation (see hiper/agent.h, hiper/model.h). */
#include "hiper/agent.h"
#include "hiper/constrain.h"
#include "hiper/model.h"

#include <stdlib.h>
#include <string.h>

static int model_generate(void *self, int n, const hp_ids *prompts, const hp_policy_opts *o, const uint64_t *seeds,
                          hp_gen_out *outs, hp_err *err) {
    hp_model *m = self;
    hp_gen_opts g;
    hp_gen_opts_default(&g);
    g.temperature = o->temperature;
    g.top_p = o->top_p;
    g.top_k = o->top_k;
    g.logp_at_temperature = o->logp_at_temperature;
    g.max_new = o->max_new_tokens;
    g.eos_ids = o->stop_ids;
    g.n_eos = o->n_stop;
    hp_gen_req *reqs = hp_xcalloc((size_t)n, sizeof *reqs);
    hp_action_filter **filters = hp_xcalloc((size_t)n + 1, sizeof *filters);
    int V = hp_model_config(m)->vocab_size, rc = HP_OK;
    if (o->vocab && hp_vocab_bytes_size(o->vocab) > V)
        rc = hp_fail(err, "constrained actions: the tokenizer has %d tokens, the model only %d", hp_vocab_bytes_size(o->vocab), V);
    for (int i = 0; i < n; i++) {
        reqs[i].prompt = prompts[i].data;
        reqs[i].prompt_len = (int)prompts[i].len;
        reqs[i].seed = seeds[i];
        if (o->vocab && o->admissible && o->n_admissible[i] > 0) {
            filters[i] = hp_action_filter_new_shaped(o->vocab, o->admissible[i], o->n_admissible[i], o->shape);
            reqs[i].filter = hp_action_filter_apply;
            reqs[i].filter_ctx = filters[i];
        }
    }
    if (rc == HP_OK) rc = hp_generate(m, &g, reqs, n, err);
    for (int i = 0; i < n && rc == HP_OK; i++) {
        hp_ids_clear(&outs[i].ids);
        hp_ids_append(&outs[i].ids, reqs[i].out, (size_t)reqs[i].n_out);
        outs[i].logprobs = hp_xmalloc(((size_t)reqs[i].n_out + 1) * sizeof(float));
        if (reqs[i].n_out) memcpy(outs[i].logprobs, reqs[i].logp, (size_t)reqs[i].n_out * sizeof(float));
        outs[i].truncated = reqs[i].finish == HP_FINISH_LENGTH;
        if (filters[i]) {
            hp_action_filter_take(filters[i], reqs[i].n_out, &outs[i].mask_row, &outs[i].allowed, &outs[i].n_allowed);
            outs[i].allowed_stride = (int)hp_vocab_mask_bytes(V);
        }
    }
    for (int i = 0; i < n; i++) {
        hp_gen_req_free(&reqs[i]);
        hp_action_filter_free(filters[i]);
    }
    free(filters);
    free(reqs);
    return rc;
}

hp_policy hp_policy_model(struct hp_model *model) { return (hp_policy){model, model_generate}; }
