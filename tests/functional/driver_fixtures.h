/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Fixtures shared by the driver's functional suites (test_driver.c,
 * test_driver_safety.c): volumes on the private daemon, drivers opened on
 * it, and snapshots of everything an operation must leave unchanged on a
 * refusal (secrets, both domain XMLs, the volume's bytes).
 */
#pragma once

#include <glib.h>
#include <libvirt/libvirt.h>

#include "nvirt/nvirt.h"

/* The fixed key and the passphrase Nova derives from it (lowercase hex of
 * the key bytes: here the key's own hex spelling). */
#define FIXED_KEY   "00112233445566778899AABBCCDDEEFF00112233445566778899AABBCCDDEEFF"
#define PASSPHRASE  "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff"
#define OTHER_KEY   "ffeeddccbbaa99887766554433221100ffeeddccbbaa99887766554433221100"
#define VOLUME_SIZE (1024 * 1024)

#define LUKS_ENCRYPTION                                                                            \
    "{\"provider\": \"luks\", \"control_location\": \"front-end\", "                               \
    "\"cipher\": \"aes-xts-plain64\", \"key_size\": 256, "                                         \
    "\"encryption_key_id\": \"00000000-0000-0000-0000-000000000000\"}"

typedef struct {
    char *connection_info;
    char *path;
    nv_volume_request request;
} volume;

typedef struct {
    int secrets;
    char *live_xml;
    char *persistent_xml;
    char *volume_sha256; /* NULL when the volume file does not exist */
} host_state;

char *write_conf(const char *name, const char *key, const char *extra);
nv_driver *open_driver_with(const char *key, const char *extra);
nv_driver *open_driver(void);
char *connection_info(const char *volume_id, const char *path, gboolean encrypted);
void volume_free(volume *vol);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(volume, volume_free)
volume *volume_new(const char *volume_id, const char *file, const char *dev,
                   const char *encryption);
volume *luks_volume(const char *volume_id, const char *file, const char *dev);
virConnectPtr connect_daemon(void);
int secret_count(void);
/* Whether gdb's output shows the inferior stopped at a breakpoint, in the
 * single- or the multi-threaded form. */
gboolean gdb_stopped_at_breakpoint(const char *gdb_out);
char *volume_secret(const char *volume_id);
gboolean has_volume_secret(const char *volume_id);
char *domain_xml(const char *name, unsigned int flags);
gboolean domain_exists(const char *name);
char *secret_usages(void);
char *file_sha256(const char *path);
virDomainPtr start_domain(const char *name);
void host_state_clear(host_state *state);
G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC(host_state, host_state_clear)
void snapshot(host_state *state, const char *domain, const char *volume_path);
void assert_unchanged(const host_state *before, const char *domain, const char *volume_path);
void attach_ok(nv_driver *driver, const char *domain, const volume *vol);
void detach_ok(nv_driver *driver, const char *domain, const volume *vol);
void attach_fails(nv_driver *driver, const char *domain, const volume *vol, int code,
                  const char *message);
gboolean has_disk(const char *domain, unsigned int flags, const char *dev);
guint dm_mappings(void);
char *loop_attach(const char *path);
void loop_detach(const char *dev);
volume *luks_block_volume(const char *volume_id, const char *file, const char *dev);
gboolean is_block_device(const char *path);

/* Write 64 KiB of @pattern at offset 0 of the SCSI disk sdb through QEMU
 * (HMP qemu-io on the device, so through its LUKS layer), and flush. */
void qemu_write_pattern(virDomainPtr dom, int pattern);
/* TRUE when qemu-io on the host, opening the LUKS volume at @path with
 * PASSPHRASE, reads @pattern back at offset 0. */
gboolean host_reads_pattern(const char *path, int pattern);
