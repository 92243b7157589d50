/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The guest's own config object (virt/libvirt/config/guest.c), after Nova's
 * LibvirtConfigGuestTest (test_config_kvm, test_config_boot_disk, ...) plus
 * golden files under tests/data/config/guest-*.xml compared byte-exact and
 * validated against libvirt's domain schema.
 */
#include <criterion/criterion.h>
#include <criterion/parameterized.h>
#include <string.h>

#include "nvirt/error.h"
#include "support.h"
#include "virt/libvirt/config.h"

#define INSTANCE_UUID "8a3c5b2e-1f4d-4e6a-9b7c-0d1e2f3a4b5c"
#define VOLUME_A      "0b6ef1a1-7c4e-4d55-9a1c-1f2e3d4c5b6a"
#define VOLUME_B      "5d0c3a7e-2b1f-4c8d-9e6a-7f8b9c0d1e2f"
#define SECRET_A      "c7a5fdbd-edaf-9455-926a-d65c16db1809"
#define SECRET_B      "1f2e3d4c-5b6a-4798-8a9b-0c1d2e3f4a5b"

static void
assert_error(const GError *error, int code, const char *message)
{
    cr_assert_not_null(error, "expected error \"%s\"", message);
    cr_assert_eq(error->domain, NV_ERROR, "wrong domain for \"%s\"", error->message);
    cr_assert_eq(error->code, code, "wrong code %d for \"%s\"", error->code, error->message);
    cr_assert_str_eq(error->message, message);
}

static nv_disk_config *
volume_disk(const char *path, const char *dev, const char *serial, const char *secret,
            const char *boot_order)
{
    nv_disk_config *disk = nv_disk_config_new();

    nv_test_set_str(&disk->source_type, "block");
    nv_test_set_str(&disk->driver_name, "qemu");
    nv_test_set_str(&disk->driver_format, "raw");
    nv_test_set_str(&disk->driver_cache, "none");
    nv_test_set_str(&disk->source_path, path);
    nv_test_set_str(&disk->target_dev, dev);
    nv_test_set_str(&disk->target_bus, "virtio");
    nv_test_set_str(&disk->serial, serial);
    nv_test_set_str(&disk->boot_order, boot_order);
    if (secret)
        disk->encryption = nv_disk_encryption_new("luks", "passphrase", secret);
    return disk;
}

/* LibvirtConfigGuestTest.test_config_kvm, trimmed to what nvirt models. */
static nv_guest_config *
guest_minimal(void)
{
    nv_guest_config *guest = nv_guest_config_new();

    nv_test_set_str(&guest->name, "instance-00000001");
    nv_test_set_str(&guest->uuid, INSTANCE_UUID);
    guest->memory_kib = 131072;
    return guest;
}

/* Boot from an encrypted volume by direct kernel boot: the spawn shape. */
static nv_guest_config *
guest_kernel_boot_luks(void)
{
    nv_guest_config *guest = guest_minimal();

    nv_test_set_str(&guest->virt_type, "kvm");
    guest->vcpus = 2;
    nv_test_set_str(&guest->os_arch, "x86_64");
    nv_test_set_str(&guest->os_machine_type, "pc");
    nv_test_set_str(&guest->os_kernel, "/var/lib/nova/instances/" INSTANCE_UUID "/kernel");
    nv_test_set_str(&guest->os_initrd, "/var/lib/nova/instances/" INSTANCE_UUID "/ramdisk");
    nv_test_set_str(&guest->os_cmdline, "root=/dev/vda console=ttyS0");
    nv_guest_config_add_disk(guest, volume_disk("/dev/sdb", "vda", VOLUME_A, SECRET_A, "1"));
    nv_guest_config_add_disk(guest, volume_disk("/dev/sdc", "vdb", VOLUME_B, SECRET_B, NULL));
    nv_guest_config_add_controller(guest, "scsi", "0", "virtio-scsi");
    nv_guest_config_add_chardev(guest, "serial", "file",
                                "/var/lib/nova/instances/" INSTANCE_UUID "/console.log", "0");
    nv_guest_config_add_chardev(guest, "serial", "pty", NULL, "1");
    nv_guest_config_add_chardev(guest, "console", "pty", NULL, NULL);
    return guest;
}

typedef struct {
    const char *golden;
    nv_guest_config *(*build)(void);
} guest_case;

static const guest_case guest_cases[] = {
    { "guest-minimal", guest_minimal },
    { "guest-kernel-boot-luks", guest_kernel_boot_luks },
};

static size_t guest_case_indexes[G_N_ELEMENTS(guest_cases)];

static char *
golden_read(const char *name)
{
    g_autofree char *rel = g_strdup_printf("config/%s.xml", name);

    return nv_test_data_read(rel);
}

