/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* kith-rate-limit.h — token buckets per key (a source address): at most @burst events (or
 * bytes) at once and @rate per second after, for a bounded number of keys. Shared by the
 * peering server (replies per address) and the relay (bytes per requester and in all). */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

typedef struct _KithRateLimit KithRateLimit;

/* @rate events per second per key after a @burst; rate 0 = no limit. At most @max_keys
 * buckets are kept: the one used longest ago goes. */
KithRateLimit *kith_rate_limit_new (guint rate, guint burst, guint max_keys);
void kith_rate_limit_free (KithRateLimit *self);
/* TRUE (and a token taken) if one more event for @key is allowed at @now_us. */
gboolean kith_rate_limit_take (KithRateLimit *self, const gchar *key, gint64 now_us);
/* Charges @n tokens to @key's bucket at @now_us even if it has fewer (it goes into debt):
 * for bytes already read. Returns how long (µs) until the bucket is out of debt, 0 when
 * it still holds tokens; always 0 when the rate is 0. */
gint64 kith_rate_limit_charge (KithRateLimit *self, const gchar *key, guint64 n, gint64 now_us);
/* Gives one token back to @key's bucket (never beyond the burst): an event that turned
 * out to be wanted. Nothing for a key without a bucket. */
void kith_rate_limit_refund (KithRateLimit *self, const gchar *key, gint64 now_us);
/* Buckets kept. */
guint kith_rate_limit_get_size (KithRateLimit *self);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (KithRateLimit, kith_rate_limit_free)

G_END_DECLS
