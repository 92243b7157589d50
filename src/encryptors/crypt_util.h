/* SPDX-License-Identifier: Apache-2.0 */
/*
 * libcryptsetup plumbing shared by the safe probe/format (luks_format.c) and
 * the dm-crypt encryptors (luks.c, cryptsetup.c): error text collection and
 * cryptsetup's --cipher syntax.  Internal to src/encryptors/.
 */
#pragma once

#include <glib.h>
#include <libcryptsetup.h>

G_BEGIN_DECLS

/* libcryptsetup reports through a log callback, not through its return
 * codes: an nv_crypt_log collects the last error line for the GError.
 * Messages never contain passphrases or keys. */
typedef struct {
    char *last_error;
} nv_crypt_log;

/* Start collecting into @log; nv_crypt_open*() route their handle's
 * messages to it (a per-device callback, never the global one).  Free what
 * was collected with nv_crypt_log_end(). */
void nv_crypt_log_begin(nv_crypt_log *log);
void nv_crypt_log_end(nv_crypt_log *log);

/* Route @cd's messages to @log (NULL: debug log only). */
void nv_crypt_log_attach(struct crypt_device *cd, nv_crypt_log *log);

/* " (libcryptsetup: MSG)", or "" when libcryptsetup logged no error.
 * Caller owns the result. */
char *nv_crypt_log_detail(const nv_crypt_log *log);

/* crypt_init(@path) with the handle's log routed to @log.  Errors:
 * NV_ERROR_CRYPT "volume PATH: libcryptsetup cannot open it: ...". */
struct crypt_device *nv_crypt_open(const char *path, nv_crypt_log *log, GError **error);

/* nv_crypt_open(@path) and crypt_load() of its LUKS header (any version).
 * Errors (NV_ERROR_CRYPT) name @what, the volume ("volume WHAT: PATH
 * carries no LUKS header", "volume WHAT: libcryptsetup cannot read PATH:
 * ..."); when @what is @path, only once ("volume PATH carries no LUKS
 * header"). */
struct crypt_device *nv_crypt_open_loaded(const char *what, const char *path, nv_crypt_log *log,
                                          GError **error);

/* crypt_init_by_name(@name) for an active mapping, log routed to @log.
 * Errors: NV_ERROR_CRYPT naming @volume_id and the mapping. */
struct crypt_device *nv_crypt_open_by_name(const char *name, const char *volume_id,
                                           nv_crypt_log *log, GError **error);

/* crypt_free(); NULL is a no-op. */
void nv_crypt_close(struct crypt_device *cd);

/* Split cryptsetup's --cipher argument "CIPHER-MODE" as cryptsetup does
 * (crypt_parse_name_and_mode): a bare "CIPHER" or mode "plain" means
 * "cbc-plain".  @what names the volume in the NV_ERROR_BAD_INPUT message.
 * Caller owns *@cipher and *@mode. */
gboolean nv_crypt_split_cipher(const char *what, const char *spec, char **cipher, char **mode,
                               GError **error);

G_END_DECLS