ParameterizedTestParameters(config_guest_golden, cases)
{
    for (size_t i = 0; i < G_N_ELEMENTS(guest_cases); i++)
        guest_case_indexes[i] = i;
    return cr_make_param_array(size_t, guest_case_indexes, G_N_ELEMENTS(guest_cases));
}

ParameterizedTest(size_t *i, config_guest_golden, cases)
{
    const guest_case *c = &guest_cases[*i];
    g_autoptr(nv_guest_config) guest = c->build();
    g_autoptr(GError) error = NULL;
    g_autofree char *golden = golden_read(c->golden);
    g_autofree char *xml = nv_guest_config_to_xml(guest, &error);
    g_autofree char *output = NULL;
    g_autoptr(nv_guest_config) parsed = NULL;
    g_autoptr(nv_guest_config) reparsed = NULL;
    g_autofree char *again = NULL;

    cr_assert_not_null(xml, "%s: %s", c->golden, error ? error->message : "");
    cr_assert_str_eq(xml, golden, "%s: output differs from golden file", c->golden);
    cr_assert_eq(nv_test_validate_xml(xml, "domain", &output), 0, "%s: %s", c->golden, output);

    parsed = nv_guest_config_parse(xml, &error);
    cr_assert_not_null(parsed, "%s: %s", c->golden, error ? error->message : "");
    cr_assert(nv_guest_config_equal(guest, parsed), "%s: parse(to_xml(x)) != x", c->golden);
    again = nv_guest_config_to_xml(parsed, &error);
    cr_assert_str_eq(again, golden, "%s: to_xml(parse(golden)) != golden", c->golden);
    reparsed = nv_guest_config_parse(golden, &error);
    cr_assert(nv_guest_config_equal(parsed, reparsed));
}

Test(config_guest, disks_keep_device_order_and_boot_order)
{
    g_autoptr(nv_guest_config) guest = guest_kernel_boot_luks();
    g_autofree char *xml = nv_guest_config_to_xml(guest, NULL);
    g_autoptr(GPtrArray) disks = nv_domain_parse_disks(xml, NULL);
    const nv_disk_config *root;

    cr_assert_not_null(disks);
    cr_assert_eq(disks->len, 2);
    root = g_ptr_array_index(disks, 0);
    cr_assert_str_eq(root->target_dev, "vda");
    cr_assert_str_eq(root->boot_order, "1");
    cr_assert_str_eq(root->encryption->secret_uuid, SECRET_A);
    cr_assert_null(((const nv_disk_config *)g_ptr_array_index(disks, 1))->boot_order);
    /* <encryption> is still the disk's last child inside a whole domain. */
    cr_assert_not_null(strstr(xml, "<boot order=\"1\"/>\n      <encryption format=\"luks\">"));
}

Test(config_guest, parses_live_domain_xml_leniently)
{
    g_autofree char *live = nv_test_data_read("config/live-domain.xml");
    g_autoptr(GError) error = NULL;
    g_autoptr(nv_guest_config) guest = nv_guest_config_parse(live, &error);
    g_autoptr(GPtrArray) disks = nv_domain_parse_disks(live, NULL);

    cr_assert_not_null(guest, "%s", error ? error->message : "");
    cr_assert_str_eq(guest->name, "instance-0000002a");
    cr_assert_str_eq(guest->uuid, "8a3c5b2e-1f4d-4e6a-9b7c-0d1e2f3a4b5c");
    cr_assert_eq(guest->memory_kib, 131072);
    cr_assert_eq(guest->vcpus, 1);
    cr_assert_str_eq(guest->os_type, "hvm");
    cr_assert_str_eq(guest->os_machine_type, "pc-i440fx-7.2");
    cr_assert_null(guest->os_kernel);
    cr_assert_eq(guest->disks->len, disks->len);
    for (guint i = 0; i < disks->len; i++)
        cr_assert(
            nv_disk_config_equal(g_ptr_array_index(guest->disks, i), g_ptr_array_index(disks, i)));
}

typedef struct {
    const char *what;
    void (*spoil)(nv_guest_config *guest);
    const char *message;
} reject_case;

