/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Where a key may leak from a real nvirt run: the CLI under strace with
 * every debug switch on; every execve (argv, environment) and every write to
 * a non-socket file descriptor is checked for the key's spellings, and so
 * are stdout and stderr (test_key_hygiene.c, test_barbican.c).
 */
#pragma once

#include <glib.h>

/* The three spellings of the key that must not leak. */
typedef struct {
    GBytes *config_hex; /* FIXED_KEY as written in the file */
    GBytes *passphrase; /* lowercase hex, what QEMU and libcryptsetup get */
    GBytes *raw;        /* the 32 key bytes */
} key_forms;

typedef struct {
    guint execs;
    guint file_writes;   /* writes to anything but a socket */
    guint socket_writes; /* writes to a socket */
    gboolean key_on_socket;
} trace_summary;

typedef struct {
    int status;
    char *out;
    char *err;
} run_result;

/* The forms of @hex_key (the key's bytes in hex, any case). */
void key_forms_init(key_forms *k, const char *hex_key);
void key_forms_clear(key_forms *k);
/* Which key form @data holds, or "" (never NULL). */
const char *leak_in(const void *data, gsize len, const key_forms *k);
/* Check one strace log: no execve and no write to a non-socket carries the
 * key; counts into @sum. */
void check_trace(const char *log, const key_forms *k, trace_summary *sum);
void run_result_clear(run_result *r);
/* Run nvirt --debug ARGS under strace with G_MESSAGES_DEBUG=all; the trace
 * goes to @log. */
void run_traced(const char *log, const char *const *args, run_result *r);
/* Neither stream carries the key, and debug output was on. */
void assert_output_clean(const run_result *r, const key_forms *k);
