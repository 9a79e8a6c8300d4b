/* gradvar.c — the variance of the policy-gradient estimate over disjoint mini-batches of trajectories,
 * under several advantage estimators on the same rollout (see hiper/gradvar.h). Everything that makes a
 * batch is the trainer's: rows.c builds the rows and advantages, update.c scores them and takes the
 * actor's loss and backward; this file only maps the critic's heads, cuts the mini-batches and keeps the
 * running moments of their gradients. */
#include "hiper/gradvar.h"

#include "hiper/model.h"
#include "hiper/rollout.h"
#include "train_internal.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

static const char *const GROUP_NAMES[HP_GRADVAR_GROUPS + 1] = {"embedding", "attention", "mlp", "norms",
                                                                "lm_head", "other", "total"};

const char *hp_gradvar_group_name(int g) { return g >= 0 && g <= HP_GRADVAR_GROUPS ? GROUP_NAMES[g] : "?"; }

int hp_gradvar_group_of(const char *name) {
    if (strstr(name, "embed_tokens")) return HP_GRADVAR_EMBED;
    if (strstr(name, "self_attn.")) return HP_GRADVAR_ATTN;
    if (strstr(name, ".mlp.")) return HP_GRADVAR_MLP;
    if (strstr(name, "layernorm") || !strcmp(name, "model.norm.weight")) return HP_GRADVAR_NORM;
    if (!strncmp(name, "lm_head", 7)) return HP_GRADVAR_HEAD;
    return HP_GRADVAR_OTHER;
}

void hp_gradvar_batch(int n_trajs, int n_batches, int m, int *t0, int *t1) {
    int q = n_trajs / n_batches, extra = n_trajs % n_batches;
    *t0 = m * q + (m < extra ? m : extra);
    *t1 = *t0 + q + (m < extra ? 1 : 0);
}

/* The configuration an estimator's rows are made under, resolved: the run's, with that estimator (and
 * `heads` critic heads for HAE, 0 = the run's), and the actor's loss reduced to its policy-gradient term
 * at the fixed policy. */
static int est_cfg(const hp_runcfg *cfg, const char *est, int heads, hp_learn_cfg *out, hp_err *err) {
    hp_runcfg *c = hp_xmalloc(sizeof *c);
    *c = *cfg;
    snprintf(c->algorithm.adv_estimator, sizeof c->algorithm.adv_estimator, "%s", est);
    if (heads) c->algorithm.hae.heads = heads;
    c->actor.recompute_old_logp = true; /* old log-probs from the actor itself: the ratio is 1 */
    c->actor.use_kl_loss = false;
    c->actor.entropy_coeff = 0.0;
    int rc = hp_learn_cfg_resolve(c, out, err);
    free(c);
    return rc;
}

/* Running mean (per parameter) and sum of squared deviations (per group) of the mini-batch gradients. */
typedef struct moments {
    double *mean;
    double m2[HP_GRADVAR_GROUPS];
    int k;
} moments;

static void moments_add(moments *mo, hp_model *m) {
    mo->k++;
    size_t off = 0;
    for (int i = 0; i < hp_model_n_tensors(m); i++) {
        hp_tensor_info t;
        hp_model_tensor(m, i, &t);
        if (!t.grad) continue;
        int g = hp_gradvar_group_of(t.name);
        double m2 = 0;
        for (int64_t j = 0; j < t.numel; j++) {
            double x = t.grad[j], *mu = &mo->mean[off + (size_t)j];
            double d = x - *mu;
            *mu += d / mo->k;
            m2 += d * (x - *mu);
        }
        mo->m2[g] += m2;
        off += (size_t)t.numel;
    }
}

