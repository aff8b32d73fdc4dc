/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* test-alias-store.c — KithAliasStore: writing, verification, persistence, LRU, expiry */
#include <check.h>

#include "kith-test-suite.h"
#include "kith-test-util.h"
#include <errno.h>
#include <string.h>

#include <gio/gio.h>
#include <glib/gstdio.h>

#include "kith-alias-store.h"
#include "kith-peering-error.h"
#include "kith-sha256.h"

#define WAIT_TIMEOUT_S 10

static gchar *tmp_dir;
static gint64 fake_now;

static gint64
fake_clock (gpointer user_data)
{
  return fake_now;
}

static void
setup (void)
{
  tmp_dir = g_dir_make_tmp ("kith-alias-store-XXXXXX", NULL);
  ck_assert_ptr_nonnull (tmp_dir);
  fake_now = 1000000;
}

static void
teardown (void)
{
  kith_test_rm_rf (tmp_dir);
  g_clear_pointer (&tmp_dir, g_free);
}

/* Iterates the main context until the store has verified its files, failing after a bound. */
static void
wait_verified (KithAliasStore *store)
{
  gboolean timed_out = FALSE;
  guint id = g_timeout_add_seconds (WAIT_TIMEOUT_S, kith_test_timeout_cb, &timed_out);

  while (kith_alias_store_is_verifying (store) && !timed_out)
    g_main_context_iteration (NULL, TRUE);
  ck_assert_msg (!timed_out, "verification did not finish");
  g_source_remove (id);
}

static KithAliasStore *
open_store (guint64 max_bytes, guint64 max_age_ms)
{
  g_autoptr (GError) error = NULL;
  KithAliasStore *store = kith_alias_store_new (tmp_dir, max_bytes, max_age_ms, &error);

  ck_assert_msg (store != NULL, "%s", error != NULL ? error->message : "");
  kith_alias_store_set_clock (store, fake_clock, NULL);
  return store;
}

/* Bytes that differ per @seed, so files of the same size have different hashes. */
static GBytes *
make_data (gsize len, guint seed)
{
  guint8 *buf = g_malloc (len);
  for (gsize i = 0; i < len; i++)
    buf[i] = (guint8) ((i * 31 + seed * 7 + (i >> 8)) & 0xff);
  return g_bytes_new_take (buf, len);
}

static gchar *
sha_of (GBytes *data)
{
  return g_compute_checksum_for_bytes (G_CHECKSUM_SHA256, data);
}

static KithAliasEntry *
put (KithAliasStore *store, const gchar *href, GBytes *data)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (KithAliasWriter) writer = kith_alias_store_begin (store, href, NULL, 0, &error);
  KithAliasEntry *entry;

  ck_assert_msg (writer != NULL, "%s", error != NULL ? error->message : "");
  ck_assert (kith_alias_writer_write (writer, g_bytes_get_data (data, NULL),
                                      g_bytes_get_size (data), &error));
  entry = kith_alias_writer_commit (writer, &error);
  ck_assert_msg (entry != NULL, "%s", error != NULL ? error->message : "");
  return entry;
}

/* Names in the cache dir other than the index. */
static guint
count_files (void)
{
  g_autoptr (GDir) dir = g_dir_open (tmp_dir, 0, NULL);
  const gchar *name;
  guint n = 0;

  while ((name = g_dir_read_name (dir)) != NULL) {
    if (g_strcmp0 (name, "index.json") != 0)
      n++;
  }
  return n;
}

static void
changed_cb (KithAliasStore *store, gpointer user_data)
{
  (*(guint *) user_data)++;
}

