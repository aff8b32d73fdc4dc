/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* test-backend.c — kith-backend (run as a real process), kith-crypto and kith-catalog */
#include <check.h>

#include "kith-test-suite.h"
#include "kith-test-tls.h"
#include "kith-test-util.h"
#include <gio/gio.h>
#include <glib/gstdio.h>
#include <libsoup/soup.h>
#include <json-glib/json-glib.h>
#include <signal.h>
#include <string.h>
#include <sys/stat.h>

#include "kith-catalog.h"
#include "kith-crypto.h"
#include "kith-file.h"
#include "kith-hex.h"

#define TEST_TIMEOUT_S 20

static const gchar *
backend_path (void)
{
  const gchar *path = g_getenv ("KITH_BACKEND");
  ck_assert_msg (path != NULL, "KITH_BACKEND must name the kith-backend binary");
  return path;
}

static gint64
now_s (void)
{
  return g_get_real_time () / G_USEC_PER_SEC;
}

/* A scratch directory removed when the test ends. */
typedef struct {
  gchar *path;
} TestDir;

static void
test_dir_free (TestDir *d)
{
  kith_test_rm_rf (d->path);
  g_free (d->path);
  g_free (d);
}
G_DEFINE_AUTOPTR_CLEANUP_FUNC (TestDir, test_dir_free)

static TestDir *
test_dir_new (void)
{
  TestDir *d = g_new0 (TestDir, 1);
  d->path = g_dir_make_tmp ("kith-test-backend-XXXXXX", NULL);
  ck_assert_ptr_nonnull (d->path);
  return d;
}

static gchar *
test_dir_sub (TestDir *d, const gchar *name)
{
  return g_build_filename (d->path, name, NULL);
}

/* Runs kith-backend with @args to completion; returns its exit status. */
static gint
run_backendv (const gchar *const *args, gchar **out, gchar **err)
{
  g_autoptr (GPtrArray) argv = g_ptr_array_new ();
  g_autoptr (GSubprocess) proc = NULL;
  g_autoptr (GError) error = NULL;

  g_ptr_array_add (argv, (gpointer) backend_path ());
  for (guint i = 0; args[i] != NULL; i++)
    g_ptr_array_add (argv, (gpointer) args[i]);
  g_ptr_array_add (argv, NULL);
  proc = g_subprocess_newv ((const gchar *const *) argv->pdata,
                            G_SUBPROCESS_FLAGS_STDOUT_PIPE | G_SUBPROCESS_FLAGS_STDERR_PIPE, &error);
  ck_assert_msg (proc != NULL, "spawn: %s", error ? error->message : "");
  ck_assert (g_subprocess_communicate_utf8 (proc, NULL, NULL, out, err, &error));
  return g_subprocess_get_if_exited (proc) ? g_subprocess_get_exit_status (proc) : -1;
}

/* The same with the arguments inline, NULL-terminated. */
static gint
run_backend (gchar **out, gchar **err, ...)
{
  g_autoptr (GPtrArray) args = g_ptr_array_new ();
  const gchar *arg;
  va_list ap;

  va_start (ap, err);
  while ((arg = va_arg (ap, const gchar *)) != NULL)
    g_ptr_array_add (args, (gpointer) arg);
  va_end (ap);
  g_ptr_array_add (args, NULL);
  return run_backendv ((const gchar *const *) args->pdata, out, err);
}

static void
write_file (const gchar *dir, const gchar *name, const gchar *data, gsize size)
{
  g_autofree gchar *path = g_build_filename (dir, name, NULL);
  ck_assert (g_file_set_contents (path, data, (gssize) size, NULL));
}

/* A release of two small files plus one of @big_size pseudo-random bytes. */
static gchar *
make_release (TestDir *d, const gchar *name, const gchar *stamp, gsize big_size)
{
  g_autofree gchar *src = test_dir_sub (d, name);
  g_autofree gchar *big_name = g_strdup_printf ("avdat-%s.cab", stamp);
  g_autofree gchar *small_name = g_strdup_printf ("xtrdat-%s.cab", stamp);
  g_autofree gchar *big = g_malloc (big_size);
  g_autoptr (GRand) rand = g_rand_new_with_seed (42);

  for (gsize i = 0; i < big_size; i++)
    big[i] = (gchar) g_rand_int_range (rand, 0, 256);
  ck_assert_int_eq (g_mkdir (src, 0755), 0);
  write_file (src, big_name, big, big_size);
  write_file (src, small_name, stamp, strlen (stamp));
  write_file (src, "readme.txt", "hello\n", 6);
  return g_steal_pointer (&src);
}

/* DIR initialised by kith-backend init. */
static gchar *
init_backend (TestDir *d, const gchar *name)
{
  g_autofree gchar *dir = test_dir_sub (d, name);
  g_autofree gchar *out = NULL;
  g_autofree gchar *err = NULL;
  ck_assert_int_eq (run_backend (&out, &err, "init", dir, NULL), 0);
  return g_steal_pointer (&dir);
}

static GBytes *
read_bytes (const gchar *dir, const gchar *name)
{
  g_autofree gchar *path = g_build_filename (dir, name, NULL);
  gchar *data = NULL;
  gsize size = 0;
  ck_assert_msg (g_file_get_contents (path, &data, &size, NULL), "cannot read %s", path);
  return g_bytes_new_take (data, size);
}

static KithCatalog *
verify_dir (const gchar *dir, const gchar *anchor_dir, gint64 now, gint64 installed, GError **error)
{
  g_autoptr (GBytes) json = read_bytes (dir, "public/catalog.json");
  g_autoptr (GBytes) sig = read_bytes (dir, "public/catalog.json.sig");
  g_autofree gchar *anchor = g_build_filename (anchor_dir, "ca.pem", NULL);
  return kith_catalog_verify (json, sig, anchor, now, installed, error);
}

static guint
file_mode (const gchar *dir, const gchar *name)
{
  g_autofree gchar *path = g_build_filename (dir, name, NULL);
  GStatBuf st;
  ck_assert_int_eq (g_stat (path, &st), 0);
  return st.st_mode & 0777;
}

START_TEST (test_init)
{
  g_autoptr (TestDir) d = test_dir_new ();
  g_autofree gchar *dir = test_dir_sub (d, "vendor");
  g_autofree gchar *out = NULL;
  g_autofree gchar *err = NULL;
  g_autofree gchar *expected = g_build_filename (dir, "ca.pem", NULL);
  g_autofree gchar *ca_pem = NULL;
  g_autofree gchar *cn = NULL;
  g_autofree gchar *token = NULL;
  g_autoptr (GError) error = NULL;

  ck_assert_int_eq (run_backend (&out, &err, "init", dir, NULL), 0);
  ck_assert_str_eq (g_strchomp (out), expected);
  ck_assert_uint_eq (file_mode (dir, "ca-key.pem"), 0600);
  ck_assert_uint_eq (file_mode (dir, "signing-key.pem"), 0600);
  ck_assert_uint_eq (file_mode (dir, "enrollment-token"), 0600);
  ck_assert_uint_eq (file_mode (dir, "ca.pem"), 0644);
  ck_assert (g_file_test (expected, G_FILE_TEST_IS_REGULAR));
  ck_assert (g_file_get_contents (expected, &ca_pem, NULL, NULL));
  cn = kith_crypto_cert_get_common_name (ca_pem, &error);
  ck_assert_msg (cn != NULL, "%s", error ? error->message : "");
  ck_assert_str_eq (cn, "kith vendor CA");
  {
    g_autofree gchar *path = g_build_filename (dir, "enrollment-token", NULL);
    ck_assert (g_file_get_contents (path, &token, NULL, NULL));
  }
  g_strchomp (token);
  ck_assert_msg (kith_hex_is_valid (token, 32, 32), "token %s", token);
}
END_TEST