static int check_args(hp_model *actor, hp_model *critic, const hp_rollout *ro, const hp_runcfg *cfg,
                      const hp_gradvar_cfg *gc, hp_err *err) {
    if (gc->n_estimators < 1 || gc->n_estimators > HP_GRADVAR_MAX_EST)
        return hp_fail(err, "gradvar: between 1 and %d estimators, got %d", HP_GRADVAR_MAX_EST, gc->n_estimators);
    for (int e = 0; e < gc->n_estimators; e++) {
        const char *s = gc->estimators[e];
        if (strcmp(s, "hae") && strcmp(s, HP_ROWS_TURN_GAE) && strcmp(s, "gae"))
            return hp_fail(err, "gradvar: unknown estimator '%s' (hae, turn_gae, gae)", s);
    }
    if (strcmp(cfg->env.format, "hiper"))
        return hp_fail(err, "gradvar: the rollout must be in the HiPER output format (env.format=hiper, got %s): "
                       "HAE reads its switch, subgoal and action spans", cfg->env.format);
    if (gc->n_batches < 2 || gc->n_batches > ro->n_trajs)
        return hp_fail(err, "gradvar: %d mini-batches of %d trajectories: need 2 <= batches <= trajectories",
                       gc->n_batches, ro->n_trajs);
    int next = 0;
    for (int k = 0; k < ro->n_trajs; k++) {
        if (ro->trajs[k].first_turn != next)
            return hp_fail(err, "gradvar: trajectory %d's turns do not follow the previous one's", k);
        next += ro->trajs[k].n_turns;
    }
    if ((size_t)next != ro->n_turns) return hp_fail(err, "gradvar: the trajectories hold %d of %zu turns", next, ro->n_turns);
    int K = critic ? hp_model_n_values(critic) : 0;
    if (critic && (K < 1 || K > 3)) return hp_fail(err, "gradvar: the critic has %d value heads (1 to 3 expected)", K);
    if (hp_model_n_values(actor) != 0) return hp_fail(err, "gradvar: the actor is a critic (it has value heads)");
    return HP_OK;
}

