/* SPDX-License-Identifier: Apache-2.0 */
/* The per-volume external lock (src/virt/libvirt/volume_lock.c). */
#include <criterion/criterion.h>
#include <glib/gstdio.h>
#include <signal.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "nvirt/error.h"
#include "virt/libvirt/volume_lock.h"

static char *
lock_dir(void)
{
    g_autofree char *base = g_dir_make_tmp("nvirt-lock-XXXXXX", NULL);

    cr_assert_not_null(base);
    /* A missing directory is created, parents too. */
    return g_build_filename(base, "a", "lock", NULL);
}

Test(volume_lock, cinder_ids_name_the_file_as_they_are)
{
    g_autofree char *name = nv_volume_lock_file_name("0c8c2d4e-5b3a-4c1e-9f00-1234567890ab");

    cr_assert_str_eq(name, "nvirt-volume-0c8c2d4e-5b3a-4c1e-9f00-1234567890ab");
}

Test(volume_lock, other_ids_never_escape_the_directory_nor_collide)
{
    g_autofree char *a = nv_volume_lock_file_name("../../etc/passwd");
    g_autofree char *b = nv_volume_lock_file_name("..__etc_passwd");
    g_autofree char *c = nv_volume_lock_file_name("..");
    g_autofree char *d = nv_volume_lock_file_name("a/b");
    g_autofree char *e = nv_volume_lock_file_name("a_b");

    cr_assert_null(strchr(a, '/'));
    cr_assert_null(strchr(c, '/'));
    cr_assert_null(strchr(d, '/'));
    cr_assert_str_neq(a, b);
    cr_assert_str_neq(d, e);
    cr_assert_str_neq(c, "nvirt-volume-..");
}

Test(volume_lock, a_second_holder_waits_and_gives_up_with_busy)
{
    g_autofree char *dir = lock_dir();
    g_autoptr(GError) error = NULL;
    g_autoptr(nv_volume_lock) held = nv_volume_lock_acquire(dir, "vol-1", 1000, &error);
    pid_t pid;
    int status = 0;

    cr_assert_not_null(held, "%s", error ? error->message : "");
    /* Another process (a second compute-service worker, a CLI run) cannot
     * take it ... */
    pid = fork();
    cr_assert_geq(pid, 0);
    if (pid == 0) {
        g_autoptr(GError) child_error = NULL;
        nv_volume_lock *lock = nv_volume_lock_acquire(dir, "vol-1", 200, &child_error);

        _exit(!lock && g_error_matches(child_error, NV_ERROR, NV_ERROR_BUSY) &&
                      strstr(child_error->message, "volume vol-1: another operation")
                  ? 0
                  : 1);
    }
    cr_assert_eq(waitpid(pid, &status, 0), pid);
    cr_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0, "the lock was not exclusive");

    /* ... nor can a second driver handle in this process. */
    {
        g_autoptr(GError) second_error = NULL;
        g_autoptr(nv_volume_lock) second = nv_volume_lock_acquire(dir, "vol-1", 100, &second_error);

        cr_assert_null(second);
        cr_assert(g_error_matches(second_error, NV_ERROR, NV_ERROR_BUSY));
    }
    /* Another volume is independent. */
    {
        g_autoptr(GError) other_error = NULL;
        g_autoptr(nv_volume_lock) other = nv_volume_lock_acquire(dir, "vol-2", 100, &other_error);

        cr_assert_not_null(other, "%s", other_error ? other_error->message : "");
    }
}

Test(volume_lock, released_or_dead_holders_let_the_next_one_in)
{
    g_autofree char *dir = lock_dir();
    g_autoptr(GError) error = NULL;
    nv_volume_lock *lock = nv_volume_lock_acquire(dir, "vol-3", 1000, &error);
    pid_t pid;
    int status = 0;

    cr_assert_not_null(lock, "%s", error ? error->message : "");
    nv_volume_lock_release(lock);
    lock = nv_volume_lock_acquire(dir, "vol-3", 1000, &error);
    cr_assert_not_null(lock, "%s", error ? error->message : "");
    nv_volume_lock_release(lock);

    /* A holder killed mid-operation never leaves the volume locked. */
    pid = fork();
    cr_assert_geq(pid, 0);
    if (pid == 0) {
        nv_volume_lock_acquire(dir, "vol-3", 1000, NULL);
        kill(getpid(), SIGKILL);
        _exit(1);
    }
    cr_assert_eq(waitpid(pid, &status, 0), pid);
    cr_assert(WIFSIGNALED(status));
    lock = nv_volume_lock_acquire(dir, "vol-3", 1000, &error);
    cr_assert_not_null(lock, "%s", error ? error->message : "");
    nv_volume_lock_release(lock);
}

Test(volume_lock, an_unusable_directory_is_one_line_naming_the_volume)
{
    g_autoptr(GError) error = NULL;

    cr_assert_null(nv_volume_lock_acquire("/proc/nvirt-no-such", "vol-4", 100, &error));
    cr_assert_not_null(strstr(error->message, "volume vol-4"), "%s", error->message);
    cr_assert_null(strchr(error->message, '\n'));
}
