/* SPDX-License-Identifier: Apache-2.0 */
#include "virt/libvirt/guest.h"

#include <libvirt/virterror.h>

#include "nvirt/error.h"
#include "virt/libvirt/guest_disks.h"

/* How often the live XML is re-read while a disk is leaving. */
#define DETACH_POLL_US (50 * 1000)

struct nv_guest {
    virConnectPtr conn;
    virDomainPtr dom;
    char *name;
    int persistent; /* 1 defined, 0 transient (created only), -1 not asked yet */
};

static void
set_domain_error(GError **error, const char *name, const char *what)
{
    g_set_error(error, NV_ERROR, NV_ERROR_LIBVIRT, "domain '%s': %s%s", name, what,
                virGetLastErrorMessage());
}

nv_guest *
nv_guest_lookup(nv_host *host, const char *name, GError **error)
{
    virConnectPtr conn;
    virDomainPtr dom;
    nv_guest *guest;

    g_return_val_if_fail(host != NULL && name != NULL, NULL);
    conn = nv_host_get_connection(host);
    dom = virDomainLookupByName(conn, name);
    if (!dom) {
        virErrorPtr err = virGetLastError();

        if (err && err->code == VIR_ERR_NO_DOMAIN)
            g_set_error(error, NV_ERROR, NV_ERROR_NOT_FOUND, "domain '%s' not found", name);
        else
            set_domain_error(error, name, "");
        return NULL;
    }
    guest = g_new0(nv_guest, 1);
    virConnectRef(conn);
    guest->conn = conn;
    guest->dom = dom;
    guest->name = g_strdup(name);
    guest->persistent = -1;
    return guest;
}

void
nv_guest_free(nv_guest *guest)
{
    if (!guest)
        return;
    virDomainFree(guest->dom);
    virConnectClose(guest->conn);
    g_free(guest->name);
    g_free(guest);
}

const char *
nv_guest_get_name(const nv_guest *guest)
{
    g_return_val_if_fail(guest != NULL, NULL);
    return guest->name;
}

virDomainPtr
nv_guest_get_domain(nv_guest *guest)
{
    g_return_val_if_fail(guest != NULL, NULL);
    return guest->dom;
}

gboolean
nv_guest_is_persistent(nv_guest *guest, gboolean *persistent, GError **error)
{
    g_return_val_if_fail(guest != NULL && persistent != NULL, FALSE);
    if (guest->persistent < 0) {
        int rc = virDomainIsPersistent(guest->dom);

        if (rc < 0) {
            set_domain_error(error, guest->name, "persistence: ");
            return FALSE;
        }
        guest->persistent = rc == 1;
    }
    *persistent = guest->persistent == 1;
    return TRUE;
}

gboolean
nv_guest_is_live(nv_guest *guest, gboolean *live, GError **error)
{
    int state = VIR_DOMAIN_NOSTATE;

    g_return_val_if_fail(guest != NULL && live != NULL, FALSE);
    if (virDomainGetState(guest->dom, &state, NULL, 0) < 0) {
        set_domain_error(error, guest->name, "state: ");
        return FALSE;
    }
    *live = state == VIR_DOMAIN_RUNNING || state == VIR_DOMAIN_PAUSED;
    return TRUE;
}

gboolean
nv_guest_get_state(nv_guest *guest, int *state, GError **error)
{
    g_return_val_if_fail(guest != NULL && state != NULL, FALSE);
    if (virDomainGetState(guest->dom, state, NULL, 0) < 0) {
        set_domain_error(error, guest->name, "state: ");
        return FALSE;
    }
    return TRUE;
}

char *
nv_guest_get_xml(nv_guest *guest, gboolean inactive, GError **error)
{
    char *xml;

    g_return_val_if_fail(guest != NULL, NULL);
    xml = virDomainGetXMLDesc(guest->dom, inactive ? VIR_DOMAIN_XML_INACTIVE : 0);
    if (!xml)
        set_domain_error(error, guest->name, "XML: ");
    return xml;
}

