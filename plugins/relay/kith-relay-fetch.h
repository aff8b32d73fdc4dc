/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* kith-relay-fetch.h — origin misses fetched by the relay for offline requesters
 * (docs/relay.md): GET /relay/fetch?url=URL&sha256=HASH&size=N on the agent's HTTP server,
 * from the LAN only, for URLs on the backend's host:port or an origin of [relay] allow=,
 * always with a hash. The relay fetches the file through its own peering service (one
 * download for it and every requester, verified against the hash), so that it then holds
 * the file and serves it by peering; the answer is 200 once it holds it, 202 while the
 * fetch runs longer than a request may wait (ask again), 4xx/5xx with a reason otherwise.
 * Fetches at once are capped per requester and in all, and the requests one address may
 * start by a token bucket (64, then 4 a second). */
#pragma once

#include "kith-agent.h"

G_BEGIN_DECLS

typedef struct _KithRelayFetch KithRelayFetch;

/* Serves fetches for @agent (borrowed) of URLs whose "host:port" (lowercase) is in
 * @allow (borrowed, outlives it), files of at most @max_size bytes, at most
 * @max_per_requester / @max_total at once. */
KithRelayFetch *kith_relay_fetch_new (KithAgent *agent, gchar **allow, guint64 max_size, guint max_per_requester,
                                      guint max_total);
void kith_relay_fetch_free (KithRelayFetch *self);
/* Whether to take fetches: this node reaches the backend directly. */
void kith_relay_fetch_set_serving (KithRelayFetch *self, gboolean serving);
/* Fetches served whole since start (the relay held the file in the end). */
guint64 kith_relay_fetch_get_served (KithRelayFetch *self);

/* "host:port" of @url as an allow list names it (host lowercase, default port by scheme),
 * or NULL; caller frees. */
gchar *kith_relay_fetch_target (const gchar *url);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (KithRelayFetch, kith_relay_fetch_free)

G_END_DECLS
