/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* kith-fetch-deadline.h — how long a fetch job that may use the origin waits for the LAN
 * (origin-deadline-ms, follow-max-ms) before it goes to the origin itself, counted from the
 * job's start on the peer table's clock */
#pragma once

#include "kith-peering-context.h"

G_BEGIN_DECLS

/* a stream past follow-max-ms is followed while the whole file would take, at its pace so
 * far, at most this many times follow-max-ms: so never longer than that in all */
#define KITH_FETCH_DEADLINE_FOLLOW_PACE 4

typedef struct _KithFetchDeadline KithFetchDeadline;

/* The deadline of a job with @flags starting now, with the timings and clock of @context
 * (borrowed: it outlives the deadline). Caller owns. */
KithFetchDeadline *kith_fetch_deadline_new (const KithPeeringContext *context, KithFetchFlags flags);
void kith_fetch_deadline_free (KithFetchDeadline *self);
/* Whether the fetch may use the origin now: its flags allow it and this node can reach
 * origins (not [agent] offline=true, not behind a relay; that may change while it runs).
 * A fetch that may not has no deadline. */
gboolean kith_fetch_deadline_origin_allowed (KithFetchDeadline *self);
/* Whether origin-deadline-ms (@moving: the longer bound for following a downloader that
 * makes progress, follow-max-ms when that is longer) has passed since the start; fills the
 * ms left otherwise (G_MAXUINT: no deadline). Never with origin-deadline-ms=0, nor for a
 * fetch that may not use the origin. */
gboolean kith_fetch_deadline_passed (KithFetchDeadline *self, gboolean moving, guint *left_ms);
/* Whether a stream at @done of @total bytes, at its average pace since the start, brings the
 * whole file within KITH_FETCH_DEADLINE_FOLLOW_PACE × follow-max-ms of that start. */
gboolean kith_fetch_deadline_on_pace (KithFetchDeadline *self, guint64 done, guint64 total);

G_END_DECLS
