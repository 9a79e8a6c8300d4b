/* hiper/external.h — the external environment (see hiper/env.h for the interface it implements). */
#ifndef HIPER_EXTERNAL_H
#define HIPER_EXTERNAL_H

#include "hiper/env.h"

/* Open a external environment; options is a JSON object of external-specific settings, or NULL. */
hp_env *hp_external_open(const cJSON *options, hp_err *err);

#endif /* HIPER_EXTERNAL_H */