/* The configs a device change must affect: the live one when the domain
 * is active (an inactive domain refuses AFFECT_LIVE, "domain is not
 * running"), the persistent one unless the domain is known to be transient.
 * Most domains are defined, so whether this one is is asked only when
 * libvirt refuses AFFECT_CONFIG (refused_as_transient()). */
static unsigned int
affect_flags(const nv_guest *guest, gboolean live)
{
    return (live ? VIR_DOMAIN_AFFECT_LIVE : 0) |
           (guest->persistent != 0 ? VIR_DOMAIN_AFFECT_CONFIG : 0);
}

/* After libvirt refused a change made with @flags: TRUE when that was only
 * because @flags had AFFECT_CONFIG for a domain nobody had asked about and
 * it is transient.  libvirt refuses that (VIR_ERR_OPERATION_INVALID,
 * "transient domains do not have any persistent config") before it changes
 * anything, so the caller repeats the change without AFFECT_CONFIG.  Resets
 * libvirt's last error: the caller keeps its message first. */
static gboolean
refused_as_transient(nv_guest *guest, unsigned int flags)
{
    virErrorPtr err = virGetLastError();
    gboolean persistent = TRUE;

    if (!(flags & VIR_DOMAIN_AFFECT_CONFIG) || guest->persistent >= 0 || !err ||
        err->code != VIR_ERR_OPERATION_INVALID)
        return FALSE;
    return nv_guest_is_persistent(guest, &persistent, NULL) && !persistent;
}

static gboolean
attach_device(nv_guest *guest, const char *device_xml, gboolean live, GError **error)
{
    unsigned int flags = affect_flags(guest, live);
    g_autoptr(GError) local = NULL;

    if (virDomainAttachDeviceFlags(guest->dom, device_xml, flags) == 0)
        return TRUE;
    set_domain_error(&local, guest->name, "attach device: ");
    if (!live || !refused_as_transient(guest, flags)) {
        g_propagate_error(error, g_steal_pointer(&local));
        return FALSE;
    }
    if (virDomainAttachDeviceFlags(guest->dom, device_xml, VIR_DOMAIN_AFFECT_LIVE) < 0) {
        set_domain_error(error, guest->name, "attach device: ");
        return FALSE;
    }
    return TRUE;
}

gboolean
nv_guest_attach_device(nv_guest *guest, const char *device_xml, GError **error)
{
    gboolean live = FALSE;

    g_return_val_if_fail(guest != NULL && device_xml != NULL, FALSE);
    return nv_guest_is_live(guest, &live, error) && attach_device(guest, device_xml, live, error);
}

void
nv_guest_disks_free(nv_guest_disks *disks)
{
    if (!disks)
        return;
    if (disks->live_disks)
        g_ptr_array_unref(disks->live_disks);
    if (disks->persistent_disks)
        g_ptr_array_unref(disks->persistent_disks);
    g_free(disks);
}

/* The disks of the live (@inactive FALSE) or persistent config, and with
 * @active whether the domain is active (guest_disks.h). */
static GPtrArray *
read_disks(nv_guest *guest, gboolean inactive, gboolean *active, GError **error)
{
    g_autofree char *xml = nv_guest_get_xml(guest, inactive, error);

    return xml ? nv_guest_disks_scan(xml, active, error) : NULL;
}

nv_guest_disks *
nv_guest_read_disks(nv_guest *guest, gboolean want_persistent, GError **error)
{
    g_autoptr(nv_guest_disks) disks = g_new0(nv_guest_disks, 1);
    g_autoptr(GPtrArray) current = NULL;
    gboolean active = FALSE;

    g_return_val_if_fail(guest != NULL, NULL);
    /* One read gives the state and the live disks: the live XML carries
     * id= exactly when the domain is active, and for an inactive domain
     * (always a defined one) it is the persistent config. */
    current = read_disks(guest, FALSE, &active, error);
    if (!current)
        return NULL;
    disks->live = active;
    if (!active) {
        guest->persistent = 1;
        disks->persistent_disks = g_steal_pointer(&current);
        return g_steal_pointer(&disks);
    }
    disks->live_disks = g_steal_pointer(&current);
    /* Unless the domain is known to be transient, its persistent config is
     * read without asking whether it has one: a transient domain's
     * inactive XML is its live one, which only repeats the same checks. */
    if (guest->persistent == 0)
        return g_steal_pointer(&disks);
    disks->persistent_unread = !want_persistent;
    if (want_persistent) {
        disks->persistent_disks = read_disks(guest, TRUE, NULL, error);
        if (!disks->persistent_disks)
            return NULL;
    }
    return g_steal_pointer(&disks);
}

