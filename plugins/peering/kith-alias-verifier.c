/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* kith-alias-verifier.c — hashing files off the main thread */
#include "kith-alias-verifier.h"

#include "kith-sha256.h"

#define HASH_BUFFER_SIZE (256 * 1024)

typedef struct {
  gchar *dir;
  GPtrArray *sha256s; /* gchar* */
} VerifyJob;

static void
verify_job_free (VerifyJob *job)
{
  g_free (job->dir);
  g_ptr_array_unref (job->sha256s);
  g_free (job);
}

gchar *
kith_alias_hash_file (const gchar *path, GCancellable *cancellable, GError **error)
{
  g_autoptr (GFile) gfile = g_file_new_for_path (path);
  g_autoptr (GFileInputStream) stream = g_file_read (gfile, cancellable, error);
  g_autoptr (KithSha256) checksum = kith_sha256_new ();
  g_autofree guint8 *buf = g_malloc (HASH_BUFFER_SIZE);

  if (stream == NULL)
    return NULL;
  for (;;) {
    gssize n = g_input_stream_read (G_INPUT_STREAM (stream), buf, HASH_BUFFER_SIZE, cancellable,
                                    error);
    if (n < 0)
      return NULL;
    if (n == 0)
      break;
    kith_sha256_update (checksum, buf, (gsize) n);
  }
  return g_strdup (kith_sha256_get_string (checksum));
}

/* Worker thread: returns the sha256s whose bytes do not match. */
static void
verify_thread (GTask *task, gpointer source, gpointer task_data, GCancellable *cancellable)
{
  VerifyJob *job = task_data;
  g_autoptr (GPtrArray) bad = g_ptr_array_new_with_free_func (g_free);

  for (guint i = 0; i < job->sha256s->len; i++) {
    const gchar *sha256 = g_ptr_array_index (job->sha256s, i);
    g_autofree gchar *path = g_build_filename (job->dir, sha256, NULL);
    g_autoptr (GError) error = NULL;
    g_autofree gchar *digest = kith_alias_hash_file (path, cancellable, &error);

    if (g_cancellable_set_error_if_cancelled (cancellable, &error)) {
      g_task_return_error (task, g_steal_pointer (&error));
      return;
    }
    if (g_strcmp0 (digest, sha256) != 0)
      g_ptr_array_add (bad, g_strdup (sha256));
  }
  g_task_return_pointer (task, g_steal_pointer (&bad), (GDestroyNotify) g_ptr_array_unref);
}

void
kith_alias_verifier_run_async (const gchar *dir, GPtrArray *sha256s, GCancellable *cancellable,
                               GAsyncReadyCallback callback, gpointer user_data)
{
  g_autoptr (GTask) task = g_task_new (NULL, cancellable, callback, user_data);
  VerifyJob *job = g_new0 (VerifyJob, 1);

  job->dir = g_strdup (dir);
  job->sha256s = g_ptr_array_new_with_free_func (g_free);
  for (guint i = 0; i < sha256s->len; i++)
    g_ptr_array_add (job->sha256s, g_strdup (g_ptr_array_index (sha256s, i)));
  g_task_set_task_data (task, job, (GDestroyNotify) verify_job_free);
  g_task_run_in_thread (task, verify_thread);
}

GPtrArray *
kith_alias_verifier_run_finish (GAsyncResult *result, GError **error)
{
  return g_task_propagate_pointer (G_TASK (result), error);
}
