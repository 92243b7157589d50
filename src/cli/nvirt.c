/* SPDX-License-Identifier: Apache-2.0 */
/* nvirt: dispatch "nvirt COMMAND [OPTIONS]" to the command's handler. */
#include <signal.h>
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"

static const nv_cli_command commands[] = {
    { "generate-config", "Print a commented sample configuration file", nv_cmd_generate_config },
    { "disk-xml", "Print the <disk> XML a volume would be attached with (no libvirt needed)",
      nv_cmd_disk_xml },
    { "host-info", "Show the libvirt and QEMU versions and whether QEMU decrypts LUKS",
      nv_cmd_host_info },
    { "attach-volume", "Attach an (encrypted) volume to a domain", nv_cmd_attach_volume },
    { "detach-volume", "Detach a volume from a domain and clean up its host side",
      nv_cmd_detach_volume },
    { "encryptor-attach", "Open a volume's dm-crypt mapping on this host (no libvirt needed)",
      nv_cmd_encryptor_attach },
    { "encryptor-detach", "Close a volume's dm-crypt mapping and restore its device path",
      nv_cmd_encryptor_detach },
};

static void
usage(FILE *out)
{
    fprintf(out, "Usage: nvirt COMMAND [OPTIONS]\n\n"
                 "Attach encrypted volumes to libvirt guests, decrypted natively by QEMU\n"
                 "where the host allows it (QEMU >= 2.6.0, libvirt >= 2.2.0).\n\n"
                 "Commands:\n");
    for (gsize i = 0; i < G_N_ELEMENTS(commands); i++)
        fprintf(out, "  %-18s %s\n", commands[i].name, commands[i].summary);
    fprintf(out, "\nRun 'nvirt COMMAND --help' for a command's options.\n"
                 "Exit status: 0 success, 1 operation failed, 2 bad usage or bad input.\n");
}

int
main(int argc, char **argv)
{
    g_autofree char *prgname = NULL;

    /* libvirt's remote driver writes to the daemon's socket: a daemon that
     * went away must not kill us with SIGPIPE (libvirt asks clients to
     * ignore it). */
    signal(SIGPIPE, SIG_IGN);
    if (argc < 2) {
        usage(stderr);
        return NV_EXIT_USAGE;
    }
    if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0 ||
        strcmp(argv[1], "help") == 0) {
        usage(stdout);
        return NV_EXIT_OK;
    }

    for (gsize i = 0; i < G_N_ELEMENTS(commands); i++) {
        if (strcmp(argv[1], commands[i].name) != 0)
            continue;
        prgname = g_strdup_printf("nvirt %s", commands[i].name);
        g_set_prgname(prgname);
        argv[1] = prgname;
        return commands[i].run(argc - 1, argv + 1);
    }

    fprintf(stderr, "nvirt: unknown command '%s' (see 'nvirt --help')\n", argv[1]);
    return NV_EXIT_USAGE;
}