gboolean
nv_guest_read_persistent_disks(nv_guest *guest, nv_guest_disks *disks, GError **error)
{
    g_return_val_if_fail(guest != NULL && disks != NULL, FALSE);
    if (!disks->persistent_unread)
        return TRUE;
    disks->persistent_disks = read_disks(guest, TRUE, NULL, error);
    if (!disks->persistent_disks)
        return FALSE;
    disks->persistent_unread = FALSE;
    return TRUE;
}

gboolean
nv_guest_attach_device_to(nv_guest *guest, const nv_guest_disks *disks, const char *device_xml,
                          GError **error)
{
    g_return_val_if_fail(guest != NULL && disks != NULL && device_xml != NULL, FALSE);
    return attach_device(guest, device_xml, disks->live, error);
}

nv_disk_config *
nv_guest_get_disk(nv_guest *guest, const char *target_dev, GError **error)
{
    g_autofree char *xml = NULL;

    g_return_val_if_fail(guest != NULL && target_dev != NULL, NULL);
    xml = nv_guest_get_xml(guest, FALSE, error);
    if (!xml)
        return NULL;
    return nv_domain_find_disk(xml, target_dev, NULL, error);
}

nv_disk_config *
nv_guest_get_persistent_disk(nv_guest *guest, const char *target_dev, GError **error)
{
    g_autofree char *xml = NULL;

    g_return_val_if_fail(guest != NULL && target_dev != NULL, NULL);
    xml = nv_guest_get_xml(guest, TRUE, error);
    if (!xml)
        return NULL;
    return nv_domain_find_disk(xml, target_dev, NULL, error);
}

/* *@xml = the <disk> of @target_dev in the live or persistent config as a
 * device XML for detach, or NULL when that config has no such disk. */
static gboolean
disk_xml_for_detach(nv_guest *guest, const char *target_dev, gboolean inactive, char **xml,
                    GError **error)
{
    g_autofree char *domain_xml = nv_guest_get_xml(guest, inactive, error);
    g_autoptr(nv_disk_config) disk = NULL;
    g_autoptr(GError) local = NULL;

    *xml = NULL;
    if (!domain_xml)
        return FALSE;
    disk = nv_domain_find_disk(domain_xml, target_dev, NULL, &local);
    if (!disk) {
        if (g_error_matches(local, NV_ERROR, NV_ERROR_NOT_FOUND))
            return TRUE;
        g_propagate_error(error, g_steal_pointer(&local));
        return FALSE;
    }
    *xml = nv_disk_config_to_xml(disk, error);
    return *xml != NULL;
}

/* TRUE with *@present when the live XML still has @target_dev. */
static gboolean
live_has_disk(nv_guest *guest, const char *target_dev, gboolean *present, GError **error)
{
    g_autofree char *xml = nv_guest_get_xml(guest, FALSE, error);

    return xml && nv_guest_disks_scan_has_target(xml, target_dev, present, error);
}

/* Remove @live_xml from the running domain and wait until the live XML no
 * longer has @target_dev: up to @timeout_ms per request, re-sending the
 * request up to @attempts times in all (Nova's detach_device_with_retry:
 * a guest that was busy, or still booting, may ignore the first unplug
 * request). */
