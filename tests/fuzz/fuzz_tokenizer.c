/* tokenizer.json: load; a tokenizer that loads encodes a fixed text and the first bytes of the input
 * (when they are valid UTF-8), and decoding those ids gives text back (no crash, ids in range). */
#include "fuzz.h"

#include "hiper/tok.h"

static void roundtrip(const hp_tok *t, const char *text, size_t len) {
    hp_ids ids = {0};
    hp_err err = {{0}};
    if (hp_tok_encode(t, text, len, &ids, &err) == HP_OK) {
        for (size_t i = 0; i < ids.len; i++) FUZZ_CHECK(ids.data[i] >= 0 && ids.data[i] < hp_tok_vocab_size(t));
        hp_buf out = {0};
        hp_tok_decode_buf(t, ids.data, ids.len, false, &out);
        hp_buf_free(&out);
    }
    hp_ids_free(&ids);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    char *path = fuzz_write("tokenizer.json", data, size);
    hp_err err = {{0}};
    hp_tok *t = hp_tok_load(path, &err);
    if (t) {
        static const char sample[] = "Hello, world! <|im_start|>user\nnothing happens.<|im_end|>\n 123 \xc3\xa9\xe2\x86\x92";
        roundtrip(t, sample, sizeof sample - 1);
        roundtrip(t, (const char *)data, size < 64 ? size : 64);
        int32_t all[8] = {0, 1, 2, 3, hp_tok_vocab_size(t) - 1, hp_tok_im_end(t), hp_tok_eos(t), -1};
        hp_buf out = {0};
        hp_tok_decode_buf(t, all, 7, true, &out);
        hp_buf_free(&out);
        hp_tok_free(t);
    } else {
        FUZZ_CHECK(err.msg[0] != '\0');
    }
    free(path);
    return 0;
}
