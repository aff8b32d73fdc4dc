/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* kith-rate-limit.c — token buckets, refilled continuously */
#include "kith-rate-limit.h"

struct _KithRateLimit {
  guint rate;
  guint burst;
  guint max_keys;
  GHashTable *buckets; /* key → KithBucket* */
};

typedef struct {
  gint64 last_us; /* last refill */
  gdouble tokens;
} KithBucket;

KithRateLimit *
kith_rate_limit_new (guint rate, guint burst, guint max_keys)
{
  KithRateLimit *self = g_new0 (KithRateLimit, 1);

  self->rate = rate;
  self->burst = MAX (burst, 1);
  self->max_keys = MAX (max_keys, 1);
  self->buckets = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
  return self;
}

void
kith_rate_limit_free (KithRateLimit *self)
{
  if (self == NULL)
    return;
  g_hash_table_unref (self->buckets);
  g_free (self);
}

static void
kith_rate_limit_evict_oldest (KithRateLimit *self)
{
  GHashTableIter iter;
  gpointer key, value, oldest = NULL;
  gint64 oldest_us = G_MAXINT64;

  g_hash_table_iter_init (&iter, self->buckets);
  while (g_hash_table_iter_next (&iter, &key, &value)) {
    if (((KithBucket *) value)->last_us < oldest_us) {
      oldest_us = ((KithBucket *) value)->last_us;
      oldest = key;
    }
  }
  if (oldest != NULL)
    g_hash_table_remove (self->buckets, oldest);
}

/* @key's bucket, created full, refilled up to @now_us. */
static KithBucket *
kith_rate_limit_bucket (KithRateLimit *self, const gchar *key, gint64 now_us)
{
  KithBucket *bucket = g_hash_table_lookup (self->buckets, key);

  if (bucket == NULL) {
    if (g_hash_table_size (self->buckets) >= self->max_keys)
      kith_rate_limit_evict_oldest (self);
    bucket = g_new0 (KithBucket, 1);
    bucket->tokens = self->burst;
    bucket->last_us = now_us;
    g_hash_table_insert (self->buckets, g_strdup (key), bucket);
  }
  if (now_us > bucket->last_us) {
    bucket->tokens = MIN ((gdouble) self->burst,
                          bucket->tokens + (gdouble) (now_us - bucket->last_us) * self->rate / G_USEC_PER_SEC);
    bucket->last_us = now_us;
  }
  return bucket;
}

gboolean
kith_rate_limit_take (KithRateLimit *self, const gchar *key, gint64 now_us)
{
  KithBucket *bucket;

  if (self->rate == 0)
    return TRUE;
  bucket = kith_rate_limit_bucket (self, key, now_us);
  if (bucket->tokens < 1.0)
    return FALSE;
  bucket->tokens -= 1.0;
  return TRUE;
}

gint64
kith_rate_limit_charge (KithRateLimit *self, const gchar *key, guint64 n, gint64 now_us)
{
  KithBucket *bucket;

  if (self->rate == 0)
    return 0;
  bucket = kith_rate_limit_bucket (self, key, now_us);
  bucket->tokens -= (gdouble) n;
  if (bucket->tokens >= 0.0)
    return 0;
  return (gint64) (-bucket->tokens * G_USEC_PER_SEC / self->rate) + 1;
}

void
kith_rate_limit_refund (KithRateLimit *self, const gchar *key, gint64 now_us)
{
  KithBucket *bucket;

  if (self->rate == 0 || !g_hash_table_contains (self->buckets, key))
    return;
  bucket = kith_rate_limit_bucket (self, key, now_us);
  bucket->tokens = MIN ((gdouble) self->burst, bucket->tokens + 1.0);
}

guint
kith_rate_limit_get_size (KithRateLimit *self)
{
  return g_hash_table_size (self->buckets);
}
