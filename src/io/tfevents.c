/* tfevents.c — TensorBoard event files: TFRecord framing and the few protobuf fields of an Event that
 * a scalar needs, encoded by hand (see hiper/tfevents.h). */
#include "hiper/tfevents.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

struct hp_tfevents {
    FILE *fp;
    char *path;
};

/* ---- CRC32C (bitwise over a 256-entry table computed per call chunk: no global state) ------------ */

static uint32_t crc32c_byte(uint32_t c) {
    for (int k = 0; k < 8; k++) c = c & 1 ? (c >> 1) ^ 0x82F63B78u : c >> 1;
    return c;
}

uint32_t hp_crc32c(const void *data, size_t n) {
    uint32_t table[256];
    for (uint32_t i = 0; i < 256; i++) table[i] = crc32c_byte(i);
    const unsigned char *p = data;
    uint32_t c = 0xFFFFFFFFu;
    for (size_t i = 0; i < n; i++) c = table[(c ^ p[i]) & 0xFF] ^ (c >> 8);
    return c ^ 0xFFFFFFFFu;
}

uint32_t hp_crc32c_masked(const void *data, size_t n) {
    uint32_t c = hp_crc32c(data, n);
    return ((c >> 15) | (c << 17)) + 0xA282EAD8u;
}

/* ---- protobuf encoding --------------------------------------------------------------------------- */

static void put_varint(hp_buf *b, uint64_t v) {
    while (v >= 0x80) {
        hp_buf_putc(b, (char)(unsigned char)((v & 0x7F) | 0x80));
        v >>= 7;
    }
    hp_buf_putc(b, (char)(unsigned char)v);
}

static void put_le(hp_buf *b, uint64_t v, int bytes) {
    for (int i = 0; i < bytes; i++) hp_buf_putc(b, (char)(unsigned char)(v >> (8 * i)));
}

static void put_tag(hp_buf *b, unsigned field, unsigned wire) { put_varint(b, (uint64_t)(field << 3 | wire)); }

static void put_bytes(hp_buf *b, unsigned field, const void *data, size_t n) {
    put_tag(b, field, 2);
    put_varint(b, n);
    hp_buf_append(b, data, n);
}

static void put_double(hp_buf *b, unsigned field, double v) {
    uint64_t u;
    memcpy(&u, &v, sizeof u);
    put_tag(b, field, 1);
    put_le(b, u, 8);
}

static void put_float(hp_buf *b, unsigned field, float v) {
    uint32_t u;
    memcpy(&u, &v, sizeof u);
    put_tag(b, field, 5);
    put_le(b, u, 4);
}

/* Event header: wall_time (1), step (2). */
static void event_head(hp_buf *ev, double wall_time, int64_t step) {
    put_double(ev, 1, wall_time);
    put_tag(ev, 2, 0);
    put_varint(ev, (uint64_t)step); /* int64: negative steps take ten bytes, as protobuf does */
}

static double now_wall(void) {
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* ---- records ------------------------------------------------------------------------------------- */

static int write_record(hp_tfevents *w, const hp_buf *payload, hp_err *err) {
    unsigned char head[12];
    uint64_t n = payload->len;
    for (int i = 0; i < 8; i++) head[i] = (unsigned char)(n >> (8 * i));
    uint32_t lc = hp_crc32c_masked(head, 8), dc = hp_crc32c_masked(payload->data, payload->len);
    for (int i = 0; i < 4; i++) head[8 + i] = (unsigned char)(lc >> (8 * i));
    unsigned char tail[4];
    for (int i = 0; i < 4; i++) tail[i] = (unsigned char)(dc >> (8 * i));
    errno = 0;
    bool bad = fwrite(head, 1, 12, w->fp) != 12 || fwrite(payload->data, 1, payload->len, w->fp) != payload->len ||
               fwrite(tail, 1, 4, w->fp) != 4 || fflush(w->fp) != 0;
    if (bad) return hp_fail(err, "%s: write failed: %s", w->path, errno ? strerror(errno) : "I/O error");
    return HP_OK;
}

hp_tfevents *hp_tfevents_open(const char *dir, hp_err *err) {
    if (hp_mkdirs(dir, err)) return NULL;
    char host[256] = "localhost";
    if (gethostname(host, sizeof host - 1) != 0) snprintf(host, sizeof host, "localhost");
    host[sizeof host - 1] = '\0';
    for (char *p = host; *p; p++)
        if (*p == '/') *p = '_';
    double wall = now_wall();
    char name[400];
    snprintf(name, sizeof name, "events.out.tfevents.%lld.%s.%ld", (long long)wall, host, (long)getpid());
    hp_tfevents *w = hp_xcalloc(1, sizeof *w);
    w->path = hp_path_join(dir, name);
    w->fp = fopen(w->path, "wb");
    if (!w->fp) {
        hp_fail(err, "%s: cannot create: %s", w->path, strerror(errno));
        free(w->path);
        free(w);
        return NULL;
    }
    hp_buf ev = {0};
    event_head(&ev, wall, 0);
    put_bytes(&ev, 3, "brain.Event:2", 13);
    int rc = write_record(w, &ev, err);
    hp_buf_free(&ev);
    if (rc) {
        hp_tfevents_close(w, NULL);
        return NULL;
    }
    return w;
}

int hp_tfevents_write(hp_tfevents *w, int64_t step, double wall_time, const char *const *tags, const double *values,
                      int n, hp_err *err) {
    hp_buf summary = {0}, value = {0}, ev = {0};
    for (int i = 0; i < n; i++) {
        hp_buf_clear(&value);
        put_bytes(&value, 1, tags[i], strlen(tags[i]));
        put_float(&value, 2, (float)values[i]);
        put_bytes(&summary, 1, value.data, value.len);
    }
    event_head(&ev, wall_time < 0 ? now_wall() : wall_time, step);
    put_bytes(&ev, 5, summary.data ? summary.data : "", summary.len);
    int rc = write_record(w, &ev, err);
    hp_buf_free(&summary);
    hp_buf_free(&value);
    hp_buf_free(&ev);
    return rc;
}

const char *hp_tfevents_path(const hp_tfevents *w) { return w->path; }

int hp_tfevents_close(hp_tfevents *w, hp_err *err) {
    if (!w) return HP_OK;
    int rc = HP_OK;
    if (w->fp && fclose(w->fp) != 0) rc = hp_fail(err, "%s: close failed: %s", w->path, strerror(errno));
    free(w->path);
    free(w);
    return rc;
}