START_TEST (test_write_commit_lookup)
{
  g_autoptr (KithAliasStore) store = open_store (0, 0);
  g_autoptr (GBytes) data = make_data (100000, 1);
  g_autofree gchar *sha = sha_of (data);
  g_autoptr (GError) error = NULL;
  g_autoptr (KithAliasWriter) writer = NULL;
  g_autoptr (KithAliasEntry) entry = NULL;
  g_autoptr (KithAliasEntry) by_href = NULL;
  g_autoptr (KithAliasEntry) by_sha = NULL;
  g_autoptr (KithAliasEntry) second = NULL;
  g_autoptr (GPtrArray) entries = NULL;
  g_autofree gchar *contents = NULL;
  g_autofree gchar *upper = g_ascii_strup (sha, -1);
  g_autofree gchar *final_path = g_build_filename (tmp_dir, sha, NULL);
  const guint8 *raw = g_bytes_get_data (data, NULL);
  gsize len = 0;
  guint changed = 0;

  g_signal_connect (store, "changed", G_CALLBACK (changed_cb), &changed);
  writer = kith_alias_store_begin (store, "http://o.example/a.cab", upper, 100000, &error);
  ck_assert_ptr_nonnull (writer);
  ck_assert (kith_alias_writer_write (writer, raw, 40000, &error));
  /* half-written: not visible, not under its final name */
  ck_assert_ptr_null (kith_alias_store_lookup_href (store, "http://o.example/a.cab"));
  ck_assert (!g_file_test (final_path, G_FILE_TEST_EXISTS));
  ck_assert_uint_eq (changed, 0);
  ck_assert (kith_alias_writer_write (writer, raw + 40000, 60000, &error));
  ck_assert_uint_eq (kith_alias_writer_get_size (writer), 100000);
  entry = kith_alias_writer_commit (writer, &error);
  ck_assert_msg (entry != NULL, "%s", error != NULL ? error->message : "");
  ck_assert_str_eq (entry->sha256, sha);
  ck_assert_uint_eq (entry->size, 100000);
  ck_assert_str_eq (entry->path, final_path);
  ck_assert_int_eq (entry->created, fake_now);
  ck_assert_uint_eq (changed, 1);

  ck_assert (g_file_get_contents (final_path, &contents, &len, NULL));
  ck_assert_uint_eq (len, 100000);
  ck_assert_mem_eq (contents, raw, len);

  by_href = kith_alias_store_lookup_href (store, "http://o.example/a.cab");
  ck_assert_ptr_nonnull (by_href);
  ck_assert_str_eq (by_href->sha256, sha);
  by_sha = kith_alias_store_lookup_sha256 (store, sha);
  ck_assert_ptr_nonnull (by_sha);
  ck_assert_str_eq (by_sha->href, "http://o.example/a.cab");
  ck_assert_ptr_null (kith_alias_store_lookup_href (store, "http://o.example/other"));
  ck_assert_ptr_null (kith_alias_store_lookup_sha256 (store, "00"));

  /* the same bytes under a second href share the file */
  second = put (store, "http://mirror.example/a.cab", data);
  ck_assert_str_eq (second->sha256, sha);
  ck_assert_uint_eq (kith_alias_store_get_total_bytes (store), 100000);
  ck_assert_uint_eq (count_files (), 1);
  entries = kith_alias_store_get_entries (store);
  ck_assert_uint_eq (entries->len, 2);
}
END_TEST

START_TEST (test_hash_mismatch)
{
  g_autoptr (KithAliasStore) store = open_store (0, 0);
  g_autoptr (GBytes) data = make_data (5000, 2);
  g_autoptr (GBytes) other = make_data (5000, 3);
  g_autofree gchar *wrong = sha_of (other);
  g_autoptr (GError) error = NULL;
  g_autoptr (KithAliasWriter) writer = NULL;
  g_autoptr (KithAliasWriter) short_writer = NULL;
  g_autoptr (KithAliasEntry) entry = NULL;
  g_autoptr (KithAliasEntry) entry2 = NULL;

  writer = kith_alias_store_begin (store, "http://o.example/x", wrong, 0, &error);
  ck_assert_ptr_nonnull (writer);
  ck_assert (kith_alias_writer_write (writer, g_bytes_get_data (data, NULL), 5000, &error));
  entry = kith_alias_writer_commit (writer, &error);
  ck_assert_ptr_null (entry);
  ck_assert (g_error_matches (error, KITH_PEERING_ERROR, KITH_PEERING_ERROR_HASH_MISMATCH));
  /* rejected bytes leave nothing behind, even before the writer is freed */
  ck_assert_uint_eq (count_files (), 0);
  ck_assert_ptr_null (kith_alias_store_lookup_href (store, "http://o.example/x"));
  g_clear_error (&error);

  /* a size that differs from the announced one is rejected the same way */
  short_writer = kith_alias_store_begin (store, "http://o.example/y", NULL, 6000, &error);
  ck_assert (kith_alias_writer_write (short_writer, g_bytes_get_data (data, NULL), 5000, &error));
  entry2 = kith_alias_writer_commit (short_writer, &error);
  ck_assert_ptr_null (entry2);
  ck_assert (g_error_matches (error, KITH_PEERING_ERROR, KITH_PEERING_ERROR_HASH_MISMATCH));
  ck_assert_uint_eq (count_files (), 0);
  ck_assert_uint_eq (kith_alias_store_get_total_bytes (store), 0);
  g_clear_error (&error);

  /* a malformed expected digest is refused up front */
  ck_assert_ptr_null (kith_alias_store_begin (store, "http://o.example/z", "abc", 0, &error));
  ck_assert (g_error_matches (error, KITH_PEERING_ERROR, KITH_PEERING_ERROR_FAILED));
}
END_TEST

