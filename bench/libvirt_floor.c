/* SPDX-License-Identifier: Apache-2.0 */
/*
 * bench/libvirt_floor: the least a program that uses libvirt can do, as a
 * reference for nvirt's start-up time (bench/cli_startup).
 *
 *   libvirt_floor          load libvirt and ask its version: what linking
 *                          libvirt costs before any work (the floor under
 *                          "nvirt disk-xml", which links it too);
 *   libvirt_floor URI      also connect to URI and ask the libvirt and
 *                          hypervisor versions (what "nvirt host-info" does).
 */
#include <libvirt/libvirt.h>
#include <stdio.h>

int
main(int argc, char **argv)
{
    unsigned long lib = 0, hv = 0;
    virConnectPtr conn;

    if (argc < 2) {
        if (virGetVersion(&lib, NULL, NULL) < 0)
            return 1;
        printf("%lu\n", lib);
        return 0;
    }
    conn = virConnectOpen(argv[1]);
    if (!conn)
        return 1;
    if (virConnectGetLibVersion(conn, &lib) < 0 || virConnectGetVersion(conn, &hv) < 0) {
        virConnectClose(conn);
        return 1;
    }
    printf("%lu %lu\n", lib, hv);
    virConnectClose(conn);
    return 0;
}
