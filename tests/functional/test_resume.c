/* SPDX-License-Identifier: Apache-2.0 */
/*
 * resume_state_on_host_boot and the lifecycle faults of issue 10 against
 * the private libvirtd and TCG domains with no guest OS:
 *
 *   - after a libvirtd restart the running domain is left alone;
 *   - after a simulated host reboot (libvirtd stopped, QEMU SIGKILLed,
 *     libvirtd started: the domain is shut off, its persistent secret
 *     still defined) it starts again with no key manager configured;
 *   - libvirtd restarted between the secrets and the domain define of a
 *     spawn (the CLI stopped by gdb at virDomainDefineXMLFlags, the daemon
 *     restarted from gdb, then the CLI continued);
 *   - QEMU SIGKILLed with a native volume attached, then power-on.
 *
 * QEMU reading the plaintext back through its LUKS layer is the proof that
 * a domain really runs with its volume decrypted.
 */
#include "harness.h"
#include "driver_fixtures.h"

#include <criterion/criterion.h>
#include <gio/gio.h>
#include <signal.h>
#include <string.h>
#include <unistd.h>

#include "nvirt/error.h"
#include "nvirt/nvirt.h"
#include "support.h"

#define VOL(test, n) "4444444" #test "-0000-0000-0000-00000000000" #n
#define QEMU_CONF    "[libvirt]\nvirt_type = qemu\n"
/* Bounds for waits on processes, not performance expectations. */
#define WAIT_STEP_US (50 * 1000)
#define WAIT_STEPS   2400

static nv_driver *
open_qemu_driver(void)
{
    return open_driver_with(FIXED_KEY, QEMU_CONF);
}

/* No [key_manager] fixed_key: any key manager access fails. */
static nv_driver *
open_keyless_driver(void)
{
    return open_driver_with(NULL, QEMU_CONF);
}

static char *
instance_json(const char *name, guint n)
{
    return g_strdup_printf("{\"name\": \"%s\", \"uuid\": "
                           "\"6c1a0c3e-4d1b-4a55-8e2f-1000000000%02u\", \"memory_mb\": 64, "
                           "\"vcpus\": 1, \"machine_type\": \"pc\"}",
                           name, n);
}

static void
spawn_ok(nv_driver *driver, const char *name, guint n, const char *bdi)
{
    g_autofree char *json = instance_json(name, n);
    g_autoptr(GError) error = NULL;
    g_autoptr(nv_instance) inst = nv_instance_new_from_json(json, &error);

    cr_assert_not_null(inst, "%s", error ? error->message : "");
    cr_assert(nv_driver_spawn(driver, inst, bdi, &error), "%s", error ? error->message : "");
}

/* block_device_info with @vol (encrypted) as the boot disk vda. */
static char *
one_volume_bdi(const volume *vol)
{
    return g_strdup_printf("{\"root_device_name\": \"/dev/vda\", \"block_device_mapping\": "
                           "[{\"connection_info\": %s, \"encryption\": %s, "
                           "\"mount_device\": \"/dev/vda\", \"boot_index\": 0, "
                           "\"disk_bus\": \"virtio\", \"device_type\": \"disk\", "
                           "\"delete_on_termination\": false}]}",
                           vol->connection_info, LUKS_ENCRYPTION);
}

static virDomainPtr
lookup(virConnectPtr conn, const char *name)
{
    virDomainPtr dom = virDomainLookupByName(conn, name);

    cr_assert_not_null(dom, "no domain %s", name);
    return dom;
}

static gboolean
is_active(const char *name)
{
    virConnectPtr conn = connect_daemon();
    virDomainPtr dom = lookup(conn, name);
    int active = virDomainIsActive(dom);

    virDomainFree(dom);
    virConnectClose(conn);
    return active == 1;
}

/* The running domain's id: a new QEMU process gets a new one. */
static unsigned int
domain_id(const char *name)
{
    virConnectPtr conn = connect_daemon();
    virDomainPtr dom = lookup(conn, name);
    unsigned int id = virDomainGetID(dom);

    virDomainFree(dom);
    virConnectClose(conn);
    cr_assert_neq(id, (unsigned int)-1, "domain %s has no id", name);
    return id;
}

