/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* kith-file-compare.h — whether a byte range of one file is the same in another */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* TRUE when bytes [@start, @end) of @path_a and @path_b are equal; FALSE when they differ,
 * or with @error set when either cannot be read that far. Reads both (synchronously,
 * 64 KiB at a time). */
gboolean kith_file_compare_range (const gchar *path_a, const gchar *path_b, guint64 start, guint64 end,
                                  GError **error);

G_END_DECLS
