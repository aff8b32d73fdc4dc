/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* kith-fetch-announce.h — what a fetch job tells the LAN of its own download
 * (docs/protocol.md): "downloading" with its progress, at most once per
 * progress-interval-ms unless it is news, the latest again while the download brings
 * nothing new (kith_fetch_announce_repeat_ms()), and "complete" once the copy is stored */
#pragma once

#include "kith-fetch-download.h"

G_BEGIN_DECLS

typedef struct _KithFetchAnnounce KithFetchAnnounce;

/* The announcements for @href with @context (borrowed: it outlives them). Caller owns. */
KithFetchAnnounce *kith_fetch_announce_new (const KithPeeringContext *context, const gchar *href);
void kith_fetch_announce_free (KithFetchAnnounce *self);
/* "downloading" @done of @total bytes (0: unknown), naming the partial copy @download
 * (nullable) serves, else our alias URL; not sent within progress-interval-ms of the last
 * unless @force. */
void kith_fetch_announce_progress (KithFetchAnnounce *self, KithFetchDownload *download, guint64 done,
                                   guint64 total, gboolean force);
/* The next progress is sent whatever the interval (a new download from the origin). */
void kith_fetch_announce_reset (KithFetchAnnounce *self);
/* The download announced ended (whatever became of it): its "downloading" is not repeated. */
void kith_fetch_announce_stop (KithFetchAnnounce *self);
/* How long after the last "downloading" the latest progress is sent again when nothing was:
 * progress-interval-ms × 4, but within stall-ms / 2 (peers forget a downloader not heard
 * of for stall-ms), and never oftener than progress-interval-ms. */
guint kith_fetch_announce_repeat_ms (const KithPeeringTimings *timings);
/* "complete": @entry (borrowed) is stored and served here; "downloading" is not repeated. */
void kith_fetch_announce_complete (KithFetchAnnounce *self, const KithAliasEntry *entry);

G_END_DECLS
