/* SPDX-License-Identifier: Apache-2.0 */
/*
 * An out-of-tree program using libnvirt as a compute service would: only
 * <nvirt/nvirt.h>, compiled and linked with `pkg-config --cflags --libs
 * nvirt` against an installed copy (tests/dist/check-consumer.sh).  It needs
 * no daemon: libvirt's built-in test driver (test:///default, one running
 * domain named "test") stands in for a host.  Every line it prints is checked
 * by the script; any unexpected result exits 1 with a message.
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>

#include <nvirt/nvirt.h>

static void
fail(const char *what, const GError *error)
{
    fprintf(stderr, "consumer: %s: %s\n", what, error ? error->message : "unexpected result");
    exit(1);
}

int
main(void)
{
    g_autoptr(GError) error = NULL;
    g_autoptr(nv_driver) driver = NULL;
    g_autoptr(nv_host_info) info = NULL;
    g_autoptr(nv_attach_plan) plan = NULL;
    g_autofree char *version = NULL;
    nv_volume_request request = {
        .version = NV_VOLUME_REQUEST_VERSION,
        .connection_info = "{\"driver_volume_type\": \"file\",",
        .mountpoint = "/dev/vdb",
    };

    /* As the header says, for libvirt's sake. */
    signal(SIGPIPE, SIG_IGN);

    printf("error domain: %s\n", g_quark_to_string(NV_ERROR));

    version = nv_version_to_string(7002022);
    printf("version: %s\n", version);

    driver = nv_driver_open("/nonexistent/nvirt.conf", "test:///default", NULL, &error);
    if (driver || !g_error_matches(error, NV_ERROR, NV_ERROR_CONFIG))
        fail("a missing configuration file is not NV_ERROR_CONFIG", error);
    printf("missing config: NV_ERROR_CONFIG\n");
    g_clear_error(&error);

    driver = nv_driver_open(NULL, "test:///default", NULL, &error);
    if (!driver)
        fail("nv_driver_open(test:///default)", error);

    info = nv_driver_get_host_info(driver, &error);
    if (!info)
        fail("nv_driver_get_host_info", error);
    printf("host info: native_luks=%s\n", nv_host_info_get_native_luks(info) ? "yes" : "no");

    /* Input is checked before the host is asked anything. */
    plan = nv_driver_plan_attach(driver, "test", &request, &error);
    if (plan || !g_error_matches(error, NV_ERROR, NV_ERROR_BAD_INPUT))
        fail("a connection_info that is not JSON is not NV_ERROR_BAD_INPUT", error);
    printf("bad request: NV_ERROR_BAD_INPUT\n");
    return 0;
}
