/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* kith-fetch-relay.h — a fetch job asks the relay in use (docs/relay.md) to fetch from the
 * origin a file that this node may not fetch itself and nobody on the LAN has */
#pragma once

#include "kith-agent.h"

G_BEGIN_DECLS

/* @error NULL: the relay holds the file now (it answers "I have" to the LAN). */
typedef void (*KithFetchRelayDoneFunc) (const GError *error, gpointer user_data);

/* Whether @agent (nullable) runs a relay service that can be asked. */
gboolean kith_fetch_relay_available (KithAgent *agent);
/* Asks that relay for @url (checked against @sha256, of @size, 0: unknown); @done is
 * called once, but not after @cancellable was cancelled (the asker is gone). */
void kith_fetch_relay_ask (KithAgent *agent, const gchar *url, const gchar *sha256, guint64 size,
                           GCancellable *cancellable, KithFetchRelayDoneFunc done, gpointer user_data);

G_END_DECLS
