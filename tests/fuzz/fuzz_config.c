/* config.json: parse; a config that parses must write out (hp_config_to_json) as a config that parses
 * to the same values. */
#include "fuzz.h"

#include "hiper/config.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    hp_config c, d;
    hp_err err = {{0}};
    if (hp_config_parse((const char *)data, size, "config.json", &c, &err)) {
        FUZZ_CHECK(err.msg[0] != '\0');
        return 0;
    }
    char *js = hp_config_to_json(&c);
    int rc = hp_config_parse(js, strlen(js), "written", &d, &err);
    if (rc) fprintf(stderr, "round trip: %s\n", err.msg);
    FUZZ_CHECK(rc == HP_OK);
    FUZZ_CHECK(c.hidden_size == d.hidden_size && c.intermediate_size == d.intermediate_size &&
               c.num_hidden_layers == d.num_hidden_layers && c.num_attention_heads == d.num_attention_heads &&
               c.num_key_value_heads == d.num_key_value_heads && c.vocab_size == d.vocab_size &&
               c.max_position_embeddings == d.max_position_embeddings && c.rope_theta == d.rope_theta &&
               c.rms_norm_eps == d.rms_norm_eps && c.tie_word_embeddings == d.tie_word_embeddings &&
               c.num_labels == d.num_labels && c.head_dim == d.head_dim && !strcmp(c.torch_dtype, d.torch_dtype));
    free(js);
    return 0;
}
