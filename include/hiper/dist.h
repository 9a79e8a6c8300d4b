/* hiper/dist.h — data parallelism over MPI: the few collective operations the trainer, SFT and the
 * evaluation need, behind one context struct.
 *
 * Contract:
 * - One hp_dist per process, made by hp_dist_init at the start of main and ended by hp_dist_finalize.
 *   Every function takes it as a const pointer; NULL means "one process" (rank 0 of 1), so library
 *   callers that are not data-parallel pass NULL. Nothing here keeps global state of its own (MPI
 *   keeps its own).
 * - Launch: `mpirun -np N hiper ...`. hp_dist_init starts MPI only when the launcher says there is
 *   more than one rank (OMPI_COMM_WORLD_SIZE or PMI_SIZE > 1); otherwise the process is rank 0 of 1
 *   and MPI is never touched. A hiper built without MPI (HP_WITH_MPI=OFF, or no libopenmpi-dev) is
 *   always rank 0 of 1, and hp_dist_init fails with a message saying so when launched as one of
 *   several ranks, so that N copies never train side by side unknowingly.
 * - Collectives (allreduce, allgather, gather, broadcast, barrier, agree) must be called by every
 *   rank in the same order. A rank that has failed between two collectives reaches the next
 *   hp_dist_agree with its error: every rank then fails with the lowest failing rank's message (so
 *   that rank 0 prints one clear error and every rank exits non-zero). Where a rank cannot get to an
 *   agreement point (an error inside a loop of collectives), hp_dist_abort stops the whole job: it
 *   prints one line naming the rank and the reason, then MPI_Abort. A rank that dies (a signal, an
 *   out-of-memory kill) makes mpirun end the others.
 * - Sums: hp_dist_sum_f32/f64 add element-wise over the ranks (MPI_Allreduce, MPI_SUM) and leave the
 *   same bits on every rank (IEEE addition is commutative, and Open MPI's algorithms combine the same
 *   pairs on every rank); the order of the additions depends on the rank count and the message size
 *   only, so a run is deterministic for a given rank count.
 * - Byte buffers: allgather/gather concatenate each rank's buffer in rank order and report each
 *   rank's share (counts[r], offsets are the running sums); broadcast copies rank 0's buffer.
 * - Output: by convention only rank 0 writes files and the console (hp_dist_root); hp_dist_init
 *   points the other ranks' stdout to /dev/null (their stderr stays, for warnings and crashes).
 * - Work split: hp_dist_share gives rank r the contiguous items [begin, end) of n: the first n % size
 *   ranks get one more than the others, so rank 0 always has work when n >= 1 and ranks beyond n get
 *   none (n need not be a multiple of the rank count).
 */
#ifndef HIPER_DIST_H
#define HIPER_DIST_H

#include "hiper/base.h"

typedef struct hp_dist {
    int rank, size;
    bool mpi; /* MPI was started by hp_dist_init (hp_dist_finalize ends it) */
} hp_dist;

/* Start: detect the launcher, MPI_Init_thread (FUNNELED: OpenMP threads never call MPI) when it
 * says size > 1. Fails (message, no MPI started) when several ranks are launched but this hiper has no
 * MPI (d->rank is then the launcher's rank, so that only rank 0 prints the message), or when MPI_Init
 * fails. */
int hp_dist_init(hp_dist *d, int *argc, char ***argv, hp_err *err);
/* MPI_Finalize when it was started; safe on a zeroed or single-process context. */
void hp_dist_finalize(hp_dist *d);
/* Whether this hiper was built with MPI. */
bool hp_dist_available(void);
/* The launcher's rank count from the environment (OMPI_COMM_WORLD_SIZE, PMI_SIZE), 1 when none. */
int hp_dist_launch_size(void);

static inline int hp_dist_rank(const hp_dist *d) { return d ? d->rank : 0; }
static inline int hp_dist_size(const hp_dist *d) { return d ? d->size : 1; }
static inline bool hp_dist_root(const hp_dist *d) { return hp_dist_rank(d) == 0; }
static inline bool hp_dist_parallel(const hp_dist *d) { return hp_dist_size(d) > 1; }

/* Items [*begin, *end) of n for rank `rank` of `size` (see the contract). */
void hp_dist_share(int64_t n, int rank, int size, int64_t *begin, int64_t *end);

/* In-place element-wise sums over all ranks. */
void hp_dist_sum_f32(const hp_dist *d, float *x, size_t n);
void hp_dist_sum_f64(const hp_dist *d, double *x, size_t n);
/* The largest of x over all ranks. */
double hp_dist_max_f64(const hp_dist *d, double x);
/* Every rank gets the concatenation of all ranks' buffers (out, reset first; out->len = total) and
 * counts[size] (may be NULL) the byte count of each. */
void hp_dist_allgather(const hp_dist *d, const void *mine, size_t n, hp_buf *out, size_t *counts);
/* Rank 0 gets the concatenation (out, counts as above); the other ranks get nothing (out->len = 0). */
void hp_dist_gather(const hp_dist *d, const void *mine, size_t n, hp_buf *out, size_t *counts);
/* Rank 0's buf (its len bytes) replaces every other rank's buf. */
void hp_dist_bcast(const hp_dist *d, hp_buf *buf);
/* Rank 0's value on every rank. */
int64_t hp_dist_bcast_i64(const hp_dist *d, int64_t v);
void hp_dist_barrier(const hp_dist *d);

/* Agreement point: rc is this rank's result (HP_OK or HP_FAIL with its message in err). Returns HP_OK
 * when every rank passed HP_OK; otherwise HP_FAIL on every rank, err holding the lowest failing rank's
 * message ("rank R: " prepended when R != 0). One process: returns rc. */
int hp_dist_agree(const hp_dist *d, int rc, hp_err *err);

/* Print "hiper: error: rank R of N: <msg>; stopping every rank" on stderr and end the whole job
 * (MPI_Abort, exit status 1). One process: print "hiper: error: <msg>" and exit(1). */
_Noreturn void hp_dist_abort(const hp_dist *d, const char *msg);

#endif /* HIPER_DIST_H */
