/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* kith-relay.h — the relay service (docs/relay.md): a connected, enrolled node tunnels its
 * offline neighbours' TLS sessions to the vendor backend (kith-relay-server.h); every node
 * finds a relay by itself when its backend does not answer (kith-relay-client.h). Module
 * `kith-relay`, requires `peering` (tasks) and `upload` (the node's enrolled identity). */
#pragma once

#include "kith-agent.h"

G_BEGIN_DECLS

#define KITH_TYPE_RELAY (kith_relay_get_type ())
G_DECLARE_FINAL_TYPE (KithRelay, kith_relay, KITH, RELAY, GObject)

/* Reads [relay], starts both sides; NULL with @error on a bad config. */
KithRelay *kith_relay_new (KithAgent *agent, GError **error);
void kith_relay_stop (KithRelay *self);
/* Its GetStatus section, floating. */
GVariant *kith_relay_get_status (KithRelay *self);

G_END_DECLS
