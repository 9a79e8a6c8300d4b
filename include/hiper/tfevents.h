/* hiper/tfevents.h — a TensorBoard event-file writer (scalars only), written from the file format's
 * specification, without TensorFlow or protobuf libraries.
 *
 * Contract:
 * - A file is a sequence of TFRecords: uint64 length (little-endian), uint32 masked CRC32C of those 8
 *   length bytes, the payload, uint32 masked CRC32C of the payload. CRC32C is the Castagnoli CRC
 *   (reflected polynomial 0x82F63B78, init and final xor 0xFFFFFFFF); masked(c) = ((c >> 15) |
 *   (c << 17)) + 0xA282EAD8 (mod 2^32).
 * - Each payload is a serialised tensorflow.Event protobuf: field 1 wall_time (double, seconds since
 *   the epoch), field 2 step (int64, varint), and either field 3 file_version ("brain.Event:2", the
 *   first record of every file) or field 5 summary: Summary { repeated Value value = 1 }, Value {
 *   string tag = 1; float simple_value = 2 }. One event holds all the scalars of one call.
 * - The file is named events.out.tfevents.<seconds>.<host>.<pid> inside dir (created if missing), as
 *   TensorBoard expects; every event is flushed when written, so a killed run keeps all complete
 *   records (a reader stops at a torn last one).
 * - Values are stored as float (32-bit), as TensorBoard's simple_value is; a non-finite value is
 *   written as it is (TensorBoard shows NaN/inf).
 * - Errors name the file.
 */
#ifndef HIPER_TFEVENTS_H
#define HIPER_TFEVENTS_H

#include "hiper/base.h"

typedef struct hp_tfevents hp_tfevents;

/* Create a new event file in dir and write its file_version record. */
hp_tfevents *hp_tfevents_open(const char *dir, hp_err *err);
/* One event at step with the n scalars tags[i] = values[i]; wall_time < 0 means now. */
int hp_tfevents_write(hp_tfevents *w, int64_t step, double wall_time, const char *const *tags, const double *values,
                      int n, hp_err *err);
/* The file's path (owned by w). */
const char *hp_tfevents_path(const hp_tfevents *w);
/* Close (NULL is fine); returns HP_FAIL when the final flush failed. */
int hp_tfevents_close(hp_tfevents *w, hp_err *err);

/* CRC32C of n bytes, and its masked form stored in TFRecords. */
uint32_t hp_crc32c(const void *data, size_t n);
uint32_t hp_crc32c_masked(const void *data, size_t n);

#endif /* HIPER_TFEVENTS_H */
