/* dist.c — data parallelism over MPI (see hiper/dist.h). Built without MPI (no HP_HAVE_MPI), every
 * process is rank 0 of 1 and the collectives are copies. */
#include "hiper/dist.h"

#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#ifdef HP_HAVE_MPI
#include <mpi.h>
#endif

bool hp_dist_available(void) {
#ifdef HP_HAVE_MPI
    return true;
#else
    return false;
#endif
}

/* The first of the launchers' variables that is set, as an int in [lo, INT_MAX], else dflt. */
static int launch_var(const char *ompi, const char *pmi, int lo, int dflt) {
    const char *vars[] = {ompi, pmi};
    for (size_t i = 0; i < 2; i++) {
        const char *s = getenv(vars[i]);
        int64_t v;
        if (s && hp_parse_i64(s, &v) && v >= lo && v <= INT_MAX) return (int)v;
    }
    return dflt;
}

int hp_dist_launch_size(void) { return launch_var("OMPI_COMM_WORLD_SIZE", "PMI_SIZE", 1, 1); }

void hp_dist_share(int64_t n, int rank, int size, int64_t *begin, int64_t *end) {
    if (size < 1) size = 1;
    if (n < 0) n = 0;
    int64_t base = n / size, extra = n % size;
    *begin = (int64_t)rank * base + (rank < extra ? rank : extra);
    *end = *begin + base + (rank < extra ? 1 : 0);
}

#ifdef HP_HAVE_MPI
/* Ranks other than 0 keep stderr but write stdout nowhere (the console is rank 0's). */
static void quiet_stdout(void) {
    fflush(stdout);
    int fd = open("/dev/null", O_WRONLY);
    if (fd < 0) return;
    dup2(fd, STDOUT_FILENO);
    close(fd);
}
#endif

int hp_dist_init(hp_dist *d, int *argc, char ***argv, hp_err *err) {
    memset(d, 0, sizeof *d);
    d->size = 1;
    int launched = hp_dist_launch_size();
#ifdef HP_HAVE_MPI
    if (launched <= 1) return HP_OK;
    int provided = 0;
    if (MPI_Init_thread(argc, argv, MPI_THREAD_FUNNELED, &provided) != MPI_SUCCESS)
        return hp_fail(err, "MPI_Init failed (launched as one of %d ranks)", launched);
    d->mpi = true;
    MPI_Comm_rank(MPI_COMM_WORLD, &d->rank);
    MPI_Comm_size(MPI_COMM_WORLD, &d->size);
    if (d->rank != 0) quiet_stdout();
    return HP_OK;
#else
    (void)argc;
    (void)argv;
    /* Every rank fails; only the launcher's rank 0 (d->rank) should print it. */
    d->rank = launch_var("OMPI_COMM_WORLD_RANK", "PMI_RANK", 0, 0);
    if (launched > 1)
        return hp_fail(err, "launched as one of %d ranks (mpirun), but this hiper was built without MPI: rebuild "
                       "with libopenmpi-dev installed (cmake -DHP_WITH_MPI=ON, the default), or run one process",
                       launched);
    return HP_OK;
#endif
}

void hp_dist_finalize(hp_dist *d) {
#ifdef HP_HAVE_MPI
    if (d && d->mpi) {
        fflush(stdout);
        fflush(stderr);
        MPI_Finalize();
        d->mpi = false;
    }
#else
    (void)d;
#endif
}

#ifdef HP_HAVE_MPI
static bool on(const hp_dist *d) { return d && d->mpi && d->size > 1; }
/* MPI counts are ints: large arrays go in slices. */
enum { SLICE = 1 << 28 };
#endif

void hp_dist_sum_f32(const hp_dist *d, float *x, size_t n) {
#ifdef HP_HAVE_MPI
    if (!on(d)) return;
    for (size_t i = 0; i < n; i += SLICE) {
        int k = (int)(n - i < SLICE ? n - i : SLICE);
        MPI_Allreduce(MPI_IN_PLACE, x + i, k, MPI_FLOAT, MPI_SUM, MPI_COMM_WORLD);
    }
#else
    (void)d, (void)x, (void)n;
#endif
}

void hp_dist_sum_f64(const hp_dist *d, double *x, size_t n) {
#ifdef HP_HAVE_MPI
    if (!on(d)) return;
    for (size_t i = 0; i < n; i += SLICE) {
        int k = (int)(n - i < SLICE ? n - i : SLICE);
        MPI_Allreduce(MPI_IN_PLACE, x + i, k, MPI_DOUBLE, MPI_SUM, MPI_COMM_WORLD);
    }
#else
    (void)d, (void)x, (void)n;
#endif
}

double hp_dist_max_f64(const hp_dist *d, double x) {
#ifdef HP_HAVE_MPI
    if (on(d)) MPI_Allreduce(MPI_IN_PLACE, &x, 1, MPI_DOUBLE, MPI_MAX, MPI_COMM_WORLD);
#else
    (void)d;
#endif
    return x;
}

