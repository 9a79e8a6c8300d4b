/* main.c — `hiper CMD ...`: dispatch to one subcommand per file. */
#include "cli.h"

#include "hiper/dist.h"
#include "hiper/suggest.h"

#include <string.h>
#include <unistd.h>

typedef struct {
    const char *name;
    hp_cmd_fn fn;
    const char *summary;
    hp_dist_cmd_fn dist_fn; /* the commands that run data-parallel under mpirun (fn is then NULL) */
} hp_command;

static const hp_command COMMANDS[] = {
    {"train", NULL, "train an agent with HiPER or a baseline (default: the built-in ALFWorld, small model)",
     hp_cmd_train},
    {"eval", NULL, "evaluate a model on an environment split", hp_cmd_eval},
    {"report", hp_cmd_report, "write a run directory's report.html, or one page overlaying several runs", NULL},
    {"study", hp_cmd_study, "run a grid of training runs (method x seed x environment) and tabulate it", NULL},
    {"gradvar", hp_cmd_gradvar, "variance of the policy gradient under HAE, turn-level and token-level GAE", NULL},
    {"sft", NULL, "supervised warm start on expert demonstrations", hp_cmd_sft},
    {"play", hp_cmd_play, "play an environment in the terminal", NULL},
    {"env", hp_cmd_env, "environment tools (env stats)", NULL},
    {"advantage", hp_cmd_advantage, "compute advantages (hae|gae|grpo|rloo|gigpo) for turn records on stdin", NULL},
    {"tokenizer", hp_cmd_tokenizer, "tokenizer tools (train, encode, decode, chat)", NULL},
    {"init", hp_cmd_init, "create a randomly initialised Qwen2 model directory", NULL},
    {"score", hp_cmd_score, "log-probs, loss and gradients of a model on one token sequence", NULL},
    {"generate", hp_cmd_generate, "sample text from a model", NULL},
    {"serve", hp_cmd_serve, "serve a built-in environment over the external-environment protocol (stdin/stdout)", NULL},
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

static int run_command(const hp_command *c, int argc, char **argv, const hp_dist *dist) {
    if (c->dist_fn) return c->dist_fn(argc, argv, dist);
    if (hp_dist_parallel(dist)) {
        if (hp_dist_root(dist))
            fprintf(stderr, "hiper: error: 'hiper %s' does not run data-parallel: run it as one process (under mpirun "
                    "with several ranks only train, sft and eval run)\n", c->name);
        return HP_EXIT_USAGE;
    }
    return c->fn(argc, argv);
}

static int dispatch(int argc, char **argv, const hp_dist *dist) {
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
                return run_command(&COMMANDS[i], 3, sub, dist);
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
        if (!strcmp(COMMANDS[i].name, cmd)) return run_command(&COMMANDS[i], argc, argv, dist);
    return unknown_command(cmd);
}

int main(int argc, char **argv) {
    /* Not a terminal: a 64 KiB buffer, so that a write error on any output up to that size surfaces
     * in the final flush with its reason (ENOSPC, EPIPE, EIO); commands that stream flush as before. */
    if (!isatty(STDOUT_FILENO)) setvbuf(stdout, NULL, _IOFBF, (size_t)1 << 16);
    /* Under mpirun: one rank of a data-parallel job (hiper/dist.h); the context goes to the commands
     * that run data-parallel, and only rank 0 prints. */
    hp_dist dist;
    hp_err err = {{0}};
    if (hp_dist_init(&dist, &argc, &argv, &err)) {
        if (dist.rank == 0) fprintf(stderr, "hiper: error: %s\n", err.msg);
        return HP_EXIT_ERROR;
    }
    int rc = hp_cli_finish(dispatch(argc, argv, &dist));
    /* A failed rank exits without MPI_Finalize (which waits for every rank): if the others are not
     * failing with it, mpirun sees the non-zero exit and ends them, instead of all waiting forever. */
    if (rc == HP_EXIT_OK) hp_dist_finalize(&dist);
    return rc;
}
