/* `hiper sft` and `hiper eval` end to end on a tiny random model: exit codes 0/1/2, agent.json carried
 * from sft to eval, the eval JSON and the trajectory file. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "shell_util.h"

#include "hiper/model.h"
#include "hiper/tok.h"

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static int run(const char *args, char *out, size_t cap) {
    char cmd[4096];
    snprintf(cmd, sizeof cmd, "OMP_NUM_THREADS=1 %s %s 2>&1", HP_CLI, args);
    return tu_shell(cmd, out, cap);
}

static void test_usage(void **state) {
    (void)state;
    char out[16384];
    assert_int_equal(run("sft --help", out, sizeof out), 0);
    assert_non_null(strstr(out, "--noise"));
    assert_int_equal(run("eval --help", out, sizeof out), 0);
    assert_non_null(strstr(out, "--temperature"));
    assert_int_equal(run("sft --env alfworld", out, sizeof out), 2);
    assert_int_equal(run("sft --model x --out y --env nowhere", out, sizeof out), 2);
    assert_int_equal(run("eval --model x --env alfworld --episodes -1", out, sizeof out), 2);
    assert_int_equal(run("eval --model /nonexistent/model --env alfworld", out, sizeof out), 1);
    assert_non_null(strstr(out, "hiper: error:"));
}

static void test_sft_then_eval(void **state) {
    (void)state;
    char dir[512], tokdir[600], m0[600], m1[600], path[700], args[3000], out[16384];
    snprintf(dir, sizeof dir, "%s/agent_cli_test_%d", HP_BINARY_DIR, (int)getpid());
    snprintf(tokdir, sizeof tokdir, "%s/tok", dir);
    snprintf(m0, sizeof m0, "%s/m0", dir);
    snprintf(m1, sizeof m1, "%s/m1", dir);
    hp_err e = {{0}};
    assert_int_equal(hp_mkdirs(tokdir, &e), HP_OK);
    /* the fixture tokenizer as a tokenizer directory, and a tiny random model next to it */
    char *text;
    size_t len;
    assert_int_equal(hp_read_file(HP_SOURCE_DIR "/tests/agent/data/tiny_tokenizer.json", &text, &len, &e), HP_OK);
    snprintf(path, sizeof path, "%s/tokenizer.json", tokdir);
    assert_int_equal(hp_write_file_atomic(path, text, len, &e), HP_OK);
    free(text);
    hp_tok *tok = hp_tok_load(tokdir, &e);
    assert_non_null(tok);
    hp_config c;
    hp_config_default(&c);
    c.hidden_size = 32;
    c.intermediate_size = 64;
    c.num_hidden_layers = 1;
    c.num_attention_heads = 2;
    c.num_key_value_heads = 1;
    c.vocab_size = hp_tok_vocab_size(tok);
    c.max_position_embeddings = 1024;
    assert_int_equal(hp_config_validate(&c, "test", &e), HP_OK);
    hp_model *m = hp_model_init_random(&c, 1, &e);
    assert_non_null(m);
    assert_int_equal(hp_model_save(m, m0, tokdir, &e), HP_OK);
    hp_model_free(m);
    hp_tok_free(tok);

    snprintf(args, sizeof args,
             "sft --model %s --env alfworld --out %s --episodes 1 --epochs 1 --max-steps 4 --style compact "
             "--format action --max-len 160 --max-prompt 150 --quiet",
             m0, m1);
    if (run(args, out, sizeof out) != 0) fail_msg("%s", out);
    assert_non_null(strstr(out, "demonstrations: 1 episodes"));
    assert_non_null(strstr(out, "saved to"));
    snprintf(path, sizeof path, "%s/agent.json", m1);
    assert_int_equal(hp_read_file(path, &text, &len, &e), HP_OK);
    assert_non_null(strstr(text, "\"compact\""));
    assert_non_null(strstr(text, "\"action\""));
    free(text);

    snprintf(path, sizeof path, "%s/traj.jsonl", dir);
    snprintf(args, sizeof args,
             "eval --model %s --env alfworld --split valid_seen --episodes 3 --batch 2 --max-steps 2 --max-response 6 --truncate "
             "--json --jsonl %s",
             m1, path);
    if (run(args, out, sizeof out) != 0) fail_msg("%s", out);
    assert_non_null(strstr(out, "\"episodes\":3"));
    assert_int_equal(hp_read_file(path, &text, &len, &e), HP_OK);
    int lines = 0;
    for (size_t i = 0; i < len; i++) lines += text[i] == '\n';
    assert_int_equal(lines, 3);
    /* the compact action-only prompt from agent.json was used */
    assert_non_null(strstr(text, "Reply <action>...</action>"));
    free(text);
    /* a bad environment option is a runtime error naming the key */
    snprintf(args, sizeof args, "eval --model %s --env alfworld --env-options '{\"bogus\": 1}'", m1);
    assert_int_equal(run(args, out, sizeof out), 1);
    assert_non_null(strstr(out, "bogus"));
    assert_int_equal(hp_remove_tree(dir, &e), HP_OK);
}

int main(void) {
    const struct CMUnitTest tests[] = {cmocka_unit_test(test_usage), cmocka_unit_test(test_sft_then_eval)};
    return cmocka_run_group_tests(tests, NULL, NULL);
}