START_TEST (test_init_refuses_nonempty)
{
  g_autoptr (TestDir) d = test_dir_new ();
  g_autofree gchar *out = NULL;
  g_autofree gchar *err = NULL;

  write_file (d->path, "precious", "x", 1);
  ck_assert_int_ne (run_backend (&out, &err, "init", d->path, NULL), 0);
  ck_assert_msg (strstr (err, "not empty") != NULL, "stderr: %s", err);
  {
    g_autofree gchar *precious = test_dir_sub (d, "precious");
    ck_assert (g_file_test (precious, G_FILE_TEST_IS_REGULAR));
  }
  {
    g_autofree gchar *ca = test_dir_sub (d, "ca.pem");
    ck_assert (!g_file_test (ca, G_FILE_TEST_EXISTS));
  }
}
END_TEST

START_TEST (test_publish_versions)
{
  g_autoptr (TestDir) d = test_dir_new ();
  g_autofree gchar *dir = init_backend (d, "vendor");
  g_autofree gchar *rel1 = make_release (d, "rel1", "2611211200", 5000);
  g_autofree gchar *rel2 = make_release (d, "rel2", "2611221200", 6000);
  g_autofree gchar *out = NULL;
  g_autofree gchar *err = NULL;
  g_autoptr (KithCatalog) cat1 = NULL;
  g_autoptr (KithCatalog) cat2 = NULL;
  g_autoptr (GError) error = NULL;
  g_autoptr (GBytes) avdat = NULL;
  g_autofree gchar *avdat_sha = NULL;
  const KithCatalogFile *f;

  ck_assert_int_eq (run_backend (&out, &err, "publish", dir, rel1, NULL), 0);
  ck_assert_msg (strstr (out, "version 1") != NULL, "stdout: %s", out);
  cat1 = verify_dir (dir, dir, now_s (), 0, &error);
  ck_assert_msg (cat1 != NULL, "%s", error ? error->message : "");
  ck_assert_int_eq (cat1->version, 1);
  ck_assert_uint_eq (cat1->files->len, 3);
  ck_assert_int_le (cat1->issued, now_s ());
  ck_assert_int_eq (cat1->expires - cat1->issued, 7 * 24 * 3600);
  f = kith_catalog_get_file (cat1, "avdat");
  ck_assert_ptr_nonnull (f);
  ck_assert_str_eq (f->version, "2611211200");
  ck_assert_str_eq (f->url, "/files/avdat-2611211200.cab");
  ck_assert_uint_eq (f->size, 5000);
  avdat = read_bytes (dir, "public/files/avdat-2611211200.cab");
  avdat_sha = kith_crypto_sha256_hex (avdat);
  ck_assert_str_eq (f->sha256, avdat_sha);
  /* no stamp in the name: the whole name, and a hash prefix as version */
  f = kith_catalog_get_file (cat1, "readme.txt");
  ck_assert_ptr_nonnull (f);
  ck_assert_uint_eq (strlen (f->version), 16);
  ck_assert (g_str_has_prefix (f->sha256, f->version));

  g_clear_pointer (&out, g_free);
  g_clear_pointer (&err, g_free);
  ck_assert_int_eq (run_backend (&out, &err, "publish", "--expires-in", "2h", dir, rel2, NULL), 0);
  cat2 = verify_dir (dir, dir, now_s (), 1, &error);
  ck_assert_msg (cat2 != NULL, "%s", error ? error->message : "");
  ck_assert_int_eq (cat2->version, 2);
  ck_assert_int_eq (cat2->expires - cat2->issued, 2 * 3600);
  ck_assert_str_eq (kith_catalog_get_file (cat2, "avdat")->version, "2611221200");
}
END_TEST

/* "a b/c …": every entry under @dir, relative, sorted; directories end in '/'. */
static void
list_tree (const gchar *dir, const gchar *prefix, GPtrArray *out)
{
  g_autoptr (GDir) d = g_dir_open (dir, 0, NULL);
  const gchar *entry;

  ck_assert_msg (d != NULL, "cannot open %s", dir);
  while ((entry = g_dir_read_name (d)) != NULL) {
    g_autofree gchar *path = g_build_filename (dir, entry, NULL);
    g_autofree gchar *rel = g_strconcat (prefix, entry, NULL);
    if (g_file_test (path, G_FILE_TEST_IS_DIR)) {
      g_autofree gchar *sub = g_strconcat (rel, "/", NULL);
      g_ptr_array_add (out, g_strdup (sub));
      list_tree (path, sub, out);
    } else {
      g_ptr_array_add (out, g_steal_pointer (&rel));
    }
  }
}

static gint
cmp_strings (gconstpointer a, gconstpointer b)
{
  return g_strcmp0 (*(const gchar *const *) a, *(const gchar *const *) b);
}

/* DIR/public is what a stock web server serves as it is: the catalog, its signature and the
 * files, and no key, token or upload, not even after a second publish. */
START_TEST (test_publish_tree)
{
  g_autoptr (TestDir) d = test_dir_new ();
  g_autofree gchar *dir = init_backend (d, "vendor");
  g_autofree gchar *rel1 = make_release (d, "rel1", "2611211200", 5000);
  g_autofree gchar *rel2 = make_release (d, "rel2", "2611221200", 6000);
  g_autofree gchar *public_dir = g_build_filename (dir, "public", NULL);
  g_autoptr (GPtrArray) entries = g_ptr_array_new_with_free_func (g_free);
  g_autofree gchar *listing = NULL;

  ck_assert_int_eq (run_backend (NULL, NULL, "publish", dir, rel1, NULL), 0);
  ck_assert_int_eq (run_backend (NULL, NULL, "publish", dir, rel2, NULL), 0);
  list_tree (public_dir, "", entries);
  g_ptr_array_sort (entries, cmp_strings);
  g_ptr_array_add (entries, NULL);
  listing = g_strjoinv (" ", (gchar **) entries->pdata);
  ck_assert_str_eq (listing, "catalog.json catalog.json.sig files/ files/avdat-2611211200.cab "
                             "files/avdat-2611221200.cab files/readme.txt files/xtrdat-2611211200.cab "
                             "files/xtrdat-2611221200.cab");
}
END_TEST

