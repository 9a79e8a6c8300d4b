/* adv_group.c — the critic-free group estimators of verl-agent (baselines.md §2.1–§2.3): GRPO,
 * RLOO and GiGPO (episode-level advantage over task-group rows plus the step-level advantage over
 * anchor-state groups). Row returns and step returns are stored as float32, statistics in double. */
#include "adv_internal.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

void hp_group_config_default(hp_group_config *c) {
    c->gamma = 0.95;
    c->step_advantage_w = 1.0;
    c->mode = HP_GIGPO_MEAN_NORM;
    c->epsilon = 1e-6;
    c->use_invalid_action_penalty = true;
    c->invalid_action_penalty_coef = 0.1;
    c->normalize_by_length = false;
    c->enable_similarity = false;
    c->similarity_thresh = 0.95;
    c->norm_adv_by_std_in_grpo = true;
}

static int check_config(const hp_group_config *c, hp_err *err) {
    if (!isfinite(c->gamma) || c->gamma < 0 || c->gamma > 1)
        return hp_fail(err, "config: gamma must be in [0, 1], got %g", c->gamma);
    if (!isfinite(c->step_advantage_w)) return hp_fail(err, "config: step_advantage_w is not finite");
    if (!isfinite(c->epsilon) || c->epsilon < 0) return hp_fail(err, "config: epsilon must be >= 0");
    if (!isfinite(c->invalid_action_penalty_coef))
        return hp_fail(err, "config: invalid_action_penalty_coef is not finite");
    if (!isfinite(c->similarity_thresh)) return hp_fail(err, "config: similarity_thresh is not finite");
    if (c->mode != HP_GIGPO_MEAN_NORM && c->mode != HP_GIGPO_MEAN_STD_NORM)
        return hp_fail(err, "config: mode must be mean_norm or mean_std_norm");
    return HP_OK;
}

/* Per-row quantities shared by the three estimators. */
typedef struct row_returns {
    hp_adv_index ix;
    uint32_t *group_of;
    uint32_t n_groups;
    size_t *orig;    /* first occurrence of the row's (traj, turn) (itself when not a copy) */
    double *R;       /* row return R(τ) − c·invalid, float32-rounded */
    double *G;       /* GiGPO step return after the penalty, float32-rounded */
    size_t *gstart;  /* rows of task group g: grows[gstart[g] .. gstart[g+1]) */
    size_t *grows;
} row_returns;

static void row_returns_free(row_returns *rr) {
    hp_adv_index_free(&rr->ix);
    free(rr->group_of);
    free(rr->orig);
    free(rr->R);
    free(rr->G);
    free(rr->gstart);
    free(rr->grows);
}

static int row_returns_build(row_returns *rr, const hp_adv_turn *turns, size_t n, const hp_group_config *c,
                        hp_err *err) {
    memset(rr, 0, sizeof *rr);
    if (check_config(c, err)) return HP_FAIL;
    for (size_t i = 0; i < n; i++)
        if (hp_adv_check_finite(turns[i].reward, i, "reward", err)) return HP_FAIL;
    if (hp_adv_index_build(&rr->ix, turns, n, err)) return HP_FAIL;
    size_t nn = n ? n : 1;
    rr->group_of = hp_xmalloc(nn * sizeof *rr->group_of);
    rr->orig = hp_xmalloc(nn * sizeof *rr->orig);
    rr->R = hp_xmalloc(nn * sizeof *rr->R);
    rr->G = hp_xmalloc(nn * sizeof *rr->G);
    rr->n_groups = hp_adv_group_ids(turns, n, rr->group_of);
    const float pen = c->use_invalid_action_penalty ? (float)c->invalid_action_penalty_coef : 0.0f;

    for (size_t k = 0; k < rr->ix.n_traj; k++) {
        const size_t *rows = rr->ix.order + rr->ix.start[k];
        size_t T = rr->ix.start[k + 1] - rr->ix.start[k];
        /* De-duplicate: a row with the same turn as its predecessor is a batch-padding copy. */
        size_t len = 0;
        double R = 0.0;
        for (size_t p = 0; p < T; p++) {
            size_t i = rows[p];
            if (p > 0 && turns[i].turn == turns[rows[p - 1]].turn) {
                rr->orig[i] = rr->orig[rows[p - 1]];
                continue;
            }
            rr->orig[i] = i;
            R += turns[i].reward;
            len++;
        }
        float Rf = (float)R;
        if (c->normalize_by_length) Rf = (float)((double)Rf / (double)len);
        /* Step returns backwards over the de-duplicated rows, then the penalty. */
        double Gnext = 0.0;
        for (size_t p = T; p-- > 0;) {
            size_t i = rows[p];
            if (rr->orig[i] != i) continue;
            float g = (float)(turns[i].reward + c->gamma * Gnext);
            Gnext = g;
            rr->G[i] = g;
        }
        for (size_t p = 0; p < T; p++) {
            size_t i = rows[p];
            size_t o = rr->orig[i];
            float inv = turns[i].valid ? 0.0f : pen;
            rr->R[i] = (double)(Rf - inv);
            if (o == i) rr->G[i] = (double)((float)rr->G[i] - inv);
        }
        for (size_t p = 0; p < T; p++) {
            size_t i = rows[p];
            if (rr->orig[i] != i) rr->G[i] = rr->G[rr->orig[i]];
        }
    }
    /* Rows of each task group, in input order. */
    rr->gstart = hp_xcalloc(rr->n_groups + 1, sizeof *rr->gstart);
    rr->grows = hp_xmalloc(nn * sizeof *rr->grows);
    for (size_t i = 0; i < n; i++) rr->gstart[rr->group_of[i] + 1]++;
    for (uint32_t g = 0; g < rr->n_groups; g++) rr->gstart[g + 1] += rr->gstart[g];
    size_t *fill = hp_xmalloc((rr->n_groups + 1) * sizeof *fill);
    memcpy(fill, rr->gstart, (rr->n_groups + 1) * sizeof *fill);
    for (size_t i = 0; i < n; i++) rr->grows[fill[rr->group_of[i]]++] = i;
    free(fill);
    return HP_OK;
}

