/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* kith-backend-store.c — the backend directory */
#include "kith-backend-store.h"

#include <errno.h>
#include <gio/gio.h>
#include <glib/gstdio.h>
#ifdef G_OS_UNIX
#include <gio/gfiledescriptorbased.h>
#include <unistd.h>
#endif
#include <string.h>

#include "kith-backend-error.h"
#include "kith-crypto.h"
#include "kith-file.h"

#define KITH_BACKEND_CA_LIFETIME (10 * 365 * 24 * 3600LL)
#define KITH_BACKEND_SIGNING_LIFETIME (2 * 365 * 24 * 3600LL)
#define KITH_BACKEND_TOKEN_BYTES 16 /* 128 bits */
#define KITH_BACKEND_COPY_CHUNK (64 * 1024)

static gboolean
kith_backend_store_write (const gchar *dir, const gchar *name, const gchar *contents, int mode,
                          GError **error)
{
  g_autofree gchar *path = g_build_filename (dir, name, NULL);
  if (!kith_file_write_atomic (path, contents, strlen (contents), mode, error)) {
    g_prefix_error (error, "%s: ", dir);
    return FALSE;
  }
  return TRUE;
}

static gboolean
kith_backend_store_make_dir (const gchar *dir, GError **error)
{
  g_autoptr (GDir) d = NULL;

  if (g_mkdir_with_parents (dir, 0755) != 0) {
    g_set_error (error, KITH_BACKEND_ERROR, KITH_BACKEND_ERROR_FAILED, "cannot create %s: %s", dir,
                 g_strerror (errno));
    return FALSE;
  }
  d = g_dir_open (dir, 0, error);
  if (d == NULL)
    return FALSE;
  if (g_dir_read_name (d) != NULL) {
    g_set_error (error, KITH_BACKEND_ERROR, KITH_BACKEND_ERROR_EXISTS,
                 "%s is not empty; kith-backend init needs a new or empty directory", dir);
    return FALSE;
  }
  return TRUE;
}

gchar *
kith_backend_store_public_path (const gchar *dir, const gchar *name)
{
  return g_build_filename (dir, KITH_BACKEND_PUBLIC_DIR, name, NULL);
}

/* DIR/public/files: a tree a web server may serve as it is, so nothing secret ever goes there. */
static gboolean
kith_backend_store_make_public (const gchar *dir, GError **error)
{
  g_autofree gchar *files = kith_backend_store_public_path (dir, KITH_BACKEND_FILES_DIR);

  if (g_mkdir_with_parents (files, 0755) != 0) {
    g_set_error (error, KITH_BACKEND_ERROR, KITH_BACKEND_ERROR_FAILED, "cannot create %s: %s", files,
                 g_strerror (errno));
    return FALSE;
  }
  return TRUE;
}

gchar *
kith_backend_store_init (const gchar *dir, GError **error)
{
  g_autofree gchar *ca_key = NULL;
  g_autofree gchar *ca_cert = NULL;
  g_autofree gchar *signing_key = NULL;
  g_autofree gchar *signing_pub = NULL;
  g_autofree gchar *signing_cert = NULL;
  g_autofree gchar *token = NULL;
  g_autofree gchar *token_line = NULL;
  gint64 now = g_get_real_time () / G_USEC_PER_SEC;
  KithCertSpec ca_spec = { .common_name = "kith vendor CA", .not_after = now + KITH_BACKEND_CA_LIFETIME,
                           .is_ca = TRUE };
  KithCertSpec signing_spec = { .common_name = "kith catalog signer",
                                .not_after = now + KITH_BACKEND_SIGNING_LIFETIME };

  if (!kith_backend_store_make_dir (dir, error))
    return NULL;
  if ((ca_key = kith_crypto_key_generate (error)) == NULL ||
      (ca_cert = kith_crypto_cert_self_signed (ca_key, &ca_spec, error)) == NULL ||
      (signing_key = kith_crypto_key_generate (error)) == NULL ||
      (signing_pub = kith_crypto_key_get_public (signing_key, error)) == NULL ||
      (signing_cert = kith_crypto_cert_issue (signing_pub, &signing_spec, ca_cert, ca_key, error)) == NULL ||
      (token = kith_crypto_random_hex (KITH_BACKEND_TOKEN_BYTES, error)) == NULL)
    return NULL;
  token_line = g_strconcat (token, "\n", NULL);
  if (!kith_backend_store_write (dir, KITH_BACKEND_CA_KEY_FILE, ca_key, 0600, error) ||
      !kith_backend_store_write (dir, KITH_BACKEND_SIGNING_KEY_FILE, signing_key, 0600, error) ||
      !kith_backend_store_write (dir, KITH_BACKEND_TOKEN_FILE, token_line, 0600, error) ||
      !kith_backend_store_write (dir, KITH_BACKEND_SIGNING_FILE, signing_cert, 0644, error) ||
      !kith_backend_store_write (dir, KITH_BACKEND_CA_FILE, ca_cert, 0644, error))
    return NULL;
  if (!kith_backend_store_make_public (dir, error))
    return NULL;
  return g_build_filename (dir, KITH_BACKEND_CA_FILE, NULL);
}

