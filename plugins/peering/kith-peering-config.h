/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* kith-peering-config.h — the [peering] group read into what the service is made of. Every
 * refusal names file, group and key (kith_config_set_error()) and stops the agent. */
#pragma once

#include "kith-alias-store.h"
#include "kith-config.h"
#include "kith-peering-timings.h"
#include "kith-transport.h"

G_BEGIN_DECLS

/* Refuses a key in [peering] that kith-agent.conf(5) does not document. */
gboolean kith_peering_config_check_keys (KithConfig *config, GError **error);
/* Fills @timings (delays, waits, limits, reply order) and *@stream_readers (readers of one
 * partial copy at most) from [peering], defaults where a key is absent. */
gboolean kith_peering_config_load_timings (KithConfig *config, KithPeeringTimings *timings, guint *stream_readers,
                                           GError **error);
/* The alias store of cache-dir (by default under @state_dir), cache-max-mb and
 * cache-max-age, open; caller unrefs. */
KithAliasStore *kith_peering_config_open_store (KithConfig *config, const gchar *state_dir, GError **error);
/* The transport of port, listen, send-address, broadcast and multicast, its sockets open;
 * caller unrefs. */
KithTransport *kith_peering_config_open_transport (KithConfig *config, GError **error);

G_END_DECLS
