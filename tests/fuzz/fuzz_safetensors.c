/* Safetensors: a file (header length, JSON header, data) or, when the first byte is odd, a sharded
 * index (model.safetensors.index.json) next to one valid shard "a.safetensors". Every tensor that
 * opens is converted to f32 (its bytes must lie inside the file: ASan checks the reads). */
#include "fuzz.h"

#include "hiper/safetensors.h"

/* A valid shard with tensors "x" (F32 [2]) and "y" (BF16 [1, 2]) for the index to name. */
static void write_shard(void) {
    static bool done = false;
    if (done) return;
    hp_st_writer *w = hp_st_writer_new();
    static const float x[2] = {1, 2}, y[2] = {3, 4};
    hp_st_writer_add(w, "x", HP_DT_F32, 1, (const int64_t[]){2}, x);
    hp_st_writer_add(w, "y", HP_DT_BF16, 2, (const int64_t[]){1, 2}, y);
    char *p = hp_path_join(fuzz_dir(), "a.safetensors");
    hp_err err;
    if (hp_st_writer_write(w, p, &err)) abort();
    free(p);
    hp_st_writer_free(w);
    done = true;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (size < 1) return 0;
    bool index = data[0] & 1;
    write_shard();
    char *path = fuzz_write(index ? "model.safetensors.index.json" : "x.safetensors", data + 1, size - 1);
    hp_err err = {{0}};
    hp_st *st = hp_st_open(path, &err);
    if (st) {
        for (int i = 0; i < hp_st_count(st); i++) {
            const hp_st_tensor *t = hp_st_at(st, i);
            FUZZ_CHECK(t && t->numel >= 0);
            if (t->numel > (1 << 20)) continue;
            float *out = hp_xmalloc((size_t)(t->numel ? t->numel : 1) * sizeof *out);
            hp_st_tensor_f32(t, out, &err);
            free(out);
            FUZZ_CHECK(hp_st_find(st, t->name) != NULL);
        }
        hp_st_close(st);
    } else {
        FUZZ_CHECK(err.msg[0] != '\0');
    }
    free(path);
    return 0;
}