START_TEST (test_abort)
{
  g_autoptr (KithAliasStore) store = open_store (0, 0);
  g_autoptr (GBytes) data = make_data (3000, 4);
  g_autoptr (GError) error = NULL;
  KithAliasWriter *writer = kith_alias_store_begin (store, "http://o.example/ab", NULL, 0, &error);

  ck_assert_ptr_nonnull (writer);
  ck_assert (kith_alias_writer_write (writer, g_bytes_get_data (data, NULL), 3000, &error));
  ck_assert_uint_eq (count_files (), 1); /* the partial file */
  kith_alias_writer_free (writer);
  ck_assert_uint_eq (count_files (), 0);
  ck_assert_ptr_null (kith_alias_store_lookup_href (store, "http://o.example/ab"));
}
END_TEST

START_TEST (test_restart)
{
  g_autoptr (GBytes) a = make_data (7000, 5);
  g_autoptr (GBytes) b = make_data (9000, 6);
  g_autofree gchar *sha_a = sha_of (a);
  g_autofree gchar *sha_b = sha_of (b);
  g_autoptr (KithAliasStore) again = NULL;
  g_autoptr (KithAliasEntry) ea = NULL;
  g_autoptr (KithAliasEntry) eb = NULL;
  g_autofree gchar *partial = g_build_filename (tmp_dir, ".partial-ZZZZZZ", NULL);

  {
    g_autoptr (KithAliasStore) store = open_store (0, 0);
    kith_alias_entry_free (put (store, "http://o.example/a", a));
    fake_now += 10;
    kith_alias_entry_free (put (store, "http://o.example/b", b));
    fake_now += 10;
    kith_alias_store_touch (store, sha_a); /* saved lazily, flushed on dispose */
  }
  ck_assert (g_file_set_contents (partial, "crash leftover", -1, NULL));

  again = open_store (0, 0);
  ck_assert (!g_file_test (partial, G_FILE_TEST_EXISTS));
  ck_assert_uint_eq (kith_alias_store_get_total_bytes (again), 16000);
  /* nothing is visible before the worker has confirmed the digests */
  ck_assert (kith_alias_store_is_verifying (again));
  ck_assert_ptr_null (kith_alias_store_lookup_href (again, "http://o.example/a"));
  wait_verified (again);

  ea = kith_alias_store_lookup_href (again, "http://o.example/a");
  eb = kith_alias_store_lookup_href (again, "http://o.example/b");
  ck_assert_ptr_nonnull (ea);
  ck_assert_ptr_nonnull (eb);
  ck_assert_str_eq (ea->sha256, sha_a);
  ck_assert_str_eq (eb->sha256, sha_b);
  ck_assert_int_eq (ea->created, 1000000);
  ck_assert_int_eq (ea->last_access, 1000020);
  ck_assert_int_eq (eb->created, 1000010);
}
END_TEST

START_TEST (test_startup_drops_bad_files)
{
  g_autoptr (GBytes) good = make_data (4000, 7);
  g_autoptr (GBytes) gone = make_data (4000, 8);
  g_autoptr (GBytes) trunc = make_data (4000, 9);
  g_autoptr (GBytes) flipped = make_data (4000, 10);
  g_autofree gchar *sha_flipped = sha_of (flipped);
  g_autofree gchar *path_gone = NULL;
  g_autofree gchar *path_trunc = NULL;
  g_autofree gchar *path_flipped = g_build_filename (tmp_dir, sha_flipped, NULL);
  g_autoptr (KithAliasStore) again = NULL;
  g_autoptr (KithAliasEntry) survivor = NULL;
  g_autoptr (GPtrArray) entries = NULL;
  g_autoptr (GBytes) corrupt = NULL;
  guint8 *bad;

  {
    g_autoptr (KithAliasStore) store = open_store (0, 0);
    g_autoptr (KithAliasEntry) e2 = NULL;
    g_autoptr (KithAliasEntry) e3 = NULL;
    kith_alias_entry_free (put (store, "http://o.example/good", good));
    e2 = put (store, "http://o.example/gone", gone);
    e3 = put (store, "http://o.example/trunc", trunc);
    kith_alias_entry_free (put (store, "http://o.example/flipped", flipped));
    path_gone = g_strdup (e2->path);
    path_trunc = g_strdup (e3->path);
  }
  ck_assert_int_eq (g_unlink (path_gone), 0);
  ck_assert (g_file_set_contents (path_trunc, "short", -1, NULL));
  /* same size, one byte different: only a re-hash can tell */
  bad = g_memdup2 (g_bytes_get_data (flipped, NULL), 4000);
  bad[1234] ^= 0x40;
  corrupt = g_bytes_new_take (bad, 4000);
  ck_assert (g_file_set_contents (path_flipped, g_bytes_get_data (corrupt, NULL), 4000, NULL));

  again = open_store (0, 0);
  /* missing and truncated files are dropped at once, by size */
  ck_assert_uint_eq (kith_alias_store_get_total_bytes (again), 8000);
  ck_assert (!g_file_test (path_trunc, G_FILE_TEST_EXISTS));
  wait_verified (again);
  /* the same-size corruption is caught by the startup re-hash */
  ck_assert_uint_eq (kith_alias_store_get_total_bytes (again), 4000);
  ck_assert (!g_file_test (path_flipped, G_FILE_TEST_EXISTS));
  ck_assert_ptr_null (kith_alias_store_lookup_href (again, "http://o.example/flipped"));
  survivor = kith_alias_store_lookup_href (again, "http://o.example/good");
  ck_assert_ptr_nonnull (survivor);
  entries = kith_alias_store_get_entries (again);
  ck_assert_uint_eq (entries->len, 1);
  ck_assert_uint_eq (count_files (), 1);
}
END_TEST

