/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* kith-peer-table.c — requesters, downloaders, holders, bad and backed-off peers, each with
 * the time it was last heard of, bounded, on a clock that tests can replace */
#include "kith-peer-table.h"

struct _KithPeerTable {
  const KithPeeringTimings *timings; /* borrowed */
  gchar *self_node;
  KithPeerClockFunc clock;
  gpointer clock_data;
  GHashTable *requesters;  /* href → KithPeerHref* (node → gint64 µs) */
  GHashTable *downloaders; /* href → KithPeerHref* (node → gint64 last announcement, µs) */
  GHashTable *holders;     /* href → KithPeerHref* (node → gint64 last heard holding it, µs) */
  GHashTable *bad;         /* node → gint64 until, µs */
  GHashTable *backoff;     /* node → KithPeerBackoff* */
  GHashTable *addresses;   /* node → KithPeerAddress* */
};

typedef struct {
  gint64 last;       /* the newest of its nodes (first: kith_peer_table_make_room reads it) */
  GHashTable *nodes; /* node → gint64 µs */
} KithPeerHref;

typedef struct {
  gint64 until; /* first: kith_peer_table_make_room reads it */
  guint step_ms;
} KithPeerBackoff;

typedef struct {
  gint64 last; /* first: kith_peer_table_make_room reads it */
  GSocketAddress *address;
} KithPeerAddress;

static void
kith_peer_address_free (KithPeerAddress *address)
{
  g_object_unref (address->address);
  g_free (address);
}

static void
kith_peer_href_free (KithPeerHref *href)
{
  g_hash_table_unref (href->nodes);
  g_free (href);
}

KithPeerTable *
kith_peer_table_new (const KithPeeringTimings *timings, const gchar *self_node)
{
  KithPeerTable *self = g_new0 (KithPeerTable, 1);

  self->timings = timings;
  self->self_node = g_strdup (self_node);
  self->requesters = g_hash_table_new_full (g_str_hash, g_str_equal, g_free,
                                            (GDestroyNotify) kith_peer_href_free);
  self->downloaders = g_hash_table_new_full (g_str_hash, g_str_equal, g_free,
                                             (GDestroyNotify) kith_peer_href_free);
  self->holders = g_hash_table_new_full (g_str_hash, g_str_equal, g_free,
                                         (GDestroyNotify) kith_peer_href_free);
  self->bad = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
  self->backoff = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
  self->addresses = g_hash_table_new_full (g_str_hash, g_str_equal, g_free,
                                           (GDestroyNotify) kith_peer_address_free);
  return self;
}

