/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* kith-peering-timings.h — the timings and limits of [peering], as read from the config */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* [peering] reply-order: how holders time their "I have" (docs/protocol.md, "Reply order"). */
typedef enum {
  KITH_REPLY_ORDER_RANK,   /* rank × reply-slot-ms, the hinted holder at once */
  KITH_REPLY_ORDER_RANDOM, /* a random delay in [0, max-delay-ms] (the patent's) */
} KithReplyOrder;

/* Timings and limits from [peering]. */
typedef struct {
  guint max_delay_ms;         /* responders wait at most this long (random: a delay in [0, this]) */
  guint client_wait_ms;       /* requesters wait this long for a response */
  KithReplyOrder reply_order;
  guint reply_slot_ms;        /* rank: the delay between one rank and the next */
  guint miss_wait_ms;         /* rank: the wait of a requester that knows no holder */
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
