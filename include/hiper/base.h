/* hiper/base.h — the ground every module stands on.
 *
 * Contract:
 * - Errors: a function that can fail returns HP_OK (0) or HP_FAIL (-1) and, on failure, leaves one
 *   human-readable message in the caller's hp_err (file, line, tensor, step: whatever locates the
 *   problem). Callers add context with hp_err_wrap. The library never calls exit() and never asserts
 *   on input; only allocation failure aborts (hp_xmalloc), since nothing sensible can follow it.
 * - Randomness: hp_rng streams are seeded from (seed, stream) so that every environment and every
 *   generated sequence draws from its own stream; results never depend on the thread count.
 * - Files: hp_atomic_* writes to "<path>.tmp.<pid>" and renames over the target on commit, so a
 *   reader never sees a partial file, even after kill -9.
 * - No global mutable state anywhere in the library.
 */
#ifndef HIPER_BASE_H
#define HIPER_BASE_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#define HP_OK 0
#define HP_FAIL (-1)

#if defined(__GNUC__) || defined(__clang__)
#define HP_PRINTF(a, b) __attribute__((format(printf, a, b)))
#else
#define HP_PRINTF(a, b)
#endif

/* ---- errors ---------------------------------------------------------------------------------- */

typedef struct hp_err {
    char msg[2048];
} hp_err;

/* Set the message (printf-style) and return HP_FAIL. err may be NULL. */
int hp_fail(hp_err *err, const char *fmt, ...) HP_PRINTF(2, 3);
/* Prepend context: "context: <previous message>"; returns HP_FAIL. */
int hp_err_wrap(hp_err *err, const char *fmt, ...) HP_PRINTF(2, 3);
/* Clear the message. */
void hp_err_clear(hp_err *err);

/* ---- memory ---------------------------------------------------------------------------------- */

/* Allocate or abort with a message on stderr (out of memory is not recoverable). */
void *hp_xmalloc(size_t n);
void *hp_xcalloc(size_t count, size_t size);
void *hp_xrealloc(void *p, size_t n);
char *hp_xstrdup(const char *s);
char *hp_xstrndup(const char *s, size_t n); /* at most n bytes, stops at a NUL as strndup */

/* A growable byte buffer, always NUL-terminated. Zero-initialise to start empty. */
typedef struct hp_buf {
    char *data;
    size_t len;
    size_t cap;
} hp_buf;

void hp_buf_reserve(hp_buf *b, size_t extra);
void hp_buf_append(hp_buf *b, const void *data, size_t n);
void hp_buf_puts(hp_buf *b, const char *s);
void hp_buf_putc(hp_buf *b, char c);
void hp_buf_printf(hp_buf *b, const char *fmt, ...) HP_PRINTF(2, 3);
/* Append s as a quoted JSON string (\" \\ \n \r \t escaped, other control bytes as \u00XX). */
void hp_buf_json_string(hp_buf *b, const char *s);
void hp_buf_clear(hp_buf *b); /* len = 0, keeps capacity */
void hp_buf_free(hp_buf *b);
/* Hand the string to the caller (who frees it) and reset the buffer. Never NULL. */
char *hp_buf_take(hp_buf *b);

/* ---- random numbers -------------------------------------------------------------------------- */

/* xoshiro256** seeded through splitmix64 from (seed, stream). */
typedef struct hp_rng {
    uint64_t s[4];
} hp_rng;

void hp_rng_seed(hp_rng *r, uint64_t seed, uint64_t stream);
uint64_t hp_rng_u64(hp_rng *r);
/* Uniform in [0, 1) with 53 bits. */
double hp_rng_uniform(hp_rng *r);
/* Uniform integer in [0, n), unbiased; n > 0. */
uint64_t hp_rng_below(hp_rng *r, uint64_t n);
/* Standard normal (Box–Muller, no cached second value so the stream stays stateless). */
double hp_rng_normal(hp_rng *r);
/* Fisher–Yates shuffle of n elements of the given size. */
void hp_rng_shuffle(hp_rng *r, void *base, size_t n, size_t size);
/* A 64-bit hash (FNV-1a, then a finaliser) for deriving seeds from strings. */
uint64_t hp_hash64(const void *data, size_t n, uint64_t seed);

/* ---- files ----------------------------------------------------------------------------------- */

/* Read a whole file into a NUL-terminated buffer (caller frees). */
int hp_read_file(const char *path, char **data, size_t *len, hp_err *err);
/* Write a whole file atomically (temporary file + fsync + rename). */
int hp_write_file_atomic(const char *path, const void *data, size_t len, hp_err *err);
/* Write a text (a JSON document, say) and a final newline, atomically. */
int hp_write_text_atomic(const char *path, const char *text, hp_err *err);

/* An atomically committed output stream: write through fp, then commit (rename) or abort. */
typedef struct hp_afile {
    FILE *fp;
    char *path;
    char *tmp;
} hp_afile;

int hp_afile_open(hp_afile *af, const char *path, hp_err *err);
int hp_afile_commit(hp_afile *af, hp_err *err);
void hp_afile_abort(hp_afile *af);

/* mkdir -p. */
int hp_mkdirs(const char *path, hp_err *err);
bool hp_path_exists(const char *path);
bool hp_is_dir(const char *path);
/* dir + "/" + name, newly allocated. */
char *hp_path_join(const char *dir, const char *name);
/* Replace directory dst by the fully written directory src (rename, keeping the old one until the
 * new one is in place). */
int hp_dir_replace(const char *src, const char *dst, hp_err *err);
/* rm -rf (used for temporary directories only). */
int hp_remove_tree(const char *path, hp_err *err);

/* ---- time ------------------------------------------------------------------------------------ */

/* Monotonic seconds. */
double hp_now(void);

/* ---- strings --------------------------------------------------------------------------------- */

bool hp_str_starts(const char *s, const char *prefix);
bool hp_str_ends(const char *s, const char *suffix);
/* Parse a whole string as a number; false if anything but the number is present. */
bool hp_parse_i64(const char *s, int64_t *out);
bool hp_parse_f64(const char *s, double *out);

#endif /* HIPER_BASE_H */
