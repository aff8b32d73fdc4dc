/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* kith-file.h — files that survive a crash: atomic replacement and directory sync */
#pragma once

#include <gio/gio.h>

G_BEGIN_DECLS

/* Writes @contents to @path atomically (temp, fsync, rename, fsync of the directory) with
 * @mode, e.g. 0600 for private keys; the temp file is created with @mode so no other reader
 * sees it. A crash leaves the old file or the new one, never a mix. Errors are G_IO_ERROR. */
gboolean kith_file_write_atomic (const gchar *path, const gchar *contents, gsize length, int mode,
                                 GError **error);
/* fsyncs the directory @path, so the renames and creations in it are durable (the
 * directory entry is data too). Errors are G_IO_ERROR. */
gboolean kith_file_sync_dir (const gchar *path, GError **error);

G_END_DECLS
