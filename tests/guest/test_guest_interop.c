/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Host half of the interop checks (issue 4 item 7): after the guest powered
 * off, QEMU's own LUKS driver must read what the encryptor wrote in the
 * guest (interop::volume_formatted_here_for_qemu_to_read), with the same key.
 * run-guest.sh runs this with NVIRT_GUEST_DISK4 set to that disk's image.
 */
#include <criterion/criterion.h>
#include <glib.h>
#include <string.h>

#include "guest_keys.h"

static char *
disk4(void)
{
    const char *path = getenv("NVIRT_GUEST_DISK4");

    cr_assert(path && *path, "$NVIRT_GUEST_DISK4 is not set: run through run-guest.sh");
    return g_strdup(path);
}

/* qemu-io -c COMMAND on the LUKS image @path opened with GUEST_KEY_A. */
static int
qemu_io(const char *path, const char *command, char **out)
{
    g_autoptr(GError) error = NULL;
    g_autofree char *opts =
        g_strdup_printf("driver=luks,key-secret=sec0,file.driver=file,file.filename=%s", path);
    const char *argv[] = {
        "qemu-io", "-r",    "--object", "secret,id=sec0,data=" GUEST_KEY_A, "--image-opts", opts,
        "-c",      command, NULL
    };
    g_autofree char *err = NULL;
    int status = 0;

    cr_assert(g_spawn_sync(NULL, (char **)argv, NULL, G_SPAWN_SEARCH_PATH, NULL, NULL, out, &err,
                           &status, &error),
              "qemu-io: %s", error ? error->message : "");
    if (err && *err)
        cr_log_info("qemu-io stderr: %s", err);
    return g_spawn_check_wait_status(status, NULL) ? 0 : 1;
}

Test(interop, qemu_reads_the_volume_the_encryptor_formatted)
{
    g_autofree char *path = disk4();
    g_autofree char *command =
        g_strdup_printf("read -P 0x%02x %d 1M", INTEROP_GUEST_BYTE, INTEROP_OFFSET);
    g_autofree char *out = NULL;

    cr_assert_eq(qemu_io(path, command, &out), 0, "%s", out ? out : "");
    cr_assert_null(strstr(out, "Pattern verification failed"), "%s", out);
    cr_assert_not_null(strstr(out, "read 1048576/1048576 bytes"), "%s", out);
}

Test(interop, qemu_img_sees_a_luks_image)
{
    g_autofree char *path = disk4();
    g_autofree char *opts = g_strdup_printf("driver=luks,key-secret=sec0,file.filename=%s", path);
    const char *argv[] = { "qemu-img",
                           "info",
                           "--output=json",
                           "--object",
                           "secret,id=sec0,data=" GUEST_KEY_A,
                           "--image-opts",
                           opts,
                           NULL };
    g_autofree char *out = NULL;
    g_autoptr(GError) error = NULL;
    int status = 0;

    cr_assert(g_spawn_sync(NULL, (char **)argv, NULL, G_SPAWN_SEARCH_PATH, NULL, NULL, &out, NULL,
                           &status, &error),
              "qemu-img: %s", error ? error->message : "");
    cr_assert(g_spawn_check_wait_status(status, NULL), "qemu-img info failed: %s", out);
    cr_assert_not_null(strstr(out, "\"format\": \"luks\""), "%s", out);
}
