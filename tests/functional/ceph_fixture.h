/* SPDX-License-Identifier: Apache-2.0 */
/*
 * A single-node Ceph cluster for the rbd functional tests
 * (tests/functional/ceph-env.sh): one mon and one memstore OSD with cephx
 * on 127.0.0.1, on ports of its own, in a directory of its own.
 *
 * Linking ceph_fixture.c into a test binary starts the cluster in the
 * runner process before the first test (the start-up time goes to the test
 * log on stderr) and stops it after the last one, also when the runner
 * dies: the script stops the cluster when its stdin, a pipe only the runner
 * holds, reaches end of file.  Every test of the binary shares it.  If the
 * cluster did not start, every helper here fails the test with the
 * script's message.
 *
 * Pool 'volumes'; users client.admin, client.cinder ('profile rbd
 * pool=volumes') and client.noaccess ('profile rbd pool=other').  Every
 * helper asserts instead of returning errors.
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

#define NV_CEPH_POOL "volumes"

/* The cluster's ceph.conf (borrowed; client.admin's keyring is found
 * through it). */
const char *nv_ceph_conf(void);

/* The mon's TCP port on 127.0.0.1. */
guint nv_ceph_mon_port(void);

/* The base64 cephx key of client.@user ("cinder", "noaccess"), what
 * `ceph auth get-key` prints.  Caller frees. */
char *nv_ceph_user_key(const char *user);

/* Run `rbd -c CONF ARGS...` as client.admin; asserts it succeeds. */
void nv_ceph_rbd(const char *const *args);

/* Import the file at @path as image @image of pool 'volumes' (what Cinder's
 * rbd driver does with the LUKS file it makes for an encrypted volume). */
void nv_ceph_import(const char *path, const char *image);

/* SHA-256 of the contents of image @image of pool 'volumes' (hex, caller
 * frees), to show that a refused attach left the image alone. */
char *nv_ceph_image_sha256(const char *image);

G_END_DECLS