START_TEST (test_corrupt_index)
{
  g_autofree gchar *index = g_build_filename (tmp_dir, "index.json", NULL);
  g_autoptr (KithAliasStore) store = NULL;
  g_autoptr (GBytes) data = make_data (100, 11);
  g_autoptr (KithAliasEntry) entry = NULL;

  ck_assert (g_file_set_contents (index, "{\"version\":1,\"files\":[{\"sha256\":42},[],\"x\"", -1,
                                  NULL));
  store = open_store (0, 0);
  ck_assert_uint_eq (kith_alias_store_get_total_bytes (store), 0);
  ck_assert (!kith_alias_store_is_verifying (store));
  entry = put (store, "http://o.example/after", data);
  ck_assert_ptr_nonnull (entry);

  /* records of the wrong shape inside a valid index are skipped one by one */
  g_clear_object (&store);
  ck_assert (g_file_set_contents (index,
                                  "{\"version\":1,\"files\":[{\"sha256\":42},[],\"x\","
                                  "{\"sha256\":\"zz\",\"size\":1,\"hrefs\":[\"h\"]}]}",
                                  -1, NULL));
  store = open_store (0, 0);
  ck_assert_ptr_null (kith_alias_store_lookup_href (store, "h"));
  /* no record was taken; the file "after" left behind is adopted (see test_index_heals) */
  ck_assert_uint_eq (kith_alias_store_get_total_bytes (store), g_bytes_get_size (data));
}
END_TEST

/* A truncated index: whole records are salvaged with their hrefs, the other files are
 * adopted by sha256 once they re-hash; a stray that does not match its name is dropped. */
START_TEST (test_index_heals)
{
  g_autofree gchar *index = g_build_filename (tmp_dir, "index.json", NULL);
  g_autoptr (GBytes) one = make_data (3000, 31);
  g_autoptr (GBytes) two = make_data (5000, 32);
  g_autoptr (GBytes) liar = make_data (700, 33);
  g_autofree gchar *sha_one = sha_of (one);
  g_autofree gchar *sha_two = sha_of (two);
  g_autofree gchar *liar_path = g_build_filename (tmp_dir, sha_one, NULL);
  g_autofree gchar *fake_name = NULL;
  g_autofree gchar *text = NULL;
  g_autoptr (KithAliasStore) again = NULL;
  g_autoptr (KithAliasEntry) e1 = NULL;
  g_autoptr (KithAliasEntry) e2 = NULL;
  g_autoptr (KithAliasEntry) h1 = NULL;
  g_autoptr (KithAliasEntry) h2 = NULL;
  gsize len = 0;

  {
    g_autoptr (KithAliasStore) store = open_store (0, 0);
    kith_alias_entry_free (put (store, "http://o.example/one", one));
    kith_alias_entry_free (put (store, "http://o.example/two", two));
  }
  /* cut the index in the middle of its second record */
  ck_assert (g_file_get_contents (index, &text, &len, NULL));
  ck_assert (g_file_set_contents (index, text, (gssize) (len - 12), NULL));
  /* and a stray whose bytes do not match its name */
  fake_name = g_strdup (sha_one);
  fake_name[0] = fake_name[0] == 'a' ? 'b' : 'a';
  g_free (liar_path);
  liar_path = g_build_filename (tmp_dir, fake_name, NULL);
  ck_assert (g_file_set_contents (liar_path, g_bytes_get_data (liar, NULL), 700, NULL));

  again = open_store (0, 0);
  wait_verified (again);
  ck_assert (!g_file_test (liar_path, G_FILE_TEST_EXISTS));
  ck_assert_uint_eq (kith_alias_store_get_total_bytes (again), 8000);
  e1 = kith_alias_store_lookup_sha256 (again, sha_one);
  e2 = kith_alias_store_lookup_sha256 (again, sha_two);
  ck_assert_ptr_nonnull (e1);
  ck_assert_ptr_nonnull (e2);
  /* the record that stayed whole keeps its href */
  h1 = kith_alias_store_lookup_href (again, "http://o.example/one");
  h2 = kith_alias_store_lookup_href (again, "http://o.example/two");
  ck_assert (h1 != NULL || h2 != NULL);
  ck_assert_uint_eq (count_files (), 2);
}
END_TEST

