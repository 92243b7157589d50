/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Where the CLI writes (issue 12): generate-config --output replaces only a
 * regular file, never a device node, FIFO, socket or symbolic link; and
 * --debug / G_MESSAGES_DEBUG=all messages go to stderr, never into the data
 * on stdout.
 */
#include <criterion/criterion.h>
#include <json-glib/json-glib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/un.h>
#include <unistd.h>

#include "support.h"

#define NO_STDIN         ""
#define EMPTY_IF_NULL(s) ((s) ? (s) : "")

static char *tmpdir;

static void
setup_tmpdir(void)
{
    tmpdir = nv_test_mkdtemp();
}

static void
teardown_tmpdir(void)
{
    nv_test_rmtree(tmpdir);
    g_clear_pointer(&tmpdir, g_free);
}

/* ---- generate-config --output FILE ------------------------------------- */

typedef enum {
    TARGET_CHAR_DEVICE,
    TARGET_FIFO,
    TARGET_SYMLINK_TO_FILE,
    TARGET_DANGLING_SYMLINK,
    TARGET_SOCKET,
    TARGET_DIRECTORY,
} target_kind;

static const struct {
    target_kind kind;
    const char *name;
    const char *says;
} targets[] = {
    { TARGET_CHAR_DEVICE, "null", "is a character device, not a regular file" },
    { TARGET_FIFO, "fifo", "is a FIFO, not a regular file" },
    { TARGET_SYMLINK_TO_FILE, "link", "is a symbolic link, not a regular file" },
    { TARGET_DANGLING_SYMLINK, "dangling", "is a symbolic link, not a regular file" },
    { TARGET_SOCKET, "sock", "is a socket, not a regular file" },
    { TARGET_DIRECTORY, "dir", "is a directory, not a regular file" },
};

/* Make @path as @kind; *@st is what it is afterwards (lstat). */
static void
make_target(target_kind kind, const char *path, struct stat *st)
{
    g_autofree char *file = g_build_filename(tmpdir, "pointed-to", NULL);

    switch (kind) {
    case TARGET_CHAR_DEVICE:
        /* A copy of /dev/null: what a renamed temp file would replace. */
        cr_assert_eq(mknod(path, S_IFCHR | 0644, makedev(1, 3)), 0, "mknod: %s", g_strerror(errno));
        break;
    case TARGET_FIFO:
        cr_assert_eq(mkfifo(path, 0644), 0);
        break;
    case TARGET_SYMLINK_TO_FILE:
        cr_assert(g_file_set_contents(file, "keep me\n", -1, NULL));
        cr_assert_eq(symlink(file, path), 0);
        break;
    case TARGET_DANGLING_SYMLINK:
        cr_assert_eq(symlink(file, path), 0);
        break;
    case TARGET_SOCKET: {
        struct sockaddr_un addr = { .sun_family = AF_UNIX };
        int fd = socket(AF_UNIX, SOCK_STREAM, 0);

        cr_assert_lt(strlen(path), sizeof(addr.sun_path));
        strcpy(addr.sun_path, path);
        cr_assert_eq(bind(fd, (struct sockaddr *)&addr, sizeof(addr)), 0);
        close(fd);
        break;
    }
    case TARGET_DIRECTORY:
        cr_assert_eq(mkdir(path, 0755), 0);
        break;
    }
    cr_assert_eq(lstat(path, st), 0);
}

Test(generate_config_output, refuses_what_is_not_a_regular_file, .init = setup_tmpdir,
     .fini = teardown_tmpdir)
{
    for (gsize i = 0; i < G_N_ELEMENTS(targets); i++) {
        g_autofree char *path = g_build_filename(tmpdir, targets[i].name, NULL);
        g_autofree char *pointed = g_build_filename(tmpdir, "pointed-to", NULL);
        const char *const args[] = { "generate-config", "-o", path, NULL };
        g_autofree char *expected = NULL;
        g_autofree char *out = NULL;
        g_autofree char *err = NULL;
        g_autofree char *kept = NULL;
        struct stat before;
        struct stat after;

        make_target(targets[i].kind, path, &before);
        cr_assert_eq(nv_test_run_nvirt(args, NO_STDIN, &out, &err), 2, "%s: exit status (%s)",
                     targets[i].name, EMPTY_IF_NULL(err));
        expected =
            g_strdup_printf("nvirt: %s: %s: refusing to replace it\n", path, targets[i].says);
        cr_assert_str_eq(err, expected, "%s", targets[i].name);
        cr_assert_str_eq(EMPTY_IF_NULL(out), "");

        /* The same inode, of the same type; nothing written through a link. */
        cr_assert_eq(lstat(path, &after), 0, "%s is gone", targets[i].name);
        cr_assert_eq(after.st_ino, before.st_ino, "%s was replaced", targets[i].name);
        cr_assert_eq(after.st_mode, before.st_mode, "%s", targets[i].name);
        if (targets[i].kind == TARGET_SYMLINK_TO_FILE) {
            cr_assert(g_file_get_contents(pointed, &kept, NULL, NULL));
            cr_assert_str_eq(kept, "keep me\n");
        } else if (targets[i].kind == TARGET_DANGLING_SYMLINK) {
            cr_assert(!g_file_test(pointed, G_FILE_TEST_EXISTS), "written through the link");
        }
        g_autofree char *left = g_build_filename(tmpdir, "pointed-to", NULL);
        unlink(left);
        if (targets[i].kind == TARGET_DIRECTORY)
            rmdir(path);
        else
            unlink(path);
    }
    /* No temp file left behind by any refusal. */
    g_autoptr(GDir) dir = g_dir_open(tmpdir, 0, NULL);
    cr_assert_null(g_dir_read_name(dir), "something left in %s", tmpdir);
}

