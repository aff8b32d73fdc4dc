/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* kith-peer-table.c — requesters, downloaders and bad peers, each with the time it was
 * last heard of, on a clock that tests can replace */
#include "kith-peer-table.h"

struct _KithPeerTable {
  const KithPeeringTimings *timings; /* borrowed */
  gchar *self_node;
  KithPeerClockFunc clock;
  gpointer clock_data;
  GHashTable *requesters;  /* href → (node → gint64 µs) */
  GHashTable *downloaders; /* href → (node → gint64 last announcement, µs) */
  GHashTable *bad;         /* node → gint64 until, µs */
};

KithPeerTable *
kith_peer_table_new (const KithPeeringTimings *timings, const gchar *self_node)
{
  KithPeerTable *self = g_new0 (KithPeerTable, 1);

  self->timings = timings;
  self->self_node = g_strdup (self_node);
  self->requesters = g_hash_table_new_full (g_str_hash, g_str_equal, g_free,
                                            (GDestroyNotify) g_hash_table_unref);
  self->downloaders = g_hash_table_new_full (g_str_hash, g_str_equal, g_free,
                                             (GDestroyNotify) g_hash_table_unref);
  self->bad = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
  return self;
}

void
kith_peer_table_free (KithPeerTable *self)
{
  if (self == NULL)
    return;
  g_hash_table_unref (self->requesters);
  g_hash_table_unref (self->downloaders);
  g_hash_table_unref (self->bad);
  g_free (self->self_node);
  g_free (self);
}

void
kith_peer_table_set_clock (KithPeerTable *self, KithPeerClockFunc func, gpointer user_data)
{
  self->clock = func;
  self->clock_data = user_data;
}

gint64
kith_peer_table_now (KithPeerTable *self)
{
  return self->clock != NULL ? self->clock (self->clock_data) : g_get_monotonic_time ();
}

gboolean
kith_peer_table_mark_bad (KithPeerTable *self, const gchar *node)
{
  gint64 *until;

  if (node == NULL || g_strcmp0 (node, "origin") == 0)
    return FALSE;
  until = g_new (gint64, 1);
  *until = kith_peer_table_now (self) + (gint64) self->timings->bad_peer_ms * 1000;
  g_hash_table_replace (self->bad, g_strdup (node), until);
  return TRUE;
}

gboolean
kith_peer_table_is_bad (KithPeerTable *self, const gchar *node)
{
  gint64 *until = g_hash_table_lookup (self->bad, node);

  if (until == NULL)
    return FALSE;
  if (*until > kith_peer_table_now (self))
    return TRUE;
  g_hash_table_remove (self->bad, node);
  return FALSE;
}

/* Records "@node did something about @href now" in @table (href → node → time). */
static void
kith_peer_table_note (KithPeerTable *self, GHashTable *table, const gchar *href, const gchar *node)
{
  GHashTable *nodes = g_hash_table_lookup (table, href);
  gint64 *when = g_new (gint64, 1);

  if (nodes == NULL) {
    nodes = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
    g_hash_table_insert (table, g_strdup (href), nodes);
  }
  *when = kith_peer_table_now (self);
  g_hash_table_replace (nodes, g_strdup (node), when);
}

void
kith_peer_table_note_requester (KithPeerTable *self, const gchar *href, const gchar *node)
{
  kith_peer_table_note (self, self->requesters, href, node);
}

void
kith_peer_table_track (KithPeerTable *self, const KithPacket *packet)
{
  GHashTable *nodes;

  if (packet->href == NULL || packet->node == NULL)
    return;
  if (packet->type == KITH_PACKET_TYPE_DOWNLOADING &&
      (packet->total == 0 || packet->done < packet->total)) {
    kith_peer_table_note (self, self->downloaders, packet->href, packet->node);
    return;
  }
  if (packet->type != KITH_PACKET_TYPE_DOWNLOADING && packet->type != KITH_PACKET_TYPE_COMPLETE)
    return;
  nodes = g_hash_table_lookup (self->downloaders, packet->href);
  if (nodes != NULL && g_hash_table_remove (nodes, packet->node) && g_hash_table_size (nodes) == 0)
    g_hash_table_remove (self->downloaders, packet->href);
}

const gchar *
kith_peer_table_find_downloader (KithPeerTable *self, const gchar *href, GHashTable *skip)
{
  GHashTable *nodes = g_hash_table_lookup (self->downloaders, href);
  gint64 horizon = kith_peer_table_now (self) - (gint64) self->timings->stall_ms * 1000;
  GHashTableIter iter;
  gpointer node, when;

  if (nodes == NULL)
    return NULL;
  g_hash_table_iter_init (&iter, nodes);
  while (g_hash_table_iter_next (&iter, &node, &when)) {
    if (*(gint64 *) when < horizon) {
      g_hash_table_iter_remove (&iter);
      continue;
    }
    if ((skip == NULL || !g_hash_table_contains (skip, node)) && !kith_peer_table_is_bad (self, node))
      return node;
  }
  return NULL;
}

/* Everyone who asked within a few waits of now took part in the same round. */
const gchar *
kith_peer_table_elect (KithPeerTable *self, const gchar *href, GHashTable *skip,
                       gboolean include_self)
{
  GHashTable *nodes = g_hash_table_lookup (self->requesters, href);
  gint64 horizon = kith_peer_table_now (self) - 4 * (gint64) self->timings->client_wait_ms * 1000;
  const gchar *leader = include_self ? self->self_node : NULL;
  GHashTableIter iter;
  gpointer node, when;

  if (nodes == NULL)
    return leader;
  g_hash_table_iter_init (&iter, nodes);
  while (g_hash_table_iter_next (&iter, &node, &when)) {
    if (*(gint64 *) when < horizon) {
      g_hash_table_iter_remove (&iter);
      continue;
    }
    if ((skip != NULL && g_hash_table_contains (skip, node)) || kith_peer_table_is_bad (self, node))
      continue;
    if (leader == NULL || g_strcmp0 (node, leader) < 0)
      leader = node;
  }
  return leader;
}
