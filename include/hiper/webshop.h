/* hiper/webshop.h — the webshop environment (see hiper/env.h for the interface it implements). */
#ifndef HIPER_WEBSHOP_H
#define HIPER_WEBSHOP_H

#include "hiper/env.h"

/* Open a webshop environment; options is a JSON object of webshop-specific settings, or NULL. */
hp_env *hp_webshop_open(const cJSON *options, hp_err *err);

#endif /* HIPER_WEBSHOP_H */
