/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The streaming disk scan (virt/libvirt/guest_disks.c) reads every disk as
 * the tree parser of config.c does: the same nv_disk_config, field by
 * field, for each disk golden file and the live domain fixture, plus the
 * corners a SAX reader gets wrong if it is careless (entities, CDATA,
 * nested sources, <target> of other devices), and the same refusals.
 */
#include <criterion/criterion.h>
#include <string.h>

#include "nvirt/error.h"
#include "support.h"
#include "virt/libvirt/config.h"
#include "virt/libvirt/guest_disks.h"

static void
assert_same_disks(const char *xml)
{
    g_autoptr(GError) error = NULL;
    g_autoptr(GPtrArray) tree = nv_domain_parse_disks(xml, &error);
    g_autoptr(GPtrArray) scanned = NULL;

    cr_assert_not_null(tree, "%s", error ? error->message : "");
    scanned = nv_guest_disks_scan(xml, NULL, &error);
    cr_assert_not_null(scanned, "%s", error ? error->message : "");
    cr_assert_eq(scanned->len, tree->len, "%u disks scanned, %u parsed", scanned->len, tree->len);
    for (guint i = 0; i < tree->len; i++) {
        const nv_disk_config *a = g_ptr_array_index(tree, i);
        const nv_disk_config *b = g_ptr_array_index(scanned, i);
        g_autofree char *xa = nv_disk_config_to_xml(a, NULL);
        g_autofree char *xb = nv_disk_config_to_xml(b, NULL);

        cr_assert(nv_disk_config_equal(a, b), "disk %u differs:\n%s\nvs\n%s", i, xa, xb);
        cr_assert_str_eq(a->alias ? a->alias : "(none)", b->alias ? b->alias : "(none)");
    }
}

static char *
wrap_disk(const char *name)
{
    g_autofree char *rel = g_strdup_printf("config/%s.xml", name);
    g_autofree char *disk = nv_test_data_read(rel);
    g_autofree char *wrapper = nv_test_data_read("config/domain-wrapper.xml");
    g_auto(GStrv) parts = g_strsplit(wrapper, "@DISK@", 2);

    return g_strconcat(parts[0], disk, parts[1], NULL);
}

Test(guest_disks, every_disk_golden_file_reads_as_the_tree_parser_reads_it)
{
    static const char *const names[] = {
        "disk-block-blockio-logical",
        "disk-block-cdrom",
        "disk-broken-no-target",
        "disk-file-luks",
        "disk-file",
        "disk-network-iscsi",
        "disk-network-nbd-no-name",
        "disk-network-nbd-unix",
        "disk-network-rbd-luks",
        "disk-nova-block-luks",
        "disk-scsi-drive-address",
        "disk-tuned-pci",
    };

    for (gsize i = 0; i < G_N_ELEMENTS(names); i++) {
        g_autofree char *xml = wrap_disk(names[i]);

        assert_same_disks(xml);
    }
}

Test(guest_disks, live_domain_reads_as_the_tree_parser_reads_it_and_is_active)
{
    g_autofree char *live = nv_test_data_read("config/live-domain.xml");
    g_autoptr(GPtrArray) disks = NULL;
    gboolean active = FALSE;

    assert_same_disks(live);
    disks = nv_guest_disks_scan(live, &active, NULL);
    cr_assert_eq(disks->len, 3);
    cr_assert(active, "id='3' on the root: an active domain");
}

