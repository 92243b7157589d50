/* SPDX-License-Identifier: Apache-2.0 */
/* Helpers shared by the test suites. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* Absolute path of a file under tests/data ($NVIRT_TEST_DATA). */
char *nv_test_data_path(const char *relative);

/* Contents of a file under tests/data; aborts the test if unreadable. */
char *nv_test_data_read(const char *relative);

/* Run the nvirt binary ($NVIRT_BIN) with @args (NULL-terminated, without
 * argv[0]) and @stdin_text (may be NULL).  Returns the exit status; stdout
 * and stderr are returned through the out parameters (may be NULL). */
int nv_test_run_nvirt(const char *const *args, const char *stdin_text, char **out, char **err);

/* A fresh temporary directory, removed with nv_test_rmtree(). */
char *nv_test_mkdtemp(void);
void nv_test_rmtree(const char *path);

/* Replace an owned string field. */
void nv_test_set_str(char **field, const char *value);

/* Run virt-xml-validate on @xml as libvirt schema @type ("domain",
 * "secret"); returns its exit status (0: valid) and its output in @output
 * (may be NULL; caller frees). */
int nv_test_validate_xml(const char *xml, const char *type, char **output);

/* Validate a <disk> against libvirt's domain schema: it is only checkable
 * inside a <domain>, so it is spliced into tests/data/config/domain-wrapper.xml. */
int nv_test_validate_disk_xml(const char *disk_xml, char **output);

G_END_DECLS
