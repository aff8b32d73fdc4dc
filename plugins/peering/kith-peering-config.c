/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* kith-peering-config.c — [peering] read: its keys, timings, streaming, reply order, the
 * alias store and the transport; a bad value names file, group and key */
#include "kith-peering-config.h"

#include "kith-partial-handler.h"

static const gchar *const kith_peering_config_keys[] = {
  "port", "listen", "send-address", "broadcast", "multicast",
  "max-delay-ms", "client-wait-ms", "progress-interval-ms", "stall-ms", "bad-peer-time",
  "origin-deadline-ms", "follow-max-ms", "reply-rate", "reply-burst",
  "reply-order", "reply-slot-ms", "miss-wait-ms", "cache-dir", "cache-max-mb", "cache-max-age", "trust",
  "stream-readers", NULL,
};

static gboolean
kith_peering_config_read_timings (KithConfig *config, KithPeeringTimings *timings, GError **error)
{
  guint64 max_delay, client_wait, progress, stall, bad_peer, deadline, follow_max, rate, burst;

  /* defaults chosen by measurement (bench/RESULTS.md): a hit is found in ~20 ms; a miss
   * costs the wait plus ~6 ms of bookkeeping, so 80 ms keeps it under 100 ms, and still
   * leaves 40 ms past the latest reply for the LAN round trip. The patent's 2000/2200 ms
   * still work by config. */
  if (!kith_config_get_uint64 (config, "peering", "max-delay-ms", 40, 0, 60000, &max_delay, error) ||
      !kith_config_get_uint64 (config, "peering", "client-wait-ms", 80, 1, 60000, &client_wait, error) ||
      !kith_config_get_uint64 (config, "peering", "progress-interval-ms", 250, 10, 60000, &progress, error) ||
      !kith_config_get_uint64 (config, "peering", "stall-ms", 5000, 100, 600000, &stall, error) ||
      !kith_config_get_duration_ms (config, "peering", "bad-peer-time", 10 * 60 * 1000, &bad_peer, error) ||
      !kith_config_get_uint64 (config, "peering", "origin-deadline-ms", 4000, 0, 600000, &deadline, error) ||
      !kith_config_get_uint64 (config, "peering", "follow-max-ms", 60000, 0, 3600000, &follow_max, error) ||
      !kith_config_get_uint64 (config, "peering", "reply-rate", 20, 0, 100000, &rate, error) ||
      !kith_config_get_uint64 (config, "peering", "reply-burst", 40, 1, 100000, &burst, error))
    return FALSE;
  if (client_wait <= max_delay) {
    kith_config_set_error (config, error, "peering", "client-wait-ms",
                           "%" G_GUINT64_FORMAT " must exceed max-delay-ms (%" G_GUINT64_FORMAT
                           ") so that the slowest responder is still heard", client_wait, max_delay);
    return FALSE;
  }
  timings->max_delay_ms = max_delay;
  timings->client_wait_ms = client_wait;
  timings->progress_interval_ms = progress;
  timings->stall_ms = stall;
  timings->bad_peer_ms = MIN (bad_peer, G_MAXUINT);
  timings->origin_deadline_ms = deadline;
  timings->follow_max_ms = follow_max;
  timings->reply_rate = rate;
  timings->reply_burst = burst;
  return TRUE;
}

/* A node streams its download to at most stream-readers others; the rest read theirs. The
 * default 4: with LAN links about five times the uplink (100 Mbit/s, 20 Mbit/s), four
 * streams at the origin's pace fit in one node's link, and a storm of N takes a tree
 * log4(N) deep. */
static gboolean
kith_peering_config_read_streaming (KithConfig *config, guint *stream_readers, GError **error)
{
  guint64 readers;

  if (!kith_config_get_uint64 (config, "peering", "stream-readers", 4, 1, KITH_PARTIAL_HANDLER_MAX_READERS,
                               &readers, error))
    return FALSE;
  *stream_readers = readers;
  return TRUE;
}

/* reply-order=rank (the default): holders answer in the order of kith-reply-rank.h, one
 * reply-slot-ms apart, and a requester that knows no holder waits only miss-wait-ms;
 * reply-order=random: every holder waits a random delay in [0, max-delay-ms] and every
 * search waits client-wait-ms, as in the patent (whose timings then work by config). */