void
kith_peer_table_free (KithPeerTable *self)
{
  if (self == NULL)
    return;
  g_hash_table_unref (self->requesters);
  g_hash_table_unref (self->downloaders);
  g_hash_table_unref (self->holders);
  g_hash_table_unref (self->bad);
  g_hash_table_unref (self->backoff);
  g_hash_table_unref (self->addresses);
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

/* Makes room for one more key in @table (values start with a gint64 time: the oldest goes). */
static void
kith_peer_table_make_room (GHashTable *table, const gchar *key, guint max)
{
  GHashTableIter iter;
  gpointer k, v, oldest = NULL;
  gint64 oldest_time = G_MAXINT64;

  if (g_hash_table_size (table) < max || g_hash_table_contains (table, key))
    return;
  g_hash_table_iter_init (&iter, table);
  while (g_hash_table_iter_next (&iter, &k, &v)) {
    if (*(gint64 *) v < oldest_time) {
      oldest_time = *(gint64 *) v;
      oldest = k;
    }
  }
  if (oldest != NULL)
    g_hash_table_remove (table, oldest);
}

gboolean
kith_peer_table_mark_bad (KithPeerTable *self, const gchar *node)
{
  gint64 *until;

  if (node == NULL || g_strcmp0 (node, "origin") == 0)
    return FALSE;
  /* "until" orders entries the same way as "since" would: the oldest ends first */
  kith_peer_table_make_room (self->bad, node, KITH_PEER_TABLE_MAX_BAD);
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

guint
kith_peer_table_back_off (KithPeerTable *self, const gchar *node)
{
  KithPeerBackoff *backoff;

  if (node == NULL || g_strcmp0 (node, "origin") == 0)
    return 0;
  backoff = g_hash_table_lookup (self->backoff, node);
  if (backoff == NULL) {
    kith_peer_table_make_room (self->backoff, node, KITH_PEER_TABLE_MAX_BACKOFF);
    backoff = g_new0 (KithPeerBackoff, 1);
    g_hash_table_insert (self->backoff, g_strdup (node), backoff);
    backoff->step_ms = KITH_PEER_TABLE_BACKOFF_FIRST_MS;
  } else {
    backoff->step_ms = MIN (backoff->step_ms * 2, KITH_PEER_TABLE_BACKOFF_MAX_MS);
  }
  backoff->until = kith_peer_table_now (self) + (gint64) backoff->step_ms * 1000;
  return backoff->step_ms;
}

void
kith_peer_table_forgive (KithPeerTable *self, const gchar *node)
{
  if (node != NULL)
    g_hash_table_remove (self->backoff, node);
}

gboolean
kith_peer_table_is_backed_off (KithPeerTable *self, const gchar *node)
{
  KithPeerBackoff *backoff = g_hash_table_lookup (self->backoff, node);

  /* an expired back-off is kept, so that the next fault doubles it */
  return backoff != NULL && backoff->until > kith_peer_table_now (self);
}

gboolean
kith_peer_table_is_usable (KithPeerTable *self, const gchar *node)
{
  return !kith_peer_table_is_bad (self, node) && !kith_peer_table_is_backed_off (self, node);
}

/* Records "@node did something about @href now" in @table, within its bounds (@max_hrefs
 * URLs, @max_nodes nodes each). */
static void
kith_peer_table_note_within (KithPeerTable *self, GHashTable *table, const gchar *href, const gchar *node,
                             guint max_hrefs, guint max_nodes)
{
  KithPeerHref *entry = g_hash_table_lookup (table, href);
  gint64 now = kith_peer_table_now (self);
  gint64 *when;

  if (entry == NULL) {
    kith_peer_table_make_room (table, href, max_hrefs);
    entry = g_new0 (KithPeerHref, 1);
    entry->nodes = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
    g_hash_table_insert (table, g_strdup (href), entry);
  }
  kith_peer_table_make_room (entry->nodes, node, max_nodes);
  when = g_new (gint64, 1);
  *when = now;
  g_hash_table_replace (entry->nodes, g_strdup (node), when);
  entry->last = now;
}

static void
kith_peer_table_note (KithPeerTable *self, GHashTable *table, const gchar *href, const gchar *node)
{
  kith_peer_table_note_within (self, table, href, node, KITH_PEER_TABLE_MAX_HREFS, KITH_PEER_TABLE_MAX_NODES);
}

void
kith_peer_table_note_holder (KithPeerTable *self, const gchar *href, const gchar *node)
{
  if (href == NULL || node == NULL || g_strcmp0 (node, "origin") == 0 ||
      g_strcmp0 (node, self->self_node) == 0)
    return;
  kith_peer_table_note_within (self, self->holders, href, node, KITH_PEER_TABLE_MAX_HOLDER_HREFS,
                               KITH_PEER_TABLE_MAX_HOLDERS);
}

void
kith_peer_table_note_address (KithPeerTable *self, const gchar *node, GSocketAddress *from)
{
  KithPeerAddress *address;

  if (node == NULL || !G_IS_INET_SOCKET_ADDRESS (from) || g_strcmp0 (node, self->self_node) == 0)
    return;
  kith_peer_table_make_room (self->addresses, node, KITH_PEER_TABLE_MAX_ADDRESSES);
  address = g_new0 (KithPeerAddress, 1);
  address->last = kith_peer_table_now (self);
  address->address = g_object_ref (from);
  g_hash_table_replace (self->addresses, g_strdup (node), address);
}

GSocketAddress *
kith_peer_table_get_address (KithPeerTable *self, const gchar *node)
{
  KithPeerAddress *address = node != NULL ? g_hash_table_lookup (self->addresses, node) : NULL;

  return address != NULL ? address->address : NULL;
}

void
kith_peer_table_forget_holder (KithPeerTable *self, const gchar *href, const gchar *node)
{
  KithPeerHref *entry = href != NULL ? g_hash_table_lookup (self->holders, href) : NULL;

  if (entry != NULL && node != NULL && g_hash_table_remove (entry->nodes, node) &&
      g_hash_table_size (entry->nodes) == 0)
    g_hash_table_remove (self->holders, href);
}

GPtrArray *
kith_peer_table_get_holders (KithPeerTable *self, const gchar *href, GHashTable *skip, gboolean usable_only)
{
  KithPeerHref *entry = g_hash_table_lookup (self->holders, href);
  gint64 horizon = kith_peer_table_now (self) - (gint64) KITH_PEER_TABLE_HOLDER_AGE_MS * 1000;
  GPtrArray *holders = g_ptr_array_new ();
  GHashTableIter iter;
  gpointer node, when;

  if (entry == NULL)
    return holders;
  g_hash_table_iter_init (&iter, entry->nodes);
  while (g_hash_table_iter_next (&iter, &node, &when)) {
    if (*(gint64 *) when < horizon) {
      g_hash_table_iter_remove (&iter);
      continue;
    }
    if ((skip != NULL && g_hash_table_contains (skip, node)) ||
        (usable_only && !kith_peer_table_is_usable (self, node)))
      continue;
    g_ptr_array_add (holders, node);
  }
  /* an entry emptied by age stays (one URL's worth) until make_room evicts it */
  return holders;
}

void
kith_peer_table_note_requester (KithPeerTable *self, const gchar *href, const gchar *node)
{
  kith_peer_table_note (self, self->requesters, href, node);
}

void
kith_peer_table_track (KithPeerTable *self, const KithPacket *packet)
{
  KithPeerHref *entry;

  if (packet->href == NULL || packet->node == NULL)
    return;
  if (packet->type == KITH_PACKET_TYPE_DOWNLOADING &&
      (packet->total == 0 || packet->done < packet->total)) {
    kith_peer_table_note (self, self->downloaders, packet->href, packet->node);
    return;
  }
  if (packet->type != KITH_PACKET_TYPE_DOWNLOADING && packet->type != KITH_PACKET_TYPE_COMPLETE)
    return;
  if (packet->type == KITH_PACKET_TYPE_COMPLETE)
    kith_peer_table_note_holder (self, packet->href, packet->node);
  entry = g_hash_table_lookup (self->downloaders, packet->href);
  if (entry != NULL && g_hash_table_remove (entry->nodes, packet->node) &&
      g_hash_table_size (entry->nodes) == 0)
    g_hash_table_remove (self->downloaders, packet->href);
}

const gchar *
kith_peer_table_find_downloader (KithPeerTable *self, const gchar *href, GHashTable *skip)
{
  KithPeerHref *entry = g_hash_table_lookup (self->downloaders, href);
  gint64 horizon = kith_peer_table_now (self) - (gint64) self->timings->stall_ms * 1000;
  GHashTableIter iter;
  gpointer node, when;

  if (entry == NULL)
    return NULL;
  g_hash_table_iter_init (&iter, entry->nodes);
  while (g_hash_table_iter_next (&iter, &node, &when)) {
    if (*(gint64 *) when < horizon) {
      g_hash_table_iter_remove (&iter);
      continue;
    }
    if ((skip == NULL || !g_hash_table_contains (skip, node)) && kith_peer_table_is_usable (self, node))
      return node;
  }
  return NULL;
}

/* Everyone who asked within a few waits of now took part in the same round. */
const gchar *
kith_peer_table_elect (KithPeerTable *self, const gchar *href, GHashTable *skip,
                       gboolean include_self)
{
  KithPeerHref *entry = g_hash_table_lookup (self->requesters, href);
  gint64 horizon = kith_peer_table_now (self) - 4 * (gint64) self->timings->client_wait_ms * 1000;
  const gchar *leader = include_self ? self->self_node : NULL;
  GHashTableIter iter;
  gpointer node, when;

  if (entry == NULL)
    return leader;
  g_hash_table_iter_init (&iter, entry->nodes);
  while (g_hash_table_iter_next (&iter, &node, &when)) {
    if (*(gint64 *) when < horizon) {
      g_hash_table_iter_remove (&iter);
      continue;
    }
    if ((skip != NULL && g_hash_table_contains (skip, node)) || !kith_peer_table_is_usable (self, node))
      continue;
    if (leader == NULL || g_strcmp0 (node, leader) < 0)
      leader = node;
  }
  return leader;
}

guint
kith_peer_table_count_requesters (KithPeerTable *self, const gchar *href)
{
  GHashTableIter iter;
  KithPeerHref *entry;
  guint n = 0;

  if (href != NULL) {
    entry = g_hash_table_lookup (self->requesters, href);
    return entry != NULL ? g_hash_table_size (entry->nodes) : 0;
  }
  g_hash_table_iter_init (&iter, self->requesters);
  while (g_hash_table_iter_next (&iter, NULL, (gpointer *) &entry))
    n += g_hash_table_size (entry->nodes);
  return n;
}

guint
kith_peer_table_count_holders (KithPeerTable *self, const gchar *href)
{
  GHashTableIter iter;
  KithPeerHref *entry;
  guint n = 0;

  if (href != NULL) {
    entry = g_hash_table_lookup (self->holders, href);
    return entry != NULL ? g_hash_table_size (entry->nodes) : 0;
  }
  g_hash_table_iter_init (&iter, self->holders);
  while (g_hash_table_iter_next (&iter, NULL, (gpointer *) &entry))
    n += g_hash_table_size (entry->nodes);
  return n;
}

guint
kith_peer_table_count_bad (KithPeerTable *self)
{
  return g_hash_table_size (self->bad);
}
