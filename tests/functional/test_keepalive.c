/* SPDX-License-Identifier: Apache-2.0 */
/*
 * A libvirtd that stops answering ([libvirt] keepalive_interval,
 * keepalive_count; issue 12's "every call that can block has a bound"):
 * with a libvirt event loop in the process, as the nvirt command runs one
 * and a compute service runs its own, the driver's connection is probed,
 * and a call on a frozen daemon (SIGSTOP) fails with one line instead of
 * blocking.  The bound is the test's timeout, not a timing assertion.
 */
#include "harness.h"

#include <criterion/criterion.h>
#include <errno.h>
#include <libvirt/libvirt.h>
#include <libvirt/virterror.h>
#include <signal.h>
#include <string.h>

#include "driver_fixtures.h"
#include "nvirt/nvirt.h"
#include "support.h"

static pid_t
daemon_pid(void)
{
    g_autofree char *path = g_build_filename(nv_harness_dir(), "libvirtd.pid", NULL);
    g_autofree char *text = NULL;
    gint64 pid;

    cr_assert(g_file_get_contents(path, &text, NULL, NULL), "no %s", path);
    pid = g_ascii_strtoll(text, NULL, 10);
    cr_assert(pid > 1, "%s: '%s'", path, text);
    return (pid_t)pid;
}

/* Whatever a test did, the daemon runs again for the next one. */
static void
thaw_daemon(void)
{
    kill(daemon_pid(), SIGCONT);
}

TestSuite(keepalive, .fini = thaw_daemon);

static gpointer
run_events(gpointer data)
{
    while (virEventRunDefaultImpl() == 0)
        ;
    return NULL;
}

/* The process's libvirt event loop, as the nvirt command starts it. */
static void
start_event_loop(void)
{
    cr_assert(virEventRegisterDefaultImpl() == 0, "%s", virGetLastErrorMessage());
    g_thread_unref(g_thread_new("test-libvirt-events", run_events, NULL));
}

static nv_driver *
open_keepalive_driver(void)
{
    return open_driver_with(FIXED_KEY, "[libvirt]\nkeepalive_interval = 1\nkeepalive_count = 2\n");
}

/* Criterion's timeout is the bound: without keepalive the call would block
 * until the daemon is thawed, which only the .fini does. */
Test(keepalive, a_frozen_daemon_fails_the_call_instead_of_blocking, .timeout = 60)
{
    g_autoptr(nv_driver) driver = NULL;
    g_autoptr(nv_reconcile_report) report = NULL;
    g_autoptr(GError) error = NULL;

    start_event_loop();
    driver = open_keepalive_driver();
    /* The connection works before the freeze. */
    report = nv_driver_reconcile(driver, TRUE, &error);
    cr_assert_not_null(report, "%s", error ? error->message : "");
    g_clear_pointer(&report, nv_reconcile_report_free);

    cr_assert(kill(daemon_pid(), SIGSTOP) == 0, "%s", g_strerror(errno));
    report = nv_driver_reconcile(driver, TRUE, &error);
    cr_assert_null(report, "reconcile answered by a stopped libvirtd");
    cr_assert_not_null(error);
    cr_assert_eq(error->domain, NV_ERROR);
    cr_assert_eq(error->code, NV_ERROR_LIBVIRT, "%d: %s", error->code, error->message);
    cr_assert(strstr(error->message, "keepalive") != NULL, "%s", error->message);
    cr_assert_null(strchr(error->message, '\n'), "%s", error->message);
}

/* Keepalive is best effort: a program with no event loop gets a working
 * driver, only without the probes. */
Test(keepalive, without_an_event_loop_the_driver_still_works)
{
    g_autoptr(nv_driver) driver = open_keepalive_driver();
    g_autoptr(nv_reconcile_report) report = NULL;
    g_autoptr(GError) error = NULL;

    report = nv_driver_reconcile(driver, TRUE, &error);
    cr_assert_not_null(report, "%s", error ? error->message : "");
}

/* The nvirt command runs the event loop, so its connection has keepalive
 * ([libvirt] keepalive_interval = 5 by default). */
Test(keepalive, the_command_runs_an_event_loop_for_it)
{
    g_autofree char *conf = write_conf("cli.conf", FIXED_KEY, NULL);
    const char *args[] = { "--config-file", conf, "--debug", "host-info", NULL };
    g_autofree char *out = NULL;
    g_autofree char *err = NULL;
    int status = nv_test_run_nvirt(args, NULL, &out, &err);

    cr_assert_eq(status, 0, "%s", err);
    cr_assert(strstr(err, "libvirt keepalive: a probe after 5 s of silence, the connection closed "
                          "after 6 unanswered") != NULL,
              "%s", err);
}