static gboolean
detach_live_and_wait(nv_guest *guest, const char *live_xml, const char *target_dev, guint attempts,
                     guint timeout_ms, GError **error)
{
    gboolean present = TRUE;

    if (timeout_ms == 0)
        timeout_ms = NV_GUEST_DETACH_TIMEOUT_MS;
    if (attempts == 0)
        attempts = 1;
    /* For a device the guest has to release (virtio-blk, PCI hot-unplug),
     * libvirt 9.0 waits ~5 s and then returns 0 with the disk still there;
     * only its absence from the live XML proves it left.  Re-reading the XML
     * needs no event loop in the caller's process, unlike
     * VIR_DOMAIN_EVENT_ID_DEVICE_REMOVED. */
    for (guint attempt = 1; attempt <= attempts; attempt++) {
        gint64 deadline = g_get_monotonic_time() + (gint64)timeout_ms * 1000;

        if (virDomainDetachDeviceFlags(guest->dom, live_xml, VIR_DOMAIN_AFFECT_LIVE) < 0) {
            virErrorPtr err = virGetLastError();

            /* The first request must be accepted.  A repeated one may be
             * refused because the first is still in progress, or because
             * the disk left in between: the XML below tells which. */
            if (attempt == 1 ||
                (err && err->code != VIR_ERR_DEVICE_MISSING &&
                 err->code != VIR_ERR_OPERATION_FAILED && err->code != VIR_ERR_OPERATION_INVALID)) {
                set_domain_error(error, guest->name, "detach disk from live config: ");
                return FALSE;
            }
        }
        for (;;) {
            if (!live_has_disk(guest, target_dev, &present, error))
                return FALSE;
            if (!present)
                return TRUE;
            if (g_get_monotonic_time() >= deadline)
                break;
            g_usleep(DETACH_POLL_US);
        }
        if (attempt < attempts)
            g_message("domain '%s': disk '%s' still attached after %u ms: asking again (%u/%u)",
                      guest->name, target_dev, timeout_ms, attempt + 1, attempts);
    }
    if (attempts == 1)
        g_set_error(error, NV_ERROR, NV_ERROR_FAILED,
                    "domain '%s': disk '%s' not removed within %u ms", guest->name, target_dev,
                    timeout_ms);
    else
        g_set_error(error, NV_ERROR, NV_ERROR_FAILED,
                    "domain '%s': disk '%s' not removed after %u requests of %u ms each",
                    guest->name, target_dev, attempts, timeout_ms);
    return FALSE;
}

gboolean
nv_guest_detach_disk(nv_guest *guest, const char *target_dev, guint timeout_ms, GError **error)
{
    g_autofree char *persistent = NULL;
    g_autofree char *live_xml = NULL;
    gboolean live = FALSE;

    g_return_val_if_fail(guest != NULL && target_dev != NULL, FALSE);
    if (!nv_guest_is_live(guest, &live, error))
        return FALSE;

    if (!disk_xml_for_detach(guest, target_dev, TRUE, &persistent, error))
        return FALSE;
    if (live && !disk_xml_for_detach(guest, target_dev, FALSE, &live_xml, error))
        return FALSE;
    if (!persistent && !live_xml) {
        g_set_error(error, NV_ERROR, NV_ERROR_NOT_FOUND,
                    "domain '%s': no disk with target dev '%s'", guest->name, target_dev);
        return FALSE;
    }

    /* Persistent first, then live, as Nova's detach_device_with_retry: the
     * persistent detach cannot hang, the live one depends on the guest. */
    if (persistent &&
        virDomainDetachDeviceFlags(guest->dom, persistent, VIR_DOMAIN_AFFECT_CONFIG) < 0) {
        set_domain_error(error, guest->name, "detach disk from persistent config: ");
        return FALSE;
    }
    if (!live_xml)
        return TRUE;
    return detach_live_and_wait(guest, live_xml, target_dev, 1, timeout_ms, error);
}

gboolean
nv_guest_detach_found_disk(nv_guest *guest, const nv_disk_config *disk, guint timeout_ms,
                           GError **error)
{
    g_autofree char *xml = NULL;
    gboolean live = FALSE;

    g_return_val_if_fail(guest != NULL && disk != NULL && disk->target_dev != NULL, FALSE);
    if (!nv_guest_is_live(guest, &live, error))
        return FALSE;
    xml = nv_disk_config_to_xml(disk, error);
    if (!xml)
        return FALSE;

    /* libvirt finds the persistent disk by its target, so the live disk's
     * XML serves for both configs and neither needs reading again.  A disk
     * that is only live (a transient attach) is not in the persistent
     * config: libvirt says VIR_ERR_DEVICE_MISSING. */
    if (virDomainDetachDeviceFlags(guest->dom, xml, VIR_DOMAIN_AFFECT_CONFIG) < 0) {
        virErrorPtr err = virGetLastError();

        if (!live || !err || err->code != VIR_ERR_DEVICE_MISSING) {
            set_domain_error(error, guest->name, "detach disk from persistent config: ");
            return FALSE;
        }
    }
    if (!live)
        return TRUE;
    return detach_live_and_wait(guest, xml, disk->target_dev, 1, timeout_ms, error);
}

