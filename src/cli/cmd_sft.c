/* hiper sft — placeholder until its module lands; the module's owner replaces this file. */
#include "cli.h"

int hp_cmd_sft(int argc, char **argv) {
    (void)argc;
    (void)argv;
    return hp_cli_errorf("'hiper sft' is not built yet");
}
