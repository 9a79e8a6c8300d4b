/* hiper/suggest.h — "did you mean ...?" for a misspelt command, option or configuration key.
 *
 * Contract:
 * - hp_edit_distance is the optimal-string-alignment distance (Levenshtein plus the swap of two
 *   adjacent characters, so "trian" is 1 from "train"), on bytes, case-sensitive.
 * - A hp_suggest collects candidates one by one and keeps the closest; it offers one only when it is
 *   close enough to be a likely typo: at most 1 edit for words of up to 4 bytes, 2 up to 8, 3 beyond
 *   (of the longer of the two), and never the word itself. Ties keep the first candidate added.
 * - Nothing is allocated; candidates must outlive the hp_suggest.
 */
#ifndef HIPER_SUGGEST_H
#define HIPER_SUGGEST_H

#include <stddef.h>

size_t hp_edit_distance(const char *a, const char *b);

typedef struct hp_suggest {
    const char *word;
    const char *best;
    size_t best_d;
} hp_suggest;

void hp_suggest_init(hp_suggest *s, const char *word);
/* Consider cand; compare may differ from cand (e.g. the last part of a dotted key) and is what is
 * measured against the word, while cand is what would be suggested. */
void hp_suggest_add_as(hp_suggest *s, const char *cand, const char *compare);
void hp_suggest_add(hp_suggest *s, const char *cand);
/* The closest candidate within the limit, or NULL. */
const char *hp_suggest_best(const hp_suggest *s);

#endif /* HIPER_SUGGEST_H */
