/* Placeholder until the webshop environment lands; the owner of src/env/webshop replaces this file. */
#include "hiper/webshop.h"

hp_env *hp_webshop_open(const cJSON *options, hp_err *err) {
    (void)options;
    hp_fail(err, "the webshop environment is not built yet");
    return NULL;
}