START_TEST (test_catalog_rejected)
{
  g_autoptr (TestDir) d = test_dir_new ();
  g_autofree gchar *dir = init_backend (d, "vendor");
  g_autofree gchar *other = init_backend (d, "impostor");
  g_autofree gchar *rel = make_release (d, "rel", "2611211200", 1000);
  g_autofree gchar *out = NULL;
  g_autofree gchar *err = NULL;
  g_autofree gchar *anchor = g_build_filename (dir, "ca.pem", NULL);
  g_autoptr (KithCatalog) cat = NULL;
  g_autoptr (GBytes) json = NULL;
  g_autoptr (GBytes) sig = NULL;
  g_autoptr (GBytes) tampered = NULL;
  g_autoptr (GBytes) other_json = NULL;
  g_autoptr (GBytes) other_sig = NULL;
  g_autoptr (GBytes) garbage = g_bytes_new_static ("{\"certificate\": 1}", 18);
  g_autofree gchar *text = NULL;
  gchar *p;
  GError *error = NULL;

  ck_assert_int_eq (run_backend (&out, &err, "publish", dir, rel, NULL), 0);
  g_clear_pointer (&out, g_free);
  g_clear_pointer (&err, g_free);
  ck_assert_int_eq (run_backend (&out, &err, "publish", other, rel, NULL), 0);
  json = read_bytes (dir, "public/catalog.json");
  sig = read_bytes (dir, "public/catalog.json.sig");
  cat = kith_catalog_verify (json, sig, anchor, now_s (), 0, &error);
  ck_assert_ptr_nonnull (cat);

  /* signed by another vendor's CA */
  other_json = read_bytes (other, "public/catalog.json");
  other_sig = read_bytes (other, "public/catalog.json.sig");
  ck_assert_ptr_null (kith_catalog_verify (other_json, other_sig, anchor, now_s (), 0, &error));
  ck_assert_msg (g_error_matches (error, KITH_CRYPTO_ERROR, KITH_CRYPTO_ERROR_UNTRUSTED), "%s", error->message);
  g_clear_error (&error);

  /* one byte changed: the version bumped by an attacker */
  text = g_strndup (g_bytes_get_data (json, NULL), g_bytes_get_size (json));
  p = strstr (text, "\"version\" : 1");
  ck_assert_ptr_nonnull (p);
  p[strlen ("\"version\" : ")] = '9';
  tampered = g_bytes_new (text, strlen (text));
  ck_assert_ptr_null (kith_catalog_verify (tampered, sig, anchor, now_s (), 0, &error));
  ck_assert_msg (g_error_matches (error, KITH_CRYPTO_ERROR, KITH_CRYPTO_ERROR_BAD_SIGNATURE), "%s", error->message);
  g_clear_error (&error);

  /* the catalog's own expiry, then the signing certificate's, then before it existed */
  ck_assert_ptr_null (kith_catalog_verify (json, sig, anchor, cat->expires + 1, 0, &error));
  ck_assert_msg (g_error_matches (error, KITH_CRYPTO_ERROR, KITH_CRYPTO_ERROR_EXPIRED), "%s", error->message);
  ck_assert_msg (strstr (error->message, "catalog version 1 expired") != NULL, "%s", error->message);
  g_clear_error (&error);
  ck_assert_ptr_null (kith_catalog_verify (json, sig, anchor, now_s () + 3 * 365 * 24 * 3600LL, 0, &error));
  ck_assert_msg (g_error_matches (error, KITH_CRYPTO_ERROR, KITH_CRYPTO_ERROR_EXPIRED), "%s", error->message);
  g_clear_error (&error);
  ck_assert_ptr_null (kith_catalog_verify (json, sig, anchor, now_s () - 24 * 3600, 0, &error));
  ck_assert_msg (g_error_matches (error, KITH_CRYPTO_ERROR, KITH_CRYPTO_ERROR_NOT_YET_VALID), "%s", error->message);
  g_clear_error (&error);

  /* older than installed: rollback; equal is fine (the same catalog checked again) */
  ck_assert_ptr_null (kith_catalog_verify (json, sig, anchor, now_s (), 2, &error));
  ck_assert_msg (g_error_matches (error, KITH_CRYPTO_ERROR, KITH_CRYPTO_ERROR_ROLLBACK), "%s", error->message);
  g_clear_error (&error);
  g_clear_pointer (&cat, kith_catalog_free);
  cat = kith_catalog_verify (json, sig, anchor, now_s (), 1, &error);
  ck_assert_ptr_nonnull (cat);

  /* a signature document that is not one */
  ck_assert_ptr_null (kith_catalog_verify (json, garbage, anchor, now_s (), 0, &error));
  ck_assert_msg (g_error_matches (error, KITH_CRYPTO_ERROR, KITH_CRYPTO_ERROR_BAD_FORMAT), "%s", error->message);
  g_clear_error (&error);
}
END_TEST

START_TEST (test_catalog_parse_errors)
{
  const gchar *bad[] = {
    "not json",
    "[]",
    "{\"version\": 0, \"issued\": \"2026-01-01T00:00:00Z\", \"expires\": \"2026-01-02T00:00:00Z\", \"files\": []}",
    "{\"version\": 1, \"issued\": \"yesterday\", \"expires\": \"2026-01-02T00:00:00Z\", \"files\": []}",
    "{\"version\": 1, \"issued\": \"2026-01-01T00:00:00Z\", \"expires\": \"2026-01-02T00:00:00Z\"}",
    /* parenthesised: one element split over lines */
    ("{\"version\": 1, \"issued\": \"2026-01-01T00:00:00Z\", \"expires\": \"2026-01-02T00:00:00Z\", \"files\": "
     "[{\"name\": \"../etc\", \"version\": \"1\", \"size\": 1, \"sha256\": "
     "\"0000000000000000000000000000000000000000000000000000000000000000\", \"url\": \"/x\"}]}"),
    ("{\"version\": 1, \"issued\": \"2026-01-01T00:00:00Z\", \"expires\": \"2026-01-02T00:00:00Z\", \"files\": "
     "[{\"name\": \"a\", \"version\": \"1\", \"size\": 1, \"sha256\": \"abc\", \"url\": \"/x\"}]}"),
  };
  g_autoptr (KithCatalog) cat = kith_catalog_new ();
  g_autoptr (KithCatalog) back = NULL;
  g_autoptr (GBytes) json = NULL;
  GError *error = NULL;

  for (guint i = 0; i < G_N_ELEMENTS (bad); i++) {
    g_autoptr (GBytes) bytes = g_bytes_new_static (bad[i], strlen (bad[i]));
    ck_assert_ptr_null (kith_catalog_parse (bytes, &error));
    ck_assert_msg (g_error_matches (error, KITH_CRYPTO_ERROR, KITH_CRYPTO_ERROR_BAD_FORMAT), "case %u", i);
    g_clear_error (&error);
  }
  /* and a round trip */
  cat->version = 7;
  cat->issued = 1700000000;
  cat->expires = 1700003600;
  g_ptr_array_add (cat->files, kith_catalog_file_new ("avdat", "1", 3,
                                                      "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad",
                                                      "/files/avdat-1.cab"));
  json = kith_catalog_to_json (cat);
  back = kith_catalog_parse (json, &error);
  ck_assert_ptr_nonnull (back);
  ck_assert_int_eq (back->version, 7);
  ck_assert_int_eq (back->issued, 1700000000);
  ck_assert_int_eq (back->expires, 1700003600);
  ck_assert_str_eq (kith_catalog_get_file (back, "avdat")->url, "/files/avdat-1.cab");
}
END_TEST

/* A file of at least KITH_PIECE_LIST_MIN_FILE_SIZE gets a piece list in the signed catalog:
 * one SHA-256 per 1 MiB, each that of the published bytes; smaller files none. A list
 * changed by one digit breaks the signature; lists that break a bound are refused. */
