/* Seeded random streams: xoshiro256** initialised by splitmix64 (see hiper/base.h). */
#include "hiper/base.h"

#include <math.h>
#include <string.h>

static uint64_t splitmix64(uint64_t *x) {
    uint64_t z = (*x += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

static uint64_t rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }

void hp_rng_seed(hp_rng *r, uint64_t seed, uint64_t stream) {
    uint64_t x = seed ^ (stream * 0xD1B54A32D192ED03ull);
    for (int i = 0; i < 4; i++) r->s[i] = splitmix64(&x);
    if (!(r->s[0] | r->s[1] | r->s[2] | r->s[3])) r->s[0] = 1;
}

uint64_t hp_rng_u64(hp_rng *r) {
    uint64_t *s = r->s;
    uint64_t result = rotl(s[1] * 5, 7) * 9;
    uint64_t t = s[1] << 17;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = rotl(s[3], 45);
    return result;
}

double hp_rng_uniform(hp_rng *r) { return (double)(hp_rng_u64(r) >> 11) * 0x1.0p-53; }

uint64_t hp_rng_below(hp_rng *r, uint64_t n) {
    if (n <= 1) return 0;
    uint64_t limit = UINT64_MAX - UINT64_MAX % n;
    uint64_t x;
    do x = hp_rng_u64(r);
    while (x >= limit);
    return x % n;
}

double hp_rng_normal(hp_rng *r) {
    double u1 = hp_rng_uniform(r);
    double u2 = hp_rng_uniform(r);
    if (u1 < 1e-300) u1 = 1e-300;
    return sqrt(-2.0 * log(u1)) * cos(6.283185307179586 * u2);
}

void hp_rng_shuffle(hp_rng *r, void *base, size_t n, size_t size) {
    unsigned char *a = base;
    unsigned char tmp[256];
    if (size > sizeof tmp) return; /* elements larger than 256 bytes: shuffle pointers instead */
    for (size_t i = n; i > 1; i--) {
        size_t j = (size_t)hp_rng_below(r, i);
        if (j == i - 1) continue;
        memcpy(tmp, a + (i - 1) * size, size);
        memcpy(a + (i - 1) * size, a + j * size, size);
        memcpy(a + j * size, tmp, size);
    }
}

uint64_t hp_hash64(const void *data, size_t n, uint64_t seed) {
    const unsigned char *p = data;
    uint64_t h = 0xcbf29ce484222325ull ^ seed;
    for (size_t i = 0; i < n; i++) {
        h ^= p[i];
        h *= 0x100000001b3ull;
    }
    return splitmix64(&h);
}
