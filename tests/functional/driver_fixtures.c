/* SPDX-License-Identifier: Apache-2.0 */
#include "driver_fixtures.h"

#include <criterion/criterion.h>
#include <glib/gstdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "harness.h"
#include "support.h"

/* ---- fixtures ---------------------------------------------------------------- */

/* A nova.conf-style file for the private daemon with [key_manager]
 * fixed_key = @key (NULL: none) and @extra lines appended.  Caller frees. */
char *
write_conf(const char *name, const char *key, const char *extra)
{
    g_autofree char *path = nv_harness_path(name);
    g_autoptr(GString) text = g_string_new(NULL);

    g_string_append_printf(text, "[DEFAULT]\nstate_path = %s\n", nv_harness_dir());
    g_string_append_printf(text, "[libvirt]\nconnection_uri = %s\n", nv_harness_uri());
    if (key)
        g_string_append_printf(text, "[key_manager]\nfixed_key = %s\n", key);
    if (extra)
        g_string_append(text, extra);
    cr_assert(g_file_set_contents(path, text->str, -1, NULL));
    cr_assert(g_chmod(path, 0600) == 0);
    return g_steal_pointer(&path);
}

nv_driver *
open_driver_with(const char *key, const char *extra)
{
    g_autofree char *conf = write_conf("driver.conf", key, extra);
    g_autoptr(GError) error = NULL;
    nv_driver *driver = nv_driver_open(conf, NULL, NULL, &error);

    cr_assert(driver != NULL, "%s", error ? error->message : "");
    return driver;
}

nv_driver *
open_driver(void)
{
    return open_driver_with(FIXED_KEY, NULL);
}

/* Cinder's connection_info for a file volume; "encrypted" set when
 * @encrypted.  Caller frees. */
char *
connection_info(const char *volume_id, const char *path, gboolean encrypted)
{
    return g_strdup_printf("{\"driver_volume_type\": \"file\", \"serial\": \"%s\", "
                           "\"data\": {\"volume_id\": \"%s\", \"device_path\": \"%s\", "
                           "\"encrypted\": %s}}",
                           volume_id, volume_id, path, encrypted ? "true" : "false");
}

void
volume_free(volume *vol)
{
    if (!vol)
        return;
    g_free(vol->connection_info);
    g_free(vol->path);
    g_free(vol);
}

/* A request for volume @volume_id backed by file @file in the daemon
 * directory, at guest device @dev, with encryption metadata @encryption
 * (NULL: not encrypted).  The file is not created here. */
volume *
volume_new(const char *volume_id, const char *file, const char *dev, const char *encryption)
{
    volume *vol = g_new0(volume, 1);

    vol->path = nv_harness_path(file);
    vol->connection_info = connection_info(volume_id, vol->path, encryption != NULL);
    vol->request.version = NV_VOLUME_REQUEST_VERSION;
    vol->request.connection_info = vol->connection_info;
    vol->request.encryption = encryption;
    vol->request.mountpoint = dev;
    return vol;
}

/* A LUKS1 volume holding nv_harness_plaintext(), unlocked by PASSPHRASE. */
volume *
luks_volume(const char *volume_id, const char *file, const char *dev)
{
    volume *vol = volume_new(volume_id, file, dev, LUKS_ENCRYPTION);

    nv_harness_create_luks_volume(vol->path, PASSPHRASE, VOLUME_SIZE);
    return vol;
}

virConnectPtr
connect_daemon(void)
{
    return nv_harness_connect();
}

int
secret_count(void)
{
    virConnectPtr conn = connect_daemon();
    int n = virConnectNumOfSecrets(conn);

    virConnectClose(conn);
    cr_assert(n >= 0);
    return n;
}

/* The UUID of the volume secret of @volume_id, or NULL.  Caller frees. */
char *
volume_secret(const char *volume_id)
{
    virConnectPtr conn = connect_daemon();
    virSecretPtr secret = virSecretLookupByUsage(conn, VIR_SECRET_USAGE_TYPE_VOLUME, volume_id);
    char uuid[VIR_UUID_STRING_BUFLEN];
    char *result = NULL;

    if (secret) {
        cr_assert(virSecretGetUUIDString(secret, uuid) == 0);
        result = g_strdup(uuid);
        virSecretFree(secret);
    }
    virConnectClose(conn);
    return result;
}

gboolean
has_volume_secret(const char *volume_id)
{
    g_autofree char *uuid = volume_secret(volume_id);

    return uuid != NULL;
}

/* Live (or, for a shut-off domain, persistent) XML of @name.  Caller frees. */
char *
domain_xml(const char *name, unsigned int flags)
{
    virConnectPtr conn = connect_daemon();
    virDomainPtr dom = virDomainLookupByName(conn, name);
    char *xml;

    cr_assert_not_null(dom, "domain %s", name);
    xml = virDomainGetXMLDesc(dom, flags);
    cr_assert_not_null(xml);
    virDomainFree(dom);
    virConnectClose(conn);
    return xml;
}

