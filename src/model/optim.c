/* Gradients and optimisation: zero, global norm, clipping, AdamW, optimizer state files, LR schedules. */
#include "model_impl.h"

#include "hiper/safetensors.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

void hp_model_zero_grad(hp_model *m) {
    hp_model_ensure_grads(m);
    memset(m->grad_arena, 0, m->grad_n * sizeof(float));
}

double hp_model_grad_norm(const hp_model *m) {
    if (!m->grad_arena) return 0.0;
    double s = 0;
    for (size_t i = 0; i < m->grad_n; i++) s += (double)m->grad_arena[i] * m->grad_arena[i];
    return sqrt(s);
}

int hp_model_check_grad(const hp_model *m, double norm, hp_err *err) {
    if (isfinite(norm)) return HP_OK;
    for (int i = 0; i < m->np; i++) {
        const mp *p = m->p[i];
        if (!p->g) continue;
        for (int64_t k = 0; k < p->numel; k++)
            if (!isfinite(p->g[k]))
                return hp_fail(err,
                               "optimizer step %lld: the gradient of '%s' is not finite (element %lld = %g; global "
                               "grad norm %g) — the step is refused",
                               (long long)(m->step + 1), p->name, (long long)k, (double)p->g[k], norm);
    }
    /* Every element finite but the sum of squares overflowed. */
    return hp_fail(err, "optimizer step %lld: the global grad norm is %g (overflow) — the step is refused",
                   (long long)(m->step + 1), norm);
}

double hp_model_clip_grad(hp_model *m, double max_norm) {
    double n = hp_model_grad_norm(m);
    if (max_norm > 0 && m->grad_arena) {
        double c = max_norm / (n + 1e-6);
        if (c < 1.0 && isfinite(n)) {
            float cf = (float)c;
            for (size_t i = 0; i < m->grad_n; i++) m->grad_arena[i] *= cf;
        }
    }
    return n;
}

void hp_adamw_default(hp_adamw *o) {
    o->beta1 = 0.9;
    o->beta2 = 0.999;
    o->eps = 1e-8;
    o->weight_decay = 0.01;
}

static void ensure_moments(hp_model *m) {
    hp_model_ensure_grads(m);
    if (m->m_arena) return;
    m->m_arena = hp_xcalloc(m->grad_n ? m->grad_n : 1, sizeof(float));
    m->v_arena = hp_xcalloc(m->grad_n ? m->grad_n : 1, sizeof(float));
    for (int i = 0; i < m->np; i++) {
        mp *p = m->p[i];
        if (!p->g) continue;
        p->m = m->m_arena + (p->g - m->grad_arena);
        p->v = m->v_arena + (p->g - m->grad_arena);
    }
}

/* torch.optim.AdamW: p *= 1 - lr*wd; m = b1 m + (1-b1) g; v = b2 v + (1-b2) g^2;
 * p -= lr/(1-b1^t) * m / (sqrt(v)/sqrt(1-b2^t) + eps). */
void hp_model_adamw_step(hp_model *m, const hp_adamw *o, double lr) {
    ensure_moments(m);
    m->step++;
    double bc1 = 1.0 - pow(o->beta1, (double)m->step), bc2 = 1.0 - pow(o->beta2, (double)m->step);
    float b1 = (float)o->beta1, b2 = (float)o->beta2;
    float decay = (float)(1.0 - lr * o->weight_decay), step = (float)(lr / bc1);
    float sbc2 = (float)sqrt(bc2), eps = (float)o->eps;
    for (int i = 0; i < m->np; i++) {
        mp *p = m->p[i];
        if (!p->g) continue;
        float *w = p->w, *g = p->g, *mm = p->m, *vv = p->v;
#pragma omp parallel for schedule(static)
        for (int64_t k = 0; k < p->numel; k++) {
            w[k] *= decay;
            mm[k] = b1 * mm[k] + (1.0f - b1) * g[k];
            vv[k] = b2 * vv[k] + (1.0f - b2) * g[k] * g[k];
            w[k] -= step * mm[k] / (sqrtf(vv[k]) / sbc2 + eps);
        }
    }
    m->a.valid = false;
}

