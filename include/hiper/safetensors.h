/* hiper/safetensors.h — reading and writing Hugging Face safetensors files.
 *
 * Contract:
 * - Format: 8-byte little-endian header length N, N bytes of JSON {"name": {"dtype", "shape",
 *   "data_offsets": [begin, end]}, "__metadata__": {...}}, then the data block. Offsets are relative to
 *   the data block; every tensor's byte size must equal prod(shape) * dtype size and lie inside the file.
 * - Reading maps the file (mmap) read-only; F32, BF16 and F16 are converted to f32 on request.
 *   A model directory with model.safetensors.index.json is opened as one set of shards; every shard
 *   the index's weight_map names must be a plain file name in the index's directory (no '/', not
 *   "." or ".."), else the index is refused naming the tensor and the name.
 * - Writing produces F32 or BF16 (round to nearest even), "__metadata__": {"format": "pt"}, tensors in
 *   the order added, data contiguous, and the header padded with spaces to a multiple of 8 bytes as the
 *   Hugging Face writer does. The file is written atomically (temporary file + rename).
 * - Every failure names the file and, where there is one, the tensor.
 */
#ifndef HIPER_SAFETENSORS_H
#define HIPER_SAFETENSORS_H

#include "hiper/base.h"

typedef enum hp_dtype { HP_DT_F32 = 0, HP_DT_BF16 = 1, HP_DT_F16 = 2, HP_DT_OTHER = 3 } hp_dtype;

#define HP_ST_MAX_DIMS 8

/* One tensor of an opened file set. data points into the mapping (valid until hp_st_close). */
typedef struct hp_st_tensor {
    const char *name;
    hp_dtype dtype;
    const char *dtype_name; /* as written in the header ("F32", "BF16", "I64", ...) */
    int ndim;
    int64_t shape[HP_ST_MAX_DIMS];
    int64_t numel;
    const void *data;
    size_t nbytes;
    const char *file; /* the shard it lives in */
} hp_st_tensor;

typedef struct hp_st hp_st;

/* Open a .safetensors file, a model.safetensors.index.json, or a directory holding either
 * (model.safetensors.index.json is preferred when both exist). */
hp_st *hp_st_open(const char *path, hp_err *err);
void hp_st_close(hp_st *st);

int hp_st_count(const hp_st *st);
const hp_st_tensor *hp_st_at(const hp_st *st, int i);
/* NULL when absent. */
const hp_st_tensor *hp_st_find(const hp_st *st, const char *name);
/* Convert a tensor to f32 into out (numel floats) after checking that its shape is exactly
 * shape[0..ndim); a missing tensor, a shape mismatch or an unsupported dtype is an error naming the
 * file and the tensor. */
int hp_st_read_f32(const hp_st *st, const char *name, int ndim, const int64_t *shape, float *out,
                   hp_err *err);
/* The same for a tensor already looked up. */
int hp_st_tensor_f32(const hp_st_tensor *t, float *out, hp_err *err);

/* Scalar conversions. */
float hp_bf16_to_f32(uint16_t h);
uint16_t hp_f32_to_bf16(float f); /* round to nearest even; NaN stays NaN */
float hp_f16_to_f32(uint16_t h);

/* ---- writing ---- */
typedef struct hp_st_writer hp_st_writer;

hp_st_writer *hp_st_writer_new(void);
/* Add a tensor stored as dtype (HP_DT_F32 or HP_DT_BF16) from f32 data. The data is referenced, not
 * copied: it must stay valid until hp_st_writer_write returns. Names must be unique. */
void hp_st_writer_add(hp_st_writer *w, const char *name, hp_dtype dtype, int ndim,
                      const int64_t *shape, const float *data);
/* Write all added tensors to path (atomically). */
int hp_st_writer_write(hp_st_writer *w, const char *path, hp_err *err);
void hp_st_writer_free(hp_st_writer *w);

#endif /* HIPER_SAFETENSORS_H */
