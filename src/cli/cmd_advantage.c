/* hiper advantage — placeholder until its module lands; the module's owner replaces this file. */
#include "cli.h"

int hp_cmd_advantage(int argc, char **argv) {
    (void)argc;
    (void)argv;
    return hp_cli_errorf("'hiper advantage' is not built yet");
}