int hp_gradvar_run(hp_model *actor, hp_model *critic, hp_model *ref, const hp_rollout *ro, const hp_tok *tok,
                   const hp_runcfg *cfg, const hp_gradvar_cfg *gc, hp_gradvar_result *res, hp_err *err) {
    memset(res, 0, sizeof *res);
    if (check_args(actor, critic, ro, cfg, gc, err)) return HP_FAIL;
    if (gc->zero_values) critic = NULL;
    int Kc = critic ? hp_model_n_values(critic) : 0;
    res->n_batches = gc->n_batches;
    res->n_trajs = ro->n_trajs;
    res->n_rows = (int)ro->n_turns;
    res->critic_heads = Kc;
    res->min_batch_trajs = ro->n_trajs, res->max_batch_trajs = 0;
    for (int m = 0; m < gc->n_batches; m++) {
        int t0, t1;
        hp_gradvar_batch(ro->n_trajs, gc->n_batches, m, &t0, &t1);
        if (t1 - t0 < res->min_batch_trajs) res->min_batch_trajs = t1 - t0;
        if (t1 - t0 > res->max_batch_trajs) res->max_batch_trajs = t1 - t0;
    }

    /* One scoring pass for every estimator: rows whose head count is the critic's (hae with K heads, gae
     * with 1, a group estimator with none). */
    hp_learn_cfg *sc = hp_xmalloc(sizeof *sc), *c = hp_xmalloc(sizeof *c);
    hp_rows src = {0};
    int rc = est_cfg(cfg, Kc >= 2 ? "hae" : Kc == 1 ? "gae" : "grpo", Kc >= 2 ? Kc : 0, sc, err);
    if (rc == HP_OK) rc = hp_rows_build(&src, ro, tok, &sc->adv, err);
    if (rc == HP_OK && critic && sc->critic.head_only && !ref)
        rc = hp_fail(err, "gradvar: critic.backbone=reference: the critic's heads need the reference policy");
    if (rc == HP_OK) rc = hp_train_score(actor, critic && sc->critic.head_only ? ref : NULL, critic, &src, sc, err);

    size_t n_grad = 0;
    hp_model_grad_data(actor, &n_grad); /* allocates the gradient buffers */
    for (int i = 0; i < hp_model_n_tensors(actor); i++) {
        hp_tensor_info t;
        hp_model_tensor(actor, i, &t);
        if (!t.grad) continue;
        res->n_params[hp_gradvar_group_of(t.name)] += t.numel;
        res->n_params[HP_GRADVAR_TOTAL] += t.numel;
    }
    moments mo = {.mean = hp_xmalloc((n_grad ? n_grad : 1) * sizeof(double))};
    for (int e = 0; rc == HP_OK && e < gc->n_estimators; e++) {
        hp_gradvar_est *out = &res->est[res->n_est++];
        snprintf(out->name, sizeof out->name, "%s", gc->estimators[e]);
        hp_rows r = {0};
        rc = est_cfg(cfg, gc->estimators[e], 0, c, err);
        if (rc == HP_OK) rc = hp_rows_build(&r, ro, tok, &c->adv, err);
        if (rc == HP_OK) {
            memcpy(r.old_logp, src.old_logp, (size_t)src.tok_off[src.n] * sizeof *r.old_logp);
            for (int64_t s = 0; s < r.val_off[r.n]; s++)
                for (int k = 0; k < r.K; k++)
                    r.v_old[s * r.K + k] = Kc ? src.v_old[s * Kc + (k < Kc ? k : Kc - 1)] : 0.0f;
            hp_adv_stats as;
            rc = hp_rows_advantages(&r, ro, &c->adv, &as, err);
            out->loss_tokens = as.loss_tokens;
            out->adv_abs_mean = as.adv_abs_mean;
        }
        memset(mo.m2, 0, sizeof mo.m2);
        memset(mo.mean, 0, (n_grad ? n_grad : 1) * sizeof(double));
        mo.k = 0;
        for (int m = 0; rc == HP_OK && m < gc->n_batches; m++) {
            int t0, t1;
            hp_gradvar_batch(ro->n_trajs, gc->n_batches, m, &t0, &t1);
            int a = ro->trajs[t0].first_turn, b = ro->trajs[t1 - 1].first_turn + ro->trajs[t1 - 1].n_turns;
            hp_update_stats us = {0};
            hp_model_zero_grad(actor);
            rc = hp_train_actor_grad(actor, &r, a, b, c, &us, err);
            if (rc == HP_OK) moments_add(&mo, actor);
            else hp_err_wrap(err, "gradvar: %s, mini-batch %d (trajectories %d..%d)", out->name, m, t0, t1 - 1);
        }
        if (rc == HP_OK) {
            size_t off = 0;
            for (int i = 0; i < hp_model_n_tensors(actor); i++) {
                hp_tensor_info t;
                hp_model_tensor(actor, i, &t);
                if (!t.grad) continue;
                int g = hp_gradvar_group_of(t.name);
                double s = 0;
                for (int64_t j = 0; j < t.numel; j++) s += mo.mean[off + (size_t)j] * mo.mean[off + (size_t)j];
                out->mean_sq[g] += s;
                off += (size_t)t.numel;
            }
            for (int g = 0; g < HP_GRADVAR_GROUPS; g++) {
                out->var[g] = mo.m2[g] / (double)(gc->n_batches - 1);
                out->var[HP_GRADVAR_TOTAL] += out->var[g];
                out->mean_sq[HP_GRADVAR_TOTAL] += out->mean_sq[g];
            }
            for (int g = 0; g <= HP_GRADVAR_GROUPS; g++) out->signal_sq[g] = out->mean_sq[g] - out->var[g] / gc->n_batches;
        }
        hp_rows_free(&r);
    }
    free(mo.mean);
    hp_rows_free(&src);
    free(sc);
    free(c);
    return rc;
}
