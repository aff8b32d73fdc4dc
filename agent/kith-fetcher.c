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

KithTransfer *
kith_fetcher_fetch_pieces (KithFetcher *self, const gchar *url, const gchar *sha256, guint64 size,
                           const KithPieceList *pieces, KithFetchFlags flags)
{
  KithFetcherInterface *iface;

  g_return_val_if_fail (KITH_IS_FETCHER (self), NULL);
  g_return_val_if_fail (url != NULL, NULL);
  iface = KITH_FETCHER_GET_IFACE (self);
  if (pieces != NULL && (sha256 == NULL || kith_piece_list_get_file_size (pieces) != size))
    pieces = NULL; /* a list is only as good as the file hash and size it comes with */
  if (iface->fetch_pieces == NULL)
    return iface->fetch (self, url, sha256, size, flags);
  return iface->fetch_pieces (self, url, sha256, size, pieces, flags);
}
