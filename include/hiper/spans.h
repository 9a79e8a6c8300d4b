/* hiper/spans.h — the trainer-side re-parse of one Plan–Execute response at token level, as HiPER's
 * trainer re-parses a reply and places advantages and value reads: the token spans of <switch>,
 * <subgoal> and <action>, the switch decision, the per-token loss mask and advantage, and the critic's
 * read positions.
 *
 * Contract:
 * - Input: the valid response token ids (through the first end-of-sequence token, included) and a
 *   callback giving each token's raw bytes (hp_tok_token_bytes fits; special tokens give their text).
 *   Each token is decoded on its own, as the authors' code does (an incomplete UTF-8 sequence inside
 *   one token becomes U+FFFD), and the pieces are concatenated with a byte offset per token.
 * - A span runs from the first opening tag to the earliest accepted closing tag after it, tags
 *   included; closing variants "</t>", "</t>\n", "]</t>", ".</t>", ")</t>" (and those followed by
 *   "\n"; switch: only "</t>" and "</t>\n") all end right after ">". A token is in the span when it
 *   lies between the first token ending after the span start and the first token starting at or
 *   after the span end. Tags are case-sensitive.
 * - Switch decision: the content between the first <switch> and its closing tag, stripped
 *   (Unicode whitespace) and upper-cased; missing, empty or whitespace-only counts as KEEP. The turn
 *   is a segment boundary iff this is not KEEP (or it is the trajectory's first turn).
 * - Positions are response positions: position j's value is the critic's output at the token just
 *   before response token j (absolute index prompt_len + j − 1), i.e. the state before token j.
 * - Nothing here keeps state; results are owned by hp_spans and freed by hp_spans_free.
 */
#ifndef HIPER_SPANS_H
#define HIPER_SPANS_H

#include "hiper/base.h"
#include "hiper/tok.h" /* hp_token_bytes_fn (pass hp_tok_bytes_fn with ctx = the hp_tok) */


/* Token range [begin, end); empty (begin == end) when the block is missing. */
typedef struct hp_span {
    int32_t begin, end;
} hp_span;

/* Bits of hp_spans_assign's loss mask: which advantage(s) a token carries. */
enum { HP_SPAN_ACTION = 1, HP_SPAN_SUBGOAL = 2, HP_SPAN_SWITCH = 4 };

typedef struct hp_spans {
    int32_t n;               /* valid response tokens */
    char *text;              /* concatenated per-token decode (valid UTF-8), text_len bytes */
    size_t text_len;
    size_t *tok_start;       /* byte offset of token j in text; tok_start[n] = text_len */
    hp_span action, subgoal, sw;
    bool has_action;         /* false: the action mask falls back to the whole response */
    bool has_subgoal, has_switch;
    bool switch_is_keep;     /* the trainer's switch decision (true = KEEP, no new segment) */
    char *switch_word;       /* switch content as found (unstripped), NULL when no switch block:
                                pass it to hp_adv_turn.switch_word */
    char *subgoal_key;       /* text of the subgoal span's tokens (tags included), NULL when none:
                                pass it to hp_adv_turn.subgoal (consistency check compares these) */
    char *subgoal_text;      /* subgoal content between the tags, stripped of ASCII whitespace */
    int32_t v_high_pos;      /* V_high read position (used on boundary turns): 0 */
    int32_t v_term_pos;      /* V_term read position: 0 (the first valid response position) */
    int32_t v_low_pos;       /* V_low: first token starting at/after the end of the subgoal's closing
                                tag; else after </switch>; else 0 (also when that token is past the end) */
} hp_spans;

/* Parse ids[0..n). Fails (naming the token position) when the callback has no bytes for an id. */
int hp_spans_parse(const int32_t *ids, int32_t n, hp_token_bytes_fn token_bytes, const void *ctx,
                   hp_spans *out, hp_err *err);
void hp_spans_free(hp_spans *s);

/* Token advantages of one turn:
 * adv[j] = Â^L·[j ∈ action] + Â^H·[j ∈ subgoal ∧ boundary] + Â^T·[j ∈ switch ∧ has_term];
 * mask[j] = the HP_SPAN_* bits of the terms present (0 = no gradient at all: outside the loss mask).
 * The action term covers every token when the action block is missing. adv or mask may be NULL. */
void hp_spans_assign(const hp_spans *s, bool boundary, bool has_term, double adv_low, double adv_high,
                     double adv_term, double *adv, uint8_t *mask);

/* After hp_spans_assign: every token whose mask is still 0 (outside the spans that carry an advantage:
 * tags and separators between the blocks, the end token, the subgoal of a non-boundary turn, the switch
 * block without a termination head) gets the low-level advantage and HP_SPAN_ACTION
 * (algorithm.hae.low_advantage_tokens = rest, a departure from the paper). */
void hp_spans_assign_rest(const hp_spans *s, double adv_low, double *adv, uint8_t *mask);

#endif /* HIPER_SPANS_H */
