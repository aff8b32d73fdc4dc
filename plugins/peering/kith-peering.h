/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* kith-peering.h — the peering service (FIG. 2; docs/architecture.md): one per agent, shared by every
 * fetch; other plugins reach it through the KithFetcher interface */
#pragma once

#include "kith-agent.h"
#include "kith-alias-store.h"

G_BEGIN_DECLS

#define KITH_TYPE_PEERING (kith_peering_get_type ())
G_DECLARE_FINAL_TYPE (KithPeering, kith_peering, KITH, PEERING, GObject)

/* Reads [peering], opens the alias store, the UDP transport and the alias HTTP handler. */
KithPeering *kith_peering_new (KithAgent *agent, GError **error);
/* Closes the sockets and fails the transfers still running. */
void kith_peering_stop (KithPeering *self);
/* The node's alias store; owned by @self. */
KithAliasStore *kith_peering_get_store (KithPeering *self);
/* The GetStatus section: counters, timings, cache use; floating. */
GVariant *kith_peering_get_status (KithPeering *self);

/* Signal "peer-download" (href, node, done, total): another node announced progress. */

G_END_DECLS