START_TEST (test_publish_pieces)
{
  g_autoptr (TestDir) d = test_dir_new ();
  g_autofree gchar *dir = init_backend (d, "vendor");
  g_autofree gchar *rel = make_release (d, "rel", "2611211200", KITH_PIECE_LIST_MIN_FILE_SIZE + 1000);
  g_autofree gchar *anchor = g_build_filename (dir, "ca.pem", NULL);
  g_autoptr (KithCatalog) cat = NULL;
  g_autoptr (GBytes) json = NULL;
  g_autoptr (GBytes) sig = NULL;
  g_autoptr (GBytes) avdat = NULL;
  g_autoptr (GBytes) tampered = NULL;
  g_autofree gchar *text = NULL;
  const KithCatalogFile *f;
  GError *error = NULL;
  gchar *p;

  ck_assert_int_eq (run_backend (NULL, NULL, "publish", dir, rel, NULL), 0);
  json = read_bytes (dir, "public/catalog.json");
  sig = read_bytes (dir, "public/catalog.json.sig");
  cat = kith_catalog_verify (json, sig, anchor, now_s (), 0, &error);
  ck_assert_msg (cat != NULL, "%s", error ? error->message : "");
  f = kith_catalog_get_file (cat, "avdat");
  ck_assert_ptr_nonnull (f->pieces);
  ck_assert_uint_eq (kith_piece_list_get_piece_size (f->pieces), KITH_PIECE_LIST_PIECE_SIZE);
  ck_assert_uint_eq (kith_piece_list_get_count (f->pieces), 9);
  ck_assert_uint_eq (kith_piece_list_get_file_size (f->pieces), f->size);
  avdat = read_bytes (dir, "public/files/avdat-2611211200.cab");
  for (guint i = 0; i < 9; i++) {
    guint64 offset, length;
    kith_piece_list_get_piece (f->pieces, i, &offset, &length);
    ck_assert_uint_eq (length, i < 8 ? KITH_PIECE_LIST_PIECE_SIZE : 1000);
    ck_assert (kith_piece_list_verify (f->pieces, i, (const guint8 *) g_bytes_get_data (avdat, NULL) + offset,
                                       length));
    ck_assert (!kith_piece_list_verify (f->pieces, (i + 1) % 9, (const guint8 *) g_bytes_get_data (avdat, NULL) + offset,
                                        length));
  }
  ck_assert_ptr_null (kith_catalog_get_file (cat, "xtrdat")->pieces);
  ck_assert_ptr_null (kith_catalog_get_file (cat, "readme.txt")->pieces);

  /* the list is signed with the rest: one digit of it changed breaks the signature */
  text = g_strndup (g_bytes_get_data (json, NULL), g_bytes_get_size (json));
  p = strstr (text, "\"pieces\"");
  ck_assert_ptr_nonnull (p);
  p = strstr (p, "\"sha256\" : \"");
  ck_assert_ptr_nonnull (p);
  p += strlen ("\"sha256\" : \"") + 100;
  *p = *p == '0' ? '1' : '0';
  tampered = g_bytes_new (text, strlen (text));
  ck_assert_ptr_null (kith_catalog_verify (tampered, sig, anchor, now_s (), 0, &error));
  ck_assert_msg (g_error_matches (error, KITH_CRYPTO_ERROR, KITH_CRYPTO_ERROR_BAD_SIGNATURE), "%s", error->message);
  g_clear_error (&error);
}
END_TEST

#define TEST_BAD_PIECES_HEAD "{\"version\": 1, \"issued\": \"2026-01-01T00:00:00Z\", \"expires\": \"2026-01-02T00:00:00Z\", " \
  "\"files\": [{\"name\": \"a\", \"version\": \"1\", \"size\": %" G_GUINT64_FORMAT ", " \
  "\"sha256\": \"%s\", \"url\": \"/x\", \"pieces\": %s}]}"

/* Piece lists that break a bound are refused with the catalog, however they are signed. */
START_TEST (test_catalog_bad_pieces)
{
  g_autofree gchar *zeros = g_strnfill (64, '0');
  g_autofree gchar *two = g_strnfill (128, 'a');
  g_autofree gchar *upper = g_strnfill (128, 'A');
  g_autofree gchar *many = g_strnfill (64 * 3, 'b');
  struct {
    guint64 size;
    const gchar *pieces;
  } bad[] = {
    { 2 * 65536, "\"x\"" },
    { 2 * 65536, "{\"size\": 65536}" },
    { 2 * 65536, "{\"size\": 0, \"sha256\": \"@two\"}" },
    { 2 * 65536, "{\"size\": 1024, \"sha256\": \"@two\"}" },    /* piece too small */
    { 2 * 65536, "{\"size\": 65536, \"sha256\": \"@many\"}" },  /* more hashes than pieces */
    { 3 * 65536, "{\"size\": 65536, \"sha256\": \"@two\"}" },   /* fewer */
    { 2 * 65536, "{\"size\": 65536, \"sha256\": \"@upper\"}" },
    { (guint64) KITH_PIECE_LIST_MAX_PIECES * 65536 + 1, "{\"size\": 65536, \"sha256\": \"@two\"}" },
  };
  GError *error = NULL;

  for (guint i = 0; i < G_N_ELEMENTS (bad); i++) {
    g_autoptr (GString) pieces = g_string_new (bad[i].pieces);
    g_autofree gchar *text = NULL;
    g_autoptr (GBytes) bytes = NULL;
    g_string_replace (pieces, "@two", two, 0);
    g_string_replace (pieces, "@many", many, 0);
    g_string_replace (pieces, "@upper", upper, 0);
    text = g_strdup_printf (TEST_BAD_PIECES_HEAD, bad[i].size, zeros, pieces->str);
    bytes = g_bytes_new (text, strlen (text));
    ck_assert_ptr_null (kith_catalog_parse (bytes, &error));
    ck_assert_msg (g_error_matches (error, KITH_CRYPTO_ERROR, KITH_CRYPTO_ERROR_BAD_FORMAT), "case %u", i);
    ck_assert_msg (strstr (error->message, "pieces of \"a\"") != NULL, "case %u: %s", i, error->message);
    g_clear_error (&error);
  }
}
END_TEST

