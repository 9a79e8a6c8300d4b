/* hiper/json.h — checks on parsed JSON (cJSON trees) shared by the parsers of files and messages.
 *
 * Contract:
 * - A JSON object with the same key twice means different things to different readers (cJSON's
 *   lookup finds the first, Python's json and most others keep the last), so the parsers of
 *   config.json, tokenizer.json and protocol replies refuse it: hp_json_duplicate_key finds one.
 */
#ifndef HIPER_JSON_H
#define HIPER_JSON_H

#include "hiper/base.h"

struct cJSON;

/* The first key that appears twice in one object of the tree (in every nested object when
 * recursive), or NULL when there is none. O(n log n) per object. */
const char *hp_json_duplicate_key(const struct cJSON *node, bool recursive);

#endif /* HIPER_JSON_H */