/* An index whose records name the same href (edited by hand, or written by an older
 * version): the first record naming it keeps it, and a record left with none is dropped
 * with its file. */
START_TEST (test_index_href_claimed_once)
{
  g_autofree gchar *index = g_build_filename (tmp_dir, "index.json", NULL);
  g_autoptr (GBytes) a = make_data (400, 41);
  g_autoptr (GBytes) b = make_data (500, 42);
  g_autoptr (GBytes) c = make_data (600, 43);
  g_autofree gchar *sha_a = sha_of (a);
  g_autofree gchar *sha_b = sha_of (b);
  g_autofree gchar *sha_c = sha_of (c);
  g_autofree gchar *path_b = g_build_filename (tmp_dir, sha_b, NULL);
  g_autofree gchar *text = NULL;
  g_autoptr (KithAliasStore) store = NULL;
  g_autoptr (KithAliasEntry) shared = NULL;
  g_autoptr (KithAliasEntry) own = NULL;
  g_autoptr (KithAliasEntry) rest = NULL;
  g_autoptr (GPtrArray) entries = NULL;
  GBytes *all[] = { a, b, c };
  const gchar *shas[] = { sha_a, sha_b, sha_c };

  for (guint i = 0; i < G_N_ELEMENTS (all); i++) {
    g_autofree gchar *path = g_build_filename (tmp_dir, shas[i], NULL);
    ck_assert (g_file_set_contents (path, g_bytes_get_data (all[i], NULL),
                                    (gssize) g_bytes_get_size (all[i]), NULL));
  }
  text = g_strdup_printf ("{\"version\":1,\"files\":["
                          "{\"sha256\":\"%s\",\"size\":400,\"created\":1,\"last-access\":1,"
                          "\"hrefs\":[\"http://o.example/s\",\"http://o.example/a\"]},"
                          "{\"sha256\":\"%s\",\"size\":500,\"created\":1,\"last-access\":1,"
                          "\"hrefs\":[\"http://o.example/s\"]},"
                          "{\"sha256\":\"%s\",\"size\":600,\"created\":1,\"last-access\":1,"
                          "\"hrefs\":[\"http://o.example/a\",\"http://o.example/c\"]}]}",
                          sha_a, sha_b, sha_c);
  ck_assert (g_file_set_contents (index, text, -1, NULL));

  store = open_store (0, 0);
  wait_verified (store);
  shared = kith_alias_store_lookup_href (store, "http://o.example/s");
  own = kith_alias_store_lookup_href (store, "http://o.example/a");
  rest = kith_alias_store_lookup_href (store, "http://o.example/c");
  ck_assert_ptr_nonnull (shared);
  ck_assert_ptr_nonnull (own);
  ck_assert_ptr_nonnull (rest);
  ck_assert_str_eq (shared->sha256, sha_a);
  ck_assert_str_eq (own->sha256, sha_a);
  ck_assert_str_eq (rest->sha256, sha_c);
  ck_assert_ptr_null (kith_alias_store_lookup_sha256 (store, sha_b));
  ck_assert (!g_file_test (path_b, G_FILE_TEST_EXISTS));
  ck_assert_uint_eq (kith_alias_store_get_total_bytes (store), 1000);
  entries = kith_alias_store_get_entries (store);
  ck_assert_uint_eq (entries->len, 3);
}
END_TEST

/* A record whose sha256 is not lower-case hex (the one hex rule, kith-hex.h) is malformed:
 * refused at load, with its href, whether its file is named as the record says or by the
 * lower-case hash (then adopted by sha256 as any file the index lost); the records around
 * it are whole. */