START_TEST (test_crypto_node_cert)
{
  g_autoptr (TestDir) d = test_dir_new ();
  g_autoptr (GError) error = NULL;
  g_autofree gchar *ca_key = kith_crypto_key_generate (&error);
  g_autofree gchar *ca2_key = kith_crypto_key_generate (&error);
  g_autofree gchar *node_key = kith_crypto_key_generate (&error);
  g_autofree gchar *node_pub = kith_crypto_key_get_public (node_key, &error);
  g_autofree gchar *ca = NULL;
  g_autofree gchar *ca2 = NULL;
  g_autofree gchar *cert = NULL;
  g_autofree gchar *tasks = NULL;
  g_autofree gchar *missing = NULL;
  g_autofree gchar *key_path = test_dir_sub (d, "key.pem");
  g_autofree gchar *reread = NULL;
  g_auto (GStrv) uris = NULL;
  g_autoptr (KithPublicKey) pub = NULL;
  g_autoptr (KithPublicKey) pub2 = NULL;
  g_autoptr (GBytes) msg = g_bytes_new_static ("request-id alias", 16);
  g_autoptr (GBytes) other_msg = g_bytes_new_static ("request-id alibi", 16);
  g_autoptr (GBytes) sig = NULL;
  gint64 now = now_s ();
  const gchar *const san[] = { "http://127.0.0.7:8750/alias/", NULL };
  const KithCertExtension ext[] = {
    { KITH_CRYPTO_OID_NODE_ID, "0123456789abcdef0123456789abcdef" },
    { KITH_CRYPTO_OID_TASKS, "upload,relay" },
    { NULL, NULL },
  };
  KithCertSpec ca_spec = { .common_name = "test CA", .not_after = now + 3600, .is_ca = TRUE };
  KithCertSpec node_spec = { .common_name = "node", .not_after = now + 600, .san_uris = san, .extensions = ext };

  ck_assert_ptr_nonnull (node_pub);
  ca = kith_crypto_cert_self_signed (ca_key, &ca_spec, &error);
  ca2 = kith_crypto_cert_self_signed (ca2_key, &ca_spec, &error);
  ck_assert_ptr_nonnull (ca2);
  cert = kith_crypto_cert_issue (node_pub, &node_spec, ca, ca_key, &error);
  ck_assert_msg (cert != NULL, "%s", error ? error->message : "");

  tasks = kith_crypto_cert_get_extension (cert, KITH_CRYPTO_OID_TASKS, &error);
  ck_assert_str_eq (tasks, "upload,relay");
  missing = kith_crypto_cert_get_extension (cert, KITH_CRYPTO_OID_ARC ".99", &error);
  ck_assert_ptr_null (missing);
  g_clear_error (&error);
  uris = kith_crypto_cert_get_san_uris (cert, &error);
  ck_assert_uint_eq (g_strv_length (uris), 1);
  ck_assert_str_eq (uris[0], san[0]);

  /* proof of possession: the node signs, the verifier checks with the cert's key */
  sig = kith_crypto_sign (node_key, msg, &error);
  ck_assert_ptr_nonnull (sig);
  pub = kith_crypto_verify_cert (cert, ca, now, &error);
  ck_assert_msg (pub != NULL, "%s", error ? error->message : "");
  ck_assert (kith_public_key_verify (pub, msg, sig, &error));
  ck_assert (!kith_public_key_verify (pub, other_msg, sig, &error));
  ck_assert (g_error_matches (error, KITH_CRYPTO_ERROR, KITH_CRYPTO_ERROR_BAD_SIGNATURE));
  g_clear_error (&error);
  pub2 = kith_crypto_verify_cert (cert, ca2, now, &error);
  ck_assert_ptr_null (pub2);
  ck_assert (g_error_matches (error, KITH_CRYPTO_ERROR, KITH_CRYPTO_ERROR_UNTRUSTED));
  g_clear_error (&error);
  ck_assert_ptr_null (kith_crypto_verify_cert (cert, ca, now + 601, &error));
  ck_assert (g_error_matches (error, KITH_CRYPTO_ERROR, KITH_CRYPTO_ERROR_EXPIRED));
  g_clear_error (&error);

  /* private keys: written 0600, refused when others may read them */
  ck_assert (kith_file_write_atomic (key_path, node_key, strlen (node_key), 0600, &error));
  ck_assert_uint_eq (file_mode (d->path, "key.pem"), 0600);
  reread = kith_crypto_read_private_key (key_path, &error);
  ck_assert_str_eq (reread, node_key);
  ck_assert_int_eq (g_chmod (key_path, 0644), 0);
  ck_assert_ptr_null (kith_crypto_read_private_key (key_path, &error));
  ck_assert (g_error_matches (error, KITH_CRYPTO_ERROR, KITH_CRYPTO_ERROR_BAD_KEY));
}
END_TEST

START_TEST (test_cli_errors)
{
  g_autoptr (TestDir) d = test_dir_new ();
  g_autofree gchar *dir = init_backend (d, "vendor");
  g_autofree gchar *missing = test_dir_sub (d, "missing");
  g_autofree gchar *empty = test_dir_sub (d, "empty");
  g_autofree gchar *rel = make_release (d, "rel", "1", 10);
  g_autofree gchar *key = g_build_filename (dir, "signing-key.pem", NULL);
  g_autofree gchar *spaced = test_dir_sub (d, "spaced");
  g_autofree gchar *twice = test_dir_sub (d, "twice");
  struct {
    const gchar *args[6];
    const gchar *message;
  } cases[] = {
    { { "frobnicate", NULL }, "unknown command" },
    { { "publish", dir, NULL }, "publish takes 2 arguments" },
    { { "publish", missing, rel, NULL }, "does not exist" },
    { { "publish", dir, empty, NULL }, "no regular files" },
    { { "publish", dir, missing, NULL }, "cannot open release directory" },
    { { "publish", dir, spaced, NULL }, "file names may only use" },
    { { "publish", dir, twice, NULL }, "both named \"avdat\"" },
    { { "publish", "--expires-in", "soon", dir, rel, NULL }, "positive duration" },
    { { "serve", missing, "--listen", "127.0.0.1:0", NULL }, "does not exist" },
    { { "serve", dir, "--listen", "localhost", NULL }, "expected an IP address and a port" },
    { { "serve", dir, "--rate-limit", "fast", NULL }, "expected bytes per second" },
  };

  ck_assert_int_eq (g_mkdir (empty, 0755), 0);
  ck_assert_int_eq (g_mkdir (spaced, 0755), 0);
  write_file (spaced, "av dat.cab", "x", 1);
  ck_assert_int_eq (g_mkdir (twice, 0755), 0);
  write_file (twice, "avdat-1.cab", "x", 1);
  write_file (twice, "avdat-2.cab", "y", 1);
  for (guint i = 0; i < G_N_ELEMENTS (cases); i++) {
    g_autofree gchar *out = NULL;
    g_autofree gchar *err = NULL;
    gint rc = run_backendv (cases[i].args, &out, &err);
    ck_assert_msg (rc > 0, "case %u exited %d", i, rc);
    ck_assert_msg (strstr (err, cases[i].message) != NULL, "case %u: stderr %s", i, err);
  }
  /* a damaged directory is named as such */
  {
    g_autofree gchar *out = NULL;
    g_autofree gchar *err = NULL;
    ck_assert_int_eq (g_unlink (key), 0);
    ck_assert_int_ne (run_backend (&out, &err, "publish", dir, rel, NULL), 0);
    ck_assert_msg (strstr (err, "signing-key.pem is missing") != NULL, "stderr %s", err);
  }
}
END_TEST

