/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* kith-fetcher.c — the in-process fetch service interface */
#include "kith-fetcher.h"

G_DEFINE_INTERFACE (KithFetcher, kith_fetcher, G_TYPE_OBJECT)

static void
kith_fetcher_default_init (KithFetcherInterface *iface)
{
}

KithTransfer *
kith_fetcher_fetch (KithFetcher *self, const gchar *url, const gchar *sha256, KithFetchFlags flags)
{
  g_return_val_if_fail (KITH_IS_FETCHER (self), NULL);
  g_return_val_if_fail (url != NULL, NULL);
  return KITH_FETCHER_GET_IFACE (self)->fetch (self, url, sha256, 0, flags);
}

KithTransfer *
kith_fetcher_fetch_full (KithFetcher *self, const gchar *url, const gchar *sha256, guint64 size,
                         KithFetchFlags flags)
{
  g_return_val_if_fail (KITH_IS_FETCHER (self), NULL);
  g_return_val_if_fail (url != NULL, NULL);
  return KITH_FETCHER_GET_IFACE (self)->fetch (self, url, sha256, size, flags);
}
