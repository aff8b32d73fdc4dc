/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* test-resume-table.c — the broken downloads kept for the next attempt at the same file
 * (plugins/peering/kith-resume-table.c): found only for that URL, sha256 and size (or any
 * size, for a fetch that knows none), bounded
 * in number (the oldest goes) and in time, each going with its temporary file */
#include "kith-alias-store.h"
#include "kith-resume-table.h"
#include "kith-test-util.h"

#include <check.h>

#include "kith-test-suite.h"
#include <glib/gstdio.h>

#define WAIT_TIMEOUT_S 10
#define HREF "http://o.example/file.bin"
#define SIZE 4096

static gchar *tmp_dir;
static KithAliasStore *store;

static void
setup (void)
{
  g_autoptr (GError) error = NULL;

  tmp_dir = g_dir_make_tmp ("kith-resume-table-XXXXXX", NULL);
  ck_assert_ptr_nonnull (tmp_dir);
  store = kith_alias_store_new (tmp_dir, 1 << 20, 0, &error);
  ck_assert_msg (store != NULL, "%s", error != NULL ? error->message : "");
}

static void
teardown (void)
{
  g_clear_object (&store);
  kith_test_rm_rf (tmp_dir);
  g_clear_pointer (&tmp_dir, g_free);
}

/* The sha256 number @n: 64 hex digits. */
static gchar *
sha_of (guint n)
{
  return g_strdup_printf ("%064x", n);
}

/* A point of @len bytes written for (HREF, sha_of (@n), SIZE); its temp file in *@path. */
static KithResumePoint *
make_point (guint n, gsize len, gchar **path)
{
  g_autoptr (GError) error = NULL;
  g_autofree gchar *sha = sha_of (n);
  g_autofree guint8 *bytes = g_malloc0 (len);
  KithAliasWriter *writer = kith_alias_store_begin (store, HREF, sha, SIZE, &error);

  ck_assert_msg (writer != NULL, "%s", error != NULL ? error->message : "");
  ck_assert (kith_alias_writer_write (writer, bytes, len, &error));
  *path = g_strdup (kith_alias_writer_get_path (writer));
  return kith_resume_point_new (writer);
}

START_TEST (test_taken_only_for_the_same_file)
{
  g_autoptr (KithResumeTable) table = kith_resume_table_new (60000);
  g_autofree gchar *sha = sha_of (1);
  g_autofree gchar *upper = g_ascii_strup (sha, -1);
  g_autofree gchar *other = sha_of (2);
  g_autofree gchar *path = NULL;
  g_autoptr (KithResumePoint) point = NULL;

  kith_resume_table_park (table, HREF, sha, SIZE, make_point (1, 1000, &path));
  /* another size, hash or URL is another file; no hash: nothing to check the whole by */
  ck_assert_ptr_null (kith_resume_table_take (table, HREF, sha, SIZE + 1));
  ck_assert_ptr_null (kith_resume_table_take (table, HREF, other, SIZE));
  ck_assert_ptr_null (kith_resume_table_take (table, "http://o.example/other.bin", sha, SIZE));
  ck_assert_ptr_null (kith_resume_table_take (table, HREF, NULL, SIZE));
  ck_assert_ptr_null (kith_resume_table_take (table, HREF, other, 0));
  ck_assert_uint_eq (kith_resume_table_get_count (table), 1);
  point = kith_resume_table_take (table, HREF, upper, SIZE);
  ck_assert_ptr_nonnull (point);
  ck_assert_uint_eq (point->size, SIZE);
  /* a size not known: the one kept of any size, which the point says */
  kith_resume_table_park (table, HREF, sha, SIZE, g_steal_pointer (&point));
  point = kith_resume_table_take (table, HREF, sha, 0);
  ck_assert_ptr_nonnull (point);
  ck_assert_uint_eq (point->size, SIZE);
  ck_assert_uint_eq (kith_alias_writer_get_size (point->writer), 1000);
  ck_assert (g_file_test (path, G_FILE_TEST_EXISTS));
  ck_assert_uint_eq (kith_resume_table_get_count (table), 0);
  ck_assert_ptr_null (kith_resume_table_take (table, HREF, sha, SIZE));
  g_clear_pointer (&point, kith_resume_point_free);
  ck_assert (!g_file_test (path, G_FILE_TEST_EXISTS));
}
END_TEST

