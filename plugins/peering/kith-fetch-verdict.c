/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* kith-fetch-verdict.c — who lied, of the senders of a copy that did not match */
#include "kith-fetch-verdict.h"

#include "kith-file-compare.h"
#include "kith-peering-error.h"

struct _KithFetchVerdict {
  gchar *href;
  KithMetrics *metrics; /* borrowed */
  KithFetchVerdictFuncs funcs;
  gpointer user_data;
  /* who sent the kept bytes: span i is bytes [end of span i-1 (0), span_ends[i]) of
   * span_nodes[i] ("origin" for the origin) */
  GPtrArray *span_nodes;
  GArray *span_ends;
  /* a copy of several senders that did not match, kept until the one fetched again in its
   * place verifies, to find whose bytes were wrong; or NULL */
  KithAliasWriter *suspect;
  GPtrArray *suspect_nodes;
  GArray *suspect_ends;
  /* while the suspect is compared with the verified copy (in a worker), the copy, which
   * judged gets once that is done, and the nodes whose ranges are compared */
  GCancellable *comparing;
  KithAliasEntry *verified;
  GPtrArray *compared_nodes;
};

KithFetchVerdict *
kith_fetch_verdict_new (const gchar *href, GPtrArray *span_nodes, GArray *span_ends, KithMetrics *metrics,
                        const KithFetchVerdictFuncs *funcs, gpointer user_data)
{
  KithFetchVerdict *self = g_new0 (KithFetchVerdict, 1);

  self->href = g_strdup (href);
  self->metrics = metrics;
  self->funcs = *funcs;
  self->user_data = user_data;
  self->span_nodes =
      span_nodes != NULL ? g_ptr_array_ref (span_nodes) : g_ptr_array_new_with_free_func (g_free);
  self->span_ends =
      span_ends != NULL ? g_array_ref (span_ends) : g_array_new (FALSE, FALSE, sizeof (guint64));
  return self;
}

static void
kith_fetch_verdict_forget_suspect (KithFetchVerdict *self)
{
  g_clear_pointer (&self->suspect, kith_alias_writer_free);
  g_clear_pointer (&self->suspect_nodes, g_ptr_array_unref);
  g_clear_pointer (&self->suspect_ends, g_array_unref);
  g_clear_pointer (&self->compared_nodes, g_ptr_array_unref);
}

void
kith_fetch_verdict_free (KithFetchVerdict *self)
{
  if (self->comparing != NULL)
    g_cancellable_cancel (self->comparing); /* its callback sees that and leaves @self alone */
  g_clear_object (&self->comparing);
  kith_alias_entry_free (self->verified);
  kith_fetch_verdict_forget_suspect (self);
  g_ptr_array_unref (self->span_nodes);
  g_array_unref (self->span_ends);
  g_free (self->href);
  g_free (self);
}

void
kith_fetch_verdict_forget_kept (KithFetchVerdict *self)
{
  g_ptr_array_set_size (self->span_nodes, 0);
  g_array_set_size (self->span_ends, 0);
}

GPtrArray *
kith_fetch_verdict_get_kept_senders (KithFetchVerdict *self)
{
  GPtrArray *senders = g_ptr_array_new ();

  for (guint i = 0; i < self->span_nodes->len; i++) {
    const gchar *node = g_ptr_array_index (self->span_nodes, i);
    if (g_strcmp0 (node, "origin") != 0 &&
        !g_ptr_array_find_with_equal_func (senders, node, g_str_equal, NULL))
      g_ptr_array_add (senders, (gpointer) node);
  }
  return senders;
}

guint
kith_fetch_verdict_get_n_kept_senders (KithFetchVerdict *self)
{
  g_autoptr (GPtrArray) senders = kith_fetch_verdict_get_kept_senders (self);

  return senders->len;
}

guint64
kith_fetch_verdict_get_kept_origin (KithFetchVerdict *self)
{
  guint64 bytes = 0, start = 0;

  for (guint i = 0; i < self->span_nodes->len; i++) {
    guint64 end = g_array_index (self->span_ends, guint64, i);
    if (g_strcmp0 (g_ptr_array_index (self->span_nodes, i), "origin") == 0)
      bytes += end - start;
    start = end;
  }
  return bytes;
}

/* The origin is where the file comes from, not a sender that could lie. */
guint
kith_fetch_verdict_count_senders (KithFetchVerdict *self, const gchar *source, guint64 own_bytes)
{
  g_autoptr (GPtrArray) senders = kith_fetch_verdict_get_kept_senders (self);
  guint n = senders->len;

  if (source != NULL && g_strcmp0 (source, "origin") != 0 && own_bytes > 0 &&
      !g_ptr_array_find_with_equal_func (senders, source, g_str_equal, NULL))
    n++;
  return n;
}

void
kith_fetch_verdict_copy_spans (KithFetchVerdict *self, guint64 kept, guint64 in, const gchar *source,
                               GPtrArray *nodes, GArray *ends)
{
  for (guint i = 0; i < self->span_nodes->len; i++) {
    g_ptr_array_add (nodes, g_strdup (g_ptr_array_index (self->span_nodes, i)));
    g_array_append_val (ends, g_array_index (self->span_ends, guint64, i));
  }
  if (in > kept && source != NULL) {
    g_ptr_array_add (nodes, g_strdup (source));
    g_array_append_val (ends, in);
  }
}

/* Of several senders, banning all on the mismatch alone would let a host that streamed a
 * bad prefix and broke off get the honest holder that sent the rest banned with it; a
 * fault's back-off is forgiven at the next good delivery, and the liar is found once a copy
 * of one source verifies (kith_fetch_verdict_judge()). */
