/* hiper generate — placeholder until its module lands; the module's owner replaces this file. */
#include "cli.h"

int hp_cmd_generate(int argc, char **argv) {
    (void)argc;
    (void)argv;
    return hp_cli_errorf("'hiper generate' is not built yet");
}