START_TEST (test_bounded_oldest_goes)
{
  g_autoptr (KithResumeTable) table = kith_resume_table_new (60000);
  gchar *paths[KITH_RESUME_TABLE_MAX + 1];

  for (guint i = 0; i <= KITH_RESUME_TABLE_MAX; i++) {
    g_autofree gchar *sha = sha_of (i);
    kith_resume_table_park (table, HREF, sha, SIZE, make_point (i, 100 + i, &paths[i]));
  }
  ck_assert_uint_eq (kith_resume_table_get_count (table), KITH_RESUME_TABLE_MAX);
  /* the first one kept went, with its file; the others are all there */
  ck_assert (!g_file_test (paths[0], G_FILE_TEST_EXISTS));
  for (guint i = 1; i <= KITH_RESUME_TABLE_MAX; i++)
    ck_assert (g_file_test (paths[i], G_FILE_TEST_EXISTS));
  /* the same file parked again replaces what was kept of it */
  {
    g_autofree gchar *sha = sha_of (KITH_RESUME_TABLE_MAX);
    g_autofree gchar *path = NULL;
    g_autoptr (KithResumePoint) point = NULL;
    kith_resume_table_park (table, HREF, sha, SIZE, make_point (KITH_RESUME_TABLE_MAX, 7, &path));
    ck_assert_uint_eq (kith_resume_table_get_count (table), KITH_RESUME_TABLE_MAX);
    ck_assert (!g_file_test (paths[KITH_RESUME_TABLE_MAX], G_FILE_TEST_EXISTS));
    point = kith_resume_table_take (table, HREF, sha, SIZE);
    ck_assert_uint_eq (kith_alias_writer_get_size (point->writer), 7);
  }
  g_clear_pointer (&table, kith_resume_table_free);
  /* a table freed (the agent stopping) deletes what it kept */
  for (guint i = 0; i <= KITH_RESUME_TABLE_MAX; i++) {
    ck_assert (!g_file_test (paths[i], G_FILE_TEST_EXISTS));
    g_free (paths[i]);
  }
}
END_TEST

START_TEST (test_kept_for_a_while)
{
  g_autoptr (KithResumeTable) table = kith_resume_table_new (50);
  g_autofree gchar *sha = sha_of (3);
  g_autofree gchar *path = NULL;
  gboolean timed_out = FALSE;
  guint id;

  kith_resume_table_park (table, HREF, sha, SIZE, make_point (3, 10, &path));
  id = g_timeout_add_seconds (WAIT_TIMEOUT_S, kith_test_timeout_cb, &timed_out);
  while (kith_resume_table_get_count (table) > 0 && !timed_out)
    g_main_context_iteration (NULL, TRUE);
  ck_assert_msg (!timed_out, "the point was not dropped");
  g_source_remove (id);
  ck_assert (!g_file_test (path, G_FILE_TEST_EXISTS));
}
END_TEST

static Suite *
resume_table_suite (void)
{
  Suite *suite = suite_create ("resume-table");
  TCase *tc = tcase_create ("resume-table");

  tcase_add_checked_fixture (tc, setup, teardown);
  tcase_add_test (tc, test_taken_only_for_the_same_file);
  tcase_add_test (tc, test_bounded_oldest_goes);
  tcase_add_test (tc, test_kept_for_a_while);
  suite_add_tcase (suite, tc);
  return suite;
}

int
main (int argc, char **argv)
{
  return kith_test_run_suite (resume_table_suite ());
}