static void
assert_qemu_reads_plaintext(const char *name)
{
    g_autoptr(GBytes) plain = nv_harness_plaintext(VOLUME_SIZE);
    g_autoptr(GBytes) seen = NULL;
    virConnectPtr conn = connect_daemon();
    virDomainPtr dom = lookup(conn, name);

    seen = nv_harness_read_back(dom, "vda", VOLUME_SIZE);
    cr_assert(g_bytes_equal(plain, seen), "QEMU did not read the plaintext of %s", name);
    virDomainFree(dom);
    virConnectClose(conn);
}

/* The pid of domain @name's QEMU, from the pid file libvirt keeps. */
static pid_t
qemu_pid(const char *name)
{
    g_autofree char *file = g_strdup_printf("%s/run/qemu/%s.pid", nv_harness_dir(), name);
    g_autofree char *text = NULL;
    gint64 pid;

    cr_assert(g_file_get_contents(file, &text, NULL, NULL), "no pid file %s", file);
    pid = g_ascii_strtoll(g_strstrip(text), NULL, 10);
    cr_assert_gt(pid, 1, "bad pid in %s", file);
    return (pid_t)pid;
}

/* TRUE while @pid runs (a zombie has ended: it holds no files). */
static gboolean
process_runs(pid_t pid)
{
    g_autofree char *stat_file = g_strdup_printf("/proc/%d/stat", (int)pid);
    g_autofree char *stat = NULL;
    const char *paren;

    if (!g_file_get_contents(stat_file, &stat, NULL, NULL))
        return FALSE;
    paren = strrchr(stat, ')');
    return paren && paren[1] == ' ' && paren[2] != 'Z' && paren[2] != 'X';
}

/* SIGKILL domain @name's QEMU, as a host power cut or the OOM killer
 * would, and wait until it has ended. */
static void
kill_qemu(const char *name)
{
    pid_t pid = qemu_pid(name);
    guint steps = 0;

    cr_assert_eq(kill(pid, SIGKILL), 0, "kill %d", (int)pid);
    while (process_runs(pid) && steps++ < WAIT_STEPS)
        g_usleep(WAIT_STEP_US);
    cr_assert_not(process_runs(pid), "QEMU %d did not end", (int)pid);
}

static void
destroy_ok(const char *name, const char *bdi)
{
    g_autoptr(nv_driver) driver = open_qemu_driver();
    g_autoptr(GError) error = NULL;

    cr_assert(nv_driver_destroy(driver, name, bdi, &error), "%s", error ? error->message : "");
}

Test(resume, after_libvirtd_restart_the_running_domain_is_left_alone)
{
    g_autoptr(volume) vol = luks_volume(VOL(1, 1), "resume-restart.luks", NULL);
    g_autofree char *bdi = one_volume_bdi(vol);
    g_autofree char *uuid = NULL;
    g_autofree char *after = NULL;
    g_autoptr(GError) error = NULL;
    int secrets = secret_count();
    unsigned int id;

    {
        g_autoptr(nv_driver) driver = open_qemu_driver();

        spawn_ok(driver, "rs-restart", 1, bdi);
    }
    uuid = volume_secret(VOL(1, 1));
    id = domain_id("rs-restart");

    nv_harness_restart_daemon();
    {
        g_autoptr(nv_driver) keyless = open_keyless_driver();

        cr_assert(nv_driver_resume_state_on_host_boot(keyless, "rs-restart", bdi, &error), "%s",
                  error ? error->message : "");
    }
    /* The same QEMU process runs on, with the same secret. */
    cr_assert(is_active("rs-restart"));
    cr_assert_eq(domain_id("rs-restart"), id, "the running domain was restarted");
    after = volume_secret(VOL(1, 1));
    cr_assert_str_eq(after, uuid);
    cr_assert_eq(secret_count(), secrets + 1);
    assert_qemu_reads_plaintext("rs-restart");
    destroy_ok("rs-restart", bdi);
}