/* Reads DIR/@name: NOT_FOUND when the directory is not a backend, CORRUPT when a part is missing. */
static gchar *
kith_backend_store_read (const gchar *dir, const gchar *name, gboolean secret, GError **error)
{
  g_autofree gchar *path = g_build_filename (dir, name, NULL);
  g_autoptr (GError) local = NULL;
  gchar *contents = NULL;

  if (!g_file_test (dir, G_FILE_TEST_IS_DIR)) {
    g_set_error (error, KITH_BACKEND_ERROR, KITH_BACKEND_ERROR_NOT_FOUND,
                 "%s does not exist; create it with: kith-backend init %s", dir, dir);
    return NULL;
  }
  if (!g_file_test (path, G_FILE_TEST_EXISTS)) {
    g_set_error (error, KITH_BACKEND_ERROR,
                 g_str_equal (name, KITH_BACKEND_CA_FILE) ? KITH_BACKEND_ERROR_NOT_FOUND : KITH_BACKEND_ERROR_CORRUPT,
                 "%s is missing; is %s a directory made by kith-backend init?", path, dir);
    return NULL;
  }
  if (secret)
    contents = kith_crypto_read_private_key (path, &local);
  else
    g_file_get_contents (path, &contents, NULL, &local);
  if (contents == NULL) {
    g_set_error (error, KITH_BACKEND_ERROR, KITH_BACKEND_ERROR_CORRUPT, "%s", local->message);
    return NULL;
  }
  return contents;
}

gboolean
kith_backend_store_check (const gchar *dir, GError **error)
{
  g_autofree gchar *ca = kith_backend_store_read (dir, KITH_BACKEND_CA_FILE, FALSE, error);
  g_autofree gchar *cert = NULL;
  g_autofree gchar *key = NULL;
  g_autoptr (KithPublicKey) cert_key = NULL;
  g_autoptr (GBytes) probe = g_bytes_new_static ("kith", 4);
  g_autoptr (GBytes) sig = NULL;
  g_autoptr (GError) local = NULL;

  if (ca == NULL)
    return FALSE;
  if ((cert = kith_backend_store_read (dir, KITH_BACKEND_SIGNING_FILE, FALSE, error)) == NULL ||
      (key = kith_backend_store_read (dir, KITH_BACKEND_SIGNING_KEY_FILE, TRUE, error)) == NULL)
    return FALSE;
  /* the signing certificate must chain to the CA and match the signing key */
  cert_key = kith_crypto_verify_cert (cert, ca, g_get_real_time () / G_USEC_PER_SEC, &local);
  if (cert_key != NULL)
    sig = kith_crypto_sign (key, probe, &local);
  if (sig == NULL || !kith_public_key_verify (cert_key, probe, sig, &local)) {
    g_set_error (error, KITH_BACKEND_ERROR, KITH_BACKEND_ERROR_CORRUPT,
                 "%s: signing key and certificate are unusable: %s", dir, local->message);
    return FALSE;
  }
  return TRUE;
}

gboolean
kith_backend_store_is_safe_name (const gchar *name)
{
  if (name[0] == '\0' || name[0] == '.' || strlen (name) > 200)
    return FALSE;
  for (const gchar *p = name; *p != '\0'; p++) {
    if (!g_ascii_isalnum (*p) && strchr ("._+-", *p) == NULL)
      return FALSE;
  }
  return TRUE;
}