START_TEST (test_index_upper_case_refused)
{
  g_autofree gchar *index = g_build_filename (tmp_dir, "index.json", NULL);
  g_autoptr (GBytes) a = make_data (400, 51);
  g_autoptr (GBytes) b = make_data (500, 52);
  g_autoptr (GBytes) c = make_data (600, 53);
  g_autoptr (GBytes) d = make_data (700, 54);
  g_autofree gchar *sha_a = sha_of (a);
  g_autofree gchar *sha_b = sha_of (b);
  g_autofree gchar *sha_c = sha_of (c);
  g_autofree gchar *sha_d = sha_of (d);
  g_autofree gchar *upper_b = g_ascii_strup (sha_b, -1);
  g_autofree gchar *upper_d = g_ascii_strup (sha_d, -1);
  g_autofree gchar *text = NULL;
  g_autofree gchar *saved = NULL;
  g_autoptr (KithAliasStore) store = NULL;
  g_autoptr (KithAliasEntry) ea = NULL;
  g_autoptr (KithAliasEntry) ec = NULL;
  g_autoptr (KithAliasEntry) ed = NULL;
  g_autoptr (GPtrArray) entries = NULL;
  /* b's file is named as its record says, d's by its lower-case hash */
  GBytes *all[] = { a, b, c, d };
  const gchar *names[] = { sha_a, upper_b, sha_c, sha_d };

  for (guint i = 0; i < G_N_ELEMENTS (all); i++) {
    g_autofree gchar *path = g_build_filename (tmp_dir, names[i], NULL);
    ck_assert (g_file_set_contents (path, g_bytes_get_data (all[i], NULL),
                                    (gssize) g_bytes_get_size (all[i]), NULL));
  }
  text = g_strdup_printf ("{\"version\":1,\"files\":["
                          "{\"sha256\":\"%s\",\"size\":400,\"hrefs\":[\"http://o.example/a\"]},"
                          "{\"sha256\":\"%s\",\"size\":500,\"hrefs\":[\"http://o.example/b\"]},"
                          "{\"sha256\":\"%s\",\"size\":600,\"hrefs\":[\"http://o.example/c\"]},"
                          "{\"sha256\":\"%s\",\"size\":700,\"hrefs\":[\"http://o.example/d\"]}]}",
                          sha_a, upper_b, sha_c, upper_d);
  ck_assert (g_file_set_contents (index, text, -1, NULL));

  store = open_store (0, 0);
  /* before any re-hash: a, c and d's adopted file (b's record was taken as written before) */
  ck_assert_uint_eq (kith_alias_store_get_total_bytes (store), 400 + 600 + 700);
  wait_verified (store);
  ea = kith_alias_store_lookup_href (store, "http://o.example/a");
  ec = kith_alias_store_lookup_href (store, "http://o.example/c");
  ck_assert_ptr_nonnull (ea);
  ck_assert_ptr_nonnull (ec);
  ck_assert_str_eq (ea->sha256, sha_a);
  ck_assert_str_eq (ec->sha256, sha_c);
  ck_assert_ptr_null (kith_alias_store_lookup_href (store, "http://o.example/b"));
  ck_assert_ptr_null (kith_alias_store_lookup_href (store, "http://o.example/d"));
  ck_assert_ptr_null (kith_alias_store_lookup_sha256 (store, upper_b));
  ck_assert_ptr_null (kith_alias_store_lookup_sha256 (store, sha_b));
  /* d's bytes are kept, by their hash and without the refused record's href */
  ed = kith_alias_store_lookup_sha256 (store, sha_d);
  ck_assert_ptr_nonnull (ed);
  ck_assert_ptr_null (ed->href);
  entries = kith_alias_store_get_entries (store);
  ck_assert_uint_eq (entries->len, 2);
  /* the index written back names no upper-case hash */
  ck_assert (kith_alias_store_save (store, NULL));
  ck_assert (g_file_get_contents (index, &saved, NULL, NULL));
  ck_assert_ptr_null (strstr (saved, upper_b));
  ck_assert_ptr_null (strstr (saved, upper_d));
  ck_assert_ptr_nonnull (strstr (saved, sha_d));
}
END_TEST

START_TEST (test_lru_eviction)
{
  g_autoptr (KithAliasStore) store = open_store (3000, 0);
  g_autoptr (GBytes) a = make_data (1000, 12);
  g_autoptr (GBytes) b = make_data (1000, 13);
  g_autoptr (GBytes) c = make_data (1000, 14);
  g_autoptr (GBytes) d = make_data (1000, 15);
  g_autoptr (KithAliasEntry) ea = NULL;
  g_autoptr (KithAliasEntry) eb = NULL;
  g_autoptr (KithAliasEntry) ec = NULL;
  g_autoptr (KithAliasEntry) ed = NULL;
  g_autoptr (KithAliasEntry) la = NULL;
  g_autoptr (KithAliasEntry) lc = NULL;
  g_autoptr (KithAliasEntry) ld = NULL;

  ea = put (store, "http://o.example/a", a);
  fake_now++;
  eb = put (store, "http://o.example/b", b);
  fake_now++;
  ec = put (store, "http://o.example/c", c);
  fake_now++;
  kith_alias_store_touch (store, ea->sha256); /* a is now more recent than b */
  fake_now++;
  ed = put (store, "http://o.example/d", d);

  ck_assert_uint_eq (kith_alias_store_get_total_bytes (store), 3000);
  ck_assert_ptr_null (kith_alias_store_lookup_href (store, "http://o.example/b"));
  ck_assert (!g_file_test (eb->path, G_FILE_TEST_EXISTS));
  la = kith_alias_store_lookup_href (store, "http://o.example/a");
  lc = kith_alias_store_lookup_href (store, "http://o.example/c");
  ld = kith_alias_store_lookup_href (store, "http://o.example/d");
  ck_assert_ptr_nonnull (la);
  ck_assert_ptr_nonnull (lc);
  ck_assert_ptr_nonnull (ld);
}
END_TEST

