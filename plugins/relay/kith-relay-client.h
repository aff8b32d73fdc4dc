/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* kith-relay-client.h — the requesting side of the relay (docs/relay.md). It finds out by
 * itself whether the backend answers directly (a TCP connect to its host and port: no
 * route, refused or timed out means no), and when it does not — or always, on an
 * [agent] offline=true node, which never tries — asks the LAN for a relay (want=relay),
 * checks every offer with the one task-offer check (kith_task_offer_verify(), role
 * `relay`), tries the first that passes with a CONNECT to the backend through it, and then
 * routes the backend's traffic through it (the agent's KithBackendRoute). The route is
 * checked again every probe interval: a relay that stops tunnelling is backed off and the
 * next one found; a backend that answers directly again ends the relaying. */
#pragma once

#include "kith-agent.h"

G_BEGIN_DECLS

typedef struct _KithRelayClient KithRelayClient;

typedef struct {
  guint64 probe_ms;         /* how often the route is checked */
  guint64 probe_timeout_ms; /* a connect slower than this counts as unreachable */
  guint64 offer_wait_ms;    /* how long one search waits for a relay that verifies */
  guint64 retry_ms;         /* after a search that found none */
  guint64 backoff_ms;       /* a relay that failed is not taken again for this long */
  gboolean use_relays;      /* FALSE: only probe the backend (for the serving side), never search */
} KithRelayClientTimings;

/* Told whether the backend answers directly, each time that is found out. */
typedef void (*KithRelayClientDirectFunc) (gboolean direct, gpointer user_data);

/* The requesting side of @agent (borrowed, outlives it). */
KithRelayClient *kith_relay_client_new (KithAgent *agent, const KithRelayClientTimings *timings,
                                        KithRelayClientDirectFunc func, gpointer user_data);
/* Starts probing (or, offline, searching). */
void kith_relay_client_start (KithRelayClient *self);
void kith_relay_client_free (KithRelayClient *self);
/* Asks the relay in use to fetch @url (verified against @sha256, @size bytes or 0) and hold
 * it (kith-relay-fetch.h), asking again while it answers "still fetching", for at most
 * @timeout_ms (and again, a little later, while its caps are full); fails at once when no
 * relay is in use and none is being searched for or tried. The request itself is
 * kith-relay-request.h. The task's source object is @source. */
void kith_relay_client_fetch_async (KithRelayClient *self, GObject *source, const gchar *url, const gchar *sha256,
                                    guint64 size, guint64 timeout_ms, GCancellable *cancellable,
                                    GAsyncReadyCallback callback, gpointer user_data);
gboolean kith_relay_client_fetch_finish (KithRelayClient *self, GAsyncResult *result, GError **error);
/* "probing", "direct", "searching", "trying", "relayed" or "unreachable". */
const gchar *kith_relay_client_get_state (KithRelayClient *self);
/* Relay offers refused since start (they failed the check, or their tunnel did). */
guint64 kith_relay_client_get_refused (KithRelayClient *self);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (KithRelayClient, kith_relay_client_free)

G_END_DECLS