/* "avdat-2611211200.cab" → name "avdat", version "2611211200"; else no stamp. */
static gboolean
kith_backend_store_split_stamp (const gchar *filename, gchar **name, gchar **version)
{
  g_autofree gchar *stem = g_strndup (filename, strcspn (filename, "."));
  const gchar *dash = strrchr (stem, '-');

  if (dash == NULL || dash == stem || dash[1] == '\0')
    return FALSE;
  for (const gchar *p = dash + 1; *p != '\0'; p++) {
    if (!g_ascii_isdigit (*p))
      return FALSE;
  }
  *name = g_strndup (stem, (gsize) (dash - stem));
  *version = g_strdup (dash + 1);
  return TRUE;
}

/* Discards a half-written replacement: GIO drops the temp file when close is cancelled. */
static void
kith_backend_store_abandon (GOutputStream *out)
{
  g_autoptr (GCancellable) cancelled = g_cancellable_new ();
  g_cancellable_cancel (cancelled);
  g_output_stream_close (out, cancelled, NULL);
}

/* Copies @src to @dest in bounded chunks, hashing on the way; @dest is replaced atomically
 * and synced so a catalog never names a file that a crash could leave half written. */
static gboolean
kith_backend_store_copy (const gchar *src, const gchar *dest, guint64 *size, gchar **sha256, GError **error)
{
  g_autoptr (GFile) src_file = g_file_new_for_path (src);
  g_autoptr (GFile) dest_file = g_file_new_for_path (dest);
  g_autoptr (GFileInputStream) in = NULL;
  g_autoptr (GFileOutputStream) out = NULL;
  g_autoptr (GChecksum) sum = g_checksum_new (G_CHECKSUM_SHA256);
  g_autoptr (GError) local = NULL;
  g_autofree guint8 *buf = g_malloc (KITH_BACKEND_COPY_CHUNK);
  gssize n;

  *size = 0;
  in = g_file_read (src_file, NULL, &local);
  if (in == NULL) {
    g_set_error (error, KITH_BACKEND_ERROR, KITH_BACKEND_ERROR_BAD_RELEASE, "cannot read %s: %s", src,
                 local->message);
    return FALSE;
  }
  out = g_file_replace (dest_file, NULL, FALSE, G_FILE_CREATE_REPLACE_DESTINATION, NULL, error);
  if (out == NULL)
    return FALSE;
  while ((n = g_input_stream_read (G_INPUT_STREAM (in), buf, KITH_BACKEND_COPY_CHUNK, NULL, &local)) > 0) {
    g_checksum_update (sum, buf, (gsize) n);
    if (!g_output_stream_write_all (G_OUTPUT_STREAM (out), buf, (gsize) n, NULL, NULL, error)) {
      kith_backend_store_abandon (G_OUTPUT_STREAM (out));
      return FALSE;
    }
    *size += (guint64) n;
  }
  if (n < 0) {
    kith_backend_store_abandon (G_OUTPUT_STREAM (out));
    g_set_error (error, KITH_BACKEND_ERROR, KITH_BACKEND_ERROR_BAD_RELEASE, "cannot read %s: %s", src,
                 local->message);
    return FALSE;
  }
#ifdef G_OS_UNIX
  if (!g_output_stream_flush (G_OUTPUT_STREAM (out), NULL, error))
    return FALSE;
  if (G_IS_FILE_DESCRIPTOR_BASED (out) && fsync (g_file_descriptor_based_get_fd (G_FILE_DESCRIPTOR_BASED (out))) != 0)
    g_debug ("fsync %s: %s", dest, g_strerror (errno));
#endif
  if (!g_output_stream_close (G_OUTPUT_STREAM (out), NULL, error))
    return FALSE;
  *sha256 = g_strdup (g_checksum_get_string (sum));
  return TRUE;
}

