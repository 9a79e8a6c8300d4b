/* Generation results (see hiper/policy.h). */
#include "hiper/policy.h"

#include <stdlib.h>
#include <string.h>

void hp_gen_out_free(hp_gen_out *o) {
    if (!o) return;
    hp_ids_free(&o->ids);
    free(o->logprobs);
    free(o->mask_row);
    free(o->allowed);
    memset(o, 0, sizeof *o);
}
