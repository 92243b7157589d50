/* SPDX-License-Identifier: Apache-2.0 */
#include "guest_os.h"

#include <criterion/criterion.h>
#include <criterion/logging.h>
#include <glib/gstdio.h>
#include <libvirt/virterror.h>
#include <string.h>

#include "harness.h"

#define LINE_PREFIX "nvirt-os: "
#define POLL_US     (200 * 1000)

/* virtio only: the guest sees its disks on virtio-blk, Nova's default bus
 * for volumes. */
#define GUEST_MODULES                                                                              \
    "virtio_ring virtio virtio_pci_legacy_dev virtio_pci_modern_dev virtio_pci virtio_blk"

struct guest_os {
    virDomainPtr dom;
    char *console;
    gsize consumed; /* bytes of the console the last wait read past */
    double boot_seconds;
};

static char *image_dir;

static const char *
env_or_fail(const char *name)
{
    const char *value = g_getenv(name);

    cr_assert(value && *value, "%s is not set (run the test through meson)", name);
    return value;
}

static gint64
mtime(const char *path)
{
    GStatBuf st;

    return g_stat(path, &st) == 0 ? (gint64)st.st_mtime : -1;
}

/* TRUE when @dir has an initramfs at least as new as @input. */
static gboolean
newer_than(const char *dir, const char *input)
{
    g_autofree char *initrd = g_build_filename(dir, "initrd.img", NULL);
    g_autofree char *kernel = g_build_filename(dir, "vmlinuz", NULL);

    return mtime(kernel) >= 0 && mtime(initrd) >= mtime(input) && mtime(input) >= 0;
}

/* Build the kernel + initramfs once per test binary. */
static const char *
image(void)
{
    const char *source = env_or_fail("NVIRT_SOURCE_ROOT");
    const char *build = env_or_fail("NVIRT_BUILD_ROOT");
    g_autofree char *script = g_build_filename(source, "tests", "guest", "build-image.sh", NULL);
    g_autofree char *init =
        g_build_filename(source, "tests", "functional", "data", "guest-os-init.sh", NULL);
    g_autofree char *cache = g_build_filename(build, "tests", "guest", "image", "cache", NULL);
    g_autofree char *out = g_build_filename(build, "tests", "guest-os", NULL);
    g_autofree char *err = NULL;
    g_auto(GStrv) env = g_get_environ();
    g_autoptr(GError) error = NULL;
    int status = -1;

    if (image_dir)
        return image_dir;
    /* Criterion runs each test in its own process: the first one builds,
     * the others reuse an image newer than its inputs. */
    if (newer_than(out, script) && newer_than(out, init)) {
        image_dir = g_steal_pointer(&out);
        return image_dir;
    }
    if (!g_getenv("NVIRT_GUEST_CACHE"))
        env = g_environ_setenv(env, "NVIRT_GUEST_CACHE", cache, TRUE);
    env = g_environ_setenv(env, "NVIRT_GUEST_INIT", init, TRUE);
    env = g_environ_setenv(env, "NVIRT_GUEST_MODULES", GUEST_MODULES, TRUE);
    {
        const char *argv[] = { script, out, NULL };

        cr_assert(g_spawn_sync(NULL, (char **)argv, env, G_SPAWN_DEFAULT, NULL, NULL, NULL, &err,
                               &status, &error),
                  "%s", error ? error->message : "");
    }
    cr_assert(g_spawn_check_wait_status(status, NULL), "build-image.sh failed: %s", err);
    image_dir = g_steal_pointer(&out);
    return image_dir;
}

/* Direct kernel boot, serial console to @console.  'pc' with ACPI: PIIX
 * hot-plugs virtio-blk through ACPI, which the guest kernel acknowledges
 * (acpiphp), so hot-unplug completes.  quiet: the 8250 console is slow
 * under TCG, and only /init's lines matter. */
