/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* test-fetch-verdict.c — who answers for a resumed copy of several senders that did not
 * match (plugins/peering/kith-fetch-verdict.c), without a network: the senders the spans
 * name (peers only, each once), the origin's share, a single sender blamed with the
 * mismatch and several each with a fault (counted), and, once a copy of one source
 * verifies, only the peers whose bytes of the suspect differ from it banned */
#include "kith-alias-store.h"
#include "kith-fetch-verdict.h"
#include "kith-peering-error.h"
#include "kith-test-agent.h"
#include "kith-test-util.h"

#include <check.h>

#include "kith-test-suite.h"
#include <string.h>

#define WAIT_TIMEOUT_MS 10000
#define HREF "http://o.example/file.bin"
#define MISMATCHED "kith_peering_resumed_total", "result=\"mismatched\""

/* One call of the blame callback. */
typedef struct {
  gchar *node;
  GError *error;
} Blamed;

static gchar *tmp_dir;
static KithAliasStore *store;
static KithMetrics *metrics;
static GPtrArray *blamed; /* of Blamed, in the order of the calls */
static KithAliasEntry *judged;
static guint n_judged;

static void
blamed_free (gpointer data)
{
  Blamed *b = data;

  g_free (b->node);
  g_clear_error (&b->error);
  g_free (b);
}

static void
on_blame (KithFetchVerdict *verdict, const gchar *node, const GError *error, gpointer user_data)
{
  Blamed *b = g_new0 (Blamed, 1);

  b->node = g_strdup (node);
  b->error = g_error_copy (error);
  g_ptr_array_add (blamed, b);
}

static void
on_judged (KithFetchVerdict *verdict, KithAliasEntry *entry, gpointer user_data)
{
  ck_assert_ptr_null (judged);
  judged = entry;
  n_judged++;
}

static const KithFetchVerdictFuncs funcs = {
  .blame = on_blame,
  .judged = on_judged,
};

static void
setup (void)
{
  g_autoptr (GError) error = NULL;

  tmp_dir = g_dir_make_tmp ("kith-fetch-verdict-XXXXXX", NULL);
  ck_assert_ptr_nonnull (tmp_dir);
  store = kith_alias_store_new (tmp_dir, 1 << 20, 0, &error);
  ck_assert_msg (store != NULL, "%s", error != NULL ? error->message : "");
  metrics = kith_metrics_new ();
  blamed = g_ptr_array_new_with_free_func (blamed_free);
  judged = NULL;
  n_judged = 0;
}

static void
teardown (void)
{
  g_clear_pointer (&judged, kith_alias_entry_free);
  g_clear_pointer (&blamed, g_ptr_array_unref);
  g_clear_object (&metrics);
  g_clear_object (&store);
  kith_test_rm_rf (tmp_dir);
  g_clear_pointer (&tmp_dir, g_free);
}

/* A verdict whose kept bytes were sent as "node:end,node:end,…" says. */
static KithFetchVerdict *
verdict_of (const gchar *spans)
{
  g_autoptr (GPtrArray) nodes = g_ptr_array_new_with_free_func (g_free);
  g_autoptr (GArray) ends = g_array_new (FALSE, FALSE, sizeof (guint64));
  g_auto (GStrv) parts = g_strsplit (spans, ",", -1);

  for (guint i = 0; parts[i] != NULL && *parts[i] != '\0'; i++) {
    g_auto (GStrv) span = g_strsplit (parts[i], ":", 2);
    guint64 end = g_ascii_strtoull (span[1], NULL, 10);

    g_ptr_array_add (nodes, g_strdup (span[0]));
    g_array_append_val (ends, end);
  }
  return kith_fetch_verdict_new (HREF, nodes, ends, metrics, &funcs, NULL);
}

/* The blame calls so far as "node:code,node:code,…" (code 0: HASH_MISMATCH, else FAILED). */
static gchar *
blamed_string (void)
{
  GString *s = g_string_new (NULL);

  for (guint i = 0; i < blamed->len; i++) {
    const Blamed *b = g_ptr_array_index (blamed, i);
    ck_assert (b->error->domain == KITH_PEERING_ERROR);
    g_string_append_printf (s, "%s%s:%s", i > 0 ? "," : "", b->node,
                            b->error->code == KITH_PEERING_ERROR_HASH_MISMATCH ? "lied"
                            : b->error->code == KITH_PEERING_ERROR_FAILED      ? "fault"
                                                                               : "other");
  }
  return g_string_free (s, FALSE);
}

static const gchar *
blamed_message (guint i)
{
  ck_assert_uint_lt (i, blamed->len);
  return ((const Blamed *) g_ptr_array_index (blamed, i))->error->message;
}

