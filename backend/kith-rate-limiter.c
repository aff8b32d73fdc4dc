/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* kith-rate-limiter.c — a token bucket whose balance may go negative: a reservation
 * always succeeds, and the debt tells the caller how long to wait. */
#include "kith-rate-limiter.h"

struct _KithRateLimiter {
  guint64 rate;   /* bytes per second */
  gdouble tokens; /* may be negative: bytes promised but not yet earned */
  gdouble burst;  /* the most that can be saved up while idle */
  gint64 last_us;
};

KithRateLimiter *
kith_rate_limiter_new (guint64 bytes_per_second)
{
  KithRateLimiter *self = g_new0 (KithRateLimiter, 1);

  g_return_val_if_fail (bytes_per_second > 0, NULL);
  self->rate = bytes_per_second;
  self->burst = (gdouble) kith_rate_limiter_get_chunk_size (self);
  self->tokens = self->burst;
  self->last_us = -1;
  return self;
}

void
kith_rate_limiter_free (KithRateLimiter *self)
{
  g_free (self);
}

gsize
kith_rate_limiter_get_chunk_size (KithRateLimiter *self)
{
  return (gsize) CLAMP (self->rate / 20, 1024, 64 * 1024);
}

gint64
kith_rate_limiter_reserve (KithRateLimiter *self, gsize bytes, gint64 now_us)
{
  if (self->last_us >= 0 && now_us > self->last_us)
    self->tokens = MIN (self->burst, self->tokens + (gdouble) (now_us - self->last_us) * (gdouble) self->rate / G_USEC_PER_SEC);
  if (now_us > self->last_us)
    self->last_us = now_us;
  self->tokens -= (gdouble) bytes;
  if (self->tokens >= 0)
    return 0;
  return (gint64) (-self->tokens * G_USEC_PER_SEC / (gdouble) self->rate) + 1;
}
