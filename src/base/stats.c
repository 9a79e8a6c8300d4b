/* Wilson interval and exact McNemar test (see hiper/stats.h). */
#include "hiper/stats.h"

#include <math.h>

void hp_wilson(int k, int n, double z, double *lo, double *hi) {
    if (n <= 0) {
        *lo = *hi = 0.0;
        return;
    }
    double p = (double)k / n, z2 = z * z, den = 1.0 + z2 / n;
    double centre = (p + z2 / (2.0 * n)) / den;
    double half = z * sqrt(p * (1.0 - p) / n + z2 / (4.0 * n * (double)n)) / den;
    *lo = centre - half < 0.0 ? 0.0 : centre - half;
    *hi = centre + half > 1.0 ? 1.0 : centre + half;
    if (k == 0) *lo = 0.0; /* exact at the edges, where rounding could leave 1e-17 */
    if (k == n) *hi = 1.0;
}

double hp_mcnemar_exact(int b, int c) {
    int n = b + c, m = b < c ? b : c;
    if (n <= 0) return 1.0;
    /* P[X <= m] = Σ_{i<=m} C(n, i) 2^-n, summed from the largest term down in log space. */
    double log_half_n = -n * log(2.0), sum = 0.0;
    for (int i = 0; i <= m; i++)
        sum += exp(lgamma(n + 1.0) - lgamma(i + 1.0) - lgamma(n - i + 1.0) + log_half_n);
    double p = 2.0 * sum;
    return p > 1.0 ? 1.0 : p;
}