#ifdef HP_HAVE_MPI
/* Counts and displacements of a gather of n bytes from every rank; aborts beyond MPI's int range. */
static int *gather_counts(const hp_dist *d, size_t n, bool all, size_t *counts, int **displs, size_t *total) {
    if (n > INT_MAX) hp_dist_abort(d, "a message over 2 GiB to gather");
    int mine = (int)n, *cnt = hp_xcalloc((size_t)d->size, sizeof *cnt);
    if (all) MPI_Allgather(&mine, 1, MPI_INT, cnt, 1, MPI_INT, MPI_COMM_WORLD);
    else MPI_Gather(&mine, 1, MPI_INT, cnt, 1, MPI_INT, 0, MPI_COMM_WORLD);
    *displs = hp_xcalloc((size_t)d->size, sizeof **displs);
    *total = 0;
    for (int r = 0; r < d->size; r++) {
        if (*total + (size_t)cnt[r] > INT_MAX && (all || d->rank == 0)) hp_dist_abort(d, "gathered messages over 2 GiB");
        (*displs)[r] = (int)*total;
        *total += (size_t)cnt[r];
        if (counts) counts[r] = (size_t)cnt[r];
    }
    return cnt;
}
#endif

static void gather(const hp_dist *d, const void *mine, size_t n, hp_buf *out, size_t *counts, bool all) {
    hp_buf_clear(out);
#ifdef HP_HAVE_MPI
    if (on(d)) {
        int *displs = NULL;
        size_t total = 0;
        int *cnt = gather_counts(d, n, all, counts, &displs, &total);
        bool receives = all || d->rank == 0;
        if (receives) hp_buf_reserve(out, total + 1);
        if (all)
            MPI_Allgatherv(mine, (int)n, MPI_BYTE, out->data, cnt, displs, MPI_BYTE, MPI_COMM_WORLD);
        else
            MPI_Gatherv(mine, (int)n, MPI_BYTE, receives ? out->data : NULL, cnt, displs, MPI_BYTE, 0, MPI_COMM_WORLD);
        if (receives) {
            out->len = total;
            out->data[total] = '\0';
        }
        free(cnt);
        free(displs);
        return;
    }
#endif
    (void)all;
    hp_buf_append(out, mine, n);
    if (counts) counts[0] = n;
}

void hp_dist_allgather(const hp_dist *d, const void *mine, size_t n, hp_buf *out, size_t *counts) {
    gather(d, mine, n, out, counts, true);
}

void hp_dist_gather(const hp_dist *d, const void *mine, size_t n, hp_buf *out, size_t *counts) {
    gather(d, mine, n, out, counts, false);
}

void hp_dist_bcast(const hp_dist *d, hp_buf *buf) {
#ifdef HP_HAVE_MPI
    if (!on(d)) return;
    int64_t n = d->rank == 0 ? (int64_t)buf->len : 0;
    MPI_Bcast(&n, 1, MPI_INT64_T, 0, MPI_COMM_WORLD);
    if (n > INT_MAX) hp_dist_abort(d, "a broadcast over 2 GiB");
    if (d->rank != 0) {
        hp_buf_clear(buf);
        hp_buf_reserve(buf, (size_t)n + 1);
        buf->len = (size_t)n;
        buf->data[n] = '\0';
    }
    if (n > 0) MPI_Bcast(buf->data, (int)n, MPI_BYTE, 0, MPI_COMM_WORLD);
#else
    (void)d, (void)buf;
#endif
}

int64_t hp_dist_bcast_i64(const hp_dist *d, int64_t v) {
#ifdef HP_HAVE_MPI
    if (on(d)) MPI_Bcast(&v, 1, MPI_INT64_T, 0, MPI_COMM_WORLD);
#else
    (void)d;
#endif
    return v;
}

void hp_dist_barrier(const hp_dist *d) {
#ifdef HP_HAVE_MPI
    if (on(d)) MPI_Barrier(MPI_COMM_WORLD);
#else
    (void)d;
#endif
}

int hp_dist_agree(const hp_dist *d, int rc, hp_err *err) {
#ifdef HP_HAVE_MPI
    if (!on(d)) return rc;
    /* The lowest failing rank (size when none), then its message from that rank. */
    int first = rc != HP_OK ? d->rank : d->size;
    MPI_Allreduce(MPI_IN_PLACE, &first, 1, MPI_INT, MPI_MIN, MPI_COMM_WORLD);
    if (first == d->size) return HP_OK;
    hp_err msg = {{0}};
    if (d->rank == first) msg = err ? *err : msg;
    MPI_Bcast(msg.msg, (int)sizeof msg.msg, MPI_CHAR, first, MPI_COMM_WORLD);
    msg.msg[sizeof msg.msg - 1] = '\0';
    if (first == 0) return hp_fail(err, "%s", msg.msg);
    return hp_fail(err, "rank %d: %s", first, msg.msg);
#else
    (void)d, (void)err;
    return rc;
#endif
}

_Noreturn void hp_dist_abort(const hp_dist *d, const char *msg) {
    fflush(stdout);
#ifdef HP_HAVE_MPI
    if (on(d)) {
        fprintf(stderr, "hiper: error: rank %d of %d: %s; stopping every rank\n", d->rank, d->size, msg);
        fflush(stderr);
        MPI_Abort(MPI_COMM_WORLD, 1);
    }
#else
    (void)d;
#endif
    fprintf(stderr, "hiper: error: %s\n", msg);
    fflush(stderr);
    exit(1);
}
