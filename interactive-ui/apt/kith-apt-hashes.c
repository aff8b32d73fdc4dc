/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* kith-apt-hashes.c — MD5Sum, SHA1, SHA256, SHA512 and the size of one file */
#include "kith-apt-hashes.h"

#define KITH_APT_HASHES_BLOCK (64 * 1024)

static const struct {
  const gchar *name;
  GChecksumType type;
} kith_apt_hash_types[] = {
  { "MD5Sum", G_CHECKSUM_MD5 },
  { "SHA1", G_CHECKSUM_SHA1 },
  { "SHA256", G_CHECKSUM_SHA256 },
  { "SHA512", G_CHECKSUM_SHA512 },
};
#define KITH_APT_N_HASHES G_N_ELEMENTS (kith_apt_hash_types)

struct _KithAptHashes {
  GChecksum *checksums[KITH_APT_N_HASHES];
  guint64 size;
};

KithAptHashes *
kith_apt_hashes_new (void)
{
  KithAptHashes *self = g_new0 (KithAptHashes, 1);

  for (guint i = 0; i < KITH_APT_N_HASHES; i++)
    self->checksums[i] = g_checksum_new (kith_apt_hash_types[i].type);
  return self;
}

void
kith_apt_hashes_free (KithAptHashes *self)
{
  if (self == NULL)
    return;
  for (guint i = 0; i < KITH_APT_N_HASHES; i++)
    g_checksum_free (self->checksums[i]);
  g_free (self);
}

void
kith_apt_hashes_update (KithAptHashes *self, const guchar *data, gsize len)
{
  for (guint i = 0; i < KITH_APT_N_HASHES; i++)
    g_checksum_update (self->checksums[i], data, len);
  self->size += len;
}

KithAptHashes *
kith_apt_hashes_new_for_file (const gchar *path, GCancellable *cancellable, GError **error)
{
  g_autoptr (GFile) file = g_file_new_for_path (path);
  g_autoptr (GFileInputStream) input = g_file_read (file, cancellable, error);
  g_autoptr (KithAptHashes) self = NULL;
  g_autofree guchar *block = NULL;
  gssize n;

  if (input == NULL)
    return NULL;
  self = kith_apt_hashes_new ();
  block = g_malloc (KITH_APT_HASHES_BLOCK);
  while ((n = g_input_stream_read (G_INPUT_STREAM (input), block, KITH_APT_HASHES_BLOCK,
                                   cancellable, error)) > 0)
    kith_apt_hashes_update (self, block, n);
  if (n < 0)
    return NULL;
  return g_steal_pointer (&self);
}

guint64
kith_apt_hashes_get_size (KithAptHashes *self)
{
  return self->size;
}

const gchar *
kith_apt_hashes_get (KithAptHashes *self, const gchar *type)
{
  for (guint i = 0; i < KITH_APT_N_HASHES; i++)
    if (g_ascii_strcasecmp (kith_apt_hash_types[i].name, type) == 0)
      return g_checksum_get_string (self->checksums[i]);
  return NULL;
}

void
kith_apt_hashes_add_to (KithAptHashes *self, KithAptMessage *message, const gchar *prefix)
{
  g_autofree gchar *md5 = g_strconcat (prefix, "MD5-Hash", NULL);
  g_autofree gchar *size = g_strconcat (prefix, "Checksum-FileSize-Hash", NULL);

  /* apt still reads the very old name of MD5Sum; its methods send both */
  kith_apt_message_add (message, md5, kith_apt_hashes_get (self, "MD5Sum"));
  for (guint i = 0; i < KITH_APT_N_HASHES; i++) {
    g_autofree gchar *name = g_strconcat (prefix, kith_apt_hash_types[i].name, "-Hash", NULL);
    kith_apt_message_add (message, name, g_checksum_get_string (self->checksums[i]));
  }
  kith_apt_message_addf (message, size, "%" G_GUINT64_FORMAT, self->size);
}

gboolean
kith_apt_hashes_check (KithAptHashes *self, KithAptMessage *request, GError **error)
{
  const gchar *expected_size = kith_apt_message_get (request, "Expected-Checksum-FileSize");

  if (expected_size != NULL && g_ascii_strtoull (expected_size, NULL, 10) != self->size) {
    g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
                 "size %" G_GUINT64_FORMAT " is not the expected %s", self->size, expected_size);
    return FALSE;
  }
  for (guint i = 0; i < KITH_APT_N_HASHES; i++) {
    g_autofree gchar *field = g_strconcat ("Expected-", kith_apt_hash_types[i].name, NULL);
    const gchar *expected = kith_apt_message_get (request, field);
    const gchar *got = g_checksum_get_string (self->checksums[i]);

    if (expected != NULL && g_ascii_strcasecmp (expected, got) != 0) {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA, "%s %s is not the expected %s",
                   kith_apt_hash_types[i].name, got, expected);
      return FALSE;
    }
  }
  return TRUE;
}