static gboolean
kith_backend_store_add_file (const gchar *dir, const gchar *src_dir, const gchar *filename,
                             KithCatalog *catalog, GError **error)
{
  g_autofree gchar *src = g_build_filename (src_dir, filename, NULL);
  g_autofree gchar *url = g_strconcat ("/" KITH_BACKEND_FILES_DIR "/", filename, NULL);
  g_autofree gchar *dest = kith_backend_store_public_path (dir, url + 1);
  g_autofree gchar *sha256 = NULL;
  g_autofree gchar *name = NULL;
  g_autofree gchar *version = NULL;
  g_autoptr (KithCatalogFile) file = NULL;
  gboolean stamped;
  guint64 size = 0;

  if (!kith_backend_store_is_safe_name (filename)) {
    g_set_error (error, KITH_BACKEND_ERROR, KITH_BACKEND_ERROR_BAD_RELEASE,
                 "%s: file names may only use letters, digits and ._+- and not start with a dot", src);
    return FALSE;
  }
  /* an unstamped file keeps its whole (unique) file name, so only stamped ones can clash */
  stamped = kith_backend_store_split_stamp (filename, &name, &version);
  if (stamped && kith_catalog_get_file (catalog, name) != NULL) {
    g_set_error (error, KITH_BACKEND_ERROR, KITH_BACKEND_ERROR_BAD_RELEASE,
                 "%s: two files of the release are both named \"%s\"", src_dir, name);
    return FALSE;
  }
  if (!kith_backend_store_copy (src, dest, &size, &sha256, error))
    return FALSE;
  if (!stamped) {
    name = g_strdup (filename);
    version = g_strndup (sha256, 16);
  }
  file = kith_catalog_file_new (name, version, size, sha256, url);
  /* large files are fetched in pieces from many nodes: each piece is checked against this
   * signed list as it arrives (docs/backend.md "Piece lists") */
  if (size >= KITH_PIECE_LIST_MIN_FILE_SIZE &&
      (file->pieces = kith_piece_list_new_from_file (dest, KITH_PIECE_LIST_PIECE_SIZE, error)) == NULL)
    return FALSE;
  g_ptr_array_add (catalog->files, g_steal_pointer (&file));
  return TRUE;
}

static gint
kith_backend_store_cmp_name (gconstpointer a, gconstpointer b)
{
  return g_strcmp0 (*(const gchar *const *) a, *(const gchar *const *) b);
}

/* The regular files of @src_dir, sorted so catalogs are reproducible. */
static GPtrArray *
kith_backend_store_list_release (const gchar *src_dir, GError **error)
{
  g_autoptr (GPtrArray) names = g_ptr_array_new_with_free_func (g_free);
  g_autoptr (GError) local = NULL;
  g_autoptr (GDir) d = g_dir_open (src_dir, 0, &local);
  const gchar *entry;

  if (d == NULL) {
    g_set_error (error, KITH_BACKEND_ERROR, KITH_BACKEND_ERROR_BAD_RELEASE, "cannot open release directory: %s",
                 local->message);
    return NULL;
  }
  while ((entry = g_dir_read_name (d)) != NULL) {
    g_autofree gchar *path = g_build_filename (src_dir, entry, NULL);
    if (g_file_test (path, G_FILE_TEST_IS_REGULAR))
      g_ptr_array_add (names, g_strdup (entry));
    else
      g_debug ("skipping %s: not a regular file", path);
  }
  if (names->len == 0) {
    g_set_error (error, KITH_BACKEND_ERROR, KITH_BACKEND_ERROR_BAD_RELEASE,
                 "%s has no regular files to publish", src_dir);
    return NULL;
  }
  g_ptr_array_sort (names, kith_backend_store_cmp_name);
  return g_steal_pointer (&names);
}

/* The version of the catalog in @dir, or 0 when there is none. */
static gboolean
kith_backend_store_current_version (const gchar *dir, gint64 *version, GError **error)
{
  g_autofree gchar *path = kith_backend_store_public_path (dir, KITH_BACKEND_CATALOG_FILE);
  g_autofree gchar *contents = NULL;
  g_autoptr (GBytes) bytes = NULL;
  g_autoptr (KithCatalog) catalog = NULL;
  g_autoptr (GError) local = NULL;
  gsize size = 0;

  *version = 0;
  if (!g_file_test (path, G_FILE_TEST_EXISTS))
    return TRUE;
  if (!g_file_get_contents (path, &contents, &size, &local)) {
    g_set_error (error, KITH_BACKEND_ERROR, KITH_BACKEND_ERROR_CORRUPT, "%s", local->message);
    return FALSE;
  }
  bytes = g_bytes_new_take (g_steal_pointer (&contents), size);
  catalog = kith_catalog_parse (bytes, &local);
  if (catalog == NULL) {
    g_set_error (error, KITH_BACKEND_ERROR, KITH_BACKEND_ERROR_CORRUPT, "%s: %s", path, local->message);
    return FALSE;
  }
  *version = catalog->version;
  return TRUE;
}