/* The names of @array, "a,b,…". */
static gchar *
join (GPtrArray *array)
{
  g_autoptr (GPtrArray) names = g_ptr_array_new (); /* borrowed: a copy would free them too */

  for (guint i = 0; i < array->len; i++)
    g_ptr_array_add (names, g_ptr_array_index (array, i));
  g_ptr_array_add (names, NULL);
  return g_strjoinv (",", (gchar **) names->pdata);
}

START_TEST (test_senders_are_peers_each_once)
{
  g_autoptr (KithFetchVerdict) verdict = verdict_of ("a:10,origin:20,b:30,a:40");
  g_autoptr (GPtrArray) senders = kith_fetch_verdict_get_kept_senders (verdict);
  g_autofree gchar *names = join (senders);

  ck_assert_str_eq (names, "a,b");
  ck_assert_uint_eq (kith_fetch_verdict_get_n_kept_senders (verdict), 2);
  ck_assert_uint_eq (kith_fetch_verdict_get_kept_origin (verdict), 10);
  /* the source now counts when it is another peer that sent bytes */
  ck_assert_uint_eq (kith_fetch_verdict_count_senders (verdict, "c", 5), 3);
  ck_assert_uint_eq (kith_fetch_verdict_count_senders (verdict, "c", 0), 2);
  ck_assert_uint_eq (kith_fetch_verdict_count_senders (verdict, "a", 5), 2);
  ck_assert_uint_eq (kith_fetch_verdict_count_senders (verdict, "origin", 5), 2);
  ck_assert_uint_eq (kith_fetch_verdict_count_senders (verdict, NULL, 5), 2);
  kith_fetch_verdict_forget_kept (verdict);
  ck_assert_uint_eq (kith_fetch_verdict_get_n_kept_senders (verdict), 0);
  ck_assert_uint_eq (kith_fetch_verdict_get_kept_origin (verdict), 0);
  ck_assert_uint_eq (kith_fetch_verdict_count_senders (verdict, "c", 5), 1);
}
END_TEST

START_TEST (test_spans_end_with_the_source_now)
{
  g_autoptr (KithFetchVerdict) verdict = verdict_of ("a:10,origin:20");
  g_autoptr (GPtrArray) nodes = g_ptr_array_new_with_free_func (g_free);
  g_autoptr (GArray) ends = g_array_new (FALSE, FALSE, sizeof (guint64));
  g_autofree gchar *names = NULL;

  kith_fetch_verdict_copy_spans (verdict, 20, 35, "b", nodes, ends);
  names = join (nodes);
  ck_assert_str_eq (names, "a,origin,b");
  ck_assert_uint_eq (ends->len, 3);
  ck_assert_uint_eq (g_array_index (ends, guint64, 0), 10);
  ck_assert_uint_eq (g_array_index (ends, guint64, 1), 20);
  ck_assert_uint_eq (g_array_index (ends, guint64, 2), 35);
  /* a source that sent nothing, or none at all, adds no span */
  g_ptr_array_set_size (nodes, 0);
  g_array_set_size (ends, 0);
  kith_fetch_verdict_copy_spans (verdict, 20, 20, "b", nodes, ends);
  kith_fetch_verdict_copy_spans (verdict, 20, 35, NULL, nodes, ends);
  g_clear_pointer (&names, g_free);
  names = join (nodes);
  ck_assert_str_eq (names, "a,origin,a,origin");
}
END_TEST

START_TEST (test_a_single_sender_answers_alone)
{
  g_autoptr (KithFetchVerdict) verdict = verdict_of ("origin:10,a:20,a:30");
  g_autoptr (GError) why =
      g_error_new_literal (KITH_PEERING_ERROR, KITH_PEERING_ERROR_HASH_MISMATCH, "bad hash");
  g_autofree gchar *who = NULL;

  kith_fetch_verdict_blame (verdict, why, NULL, 0);
  who = blamed_string ();
  ck_assert_str_eq (who, "a:lied");
  ck_assert_str_eq (blamed_message (0), "bad hash");
  ck_assert (kith_metrics_get (metrics, MISMATCHED) == 0);
}
END_TEST

