/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* kith-alias-writer.c — writing, hashing and checking one file before the store takes it */
#include "kith-alias-writer.h"

#include <errno.h>
#include <fcntl.h>

#include <gio/gio.h>
#include <glib/gstdio.h>
#ifdef G_OS_UNIX
#include <gio/gfiledescriptorbased.h>
#endif

#include "kith-alias-verifier.h"
#include "kith-hex.h"
#include "kith-peering-error.h"
#include "kith-sha256.h"

struct _KithAliasWriter {
  GObject *owner;
  KithAliasPublishFunc publish;
  KithAliasTrust trust;
  gchar *href;
  gchar *expected_sha256;
  guint64 expected_size;
  gchar *tmp_path;
  GOutputStream *stream;
  KithSha256 *checksum;
  guint64 size;
  gboolean scattered; /* written out of order: the checksum is of the file on disk */
  GFileIOStream *scatter; /* for those writes (the stream above appends, whatever its offset) */
  gboolean finished;
};

/* Lower-case hex, or NULL with an error when @s is not a sha256. */
static gchar *
normalize_sha256 (const gchar *s, GError **error)
{
  g_autofree gchar *lower = s != NULL ? g_ascii_strdown (s, -1) : NULL;

  if (!kith_hex_is_valid (lower, 64, 64)) {
    g_set_error (error, KITH_PEERING_ERROR, KITH_PEERING_ERROR_FAILED,
                 "not a sha256 in hex: %s", s != NULL ? s : "(null)");
    return NULL;
  }
  return g_steal_pointer (&lower);
}

KithAliasWriter *
kith_alias_writer_new (const gchar *dir, const gchar *href, const gchar *expected_sha256,
                       guint64 expected_size, KithAliasPublishFunc publish, GObject *owner,
                       GError **error)
{
  g_autoptr (KithAliasWriter) writer = g_new0 (KithAliasWriter, 1);
  g_autoptr (GFile) gfile = NULL;
  GFileOutputStream *stream;
  gint fd;

  writer->owner = g_object_ref (owner);
  writer->publish = publish;
  writer->finished = TRUE; /* nothing to clean up until the temp file exists */
  if (href == NULL || *href == '\0') {
    g_set_error_literal (error, KITH_PEERING_ERROR, KITH_PEERING_ERROR_FAILED, "empty href");
    return NULL;
  }
  writer->href = g_strdup (href);
  if (expected_sha256 != NULL) {
    writer->expected_sha256 = normalize_sha256 (expected_sha256, error);
    if (writer->expected_sha256 == NULL)
      return NULL;
  }
  writer->expected_size = expected_size;

  writer->tmp_path = g_build_filename (dir, KITH_ALIAS_WRITER_PARTIAL_PREFIX "XXXXXX", NULL);
  fd = g_mkstemp_full (writer->tmp_path, O_RDWR, 0644);
  if (fd < 0) {
    g_set_error (error, G_IO_ERROR, g_io_error_from_errno (errno), "cannot create %s: %s",
                 writer->tmp_path, g_strerror (errno));
    return NULL;
  }
  g_close (fd, NULL);
  writer->finished = FALSE;
  gfile = g_file_new_for_path (writer->tmp_path);
  stream = g_file_append_to (gfile, G_FILE_CREATE_PRIVATE, NULL, error);
  if (stream == NULL)
    return NULL;
  writer->stream = G_OUTPUT_STREAM (stream);
  writer->checksum = kith_sha256_new ();
  return g_steal_pointer (&writer);
}

gboolean
kith_alias_writer_write (KithAliasWriter *writer, const guint8 *data, gsize len, GError **error)
{
  g_return_val_if_fail (writer != NULL, FALSE);
  g_return_val_if_fail (!writer->finished, FALSE);
  if (len == 0)
    return TRUE;
  if (!g_output_stream_write_all (writer->stream, data, len, NULL, NULL, error))
    return FALSE;
  kith_sha256_update (writer->checksum, data, len);
  writer->size += len;
  return TRUE;
}

gboolean
kith_alias_writer_write_at (KithAliasWriter *writer, guint64 offset, const guint8 *data, gsize len,
                            GError **error)
{
  g_return_val_if_fail (writer != NULL, FALSE);
  g_return_val_if_fail (!writer->finished, FALSE);
  if (offset == writer->size && !writer->scattered)
    return kith_alias_writer_write (writer, data, len, error);
  if (writer->scatter == NULL) {
    g_autoptr (GFile) file = g_file_new_for_path (writer->tmp_path);
    if ((writer->scatter = g_file_open_readwrite (file, NULL, error)) == NULL)
      return FALSE;
  }
  if (!g_seekable_seek (G_SEEKABLE (writer->scatter), (goffset) offset, G_SEEK_SET, NULL, error) ||
      !g_output_stream_write_all (g_io_stream_get_output_stream (G_IO_STREAM (writer->scatter)), data, len, NULL,
                                  NULL, error))
    return FALSE;
  writer->scattered = TRUE;
  writer->size = MAX (writer->size, offset + len);
  return TRUE;
}

