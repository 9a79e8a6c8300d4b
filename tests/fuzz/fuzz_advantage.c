/* hiper advantage's input: turn records as JSON lines (hp_adv_batch_parse), then the estimator chosen
 * by the first byte (hae, gae, gigpo, grpo, rloo) over the whole batch. With the first byte's high bit
 * set, the first line is that estimator's configuration (JSON object). */
#include "fuzz.h"

#include "hiper/advantage.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (size < 1 || size > 1 << 16) return 0;
    int est = data[0] % 5;
    bool has_cfg = data[0] & 0x80;
    char *text = fuzz_cstr(data + 1, size - 1), *rows = text, *cfg = NULL;
    if (has_cfg) {
        cfg = text;
        char *nl = strchr(text, '\n');
        rows = nl ? nl + 1 : text + strlen(text);
        if (nl) *nl = '\0';
    }
    size_t len = size - 1 - (size_t)(rows - text);
    hp_adv_batch b;
    hp_err err = {{0}};
    if (hp_adv_batch_parse(rows, len, &b, &err)) {
        FUZZ_CHECK(err.msg[0] != '\0');
        free(text);
        return 0;
    }
    size_t n = b.n, nn = n ? n : 1;
    double *adv = hp_xcalloc(nn, sizeof *adv), *ret = hp_xcalloc(nn, sizeof *ret);
    if (est == 0) {
        hp_hae_config c;
        hp_hae_config_default(&c);
        if (!cfg || !hp_hae_config_parse(cfg, &c, &err)) {
            hp_hae_out *o = hp_xcalloc(nn, sizeof *o);
            hp_adv_hae(b.turns, n, &c, o, &err);
            free(o);
        }
    } else if (est == 1) {
        hp_gae_config c;
        hp_gae_config_default(&c);
        if (!cfg || !hp_gae_config_parse(cfg, &c, &err)) hp_adv_turn_gae(b.turns, n, &c, adv, ret, &err);
    } else {
        hp_group_config c;
        hp_group_config_default(&c);
        if (!cfg || !hp_group_config_parse(cfg, &c, &err)) {
            if (est == 2) {
                hp_gigpo_out *o = hp_xcalloc(nn, sizeof *o);
                hp_adv_gigpo(b.turns, n, &c, o, &err);
                free(o);
            } else if (est == 3) {
                hp_adv_grpo(b.turns, n, &c, adv, &err);
            } else {
                hp_adv_rloo(b.turns, n, &c, adv, &err);
            }
        }
    }
    free(adv);
    free(ret);
    hp_adv_batch_free(&b);
    free(text);
    return 0;
}