static gboolean
kith_peering_config_read_reply_order (KithConfig *config, KithPeeringTimings *timings, GError **error)
{
  g_autofree gchar *order = kith_config_get_string (config, "peering", "reply-order", "rank", error);
  guint64 slot, miss_wait;

  if (order == NULL ||
      !kith_config_get_uint64 (config, "peering", "reply-slot-ms", 3, 0, 1000, &slot, error) ||
      !kith_config_get_uint64 (config, "peering", "miss-wait-ms", 15, 1, 60000, &miss_wait, error))
    return FALSE;
  if (g_strcmp0 (order, "rank") != 0 && g_strcmp0 (order, "random") != 0) {
    kith_config_set_error (config, error, "peering", "reply-order", "'%s' is neither 'rank' nor 'random'", order);
    return FALSE;
  }
  timings->reply_order = g_strcmp0 (order, "rank") == 0 ? KITH_REPLY_ORDER_RANK : KITH_REPLY_ORDER_RANDOM;
  timings->reply_slot_ms = slot;
  /* never longer than the wait with a holder known */
  timings->miss_wait_ms = MIN (miss_wait, timings->client_wait_ms);
  return TRUE;
}

gboolean
kith_peering_config_check_keys (KithConfig *config, GError **error)
{
  return kith_config_check_keys (config, "peering", kith_peering_config_keys, error);
}

gboolean
kith_peering_config_load_timings (KithConfig *config, KithPeeringTimings *timings, guint *stream_readers,
                                  GError **error)
{
  return kith_peering_config_read_timings (config, timings, error) &&
         kith_peering_config_read_streaming (config, stream_readers, error) &&
         kith_peering_config_read_reply_order (config, timings, error);
}

KithAliasStore *
kith_peering_config_open_store (KithConfig *config, const gchar *state_dir, GError **error)
{
  g_autofree gchar *default_dir = g_build_filename (state_dir, "peering-cache", NULL);
  g_autofree gchar *dir = kith_config_get_path (config, "peering", "cache-dir", default_dir, error);
  guint64 max_mb, max_age;

  if (dir == NULL ||
      !kith_config_get_uint64 (config, "peering", "cache-max-mb", 1024, 0, G_MAXUINT32, &max_mb, error) ||
      !kith_config_get_duration_ms (config, "peering", "cache-max-age", 30ull * 24 * 3600 * 1000,
                                    &max_age, error))
    return NULL;
  return kith_alias_store_new (dir, max_mb * 1024 * 1024, max_age, error);
}

KithTransport *
kith_peering_config_open_transport (KithConfig *config, GError **error)
{
  /* bare defaults stay on loopback; the packaged kith-agent.conf opens the LAN */
  static const gchar *const default_broadcast[] = { "127.255.255.255", NULL };
  g_autofree gchar *listen = NULL;
  g_autofree gchar *send = NULL;
  g_autofree gchar *multicast = NULL;
  g_auto (GStrv) broadcast = NULL;
  g_autoptr (GError) error_local = NULL;
  g_autoptr (KithTransport) transport = NULL;
  guint64 port;

  if (!kith_config_get_uint64 (config, "peering", "port", 1967, 1, G_MAXUINT16, &port, error) ||
      (listen = kith_config_get_string (config, "peering", "listen", "127.255.255.255", error)) == NULL ||
      (send = kith_config_get_string (config, "peering", "send-address", "127.0.0.1", error)) == NULL ||
      (broadcast = kith_config_get_strv (config, "peering", "broadcast", default_broadcast, error)) == NULL)
    return NULL;
  multicast = kith_config_get_string (config, "peering", "multicast", NULL, &error_local);
  if (error_local != NULL) {
    g_propagate_error (error, g_steal_pointer (&error_local));
    return NULL;
  }
  transport = kith_transport_new (port, listen[0] != '\0' ? listen : NULL, send,
                                  (const gchar *const *) broadcast, multicast);
  if (!kith_transport_start (transport, &error_local)) {
    kith_config_set_error (config, error, "peering", "port", "cannot open the peering sockets: %s",
                           error_local->message);
    return NULL;
  }
  return g_steal_pointer (&transport);
}
