/* SPDX-License-Identifier: Apache-2.0 */
/* The running migration and its completion timeout (migration_monitor.h). */

#include "virt/libvirt/migration_monitor.h"

/* Nova polls the job every 0.5 s. */
#define MONITOR_TICK_US (G_USEC_PER_SEC / 2)

guint64
nv_migration_completion_timeout(guint per_gib, guint64 memory_kib)
{
    /* int(completion_timeout * data_gb), data_gb = max(RAM in GiB, 2) as a
     * fraction: a 2.5 GiB guest gets 2.5 times the option. */
    const guint64 gib_kib = 1024 * 1024;
    guint64 kib = MAX(MIN(memory_kib, G_MAXUINT64 / G_MAXUINT), 2 * gib_kib);

    return (guint64)per_gib * kib / gib_kib;
}

typedef struct {
    virDomainPtr dom;
    const char *uri;
    virTypedParameterPtr params;
    int nparams;
    unsigned int flags;

    GMutex lock;
    GCond cond;
    gboolean done; /* under lock */
    int rc;
    virErrorPtr err;
} migrate_job;

static gpointer
migrate_thread(gpointer data)
{
    migrate_job *job = data;
    int rc = virDomainMigrateToURI3(job->dom, job->uri, job->params, (unsigned int)job->nparams,
                                    job->flags);
    /* libvirt's last error is per thread: hand a copy to the caller. */
    virErrorPtr err = rc < 0 ? virSaveLastError() : NULL;

    g_mutex_lock(&job->lock);
    job->rc = rc;
    job->err = err;
    job->done = TRUE;
    g_cond_signal(&job->cond);
    g_mutex_unlock(&job->lock);
    return NULL;
}

/* The timeout action, once libvirt reports the migration job running (as
 * Nova checks VIR_DOMAIN_JOB_UNBOUNDED: before that there is nothing to
 * abort).  TRUE when it was taken. */
static gboolean
take_timeout_action(virDomainPtr dom, guint64 timeout_s, nv_migration_timeout_action action,
                    gboolean *warned)
{
    virDomainJobInfo info = { 0 };
    const char *name = virDomainGetName(dom);
    int rc;

    if (virDomainGetJobInfo(dom, &info) < 0 || info.type != VIR_DOMAIN_JOB_UNBOUNDED)
        return FALSE;
    if (action == NV_MIGRATION_TIMEOUT_FORCE_COMPLETE) {
        g_warning("domain '%s': live migration not completed after %" G_GUINT64_FORMAT
                  " s: pausing the guest so that it completes",
                  name, timeout_s);
        rc = virDomainSuspend(dom);
    } else {
        g_warning("domain '%s': live migration not completed after %" G_GUINT64_FORMAT
                  " s: aborting it",
                  name, timeout_s);
        rc = virDomainAbortJob(dom);
    }
    if (rc < 0) {
        /* The job may have just ended; the next tick tells. */
        if (!*warned)
            g_warning("domain '%s': the migration timeout action failed: %s", name,
                      virGetLastErrorMessage());
        *warned = TRUE;
        return FALSE;
    }
    return TRUE;
}

int
nv_migration_run(virDomainPtr dom, const char *uri, virTypedParameterPtr params, int nparams,
                 unsigned int flags, guint64 timeout_s, nv_migration_timeout_action action,
                 nv_migration_outcome *outcome, virErrorPtr *err)
{
    migrate_job job = {
        .dom = dom,
        .uri = uri,
        .params = params,
        .nparams = nparams,
        .flags = flags,
    };
    /* Over 30 years is no bound. */
    gint64 deadline = timeout_s && timeout_s < G_GUINT64_CONSTANT(1) << 30
                          ? g_get_monotonic_time() + (gint64)timeout_s * G_USEC_PER_SEC
                          : G_MAXINT64;
    gboolean acted = FALSE;
    gboolean warned = FALSE;
    GThread *thread;

    *outcome = NV_MIGRATION_RAN;
    *err = NULL;
    g_mutex_init(&job.lock);
    g_cond_init(&job.cond);
    thread = g_thread_new("nvirt-migrate", migrate_thread, &job);

    g_mutex_lock(&job.lock);
    while (!job.done) {
        gint64 now = g_get_monotonic_time();

        if (!acted && now >= deadline) {
            g_mutex_unlock(&job.lock);
            acted = take_timeout_action(dom, timeout_s, action, &warned);
            g_mutex_lock(&job.lock);
            if (acted)
                *outcome = action == NV_MIGRATION_TIMEOUT_FORCE_COMPLETE ? NV_MIGRATION_PAUSED
                                                                         : NV_MIGRATION_ABORTED;
            else
                deadline = now + MONITOR_TICK_US; /* not running yet: try at the next tick */
            continue;
        }
        g_cond_wait_until(&job.cond, &job.lock,
                          acted ? G_MAXINT64 : MIN(deadline, now + MONITOR_TICK_US));
    }
    g_mutex_unlock(&job.lock);
    g_thread_join(thread);
    g_mutex_clear(&job.lock);
    g_cond_clear(&job.cond);

    /* The guest keeps running here when the migration failed. */
    if (job.rc < 0 && *outcome == NV_MIGRATION_PAUSED && virDomainResume(dom) < 0)
        g_warning("domain '%s': the migration failed after the guest was paused, and resuming "
                  "it here failed: %s",
                  virDomainGetName(dom), virGetLastErrorMessage());
    *err = job.err;
    return job.rc;
}
