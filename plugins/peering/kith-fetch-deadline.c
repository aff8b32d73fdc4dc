/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* kith-fetch-deadline.c — when a fetch job stops waiting for the LAN */
#include "kith-fetch-deadline.h"

struct _KithFetchDeadline {
  const KithPeeringContext *ctx;
  KithFetchFlags flags;
  gint64 started_us; /* peer table clock */
};

KithFetchDeadline *
kith_fetch_deadline_new (const KithPeeringContext *context, KithFetchFlags flags)
{
  KithFetchDeadline *self = g_new0 (KithFetchDeadline, 1);

  self->ctx = context;
  self->flags = flags;
  self->started_us = kith_peer_table_now (context->peers);
  return self;
}

void
kith_fetch_deadline_free (KithFetchDeadline *self)
{
  g_free (self);
}

gboolean
kith_fetch_deadline_origin_allowed (KithFetchDeadline *self)
{
  return self->ctx->can_reach_origin &&
         (self->flags & (KITH_FETCH_FLAG_CACHED_ONLY | KITH_FETCH_FLAG_NO_ORIGIN)) == 0;
}

gboolean
kith_fetch_deadline_passed (KithFetchDeadline *self, gboolean moving, guint *left_ms)
{
  const KithPeeringTimings *timings = self->ctx->timings;
  guint bound_ms = moving ? MAX (timings->follow_max_ms, timings->origin_deadline_ms)
                          : timings->origin_deadline_ms;
  gint64 left_us;

  *left_ms = G_MAXUINT;
  if (!kith_fetch_deadline_origin_allowed (self) || timings->origin_deadline_ms == 0)
    return FALSE;
  left_us = self->started_us + (gint64) bound_ms * 1000 - kith_peer_table_now (self->ctx->peers);
  if (left_us <= 0) {
    *left_ms = 0;
    return TRUE;
  }
  *left_ms = (guint) MIN (left_us / 1000 + 1, (gint64) G_MAXUINT);
  return FALSE;
}

/* A slow uplink's honest copy (200 MiB at 20 Mbit/s: 84 s) is then read to its end rather
 * than fetched from the origin a second time; a trickle is still left, and nothing is
 * followed past that bound. */
gboolean
kith_fetch_deadline_on_pace (KithFetchDeadline *self, guint64 done, guint64 total)
{
  gdouble elapsed_us = (gdouble) (kith_peer_table_now (self->ctx->peers) - self->started_us);
  gdouble bound_us = (gdouble) self->ctx->timings->follow_max_ms * 1000 * KITH_FETCH_DEADLINE_FOLLOW_PACE;

  if (total == 0 || done == 0 || elapsed_us <= 0)
    return FALSE;
  return elapsed_us * ((gdouble) total / (gdouble) done) <= bound_us;
}
