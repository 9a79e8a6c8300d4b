/* Error messages carried back to the caller (see hiper/base.h). */
#include "hiper/base.h"

#include <string.h>

int hp_fail(hp_err *err, const char *fmt, ...) {
    if (err) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(err->msg, sizeof err->msg, fmt, ap);
        va_end(ap);
    }
    return HP_FAIL;
}

int hp_err_wrap(hp_err *err, const char *fmt, ...) {
    if (!err) return HP_FAIL;
    char prefix[sizeof err->msg];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(prefix, sizeof prefix, fmt, ap);
    va_end(ap);
    char old[sizeof err->msg];
    memcpy(old, err->msg, sizeof old);
    size_t n = strlen(prefix), cap = sizeof err->msg;
    memcpy(err->msg, prefix, n + 1);
    if (old[0] && n + 2 < cap) {
        memcpy(err->msg + n, ": ", 3);
        size_t m = strlen(old);
        if (m > cap - n - 3) m = cap - n - 3;
        memcpy(err->msg + n + 2, old, m);
        err->msg[n + 2 + m] = '\0';
    }
    return HP_FAIL;
}

void hp_err_clear(hp_err *err) {
    if (err) err->msg[0] = '\0';
}
