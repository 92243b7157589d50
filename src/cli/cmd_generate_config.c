/* SPDX-License-Identifier: Apache-2.0 */
/* placeholder: being written */
#include "cli/cli.h"

int
nv_cmd_generate_config(int argc, char **argv)
{
    return NV_EXIT_FAILED;
}
