/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* kith-fetcher.h — the in-process fetch service (FIG. 8, 516; docs/architecture.md): how the update,
 * relay and upload plugins get a URL through peering without linking it */
#pragma once

#include "kith-piece-list.h"
#include "kith-transfer.h"

G_BEGIN_DECLS

typedef enum {
  KITH_FETCH_FLAG_NONE = 0,
  KITH_FETCH_FLAG_CACHED_ONLY = 1 << 0, /* only from peers' caches, never the origin */
  KITH_FETCH_FLAG_NO_ORIGIN = 1 << 1,   /* peers or a relay, but not the origin itself */
} KithFetchFlags;

#define KITH_TYPE_FETCHER (kith_fetcher_get_type ())
G_DECLARE_INTERFACE (KithFetcher, kith_fetcher, KITH, FETCHER, GObject)

struct _KithFetcherInterface {
  GTypeInterface parent_iface;
  KithTransfer *(*fetch) (KithFetcher *self, const gchar *url, const gchar *sha256, guint64 size,
                          KithFetchFlags flags);
  /* Optional: fetch with a trusted piece list (NULL: like fetch). */
  KithTransfer *(*fetch_pieces) (KithFetcher *self, const gchar *url, const gchar *sha256, guint64 size,
                                 const KithPieceList *pieces, KithFetchFlags flags);
};

/* Starts fetching @url, verified against @sha256 when given (64 hex digits, or NULL);
 * returns the transfer (caller owns a ref) — watch its "finished" signal. Same as
 * kith_fetcher_fetch_full() with no known size. */
KithTransfer *kith_fetcher_fetch (KithFetcher *self, const gchar *url, const gchar *sha256,
                                  KithFetchFlags flags);
/* Likewise, with the size the caller knows @url has (e.g. from the signed catalog; 0:
 * unknown): no download, from a peer or the origin, writes more than @size bytes, and a
 * copy of another size is refused. */
KithTransfer *kith_fetcher_fetch_full (KithFetcher *self, const gchar *url, const gchar *sha256,
                                       guint64 size, KithFetchFlags flags);
/* Likewise, with @pieces (nullable, copied): a piece list the caller trusts as it trusts
 * @sha256 (e.g. from the signed catalog), for a file of @size bytes. A large file may then
 * come in pieces from several peers at once, each piece checked as it arrives
 * (docs/protocol.md "Pieces"); the whole file is still checked against @sha256. A list
 * that does not describe @size bytes is ignored. A fetcher without piece support
 * fetches the file whole. */
KithTransfer *kith_fetcher_fetch_pieces (KithFetcher *self, const gchar *url, const gchar *sha256,
                                         guint64 size, const KithPieceList *pieces, KithFetchFlags flags);

G_END_DECLS