START_TEST (test_oversize_kept_alone)
{
  g_autoptr (KithAliasStore) store = open_store (1500, 0);
  g_autoptr (GBytes) small = make_data (1000, 16);
  g_autoptr (GBytes) big = make_data (2000, 17);
  g_autoptr (KithAliasEntry) eb = NULL;
  g_autoptr (KithAliasEntry) lb = NULL;

  kith_alias_entry_free (put (store, "http://o.example/small", small));
  fake_now++;
  eb = put (store, "http://o.example/big", big);
  /* the file just added is never evicted, even alone over the budget */
  ck_assert_uint_eq (eb->size, 2000);
  lb = kith_alias_store_lookup_href (store, "http://o.example/big");
  ck_assert_ptr_nonnull (lb);
  ck_assert_ptr_null (kith_alias_store_lookup_href (store, "http://o.example/small"));
  ck_assert_uint_eq (kith_alias_store_get_total_bytes (store), 2000);
}
END_TEST

START_TEST (test_max_age)
{
  g_autoptr (KithAliasStore) store = open_store (0, 1000);
  g_autoptr (GBytes) data = make_data (500, 18);
  g_autoptr (KithAliasEntry) entry = put (store, "http://o.example/old", data);
  g_autoptr (KithAliasEntry) young = NULL;

  fake_now += 999;
  young = kith_alias_store_lookup_href (store, "http://o.example/old");
  ck_assert_ptr_nonnull (young);
  ck_assert_uint_eq (kith_alias_store_expire (store), 0);
  fake_now += 1;
  /* hidden as soon as it is too old, deleted by the next sweep */
  ck_assert_ptr_null (kith_alias_store_lookup_href (store, "http://o.example/old"));
  ck_assert_ptr_null (kith_alias_store_lookup_sha256 (store, entry->sha256));
  ck_assert (g_file_test (entry->path, G_FILE_TEST_EXISTS));
  ck_assert_uint_eq (kith_alias_store_expire (store), 1);
  ck_assert (!g_file_test (entry->path, G_FILE_TEST_EXISTS));
  ck_assert_uint_eq (kith_alias_store_get_total_bytes (store), 0);

  /* a commit also sweeps what has expired meanwhile */
  {
    g_autoptr (GBytes) d2 = make_data (300, 22);
    g_autoptr (GBytes) d3 = make_data (200, 23);
    g_autoptr (KithAliasEntry) e2 = put (store, "http://o.example/second", d2);
    g_autoptr (KithAliasEntry) e3 = NULL;
    fake_now += 1000;
    e3 = put (store, "http://o.example/third", d3);
    ck_assert (!g_file_test (e2->path, G_FILE_TEST_EXISTS));
    ck_assert (g_file_test (e3->path, G_FILE_TEST_EXISTS));
    ck_assert_uint_eq (kith_alias_store_get_total_bytes (store), 200);
  }
}
END_TEST

START_TEST (test_href_new_content)
{
  g_autoptr (KithAliasStore) store = open_store (0, 0);
  g_autoptr (GBytes) v1 = make_data (800, 19);
  g_autoptr (GBytes) v2 = make_data (900, 20);
  g_autoptr (KithAliasEntry) e1 = put (store, "http://o.example/latest", v1);
  g_autoptr (KithAliasEntry) e2 = put (store, "http://o.example/latest", v2);
  g_autoptr (KithAliasEntry) now = kith_alias_store_lookup_href (store, "http://o.example/latest");

  ck_assert_str_eq (now->sha256, e2->sha256);
  /* the old content lost its only href and its file */
  ck_assert_ptr_null (kith_alias_store_lookup_sha256 (store, e1->sha256));
  ck_assert (!g_file_test (e1->path, G_FILE_TEST_EXISTS));
  ck_assert_uint_eq (kith_alias_store_get_total_bytes (store), 900);
}
END_TEST