int64_t hp_model_optim_step_count(const hp_model *m) { return m->step; }

int hp_model_optim_save(const hp_model *m, const char *path, hp_err *err) {
    hp_model *mm = (hp_model *)m; /* moments are allocated lazily; saving before a step writes zeros */
    ensure_moments(mm);
    hp_st_writer *w = hp_st_writer_new();
    char **names = hp_xcalloc((size_t)m->np * 2, sizeof *names);
    for (int i = 0; i < m->np; i++) {
        const mp *p = m->p[i];
        if (!p->g) continue;
        hp_buf b = {0};
        hp_buf_printf(&b, "%s.exp_avg", p->name);
        names[2 * i] = hp_buf_take(&b);
        hp_buf_printf(&b, "%s.exp_avg_sq", p->name);
        names[2 * i + 1] = hp_buf_take(&b);
        hp_st_writer_add(w, names[2 * i], HP_DT_F32, p->ndim, p->shape, p->m);
        hp_st_writer_add(w, names[2 * i + 1], HP_DT_F32, p->ndim, p->shape, p->v);
    }
    float step = (float)m->step;
    int64_t one = 1;
    hp_st_writer_add(w, "step", HP_DT_F32, 1, &one, &step);
    int rc = hp_st_writer_write(w, path, err);
    hp_st_writer_free(w);
    for (int i = 0; i < 2 * m->np; i++) free(names[i]);
    free(names);
    return rc;
}

int hp_model_optim_load(hp_model *m, const char *path, hp_err *err) {
    hp_st *st = hp_st_open(path, err);
    if (!st) return HP_FAIL;
    ensure_moments(m);
    int rc = HP_OK;
    float step = 0;
    int64_t one = 1;
    rc = hp_st_read_f32(st, "step", 1, &one, &step, err);
    for (int i = 0; i < m->np && rc == HP_OK; i++) {
        mp *p = m->p[i];
        if (!p->g) continue;
        hp_buf b = {0};
        hp_buf_printf(&b, "%s.exp_avg", p->name);
        rc = hp_st_read_f32(st, b.data, p->ndim, p->shape, p->m, err);
        hp_buf_clear(&b);
        hp_buf_printf(&b, "%s.exp_avg_sq", p->name);
        if (rc == HP_OK) rc = hp_st_read_f32(st, b.data, p->ndim, p->shape, p->v, err);
        hp_buf_free(&b);
    }
    if (rc == HP_OK && !(step >= 0 && step == floorf(step)))
        rc = hp_fail(err, "%s: tensor 'step' is not a step count", path);
    if (rc == HP_OK) m->step = (int64_t)step;
    hp_st_close(st);
    return rc;
}

/* The one schedule of PPO and SFT (the arithmetic is SFT's earlier hp_sft_lr_at, operation for operation,
 * so that its runs keep their bits; with min_lr_ratio 0, PPO's case, it equals the earlier
 * lo + (lr - lo) * 0.5 * (1 + cos) bit for bit). */
double hp_lr_at(const hp_lr_sched *s, int64_t step) {
    if (s->warmup_steps > 0 && step < s->warmup_steps)
        return s->lr * (double)(step + 1) / (double)(s->warmup_steps + 1);
    if (s->kind == HP_LR_CONSTANT) return s->lr;
    double span = (double)(s->total_steps - s->warmup_steps);
    double prog = span > 0 ? (double)(step - s->warmup_steps) / span : 1.0;
    if (prog < 0) prog = 0;
    if (prog > 1) prog = 1;
    double cosine = 0.5 * (1.0 + cos(M_PI * prog));
    return s->lr * (s->min_lr_ratio + (1.0 - s->min_lr_ratio) * cosine);
}