/* What a SAX reader has to get right by itself. */
static const char corners[] =
    "<domain type='qemu'>\n"
    "  <name>corners</name>\n"
    "  <disk type='file'><target dev='vdx'/></disk>\n"
    "  <devices>\n"
    "    <interface type='network'><target dev='vnet0'/></interface>\n"
    "    <disk type='file' device='disk'>\n"
    "      <driver name='qemu' type='raw'/>\n"
    "      <source file='/srv/a&amp;b&apos;&#99;.img'>\n"
    "        <encryption format='luks'><secret type='passphrase' uuid='u-1'/></encryption>\n"
    "      </source>\n"
    "      <backingStore type='file'><source file='/srv/base.img'/>"
    "<target dev='vdz'/></backingStore>\n"
    "      <target dev='vdb' bus='virtio'/>\n"
    "      <serial><![CDATA[ser<1>]]>&amp;2</serial>\n"
    "      <iotune><total_bytes_sec>1000</total_bytes_sec><read_iops_sec>20</read_iops_sec>"
    "</iotune>\n"
    "    </disk>\n"
    "    <disk type='network' device='disk'>\n"
    "      <source protocol='rbd' name='pool/vol'>\n"
    "        <host name='10.0.0.1' port='6789'/>\n"
    "        <auth username='cinder'><secret type='ceph' uuid='u-2'/></auth>\n"
    "      </source>\n"
    "      <target dev='vdc' bus='virtio'/>\n"
    "      <serial/>\n"
    "      <readonly/>\n"
    "    </disk>\n"
    "  </devices>\n"
    "</domain>\n";

Test(guest_disks, entities_cdata_nested_sources_and_other_targets)
{
    g_autoptr(GError) error = NULL;
    g_autoptr(GPtrArray) disks = NULL;
    const nv_disk_config *d;
    gboolean present = TRUE, active = TRUE;

    assert_same_disks(corners);
    disks = nv_guest_disks_scan(corners, &active, &error);
    cr_assert_not_null(disks, "%s", error ? error->message : "");
    cr_assert_not(active, "no id on the root: not active");
    cr_assert_eq(disks->len, 2, "only the <disk>s of <devices>");
    d = g_ptr_array_index(disks, 0);
    cr_assert_str_eq(d->source_path, "/srv/a&b'c.img");
    cr_assert_str_eq(d->serial, "ser<1>&2");
    cr_assert_str_eq(d->target_dev, "vdb");
    cr_assert_str_eq(d->iotune[NV_IOTUNE_TOTAL_BYTES_SEC], "1000");
    cr_assert_str_eq(d->encryption->secret_uuid, "u-1");
    d = g_ptr_array_index(disks, 1);
    cr_assert_str_eq(d->serial, "");
    cr_assert(d->readonly);
    cr_assert_str_eq(d->auth_secret_uuid, "u-2");

    cr_assert(nv_guest_disks_scan_has_target(corners, "vdc", &present, NULL));
    cr_assert(present);
    cr_assert(nv_guest_disks_scan_has_target(corners, "vnet0", &present, NULL));
    cr_assert_not(present, "an interface's <target> is no disk");
    cr_assert(nv_guest_disks_scan_has_target(corners, "vdz", &present, NULL));
    cr_assert_not(present, "a backing store's <target> is no disk");
    cr_assert(nv_guest_disks_scan_has_target(corners, "vdx", &present, NULL));
    cr_assert_not(present, "a <disk> outside <devices> is no disk");
}

static void
assert_refused(const char *xml, const char *message)
{
    g_autoptr(GError) tree_error = NULL;
    g_autoptr(GError) error = NULL;
    g_autoptr(GPtrArray) tree = nv_domain_parse_disks(xml, &tree_error);
    g_autoptr(GPtrArray) disks = nv_guest_disks_scan(xml, NULL, &error);

    cr_assert_null(tree);
    cr_assert_null(disks);
    cr_assert_not_null(error);
    cr_assert_eq(error->code, NV_ERROR_BAD_INPUT);
    cr_assert_str_eq(error->message, message);
    cr_assert_eq(tree_error->code, error->code);
}

Test(guest_disks, refuses_what_the_tree_parser_refuses)
{
    assert_refused("<!DOCTYPE domain [<!ENTITY x SYSTEM 'file:///etc/passwd'>]>"
                   "<domain><devices><disk><serial>&x;</serial></disk></devices></domain>",
                   "domain config: DOCTYPE is not allowed");
    assert_refused("<secret><uuid>x</uuid></secret>",
                   "domain config: expected <domain> root element, got <secret>");
    assert_refused("<domain><devices><disk></devices></domain>",
                   "domain config: malformed XML at line 1: Opening and ending tag mismatch: "
                   "disk line 1 and devices");
    assert_refused("<domain><devices><disk><serial>&x;</serial></disk></devices></domain>",
                   "domain config: malformed XML at line 1: Entity 'x' not defined");
}
