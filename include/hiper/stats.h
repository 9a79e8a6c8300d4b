/* hiper/stats.h — the statistics an evaluation needs to tell a change from luck.
 *
 * Contract:
 * - hp_wilson: the Wilson score interval of a binomial proportion k/n at normal quantile z (1.96 for
 *   95%); [0, 0] when n == 0. Bounds lie in [0, 1] and contain k/n.
 * - hp_mcnemar_exact: the two-sided exact McNemar test for paired binary outcomes: b pairs changed
 *   0 → 1 and c changed 1 → 0; p = min(1, 2 · P[X ≤ min(b, c)]) with X ~ Binomial(b + c, 1/2); 1 when
 *   b + c == 0. Computed in log space, exact for any b + c a run can produce.
 */
#ifndef HIPER_STATS_H
#define HIPER_STATS_H

void hp_wilson(int k, int n, double z, double *lo, double *hi);
double hp_mcnemar_exact(int b, int c);

#endif /* HIPER_STATS_H */
