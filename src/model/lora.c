/* LoRA adapters on the seven projections of every layer. */
#include "model_impl.h"

#include <math.h>
#include <string.h>

int hp_model_enable_lora(hp_model *m, const hp_lora *o, uint64_t seed, hp_err *err) {
    if (m->lora) return hp_fail(err, "lora: already enabled");
    if (o->rank <= 0) return hp_fail(err, "lora: rank must be positive (got %d)", o->rank);
    if (!(o->targets & HP_LORA_ALL)) return hp_fail(err, "lora: no target projections");
    hp_model_drop_grads(m);
    for (int i = 0; i < m->np; i++) m->p[i]->train = false;
    if (m->score_w) m->score_w->train = m->score_b->train = true;
    hp_rng r;
    hp_rng_seed(&r, seed, 0x10aa);
    for (int l = 0; l < m->cfg.num_hidden_layers; l++) {
        layer *L = &m->L[l];
        lin *ls[7] = {&L->q, &L->k, &L->v, &L->o, &L->gate, &L->up, &L->down};
        for (int k = 0; k < 7; k++) {
            if (!(o->targets & (1u << k))) continue;
            lin *li = ls[k];
            char base[320], nb[360];
            size_t n = strlen(li->w->name) - strlen(".weight");
            snprintf(base, sizeof base, "%.*s", (int)n, li->w->name);
            snprintf(nb, sizeof nb, "%s.lora_A.weight", base);
            li->la = hp_mp_new(m, nb, o->rank, li->in);
            snprintf(nb, sizeof nb, "%s.lora_B.weight", base);
            li->lb = hp_mp_new(m, nb, li->out, o->rank);
            li->r = o->rank;
            li->lscale = (float)(o->alpha / o->rank);
            /* PEFT: kaiming_uniform_(a=sqrt(5)) → U(-1/sqrt(in), 1/sqrt(in)); B = 0. */
            double bound = 1.0 / sqrt((double)li->in);
            for (int64_t i = 0; i < li->la->numel; i++) li->la->w[i] = (float)((2.0 * hp_rng_uniform(&r) - 1.0) * bound);
        }
    }
    m->lora = true;
    m->a.valid = false;
    return HP_OK;
}