START_TEST (test_several_senders_each_get_a_fault)
{
  g_autoptr (KithFetchVerdict) verdict = verdict_of ("a:10,origin:20,b:30");
  g_autoptr (KithFetchVerdict) one = verdict_of ("a:10");
  g_autoptr (GError) why =
      g_error_new_literal (KITH_PEERING_ERROR, KITH_PEERING_ERROR_HASH_MISMATCH, "bad hash");
  g_autofree gchar *kept = NULL;
  g_autofree gchar *with_source = NULL;
  g_autofree gchar *with_a = NULL;
  g_autofree gchar *a_and_c = NULL;
  g_autofree gchar *a_again = NULL;

  kith_fetch_verdict_blame (verdict, why, NULL, 0);
  kept = blamed_string ();
  ck_assert_str_eq (kept, "a:fault,b:fault");
  ck_assert_str_eq (blamed_message (0),
                    "one of the 2 nodes that sent parts of a copy that did not match (bad hash)");
  ck_assert (kith_metrics_get (metrics, MISMATCHED) == 1);
  /* the source now sent the rest: it is one of them */
  g_ptr_array_set_size (blamed, 0);
  kith_fetch_verdict_blame (verdict, why, "c", 5);
  with_source = blamed_string ();
  ck_assert_str_eq (with_source, "a:fault,b:fault,c:fault");
  ck_assert_str_eq (blamed_message (2),
                    "one of the 3 nodes that sent parts of a copy that did not match (bad hash)");
  /* ... and blamed once when it also sent kept bytes */
  g_ptr_array_set_size (blamed, 0);
  kith_fetch_verdict_blame (verdict, why, "a", 5);
  with_a = blamed_string ();
  ck_assert_str_eq (with_a, "a:fault,b:fault");
  /* one kept sender and the source now are two: neither answers alone */
  g_ptr_array_set_size (blamed, 0);
  kith_fetch_verdict_blame (one, why, "c", 5);
  a_and_c = blamed_string ();
  ck_assert_str_eq (a_and_c, "a:fault,c:fault");
  /* with a source now, the mismatch is never one sender's alone to answer for */
  g_ptr_array_set_size (blamed, 0);
  kith_fetch_verdict_blame (one, why, "a", 5);
  a_again = blamed_string ();
  ck_assert_str_eq (a_again, "a:fault");
  ck_assert_str_eq (blamed_message (0),
                    "one of the 1 nodes that sent parts of a copy that did not match (bad hash)");
  ck_assert (kith_metrics_get (metrics, MISMATCHED) == 5);
}
END_TEST

START_TEST (test_kept_senders_answer_with_the_source)
{
  g_autoptr (KithFetchVerdict) verdict = verdict_of ("a:10,b:20,origin:30,a:40");
  g_autoptr (GError) error =
      g_error_new_literal (KITH_PEERING_ERROR, KITH_PEERING_ERROR_HASH_MISMATCH, "bad hash");
  g_autofree gchar *who = NULL;

  kith_fetch_verdict_blame_kept (verdict, error, "b");
  who = blamed_string ();
  ck_assert_str_eq (who, "a:lied");
  ck_assert_str_eq (blamed_message (0), "bad hash");
}
END_TEST

/* A writer of the store holding @len bytes of @data. */
static KithAliasWriter *
writer_of (const guint8 *data, gsize len)
{
  g_autoptr (GError) error = NULL;
  KithAliasWriter *writer = kith_alias_store_begin (store, HREF, NULL, 0, &error);

  ck_assert_msg (writer != NULL, "%s", error != NULL ? error->message : "");
  ck_assert_msg (kith_alias_writer_write (writer, data, len, &error), "%s",
                 error != NULL ? error->message : "");
  return writer;
}

/* The verified copy: @len bytes of @data in a file of its own. Caller owns. */
static KithAliasEntry *
entry_of (const guint8 *data, gsize len)
{
  g_autoptr (GError) error = NULL;
  KithAliasEntry *entry = g_new0 (KithAliasEntry, 1);

  entry->href = g_strdup (HREF);
  entry->sha256 = g_strnfill (64, 'a');
  entry->size = len;
  entry->path = g_build_filename (tmp_dir, "verified", NULL);
  ck_assert_msg (g_file_set_contents (entry->path, (const gchar *) data, len, &error), "%s", error->message);
  return entry;
}

static gboolean
is_judged (gpointer user_data)
{
  return n_judged > 0;
}