void
kith_fetch_verdict_blame (KithFetchVerdict *self, const GError *why, const gchar *source, guint64 own_bytes)
{
  g_autoptr (GPtrArray) senders = kith_fetch_verdict_get_kept_senders (self);
  guint n = source != NULL ? kith_fetch_verdict_count_senders (self, source, own_bytes) : senders->len;
  g_autoptr (GError) fault = NULL;

  if (n == 1 && source == NULL) {
    self->funcs.blame (self, g_ptr_array_index (senders, 0), why, self->user_data);
    return;
  }
  fault =
      g_error_new (KITH_PEERING_ERROR, KITH_PEERING_ERROR_FAILED,
                   "one of the %u nodes that sent parts of a copy that did not match (%s)", n, why->message);
  kith_metrics_add (self->metrics, "kith_peering_resumed_total", "result=\"mismatched\"", 1);
  g_message ("%s: a copy from %u nodes did not match; fetching it again from one, against which each "
             "one's bytes are checked",
             self->href, n);
  for (guint i = 0; i < senders->len; i++)
    self->funcs.blame (self, g_ptr_array_index (senders, i), fault, self->user_data);
  if (source != NULL && !g_ptr_array_find_with_equal_func (senders, source, g_str_equal, NULL))
    self->funcs.blame (self, source, fault, self->user_data);
}

/* The kept bytes are as much in question as the last source's, which its caller blames. */
void
kith_fetch_verdict_blame_kept (KithFetchVerdict *self, const GError *error, const gchar *source)
{
  g_autoptr (GPtrArray) senders = kith_fetch_verdict_get_kept_senders (self);

  for (guint i = 0; i < senders->len; i++) {
    const gchar *node = g_ptr_array_index (senders, i);
    if (g_strcmp0 (node, source) != 0)
      self->funcs.blame (self, node, error, self->user_data);
  }
}

/* The first copy that did not match is the one whose senders are in question: a later one
 * came from a single source, which answered for it alone. */
void
kith_fetch_verdict_suspect (KithFetchVerdict *self, KithAliasWriter *writer, guint64 kept,
                            const gchar *source)
{
  if (self->suspect != NULL) {
    kith_alias_writer_free (writer);
    return;
  }
  self->suspect = writer;
  self->suspect_nodes = g_ptr_array_new_with_free_func (g_free);
  self->suspect_ends = g_array_new (FALSE, FALSE, sizeof (guint64));
  kith_fetch_verdict_copy_spans (self, kept, kith_alias_writer_get_size (writer), source, self->suspect_nodes,
                                 self->suspect_ends);
}

gboolean
kith_fetch_verdict_has_suspect (KithFetchVerdict *self)
{
  return self->suspect != NULL;
}

/* The end of the suspect: judged may free @self, so it comes last. */
static void
kith_fetch_verdict_done (KithFetchVerdict *self, KithAliasEntry *entry)
{
  kith_fetch_verdict_forget_suspect (self);
  self->funcs.judged (self, entry, self->user_data);
}

static void
kith_fetch_verdict_compared (GObject *source, GAsyncResult *result, gpointer user_data)
{
  KithFetchVerdict *self;
  g_autoptr (GArray) ranges = NULL;

  if (g_cancellable_is_cancelled (g_task_get_cancellable (G_TASK (result))))
    return; /* the verdict was freed */
  self = user_data;
  ranges = kith_file_compare_ranges_finish (result, NULL);
  for (guint i = 0; ranges != NULL && i < ranges->len; i++) {
    const KithFileCompareRange *range = &g_array_index (ranges, KithFileCompareRange, i);
    const gchar *node = g_ptr_array_index (self->compared_nodes, i);

    if (range->error != NULL) {
      g_warning ("%s: cannot tell whether %s sent the file's bytes: %s", self->href, node,
                 range->error->message);
    } else if (!range->equal) {
      g_autoptr (GError) lie =
          g_error_new (KITH_PEERING_ERROR, KITH_PEERING_ERROR_HASH_MISMATCH,
                       "bytes %" G_GUINT64_FORMAT "-%" G_GUINT64_FORMAT " it sent are not the file's",
                       range->start, range->end - 1);
      self->funcs.blame (self, node, lie, self->user_data);
    }
  }
  g_clear_object (&self->comparing);
  kith_fetch_verdict_done (self, g_steal_pointer (&self->verified));
}

/* Large files take a while to read: the comparison runs in a worker, so that the main loop
 * (every fetch, announcement and reader) goes on meanwhile. */
void
kith_fetch_verdict_judge (KithFetchVerdict *self, KithAliasEntry *entry)
{
  g_autoptr (GArray) ranges = g_array_new (FALSE, TRUE, sizeof (KithFileCompareRange));
  guint64 start = 0;

  self->compared_nodes = g_ptr_array_new_with_free_func (g_free);
  for (guint i = 0; self->suspect != NULL && i < self->suspect_nodes->len; i++) {
    const gchar *node = g_ptr_array_index (self->suspect_nodes, i);
    guint64 end = g_array_index (self->suspect_ends, guint64, i);

    if (g_strcmp0 (node, "origin") != 0) {
      KithFileCompareRange range = { .start = start, .end = MIN (end, entry->size) };

      g_array_append_val (ranges, range);
      g_ptr_array_add (self->compared_nodes, g_strdup (node));
    }
    start = end;
  }
  if (ranges->len == 0) {
    kith_fetch_verdict_done (self, entry);
    return;
  }
  self->verified = entry;
  self->comparing = g_cancellable_new ();
  kith_file_compare_ranges_async (kith_alias_writer_get_path (self->suspect), entry->path,
                                  g_steal_pointer (&ranges), self->comparing, kith_fetch_verdict_compared,
                                  self);
}
