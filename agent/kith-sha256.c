/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* kith-sha256.c — SHA-256 through GnuTLS, else GChecksum (kith-sha256.h) */
#include "kith-sha256.h"

#include <gnutls/crypto.h>

#define KITH_SHA256_LEN 32

struct _KithSha256 {
  gnutls_hash_hd_t hash; /* NULL: GnuTLS refused, @fallback hashes */
  GChecksum *fallback;
  gchar hex[2 * KITH_SHA256_LEN + 1];
  gboolean done;
};

KithSha256 *
kith_sha256_new (void)
{
  KithSha256 *self = g_new0 (KithSha256, 1);

  if (gnutls_hash_init (&self->hash, GNUTLS_DIG_SHA256) < 0) {
    self->hash = NULL;
    self->fallback = g_checksum_new (G_CHECKSUM_SHA256);
  }
  return self;
}

void
kith_sha256_update (KithSha256 *self, const guint8 *data, gsize len)
{
  g_return_if_fail (!self->done);
  if (self->fallback != NULL) {
    /* GChecksum takes a gssize: feed it in pieces it can take */
    while (len > 0) {
      gsize n = MIN (len, (gsize) G_MAXSSIZE);
      g_checksum_update (self->fallback, data, (gssize) n);
      data += n;
      len -= n;
    }
    return;
  }
  gnutls_hash (self->hash, data, len);
}

const gchar *
kith_sha256_get_string (KithSha256 *self)
{
  static const gchar digits[] = "0123456789abcdef";
  guint8 digest[KITH_SHA256_LEN];

  if (self->done)
    return self->hex;
  self->done = TRUE;
  if (self->fallback != NULL) {
    g_strlcpy (self->hex, g_checksum_get_string (self->fallback), sizeof self->hex);
    return self->hex;
  }
  gnutls_hash_output (self->hash, digest);
  for (gsize i = 0; i < KITH_SHA256_LEN; i++) {
    self->hex[2 * i] = digits[digest[i] >> 4];
    self->hex[2 * i + 1] = digits[digest[i] & 0xf];
  }
  self->hex[2 * KITH_SHA256_LEN] = '\0';
  return self->hex;
}

void
kith_sha256_free (KithSha256 *self)
{
  if (self == NULL)
    return;
  if (self->hash != NULL)
    gnutls_hash_deinit (self->hash, NULL);
  if (self->fallback != NULL)
    g_checksum_free (self->fallback);
  g_free (self);
}

gchar *
kith_sha256_for_data (const guint8 *data, gsize len)
{
  g_autoptr (KithSha256) sha = kith_sha256_new ();

  kith_sha256_update (sha, data, len);
  return g_strdup (kith_sha256_get_string (sha));
}
