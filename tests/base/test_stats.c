/* Wilson interval and exact McNemar test against independent references: the interval's bounds were
 * found by bisection on the score test's boundary (p̂ − p)² = z²·p(1 − p)/n, and the McNemar p values
 * by exact rational binomial sums (Python fractions), not by the closed forms the code uses. */
#include "hiper/stats.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

static void test_wilson(void **state) {
    (void)state;
    const struct { int k, n; double lo, hi; } cases[] = {
        {37, 274, 0.099580451150, 0.180584938050}, {0, 140, 0.0, 0.026707155649},
        {140, 140, 0.973292844351, 1.0},           {1, 2, 0.094528654801, 0.905471345199},
        {13, 134, 0.057574453012, 0.158917520383}, {60, 274, 0.174080353152, 0.271646996532},
        {5, 40, 0.054594197735, 0.261124206702},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        double lo, hi;
        hp_wilson(cases[i].k, cases[i].n, 1.96, &lo, &hi);
        assert_float_equal(lo, cases[i].lo, 1e-9);
        assert_float_equal(hi, cases[i].hi, 1e-9);
    }
    double lo, hi;
    hp_wilson(0, 0, 1.96, &lo, &hi);
    assert_true(lo == 0.0 && hi == 0.0);
}

static void test_mcnemar(void **state) {
    (void)state;
    const struct { int b, c; double p; } cases[] = {
        {0, 0, 1.0}, {1, 0, 1.0}, {30, 7, 0.00019107642583549}, {10, 10, 1.0}, {3, 12, 0.03515625},
        {200, 150, 0.00872003653055595}, {0, 9, 0.00390625},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        double p = hp_mcnemar_exact(cases[i].b, cases[i].c);
        assert_float_equal(p, cases[i].p, 1e-9 * cases[i].p + 1e-15);
        assert_float_equal(hp_mcnemar_exact(cases[i].c, cases[i].b), p, 1e-15); /* symmetric */
    }
}

int main(void) {
    const struct CMUnitTest tests[] = {cmocka_unit_test(test_wilson), cmocka_unit_test(test_mcnemar)};
    return cmocka_run_group_tests(tests, NULL, NULL);
}
