/* Run configuration and overrides (hiper train --config FILE key=value ...): the first line is the
 * JSON text (empty: defaults), every further line one override. A configuration that loads must
 * write out (hp_runcfg_to_json) as one that loads again to the same JSON. */
#include "fuzz.h"

#include "hiper/runcfg.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (size > 1 << 14) return 0;
    char *text = fuzz_cstr(data, size);
    const char *ov[64];
    int n_ov = 0;
    char *nl = strchr(text, '\n');
    if (nl) {
        *nl = '\0';
        for (char *p = nl + 1; p && n_ov < 64;) {
            char *e = strchr(p, '\n');
            if (e) *e = '\0';
            if (*p) ov[n_ov++] = p;
            p = e ? e + 1 : NULL;
        }
    }
    hp_runcfg *cfg = hp_xcalloc(1, sizeof *cfg), *again = hp_xcalloc(1, sizeof *again);
    hp_err err = {{0}};
    if (hp_runcfg_load_text(cfg, text[0] ? text : NULL, "fuzz.json", ov, n_ov, &err) == HP_OK) {
        char *js = hp_runcfg_to_json(cfg);
        int rc = hp_runcfg_load_text(again, js, "written", NULL, 0, &err);
        if (rc) fprintf(stderr, "round trip: %s\n", err.msg);
        FUZZ_CHECK(rc == HP_OK);
        char *js2 = hp_runcfg_to_json(again);
        FUZZ_CHECK(!strcmp(js, js2));
        free(js2);
        free(js);
    } else {
        FUZZ_CHECK(err.msg[0] != '\0');
    }
    free(again);
    free(cfg);
    free(text);
    return 0;
}
