/* score --ids: hp_ids_parse_seqs. On success the sequences are non-empty, the offsets increase to the
 * id count, and every id is in [0, 2^31). */
#include "fuzz.h"

#include "hiper/tok.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    char *text = fuzz_cstr(data, size);
    hp_ids ids = {0};
    int64_t *offs = NULL;
    int n = 0;
    hp_err err = {{0}};
    if (hp_ids_parse_seqs(text, size, "ids", &ids, &offs, &n, &err) == HP_OK) {
        FUZZ_CHECK(n > 0 && offs[0] == 0 && offs[n] == (int64_t)ids.len);
        for (int s = 0; s < n; s++) FUZZ_CHECK(offs[s + 1] > offs[s]);
        for (size_t i = 0; i < ids.len; i++) FUZZ_CHECK(ids.data[i] >= 0);
        free(offs);
    } else {
        FUZZ_CHECK(err.msg[0] != '\0' && offs == NULL && n == 0);
    }
    hp_ids_free(&ids);
    free(text);
    return 0;
}
