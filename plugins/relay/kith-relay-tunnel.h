/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* kith-relay-tunnel.h — one CONNECT tunnel of the relay (docs/relay.md): the requester's
 * connection and the target's joined, bytes copied both ways as opaque bytes (an offline
 * node's TLS session to its backend: nothing in them is read), each read charged to the
 * relay's token buckets (the requester's and the total) and the next one delayed until
 * they are out of debt; it ends when either side ends or errs, or after an idle timeout
 * with no byte either way. */
#pragma once

#include <gio/gio.h>

#include "kith-metrics.h"
#include "kith-rate-limit.h"

G_BEGIN_DECLS

typedef struct _KithRelayTunnel KithRelayTunnel;

/* What every tunnel of one relay shares; all borrowed, outliving the tunnels. */
typedef struct {
  KithRateLimit *per_requester; /* keyed by the requester's address */
  KithRateLimit *total;         /* one key for all */
  KithMetrics *metrics;         /* kith_relay_bytes_total{direction="up"|"down"} */
  guint64 idle_ms;
} KithRelayTunnelShared;

/* Called once when the tunnel has ended (both streams closed); the owner frees it then. */
typedef void (*KithRelayTunnelEnded) (KithRelayTunnel *tunnel, gpointer user_data);

/* Joins @requester (taken from the HTTP server) and @target (connected to the CONNECT's
 * host:port); takes a reference on both. @requester_key: the requester's address. */
KithRelayTunnel *kith_relay_tunnel_new (GIOStream *requester, GIOStream *target, const gchar *requester_key,
                                        const KithRelayTunnelShared *shared, KithRelayTunnelEnded ended,
                                        gpointer user_data);
/* Ends the tunnel if it still runs (without calling @ended) and drops it. */
void kith_relay_tunnel_free (KithRelayTunnel *self);
/* The requester's address; owned by @self. */
const gchar *kith_relay_tunnel_get_requester (KithRelayTunnel *self);
/* Bytes carried from the requester to the target (@up) or back. */
guint64 kith_relay_tunnel_get_bytes (KithRelayTunnel *self, gboolean up);

G_END_DECLS
