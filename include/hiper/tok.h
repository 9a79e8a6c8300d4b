/* hiper/tok.h — Qwen's byte-level BPE tokenizer from a Hugging Face tokenizer.json, the Qwen2.5 chat
 * template, and BPE training.
 *
 * Contract:
 * - Encoding is exactly Hugging Face's for the Qwen2.5/Qwen3 tokenizer.json: added/special tokens are
 *   matched inside the raw text first (leftmost-longest), each stretch between them is NFC-normalised
 *   (when the file says so) and split by the Split pre-tokenizer's regex (PCRE2, \s as Unicode
 *   White_Space like Oniguruma), mapped through the ByteLevel byte→unicode table, and merged by BPE
 *   rank. Input must be valid UTF-8. A file using anything else is refused at load with an error
 *   naming the file and the key (docs/tokenizer.md lists what is supported). The ids 0..largest are
 *   each given to exactly one token (model.vocab and added_tokens together) and no string is listed
 *   twice: a duplicate id or string, or an id with no token, is refused naming the file and the id.
 *   So is any key given twice in one object (Hugging Face keeps the last, cJSON the first).
 * - Decoding is Hugging Face's: ByteLevel-decoded bytes, invalid UTF-8 → U+FFFD per maximal subpart.
 * - hp_tok_token_bytes gives the raw bytes a token stands for (ByteLevel-decoded), so that text offsets
 *   of every token can be computed without decoding whole strings; special tokens give their content.
 * - A loaded tokenizer is immutable and may be shared by threads.
 */
#ifndef HIPER_TOK_H
#define HIPER_TOK_H

#include "hiper/base.h"

typedef struct hp_tok hp_tok;

/* A growable array of token ids. Zero-initialise to start empty. */
typedef struct hp_ids {
    int32_t *data;
    size_t len;
    size_t cap;
} hp_ids;

void hp_ids_push(hp_ids *ids, int32_t id);
void hp_ids_append(hp_ids *ids, const int32_t *src, size_t n);
void hp_ids_clear(hp_ids *ids);
void hp_ids_free(hp_ids *ids);
/* Sequences of token ids from a file's text (hiper score --ids), strictly one of two forms:
 *   JSON: one list of ids [1, 2, 3], or a list of non-empty lists [[1, 2], [3, 4]], nothing after it;
 *   text: ids separated by spaces or commas, one sequence per line (blank lines are skipped).
 * An id is an integer in [0, 2^31). Mixed or deeper nesting, a sign, a fraction, text after the JSON
 * value or any other character is an error naming path and the line or element. On success ids holds
 * every id and (*offs)[0..*n_seq] the boundaries ((*offs)[0] = 0, newly allocated); ids is emptied
 * first. */
int hp_ids_parse_seqs(const char *text, size_t len, const char *path, hp_ids *ids, int64_t **offs, int *n_seq,
                      hp_err *err);

/* Load from a tokenizer.json file or from a model directory holding one. */
hp_tok *hp_tok_load(const char *path, hp_err *err);
void hp_tok_free(hp_tok *tok);

int32_t hp_tok_vocab_size(const hp_tok *tok); /* largest id + 1, added tokens included */
/* Id of a token given by its string form (vocabulary or added token), or -1. */
int32_t hp_tok_id(const hp_tok *tok, const char *token);
/* The end-of-turn id (<|im_end|>) and the end-of-text id (<|endoftext|>), -1 if absent. */
int32_t hp_tok_im_end(const hp_tok *tok);
int32_t hp_tok_eos(const hp_tok *tok);
bool hp_tok_is_special(const hp_tok *tok, int32_t id);

