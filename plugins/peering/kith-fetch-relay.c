/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* kith-fetch-relay.c — a fetch job's ask to the relay in use */
#include "kith-fetch-relay.h"

#include "kith-origin-relay.h"

typedef struct {
  KithFetchRelayDoneFunc done;
  gpointer user_data;
} KithFetchRelayAsk;

static GObject *
kith_fetch_relay_find (KithAgent *agent)
{
  GObject *relay = agent != NULL ? kith_agent_get_service (agent, "relay") : NULL;

  return relay != NULL && KITH_IS_ORIGIN_RELAY (relay) ? relay : NULL;
}

gboolean
kith_fetch_relay_available (KithAgent *agent)
{
  return kith_fetch_relay_find (agent) != NULL;
}

static void
kith_fetch_relay_fetched (GObject *source, GAsyncResult *result, gpointer user_data)
{
  g_autoptr (GError) error = NULL;
  g_autofree KithFetchRelayAsk *ask = user_data;

  if (!kith_origin_relay_fetch_finish (KITH_ORIGIN_RELAY (source), result, &error) &&
      g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    return; /* the asker is gone */
  ask->done (error, ask->user_data);
}

void
kith_fetch_relay_ask (KithAgent *agent, const gchar *url, const gchar *sha256, guint64 size,
                      GCancellable *cancellable, KithFetchRelayDoneFunc done, gpointer user_data)
{
  GObject *relay = kith_fetch_relay_find (agent);
  KithFetchRelayAsk *ask;

  g_return_if_fail (relay != NULL);
  ask = g_new0 (KithFetchRelayAsk, 1);
  ask->done = done;
  ask->user_data = user_data;
  kith_origin_relay_fetch_async (KITH_ORIGIN_RELAY (relay), url, sha256, size, cancellable,
                                 kith_fetch_relay_fetched, ask);
}
