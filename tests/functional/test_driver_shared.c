/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Secrets that more than one domain uses, and secrets no domain uses:
 * multi-attach detach order (issue 13) and reconcile, on the private
 * daemon.
 */
#include <criterion/criterion.h>
#include <libvirt/virterror.h>
#include <string.h>

#include "driver_fixtures.h"
#include "harness.h"
#include "nvirt/nvirt.h"

#define SHARED_ID "5a4e3c2b-1d0f-4e9a-8b7c-6d5e4f3a2b10"

/* A multiattach volume: Cinder's connection_info says so, and the disk
 * gets <shareable/> (without it QEMU refuses the second writer). */
static volume *
shared_volume(const char *file)
{
    volume *vol = luks_volume(SHARED_ID, file, "sdb");
    g_autofree char *old = vol->connection_info;

    vol->connection_info = g_strdup_printf(
        "{\"driver_volume_type\": \"file\", \"serial\": \"%s\", \"multiattach\": true, "
        "\"data\": {\"volume_id\": \"%s\", \"device_path\": \"%s\", \"encrypted\": true}}",
        SHARED_ID, SHARED_ID, vol->path);
    vol->request.connection_info = vol->connection_info;
    return vol;
}

static void
remove_domain(const char *name)
{
    virConnectPtr conn = connect_daemon();
    virDomainPtr dom = virDomainLookupByName(conn, name);

    if (dom) {
        virDomainDestroy(dom);
        virDomainUndefine(dom);
        virDomainFree(dom);
    }
    virConnectClose(conn);
}

Test(multiattach, secret_stays_until_the_last_detach)
{
    g_autoptr(volume) vol = shared_volume("shared.img");
    g_autoptr(nv_driver) driver = open_driver();
    g_autoptr(GBytes) plain = nv_harness_plaintext(VOLUME_SIZE);
    g_autofree char *uuid = NULL;
    g_autofree char *uuid2 = NULL;
    g_autofree char *xml = NULL;
    virDomainPtr one = start_domain("shared-one");
    virDomainPtr two = start_domain("shared-two");

    attach_ok(driver, "shared-one", vol);
    attach_ok(driver, "shared-two", vol);
    uuid = volume_secret(SHARED_ID);
    cr_assert_not_null(uuid);
    xml = domain_xml("shared-two", 0);
    cr_assert_not_null(strstr(xml, "<shareable/>"));
    cr_assert_not_null(strstr(xml, uuid), "the second domain reuses the volume's secret");

    /* The first detach keeps the secret the second domain needs... */
    detach_ok(driver, "shared-one", vol);
    uuid2 = volume_secret(SHARED_ID);
    cr_assert_not_null(uuid2, "the first detach deleted the secret shared-two uses");
    cr_assert_str_eq(uuid2, uuid);
    {
        g_autoptr(GBytes) read = nv_harness_read_back(two, "sdb", VOLUME_SIZE);

        cr_assert(g_bytes_equal(read, plain));
    }
    /* ...and the second domain can start again with it. */
    cr_assert(virDomainDestroy(two) == 0);
    cr_assert(virDomainCreate(two) == 0, "shared-two does not start again: %s",
              virGetLastErrorMessage());

    /* The last detach deletes it. */
    detach_ok(driver, "shared-two", vol);
    cr_assert_not(has_volume_secret(SHARED_ID), "the last detach kept the secret");

    virDomainFree(one);
    virDomainFree(two);
    remove_domain("shared-one");
    remove_domain("shared-two");
}

/* A shut-off domain whose persistent config names the secret counts as a
 * user too: it needs the secret at its next start. */
Test(multiattach, shut_off_domain_keeps_the_secret)
{
    g_autoptr(volume) vol = shared_volume("shared-off.img");
    g_autoptr(nv_driver) driver = open_driver();
    virDomainPtr one = start_domain("shared-run");
    virDomainPtr off = start_domain("shared-off");

    attach_ok(driver, "shared-run", vol);
    attach_ok(driver, "shared-off", vol);
    cr_assert(virDomainDestroy(off) == 0);
    detach_ok(driver, "shared-run", vol);
    cr_assert(has_volume_secret(SHARED_ID), "the secret the shut-off domain needs was deleted");
    cr_assert(virDomainCreate(off) == 0, "%s", virGetLastErrorMessage());
    detach_ok(driver, "shared-off", vol);
    cr_assert_not(has_volume_secret(SHARED_ID));

    virDomainFree(one);
    virDomainFree(off);
    remove_domain("shared-run");
    remove_domain("shared-off");
}
