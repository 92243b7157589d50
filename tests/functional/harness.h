/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Functional test harness: one private libvirtd (QEMU, TCG) per test binary.
 *
 * Linking nv_harness gives the test binary its main(): it runs the tests one
 * at a time (--jobs 1 unless given: tests share the daemon and some restart
 * it), starts the daemon with tests/functional/libvirtd-env.sh in a fresh
 * directory before the first test and tears it down after the last one, also
 * when tests fail or the runner is stopped by SIGINT/SIGTERM/SIGHUP.  The
 * QEMU capability cache is shared through $NVIRT_BUILD_ROOT/tests/qemu-caps-cache
 * (override: $NVIRT_QEMU_CAPS_CACHE), so only the first start pays the probe.
 *
 * Tests do not skip: if the daemon cannot start, every test that asks for it
 * fails with the script's message.
 *
 * Every helper asserts (fails the current test) instead of returning errors.
 * Key material here is test data.
 */
#pragma once

#include <glib.h>
#include <libvirt/libvirt.h>

G_BEGIN_DECLS

/* Hypervisor version of the test hosts' QEMU in libvirt's encoding
 * (major * 1000000 + minor * 1000 + micro), as the daemon reports it. */
#define NV_HARNESS_QEMU_MIN_PLAUSIBLE 7002000ULL

/* A fixture every test of the binary shares, run in the runner process:
 * @start after the daemon has started and before the first test, @stop
 * after the last test (also from atexit; it must be idempotent).  Call it
 * from a constructor (criterion names report hooks by line, so a second
 * file's hooks may clash with the harness's).  At most 4. */
void nv_harness_add_fixture(void (*start)(void), void (*stop)(void));

/* Connection URI of the private daemon (borrowed, valid for the test). */
const char *nv_harness_uri(void);

/* The daemon's state directory (borrowed). */
const char *nv_harness_dir(void);

/* A new connection to the private daemon; the caller closes it. */
virConnectPtr nv_harness_connect(void);

/* A second private daemon, for migration tests: its own state directory
 * (DIR/peer, borrowed), host UUID and URI, started on first use and torn
 * down with the main one.  Files under the main DIR are shared storage for
 * both.  nv_harness_peer_connect(): a new connection the caller closes. */
const char *nv_harness_peer_dir(void);
const char *nv_harness_peer_uri(void);
virConnectPtr nv_harness_peer_connect(void);

/* Stop the daemon (SIGTERM, orderly) and start it again in the same
 * directory: persistent domains and secrets stay, ephemeral ones go.  Open
 * connections die; reconnect. */
void nv_harness_restart_daemon(void);

/* Stop the daemon and leave it stopped, to test "daemon not running"; the
 * next nv_harness_start_daemon() (or the teardown) takes it from there. */
void nv_harness_stop_daemon(void);
void nv_harness_start_daemon(void);

/* Make the daemon report @version (libvirt encoding, e.g. 2005000) as its
 * QEMU version: restarts it with an edited capability cache.  The old
 * libvirt side cannot be simulated: libvirtd reports its own version. */
void nv_harness_set_qemu_version(guint64 version);
/* Undo nv_harness_set_qemu_version(); a no-op if it was never called. */
void nv_harness_reset_qemu_version(void);

/* Define and start a TCG domain named @name with no guest OS, a virtio-scsi
 * controller and machine type 'pc' (tests/functional/data/domain-tcg.xml).
 * The caller frees the handle (virDomainFree); the teardown kills QEMU. */
virDomainPtr nv_harness_start_domain(virConnectPtr conn, const char *name);

/* Define (not start) the same domain. */
virDomainPtr nv_harness_define_domain(virConnectPtr conn, const char *name);

/* The deterministic plaintext the helpers below write: each 512-byte sector
 * starts with its sector number and is filled with a byte derived from it,
 * so a shifted or zeroed sector does not compare equal. */
GBytes *nv_harness_plaintext(gsize size);

/* Create a LUKS1 volume file at @path whose payload is
 * nv_harness_plaintext(@size), unlocked by @passphrase.  Cheap KDF
 * (qemu-img, iter-time 10 ms); the passphrase goes through a 0600 file in
 * the daemon directory, never argv. */
void nv_harness_create_luks_volume(const char *path, const char *passphrase, gsize size);
/* The same with @plain (borrowed; its size is the payload's) as payload. */
void nv_harness_create_luks_volume_with(const char *path, const char *passphrase, GBytes *plain);

/* <disk type='file' device='disk'> for a LUKS volume file on the SCSI bus
 * (<target dev=@target_dev bus='scsi'/>) with <encryption format='luks'>
 * using secret @secret_uuid; NULL @secret_uuid: no <encryption>.  Built
 * here, not with the config module, so the harness checks libvirt and QEMU
 * independently of the code under test.  Caller frees. */
char *nv_harness_disk_xml(const char *path, const char *target_dev, const char *secret_uuid);

/* Run a QMP command (a JSON object) on a running domain; returns the reply
 * (caller frees).  Asserts that the reply has no "error". */
char *nv_harness_qmp(virDomainPtr dom, const char *command_json);

/* QEMU's block node that presents the guest-visible contents of disk
 * @target_dev ("sda"): "libvirt-N-format" from the live XML's
 * <source index='N'>.  Caller frees. */
char *nv_harness_format_node(virDomainPtr dom, const char *target_dev);

/* What QEMU reads from disk @target_dev of running @dom, first @size
 * bytes: blockdev-backup (sync full) of the format node into a raw file,
 * which proves QEMU decrypts the volume without a guest OS. */
GBytes *nv_harness_read_back(virDomainPtr dom, const char *target_dev, gsize size);

/* A file under the daemon directory for test data (caller frees). */
char *nv_harness_path(const char *name);

/* X.Y.Z of `@program --version` ("libvirtd", "qemu-system-x86_64") as
 * NV_VERSION(): an independent witness of what libvirt reports. */
guint64 nv_harness_program_version(const char *program);

G_END_DECLS