gboolean
nv_guest_detach_disk_from(nv_guest *guest, const nv_guest_disks *disks, const nv_disk_config *disk,
                          guint attempts, guint timeout_ms, GError **error)
{
    g_autofree char *xml = NULL;
    const char *dev;
    gboolean in_persistent, in_live;

    g_return_val_if_fail(guest != NULL && disks != NULL && disk != NULL && disk->target_dev, FALSE);
    dev = disk->target_dev;
    in_persistent = nv_disks_find_by_target(disks->persistent_disks, dev) != NULL;
    in_live = nv_disks_find_by_target(disks->live_disks, dev) != NULL;
    xml = nv_disk_config_to_xml(disk, error);
    if (!xml)
        return FALSE;

    /* Persistent first, then live, as Nova's detach_device_with_retry: the
     * persistent detach cannot hang, the live one depends on the guest.
     * libvirt finds the disk in either config by its target, so one XML
     * serves for both.  When the persistent config was not read (the disk
     * was found live), a disk that is only live (attached live-only) makes
     * libvirt say VIR_ERR_DEVICE_MISSING, which is that answer. */
    if ((in_persistent || disks->persistent_unread) &&
        virDomainDetachDeviceFlags(guest->dom, xml, VIR_DOMAIN_AFFECT_CONFIG) < 0) {
        virErrorPtr err = virGetLastError();

        if (!disks->persistent_unread || !err || err->code != VIR_ERR_DEVICE_MISSING) {
            g_autoptr(GError) local = NULL;

            /* A transient domain has no persistent config to detach from. */
            set_domain_error(&local, guest->name, "detach disk from persistent config: ");
            if (!refused_as_transient(guest, VIR_DOMAIN_AFFECT_CONFIG)) {
                g_propagate_error(error, g_steal_pointer(&local));
                return FALSE;
            }
        }
    }
    if (!in_live)
        return TRUE;
    return detach_live_and_wait(guest, xml, dev, attempts, timeout_ms, error);
}

/* ------------------------------------------------------------------------ */
/* Block devices: resize and copy (BlockDevice in nova/virt/libvirt/guest.py) */
/* ------------------------------------------------------------------------ */

/* How often a block copy's progress is read while it catches up (Nova
 * polls is_job_complete every 0.5 s). */
#define BLOCK_JOB_POLL_US (100 * 1000)

gboolean
nv_guest_get_disk_capacity(nv_guest *guest, const char *target_dev, guint64 *capacity,
                           GError **error)
{
    virDomainBlockInfo info = { 0 };

    g_return_val_if_fail(guest != NULL && target_dev != NULL && capacity != NULL, FALSE);
    if (virDomainGetBlockInfo(guest->dom, target_dev, &info, 0) < 0) {
        g_autofree char *what = g_strdup_printf("disk '%s': ", target_dev);

        set_domain_error(error, guest->name, what);
        return FALSE;
    }
    *capacity = info.capacity;
    return TRUE;
}

gboolean
nv_guest_resize_disk(nv_guest *guest, const char *target_dev, guint64 size, GError **error)
{
    g_return_val_if_fail(guest != NULL && target_dev != NULL, FALSE);
    if (virDomainBlockResize(guest->dom, target_dev, size, VIR_DOMAIN_BLOCK_RESIZE_BYTES) < 0) {
        g_autofree char *what = g_strdup_printf("resize disk '%s': ", target_dev);

        set_domain_error(error, guest->name, what);
        return FALSE;
    }
    return TRUE;
}