gboolean
domain_exists(const char *name)
{
    virConnectPtr conn = connect_daemon();
    virDomainPtr dom = virDomainLookupByName(conn, name);
    gboolean exists = dom != NULL;

    if (dom)
        virDomainFree(dom);
    virConnectClose(conn);
    return exists;
}

/* The usage ids of all secrets, for messages.  Caller frees. */
char *
secret_usages(void)
{
    virConnectPtr conn = connect_daemon();
    virSecretPtr *secrets = NULL;
    int n = virConnectListAllSecrets(conn, &secrets, 0);
    g_autoptr(GString) out = g_string_new(NULL);

    for (int i = 0; i < n; i++) {
        g_string_append_printf(out, "%s ", virSecretGetUsageID(secrets[i]));
        virSecretFree(secrets[i]);
    }
    g_free(secrets);
    virConnectClose(conn);
    return g_string_free(g_steal_pointer(&out), FALSE);
}

char *
file_sha256(const char *path)
{
    g_autofree char *contents = NULL;
    gsize len = 0;

    cr_assert(g_file_get_contents(path, &contents, &len, NULL), "read %s", path);
    return g_compute_checksum_for_data(G_CHECKSUM_SHA256, (const guchar *)contents, len);
}

virDomainPtr
start_domain(const char *name)
{
    virConnectPtr conn = connect_daemon();
    virDomainPtr dom = nv_harness_start_domain(conn, name);

    virConnectClose(conn);
    return dom;
}

/* What a failed call must leave alone. */

void
host_state_clear(host_state *state)
{
    g_free(state->live_xml);
    g_free(state->persistent_xml);
    g_free(state->volume_sha256);
}

void
snapshot(host_state *state, const char *domain, const char *volume_path)
{
    gboolean exists = domain && domain_exists(domain);

    state->secrets = secret_count();
    state->live_xml = exists ? domain_xml(domain, 0) : NULL;
    state->persistent_xml = exists ? domain_xml(domain, VIR_DOMAIN_XML_INACTIVE) : NULL;
    state->volume_sha256 = volume_path && g_file_test(volume_path, G_FILE_TEST_EXISTS) &&
                                   !g_file_test(volume_path, G_FILE_TEST_IS_DIR)
                               ? file_sha256(volume_path)
                               : NULL;
}

void
assert_unchanged(const host_state *before, const char *domain, const char *volume_path)
{
    g_auto(host_state) after = { 0 };

    snapshot(&after, domain, volume_path);
    cr_assert_eq(after.secrets, before->secrets, "secrets: %d before, %d after: %s",
                 before->secrets, after.secrets, secret_usages());
    cr_assert_str_eq(after.live_xml ? after.live_xml : "", before->live_xml ? before->live_xml : "",
                     "live domain XML changed");
    cr_assert_str_eq(after.persistent_xml ? after.persistent_xml : "",
                     before->persistent_xml ? before->persistent_xml : "",
                     "persistent domain XML changed");
    cr_assert_str_eq(after.volume_sha256 ? after.volume_sha256 : "",
                     before->volume_sha256 ? before->volume_sha256 : "", "volume changed");
}

void
attach_ok(nv_driver *driver, const char *domain, const volume *vol)
{
    g_autoptr(GError) error = NULL;

    cr_assert(nv_driver_attach_volume(driver, domain, &vol->request, &error), "%s",
              error ? error->message : "");
}

void
detach_ok(nv_driver *driver, const char *domain, const volume *vol)
{
    g_autoptr(GError) error = NULL;

    cr_assert(nv_driver_detach_volume(driver, domain, &vol->request, &error), "%s",
              error ? error->message : "");
}

/* Attach @vol to @domain expecting failure @code with message @message,
 * and check that nothing changed. */
void
attach_fails(nv_driver *driver, const char *domain, const volume *vol, int code,
             const char *message)
{
    g_auto(host_state) before = { 0 };
    g_autoptr(GError) error = NULL;

    snapshot(&before, domain, vol->path);
    cr_assert_not(nv_driver_attach_volume(driver, domain, &vol->request, &error));
    cr_assert_not_null(error);
    cr_assert_eq(error->code, code, "code %d: %s", error->code, error->message);
    cr_assert_not_null(strstr(error->message, message), "message '%s' lacks '%s'", error->message,
                       message);
    cr_assert_null(strchr(error->message, '\n'), "one line: %s", error->message);
    cr_assert_null(strstr(error->message, PASSPHRASE), "key material in: %s", error->message);
    assert_unchanged(&before, domain, vol->path);
}

gboolean
has_disk(const char *domain, unsigned int flags, const char *dev)
{
    g_autofree char *xml = domain_xml(domain, flags);
    g_autofree char *needle = g_strdup_printf("<target dev='%s'", dev);

    return strstr(xml, needle) != NULL;
}

/* Entries of /dev/mapper other than "control" (none exist on this host:
 * the point is that the native path creates none). */