static void
no_name(nv_guest_config *g)
{
    g_clear_pointer(&g->name, g_free);
}
static void
zero_memory(nv_guest_config *g)
{
    g->memory_kib = 0;
}
static void
zero_vcpus(nv_guest_config *g)
{
    g->vcpus = 0;
}
static void
initrd_without_kernel(nv_guest_config *g)
{
    g_clear_pointer(&g->os_kernel, g_free);
}
static void
duplicate_target(nv_guest_config *g)
{
    nv_guest_config_add_disk(g, volume_disk("/dev/sdd", "vda", VOLUME_B, NULL, NULL));
}
static void
disk_without_target(nv_guest_config *g)
{
    nv_guest_config_add_disk(g, volume_disk("/dev/sdd", NULL, VOLUME_B, NULL, NULL));
}
static void
file_serial_without_path(nv_guest_config *g)
{
    nv_guest_config_add_chardev(g, "serial", "file", NULL, NULL);
}
static void
tcp_serial(nv_guest_config *g)
{
    nv_guest_config_add_chardev(g, "serial", "tcp", NULL, NULL);
}
static void
controller_without_type(nv_guest_config *g)
{
    nv_guest_config_add_controller(g, NULL, "0", NULL);
}
static void
control_character_in_cmdline(nv_guest_config *g)
{
    nv_test_set_str(&g->os_cmdline, "console=ttyS0\x01");
}

static const reject_case reject_cases[] = {
    { "no name", no_name, "guest config: name is required" },
    { "zero memory", zero_memory, "guest config: memory must be between 1 KiB and 1 PiB" },
    { "zero vcpus", zero_vcpus, "guest config: vcpus must be between 1 and 4096" },
    { "initrd without kernel", initrd_without_kernel,
      "guest config: initrd and cmdline need a kernel" },
    { "duplicate target", duplicate_target, "guest config: two disks with target dev 'vda'" },
    { "disk without target", disk_without_target, "disk config: target dev is required" },
    { "file serial without path", file_serial_without_path,
      "guest config: serial of type 'file' needs a source path" },
    { "tcp serial", tcp_serial, "guest config: unsupported serial type 'tcp' (pty, file)" },
    { "controller without type", controller_without_type,
      "guest config: controller type is required" },
    { "control character", control_character_in_cmdline,
      "guest config: content of <cmdline> is not valid XML text" },
};

static size_t reject_indexes[G_N_ELEMENTS(reject_cases)];

ParameterizedTestParameters(config_guest_rejects, to_xml)
{
    for (size_t i = 0; i < G_N_ELEMENTS(reject_cases); i++)
        reject_indexes[i] = i;
    return cr_make_param_array(size_t, reject_indexes, G_N_ELEMENTS(reject_cases));
}

ParameterizedTest(size_t *i, config_guest_rejects, to_xml)
{
    const reject_case *c = &reject_cases[*i];
    g_autoptr(nv_guest_config) guest = guest_kernel_boot_luks();
    g_autoptr(GError) error = NULL;
    g_autofree char *xml = NULL;

    c->spoil(guest);
    xml = nv_guest_config_to_xml(guest, &error);
    cr_assert_null(xml, "%s: accepted", c->what);
    assert_error(error, NV_ERROR_BAD_INPUT, c->message);
}

typedef struct {
    const char *xml;
    const char *message;
} parse_reject_case;

static const parse_reject_case parse_rejects[] = {
    { "<domain type='qemu'><memory>lots</memory></domain>",
      "guest config: <memory> must be a number between 1 and 1099511627776, got 'lots'" },
    { "<domain type='qemu'><memory unit='GiB'>4</memory></domain>",
      "guest config: <memory unit='GiB'> is not supported (KiB)" },
    { "<domain type='qemu'><vcpu>-1</vcpu></domain>",
      "guest config: <vcpu> must be a number between 1 and 4096, got '-1'" },
    { "<domain type='qemu'><vcpu>99999999999999999999</vcpu></domain>",
      "guest config: <vcpu> must be a number between 1 and 4096, got '99999999999999999999'" },
    { "<disk type='file'/>", "guest config: expected <domain> root element, got <disk>" },
    { "<!DOCTYPE domain [<!ENTITY x 'y'>]><domain>&x;</domain>",
      "guest config: DOCTYPE is not allowed" },
};

static size_t parse_reject_indexes[G_N_ELEMENTS(parse_rejects)];

ParameterizedTestParameters(config_guest_rejects, parse)
{
    for (size_t i = 0; i < G_N_ELEMENTS(parse_rejects); i++)
        parse_reject_indexes[i] = i;
    return cr_make_param_array(size_t, parse_reject_indexes, G_N_ELEMENTS(parse_rejects));
}

ParameterizedTest(size_t *i, config_guest_rejects, parse)
{
    const parse_reject_case *c = &parse_rejects[*i];
    g_autoptr(GError) error = NULL;
    g_autoptr(nv_guest_config) guest = nv_guest_config_parse(c->xml, &error);

    cr_assert_null(guest, "accepted: %s", c->xml);
    assert_error(error, NV_ERROR_BAD_INPUT, c->message);
}