gboolean
kith_alias_writer_restart (KithAliasWriter *writer, GError **error)
{
  g_return_val_if_fail (writer != NULL, FALSE);
  g_return_val_if_fail (!writer->finished, FALSE);
  if (writer->scatter != NULL && !g_io_stream_close (G_IO_STREAM (writer->scatter), NULL, error))
    return FALSE;
  g_clear_object (&writer->scatter);
  /* the stream appends (O_APPEND): once the file is empty, the next write lands at 0 */
  if (!g_seekable_truncate (G_SEEKABLE (writer->stream), 0, NULL, error))
    return FALSE;
  kith_sha256_free (writer->checksum);
  writer->checksum = kith_sha256_new ();
  writer->size = 0;
  writer->scattered = FALSE;
  return TRUE;
}

guint64
kith_alias_writer_get_size (KithAliasWriter *writer)
{
  g_return_val_if_fail (writer != NULL, 0);
  return writer->size;
}

const gchar *
kith_alias_writer_get_path (KithAliasWriter *writer)
{
  g_return_val_if_fail (writer != NULL, NULL);
  return writer->tmp_path;
}

/* Flushes, fsyncs and closes the temp file. */
static gboolean
writer_close_durable (KithAliasWriter *writer, GError **error)
{
  if (writer->scatter != NULL && !g_io_stream_close (G_IO_STREAM (writer->scatter), NULL, error))
    return FALSE;
  if (!g_output_stream_flush (writer->stream, NULL, error))
    return FALSE;
#ifdef G_OS_UNIX
  if (G_IS_FILE_DESCRIPTOR_BASED (writer->stream)) {
    gint fd = g_file_descriptor_based_get_fd (G_FILE_DESCRIPTOR_BASED (writer->stream));
    if (g_fsync (fd) != 0) {
      g_set_error (error, G_IO_ERROR, g_io_error_from_errno (errno), "cannot sync %s: %s",
                   writer->tmp_path, g_strerror (errno));
      return FALSE;
    }
  }
#endif
  return g_output_stream_close (writer->stream, NULL, error);
}

/* Checks what was written against what the caller expected. */
static gboolean
writer_check (KithAliasWriter *writer, const gchar *digest, GError **error)
{
  if (writer->expected_size > 0 && writer->size != writer->expected_size) {
    g_set_error (error, KITH_PEERING_ERROR, KITH_PEERING_ERROR_HASH_MISMATCH,
                 "%s: got %" G_GUINT64_FORMAT " bytes, expected %" G_GUINT64_FORMAT,
                 writer->href, writer->size, writer->expected_size);
    return FALSE;
  }
  if (writer->expected_sha256 != NULL && g_strcmp0 (digest, writer->expected_sha256) != 0) {
    g_set_error (error, KITH_PEERING_ERROR, KITH_PEERING_ERROR_HASH_MISMATCH,
                 "%s: sha256 is %s, expected %s", writer->href, digest, writer->expected_sha256);
    return FALSE;
  }
  return TRUE;
}

gboolean
kith_alias_writer_matches (KithAliasWriter *writer, GError **error)
{
  g_autofree gchar *digest = NULL;

  g_return_val_if_fail (writer != NULL, FALSE);
  g_return_val_if_fail (!writer->finished, FALSE);
  digest = writer->scattered ? kith_alias_hash_file (writer->tmp_path, NULL, error)
                              : g_strdup (kith_sha256_get_string (writer->checksum));
  return digest != NULL && writer_check (writer, digest, error);
}

void
kith_alias_writer_set_trust (KithAliasWriter *writer, KithAliasTrust trust)
{
  g_return_if_fail (writer != NULL);
  writer->trust = trust;
}

KithAliasEntry *
kith_alias_writer_commit (KithAliasWriter *writer, GError **error)
{
  KithAliasEntry *entry;
  g_autofree gchar *digest = NULL;

  g_return_val_if_fail (writer != NULL, NULL);
  g_return_val_if_fail (!writer->finished, NULL);
  if (!writer_close_durable (writer, error))
    return NULL; /* the temp file is deleted by kith_alias_writer_free() */
  if (writer->scattered) /* the bytes came out of order: hash them as they lie on disk */
    digest = kith_alias_hash_file (writer->tmp_path, NULL, error);
  else
    digest = g_strdup (kith_sha256_get_string (writer->checksum));
  if (digest == NULL)
    return NULL;
  if (!writer_check (writer, digest, error)) {
    g_unlink (writer->tmp_path);
    writer->finished = TRUE;
    return NULL;
  }
  entry = writer->publish (writer->owner, writer->tmp_path, writer->href, digest, writer->size,
                           writer->trust, error);
  writer->finished = entry != NULL;
  return entry;
}

void
kith_alias_writer_free (KithAliasWriter *writer)
{
  if (writer == NULL)
    return;
  if (!writer->finished) {
    if (writer->stream != NULL && !g_output_stream_is_closed (writer->stream))
      g_output_stream_close (writer->stream, NULL, NULL);
    g_unlink (writer->tmp_path);
  }
  g_clear_object (&writer->stream);
  g_clear_object (&writer->scatter);
  g_clear_pointer (&writer->checksum, kith_sha256_free);
  g_clear_object (&writer->owner);
  g_free (writer->href);
  g_free (writer->expected_sha256);
  g_free (writer->tmp_path);
  g_free (writer);
}
