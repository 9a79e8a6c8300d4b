/* Placeholder until the external environment lands; the owner of src/env/external replaces this file. */
#include "hiper/external.h"

hp_env *hp_external_open(const cJSON *options, hp_err *err) {
    (void)options;
    hp_fail(err, "the external environment is not built yet");
    return NULL;
}
