/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The nvirt command-line client.  It parses arguments, calls the library and
 * prints; any logic a compute service would also need lives in the library.
 */
#pragma once

#include <glib.h>
#include <stdio.h>

#include "nvirt/nvirt.h"

G_BEGIN_DECLS

/* Exit codes shared by every command. */
enum {
    NV_EXIT_OK = 0,
    NV_EXIT_FAILED = 1, /* the operation failed */
    NV_EXIT_USAGE = 2,  /* bad usage or bad input */
};

typedef struct {
    const char *name;
    const char *summary;
    /* argv[0] is "nvirt NAME"; returns an NV_EXIT_* code. */
    int (*run)(int argc, char **argv);
    /* It works offline (no libvirt connection): no event loop for it. */
    gboolean offline;
} nv_cli_command;

/* Send every GLib message to stderr (never stdout, which carries a
 * command's data) and honour --debug/--verbose.  Call first in main(). */
void nv_cli_init_logging(void);

/* Parse the global options before the command ("nvirt [--config-file
 * FILE]... [--config-dir DIR] [--debug] [--verbose] COMMAND ..."), stopping
 * at the first argument that is not an option; *@help is set for
 * --help/-h.  Returns FALSE and sets *exit_code on a usage error. */
gboolean nv_cli_parse_global(int *argc, char ***argv, gboolean *help, int *exit_code);

/* The global options for "nvirt --help". */
void nv_cli_print_global_options(FILE *out);

/* The same global options, accepted after the command too (where --config
 * and -c have always been): both positions add to one list of files, global
 * ones first.  Add them to a command's GOptionContext with
 * nv_cli_add_common_options(). */
void nv_cli_add_common_options(GOptionContext *ctx);

/* Parse @argv with @ctx (help and errors handled); returns FALSE and sets
 * *exit_code when the command should exit now. */
gboolean nv_cli_parse(GOptionContext *ctx, int *argc, char ***argv, int *exit_code);

/* Load the configuration the options name (nv_conf_load_files: every
 * --config-file/--config in order, then --config-dir), or, without
 * --config-file, /etc/nvirt/nvirt.conf if it exists and (without
 * --config-dir either) /etc/nvirt/nvirt.conf.d/\*.conf if the directory
 * exists, or the built-in defaults.  Warnings go to stderr. */
nv_conf *nv_cli_load_conf(GError **error);

/* Print "nvirt: MESSAGE" on stderr and map the error to an exit code
 * (bad input, config errors -> 2; everything else -> 1). */
int nv_cli_fail(const GError *error);

/* Read FILE, or standard input when FILE is "-": a regular file or a pipe
 * (a FIFO's writer gets 2 s to start), at most 1 MiB, with no NUL byte.
 * A device node, directory or socket is never read.  Errors are
 * NV_ERROR_BAD_INPUT, one line naming the file. */
gboolean nv_cli_read_input(const char *file, char **contents, GError **error);

/* Open the driver with the configuration chosen as for nv_cli_load_conf(),
 * connecting to @connect_uri or [libvirt] connection_uri; configuration
 * warnings go to stderr.  nv_driver_open() reads one file, so more than one
 * file in all is refused (NV_ERROR_UNSUPPORTED, naming them) until the
 * driver opens from a list. */
nv_driver *nv_cli_open_driver(const char *connect_uri, GError **error);

/* Print "nvirt COMMAND: MESSAGE (see --help)" on stderr; returns
 * NV_EXIT_USAGE. */
int nv_cli_usage_error(const char *format, ...) G_GNUC_PRINTF(1, 2);

/* Print @text on stdout, newline-terminated; NV_EXIT_OK, or NV_EXIT_FAILED
 * (with a message) when stdout cannot be written. */
int nv_cli_print(const char *text);

int nv_cmd_generate_config(int argc, char **argv);
int nv_cmd_disk_xml(int argc, char **argv);
int nv_cmd_host_info(int argc, char **argv);
int nv_cmd_attach_volume(int argc, char **argv);
int nv_cmd_detach_volume(int argc, char **argv);
int nv_cmd_extend_volume(int argc, char **argv);
int nv_cmd_swap_volume(int argc, char **argv);
int nv_cmd_encryptor_attach(int argc, char **argv);
int nv_cmd_encryptor_detach(int argc, char **argv);
int nv_cmd_migrate(int argc, char **argv);
int nv_cmd_reconcile(int argc, char **argv);
int nv_cmd_spawn(int argc, char **argv);
int nv_cmd_destroy(int argc, char **argv);
int nv_cmd_power_off(int argc, char **argv);
int nv_cmd_power_on(int argc, char **argv);
int nv_cmd_reboot(int argc, char **argv);
int nv_cmd_resume_guests_state(int argc, char **argv);

G_END_DECLS