int hp_adv_grpo(const hp_adv_turn *turns, size_t n, const hp_group_config *cfg, double *adv,
                hp_err *err) {
    row_returns rr;
    if (row_returns_build(&rr, turns, n, cfg, err)) {
        row_returns_free(&rr);
        return HP_FAIL;
    }
    for (uint32_t g = 0; g < rr.n_groups; g++) {
        const size_t *rows = rr.grows + rr.gstart[g];
        size_t m = rr.gstart[g + 1] - rr.gstart[g];
        double mu = 0.0, sd = 1.0;
        if (m > 1) hp_adv_mean_std(rr.R, rows, m, true, &mu, &sd);
        for (size_t j = 0; j < m; j++) {
            size_t i = rows[j];
            adv[i] = cfg->norm_adv_by_std_in_grpo ? (rr.R[i] - mu) / (sd + cfg->epsilon) : rr.R[i] - mu;
        }
    }
    row_returns_free(&rr);
    return HP_OK;
}

int hp_adv_rloo(const hp_adv_turn *turns, size_t n, const hp_group_config *cfg, double *adv,
                hp_err *err) {
    row_returns rr;
    if (row_returns_build(&rr, turns, n, cfg, err)) {
        row_returns_free(&rr);
        return HP_FAIL;
    }
    for (uint32_t g = 0; g < rr.n_groups; g++) {
        const size_t *rows = rr.grows + rr.gstart[g];
        size_t m = rr.gstart[g + 1] - rr.gstart[g];
        double mu = 0.0, sd = 0.0;
        if (m > 1) hp_adv_mean_std(rr.R, rows, m, true, &mu, &sd);
        for (size_t j = 0; j < m; j++) {
            size_t i = rows[j];
            adv[i] = m > 1 ? (double)m / (double)(m - 1) * (rr.R[i] - mu) : rr.R[i];
        }
    }
    row_returns_free(&rr);
    return HP_OK;
}

/* ---- GiGPO step groups ----------------------------------------------------------------------- */

/* Exact anchors: a hash map on (task group, observation bytes). step_of[i] = dense step-group id. */
static uint32_t step_groups_exact(const hp_adv_turn *turns, size_t n, const uint32_t *group_of,
                                  uint32_t *step_of) {
    size_t cap = 16;
    while (cap < 2 * n) cap <<= 1;
    size_t *slot_row = hp_xmalloc(cap * sizeof *slot_row); /* representative row + 1; 0 = empty */
    uint64_t *slot_hash = hp_xmalloc(cap * sizeof *slot_hash);
    memset(slot_row, 0, cap * sizeof *slot_row);
    uint32_t count = 0;
    for (size_t i = 0; i < n; i++) {
        const char *o = turns[i].obs ? turns[i].obs : "";
        size_t len = strlen(o);
        uint64_t h = hp_hash64(o, len, (uint64_t)group_of[i] * 0x9e3779b97f4a7c15ULL + 1);
        size_t s = (size_t)h & (cap - 1);
        for (;;) {
            if (!slot_row[s]) {
                slot_row[s] = i + 1;
                slot_hash[s] = h;
                step_of[i] = count++;
                break;
            }
            size_t r = slot_row[s] - 1;
            const char *ro = turns[r].obs ? turns[r].obs : "";
            if (slot_hash[s] == h && group_of[r] == group_of[i] && !strcmp(ro, o)) {
                step_of[i] = step_of[r];
                break;
            }
            s = (s + 1) & (cap - 1);
        }
    }
    free(slot_row);
    free(slot_hash);
    return count;
}

