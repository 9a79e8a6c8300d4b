/* dist_train.c — the data-parallel phases of an RL step (hiper/dist.h, hiper/train.h): each rank plays
 * its share of the task groups and every rank gets the whole batch's turn records; each rank scores
 * the rows of its own turns and every rank gets every row's scores. With one process both are the
 * plain rollout and scoring. */
#include "train_internal.h"

#include "hiper/dist.h"
#include "hiper/model.h"
#include "hiper/rollout.h"

#include <stdlib.h>
#include <string.h>

void hp_train_dist_groups(const hp_dist *d, int n_groups, int *g0, int *g1) {
    int64_t a, z;
    hp_dist_share(n_groups, hp_dist_rank(d), hp_dist_size(d), &a, &z);
    *g0 = (int)a, *g1 = (int)z;
}

int hp_train_dist_rollout(const hp_dist *d, hp_env **envs, const hp_tok *tok, const hp_policy *pol,
                          const hp_rollout_cfg *cfg, hp_rollout *out, int *row0, int *row1, hp_err *err) {
    memset(out, 0, sizeof *out);
    if (!hp_dist_parallel(d)) {
        int rc = hp_rollout_run(envs, tok, pol, cfg, out, err);
        *row0 = 0, *row1 = (int)out->n_turns;
        return rc;
    }
    int g0, g1;
    hp_train_dist_groups(d, cfg->n_tasks, &g0, &g1);
    hp_rollout mine = {0};
    int rc = HP_OK;
    if (g1 > g0) {
        hp_rollout_cfg c = *cfg;
        c.first_group = g0;
        c.total_groups = cfg->n_tasks;
        c.n_tasks = g1 - g0;
        if (cfg->task_indices) c.task_indices = cfg->task_indices + g0;
        rc = hp_rollout_run(envs, tok, pol, &c, &mine, err);
    }
    if (hp_dist_agree(d, rc, err)) {
        hp_rollout_free(&mine);
        return HP_FAIL;
    }
    hp_buf packed = {0}, all = {0};
    hp_rollout_pack(&mine, true, &packed);
    hp_rollout_free(&mine);
    hp_dist_allgather(d, packed.data, packed.len, &all, NULL);
    hp_buf_free(&packed);
    /* The shares in rank order are the groups in order: concatenated, the rollout one process plays. */
    size_t pos = 0;
    for (int r = 0; r < hp_dist_size(d) && rc == HP_OK; r++) {
        hp_rollout part;
        if ((rc = hp_rollout_unpack(all.data, all.len, &pos, &part, err))) break;
        if (r == hp_dist_rank(d)) *row0 = (int)out->n_turns, *row1 = (int)(out->n_turns + part.n_turns);
        hp_rollout_concat(out, &part);
    }
    hp_buf_free(&all);
    if (rc) hp_rollout_free(out);
    /* a damaged buffer is damaged on every rank alike (they all hold the same bytes) */
    return rc ? hp_err_wrap(err, "gathering the rollout") : HP_OK;
}

/* Every rank's n_each[rank] values (its rows' slice) into dst, which holds the whole batch's. */
static int gather_into(const hp_dist *d, const void *mine, size_t n_bytes, void *dst, size_t dst_bytes,
                       const char *what, hp_err *err) {
    hp_buf all = {0};
    hp_dist_allgather(d, mine, n_bytes, &all, NULL);
    int rc = HP_OK;
    if (all.len != dst_bytes) rc = hp_fail(err, "scores: %s: gathered %zu bytes, the batch holds %zu", what, all.len, dst_bytes);
    else if (dst_bytes) memcpy(dst, all.data, dst_bytes);
    hp_buf_free(&all);
    return rc;
}

int hp_train_dist_score(const hp_dist *d, struct hp_model *actor, struct hp_model *ref, struct hp_model *critic,
                        hp_rows *rows, const struct hp_rollout *ro, int row0, int row1, const hp_tok *tok,
                        const hp_learn_cfg *cfg, hp_err *err) {
    if (!hp_dist_parallel(d)) return hp_train_score(actor, ref, critic, rows, cfg, err);
    /* This rank's turns are rows [row0, row1) of the batch; rows built from them alone are the same rows. */
    hp_rollout view = {0};
    view.turns = ro->turns + row0;
    view.n_turns = (size_t)(row1 - row0);
    hp_rows mine;
    int rc = hp_rows_build(&mine, &view, tok, &cfg->adv, err);
    if (rc == HP_OK) rc = hp_train_score(actor, ref, critic, &mine, cfg, err);
    if (hp_dist_agree(d, rc, err)) {
        hp_rows_free(&mine);
        return HP_FAIL;
    }
    int K = rows->K > 0 ? rows->K : 1;
    size_t nt = (size_t)mine.tok_off[mine.n], nv = (size_t)mine.val_off[mine.n] * (size_t)K;
    size_t NT = (size_t)rows->tok_off[rows->n], NV = (size_t)rows->val_off[rows->n] * (size_t)K;
    rc = gather_into(d, mine.old_logp, nt * sizeof(float), rows->old_logp, NT * sizeof(float), "old log-probs", err);
    if (rc == HP_OK)
        rc = gather_into(d, mine.ref_logp, nt * sizeof(float), rows->ref_logp, NT * sizeof(float), "reference log-probs",
                         err);
    if (rc == HP_OK && critic && rows->K > 0)
        rc = gather_into(d, mine.v_old, nv * sizeof(float), rows->v_old, NV * sizeof(float), "values", err);
    if (rc == HP_OK && critic && rows->K > 0 && cfg->critic.head_only) {
        /* the reference's hidden states, which a head-only critic trains on */
        if (!ref) return hp_fail(err, "critic.backbone = reference needs the reference policy");
        int D = (int)hp_model_config(ref)->hidden_size;
        size_t nh = (size_t)mine.val_off[mine.n] * (size_t)D, NH = (size_t)rows->val_off[rows->n] * (size_t)D;
        free(rows->hidden);
        rows->hidden_dim = D;
        rows->hidden = hp_xmalloc((NH ? NH : 1) * sizeof *rows->hidden);
        rc = gather_into(d, mine.hidden, (mine.hidden ? nh : 0) * sizeof(float), rows->hidden, NH * sizeof(float),
                         "hidden states", err);
    }
    hp_rows_free(&mine);
    return rc ? hp_err_wrap(err, "scoring the batch") : HP_OK;
}
