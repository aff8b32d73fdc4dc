/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* kith-file-compare.c — whether byte ranges of one file are the same in another */
#include "kith-file-compare.h"

#include <gio/gio.h>
#include <string.h>

#define KITH_FILE_COMPARE_CHUNK (64 * 1024)

static GInputStream *
kith_file_compare_open (const gchar *path, guint64 start, GCancellable *cancellable, GError **error)
{
  g_autoptr (GFile) file = g_file_new_for_path (path);
  g_autoptr (GFileInputStream) in = g_file_read (file, cancellable, error);

  if (in == NULL || !g_seekable_seek (G_SEEKABLE (in), (goffset) start, G_SEEK_SET, cancellable, error))
    return NULL;
  return G_INPUT_STREAM (g_steal_pointer (&in));
}

/* TRUE when bytes [@start, @end) of @path_a and @path_b are equal; FALSE when they differ,
 * or with @error set when either cannot be read that far (or @cancellable was cancelled). */
static gboolean
kith_file_compare_range (const gchar *path_a, const gchar *path_b, guint64 start, guint64 end,
                         GCancellable *cancellable, GError **error)
{
  g_autoptr (GInputStream) a = kith_file_compare_open (path_a, start, cancellable, error);
  g_autoptr (GInputStream) b = a != NULL ? kith_file_compare_open (path_b, start, cancellable, error) : NULL;
  g_autofree guint8 *buf_a = g_malloc (KITH_FILE_COMPARE_CHUNK);
  g_autofree guint8 *buf_b = g_malloc (KITH_FILE_COMPARE_CHUNK);

  if (b == NULL)
    return FALSE;
  for (guint64 at = start; at < end;) {
    gsize want = (gsize) MIN (end - at, KITH_FILE_COMPARE_CHUNK), got_a = 0, got_b = 0;

    if (!g_input_stream_read_all (a, buf_a, want, &got_a, cancellable, error) ||
        !g_input_stream_read_all (b, buf_b, want, &got_b, cancellable, error))
      return FALSE;
    if (got_a != want || got_b != want) {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_PARTIAL_INPUT, "a file ends before byte %" G_GUINT64_FORMAT,
                   end);
      return FALSE;
    }
    if (memcmp (buf_a, buf_b, want) != 0)
      return FALSE;
    at += want;
  }
  return TRUE;
}

typedef struct {
  gchar *path_a;
  gchar *path_b;
  GArray *ranges;
} KithFileCompareJob;

static void
kith_file_compare_job_free (gpointer data)
{
  KithFileCompareJob *job = data;

  g_free (job->path_a);
  g_free (job->path_b);
  g_clear_pointer (&job->ranges, g_array_unref);
  g_free (job);
}

static void
kith_file_compare_range_clear (gpointer data)
{
  g_clear_error (&((KithFileCompareRange *) data)->error);
}

static void
kith_file_compare_thread (GTask *task, gpointer source_object, gpointer task_data, GCancellable *cancellable)
{
  KithFileCompareJob *job = task_data;

  for (guint i = 0; i < job->ranges->len; i++) {
    KithFileCompareRange *range = &g_array_index (job->ranges, KithFileCompareRange, i);

    range->equal = kith_file_compare_range (job->path_a, job->path_b, range->start, range->end, cancellable,
                                            &range->error);
    if (g_cancellable_is_cancelled (cancellable))
      break;
  }
  /* a cancelled task returns G_IO_ERROR_CANCELLED whatever is returned here */
  g_task_return_pointer (task, g_steal_pointer (&job->ranges), (GDestroyNotify) g_array_unref);
}

void
kith_file_compare_ranges_async (const gchar *path_a, const gchar *path_b, GArray *ranges,
                                GCancellable *cancellable, GAsyncReadyCallback callback, gpointer user_data)
{
  g_autoptr (GTask) task = g_task_new (NULL, cancellable, callback, user_data);
  KithFileCompareJob *job = g_new0 (KithFileCompareJob, 1);

  g_task_set_source_tag (task, kith_file_compare_ranges_async);
  job->path_a = g_strdup (path_a);
  job->path_b = g_strdup (path_b);
  job->ranges = ranges;
  g_array_set_clear_func (ranges, kith_file_compare_range_clear);
  g_task_set_task_data (task, job, kith_file_compare_job_free);
  g_task_run_in_thread (task, kith_file_compare_thread);
}

GArray *
kith_file_compare_ranges_finish (GAsyncResult *result, GError **error)
{
  g_return_val_if_fail (g_task_is_valid (result, NULL), NULL);
  return g_task_propagate_pointer (G_TASK (result), error);
}
