/* Rollout throughput of the agent with the default small model on a built-in environment: turns/s,
 * generated tokens/s, prompt tokens/s, and the prompt length distribution of each prompt style.
 *
 *   bench_agent_rollout TOKENIZER [env=alfworld] [style=compact] [format=hiper] [tasks=16] [group=1]
 *                       [steps=10] [max_new=48] [model=DIR]
 *
 * Without model=DIR the default small model (hp_config_default with the tokenizer's vocabulary) is
 * initialised at random: throughput does not depend on the weights, only response lengths do. */
#include "hiper/agent.h"
#include "hiper/model.h"

#include <stdlib.h>
#include <string.h>

static const char *arg(int argc, char **argv, const char *key, const char *def) {
    size_t n = strlen(key);
    for (int i = 2; i < argc; i++)
        if (!strncmp(argv[i], key, n) && argv[i][n] == '=') return argv[i] + n + 1;
    return def;
}

static int cmp_int(const void *a, const void *b) { return *(const int *)a - *(const int *)b; }

int main(int argc, char **argv) {
    if (argc < 2) {
        fprintf(stderr, "usage: %s TOKENIZER [env=alfworld] [style=compact] [format=hiper] [tasks=16] [group=1] "
                        "[steps=10] [max_new=48] [model=DIR]\n", argv[0]);
        return 2;
    }
    hp_err e = {{0}};
    const char *env_kind = arg(argc, argv, "env", "alfworld");
    int tasks = atoi(arg(argc, argv, "tasks", "16")), group = atoi(arg(argc, argv, "group", "1"));
    hp_tok *tok = hp_tok_load(argv[1], &e);
    if (!tok) goto fail;
    hp_model *m;
    const char *mdir = arg(argc, argv, "model", NULL);
    if (mdir) m = hp_model_load(mdir, &e);
    else {
        hp_config c;
        hp_config_default(&c);
        c.vocab_size = hp_tok_vocab_size(tok);
        if (hp_config_validate(&c, "bench", &e)) goto fail;
        m = hp_model_init_random(&c, 1, &e);
    }
    if (!m) goto fail;
    hp_rollout_cfg cfg = hp_rollout_cfg_default(HP_FMT_HIPER, hp_env_family_of(env_kind));
    if (hp_fmt_parse(arg(argc, argv, "format", "hiper"), &cfg.prompt.fmt, &e)) goto fail;
    if (hp_prompt_style_parse(arg(argc, argv, "style", "compact"), &cfg.prompt.style, &e)) goto fail;
    cfg.prompt.max_prompt_tokens = 0; /* measure the natural lengths */
    cfg.n_tasks = tasks;
    cfg.group_n = group;
    cfg.max_steps = atoi(arg(argc, argv, "steps", "10"));
    cfg.gen.max_new_tokens = atoi(arg(argc, argv, "max_new", "48"));
    cfg.seed = 1;
    int n = tasks * group;
    hp_env **envs = calloc((size_t)n, sizeof *envs);
    for (int i = 0; i < n; i++)
        if (!(envs[i] = hp_env_open(env_kind, NULL, &e))) goto fail;
    hp_policy pol = hp_policy_model(m);
    hp_rollout r;
    if (hp_rollout_run(envs, tok, &pol, &cfg, &r, &e)) goto fail;
    int *len = malloc(r.n_turns * sizeof *len);
    for (size_t i = 0; i < r.n_turns; i++) len[i] = (int)r.turns[i].prompt.len;
    qsort(len, r.n_turns, sizeof *len, cmp_int);
    printf("{\"env\": \"%s\", \"style\": \"%s\", \"format\": \"%s\", \"vocab\": %d, \"params\": %lld, \"envs\": %d, "
           "\"turns\": %zu, \"seconds\": %.2f, \"gen_seconds\": %.2f, \"env_seconds\": %.3f, \"turns_per_s\": %.2f, "
           "\"gen_tokens_per_s\": %.1f, \"prompt_tokens_per_s\": %.1f, \"prompt_tokens_mean\": %.0f, "
           "\"prompt_tokens_p50\": %d, \"prompt_tokens_max\": %d, \"response_tokens_mean\": %.1f}\n",
           env_kind, arg(argc, argv, "style", "compact"), hp_fmt_name(cfg.prompt.fmt), hp_tok_vocab_size(tok),
           (long long)hp_model_n_params(m), n, r.n_turns, r.seconds, r.gen_seconds, r.env_seconds,
           r.n_turns / r.seconds, r.n_response_tokens / r.seconds, r.n_prompt_tokens / r.seconds,
           (double)r.n_prompt_tokens / (double)r.n_turns, len[r.n_turns / 2], len[r.n_turns - 1],
           (double)r.n_response_tokens / (double)r.n_turns);
    free(len);
    hp_rollout_free(&r);
    for (int i = 0; i < n; i++) hp_env_free(envs[i]);
    free(envs);
    hp_model_free(m);
    hp_tok_free(tok);
    return 0;
fail:
    fprintf(stderr, "bench_agent_rollout: %s\n", e.msg);
    return 1;
}
