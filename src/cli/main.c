/* main.c — `hiper CMD ...`: dispatch to one subcommand per file. */
#include "cli.h"

#include "hiper/suggest.h"

#include <string.h>
#include <unistd.h>

typedef struct {
    const char *name;
    hp_cmd_fn fn;
    const char *summary;
} hp_command;

static const hp_command COMMANDS[] = {
    {"train", hp_cmd_train, "train an agent with HiPER or a baseline (default: the built-in ALFWorld, small model)"},
    {"eval", hp_cmd_eval, "evaluate a model on an environment split"},
    {"report", hp_cmd_report, "write a run directory's report.html (training curves)"},
    {"sft", hp_cmd_sft, "supervised warm start on expert demonstrations"},
    {"play", hp_cmd_play, "play an environment in the terminal"},
    {"env", hp_cmd_env, "environment tools (env stats)"},
    {"advantage", hp_cmd_advantage, "compute advantages (hae|gae|grpo|rloo|gigpo) for turn records on stdin"},
    {"tokenizer", hp_cmd_tokenizer, "tokenizer tools (train, encode, decode, chat)"},
    {"init", hp_cmd_init, "create a randomly initialised Qwen2 model directory"},
    {"score", hp_cmd_score, "log-probs, loss and gradients of a model on one token sequence"},
    {"generate", hp_cmd_generate, "sample text from a model"},
    {"serve", hp_cmd_serve, "serve a built-in environment over the external-environment protocol (stdin/stdout)"},
};
#define N_COMMANDS (sizeof COMMANDS / sizeof COMMANDS[0])

static void print_help(FILE *out) {
    fprintf(out, "hiper %s — hierarchical plan-execute RL for LLM agents (HiPER), in C\n\n", HIPER_VERSION);
    fprintf(out, "usage: hiper COMMAND [options]   (hiper COMMAND --help for its options)\n\ncommands:\n");
    for (size_t i = 0; i < N_COMMANDS; i++) fprintf(out, "  %-10s %s\n", COMMANDS[i].name, COMMANDS[i].summary);
    fprintf(out, "  %-10s %s\n  %-10s %s\n", "help", "show this help", "version", "print the version");
}

/* "hiper: unknown command 'trian' (did you mean 'train'?)" */
static int unknown_command(const char *cmd) {
    hp_suggest s;
    hp_suggest_init(&s, cmd);
    for (size_t i = 0; i < N_COMMANDS; i++) hp_suggest_add(&s, COMMANDS[i].name);
    hp_suggest_add(&s, "help");
    hp_suggest_add(&s, "version");
    const char *best = hp_suggest_best(&s);
    if (best) fprintf(stderr, "hiper: unknown command '%s' (did you mean '%s'?)\n", cmd, best);
    else fprintf(stderr, "hiper: unknown command '%s' (see 'hiper help')\n", cmd);
    return HP_EXIT_USAGE;
}

static int dispatch(int argc, char **argv) {
    if (argc < 2) {
        print_help(stderr);
        return HP_EXIT_USAGE;
    }
    const char *cmd = argv[1];
    if (!strcmp(cmd, "help") || !strcmp(cmd, "--help") || !strcmp(cmd, "-h")) {
        if (argc > 2) {
            for (size_t i = 0; i < N_COMMANDS; i++) {
                if (strcmp(COMMANDS[i].name, argv[2])) continue;
                char *sub[] = {argv[0], argv[2], "--help", NULL};
                return COMMANDS[i].fn(3, sub);
            }
            return unknown_command(argv[2]);
        }
        print_help(stdout);
        return HP_EXIT_OK;
    }
    if (!strcmp(cmd, "version") || !strcmp(cmd, "--version")) {
        printf("hiper %s\n", HIPER_VERSION);
        return HP_EXIT_OK;
    }
    for (size_t i = 0; i < N_COMMANDS; i++)
        if (!strcmp(COMMANDS[i].name, cmd)) return COMMANDS[i].fn(argc, argv);
    return unknown_command(cmd);
}

int main(int argc, char **argv) {
    /* Not a terminal: a 64 KiB buffer, so that a write error on any output up to that size surfaces
     * in the final flush with its reason (ENOSPC, EPIPE, EIO); commands that stream flush as before. */
    if (!isatty(STDOUT_FILENO)) setvbuf(stdout, NULL, _IOFBF, (size_t)1 << 16);
    return hp_cli_finish(dispatch(argc, argv));
}