START_TEST (test_add_file_and_remove)
{
  g_autoptr (KithAliasStore) store = open_store (0, 0);
  g_autoptr (GBytes) data = make_data (600000, 21);
  g_autofree gchar *sha = sha_of (data);
  g_autofree gchar *src_dir = g_dir_make_tmp ("kith-alias-src-XXXXXX", NULL);
  g_autofree gchar *src = g_build_filename (src_dir, "installed.bin", NULL);
  g_autoptr (GError) error = NULL;
  g_autoptr (KithAliasEntry) entry = NULL;
  g_autoptr (KithAliasEntry) refused = NULL;
  g_autofree gchar *copy = NULL;
  gsize len = 0;
  guint changed = 0;

  ck_assert (g_file_set_contents (src, g_bytes_get_data (data, NULL), 600000, NULL));
  g_signal_connect (store, "changed", G_CALLBACK (changed_cb), &changed);
  entry = kith_alias_store_add_file (store, "http://o.example/inst", src, sha, &error);
  ck_assert_msg (entry != NULL, "%s", error != NULL ? error->message : "");
  ck_assert_str_eq (entry->sha256, sha);
  ck_assert (g_file_get_contents (entry->path, &copy, &len, NULL));
  ck_assert_uint_eq (len, 600000);
  ck_assert_mem_eq (copy, g_bytes_get_data (data, NULL), len);
  ck_assert (g_file_test (src, G_FILE_TEST_EXISTS)); /* a copy, the source stays */

  refused = kith_alias_store_add_file (store, "http://o.example/inst2", src,
                                       "0000000000000000000000000000000000000000000000000000000000000000",
                                       &error);
  ck_assert_ptr_null (refused);
  ck_assert (g_error_matches (error, KITH_PEERING_ERROR, KITH_PEERING_ERROR_HASH_MISMATCH));
  g_clear_error (&error);

  ck_assert (kith_alias_store_remove (store, sha, &error));
  ck_assert (!g_file_test (entry->path, G_FILE_TEST_EXISTS));
  ck_assert_ptr_null (kith_alias_store_lookup_href (store, "http://o.example/inst"));
  ck_assert_uint_eq (changed, 2);
  ck_assert (!kith_alias_store_remove (store, sha, &error));
  ck_assert (g_error_matches (error, KITH_PEERING_ERROR, KITH_PEERING_ERROR_NOT_FOUND));
  ck_assert_uint_eq (count_files (), 0);

  g_unlink (src);
  g_rmdir (src_dir);
}
END_TEST

/* The writer's digest (GnuTLS) is GLib's, fed whole or in uneven pieces, of 0 bytes too. */
START_TEST (test_sha256_matches_glib)
{
  static const gsize sizes[] = { 0, 1, 55, 64, 1000, 1048576 + 3 };

  for (gsize k = 0; k < G_N_ELEMENTS (sizes); k++) {
    g_autoptr (GBytes) data = make_data (sizes[k], (guint8) k);
    const guint8 *bytes = g_bytes_get_data (data, NULL);
    g_autofree gchar *expected = g_compute_checksum_for_data (G_CHECKSUM_SHA256, bytes, sizes[k]);
    g_autofree gchar *whole = kith_sha256_for_data (bytes, sizes[k]);
    g_autoptr (KithSha256) sha = kith_sha256_new ();
    gsize at = 0, step = 1;

    while (at < sizes[k]) {
      gsize n = MIN (step, sizes[k] - at);
      kith_sha256_update (sha, bytes + at, n);
      at += n;
      step = step * 3 + 1;
    }
    ck_assert_str_eq (whole, expected);
    ck_assert_str_eq (kith_sha256_get_string (sha), expected);
    ck_assert_str_eq (kith_sha256_get_string (sha), expected); /* asked again: the same */
  }
}
END_TEST

static Suite *
alias_store_suite (void)
{
  Suite *s = suite_create ("alias-store");
  TCase *tc = tcase_create ("store");

  tcase_add_checked_fixture (tc, setup, teardown);
  tcase_set_timeout (tc, 30);
  tcase_add_test (tc, test_write_commit_lookup);
  tcase_add_test (tc, test_hash_mismatch);
  tcase_add_test (tc, test_abort);
  tcase_add_test (tc, test_restart);
  tcase_add_test (tc, test_startup_drops_bad_files);
  tcase_add_test (tc, test_corrupt_index);
  tcase_add_test (tc, test_index_heals);
  tcase_add_test (tc, test_index_href_claimed_once);
  tcase_add_test (tc, test_index_upper_case_refused);
  tcase_add_test (tc, test_lru_eviction);
  tcase_add_test (tc, test_oversize_kept_alone);
  tcase_add_test (tc, test_max_age);
  tcase_add_test (tc, test_href_new_content);
  tcase_add_test (tc, test_add_file_and_remove);
  tcase_add_test (tc, test_sha256_matches_glib);
  suite_add_tcase (s, tc);
  return s;
}

int
main (void)
{
  return kith_test_run_suite (alias_store_suite ());
}