KithCatalog *
kith_backend_store_publish (const gchar *dir, const gchar *src_dir, gint64 expires_in, GError **error)
{
  g_autoptr (KithCatalog) catalog = kith_catalog_new ();
  g_autoptr (GPtrArray) names = NULL;
  g_autoptr (GBytes) json = NULL;
  g_autoptr (GBytes) sig = NULL;
  g_autofree gchar *cert = NULL;
  g_autofree gchar *key = NULL;
  g_autofree gchar *catalog_path = kith_backend_store_public_path (dir, KITH_BACKEND_CATALOG_FILE);
  g_autofree gchar *sig_path = kith_backend_store_public_path (dir, KITH_BACKEND_SIGNATURE_FILE);
  gint64 previous = 0;

  if (!kith_backend_store_check (dir, error) || !kith_backend_store_make_public (dir, error) ||
      !kith_backend_store_current_version (dir, &previous, error))
    return NULL;
  cert = kith_backend_store_read (dir, KITH_BACKEND_SIGNING_FILE, FALSE, error);
  key = kith_backend_store_read (dir, KITH_BACKEND_SIGNING_KEY_FILE, TRUE, error);
  if (cert == NULL || key == NULL)
    return NULL;
  names = kith_backend_store_list_release (src_dir, error);
  if (names == NULL)
    return NULL;
  for (guint i = 0; i < names->len; i++) {
    if (!kith_backend_store_add_file (dir, src_dir, g_ptr_array_index (names, i), catalog, error))
      return NULL;
  }
  catalog->version = previous + 1;
  catalog->issued = g_get_real_time () / G_USEC_PER_SEC;
  catalog->expires = catalog->issued + expires_in;
  json = kith_catalog_to_json (catalog);
  sig = kith_crypto_detached_sign (json, cert, key, error);
  if (sig == NULL)
    return NULL;
  /* catalog first: a reader that sees the new signature also finds the new catalog */
  if (!kith_file_write_atomic (catalog_path, g_bytes_get_data (json, NULL), g_bytes_get_size (json), 0644, error) ||
      !kith_file_write_atomic (sig_path, g_bytes_get_data (sig, NULL), g_bytes_get_size (sig), 0644, error))
    return NULL;
  return g_steal_pointer (&catalog);
}

gboolean
kith_backend_store_load_catalog (const gchar *dir, gint64 now, KithCatalog **catalog, GError **error)
{
  g_autofree gchar *catalog_path = kith_backend_store_public_path (dir, KITH_BACKEND_CATALOG_FILE);
  g_autofree gchar *sig_path = kith_backend_store_public_path (dir, KITH_BACKEND_SIGNATURE_FILE);
  g_autofree gchar *ca_path = g_build_filename (dir, KITH_BACKEND_CA_FILE, NULL);
  g_autoptr (GMappedFile) json = NULL;
  g_autoptr (GMappedFile) sig = NULL;
  g_autoptr (GBytes) json_bytes = NULL;
  g_autoptr (GBytes) sig_bytes = NULL;
  g_autoptr (GError) local = NULL;

  *catalog = NULL;
  if (!g_file_test (catalog_path, G_FILE_TEST_EXISTS))
    return TRUE;
  if ((json = g_mapped_file_new (catalog_path, FALSE, &local)) == NULL ||
      (sig = g_mapped_file_new (sig_path, FALSE, &local)) == NULL) {
    g_set_error (error, KITH_BACKEND_ERROR, KITH_BACKEND_ERROR_CORRUPT, "%s", local->message);
    return FALSE;
  }
  json_bytes = g_mapped_file_get_bytes (json);
  sig_bytes = g_mapped_file_get_bytes (sig);
  *catalog = kith_catalog_verify (json_bytes, sig_bytes, ca_path, now, 0, &local);
  if (*catalog == NULL && g_error_matches (local, KITH_CRYPTO_ERROR, KITH_CRYPTO_ERROR_EXPIRED)) {
    g_propagate_prefixed_error (error, g_steal_pointer (&local), "%s: ", catalog_path);
    return FALSE;
  }
  if (*catalog == NULL) {
    g_set_error (error, KITH_BACKEND_ERROR, KITH_BACKEND_ERROR_CORRUPT, "%s: %s", catalog_path, local->message);
    return FALSE;
  }
  return TRUE;
}
