/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* kith-peering-timings.h — the timings and limits of [peering], as read from the config */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* Timings and limits from [peering]. */
typedef struct {
  guint max_delay_ms;         /* responders wait a random delay in [0, this] */
  guint client_wait_ms;       /* requesters wait this long for a response */
  guint progress_interval_ms; /* "downloading" announcements at most this often */
  guint stall_ms;             /* a downloader silent this long is given up on */
  guint bad_peer_ms;          /* a peer that served bad bytes is skipped this long */
  guint origin_deadline_ms;   /* a fetch that may use the origin goes there after this long
                               * without bytes flowing, whatever the LAN says; 0 = never */
  guint follow_max_ms;        /* ... or, following a downloader whose progress moves, after
                               * this long */
  guint reply_rate;           /* unicast replies per second to one address (0 = no limit) */
  guint reply_burst;          /* ... after a burst of this many */
} KithPeeringTimings;

G_END_DECLS
