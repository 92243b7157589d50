/* SPDX-License-Identifier: Apache-2.0 */
/* Listing the host's volume secrets, for reconcile (host.h). */
#include <libvirt/virterror.h>
#include <stdlib.h>

#include "nvirt/error.h"
#include "virt/libvirt/host.h"

void
nv_host_volume_secret_free(nv_host_volume_secret *secret)
{
    if (!secret)
        return;
    g_free(secret->uuid);
    g_free(secret->volume_id);
    g_free(secret);
}

GPtrArray *
nv_host_list_volume_secrets(nv_host *host, GError **error)
{
    g_autoptr(GPtrArray) out =
        g_ptr_array_new_with_free_func((GDestroyNotify)nv_host_volume_secret_free);
    virSecretPtr *secrets = NULL;
    int n;

    g_return_val_if_fail(host != NULL, NULL);
    n = virConnectListAllSecrets(nv_host_get_connection(host), &secrets, 0);
    if (n < 0) {
        g_set_error(error, NV_ERROR, NV_ERROR_LIBVIRT, "list secrets: %s",
                    virGetLastErrorMessage());
        return NULL;
    }
    for (int i = 0; i < n; i++) {
        char uuid[VIR_UUID_STRING_BUFLEN];
        const char *usage;

        if (virSecretGetUsageType(secrets[i]) == VIR_SECRET_USAGE_TYPE_VOLUME &&
            virSecretGetUUIDString(secrets[i], uuid) == 0 &&
            (usage = virSecretGetUsageID(secrets[i]))) {
            nv_host_volume_secret *secret = g_new0(nv_host_volume_secret, 1);

            secret->uuid = g_ascii_strdown(uuid, -1);
            secret->volume_id = g_strdup(usage);
            g_ptr_array_add(out, secret);
        }
        virSecretFree(secrets[i]);
    }
    free(secrets);
    return g_steal_pointer(&out);
}
