/* SPDX-License-Identifier: Apache-2.0 */
/* nvirt: global options, then dispatch "COMMAND [OPTIONS]" to the
 * command's handler. */
#include <libvirt/libvirt.h>
#include <libvirt/virterror.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>

#include "cli.h"

static const nv_cli_command commands[] = {
    { "generate-config", "Print a commented sample configuration file", nv_cmd_generate_config,
      TRUE },
    { "disk-xml", "Print the <disk> XML a volume would be attached with (no libvirt needed)",
      nv_cmd_disk_xml, TRUE },
    { "host-info", "Show the libvirt and QEMU versions and whether QEMU decrypts LUKS",
      nv_cmd_host_info },
    { "attach-volume", "Attach an (encrypted) volume to a domain", nv_cmd_attach_volume },
    { "detach-volume", "Detach a volume from a domain and clean up its host side",
      nv_cmd_detach_volume },
    { "extend-volume", "Make a domain see a volume Cinder has grown", nv_cmd_extend_volume },
    { "swap-volume", "Swap a domain's volume for another by block copy", nv_cmd_swap_volume },
    { "encryptor-attach", "Open a volume's dm-crypt mapping on this host (no libvirt needed)",
      nv_cmd_encryptor_attach, TRUE },
    { "encryptor-detach", "Close a volume's dm-crypt mapping and restore its device path",
      nv_cmd_encryptor_detach, TRUE },
    { "migrate", "Live-migrate a domain with its encrypted volumes to another host",
      nv_cmd_migrate },
    { "reconcile", "Remove the volume secrets and crypt-* mappings no domain uses",
      nv_cmd_reconcile },
    { "spawn", "Define and start an instance with its (encrypted) volumes", nv_cmd_spawn },
    { "power-off", "Stop an instance; its volumes stay connected", nv_cmd_power_off },
    { "power-on", "Start an instance again with its volumes", nv_cmd_power_on },
    { "reboot", "Hard-reboot an instance with its volumes", nv_cmd_reboot },
    { "resume-guests-state", "Start instances a host reboot or libvirtd restart stopped",
      nv_cmd_resume_guests_state },
    { "destroy", "Destroy and undefine an instance and clean up its volumes", nv_cmd_destroy },
};

static void
usage(FILE *out)
{
    fprintf(out, "Usage: nvirt [GLOBAL OPTIONS] COMMAND [OPTIONS]\n\n"
                 "Attach encrypted volumes to libvirt guests, decrypted natively by QEMU\n"
                 "where the host allows it (QEMU >= 2.6.0, libvirt >= 2.2.0).\n\n"
                 "Commands:\n");
    for (gsize i = 0; i < G_N_ELEMENTS(commands); i++)
        fprintf(out, "  %-20s %s\n", commands[i].name, commands[i].summary);
    fprintf(out, "\nGlobal options (also accepted after the command):\n");
    nv_cli_print_global_options(out);
    fprintf(out, "\nWithout --config-file, /etc/nvirt/nvirt.conf is read if it exists; without\n"
                 "--config-file and --config-dir, /etc/nvirt/nvirt.conf.d/*.conf as well.\n");
    fprintf(out, "\nRun 'nvirt COMMAND --help' for a command's options.\n"
                 "Exit status: 0 success, 1 operation failed, 2 bad usage or bad input.\n");
}

/* libvirt prints every error on stderr unless told otherwise; the commands
 * report the ones that matter themselves, in one line.  This is a
 * process-wide hook, so it lives here in the program and not in the
 * library. */
static void
silent_libvirt_error(void *data, virErrorPtr error)
{
}

/* libvirt's keepalive ([libvirt] keepalive_interval) runs on its event
 * loop, and that loop is process-wide: the program runs it, in a thread of
 * its own as virsh does, before a command that connects opens its
 * connection; the library only asks for keepalive on that connection. */
static gpointer
run_libvirt_events(gpointer data)
{
    while (virEventRunDefaultImpl() == 0)
        ;
    g_debug("libvirt event loop stopped: %s", virGetLastErrorMessage());
    return NULL;
}

static void
start_libvirt_event_loop(void)
{
    if (virEventRegisterDefaultImpl() < 0) {
        g_debug("no libvirt event loop, so no keepalive: %s", virGetLastErrorMessage());
        return;
    }
    g_thread_unref(g_thread_new("nvirt-libvirt-events", run_libvirt_events, NULL));
}

/* Keys must not reach a core dump or a debugger attached by the same user:
 * MADV_DONTDUMP covers the key pages, this covers the rest (passphrases on
 * their way into libvirt's RPC buffers, libcryptsetup's copies). */
static void
make_undumpable(void)
{
    const struct rlimit no_core = { 0, 0 };

    if (prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) != 0)
        fprintf(stderr, "nvirt: warning: cannot make the process non-dumpable: %s\n",
                g_strerror(errno));
    (void)setrlimit(RLIMIT_CORE, &no_core);
}

int
main(int argc, char **argv)
{
    g_autofree char *prgname = NULL;
    gboolean help = FALSE;
    int exit_code = NV_EXIT_OK;

    make_undumpable();
    nv_cli_init_logging();
    /* libvirt's remote driver writes to the daemon's socket: a daemon that
     * went away must not kill us with SIGPIPE (libvirt asks clients to
     * ignore it). */
    signal(SIGPIPE, SIG_IGN);
    virSetErrorFunc(NULL, silent_libvirt_error);

    g_set_prgname("nvirt");
    if (!nv_cli_parse_global(&argc, &argv, &help, &exit_code))
        return exit_code;
    if (help || (argc >= 2 && strcmp(argv[1], "help") == 0)) {
        usage(stdout);
        return NV_EXIT_OK;
    }
    if (argc < 2) {
        usage(stderr);
        return NV_EXIT_USAGE;
    }

    for (gsize i = 0; i < G_N_ELEMENTS(commands); i++) {
        if (strcmp(argv[1], commands[i].name) != 0)
            continue;
        if (!commands[i].offline)
            start_libvirt_event_loop();
        prgname = g_strdup_printf("nvirt %s", commands[i].name);
        g_set_prgname(prgname);
        argv[1] = prgname;
        return commands[i].run(argc - 1, argv + 1);
    }

    fprintf(stderr, "nvirt: unknown command '%s' (see 'nvirt --help')\n", argv[1]);
    return NV_EXIT_USAGE;
}
