/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* kith-fetch-announce.c — a fetch job's "downloading" and "complete" */
#include "kith-fetch-announce.h"

struct _KithFetchAnnounce {
  const KithPeeringContext *ctx;
  gchar *href;
  gint64 last_us; /* monotonic: when "downloading" was last sent */
  KithPacket *last; /* the last "downloading" sent, repeated while nothing new is said */
  guint repeat_id;
};

KithFetchAnnounce *
kith_fetch_announce_new (const KithPeeringContext *context, const gchar *href)
{
  KithFetchAnnounce *self = g_new0 (KithFetchAnnounce, 1);

  self->ctx = context;
  self->href = g_strdup (href);
  return self;
}

void
kith_fetch_announce_stop (KithFetchAnnounce *self)
{
  g_clear_handle_id (&self->repeat_id, g_source_remove);
  g_clear_pointer (&self->last, kith_packet_free);
}

void
kith_fetch_announce_free (KithFetchAnnounce *self)
{
  kith_fetch_announce_stop (self);
  g_free (self->href);
  g_free (self);
}

void
kith_fetch_announce_reset (KithFetchAnnounce *self)
{
  self->last_us = 0;
}

guint
kith_fetch_announce_repeat_ms (const KithPeeringTimings *timings)
{
  /* within half of stall-ms, so that nobody takes a live download for a gone one; not
   * oftener than progress moves may be said, nor than once a second by default */
  return MAX (timings->progress_interval_ms, MIN (4 * timings->progress_interval_ms, timings->stall_ms / 2));
}

static void kith_fetch_announce_send (KithFetchAnnounce *self, KithPacket *packet);

/* Nothing was said for the repeat interval (the download brought no byte): the progress
 * again, where it stopped, so that nodes that came later still learn who is fetching the
 * URL and where its partial copy is. Those that follow it already are not held by it: only
 * progress that moves renews their wait. */
static gboolean
kith_fetch_announce_repeat (gpointer user_data)
{
  KithFetchAnnounce *self = user_data;
  KithPacket *packet = g_steal_pointer (&self->last);

  self->repeat_id = 0;
  kith_fetch_announce_send (self, packet);
  return G_SOURCE_REMOVE;
}

/* Broadcasts @packet (taken) and repeats it after the repeat interval unless something
 * newer is said first. */
static void
kith_fetch_announce_send (KithFetchAnnounce *self, KithPacket *packet)
{
  kith_fetch_announce_stop (self);
  self->last_us = g_get_monotonic_time ();
  kith_peering_sender_broadcast (self->ctx->sender, packet);
  self->last = packet;
  self->repeat_id = g_timeout_add (kith_fetch_announce_repeat_ms (self->ctx->timings),
                                   kith_fetch_announce_repeat, self);
}

void
kith_fetch_announce_progress (KithFetchAnnounce *self, KithFetchDownload *download, guint64 done, guint64 total,
                              gboolean force)
{
  KithPacket *packet;
  gint64 now = g_get_monotonic_time ();

  done = MIN (done, total > 0 ? total : done);
  if (!force && now - self->last_us < (gint64) self->ctx->timings->progress_interval_ms * 1000) {
    /* not said now, but the repeat says it: the bytes that came last before a stall too */
    if (self->last != NULL) {
      self->last->done = done;
      self->last->total = total;
    }
    return;
  }
  packet = kith_packet_new (KITH_PACKET_TYPE_DOWNLOADING);
  packet->href = g_strdup (self->href);
  if (download != NULL && kith_fetch_download_is_served (download)) {
    g_autofree gchar *path = kith_fetch_download_get_partial_path (download);
    packet->alias = kith_peering_sender_url_for_path (self->ctx->sender, path, NULL);
  } else {
    packet->alias = kith_peering_sender_alias_url (self->ctx->sender, NULL, NULL, NULL);
  }
  packet->done = done;
  packet->total = total;
  kith_fetch_announce_send (self, packet);
}

void
kith_fetch_announce_complete (KithFetchAnnounce *self, const KithAliasEntry *entry)
{
  g_autoptr (KithPacket) packet = kith_packet_new (KITH_PACKET_TYPE_COMPLETE);

  kith_fetch_announce_stop (self);
  packet->href = g_strdup (self->href);
  packet->alias = kith_peering_sender_alias_url (self->ctx->sender, entry->sha256, entry->href, NULL);
  packet->size = entry->size;
  packet->sha256 = g_strdup (entry->sha256);
  kith_peering_sender_broadcast (self->ctx->sender, packet);
}
