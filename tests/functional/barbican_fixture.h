/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Keystone and Barbican for a functional test binary
 * (tests/functional/barbican-fixture.py, from Debian's python3-keystone and
 * python3-barbican).
 *
 * Linking barbican_fixture.c starts both once, in the test runner before
 * the first test (next to the private libvirtd of harness.c), on free
 * 127.0.0.1 ports in a fresh directory, and stops and reaps them after the
 * last test.  The start-up time goes to the test log.  Tests run in
 * criterion's worker processes and reach the fixture through its control
 * socket.  Every helper asserts instead of returning errors.
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* What the fixture set up (borrowed, valid for the test).  Users nova
 * (observer+member of project bar: may read), eve (member: may not) and
 * cinder (creator: stores the keys), all in domain Default; an application
 * credential of nova. */
typedef struct {
    char *keystone_url; /* http://127.0.0.1:P/v3 */
    char *barbican_url; /* http://127.0.0.1:B */
    char *nova_password;
    char *eve_password;
    char *app_cred_id;
    char *app_cred_secret;
    int token_lifetime; /* Keystone's [token] expiration, seconds */
    double startup_seconds;
} nv_barbican;

const nv_barbican *nv_barbican_get(void);

/* Store @hex_key (the key's bytes in hex) as a symmetric Barbican secret in
 * project bar, through the REST API; returns its id (caller frees). */
char *nv_barbican_store(const char *hex_key);

/* Stop Barbican (connections to its port are then refused) / start it again. */
void nv_barbican_stop(void);
void nv_barbican_start(void);

/* A project-scoped token of user nova, as a compute service holds one
 * (borrowed, valid until the next call). */
const char *nv_barbican_nova_token(void);

/* Revoke every token of user nova (and of its application credential). */
void nv_barbican_revoke_nova(void);

/* The fixture's directory (where its logs are), borrowed. */
const char *nv_barbican_dir(void);

G_END_DECLS
