/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* kith-origin-relay.h — an origin reached through a relay (docs/relay.md): a node that may
 * not fetch from origins asks the relay it uses to fetch a file for it — the relay's own
 * peering fetch, deduplicated with its own and verified against the hash — so that the
 * relay then holds the file and answers "I have" for it on the LAN. Implemented by the
 * relay plugin (its service object), used by peering without linking it. */
#pragma once

#include <gio/gio.h>

G_BEGIN_DECLS

#define KITH_TYPE_ORIGIN_RELAY (kith_origin_relay_get_type ())
G_DECLARE_INTERFACE (KithOriginRelay, kith_origin_relay, KITH, ORIGIN_RELAY, GObject)

struct _KithOriginRelayInterface {
  GTypeInterface parent_iface;
  void (*fetch_async) (KithOriginRelay *self, const gchar *url, const gchar *sha256, guint64 size,
                       GCancellable *cancellable, GAsyncReadyCallback callback, gpointer user_data);
  gboolean (*fetch_finish) (KithOriginRelay *self, GAsyncResult *result, GError **error);
};

/* Asks the relay in use to fetch @url (of @size bytes, 0: unknown) and hold it, verified
 * against @sha256 (64 hex digits, required: a relay fetches nothing it cannot check). */
void kith_origin_relay_fetch_async (KithOriginRelay *self, const gchar *url, const gchar *sha256, guint64 size,
                                    GCancellable *cancellable, GAsyncReadyCallback callback, gpointer user_data);
/* TRUE once the relay holds the file; FALSE with @error when no relay is in use, or it
 * refused or failed (its reason in the message). */
gboolean kith_origin_relay_fetch_finish (KithOriginRelay *self, GAsyncResult *result, GError **error);

G_END_DECLS