START_TEST (test_sample_release)
{
  g_autoptr (TestDir) d = test_dir_new ();
  const gchar *script = g_getenv ("KITH_SAMPLE_RELEASE");
  const struct {
    const gchar *name;
    gsize kb;
  } expected[] = { { "avdat", 910 }, { "xtrdat", 16 }, { "cioagt", 370 },
                   { "vsasap", 360 }, { "vseng9x", 240 }, { "vsengine", 340 } };
  g_autoptr (GSubprocess) proc = NULL;
  g_autoptr (GError) error = NULL;
  g_autoptr (GBytes) a = NULL;
  g_autoptr (GBytes) b = NULL;

  ck_assert_ptr_nonnull (script);
  proc = g_subprocess_new (G_SUBPROCESS_FLAGS_STDOUT_SILENCE, &error, "sh", script, d->path, "2611211200", NULL);
  ck_assert (g_subprocess_wait_check (proc, NULL, &error));
  for (guint i = 0; i < G_N_ELEMENTS (expected); i++) {
    g_autofree gchar *name = g_strdup_printf ("%s-2611211200.cab", expected[i].name);
    g_autoptr (GBytes) bytes = read_bytes (d->path, name);
    ck_assert_uint_eq (g_bytes_get_size (bytes), expected[i].kb * 1024);
  }
  /* different files differ */
  a = read_bytes (d->path, "vsasap-2611211200.cab");
  b = read_bytes (d->path, "cioagt-2611211200.cab");
  ck_assert (memcmp (g_bytes_get_data (a, NULL), g_bytes_get_data (b, NULL), 4096) != 0);

  /* and it is a release: six entries named as in the patent, versioned by the stamp */
  {
    g_autoptr (TestDir) backend = test_dir_new ();
    g_autofree gchar *dir = init_backend (backend, "vendor");
    g_autofree gchar *out = NULL;
    g_autofree gchar *err = NULL;
    g_autoptr (KithCatalog) cat = NULL;
    guint64 total = 0;

    ck_assert_int_eq (run_backend (&out, &err, "publish", dir, d->path, NULL), 0);
    cat = verify_dir (dir, dir, now_s (), 0, &error);
    ck_assert_msg (cat != NULL, "%s", error ? error->message : "");
    ck_assert_uint_eq (cat->files->len, 6);
    for (guint i = 0; i < G_N_ELEMENTS (expected); i++) {
      const KithCatalogFile *f = kith_catalog_get_file (cat, expected[i].name);
      ck_assert_ptr_nonnull (f);
      ck_assert_str_eq (f->version, "2611211200");
      total += f->size;
    }
    ck_assert_uint_eq (total, 2236 * 1024);
  }
}
END_TEST

/* A running `kith-backend serve`, stopped with SIGTERM when freed. */
typedef struct {
  GSubprocess *proc;
  GDataInputStream *out;
  gchar *url;
} Server;

typedef struct {
  gchar *line;
  gboolean done;
} LineWait;

static void
read_line_cb (GObject *source, GAsyncResult *res, gpointer user_data)
{
  LineWait *w = user_data;
  /* NULL at EOF or on error: the process is gone */
  w->line = g_data_input_stream_read_line_finish_utf8 (G_DATA_INPUT_STREAM (source), res, NULL, NULL);
  w->done = TRUE;
}

/* Iterates the default context until *@done or the test's time runs out. */
static void
iterate_until (gboolean *done, const gchar *what)
{
  gboolean timed_out = FALSE;
  guint id = g_timeout_add_seconds (TEST_TIMEOUT_S, kith_test_timeout_cb, &timed_out);
  while (!*done && !timed_out)
    g_main_context_iteration (NULL, TRUE);
  if (!timed_out)
    g_source_remove (id);
  ck_assert_msg (*done, "timed out waiting for %s", what);
}

/* Starts serve on 127.0.0.1:@port; returns NULL (and the stderr text) when it exits instead. */
static Server *
server_start (const gchar *dir, const gchar *port, const gchar *rate, gchar **err_out)
{
  g_autoptr (GError) error = NULL;
  g_autofree gchar *listen = g_strdup_printf ("127.0.0.1:%s", port);
  g_autofree gchar *line = NULL;
  Server *s = g_new0 (Server, 1);
  LineWait wait = { NULL, FALSE };

  if (rate != NULL)
    s->proc = g_subprocess_new (G_SUBPROCESS_FLAGS_STDOUT_PIPE | G_SUBPROCESS_FLAGS_STDERR_PIPE, &error,
                                backend_path (), "serve", dir, "--listen", listen, "--rate-limit", rate, NULL);
  else
    s->proc = g_subprocess_new (G_SUBPROCESS_FLAGS_STDOUT_PIPE | G_SUBPROCESS_FLAGS_STDERR_PIPE, &error,
                                backend_path (), "serve", dir, "--listen", listen, NULL);
  ck_assert_ptr_nonnull (s->proc);
  s->out = g_data_input_stream_new (g_subprocess_get_stdout_pipe (s->proc));
  g_data_input_stream_read_line_async (s->out, G_PRIORITY_DEFAULT, NULL, read_line_cb, &wait);
  iterate_until (&wait.done, "the ready line of kith-backend serve");
  line = wait.line != NULL ? wait.line : g_strdup ("");
  if (!g_str_has_prefix (line, "kith-backend: serving ")) {
    g_autoptr (GDataInputStream) err = g_data_input_stream_new (g_subprocess_get_stderr_pipe (s->proc));
    ck_assert (g_subprocess_wait (s->proc, NULL, NULL));
    if (err_out != NULL)
      *err_out = g_data_input_stream_read_upto (err, "", 0, NULL, NULL, NULL);
    g_object_unref (s->out);
    g_object_unref (s->proc);
    g_free (s);
    return NULL;
  }
  s->url = g_strdup (strstr (line, " on ") + 4);
  ck_assert (g_str_has_prefix (s->url, "https://127.0.0.1:"));
  {
    g_autofree gchar *ca = g_build_filename (dir, "ca.pem", NULL);
    kith_test_tls_trust (ca); /* its certificate: issued by its CA for 127.0.0.1 */
  }
  return s;
}

static void
wait_cb (GObject *source, GAsyncResult *res, gpointer user_data)
{
  g_subprocess_wait_finish (G_SUBPROCESS (source), res, NULL);
  *(gboolean *) user_data = TRUE;
}

static void
server_free (Server *s)
{
  gboolean exited = FALSE;

  g_subprocess_send_signal (s->proc, SIGTERM);
  g_subprocess_wait_async (s->proc, NULL, wait_cb, &exited);
  iterate_until (&exited, "kith-backend to exit on SIGTERM");
  ck_assert_msg (g_subprocess_get_if_exited (s->proc) && g_subprocess_get_exit_status (s->proc) == 0,
                 "kith-backend did not exit cleanly on SIGTERM");
  g_object_unref (s->out);
  g_object_unref (s->proc);
  g_free (s->url);
  g_free (s);
}
G_DEFINE_AUTOPTR_CLEANUP_FUNC (Server, server_free)

/* A request to the server; returns the body and sets *@status and *@msg_out when asked. */
static GBytes *
http (SoupSession *session, const gchar *method, Server *s, const gchar *path, const gchar *range,
      guint *status, SoupMessage **msg_out)
{
  g_autofree gchar *url = g_strconcat (s->url, path, NULL);
  g_autoptr (SoupMessage) msg = soup_message_new (method, url);
  g_autoptr (GError) error = NULL;
  GBytes *body;

  if (range != NULL)
    soup_message_headers_replace (soup_message_get_request_headers (msg), "Range", range);
  body = soup_session_send_and_read (session, msg, NULL, &error);
  ck_assert_msg (body != NULL, "%s %s: %s", method, path, error ? error->message : "");
  *status = soup_message_get_status (msg);
  if (msg_out != NULL)
    *msg_out = g_steal_pointer (&msg);
  return body;
}

static gint64
stats_get (JsonObject *stats, const gchar *path, const gchar *member)
{
  JsonObject *paths = json_object_get_object_member (stats, "paths");
  ck_assert_msg (json_object_has_member (paths, path), "no stats for %s", path);
  return json_object_get_int_member (json_object_get_object_member (paths, path), member);
}

