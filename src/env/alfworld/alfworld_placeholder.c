/* Placeholder until the alfworld environment lands; the owner of src/env/alfworld replaces this file. */
#include "hiper/alfworld.h"

hp_env *hp_alfworld_open(const cJSON *options, hp_err *err) {
    (void)options;
    hp_fail(err, "the alfworld environment is not built yet");
    return NULL;
}