guint
dm_mappings(void)
{
    g_autoptr(GDir) dir = g_dir_open("/dev/mapper", 0, NULL);
    const char *name;
    guint n = 0;

    while (dir && (name = g_dir_read_name(dir)))
        if (strcmp(name, "control") != 0)
            n++;
    return n;
}

/* A loop device over @path (this host has loop devices but no
 * device-mapper).  Caller frees the name and detaches it with
 * loop_detach(). */
char *
loop_attach(const char *path)
{
    const char *argv[] = { "losetup", "--find", "--show", path, NULL };
    g_autofree char *out = NULL;
    g_autoptr(GError) error = NULL;
    int status = -1;

    cr_assert(g_spawn_sync(NULL, (char **)argv, NULL, G_SPAWN_SEARCH_PATH, NULL, NULL, &out, NULL,
                           &status, &error),
              "%s", error ? error->message : "");
    cr_assert(g_spawn_check_wait_status(status, NULL), "losetup --find --show %s", path);
    return g_strdup(g_strstrip(out));
}

void
loop_detach(const char *dev)
{
    const char *argv[] = { "losetup", "--detach", dev, NULL };

    g_spawn_sync(NULL, (char **)argv, NULL, G_SPAWN_SEARCH_PATH, NULL, NULL, NULL, NULL, NULL,
                 NULL);
}

/* A LUKS volume on a loop device: what an iSCSI or FC volume looks like
 * to the host ("driver_volume_type": "local", data.device_path the node). */
volume *
luks_block_volume(const char *volume_id, const char *file, const char *dev)
{
    volume *vol = g_new0(volume, 1);
    g_autofree char *image = nv_harness_path(file);

    nv_harness_create_luks_volume(image, PASSPHRASE, VOLUME_SIZE);
    vol->path = loop_attach(image);
    vol->connection_info = g_strdup_printf(
        "{\"driver_volume_type\": \"local\", \"serial\": \"%s\", \"data\": {\"volume_id\": "
        "\"%s\", \"device_path\": \"%s\", \"encrypted\": true}}",
        volume_id, volume_id, vol->path);
    vol->request.version = NV_VOLUME_REQUEST_VERSION;
    vol->request.connection_info = vol->connection_info;
    vol->request.encryption = LUKS_ENCRYPTION;
    vol->request.mountpoint = dev;
    return vol;
}

gboolean
is_block_device(const char *path)
{
    GStatBuf st;

    return g_lstat(path, &st) == 0 && S_ISBLK(st.st_mode);
}

void
qemu_write_pattern(virDomainPtr dom, int pattern)
{
    g_autofree char *write = g_strdup_printf(
        "{\"execute\": \"human-monitor-command\", \"arguments\": "
        "{\"command-line\": \"qemu-io -d scsi0-0-0-1 \\\"write -P 0x%02x 0 64k\\\"\"}}",
        pattern);
    g_autofree char *reply = nv_harness_qmp(dom, write);
    g_autofree char *flushed =
        nv_harness_qmp(dom, "{\"execute\": \"human-monitor-command\", \"arguments\": "
                            "{\"command-line\": \"qemu-io -d scsi0-0-0-1 flush\"}}");

    cr_assert_not_null(reply);
    cr_assert_null(strstr(reply, "error"), "qemu-io write: %s", reply);
    cr_assert_not_null(flushed);
}

gboolean
host_reads_pattern(const char *path, int pattern)
{
    g_autofree char *pass_path = nv_harness_path("pattern.pass");
    g_autofree char *secret_arg = g_strdup_printf("secret,id=sec0,file=%s", pass_path);
    g_autofree char *image_opts =
        g_strdup_printf("driver=luks,key-secret=sec0,file.filename=%s", path);
    g_autofree char *command = g_strdup_printf("read -P 0x%02x 0 64k", pattern);
    const char *argv[] = { "qemu-io",  "-r", "--object", secret_arg, "--image-opts",
                           image_opts, "-c", command,    NULL };
    g_autofree char *out = NULL;
    int status = -1;

    cr_assert(g_file_set_contents(pass_path, PASSPHRASE, -1, NULL));
    cr_assert(g_spawn_sync(NULL, (char **)argv, NULL, G_SPAWN_SEARCH_PATH, NULL, NULL, &out, NULL,
                           &status, NULL));
    g_unlink(pass_path);
    return status == 0 && out && !strstr(out, "Pattern verification failed") &&
           strstr(out, "read 65536/65536 bytes");
}

/* gdb reports a stop in a multi-threaded inferior (the CLI runs libvirt's
 * event loop in a thread of its own) as 'Thread 1 "nvirt" hit Breakpoint
 * 1, ', a single-threaded one as "Breakpoint 1, ", and a breakpoint on
 * several locations (ASan's pwrite64 interceptor and glibc's) as
 * "Breakpoint 1.2, ". */
gboolean
gdb_stopped_at_breakpoint(const char *gdb_out)
{
    return g_regex_match_simple("^(Thread [0-9]+ \"[^\"]*\" hit )?Breakpoint [0-9.]+, ", gdb_out,
                                G_REGEX_MULTILINE, 0);
}