static JsonObject *
fetch_stats (SoupSession *session, Server *s, JsonParser *parser)
{
  guint status = 0;
  g_autoptr (GBytes) body = http (session, "GET", s, "/stats", NULL, &status, NULL);
  ck_assert_uint_eq (status, 200);
  ck_assert (json_parser_load_from_data (parser, g_bytes_get_data (body, NULL), (gssize) g_bytes_get_size (body), NULL));
  return json_node_get_object (json_parser_get_root (parser));
}

START_TEST (test_serve)
{
  g_autoptr (TestDir) d = test_dir_new ();
  g_autofree gchar *dir = init_backend (d, "vendor");
  g_autofree gchar *rel = make_release (d, "rel", "2611211200", 70000);
  g_autofree gchar *out = NULL;
  g_autofree gchar *err = NULL;
  g_autoptr (Server) s = NULL;
  g_autoptr (SoupSession) session = kith_test_session_new ();
  g_autoptr (GBytes) catalog = NULL;
  g_autoptr (GBytes) catalog_file = NULL;
  g_autoptr (GBytes) sig = NULL;
  g_autoptr (GBytes) sig_file = NULL;
  g_autoptr (GBytes) head = NULL;
  g_autoptr (GBytes) part = NULL;
  g_autoptr (GBytes) whole = NULL;
  g_autoptr (GBytes) missing = NULL;
  g_autoptr (GBytes) escape = NULL;
  g_autoptr (GBytes) beyond = NULL;
  g_autoptr (GBytes) file = NULL;
  g_autoptr (SoupMessage) head_msg = NULL;
  g_autoptr (SoupMessage) part_msg = NULL;
  g_autoptr (JsonParser) parser = json_parser_new ();
  g_autoptr (KithCatalog) cat = NULL;
  g_autoptr (GError) error = NULL;
  g_autofree gchar *anchor = g_build_filename (dir, "ca.pem", NULL);
  const gchar *path = "/files/avdat-2611211200.cab";
  JsonObject *stats;
  guint status = 0;

  ck_assert_int_eq (run_backend (&out, &err, "publish", dir, rel, NULL), 0);
  s = server_start (dir, "0", NULL, NULL);
  ck_assert_ptr_nonnull (s);

  /* what an agent does: catalog and signature from the base URL, verified */
  catalog = http (session, "GET", s, "/catalog.json", NULL, &status, NULL);
  ck_assert_uint_eq (status, 200);
  catalog_file = read_bytes (dir, "public/catalog.json");
  ck_assert (g_bytes_equal (catalog, catalog_file));
  sig = http (session, "GET", s, "/catalog.json.sig", NULL, &status, NULL);
  ck_assert_uint_eq (status, 200);
  sig_file = read_bytes (dir, "public/catalog.json.sig");
  ck_assert (g_bytes_equal (sig, sig_file));
  cat = kith_catalog_verify (catalog, sig, anchor, now_s (), 0, &error);
  ck_assert_msg (cat != NULL, "%s", error ? error->message : "");

  file = read_bytes (dir, "public/files/avdat-2611211200.cab");
  head = http (session, "HEAD", s, path, NULL, &status, &head_msg);
  ck_assert_uint_eq (status, 200);
  ck_assert_uint_eq (g_bytes_get_size (head), 0);
  ck_assert_int_eq (soup_message_headers_get_content_length (soup_message_get_response_headers (head_msg)), 70000);
  ck_assert_str_eq (soup_message_headers_get_one (soup_message_get_response_headers (head_msg), "Accept-Ranges"), "bytes");

  part = http (session, "GET", s, path, "bytes=1000-1999", &status, &part_msg);
  ck_assert_uint_eq (status, 206);
  ck_assert_uint_eq (g_bytes_get_size (part), 1000);
  ck_assert (memcmp (g_bytes_get_data (part, NULL), (const guint8 *) g_bytes_get_data (file, NULL) + 1000, 1000) == 0);
  ck_assert_str_eq (soup_message_headers_get_one (soup_message_get_response_headers (part_msg), "Content-Range"),
                    "bytes 1000-1999/70000");

  whole = http (session, "GET", s, path, NULL, &status, NULL);
  ck_assert_uint_eq (status, 200);
  ck_assert (g_bytes_equal (whole, file));

  beyond = http (session, "GET", s, path, "bytes=70000-", &status, NULL);
  ck_assert_uint_eq (status, 416);
  missing = http (session, "GET", s, "/files/avdat-1.cab", NULL, &status, NULL);
  ck_assert_uint_eq (status, 404);
  escape = http (session, "GET", s, "/files/..%2Fca-key.pem", NULL, &status, NULL);
  ck_assert_uint_ge (status, 400);
  ck_assert_uint_lt (status, 500);
  ck_assert (g_bytes_get_size (escape) == 0 ||
             g_strstr_len (g_bytes_get_data (escape, NULL), (gssize) g_bytes_get_size (escape), "PRIVATE") == NULL);

  stats = fetch_stats (session, s, parser);
  /* HEAD, range, whole, unsatisfiable range */
  ck_assert_int_eq (stats_get (stats, path, "requests"), 4);
  ck_assert_int_eq (stats_get (stats, path, "bytes"), 1000 + 70000);
  ck_assert_int_eq (stats_get (stats, "/catalog.json", "bytes"), (gint64) g_bytes_get_size (catalog_file));
  ck_assert_int_eq (json_object_get_int_member (stats, "total_bytes"),
                    71000 + (gint64) g_bytes_get_size (catalog_file) + (gint64) g_bytes_get_size (sig_file));
  ck_assert (!json_object_has_member (json_object_get_object_member (stats, "paths"), "/files/avdat-1.cab"));
}
END_TEST

START_TEST (test_serve_port_in_use)
{
  g_autoptr (TestDir) d = test_dir_new ();
  g_autofree gchar *dir = init_backend (d, "vendor");
  g_autoptr (Server) first = NULL;
  g_autofree gchar *err = NULL;
  Server *second;
  const gchar *port;

  first = server_start (dir, "0", NULL, NULL);
  ck_assert_ptr_nonnull (first);
  port = strrchr (first->url, ':') + 1;
  second = server_start (dir, port, NULL, &err);
  ck_assert_ptr_null (second);
  ck_assert_msg (err != NULL && strstr (err, "already in use") != NULL, "stderr: %s", err);
}
END_TEST

typedef struct {
  gint64 start;
  gint64 end;
  gsize size;
  guint status;
  gboolean done;
} Fetch;

static void
fetch_cb (GObject *source, GAsyncResult *res, gpointer user_data)
{
  Fetch *f = user_data;
  g_autoptr (GError) error = NULL;
  g_autoptr (GBytes) body = soup_session_send_and_read_finish (SOUP_SESSION (source), res, &error);
  SoupMessage *msg = soup_session_get_async_result_message (SOUP_SESSION (source), res);

  f->end = g_get_monotonic_time ();
  f->size = body != NULL ? g_bytes_get_size (body) : 0;
  f->status = soup_message_get_status (msg);
  f->done = TRUE;
}

