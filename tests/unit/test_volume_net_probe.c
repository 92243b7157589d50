/* SPDX-License-Identifier: Apache-2.0 */
/*
 * nv_volume_net_check_monitors: an rbd disk whose monitors do not answer is
 * refused before QEMU's librbd waits client_mount_timeout for them.  Real
 * sockets on 127.0.0.1; the functional suite (test_rbd.c) runs the same
 * check against a real mon.
 */
#include <arpa/inet.h>
#include <criterion/criterion.h>
#include <netinet/in.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "nvirt/error.h"
#include "virt/libvirt/config.h"
#include "virt/libvirt/volume/volume.h"

/* A listening socket on 127.0.0.1 (*@port its port), or, with @listening
 * FALSE, a port that was free a moment ago and has no listener. */
static int
loopback_socket(gboolean listening, guint *port)
{
    struct sockaddr_in addr = { .sin_family = AF_INET };
    socklen_t len = sizeof(addr);
    int fd = socket(AF_INET, SOCK_STREAM, 0);

    cr_assert(fd >= 0);
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    cr_assert(bind(fd, (struct sockaddr *)&addr, sizeof(addr)) == 0);
    cr_assert(getsockname(fd, (struct sockaddr *)&addr, &len) == 0);
    *port = ntohs(addr.sin_port);
    if (listening) {
        cr_assert(listen(fd, 1) == 0);
        return fd;
    }
    close(fd);
    return -1;
}

static nv_disk_config *
rbd_disk(const char *protocol)
{
    nv_disk_config *disk = nv_disk_config_new();

    g_free(disk->source_type);
    disk->source_type = g_strdup("network");
    disk->source_protocol = g_strdup(protocol);
    disk->source_name = g_strdup("volumes/volume-1");
    return disk;
}

Test(net_monitors, a_listening_monitor_passes)
{
    g_autoptr(nv_disk_config) disk = rbd_disk("rbd");
    g_autoptr(GError) error = NULL;
    guint closed, open;
    int fd;
    g_autofree char *closed_port = NULL;
    g_autofree char *open_port = NULL;

    loopback_socket(FALSE, &closed);
    fd = loopback_socket(TRUE, &open);
    closed_port = g_strdup_printf("%u", closed);
    open_port = g_strdup_printf("%u", open);
    /* The first does not answer; one that does is enough. */
    nv_disk_config_add_host(disk, "127.0.0.1", closed_port, NULL, NULL);
    nv_disk_config_add_host(disk, "127.0.0.1", open_port, NULL, NULL);
    cr_assert(nv_volume_net_check_monitors(disk, "vol-1", 5000, &error), "%s",
              error ? error->message : "");
    close(fd);
}

Test(net_monitors, no_answer_names_the_volume_and_every_address)
{
    g_autoptr(nv_disk_config) disk = rbd_disk("rbd");
    g_autoptr(GError) error = NULL;
    guint a, b;
    g_autofree char *pa = NULL;
    g_autofree char *pb = NULL;
    g_autofree char *expect = NULL;

    loopback_socket(FALSE, &a);
    loopback_socket(FALSE, &b);
    pa = g_strdup_printf("%u", a);
    pb = g_strdup_printf("%u", b);
    nv_disk_config_add_host(disk, "127.0.0.1", pa, NULL, NULL);
    nv_disk_config_add_host(disk, "127.0.0.1", pb, NULL, NULL);
    cr_assert_not(nv_volume_net_check_monitors(disk, "vol-1", 5000, &error));
    cr_assert_eq(error->code, NV_ERROR_FAILED);
    expect = g_strdup_printf("volume vol-1: no Ceph monitor answers at 127.0.0.1:%u, "
                             "127.0.0.1:%u (Connection refused); QEMU would wait minutes for one",
                             a, b);
    cr_assert_str_eq(error->message, expect);
}

Test(net_monitors, monitors_from_ceph_conf_and_other_protocols_are_not_probed)
{
    g_autoptr(nv_disk_config) no_hosts = rbd_disk("rbd");
    g_autoptr(nv_disk_config) nbd = rbd_disk("nbd");
    g_autoptr(GError) error = NULL;
    guint closed;
    g_autofree char *port = NULL;

    loopback_socket(FALSE, &closed);
    port = g_strdup_printf("%u", closed);
    nv_disk_config_add_host(nbd, "127.0.0.1", port, NULL, NULL);
    cr_assert(nv_volume_net_check_monitors(no_hosts, "vol-1", 5000, &error));
    cr_assert(nv_volume_net_check_monitors(nbd, "vol-1", 5000, &error));
}