char *
nv_guest_get_secure_xml(nv_guest *guest, gboolean inactive, GError **error)
{
    char *xml;

    g_return_val_if_fail(guest != NULL, NULL);
    xml = virDomainGetXMLDesc(guest->dom,
                              VIR_DOMAIN_XML_SECURE | (inactive ? VIR_DOMAIN_XML_INACTIVE : 0));
    if (!xml)
        set_domain_error(error, guest->name, "XML: ");
    return xml;
}

gboolean
nv_guest_undefine_keep_nvram(nv_guest *guest, GError **error)
{
    g_return_val_if_fail(guest != NULL, FALSE);
    if (virDomainUndefineFlags(guest->dom, VIR_DOMAIN_UNDEFINE_KEEP_NVRAM) < 0) {
        set_domain_error(error, guest->name, "undefine: ");
        return FALSE;
    }
    guest->persistent = FALSE;
    return TRUE;
}

gboolean
nv_guest_define(nv_guest *guest, const char *xml, GError **error)
{
    virDomainPtr dom;

    g_return_val_if_fail(guest != NULL && xml != NULL, FALSE);
    dom = virDomainDefineXML(guest->conn, xml);
    if (!dom) {
        set_domain_error(error, guest->name, "define: ");
        return FALSE;
    }
    virDomainFree(dom);
    guest->persistent = TRUE;
    return TRUE;
}

void
nv_guest_abort_block_job(nv_guest *guest, const char *target_dev)
{
    g_return_if_fail(guest != NULL && target_dev != NULL);
    /* Idempotent, as Nova's dev.abort_job() before a copy: no job is the
     * usual answer and not an error. */
    if (virDomainBlockJobAbort(guest->dom, target_dev, 0) < 0)
        g_debug("domain '%s': disk '%s': no block job to abort: %s", guest->name, target_dev,
                virGetLastErrorMessage());
}

/* Wait until the copy job on @target_dev has mirrored everything and
 * libvirt accepts the pivot.  libvirt answers a pivot of a mirror that is
 * not ready with VIR_ERR_BLOCK_COPY_ACTIVE and changes nothing, so trying
 * it is the readiness check Nova makes with <mirror ready='yes'>. */
static gboolean
pivot_when_ready(nv_guest *guest, const char *target_dev, GError **error)
{
    for (;;) {
        virDomainBlockJobInfo info = { 0 };
        int r = virDomainGetBlockJobInfo(guest->dom, target_dev, &info, 0);

        if (r < 0) {
            set_domain_error(error, guest->name, "block copy progress: ");
            return FALSE;
        }
        if (r == 0) {
            g_set_error(error, NV_ERROR, NV_ERROR_LIBVIRT,
                        "domain '%s': block copy of disk '%s' ended before it could pivot",
                        guest->name, target_dev);
            return FALSE;
        }
        if (info.cur == info.end) {
            if (virDomainBlockJobAbort(guest->dom, target_dev, VIR_DOMAIN_BLOCK_JOB_ABORT_PIVOT) ==
                0)
                return TRUE;
            if (virGetLastErrorCode() != VIR_ERR_BLOCK_COPY_ACTIVE) {
                set_domain_error(error, guest->name, "block copy pivot: ");
                return FALSE;
            }
        }
        g_usleep(BLOCK_JOB_POLL_US);
    }
}

gboolean
nv_guest_copy_disk_and_pivot(nv_guest *guest, const char *target_dev, const char *dest_disk_xml,
                             GError **error)
{
    g_return_val_if_fail(guest != NULL && target_dev != NULL && dest_disk_xml != NULL, FALSE);
    if (virDomainBlockCopy(guest->dom, target_dev, dest_disk_xml, NULL, 0,
                           VIR_DOMAIN_BLOCK_COPY_REUSE_EXT) < 0) {
        g_autofree char *what = g_strdup_printf("block copy of disk '%s': ", target_dev);

        set_domain_error(error, guest->name, what);
        return FALSE;
    }
    if (!pivot_when_ready(guest, target_dev, error)) {
        /* The guest keeps its old disk: end the mirror without pivoting. */
        nv_guest_abort_block_job(guest, target_dev);
        return FALSE;
    }
    return TRUE;
}
