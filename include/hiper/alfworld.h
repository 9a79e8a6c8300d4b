/* hiper/alfworld.h — the alfworld environment (see hiper/env.h for the interface it implements). */
#ifndef HIPER_ALFWORLD_H
#define HIPER_ALFWORLD_H

#include "hiper/env.h"

/* Open a alfworld environment; options is a JSON object of alfworld-specific settings, or NULL. */
hp_env *hp_alfworld_open(const cJSON *options, hp_err *err);

#endif /* HIPER_ALFWORLD_H */
