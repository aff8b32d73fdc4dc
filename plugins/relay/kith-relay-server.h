/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* kith-relay-server.h — the serving side of the relay (docs/relay.md): a connected node
 * whose certificate permits `relay` answers "I need" for want=relay with its relay alias,
 * certificate and proof of possession, and takes HTTP CONNECT on the agent's HTTP server —
 * only from the LAN, only to its backend's host:port and the origins of [relay] allow=,
 * within caps on tunnels and bandwidth per requester and in all. Anything else is refused
 * and counted (kith_relay_refused_total{reason}); nothing is ever proxied in clear. Origin
 * misses of offline requesters are fetched for them (kith-relay-fetch.h). */
#pragma once

#include "kith-agent.h"

G_BEGIN_DECLS

typedef struct _KithRelayServer KithRelayServer;

/* The caps of one relay; zero rates mean no limit. */
typedef struct {
  gchar **allow;             /* extra CONNECT targets, "host:port" (borrowed) */
  guint max_tunnels;         /* open at once, all requesters */
  guint max_per_requester;   /* open at once from one address */
  guint64 rate;              /* bytes/s, all tunnels together */
  guint64 rate_per_requester;/* bytes/s, one requester's tunnels together */
  guint64 idle_ms;           /* a tunnel with no byte either way for this long is closed */
  guint64 connect_timeout_ms;/* reaching the target */
  guint64 fetch_max_size;    /* the largest file fetched for a requester (kith-relay-fetch.h) */
  guint max_fetches;         /* fetches for requesters at once, all of them */
  guint max_fetches_per_requester;
} KithRelayServerLimits;

/* A relay for @agent (borrowed, outlives it); nothing is served until _start(). */
KithRelayServer *kith_relay_server_new (KithAgent *agent, const KithRelayServerLimits *limits);
/* Takes CONNECT on the agent's HTTP server and answers relay task requests (while
 * kith_relay_server_set_serving() says the backend answers). */
void kith_relay_server_start (KithRelayServer *self);
void kith_relay_server_free (KithRelayServer *self);
/* Whether to offer relaying: this node reaches its backend directly now. */
void kith_relay_server_set_serving (KithRelayServer *self, gboolean serving);
/* Whether it offers relaying now: serving, and enrolled for `relay`. */
gboolean kith_relay_server_is_offering (KithRelayServer *self);
/* Tunnels open now, and opened since start. */
guint kith_relay_server_get_tunnels (KithRelayServer *self);
guint64 kith_relay_server_get_tunnels_total (KithRelayServer *self);
/* Files fetched whole for requesters since start. */
guint64 kith_relay_server_get_fetches (KithRelayServer *self);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (KithRelayServer, kith_relay_server_free)

G_END_DECLS