/* Similarity anchors: inside each task group, rows in input order join the first cluster whose
 * first row's difflib ratio is >= thresh, else start a cluster. */
static uint32_t step_groups_similar(const hp_adv_turn *turns, const row_returns *rr, double thresh,
                                    uint32_t *step_of) {
    uint32_t count = 0;
    size_t *reps = hp_xmalloc((rr->ix.n ? rr->ix.n : 1) * sizeof *reps);
    for (uint32_t g = 0; g < rr->n_groups; g++) {
        size_t nrep = 0;
        uint32_t first_id = count;
        for (size_t j = rr->gstart[g]; j < rr->gstart[g + 1]; j++) {
            size_t i = rr->grows[j];
            const char *o = turns[i].obs ? turns[i].obs : "";
            size_t k = 0;
            for (; k < nrep; k++) {
                const char *ro = turns[reps[k]].obs ? turns[reps[k]].obs : "";
                if (hp_adv_similarity_ratio(ro, strlen(ro), o, strlen(o)) >= thresh) break;
            }
            if (k == nrep) {
                reps[nrep++] = i;
                count++;
            }
            step_of[i] = first_id + (uint32_t)k;
        }
    }
    free(reps);
    return count;
}

int hp_adv_gigpo(const hp_adv_turn *turns, size_t n, const hp_group_config *cfg, hp_gigpo_out *out,
                 hp_err *err) {
    row_returns rr;
    if (row_returns_build(&rr, turns, n, cfg, err)) {
        row_returns_free(&rr);
        return HP_FAIL;
    }
    const bool by_std = cfg->mode == HP_GIGPO_MEAN_STD_NORM;
    /* Episode level over the task-group rows. */
    for (uint32_t g = 0; g < rr.n_groups; g++) {
        const size_t *rows = rr.grows + rr.gstart[g];
        size_t m = rr.gstart[g + 1] - rr.gstart[g];
        double mu = 0.0, sd = 1.0;
        if (m > 1) hp_adv_mean_std(rr.R, rows, m, true, &mu, &sd);
        for (size_t j = 0; j < m; j++) {
            size_t i = rows[j];
            out[i].adv_episode = by_std ? (rr.R[i] - mu) / (sd + cfg->epsilon) : rr.R[i] - mu;
            out[i].step_return = rr.G[i];
        }
    }
    /* Step level over the anchor-state groups. */
    size_t nn = n ? n : 1;
    uint32_t *step_of = hp_xmalloc(nn * sizeof *step_of);
    uint32_t n_steps = cfg->enable_similarity ? step_groups_similar(turns, &rr, cfg->similarity_thresh, step_of)
                                              : step_groups_exact(turns, n, rr.group_of, step_of);
    size_t *sstart = hp_xcalloc((size_t)n_steps + 1, sizeof *sstart);
    size_t *srows = hp_xmalloc(nn * sizeof *srows);
    for (size_t i = 0; i < n; i++) sstart[step_of[i] + 1]++;
    for (uint32_t h = 0; h < n_steps; h++) sstart[h + 1] += sstart[h];
    size_t *fill = hp_xmalloc(((size_t)n_steps + 1) * sizeof *fill);
    memcpy(fill, sstart, ((size_t)n_steps + 1) * sizeof *fill);
    for (size_t i = 0; i < n; i++) srows[fill[step_of[i]]++] = i;
    for (uint32_t h = 0; h < n_steps; h++) {
        const size_t *rows = srows + sstart[h];
        size_t m = sstart[h + 1] - sstart[h];
        double mu = 0.0, sd = 1.0;
        if (m > 1) hp_adv_mean_std(rr.G, rows, m, true, &mu, &sd);
        for (size_t j = 0; j < m; j++) {
            size_t i = rows[j];
            double a = 0.0;
            if (m > 1) a = by_std ? (rr.G[i] - mu) / (sd + cfg->epsilon) : rr.G[i] - mu;
            out[i].adv_step = a;
            out[i].step_group_size = (int32_t)m;
            out[i].adv = out[i].adv_episode + cfg->step_advantage_w * a;
        }
    }
    free(fill);
    free(sstart);
    free(srows);
    free(step_of);
    row_returns_free(&rr);
    return HP_OK;
}