/* GETs @path with @n clients at once (a session each, so each has its own connection). */
static void
fetch_concurrently (Server *s, const gchar *path, Fetch *fetches, guint n)
{
  g_autofree gchar *url = g_strconcat (s->url, path, NULL);
  g_autoptr (GPtrArray) sessions = g_ptr_array_new_with_free_func (g_object_unref);
  gboolean all = FALSE;
  gboolean timed_out = FALSE;
  guint id;

  for (guint i = 0; i < n; i++) {
    g_autoptr (SoupMessage) msg = soup_message_new ("GET", url);
    SoupSession *session = kith_test_session_new ();
    g_ptr_array_add (sessions, session);
    fetches[i].start = g_get_monotonic_time ();
    soup_session_send_and_read_async (session, msg, G_PRIORITY_DEFAULT, NULL, fetch_cb, &fetches[i]);
  }
  id = g_timeout_add_seconds (TEST_TIMEOUT_S, kith_test_timeout_cb, &timed_out);
  while (!all && !timed_out) {
    g_main_context_iteration (NULL, TRUE);
    all = TRUE;
    for (guint i = 0; i < n; i++)
      all = all && fetches[i].done;
  }
  if (!timed_out)
    g_source_remove (id);
  ck_assert_msg (all, "downloads did not finish");
}

START_TEST (test_rate_limit)
{
  g_autoptr (TestDir) d = test_dir_new ();
  g_autofree gchar *dir = init_backend (d, "vendor");
  g_autofree gchar *rel = make_release (d, "rel", "2611211200", 200000);
  g_autofree gchar *out = NULL;
  g_autofree gchar *err = NULL;
  g_autoptr (Server) s = NULL;
  g_autoptr (SoupSession) session = kith_test_session_new ();
  g_autoptr (JsonParser) parser = json_parser_new ();
  const gchar *path = "/files/avdat-2611211200.cab";
  Fetch one[1] = { { 0 } };
  Fetch two[2] = { { 0 } };
  gdouble t1, t2a, t2b, t2;
  JsonObject *stats;

  ck_assert_int_eq (run_backend (&out, &err, "publish", dir, rel, NULL), 0);
  s = server_start (dir, "0", "100000", NULL);
  ck_assert_ptr_nonnull (s);

  /* one client alone: 200 kB at 100 kB/s, less the initial burst of one chunk */
  fetch_concurrently (s, path, one, 1);
  ck_assert_uint_eq (one[0].status, 200);
  ck_assert_uint_eq (one[0].size, 200000);
  t1 = (gdouble) (one[0].end - one[0].start) / G_USEC_PER_SEC;
  g_printerr ("rate limit: one client 200000 bytes in %.2f s\n", t1);
  ck_assert_msg (t1 >= 1.5 && t1 <= 6.0, "one client took %.2f s", t1);

  /* two clients share the one uplink: each takes about twice as long */
  fetch_concurrently (s, path, two, 2);
  ck_assert_uint_eq (two[0].size, 200000);
  ck_assert_uint_eq (two[1].size, 200000);
  t2a = (gdouble) (two[0].end - two[0].start) / G_USEC_PER_SEC;
  t2b = (gdouble) (two[1].end - two[1].start) / G_USEC_PER_SEC;
  t2 = (gdouble) (MAX (two[0].end, two[1].end) - MIN (two[0].start, two[1].start)) / G_USEC_PER_SEC;
  g_printerr ("rate limit: two clients %.2f s and %.2f s, 400000 bytes in %.2f s (%.0f B/s)\n", t2a, t2b, t2,
              400000 / t2);
  ck_assert_msg (t2 >= 3.3, "400 kB at 100 kB/s took only %.2f s", t2);
  ck_assert_msg (400000 / t2 <= 100000 * 1.15, "aggregate %.0f B/s exceeds the limit", 400000 / t2);
  /* neither client got the uplink to itself (alone it would take ~2 s) */
  ck_assert_msg (MIN (t2a, t2b) >= 3.0, "a client finished in %.2f s: the rate is not shared", MIN (t2a, t2b));

  stats = fetch_stats (session, s, parser);
  ck_assert_int_eq (stats_get (stats, path, "requests"), 3);
  ck_assert_int_eq (stats_get (stats, path, "bytes"), 600000);
}
END_TEST

START_TEST (test_rate_limit_client_gone)
{
  g_autoptr (TestDir) d = test_dir_new ();
  g_autofree gchar *dir = init_backend (d, "vendor");
  g_autofree gchar *rel = make_release (d, "rel", "2611211200", 200000);
  g_autofree gchar *out = NULL;
  g_autofree gchar *err = NULL;
  g_autofree gchar *url = NULL;
  g_autoptr (Server) s = NULL;
  g_autoptr (SoupSession) session = kith_test_session_new ();
  g_autoptr (SoupSession) gone = kith_test_session_new ();
  g_autoptr (SoupMessage) msg = NULL;
  g_autoptr (GInputStream) stream = NULL;
  g_autoptr (GError) error = NULL;
  g_autoptr (GBytes) whole = NULL;
  g_autoptr (JsonParser) parser = json_parser_new ();
  const gchar *path = "/files/avdat-2611211200.cab";
  guint8 buf[4096];
  gssize n;
  gsize got = 0;
  guint status = 0;
  JsonObject *stats;

  ck_assert_int_eq (run_backend (&out, &err, "publish", dir, rel, NULL), 0);
  s = server_start (dir, "0", "100000", NULL);
  ck_assert_ptr_nonnull (s);
  url = g_strconcat (s->url, path, NULL);
  msg = soup_message_new ("GET", url);
  stream = soup_session_send (gone, msg, NULL, &error);
  ck_assert_msg (stream != NULL, "%s", error ? error->message : "");
  /* the client gives up mid-body, as an agent does when a peer answers first */
  while (got < 20000 && (n = g_input_stream_read (stream, buf, sizeof (buf), NULL, NULL)) > 0)
    got += (gsize) n;
  ck_assert_uint_ge (got, 20000);
  g_clear_object (&stream);
  g_clear_object (&gone);

  /* the server carries on: the next client gets the whole file */
  whole = http (session, "GET", s, path, NULL, &status, NULL);
  ck_assert_uint_eq (status, 200);
  ck_assert_uint_eq (g_bytes_get_size (whole), 200000);
  stats = fetch_stats (session, s, parser);
  ck_assert_int_eq (stats_get (stats, path, "requests"), 2);
  ck_assert_int_lt (stats_get (stats, path, "bytes"), 400000);
  ck_assert_int_ge (stats_get (stats, path, "bytes"), 200000);
}
END_TEST

static Suite *
backend_suite (void)
{
  Suite *s = suite_create ("backend");
  TCase *tc = tcase_create ("backend");

  tcase_set_timeout (tc, 60);
  tcase_add_test (tc, test_init);
  tcase_add_test (tc, test_init_refuses_nonempty);
  tcase_add_test (tc, test_publish_versions);
  tcase_add_test (tc, test_publish_tree);
  tcase_add_test (tc, test_catalog_rejected);
  tcase_add_test (tc, test_catalog_parse_errors);
  tcase_add_test (tc, test_publish_pieces);
  tcase_add_test (tc, test_catalog_bad_pieces);
  tcase_add_test (tc, test_crypto_node_cert);
  tcase_add_test (tc, test_cli_errors);
  tcase_add_test (tc, test_sample_release);
  tcase_add_test (tc, test_serve);
  tcase_add_test (tc, test_serve_port_in_use);
  tcase_add_test (tc, test_rate_limit);
  tcase_add_test (tc, test_rate_limit_client_gone);
  suite_add_tcase (s, tc);
  return s;
}

int
main (void)
{
  return kith_test_run_suite (backend_suite ());
}