/* Append the ids of text[0..len) to out. Special tokens in the text are recognised. */
int hp_tok_encode(const hp_tok *tok, const char *text, size_t len, hp_ids *out, hp_err *err);
/* Decode ids to a newly allocated string (invalid UTF-8 sequences become U+FFFD, as HF does). */
char *hp_tok_decode(const hp_tok *tok, const int32_t *ids, size_t n);
/* The same, leaving out special tokens when skip_special (HF's skip_special_tokens=True). */
char *hp_tok_decode_ex(const hp_tok *tok, const int32_t *ids, size_t n, bool skip_special);
/* Append the decoded text to out (out->len tells the length even when the text holds NUL bytes). */
void hp_tok_decode_buf(const hp_tok *tok, const int32_t *ids, size_t n, bool skip_special, hp_buf *out);
/* The raw bytes one token stands for; NULL for an id out of range. */
const char *hp_tok_token_bytes(const hp_tok *tok, int32_t id, size_t *len);

/* The token-bytes callback shared by generation (stop strings, include/hiper/model.h) and the span
 * parser (include/hiper/spans.h), so neither links against the tokenizer. */
typedef const char *(*hp_token_bytes_fn)(const void *ctx, int32_t id, size_t *len);
/* hp_tok_token_bytes in that shape: ctx is the hp_tok. */
const char *hp_tok_bytes_fn(const void *ctx, int32_t id, size_t *len);

/* Streaming decode: feed ids one at a time; complete UTF-8 text comes out, incomplete sequences are
 * held back until the bytes that finish them arrive. */
typedef struct hp_tok_stream {
    const hp_tok *tok;
    hp_buf pending;
} hp_tok_stream;
void hp_tok_stream_init(hp_tok_stream *s, const hp_tok *tok);
/* Append to out whatever text is complete after this id. */
void hp_tok_stream_put(hp_tok_stream *s, int32_t id, hp_buf *out);
/* Flush what is left (incomplete bytes become U+FFFD). */
void hp_tok_stream_finish(hp_tok_stream *s, hp_buf *out);
void hp_tok_stream_free(hp_tok_stream *s);

/* ---- chat template (Qwen2.5) ---- */
typedef struct hp_chat_msg {
    const char *role;    /* "system", "user", "assistant" */
    const char *content;
} hp_chat_msg;

/* Render messages as Qwen2.5's chat template does: "<|im_start|>role\ncontent<|im_end|>\n" each,
 * the default system message ("You are Qwen, created by Alibaba Cloud. You are a helpful assistant.")
 * when the first message is not a system message, and "<|im_start|>assistant\n" when
 * add_generation_prompt. Returns a newly allocated string. */
char *hp_chat_render(const hp_chat_msg *msgs, int n, bool add_generation_prompt);

/* The Qwen2.5 chat template text (jinja), as written into a trained tokenizer_config.json. */
extern const char hp_chat_template_qwen25[];

/* ---- BPE training ----
 * Byte-level BPE learned like Hugging Face's BpeTrainer: the text is NFC-normalised, the ChatML special
 * tokens are cut out, the rest is split by the pre-tokenizer regex and the words are counted; then the
 * most frequent adjacent pair is merged again and again (ties: the pair whose (left, right) bytes sort
 * first), until the vocabulary is full or no pair occurs min_frequency times. Ids: the 256 byte
 * symbols first (in GPT-2 byte-table order), then the merges, then <|endoftext|>, <|im_start|>,
 * <|im_end|> as added special tokens. vocab_size counts all of them. */
typedef struct hp_bpe_trainer hp_bpe_trainer;

/* pattern: the pre-tokenizer regex; NULL for Qwen2's. */
hp_bpe_trainer *hp_bpe_trainer_new(const char *pattern, hp_err *err);
/* Count the words of one text (may be called many times). */
int hp_bpe_trainer_feed(hp_bpe_trainer *tr, const char *text, size_t len, hp_err *err);
/* Learn the merges and write out_dir/tokenizer.json and out_dir/tokenizer_config.json (each file
 * atomically; out_dir is created). min_frequency <= 0 means 2. */
int hp_bpe_trainer_write(hp_bpe_trainer *tr, int32_t vocab_size, int64_t min_frequency, const char *out_dir,
                         hp_err *err);
void hp_bpe_trainer_free(hp_bpe_trainer *tr);
/* One call: train on text[0..len) and write out_dir. */
int hp_tok_train(const char *text, size_t len, int32_t vocab_size, const char *out_dir, hp_err *err);

#endif /* HIPER_TOK_H */