Test(resume, after_host_reboot_native_volumes_start_without_key_manager)
{
    g_autoptr(volume) vol = luks_volume(VOL(2, 1), "resume-reboot.luks", NULL);
    g_autofree char *bdi = one_volume_bdi(vol);
    g_autofree char *uuid = NULL;
    g_autofree char *after = NULL;
    g_autofree char *persistent = NULL;
    g_autoptr(GError) error = NULL;
    int secrets = secret_count();

    {
        g_autoptr(nv_driver) driver = open_qemu_driver();

        spawn_ok(driver, "rs-reboot", 2, bdi);
    }
    uuid = volume_secret(VOL(2, 1));
    cr_assert_not_null(uuid);

    /* The host goes down: libvirtd first, then its guests, hard. */
    nv_harness_stop_daemon();
    kill_qemu("rs-reboot");
    nv_harness_start_daemon();
    cr_assert_not(is_active("rs-reboot"), "the domain survived the reboot");
    after = volume_secret(VOL(2, 1));
    cr_assert_str_eq(after, uuid, "the persistent secret did not survive");
    g_clear_pointer(&after, g_free);

    {
        g_autoptr(nv_driver) keyless = open_keyless_driver();

        cr_assert(nv_driver_resume_state_on_host_boot(keyless, "rs-reboot", bdi, &error), "%s",
                  error ? error->message : "");
    }
    cr_assert(is_active("rs-reboot"), "not running after resume");
    after = volume_secret(VOL(2, 1));
    cr_assert_str_eq(after, uuid, "resume made a new secret");
    cr_assert_eq(secret_count(), secrets + 1);
    persistent = domain_xml("rs-reboot", VIR_DOMAIN_XML_INACTIVE);
    cr_assert_not_null(strstr(persistent, uuid), "%s", persistent);
    assert_qemu_reads_plaintext("rs-reboot");
    destroy_ok("rs-reboot", bdi);
}

Test(resume, cli_resume_guests_state_from_a_directory)
{
    g_autofree char *conf = write_conf("rs-cli-keyless.conf", NULL, QEMU_CONF);
    g_autoptr(volume) vol = luks_volume(VOL(3, 1), "resume-cli.luks", NULL);
    g_autofree char *bdi = one_volume_bdi(vol);
    g_autofree char *dir = nv_harness_path("rs-bdi");
    g_autofree char *good = g_build_filename(dir, "rs-cli.json", NULL);
    g_autofree char *missing = g_build_filename(dir, "rs-missing.json", NULL);
    g_autofree char *other = g_build_filename(dir, "README", NULL);
    g_autofree char *out = NULL;
    g_autofree char *err = NULL;
    g_autoptr(GError) error = NULL;
    const char *args[] = { "resume-guests-state", "--config", conf, "-D", dir, NULL };
    const char *both[] = { "resume-guests-state", "--config", conf, "-D", dir, "rs-cli", NULL };
    const char *one[] = { "resume-guests-state", "--config", conf, "rs-cli", "-B", good, NULL };
    unsigned int id;

    {
        g_autoptr(nv_driver) driver = open_qemu_driver();

        spawn_ok(driver, "rs-cli", 3, bdi);
        cr_assert(nv_driver_power_off(driver, "rs-cli", &error), "%s", error ? error->message : "");
    }
    cr_assert_eq(g_mkdir_with_parents(dir, 0700), 0);
    cr_assert(g_file_set_contents(good, bdi, -1, NULL));
    cr_assert(g_file_set_contents(missing, bdi, -1, NULL));
    cr_assert(g_file_set_contents(other, "not an instance", -1, NULL));

    cr_assert_eq(nv_test_run_nvirt(both, NULL, &out, &err), 2, "%s", err);
    cr_assert_str_eq(err, "nvirt resume-guests-state: --block-device-info-dir takes no NAME or "
                          "--block-device-info (see --help)\n");
    cr_assert_not(is_active("rs-cli"), "a usage error started the domain");
    g_clear_pointer(&out, g_free);
    g_clear_pointer(&err, g_free);

    /* The instance without a domain fails on its own line; the other one
     * starts all the same, with no key manager configured. */
    cr_assert_eq(nv_test_run_nvirt(args, NULL, &out, &err), 1, "%s", err);
    cr_assert_str_eq(err, "nvirt: instance rs-missing: domain 'rs-missing' not found\n");
    cr_assert(is_active("rs-cli"), "rs-cli not started");
    assert_qemu_reads_plaintext("rs-cli");

    /* The per-instance form, on the domain now running: left alone. */
    id = domain_id("rs-cli");
    g_clear_pointer(&out, g_free);
    g_clear_pointer(&err, g_free);
    cr_assert_eq(nv_test_run_nvirt(one, NULL, &out, &err), 0, "%s", err);
    cr_assert_str_eq(err, "");
    cr_assert_eq(domain_id("rs-cli"), id, "the running domain was restarted");
    destroy_ok("rs-cli", bdi);
}

/* ---- Faults ---------------------------------------------------------------- */

/* Run `nvirt spawn` of @inst_path/@bdi_path under gdb; when it reaches
 * virDomainDefineXMLFlags (the volumes connected, their secrets defined,
 * no domain yet), libvirtd is stopped and started again from gdb, then the
 * CLI continues on its dead connection.  Returns gdb's output, with the
 * CLI's stderr in it. */
