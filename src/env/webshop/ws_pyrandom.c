/* CPython's `random` (MT19937) as far as WebShop uses it: seed(int), random(), uniform(), getrandbits(),
 * _randbelow(), shuffle() and sample() for small populations, so that on the real data files the price
 * draws, price bounds and goal order are those of WebShop / verl-agent. */
#include "env/webshop/ws.h"

#include <string.h>

static void ws_mt_init(ws_pyrandom *r, uint32_t s) {
    r->mt[0] = s;
    for (int i = 1; i < 624; i++) r->mt[i] = 1812433253u * (r->mt[i - 1] ^ (r->mt[i - 1] >> 30)) + (uint32_t)i;
    r->mti = 624;
}

/* init_by_array of the reference MT19937 code, which CPython uses for integer seeds. */
static void ws_mt_init_array(ws_pyrandom *r, const uint32_t *key, int len) {
    ws_mt_init(r, 19650218u);
    int i = 1, j = 0;
    for (int k = 624 > len ? 624 : len; k; k--) {
        r->mt[i] = (r->mt[i] ^ ((r->mt[i - 1] ^ (r->mt[i - 1] >> 30)) * 1664525u)) + key[j] + (uint32_t)j;
        i++, j++;
        if (i >= 624) r->mt[0] = r->mt[623], i = 1;
        if (j >= len) j = 0;
    }
    for (int k = 623; k; k--) {
        r->mt[i] = (r->mt[i] ^ ((r->mt[i - 1] ^ (r->mt[i - 1] >> 30)) * 1566083941u)) - (uint32_t)i;
        i++;
        if (i >= 624) r->mt[0] = r->mt[623], i = 1;
    }
    r->mt[0] = 0x80000000u;
}

void ws_py_seed(ws_pyrandom *r, uint64_t seed) {
    uint32_t key[2] = {(uint32_t)seed, (uint32_t)(seed >> 32)};
    ws_mt_init_array(r, key, key[1] ? 2 : 1);
}

uint32_t ws_py_u32(ws_pyrandom *r) {
    if (r->mti >= 624) {
        for (int k = 0; k < 624; k++) {
            uint32_t y = (r->mt[k] & 0x80000000u) | (r->mt[(k + 1) % 624] & 0x7fffffffu);
            r->mt[k] = r->mt[(k + 397) % 624] ^ (y >> 1) ^ ((y & 1u) ? 0x9908b0dfu : 0u);
        }
        r->mti = 0;
    }
    uint32_t y = r->mt[r->mti++];
    y ^= y >> 11;
    y ^= (y << 7) & 0x9d2c5680u;
    y ^= (y << 15) & 0xefc60000u;
    y ^= y >> 18;
    return y;
}

double ws_py_random(ws_pyrandom *r) {
    uint32_t a = ws_py_u32(r) >> 5, b = ws_py_u32(r) >> 6;
    return ((double)a * 67108864.0 + (double)b) * (1.0 / 9007199254740992.0);
}

uint32_t ws_py_getrandbits(ws_pyrandom *r, int k) { return ws_py_u32(r) >> (32 - k); }

uint32_t ws_py_randbelow(ws_pyrandom *r, uint32_t n) {
    int k = 0;
    while (k < 32 && (n >> k)) k++; /* n.bit_length() */
    if (!k) return 0;
    uint32_t x = ws_py_getrandbits(r, k);
    while (x >= n) x = ws_py_getrandbits(r, k);
    return x;
}

void ws_py_shuffle(ws_pyrandom *r, void *base, size_t n, size_t size) {
    unsigned char *b = base, tmp[256];
    if (size > sizeof tmp) return;
    for (size_t i = n; i-- > 1;) {
        size_t j = ws_py_randbelow(r, (uint32_t)(i + 1));
        memcpy(tmp, b + i * size, size);
        memcpy(b + i * size, b + j * size, size);
        memcpy(b + j * size, tmp, size);
    }
}

void ws_py_sample_small(ws_pyrandom *r, const double *pop, int n, int k, double *out) {
    double pool[32];
    for (int i = 0; i < n && i < 32; i++) pool[i] = pop[i];
    for (int i = 0; i < k && i < n; i++) {
        uint32_t j = ws_py_randbelow(r, (uint32_t)(n - i));
        out[i] = pool[j];
        pool[j] = pool[n - i - 1];
    }
}
