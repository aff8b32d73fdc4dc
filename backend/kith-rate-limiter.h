/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* kith-rate-limiter.h — one token bucket shared by every response of the backend, so
 * --rate-limit caps the whole uplink like the patent's slow DSL line. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

typedef struct _KithRateLimiter KithRateLimiter;

/* A limiter of @bytes_per_second (> 0); free with kith_rate_limiter_free(). */
KithRateLimiter *kith_rate_limiter_new (guint64 bytes_per_second);
void kith_rate_limiter_free (KithRateLimiter *self);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (KithRateLimiter, kith_rate_limiter_free)

/* How many bytes a response should send at a time: about 1/20 s of the rate. */
gsize kith_rate_limiter_get_chunk_size (KithRateLimiter *self);
/* Reserves @bytes at monotonic time @now_us; returns how many microseconds the caller
 * must wait before sending them (0: send now). Reservations queue up first come, first
 * served, so concurrent responses share the rate. */
gint64 kith_rate_limiter_reserve (KithRateLimiter *self, gsize bytes, gint64 now_us);

G_END_DECLS
