/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Volume drivers against real storage back-ends: a Cinder connection_info
 * goes through the code a compute host runs (nv_connection_info_parse ->
 * nv_volume_get_config -> nv_disk_config_set_luks_encryption -> nv_disk_config_to_xml
 * -> nv_host_create_volume_secret + nv_guest_attach_device), the disk is
 * hot-plugged into a running TCG domain, and QEMU's view of it is read back
 * over QMP (nv_harness_read_back) and compared with the plaintext.
 *
 * Back-ends, each started by the test and stopped in its .fini:
 *   file   a LUKS1 (or plain) image file                  type='file'
 *   block  that image on a loop device (losetup)          type='block'
 *   nbd    qemu-nbd exporting it on a unix socket or on   type='network' nbd
 *          127.0.0.1
 *   iscsi  Debian's userspace target tgtd on 127.0.0.1,   type='network' iscsi
 *          opened by QEMU's libiscsi initiator, also with CHAP
 * rbd needs a Ceph cluster; its XML is checked in tests/unit/test_volume.c.
 *
 * SCSI disks (sdX on the domain's virtio-scsi controller) are used because
 * they leave the domain at once without a guest OS, so each test detaches
 * its disk before the back-end goes away.
 */
#include "harness.h"

#include <criterion/criterion.h>
#include <criterion/parameterized.h>
#include <errno.h>
#include <gio/gio.h>
#include <libvirt/virterror.h>
#include <glib/gstdio.h>
#include <netinet/in.h>
#include <signal.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "nvirt/error.h"
#include "util/secure.h"
#include "virt/block_device.h"
#include "virt/libvirt/config.h"
#include "virt/libvirt/guest.h"
#include "virt/libvirt/host.h"
#include "virt/libvirt/volume/volume.h"

#define PASSPHRASE  "8f1e2d3c4b5a69788796a5b4c3d2e1f00f1e2d3c4b5a69788796a5b4c3d2e1f0"
#define VOLUME_SIZE (2 * 1024 * 1024)
#define TARGET_DEV  "sdb"
#define ISCSI_IQN   "iqn.2026-12.org.nvirt.test:volume"
#define NBD_EXPORT  "volume"
/* How long a back-end may take to accept connections.  Not a measurement:
 * a bound so that a broken daemon fails the test instead of hanging it. */
#define READY_TIMEOUT_US (20 * G_USEC_PER_SEC)

typedef enum {
    BACKEND_FILE,
    BACKEND_BLOCK,
    BACKEND_NBD,     /* unix socket: data.socket */
    BACKEND_NBD_TCP, /* 127.0.0.1: data.hosts and data.ports */
    BACKEND_ISCSI,
} backend_kind;

/* What a test started; its .fini stops it.  Each criterion test runs in a
 * child process of its own, so file-scope state is per test. */
static struct {
    char *loop_dev;
    GSubprocess *nbd;
    GSubprocess *tgtd;
    char *tgt_control; /* tgtd -C value: its own control socket */
} backend;

/* ---- helpers --------------------------------------------------------------- */

/* A volume file whose guest-visible contents are nv_harness_plaintext():
 * LUKS1 around it when @luks, else the plaintext itself. */
static char *
make_volume(const char *name, gboolean luks)
{
    char *path = nv_harness_path(name);

    if (luks) {
        nv_harness_create_luks_volume(path, PASSPHRASE, VOLUME_SIZE);
    } else {
        g_autoptr(GBytes) plain = nv_harness_plaintext(VOLUME_SIZE);
        g_autoptr(GError) error = NULL;

        cr_assert(g_file_set_contents(path, g_bytes_get_data(plain, NULL), VOLUME_SIZE, &error),
                  "%s", error ? error->message : "");
    }
    return path;
}

static char *
start_loop_device(const char *path)
{
    const char *argv[] = { "losetup", "--find", "--show", path, NULL };
    g_autoptr(GError) error = NULL;
    g_autofree char *out = NULL;
    g_autofree char *err = NULL;
    int status = -1;

    cr_assert(g_spawn_sync(NULL, (char **)argv, NULL, G_SPAWN_SEARCH_PATH, NULL, NULL, &out, &err,
                           &status, &error),
              "losetup: %s", error ? error->message : "");
    cr_assert(g_spawn_check_wait_status(status, NULL), "losetup --find --show %s: %s", path, err);
    backend.loop_dev = g_strdup(g_strstrip(out));
    return g_strdup(backend.loop_dev);
}

/* Whether a server listens on unix socket @socket, or on 127.0.0.1:@port
 * when @socket is NULL.  A probe: the connection is closed at once. */
static gboolean
server_accepts(const char *socket_path, guint16 port)
{
    struct sockaddr_un un = { .sun_family = AF_UNIX };
    struct sockaddr_in in = { .sin_family = AF_INET,
                              .sin_port = htons(port),
                              .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
    int fd = socket(socket_path ? AF_UNIX : AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    gboolean ok;

    cr_assert(fd >= 0, "socket: %s", g_strerror(errno));
    if (socket_path) {
        cr_assert(strlen(socket_path) < sizeof(un.sun_path), "%s: path too long", socket_path);
        strcpy(un.sun_path, socket_path);
        ok = connect(fd, (struct sockaddr *)&un, sizeof(un)) == 0;
    } else {
        ok = connect(fd, (struct sockaddr *)&in, sizeof(in)) == 0;
    }
    close(fd);
    return ok;
}

/* qemu-nbd in the foreground, serving @path raw (the LUKS container, if
 * any, is QEMU's to open) as export NBD_EXPORT on unix socket @socket_path,
 * or on 127.0.0.1:@port when @socket_path is NULL. */
static void
start_nbd(const char *path, const char *socket_path, guint16 port)
{
    g_autoptr(GSubprocessLauncher) launcher =
        g_subprocess_launcher_new(G_SUBPROCESS_FLAGS_STDOUT_SILENCE);
    g_autofree char *log = nv_harness_path("qemu-nbd.log");
    g_autofree char *port_arg = g_strdup_printf("--port=%u", port);
    g_autoptr(GError) error = NULL;
    gint64 deadline = g_get_monotonic_time() + READY_TIMEOUT_US;

    g_subprocess_launcher_set_stderr_file_path(launcher, log);
    /* --persistent: the server outlives one client (and the readiness
     * probe); --shared 4: QEMU may hold more than one connection. */
    if (socket_path)
        backend.nbd = g_subprocess_launcher_spawn(launcher, &error, "qemu-nbd", "--format=raw",
                                                  "--persistent", "--shared=4", "--export-name",
                                                  NBD_EXPORT, "--socket", socket_path, path, NULL);
    else
        backend.nbd = g_subprocess_launcher_spawn(
            launcher, &error, "qemu-nbd", "--format=raw", "--persistent", "--shared=4",
            "--export-name", NBD_EXPORT, "--bind=127.0.0.1", port_arg, path, NULL);
    cr_assert(backend.nbd != NULL, "qemu-nbd: %s", error ? error->message : "");
    while (!server_accepts(socket_path, port)) {
        /* The identifier is NULL once qemu-nbd has exited: fail at once. */
        cr_assert(g_get_monotonic_time() < deadline && g_subprocess_get_identifier(backend.nbd),
                  "qemu-nbd does not serve %s (see %s)", path, log);
        g_usleep(20 * 1000);
    }
}

/* A free TCP port on 127.0.0.1 for a server the test starts (the kernel
 * picks it; the tiny window until the server binds it is accepted). */
static guint16
free_port(void)
{
    struct sockaddr_in addr = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
    socklen_t len = sizeof(addr);
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

    cr_assert(fd >= 0);
    cr_assert(bind(fd, (struct sockaddr *)&addr, sizeof(addr)) == 0, "bind: %s", g_strerror(errno));
    cr_assert(getsockname(fd, (struct sockaddr *)&addr, &len) == 0);
    close(fd);
    return ntohs(addr.sin_port);
}

/* Run "tgtadm -C CONTROL @args" (@args a shell-style command line). */
static gboolean
tgtadm_ok(const char *args)
{
    g_autofree char *cmd = g_strdup_printf("tgtadm -C %s %s", backend.tgt_control, args);
    g_auto(GStrv) argv = NULL;
    int status = -1;

    cr_assert(g_shell_parse_argv(cmd, NULL, &argv, NULL), "%s", cmd);
    return g_spawn_sync(NULL, argv, NULL,
                        G_SPAWN_SEARCH_PATH | G_SPAWN_STDOUT_TO_DEV_NULL |
                            G_SPAWN_STDERR_TO_DEV_NULL,
                        NULL, NULL, NULL, NULL, &status, NULL) &&
           g_spawn_check_wait_status(status, NULL);
}

/* tgtd in the foreground on 127.0.0.1:@port with its own control socket,
 * exporting @path as LUN 1 of target ISCSI_IQN to any initiator; with
 * @chap_user, only to one that logs in with it and @chap_password. */
static void
start_tgtd(const char *path, guint16 port, const char *chap_user, const char *chap_password)
{
    g_autoptr(GSubprocessLauncher) launcher =
        g_subprocess_launcher_new(G_SUBPROCESS_FLAGS_STDOUT_SILENCE);
    g_autofree char *log = nv_harness_path("tgtd.log");
    g_autofree char *portal = g_strdup_printf("portal=127.0.0.1:%u", port);
    g_autoptr(GError) error = NULL;
    gint64 deadline = g_get_monotonic_time() + READY_TIMEOUT_US;
    g_autofree char *quoted_path = g_shell_quote(path);
    g_autofree char *lun = g_strdup_printf(
        "--lld iscsi --op new --mode logicalunit --tid 1 --lun 1 --backing-store %s", quoted_path);

    /* A control port of our own, so a system tgtd (socket.0) is left alone. */
    backend.tgt_control = g_strdup_printf("%d", 1000 + (int)(getpid() % 30000));
    g_subprocess_launcher_set_stderr_file_path(launcher, log);
    backend.tgtd =
        g_subprocess_launcher_spawn(launcher, &error, "tgtd", "--foreground", "--control-port",
                                    backend.tgt_control, "--iscsi", portal, NULL);
    cr_assert(backend.tgtd != NULL, "tgtd: %s", error ? error->message : "");
    while (!tgtadm_ok("--op show --mode system")) {
        /* The identifier is NULL once tgtd has exited (e.g. port taken). */
        cr_assert(g_get_monotonic_time() < deadline && g_subprocess_get_identifier(backend.tgtd),
                  "tgtd does not answer on control port %s (see %s)", backend.tgt_control, log);
        g_usleep(20 * 1000);
    }
    cr_assert(tgtadm_ok("--lld iscsi --op new --mode target --tid 1 --targetname " ISCSI_IQN),
              "tgtadm: cannot create target %s", ISCSI_IQN);
    cr_assert(tgtadm_ok(lun), "tgtadm: cannot add %s as LUN 1", path);
    cr_assert(tgtadm_ok("--lld iscsi --op bind --mode target --tid 1 --initiator-address ALL"),
              "tgtadm: cannot open target %s to initiators", ISCSI_IQN);
    if (chap_user) {
        /* A test password for a test target: tgtadm takes it only on its
         * command line.  QEMU gets it through a libvirt secret. */
        g_autofree char *account =
            g_strdup_printf("--lld iscsi --op new --mode account --user %s --password %s",
                            chap_user, chap_password);
        g_autofree char *bind_account =
            g_strdup_printf("--lld iscsi --op bind --mode account --tid 1 --user %s", chap_user);

        cr_assert(tgtadm_ok(account), "tgtadm: cannot create CHAP account %s", chap_user);
        cr_assert(tgtadm_ok(bind_account), "tgtadm: cannot require CHAP on %s", ISCSI_IQN);
    }
}

static void
stop_backends(void)
{
    if (backend.tgtd) {
        /* tgtd ignores SIGTERM while it has targets; this is its shutdown. */
        tgtadm_ok("--lld iscsi --op delete --mode target --tid 1 --force");
        if (!tgtadm_ok("--lld iscsi --op delete --mode system"))
            g_subprocess_force_exit(backend.tgtd);
        g_subprocess_wait(backend.tgtd, NULL, NULL);
        g_clear_object(&backend.tgtd);
    }
    if (backend.nbd) {
        g_subprocess_send_signal(backend.nbd, SIGTERM);
        g_subprocess_wait(backend.nbd, NULL, NULL);
        g_clear_object(&backend.nbd);
    }
    if (backend.loop_dev) {
        /* If QEMU still holds it, the kernel frees it when QEMU exits. */
        const char *argv[] = { "losetup", "--detach", backend.loop_dev, NULL };

        g_spawn_sync(NULL, (char **)argv, NULL, G_SPAWN_SEARCH_PATH, NULL, NULL, NULL, NULL, NULL,
                     NULL);
        g_clear_pointer(&backend.loop_dev, g_free);
    }
    g_clear_pointer(&backend.tgt_control, g_free);
}

/* ---- the attach path ----------------------------------------------------- */

static nv_host *
open_host(void)
{
    g_autoptr(GError) error = NULL;
    nv_host *host = nv_host_open(nv_harness_uri(), &error);

    cr_assert(host != NULL, "%s", error ? error->message : "");
    return host;
}

/* What the driver core does for one volume: connection_info -> disk config
 * -> (native LUKS: volume secret + <encryption>) -> XML -> hot-plug.
 * Returns the XML attached (caller frees). */
static char *
attach_volume(nv_host *host, nv_guest *guest, const char *connection_info, const nv_conf *conf,
              gboolean luks)
{
    g_autoptr(GError) error = NULL;
    g_autoptr(nv_connection_info) info = nv_connection_info_parse(connection_info, -1, &error);
    g_autoptr(nv_disk_info) disk_info = NULL;
    g_autoptr(nv_disk_config) disk = NULL;
    char *xml;

    cr_assert_not_null(info, "%s", error ? error->message : "");
    disk_info = nv_disk_info_new(TARGET_DEV, NULL, &error);
    cr_assert_not_null(disk_info, "%s", error ? error->message : "");
    disk = nv_volume_get_config(info, disk_info, conf, &error);
    cr_assert_not_null(disk, "%s", error ? error->message : "");
    if (luks) {
        g_autoptr(nv_secure_buf) pass = nv_secure_buf_new_from(PASSPHRASE, strlen(PASSPHRASE));
        g_autofree char *uuid =
            nv_host_create_volume_secret(host, info->volume_id, NULL, pass, &error);

        cr_assert_not_null(uuid, "%s", error ? error->message : "");
        nv_disk_config_set_luks_encryption(disk, uuid);
    }
    xml = nv_disk_config_to_xml(disk, &error);
    cr_assert_not_null(xml, "%s", error ? error->message : "");
    cr_assert(nv_guest_attach_device(guest, xml, &error), "%s\n%s", error ? error->message : "",
              xml);
    return xml;
}

typedef struct {
    backend_kind kind;
    gboolean luks;
    char name[24]; /* domain, volume id and file names */
} backend_case;

/* connection_info for @c's back-end, started here on the volume at @path. */
static char *
start_backend(const backend_case *c, const char *path, nv_conf *conf)
{
    const char *encrypted = c->luks ? "true" : "false";

    switch (c->kind) {
    case BACKEND_FILE:
        return g_strdup_printf("{\"driver_volume_type\": \"file\", \"serial\": \"%s\", "
                               "\"data\": {\"device_path\": \"%s\", \"encrypted\": %s}}",
                               c->name, path, encrypted);
    case BACKEND_BLOCK: {
        g_autofree char *dev = start_loop_device(path);

        return g_strdup_printf("{\"driver_volume_type\": \"local\", \"serial\": \"%s\", "
                               "\"data\": {\"device_path\": \"%s\", \"encrypted\": %s}}",
                               c->name, dev, encrypted);
    }
    case BACKEND_NBD: {
        g_autofree char *socket = g_strconcat(path, ".sock", NULL);

        start_nbd(path, socket, 0);
        return g_strdup_printf("{\"driver_volume_type\": \"nbd\", \"serial\": \"%s\", "
                               "\"data\": {\"name\": \"%s\", \"socket\": \"%s\", "
                               "\"encrypted\": %s}}",
                               c->name, NBD_EXPORT, socket, encrypted);
    }
    case BACKEND_NBD_TCP: {
        guint16 port = free_port();

        start_nbd(path, NULL, port);
        return g_strdup_printf("{\"driver_volume_type\": \"nbd\", \"serial\": \"%s\", "
                               "\"data\": {\"name\": \"%s\", \"hosts\": [\"127.0.0.1\"], "
                               "\"ports\": [%u], \"encrypted\": %s}}",
                               c->name, NBD_EXPORT, port, encrypted);
    }
    case BACKEND_ISCSI: {
        guint16 port = free_port();

        start_tgtd(path, port, NULL, NULL);
        g_free(conf->libvirt.qemu_allowed_storage_drivers);
        conf->libvirt.qemu_allowed_storage_drivers = g_strdup("iscsi");
        return g_strdup_printf("{\"driver_volume_type\": \"iscsi\", \"serial\": \"%s\", "
                               "\"data\": {\"target_iqn\": \"%s\", \"target_lun\": 1, "
                               "\"target_portal\": \"127.0.0.1:%u\", \"encrypted\": %s}}",
                               c->name, ISCSI_IQN, port, encrypted);
    }
    }
    cr_assert_fail("unknown back-end %d", c->kind);
    return NULL;
}

static const char *const source_types[] = {
    [BACKEND_FILE] = "file",       [BACKEND_BLOCK] = "block",   [BACKEND_NBD] = "network",
    [BACKEND_NBD_TCP] = "network", [BACKEND_ISCSI] = "network",
};

ParameterizedTestParameters(volume_backends, qemu_reads_the_plaintext)
{
    static backend_case cases[] = {
        { BACKEND_FILE, FALSE, "vb-file-plain" },      { BACKEND_FILE, TRUE, "vb-file-luks" },
        { BACKEND_BLOCK, FALSE, "vb-block-plain" },    { BACKEND_BLOCK, TRUE, "vb-block-luks" },
        { BACKEND_NBD, FALSE, "vb-nbd-plain" },        { BACKEND_NBD, TRUE, "vb-nbd-luks" },
        { BACKEND_NBD_TCP, FALSE, "vb-nbdtcp-plain" }, { BACKEND_NBD_TCP, TRUE, "vb-nbdtcp-luks" },
        { BACKEND_ISCSI, FALSE, "vb-iscsi-plain" },    { BACKEND_ISCSI, TRUE, "vb-iscsi-luks" },
    };
    return cr_make_param_array(backend_case, cases, G_N_ELEMENTS(cases));
}

/* The matrix: back-end x {no encryption, native LUKS}.  For LUKS volumes
 * the bytes on the back-end are ciphertext (harness_luks_volume_file_is_
 * encrypted_on_disk pins the image), so reading the plaintext back proves
 * that QEMU decrypted them with the passphrase from the volume secret the
 * <encryption> element names. */
ParameterizedTest(backend_case *c, volume_backends, qemu_reads_the_plaintext, .fini = stop_backends)
{
    g_autofree char *file = g_strconcat(c->name, c->luks ? ".luks" : ".raw", NULL);
    g_autofree char *path = make_volume(file, c->luks);
    g_autoptr(nv_conf) conf = nv_conf_new_default();
    g_autoptr(nv_host) host = open_host();
    g_autofree char *json = NULL;
    g_autofree char *xml = NULL;
    g_autoptr(nv_guest) guest = NULL;
    g_autoptr(nv_disk_config) live = NULL;
    g_autoptr(GBytes) expected = nv_harness_plaintext(VOLUME_SIZE);
    g_autoptr(GBytes) seen = NULL;
    g_autoptr(GError) error = NULL;
    virDomainPtr dom;

    g_free(conf->libvirt.virt_type);
    conf->libvirt.virt_type = g_strdup("qemu");
    json = start_backend(c, path, conf);
    dom = nv_harness_start_domain(nv_host_get_connection(host), c->name);
    guest = nv_guest_lookup(host, c->name, &error);
    cr_assert_not_null(guest, "%s", error ? error->message : "");

    xml = attach_volume(host, guest, json, conf, c->luks);

    /* The live disk is what detach decides from (spec work item 5). */
    live = nv_guest_get_disk(guest, TARGET_DEV, &error);
    cr_assert_not_null(live, "%s", error ? error->message : "");
    cr_assert_str_eq(live->source_type, source_types[c->kind], "%s", xml);
    cr_assert_eq(live->encryption != NULL, c->luks, "%s", xml);

    seen = nv_harness_read_back(dom, TARGET_DEV, VOLUME_SIZE);
    cr_assert(g_bytes_equal(seen, expected), "%s: QEMU does not read the plaintext of %s", c->name,
              xml);

    cr_assert(nv_guest_detach_disk(guest, TARGET_DEV, 0, &error), "%s",
              error ? error->message : "");
    virDomainFree(dom);
}

/* The wrong passphrase must not give data: libvirt/QEMU refuse the disk.
 * Guards the read-back above against a back-end that hands out plaintext
 * whatever the key (e.g. an <encryption> silently dropped). */
Test(volume_backends, nbd_luks_volume_with_a_wrong_secret_is_refused, .fini = stop_backends)
{
    g_autofree char *path = make_volume("vb-nbd-wrong.luks", TRUE);
    g_autofree char *socket = g_strconcat(path, ".sock", NULL);
    g_autoptr(nv_host) host = open_host();
    g_autoptr(nv_secure_buf) wrong = nv_secure_buf_new_from("00", 2);
    g_autoptr(GError) error = NULL;
    g_autoptr(nv_connection_info) info = NULL;
    g_autoptr(nv_disk_info) disk_info = nv_disk_info_new(TARGET_DEV, NULL, NULL);
    g_autoptr(nv_disk_config) disk = NULL;
    g_autoptr(nv_guest) guest = NULL;
    g_autofree char *json = NULL;
    g_autofree char *uuid = NULL;
    g_autofree char *xml = NULL;
    virDomainPtr dom;

    start_nbd(path, socket, 0);
    json = g_strdup_printf("{\"driver_volume_type\": \"nbd\", \"serial\": \"vb-nbd-wrong\", "
                           "\"data\": {\"name\": \"%s\", \"socket\": \"%s\", \"encrypted\": true}}",
                           NBD_EXPORT, socket);
    info = nv_connection_info_parse(json, -1, &error);
    cr_assert_not_null(info, "%s", error ? error->message : "");
    disk = nv_volume_get_config(info, disk_info, NULL, &error);
    cr_assert_not_null(disk, "%s", error ? error->message : "");
    uuid = nv_host_create_volume_secret(host, info->volume_id, NULL, wrong, &error);
    cr_assert_not_null(uuid, "%s", error ? error->message : "");
    nv_disk_config_set_luks_encryption(disk, uuid);
    xml = nv_disk_config_to_xml(disk, &error);
    cr_assert_not_null(xml, "%s", error ? error->message : "");

    dom = nv_harness_start_domain(nv_host_get_connection(host), "vb-nbd-wrong");
    guest = nv_guest_lookup(host, "vb-nbd-wrong", &error);
    cr_assert_not_null(guest, "%s", error ? error->message : "");
    cr_assert_not(nv_guest_attach_device(guest, xml, &error));
    cr_assert_eq(error->code, NV_ERROR_LIBVIRT);
    cr_assert_not_null(strstr(error->message, "Invalid password, cannot unlock any keyslot"), "%s",
                       error->message);
    virDomainFree(dom);
}

/* CHAP: tgtd only admits an initiator with the account's password, which
 * reaches QEMU through an iscsi libvirt secret named by data.secret_uuid
 * (the <auth> element the iscsi network disk gets). */
Test(volume_backends, iscsi_with_chap_reads_the_plaintext_of_a_luks_volume, .fini = stop_backends)
{
    const char *chap_password = "chap-secret-12";
    g_autofree char *path = make_volume("vb-iscsi-chap.luks", TRUE);
    g_autoptr(nv_conf) conf = nv_conf_new_default();
    g_autoptr(nv_host) host = open_host();
    g_autoptr(nv_secret_config) secret = nv_secret_config_new();
    g_autoptr(nv_guest) guest = NULL;
    g_autoptr(nv_disk_config) live = NULL;
    g_autoptr(GBytes) expected = nv_harness_plaintext(VOLUME_SIZE);
    g_autoptr(GBytes) seen = NULL;
    g_autoptr(GError) error = NULL;
    g_autofree char *secret_xml = NULL;
    g_autofree char *json = NULL;
    g_autofree char *xml = NULL;
    char chap_uuid[VIR_UUID_STRING_BUFLEN];
    guint16 port = free_port();
    virSecretPtr chap;
    virDomainPtr dom;

    start_tgtd(path, port, "nvirt-chap", chap_password);
    secret->usage_type = g_strdup("iscsi");
    secret->usage_id = g_strdup(ISCSI_IQN);
    secret_xml = nv_secret_config_to_xml(secret, &error);
    cr_assert_not_null(secret_xml, "%s", error ? error->message : "");
    chap = virSecretDefineXML(nv_host_get_connection(host), secret_xml, 0);
    cr_assert_not_null(chap, "%s", virGetLastErrorMessage());
    cr_assert(virSecretSetValue(chap, (const unsigned char *)chap_password, strlen(chap_password),
                                0) == 0,
              "%s", virGetLastErrorMessage());
    cr_assert(virSecretGetUUIDString(chap, chap_uuid) == 0);
    virSecretFree(chap);

    g_free(conf->libvirt.virt_type);
    conf->libvirt.virt_type = g_strdup("qemu");
    g_free(conf->libvirt.qemu_allowed_storage_drivers);
    conf->libvirt.qemu_allowed_storage_drivers = g_strdup("iscsi");
    json = g_strdup_printf("{\"driver_volume_type\": \"iscsi\", \"serial\": \"vb-iscsi-chap\", "
                           "\"data\": {\"target_iqn\": \"%s\", \"target_lun\": 1, "
                           "\"target_portal\": \"127.0.0.1:%u\", \"auth_method\": \"CHAP\", "
                           "\"auth_username\": \"nvirt-chap\", \"secret_uuid\": \"%s\", "
                           "\"encrypted\": true}}",
                           ISCSI_IQN, port, chap_uuid);
    dom = nv_harness_start_domain(nv_host_get_connection(host), "vb-iscsi-chap");
    guest = nv_guest_lookup(host, "vb-iscsi-chap", &error);
    cr_assert_not_null(guest, "%s", error ? error->message : "");

    xml = attach_volume(host, guest, json, conf, TRUE);
    live = nv_guest_get_disk(guest, TARGET_DEV, &error);
    cr_assert_not_null(live, "%s", error ? error->message : "");
    cr_assert_str_eq(live->auth_secret_type, "iscsi", "%s", xml);
    cr_assert_str_eq(live->auth_secret_uuid, chap_uuid, "%s", xml);
    seen = nv_harness_read_back(dom, TARGET_DEV, VOLUME_SIZE);
    cr_assert(g_bytes_equal(seen, expected), "QEMU does not read the plaintext of %s", xml);

    cr_assert(nv_guest_detach_disk(guest, TARGET_DEV, 0, &error), "%s",
              error ? error->message : "");
    virDomainFree(dom);
}
