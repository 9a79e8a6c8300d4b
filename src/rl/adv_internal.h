/* adv_internal.h — shared plumbing of the advantage estimators: dense ids for int64 and string keys,
 * the (trajectory, turn) ordering of a batch, and small statistics helpers. Not a public API. */
#ifndef HIPER_RL_ADV_INTERNAL_H
#define HIPER_RL_ADV_INTERNAL_H

#include "hiper/advantage.h"

/* Open-addressing map from int64 keys to dense ids 0, 1, 2, ... in order of first insertion. */
typedef struct hp_idmap {
    int64_t *keys;
    uint32_t *vals; /* dense id + 1; 0 = empty slot */
    size_t mask;    /* capacity − 1 (capacity is a power of two, at least 2× the key count) */
    uint32_t count;
} hp_idmap;

void hp_idmap_init(hp_idmap *m, size_t max_keys);
uint32_t hp_idmap_get(hp_idmap *m, int64_t key); /* inserts when absent */
void hp_idmap_free(hp_idmap *m);

/* The batch in (trajectory, turn) order: rows of trajectory k are order[start[k] .. start[k+1]),
 * sorted by turn, rows with equal turn in input order. Trajectories are numbered by first
 * appearance; traj_of[i] is row i's trajectory. */
typedef struct hp_adv_index {
    size_t n, n_traj;
    size_t *order;
    size_t *start;
    uint32_t *traj_of;
} hp_adv_index;

int hp_adv_index_build(hp_adv_index *ix, const hp_adv_turn *turns, size_t n, hp_err *err);
void hp_adv_index_free(hp_adv_index *ix);

/* Dense ids of the group field (task groups), numbered by first appearance. Returns the count. */
uint32_t hp_adv_group_ids(const hp_adv_turn *turns, size_t n, uint32_t *group_of);

/* Fail with "row I: FIELD is not a finite number" when x is NaN or infinite. */
int hp_adv_check_finite(double x, size_t row, const char *field, hp_err *err);

/* Statistics of the values x[idx[0..m)] (double, two passes). std is the unbiased (n−1) one when
 * unbiased, else the population one; std = 0 for m < 2 with unbiased. */
void hp_adv_mean_std(const double *x, const size_t *idx, size_t m, bool unbiased, double *mean,
                     double *std);

#endif /* HIPER_RL_ADV_INTERNAL_H */
