/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* kith-file-compare.h — whether byte ranges of one file are the same in another */
#pragma once

#include <gio/gio.h>

G_BEGIN_DECLS

/* One range to compare, and what was found: @equal, or @error set when it could not be read. */
typedef struct {
  guint64 start;
  guint64 end;
  gboolean equal;
  GError *error;
} KithFileCompareRange;

/* Compares each of @ranges (a GArray of KithFileCompareRange with start and end set; the
 * call takes it) of @path_a and @path_b in a worker thread, so that a large file does not
 * hold the main loop; @callback runs in the caller's main context. */
void kith_file_compare_ranges_async (const gchar *path_a, const gchar *path_b, GArray *ranges,
                                     GCancellable *cancellable, GAsyncReadyCallback callback,
                                     gpointer user_data);
/* The ranges with @equal and @error filled in (caller owns; freeing the array frees the
 * errors), or NULL with @error when cancelled. */
GArray *kith_file_compare_ranges_finish (GAsyncResult *result, GError **error);

G_END_DECLS