START_TEST (test_the_verified_copy_finds_the_liar)
{
  /* a (kept) and b (the source that resumed) sent a third each; the origin's third is never
   * held against anyone */
  g_autoptr (KithFetchVerdict) verdict = verdict_of ("a:1024,origin:2048");
  guint8 good[3072], bad[3072];
  g_autofree gchar *later_path = NULL;
  g_autofree gchar *who = NULL;
  KithAliasWriter *later;
  KithAliasEntry *entry;

  for (guint i = 0; i < sizeof good; i++)
    good[i] = bad[i] = (guint8) (i * 7);
  memset (bad + 1500, 0, 10); /* the origin's bytes */
  bad[2500] ^= 0xff;          /* b's */
  kith_fetch_verdict_suspect (verdict, writer_of (bad, sizeof bad), 2048, "b");
  ck_assert (kith_fetch_verdict_has_suspect (verdict));
  /* the first copy that did not match is the one judged: a later one is let go */
  later = writer_of (good, sizeof good);
  later_path = g_strdup (kith_alias_writer_get_path (later));
  kith_fetch_verdict_suspect (verdict, later, 0, "c");
  ck_assert (!g_file_test (later_path, G_FILE_TEST_EXISTS));
  kith_fetch_verdict_forget_kept (verdict); /* the next copy keeps nothing; the suspect keeps its spans */
  entry = entry_of (good, sizeof good);
  kith_fetch_verdict_judge (verdict, entry);
  ck_assert_uint_eq (n_judged, 0); /* both files are read in a worker */
  ck_assert_msg (kith_test_wait_until (is_judged, NULL, WAIT_TIMEOUT_MS), "the comparison did not end");
  ck_assert_uint_eq (n_judged, 1);
  ck_assert_ptr_eq (judged, entry);
  who = blamed_string ();
  ck_assert_str_eq (who, "b:lied");
  ck_assert_str_eq (blamed_message (0), "bytes 2048-3071 it sent are not the file's");
  ck_assert (!kith_fetch_verdict_has_suspect (verdict));
  ck_assert (kith_metrics_get (metrics, MISMATCHED) == 0);
}
END_TEST

START_TEST (test_a_suspect_longer_than_the_file)
{
  /* b's kept bytes are the file's; a, which sent the rest, sent wrong ones and more than the
   * file has: its range is compared, and named, up to the file's end */
  g_autoptr (KithFetchVerdict) verdict = verdict_of ("b:1000");
  guint8 good[1200], bad[1500];
  g_autofree gchar *who = NULL;

  for (guint i = 0; i < sizeof bad; i++)
    bad[i] = (guint8) i;
  memcpy (good, bad, sizeof good);
  bad[1100] ^= 0xff;
  kith_fetch_verdict_suspect (verdict, writer_of (bad, sizeof bad), 1000, "a");
  kith_fetch_verdict_judge (verdict, entry_of (good, sizeof good));
  ck_assert_msg (kith_test_wait_until (is_judged, NULL, WAIT_TIMEOUT_MS), "the comparison did not end");
  who = blamed_string ();
  ck_assert_str_eq (who, "a:lied");
  ck_assert_str_eq (blamed_message (0), "bytes 1000-1199 it sent are not the file's");
  ck_assert_uint_eq (judged->size, 1200);
}
END_TEST

START_TEST (test_no_peer_to_judge)
{
  g_autoptr (KithFetchVerdict) verdict = verdict_of ("origin:100");
  g_autoptr (KithFetchVerdict) none = verdict_of ("");
  guint8 bytes[100] = { 1 };
  KithAliasEntry *entry = entry_of (bytes, sizeof bytes);

  /* the origin sent every byte of the suspect: nobody to compare, judged at once */
  kith_fetch_verdict_suspect (verdict, writer_of (bytes, sizeof bytes), 100, NULL);
  kith_fetch_verdict_judge (verdict, entry);
  ck_assert_uint_eq (n_judged, 1);
  ck_assert_ptr_eq (judged, entry);
  ck_assert (!kith_fetch_verdict_has_suspect (verdict));
  /* no suspect at all: the same */
  g_clear_pointer (&judged, kith_alias_entry_free);
  kith_fetch_verdict_judge (none, entry_of (bytes, sizeof bytes));
  ck_assert_uint_eq (n_judged, 2);
  ck_assert_uint_eq (blamed->len, 0);
}
END_TEST

static Suite *
fetch_verdict_suite (void)
{
  Suite *suite = suite_create ("fetch-verdict");
  TCase *tc = tcase_create ("fetch-verdict");

  tcase_add_checked_fixture (tc, setup, teardown);
  tcase_add_test (tc, test_senders_are_peers_each_once);
  tcase_add_test (tc, test_spans_end_with_the_source_now);
  tcase_add_test (tc, test_a_single_sender_answers_alone);
  tcase_add_test (tc, test_several_senders_each_get_a_fault);
  tcase_add_test (tc, test_kept_senders_answer_with_the_source);
  tcase_add_test (tc, test_the_verified_copy_finds_the_liar);
  tcase_add_test (tc, test_a_suspect_longer_than_the_file);
  tcase_add_test (tc, test_no_peer_to_judge);
  suite_add_tcase (suite, tc);
  return suite;
}

int
main (void)
{
  return kith_test_run_suite (fetch_verdict_suite ());
}