static char *
spawn_with_daemon_restart_at_define(const char *conf, const char *inst_path, const char *bdi_path)
{
    const char *bin = g_getenv("NVIRT_BIN");
    const char *cache = g_getenv("NVIRT_QEMU_CAPS_CACHE");
    const char *root = g_getenv("NVIRT_BUILD_ROOT");
    g_autofree char *cache_dir =
        cache ? g_strdup(cache)
              : g_build_filename(root ? root : ".", "tests", "qemu-caps-cache", NULL);
    g_autofree char *script = g_build_filename(NV_HARNESS_SOURCE_DIR, "libvirtd-env.sh", NULL);
    g_autofree char *restart = g_strdup_printf(
        "shell NVIRT_QEMU_CAPS_CACHE='%s' /bin/sh '%s' stop '%s' && "
        "NVIRT_QEMU_CAPS_CACHE='%s' /bin/sh '%s' start '%s' && echo DAEMON-RESTARTED",
        cache_dir, script, nv_harness_dir(), cache_dir, script, nv_harness_dir());
    g_autoptr(GSubprocessLauncher) launcher =
        g_subprocess_launcher_new(G_SUBPROCESS_FLAGS_STDOUT_PIPE | G_SUBPROCESS_FLAGS_STDERR_MERGE);
    g_autoptr(GSubprocess) proc = NULL;
    g_autoptr(GBytes) out = NULL;
    g_autoptr(GError) error = NULL;
    const char *asan = g_getenv("ASAN_OPTIONS");
    g_autofree char *asan_options =
        g_strconcat(asan && *asan ? asan : "", asan && *asan ? ":" : "", "detect_leaks=0", NULL);
    gsize n = 0;
    const char *data;

    cr_assert_not_null(bin, "NVIRT_BIN is not set: run the tests through meson test");
    /* LeakSanitizer cannot stop the world in a traced process. */
    g_subprocess_launcher_setenv(launcher, "ASAN_OPTIONS", asan_options, TRUE);
    proc = g_subprocess_launcher_spawn(
        launcher, &error, "gdb", "-nx", "-batch", "-ex", "set breakpoint pending on", "-ex",
        "set confirm off", "-ex", "set pagination off", "-ex", "handle SIGPIPE nostop noprint pass",
        "-ex", "break virDomainDefineXMLFlags", "-ex", "run", "-ex", restart, "-ex", "continue",
        "--args", bin, "--config-file", conf, "spawn", "-I", inst_path, "-B", bdi_path, NULL);
    cr_assert_not_null(proc, "cannot run gdb: %s", error ? error->message : "");
    cr_assert(g_subprocess_communicate(proc, NULL, NULL, &out, NULL, &error), "%s",
              error ? error->message : "");
    data = out ? g_bytes_get_data(out, &n) : NULL;
    return data ? g_strndup(data, n) : g_strdup("");
}

/* The line of @text that starts with @prefix (a new string), or NULL. */
static char *
line_starting(const char *text, const char *prefix)
{
    g_auto(GStrv) lines = g_strsplit(text, "\n", -1);

    for (char **l = lines; *l; l++)
        if (g_str_has_prefix(*l, prefix))
            return g_strdup(*l);
    return NULL;
}

static guint
count_lines_starting(const char *text, const char *prefix)
{
    g_auto(GStrv) lines = g_strsplit(text, "\n", -1);
    guint n = 0;

    for (char **l = lines; *l; l++)
        n += g_str_has_prefix(*l, prefix);
    return n;
}

