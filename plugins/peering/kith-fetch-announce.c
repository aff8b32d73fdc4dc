/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* kith-fetch-announce.c — a fetch job's "downloading" and "complete" */
#include "kith-fetch-announce.h"

struct _KithFetchAnnounce {
  const KithPeeringContext *ctx;
  gchar *href;
  gint64 last_us; /* monotonic: when "downloading" was last sent */
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
kith_fetch_announce_free (KithFetchAnnounce *self)
{
  g_free (self->href);
  g_free (self);
}

void
kith_fetch_announce_reset (KithFetchAnnounce *self)
{
  self->last_us = 0;
}

void
kith_fetch_announce_progress (KithFetchAnnounce *self, KithFetchDownload *download, guint64 done, guint64 total,
                              gboolean force)
{
  g_autoptr (KithPacket) packet = NULL;
  gint64 now = g_get_monotonic_time ();

  if (!force && now - self->last_us < (gint64) self->ctx->timings->progress_interval_ms * 1000)
    return;
  self->last_us = now;
  packet = kith_packet_new (KITH_PACKET_TYPE_DOWNLOADING);
  packet->href = g_strdup (self->href);
  if (download != NULL && kith_fetch_download_is_served (download)) {
    g_autofree gchar *path = kith_fetch_download_get_partial_path (download);
    packet->alias = kith_peering_sender_url_for_path (self->ctx->sender, path, NULL);
  } else {
    packet->alias = kith_peering_sender_alias_url (self->ctx->sender, NULL, NULL, NULL);
  }
  packet->done = MIN (done, total > 0 ? total : done);
  packet->total = total;
  kith_peering_sender_broadcast (self->ctx->sender, packet);
}

void
kith_fetch_announce_complete (KithFetchAnnounce *self, const KithAliasEntry *entry)
{
  g_autoptr (KithPacket) packet = kith_packet_new (KITH_PACKET_TYPE_COMPLETE);

  packet->href = g_strdup (self->href);
  packet->alias = kith_peering_sender_alias_url (self->ctx->sender, entry->sha256, entry->href, NULL);
  packet->size = entry->size;
  packet->sha256 = g_strdup (entry->sha256);
  kith_peering_sender_broadcast (self->ctx->sender, packet);
}
