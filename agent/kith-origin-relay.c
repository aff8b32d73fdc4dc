/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* kith-origin-relay.c — the origin-through-a-relay interface */
#include "kith-origin-relay.h"

G_DEFINE_INTERFACE (KithOriginRelay, kith_origin_relay, G_TYPE_OBJECT)

static void
kith_origin_relay_default_init (KithOriginRelayInterface *iface)
{
}

void
kith_origin_relay_fetch_async (KithOriginRelay *self, const gchar *url, const gchar *sha256, guint64 size,
                               GCancellable *cancellable, GAsyncReadyCallback callback, gpointer user_data)
{
  g_return_if_fail (KITH_IS_ORIGIN_RELAY (self));
  KITH_ORIGIN_RELAY_GET_IFACE (self)->fetch_async (self, url, sha256, size, cancellable, callback, user_data);
}

gboolean
kith_origin_relay_fetch_finish (KithOriginRelay *self, GAsyncResult *result, GError **error)
{
  g_return_val_if_fail (KITH_IS_ORIGIN_RELAY (self), FALSE);
  return KITH_ORIGIN_RELAY_GET_IFACE (self)->fetch_finish (self, result, error);
}