Test(resume, fault_libvirtd_restarted_between_secrets_and_define_of_a_spawn)
{
    g_autofree char *conf = write_conf("rs-fault.conf", FIXED_KEY, QEMU_CONF);
    g_autoptr(volume) vol = luks_volume(VOL(4, 1), "resume-fault.luks", NULL);
    g_autofree char *bdi = one_volume_bdi(vol);
    g_autofree char *inst = instance_json("rs-fault", 4);
    g_autofree char *inst_path = nv_harness_path("rs-fault-instance.json");
    g_autofree char *bdi_path = nv_harness_path("rs-fault-bdi.json");
    g_autofree char *sha = file_sha256(vol->path);
    g_autofree char *sha_after = NULL;
    g_autofree char *gdb_out = NULL;
    g_autofree char *message = NULL;
    g_autofree char *reconciled = NULL;
    g_autofree char *err = NULL;
    const char *reconcile[] = { "reconcile", "--config", conf, NULL };
    const char *spawn[] = { "spawn", "--config", conf, "-I", inst_path, "-B", bdi_path, NULL };
    int secrets = secret_count();

    cr_assert(g_file_set_contents(inst_path, inst, -1, NULL));
    cr_assert(g_file_set_contents(bdi_path, bdi, -1, NULL));
    gdb_out = spawn_with_daemon_restart_at_define(conf, inst_path, bdi_path);
    cr_assert(gdb_stopped_at_breakpoint(gdb_out), "the define was never reached:\n%s", gdb_out);
    cr_assert_not_null(strstr(gdb_out, "DAEMON-RESTARTED"), "no restart:\n%s", gdb_out);
    cr_assert_not_null(strstr(gdb_out, "exited with code 01"), "spawn did not fail:\n%s", gdb_out);
    /* One line naming the instance. */
    message = line_starting(gdb_out, "nvirt: ");
    cr_assert_not_null(message, "no error message:\n%s", gdb_out);
    cr_assert(g_str_has_prefix(message, "nvirt: domain 'rs-fault': define: "), "%s", message);
    cr_assert_eq(count_lines_starting(gdb_out, "nvirt: "), 1, "%s", gdb_out);

    /* No domain, no lost data.  The secret the spawn defined outlives it:
     * its rollback ran on the connection the restart closed. */
    cr_assert_not(domain_exists("rs-fault"), "domain left behind");
    sha_after = file_sha256(vol->path);
    cr_assert_str_eq(sha_after, sha, "the volume changed");
    cr_assert(has_volume_secret(VOL(4, 1)), "expected the orphan secret of the dead rollback");
    cr_assert_eq(secret_count(), secrets + 1);

    /* reconcile removes it: no domain refers to it. */
    cr_assert_eq(nv_test_run_nvirt(reconcile, NULL, &reconciled, &err), 0, "%s", err);
    cr_assert_not_null(strstr(reconciled, VOL(4, 1)), "%s", reconciled);
    cr_assert_not(has_volume_secret(VOL(4, 1)), "reconcile left the orphan secret");
    cr_assert_eq(secret_count(), secrets);

    /* The spawn, run again, works: exactly one secret, QEMU reads the
     * plaintext. */
    g_clear_pointer(&err, g_free);
    cr_assert_eq(nv_test_run_nvirt(spawn, NULL, NULL, &err), 0, "%s", err);
    cr_assert_eq(secret_count(), secrets + 1);
    assert_qemu_reads_plaintext("rs-fault");
    destroy_ok("rs-fault", bdi);
    cr_assert_eq(secret_count(), secrets);
}

Test(resume, fault_qemu_killed_with_a_native_volume_then_power_on)
{
    g_autoptr(volume) vol = luks_volume(VOL(5, 1), "resume-killed.luks", NULL);
    g_autofree char *bdi = one_volume_bdi(vol);
    g_autofree char *uuid = NULL;
    g_autofree char *after = NULL;
    g_autofree char *sha = NULL;
    g_autofree char *sha_after = NULL;
    g_autoptr(GError) error = NULL;
    int secrets = secret_count();
    guint steps = 0;

    {
        g_autoptr(nv_driver) driver = open_qemu_driver();

        spawn_ok(driver, "rs-killed", 5, bdi);
    }
    uuid = volume_secret(VOL(5, 1));
    kill_qemu("rs-killed");
    /* libvirtd sees the monitor close and marks the domain shut off. */
    while (is_active("rs-killed") && steps++ < WAIT_STEPS)
        g_usleep(WAIT_STEP_US);
    cr_assert_not(is_active("rs-killed"), "libvirtd still says running");
    sha = file_sha256(vol->path);

    {
        g_autoptr(nv_driver) keyless = open_keyless_driver();

        cr_assert(nv_driver_power_on(keyless, "rs-killed", bdi, &error), "%s",
                  error ? error->message : "");
    }
    cr_assert(is_active("rs-killed"));
    after = volume_secret(VOL(5, 1));
    cr_assert_str_eq(after, uuid, "power-on made a new secret");
    cr_assert_eq(secret_count(), secrets + 1, "not exactly one secret");
    sha_after = file_sha256(vol->path);
    cr_assert_str_eq(sha_after, sha, "power-on changed the volume");
    assert_qemu_reads_plaintext("rs-killed");
    destroy_ok("rs-killed", bdi);
}
