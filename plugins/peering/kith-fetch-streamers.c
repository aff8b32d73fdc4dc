/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* kith-fetch-streamers.c — the partial copies announced for one fetch job's URL */
#include "kith-fetch-streamers.h"

#include "kith-partial-handler.h"

struct _KithFetchStreamers {
  GHashTable *table; /* node → KithFetchStreamer */
  guint64 expected_size;
  KithFetchStreamersTakesFunc takes;
  gpointer takes_data;
};

static void
kith_fetch_streamers_entry_free (KithFetchStreamer *streamer)
{
  g_free (streamer->alias);
  g_free (streamer);
}

KithFetchStreamers *
kith_fetch_streamers_new (guint64 expected_size, KithFetchStreamersTakesFunc takes, gpointer user_data)
{
  KithFetchStreamers *self = g_new0 (KithFetchStreamers, 1);

  self->table = g_hash_table_new_full (g_str_hash, g_str_equal, g_free,
                                       (GDestroyNotify) kith_fetch_streamers_entry_free);
  self->expected_size = expected_size;
  self->takes = takes;
  self->takes_data = user_data;
  return self;
}

void
kith_fetch_streamers_free (KithFetchStreamers *self)
{
  g_hash_table_unref (self->table);
  g_free (self);
}

KithFetchStreamer *
kith_fetch_streamers_lookup (KithFetchStreamers *self, const gchar *node)
{
  return g_hash_table_lookup (self->table, node);
}

guint64
kith_fetch_streamers_size (KithFetchStreamers *self, const KithFetchStreamer *streamer)
{
  guint64 size = self->expected_size > 0 ? self->expected_size : streamer->total;

  if (streamer->total > 0 && streamer->total != size)
    return 0;
  return size;
}

guint64
kith_fetch_streamers_available (const KithFetchStreamer *streamer)
{
  if (streamer->total > 0)
    return MIN (streamer->done, streamer->total - 1);
  return streamer->done > 0 ? streamer->done - 1 : 0;
}

const gchar *
kith_fetch_streamers_pick (KithFetchStreamers *self, const gchar *preferred)
{
  gint64 now = g_get_monotonic_time ();
  const gchar *best = NULL;
  KithFetchStreamer *best_streamer = NULL;
  GHashTableIter iter;
  gpointer node, value;

  g_hash_table_iter_init (&iter, self->table);
  while (g_hash_table_iter_next (&iter, &node, &value)) {
    KithFetchStreamer *streamer = value;
    if (!self->takes (node, self->takes_data) || streamer->busy_until_us > now || streamer->ended ||
        kith_fetch_streamers_size (self, streamer) == 0)
      continue;
    if (g_strcmp0 (node, preferred) == 0)
      return node;
    if (best_streamer == NULL || streamer->done > best_streamer->done) {
      best = node;
      best_streamer = streamer;
    }
  }
  return best;
}

GPtrArray *
kith_fetch_streamers_list_sized (KithFetchStreamers *self)
{
  GPtrArray *nodes = g_ptr_array_new ();
  GHashTableIter iter;
  gpointer node, value;

  g_hash_table_iter_init (&iter, self->table);
  while (g_hash_table_iter_next (&iter, &node, &value)) {
    KithFetchStreamer *streamer = value;
    /* an ended copy is not read again (404, or cut: its leader's source failed) */
    if (self->takes (node, self->takes_data) && !streamer->ended &&
        kith_fetch_streamers_size (self, streamer) == self->expected_size)
      g_ptr_array_add (nodes, node);
  }
  return nodes;
}

/* Room for one more partial copy: a full table drops one of a node we no longer take,
 * else, for @preferred, the one least far on. FALSE: no room (a flood of announcements
 * cannot push out the ones we may use). */
static gboolean
kith_fetch_streamers_make_room (KithFetchStreamers *self, const gchar *node, const gchar *preferred)
{
  GHashTableIter iter;
  gpointer key, value;
  gpointer least = NULL;
  guint64 least_done = G_MAXUINT64;

  if (g_hash_table_size (self->table) < KITH_FETCH_STREAMERS_MAX)
    return TRUE;
  g_hash_table_iter_init (&iter, self->table);
  while (g_hash_table_iter_next (&iter, &key, &value)) {
    KithFetchStreamer *streamer = value;
    if (!self->takes (key, self->takes_data)) {
      g_hash_table_iter_remove (&iter);
      return TRUE;
    }
    if (streamer->done < least_done) {
      least = key;
      least_done = streamer->done;
    }
  }
  if (g_strcmp0 (node, preferred) != 0 || least == NULL)
    return FALSE;
  g_hash_table_remove (self->table, least);
  return TRUE;
}

void
kith_fetch_streamers_note (KithFetchStreamers *self, const KithPacket *packet, const gchar *preferred)
{
  g_autoptr (GUri) uri = NULL;
  KithFetchStreamer *streamer;

  if (packet->alias == NULL)
    return;
  uri = g_uri_parse (packet->alias, G_URI_FLAGS_ENCODED, NULL);
  if (uri == NULL || !g_str_has_prefix (g_uri_get_path (uri), KITH_PARTIAL_HANDLER_PREFIX))
    return;
  streamer = g_hash_table_lookup (self->table, packet->node);
  if (streamer == NULL) {
    if (!kith_fetch_streamers_make_room (self, packet->node, preferred))
      return;
    streamer = g_new0 (KithFetchStreamer, 1);
    g_hash_table_insert (self->table, g_strdup (packet->node), streamer);
  }
  if (g_strcmp0 (streamer->alias, packet->alias) != 0) {
    g_free (streamer->alias);
    streamer->alias = g_strdup (packet->alias);
    streamer->busy_until_us = 0; /* a new copy: new readers */
    streamer->ended = FALSE;
  }
  streamer->total = packet->total;
  streamer->done = packet->done;
}
