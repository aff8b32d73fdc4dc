/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* kith-upload-backoff.c — the bounded table of responders in back-off */
#include "kith-upload-backoff.h"

typedef struct {
  guint faults;  /* in a row */
  gint64 since;  /* monotonic µs of the first fault in a row */
  gint64 until;  /* monotonic µs */
} KithBackoffEntry;

struct _KithUploadBackoff {
  guint64 first_ms, max_ms;
  guint cap;
  GHashTable *nodes; /* node → KithBackoffEntry* */
};

KithUploadBackoff *
kith_upload_backoff_new (guint64 first_ms, guint64 max_ms, guint cap)
{
  KithUploadBackoff *self = g_new0 (KithUploadBackoff, 1);

  self->first_ms = MAX (first_ms, 1);
  self->max_ms = MAX (max_ms, self->first_ms);
  self->cap = MAX (cap, 1);
  self->nodes = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
  return self;
}

void
kith_upload_backoff_free (KithUploadBackoff *self)
{
  if (self == NULL)
    return;
  g_hash_table_unref (self->nodes);
  g_free (self);
}

/* Makes room for one more: the entry that started first goes. */
static void
kith_upload_backoff_evict (KithUploadBackoff *self)
{
  GHashTableIter iter;
  gpointer key, value;
  gpointer oldest = NULL;
  gint64 oldest_since = G_MAXINT64;

  g_hash_table_iter_init (&iter, self->nodes);
  while (g_hash_table_iter_next (&iter, &key, &value)) {
    KithBackoffEntry *entry = value;
    if (entry->since < oldest_since) {
      oldest_since = entry->since;
      oldest = key;
    }
  }
  if (oldest != NULL)
    g_hash_table_remove (self->nodes, oldest);
}

guint64
kith_upload_backoff_fault (KithUploadBackoff *self, const gchar *node, gint64 now)
{
  KithBackoffEntry *entry = g_hash_table_lookup (self->nodes, node);
  guint64 delay;

  if (entry == NULL) {
    if (g_hash_table_size (self->nodes) >= self->cap)
      kith_upload_backoff_evict (self);
    entry = g_new0 (KithBackoffEntry, 1);
    entry->since = now;
    g_hash_table_insert (self->nodes, g_strdup (node), entry);
  }
  delay = MIN (self->first_ms << MIN (entry->faults, 20u), self->max_ms);
  entry->faults++;
  entry->until = now + (gint64) delay * 1000;
  return delay;
}

gboolean
kith_upload_backoff_active (KithUploadBackoff *self, const gchar *node, gint64 now)
{
  KithBackoffEntry *entry = g_hash_table_lookup (self->nodes, node);
  return entry != NULL && entry->until > now;
}

void
kith_upload_backoff_clear (KithUploadBackoff *self, const gchar *node)
{
  g_hash_table_remove (self->nodes, node);
}

guint
kith_upload_backoff_get_count (KithUploadBackoff *self)
{
  return g_hash_table_size (self->nodes);
}

guint
kith_upload_backoff_count_active (KithUploadBackoff *self, gint64 now)
{
  GHashTableIter iter;
  gpointer value;
  guint active = 0;

  g_hash_table_iter_init (&iter, self->nodes);
  while (g_hash_table_iter_next (&iter, NULL, &value)) {
    if (((KithBackoffEntry *) value)->until > now)
      active++;
  }
  return active;
}