Test(generate_config_output, replaces_a_regular_file, .init = setup_tmpdir, .fini = teardown_tmpdir)
{
    g_autofree char *path = g_build_filename(tmpdir, "nvirt.conf", NULL);
    const char *const args[] = { "generate-config", "-o", path, NULL };
    const char *const print[] = { "generate-config", NULL };
    g_autofree char *sample = NULL;
    g_autofree char *written = NULL;
    g_autofree char *err = NULL;

    cr_assert(g_file_set_contents(path, "old\n", -1, NULL));
    cr_assert_eq(nv_test_run_nvirt(print, NO_STDIN, &sample, NULL), 0);
    cr_assert_eq(nv_test_run_nvirt(args, NO_STDIN, NULL, &err), 0, "%s", err);
    cr_assert(g_file_get_contents(path, &written, NULL, NULL));
    cr_assert_str_eq(written, sample);
}

/* ---- --debug goes to stderr -------------------------------------------- */

/* stdout must be exactly one JSON object, and the debug message that
 * reading a configuration file logs must be on stderr. */
static void
assert_debug_on_stderr(const char *what, const char *const *args)
{
    g_autoptr(JsonParser) parser = json_parser_new();
    g_autoptr(GError) error = NULL;
    g_autofree char *out = NULL;
    g_autofree char *err = NULL;

    g_setenv("G_MESSAGES_DEBUG", "all", TRUE);
    cr_assert_eq(nv_test_run_nvirt(args, NO_STDIN, &out, &err), 0, "%s: %s", what, err);
    cr_assert(json_parser_load_from_data(parser, out, -1, &error), "%s: stdout is not JSON: %s\n%s",
              what, error ? error->message : "", out);
    cr_assert_eq(json_node_get_node_type(json_parser_get_root(parser)), JSON_NODE_OBJECT, "%s",
                 what);
    cr_assert_null(strstr(out, "DEBUG"), "%s: debug output on stdout", what);
    cr_assert_not_null(strstr(EMPTY_IF_NULL(err), "DEBUG"), "%s: no debug message at all: %s", what,
                       EMPTY_IF_NULL(err));
    cr_assert_not_null(strstr(err, "reading configuration file"), "%s: %s", what, err);
}

Test(debug_output, disk_xml_json_stays_json)
{
    g_autofree char *conf = nv_test_data_path("disk-xml/nvirt.conf");
    g_autofree char *info = nv_test_data_path("cinder/block-luks.json");
    g_autofree char *enc = nv_test_data_path("cinder/encryption-luks.json");
    const char *const args[] = { "--debug", "-c", conf, "disk-xml",
                                 "-i",      info, "-m", "vdb",
                                 "-e",      enc,  "-s", "0a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d",
                                 "--json",  NULL };

    assert_debug_on_stderr("disk-xml --json", args);
}

/* libvirt's test driver: a domain "test", no daemon. */
Test(debug_output, attach_volume_dry_run_json_stays_json)
{
    g_autofree char *conf = nv_test_data_path("disk-xml/nvirt.conf");
    g_autofree char *info = nv_test_data_path("cinder/block-luks.json");
    g_autofree char *enc = nv_test_data_path("cinder/encryption-luks.json");
    const char *const args[] = { "--debug",   "-c",     conf,   "attach-volume",
                                 "--dry-run", "--json", "-C",   "test:///default",
                                 "-i",        info,     "-m",   "vdb",
                                 "-e",        enc,      "test", NULL };

    assert_debug_on_stderr("attach-volume --dry-run --json", args);
}
