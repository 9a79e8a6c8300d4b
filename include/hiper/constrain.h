/* hiper/constrain.h — constrained action decoding (an opt-in departure from HiPER, which samples freely):
 * while a response is sampled, the text after its first "<action>" is kept to one of the commands the
 * environment accepts now, followed by "</action>". Everything else in the response (switch, subgoal,
 * the end token) is sampled as before.
 *
 * Contract:
 * - hp_vocab_bytes holds the bytes of every token id of a tokenizer (special tokens have none and are
 *   never allowed inside an action).
 * - An hp_action_filter serves one response. hp_action_filter_apply is an hp_logit_filter_fn (model.h):
 *   called before sampling position n_out with the tokens sampled so far, it sets to -inf the logit of
 *   every token that would take the action text (the text after the first "<action>") off all of
 *   "CMD</action>" for the admissible CMDs: before "<action>", a token that would complete it together
 *   with text off every command; after it, any token whose bytes leave every command, until the
 *   action text holds one whole (a token may carry the end of a command and more). The rest of the
 *   response is free.
 * - The filter records the allowed set of every position it constrained, so that training can score
 *   the response under the same distribution that sampled it: hp_action_filter_take hands over, per
 *   output position, the row of its allowed set (-1 = unconstrained) and the rows (bit v of byte v/8).
 * - Deterministic: depends only on the tokens, the commands and the vocabulary.
 */
#ifndef HIPER_CONSTRAIN_H
#define HIPER_CONSTRAIN_H

#include "hiper/base.h"
#include "hiper/tok.h"

typedef struct hp_vocab_bytes hp_vocab_bytes;
typedef struct hp_action_filter hp_action_filter;

hp_vocab_bytes *hp_vocab_bytes_new(hp_token_bytes_fn bytes, const void *ctx, int vocab);
void hp_vocab_bytes_free(hp_vocab_bytes *vb);
int hp_vocab_bytes_size(const hp_vocab_bytes *vb);

hp_action_filter *hp_action_filter_new(const hp_vocab_bytes *vb, const char *const *commands, int n_commands);

/* Constrained format (`rollout.constrain_format`, a further opt-in departure): the text before the action
 * is kept to the output format's shape as well, so that every sampled response parses. A shape is
 * taken from the format's own response template (hp_prompt_response): one of `heads` (HiPER:
 * "<switch>KEEP</switch>\n<subgoal>" or "<switch>SWITCH</switch>\n<subgoal>"), then, when `mid` is set,
 * free text without '<' (the subgoal or thought), then `mid` ("</subgoal>\n<action>"), then the action
 * as above. Tokens without bytes (the end token) are forbidden until the action is whole; the rest of
 * the response after "</action>" is free. Every position before the action's end records its allowed
 * set. */
typedef struct hp_response_shape {
    char *heads[2];
    int n_heads;
    char *mid; /* NULL: a head ends with "<action>" */
} hp_response_shape;
/* The shape of format `fmt` (an hp_fmt value: hiper, think or action). */
hp_response_shape *hp_response_shape_new(int fmt);
void hp_response_shape_free(hp_response_shape *s);
hp_action_filter *hp_action_filter_new_shaped(const hp_vocab_bytes *vb, const char *const *commands, int n_commands,
                                              const hp_response_shape *shape);
void hp_action_filter_apply(void *filter, const int32_t *out, int n_out, float *logits, int vocab);
/* Per output position (n_out entries, allocated): the allowed-set row or -1; *allowed: n_rows rows of
 * (vocab + 7)/8 bytes (allocated; NULL when n_rows == 0). The filter keeps nothing afterwards. */
void hp_action_filter_take(hp_action_filter *f, int n_out, int32_t **row_of, uint8_t **allowed, int *n_rows);
void hp_action_filter_free(hp_action_filter *f);

#endif /* HIPER_CONSTRAIN_H */