static char *
domain_xml(const char *name, const char *dir, const char *console)
{
    g_autofree char *kernel = g_build_filename(dir, "vmlinuz", NULL);
    g_autofree char *initrd = g_build_filename(dir, "initrd.img", NULL);

    return g_markup_printf_escaped(
        "<domain type='qemu'>"
        "<name>%s</name>"
        "<memory unit='MiB'>256</memory>"
        "<vcpu>1</vcpu>"
        "<os><type arch='x86_64' machine='pc'>hvm</type>"
        "<kernel>%s</kernel><initrd>%s</initrd>"
        "<cmdline>console=ttyS0 quiet loglevel=3 panic=-1</cmdline></os>"
        "<features><acpi/></features>"
        "<on_poweroff>destroy</on_poweroff><on_reboot>destroy</on_reboot>"
        "<on_crash>destroy</on_crash>"
        "<devices>"
        "<emulator>/usr/bin/qemu-system-x86_64</emulator>"
        "<controller type='usb' model='none'/>"
        "<memballoon model='none'/>"
        "<serial type='file'><source path='%s'/><target port='0'/></serial>"
        "</devices>"
        "</domain>",
        name, kernel, initrd, console);
}

guest_os *
guest_os_boot(virConnectPtr conn, const char *name)
{
    const char *dir = image();
    g_autofree char *file = g_strdup_printf("%s.console", name);
    guest_os *os = g_new0(guest_os, 1);
    g_autofree char *xml = NULL;
    g_autofree char *ready = NULL;
    gint64 start;

    os->console = nv_harness_path(file);
    xml = domain_xml(name, dir, os->console);
    os->dom = virDomainDefineXML(conn, xml);
    cr_assert(os->dom != NULL, "cannot define '%s': %s", name, virGetLastErrorMessage());
    start = g_get_monotonic_time();
    cr_assert(virDomainCreate(os->dom) == 0, "cannot start '%s': %s", name,
              virGetLastErrorMessage());
    ready = guest_os_wait(os, "ready", 600);
    os->boot_seconds = (double)(g_get_monotonic_time() - start) / G_USEC_PER_SEC;
    cr_log_info("guest OS '%s' booted in %.1f s (start to /init ready)", name, os->boot_seconds);
    return os;
}

char *
guest_os_kernel(void)
{
    return g_build_filename(image(), "vmlinuz", NULL);
}

char *
guest_os_initrd(void)
{
    return g_build_filename(image(), "initrd.img", NULL);
}

guest_os *
guest_os_watch(virDomainPtr dom, const char *console)
{
    guest_os *os = g_new0(guest_os, 1);
    g_autofree char *ready = NULL;
    gint64 start = g_get_monotonic_time();

    cr_assert(virDomainRef(dom) == 0);
    os->dom = dom;
    os->console = g_strdup(console);
    ready = guest_os_wait(os, "ready", 600);
    os->boot_seconds = (double)(g_get_monotonic_time() - start) / G_USEC_PER_SEC;
    cr_log_info("guest OS '%s' ready %.1f s after the watch began", virDomainGetName(dom),
                os->boot_seconds);
    return os;
}

virDomainPtr
guest_os_domain(const guest_os *os)
{
    return os->dom;
}

double
guest_os_boot_seconds(const guest_os *os)
{
    return os->boot_seconds;
}

/* The next complete "nvirt-os: PREFIX..." line after @os->consumed. */
static char *
find_line(guest_os *os, const char *text, gsize len, const char *prefix)
{
    g_autofree char *needle = g_strconcat(LINE_PREFIX, prefix, NULL);
    gsize pos = os->consumed;

    while (pos < len) {
        const char *line = text + pos;
        const char *end = memchr(line, '\n', len - pos);

        if (!end)
            return NULL; /* not complete yet */
        if (g_str_has_prefix(line, needle)) {
            os->consumed = (gsize)(end - text) + 1;
            return g_strstrip(
                g_strndup(line + strlen(LINE_PREFIX), (gsize)(end - line) - strlen(LINE_PREFIX)));
        }
        pos = (gsize)(end - text) + 1;
    }
    return NULL;
}

char *
guest_os_wait(guest_os *os, const char *prefix, guint timeout_s)
{
    gint64 deadline = g_get_monotonic_time() + (gint64)timeout_s * G_USEC_PER_SEC;

    for (;;) {
        g_autofree char *text = NULL;
        gsize len = 0;

        if (g_file_get_contents(os->console, &text, &len, NULL)) {
            char *line = find_line(os, text, len, prefix);

            if (line)
                return line;
        }
        if (g_get_monotonic_time() > deadline)
            cr_assert_fail("guest console %s has no line '" LINE_PREFIX "%s' after %u s:\n%s",
                           os->console, prefix, timeout_s, text ? text : "(no console file)");
        g_usleep(POLL_US);
    }
}

void
guest_os_free(guest_os *os)
{
    if (!os)
        return;
    if (os->dom)
        virDomainFree(os->dom);
    g_free(os->console);
    g_free(os);
}
