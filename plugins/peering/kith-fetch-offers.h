/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* kith-fetch-offers.h — which copies offered to one fetch job it takes, and how far it
 * trusts each (docs/architecture.md "Trust"): against the hash the job trusts (the caller's
 * or the origin's digest) and its piece list; without one, from an enrolled peer that proves
 * it (trust=verified, kith-peering-trust.h) or from anyone (trust=lan). Bad and backed-off
 * peers of the peer table are never taken, nor the nodes left out of the job. */
#pragma once

#include "kith-peering-context.h"

G_BEGIN_DECLS

typedef struct _KithFetchOffers KithFetchOffers;

typedef enum {
  KITH_FETCH_OFFER_WHOLE,    /* fetch the copy whole, verified as the trust given says */
  KITH_FETCH_OFFER_PIECES,   /* fetch the file in pieces, first from this copy */
  KITH_FETCH_OFFER_OTHER,    /* another version of the URL: not for this job */
  KITH_FETCH_OFFER_UNPROVEN, /* no trusted hash, and nothing proves the copy */
} KithFetchOfferVerdict;

/* The offers of a job for @href trusting @sha256 (nullable) and @size (0: unknown), with
 * @context (borrowed: it outlives them). Caller owns. */
KithFetchOffers *kith_fetch_offers_new (const KithPeeringContext *context, const gchar *href,
                                        const gchar *sha256, guint64 size);
void kith_fetch_offers_free (KithFetchOffers *self);
/* The hash trusted, NULL: none (owned by @self); the size known, 0: unknown. */
const gchar *kith_fetch_offers_get_sha256 (KithFetchOffers *self);
guint64 kith_fetch_offers_get_size (KithFetchOffers *self);
/* Whether no hash is trusted yet and trust=verified takes no copy without one or a proof:
 * the origin's digest is worth asking for. */
gboolean kith_fetch_offers_want_digest (KithFetchOffers *self);
/* Called once the origin's answer is in (kith_fetch_offers_ask_origin()); never after a
 * cancel. */
typedef void (*KithFetchOffersReadyFunc) (gpointer user_data);
/* Asks the origin for the digest it states (kith-origin-digest.h, given up after 2 s): the
 * hash trusted from then on (counted); then @ready, digest or none. */
void kith_fetch_offers_ask_origin (KithFetchOffers *self, GCancellable *cancellable,
                                   KithFetchOffersReadyFunc ready, gpointer user_data);
/* A piece list trusted like the hash (copied; NULL: none), and the list as it stands
 * (owned by @self); it is dropped when the whole file did not match the hash. */
void kith_fetch_offers_set_pieces (KithFetchOffers *self, const KithPieceList *pieces);
const KithPieceList *kith_fetch_offers_get_pieces (KithFetchOffers *self);
void kith_fetch_offers_drop_pieces (KithFetchOffers *self);
/* Whether the file comes in pieces from several sources (kith_fetch_pieces_fit()). */
gboolean kith_fetch_offers_in_pieces (KithFetchOffers *self);
/* Whether copies of @node are taken: not left out, and usable in the peer table. */
gboolean kith_fetch_offers_takes_from (KithFetchOffers *self, const gchar *node);
/* @node is not taken again in this job (nor elected, nor waited for). */
void kith_fetch_offers_leave_out (KithFetchOffers *self, const gchar *node);
/* Every node left out is taken again (the relay now holds what they did not). */
void kith_fetch_offers_take_back_all (KithFetchOffers *self);
/* The set of nodes left out (borrowed: it lives as long as @self). */
GHashTable *kith_fetch_offers_get_left_out (KithFetchOffers *self);
/* An "I have" from @from: how it is fetched, and with which @trust. A peer that cannot
 * prove its copy (trust=verified, no trusted hash) is counted and left out. */
KithFetchOfferVerdict kith_fetch_offers_judge_response (KithFetchOffers *self, const KithPacket *packet,
                                                        GSocketAddress *from, KithAliasTrust *trust);
/* A "complete": how it is fetched, and with which @trust; a bare one under trust=verified
 * without a trusted hash is UNPROVEN (not left out: asked again, it may prove it). */
KithFetchOfferVerdict kith_fetch_offers_judge_complete (KithFetchOffers *self, const KithPacket *packet,
                                                        KithAliasTrust *trust);
/* The stored copy the job may answer with at once, or NULL: without a trusted hash, under
 * trust=verified, only one that was vouched for or verified. Caller owns. */
KithAliasEntry *kith_fetch_offers_lookup_stored (KithFetchOffers *self);
/* Whether a partial copy may be read as it grows: only against a trusted hash, since only
 * the end verifies its bytes. */
gboolean kith_fetch_offers_may_stream (KithFetchOffers *self);
/* The hash (@check_sha256, nullable, borrowed) and size (@check_size) a copy @node offers
 * as @sha256, @size is fetched against: the trusted ones, else the offer's. FALSE with
 * @error (KITH_PEERING_ERROR_HASH_MISMATCH: a lie, blamed as kith-fetch-blame.h says) when
 * the size is not the trusted one. */
gboolean kith_fetch_offers_bound (KithFetchOffers *self, const gchar *node, const gchar *sha256, guint64 size,
                                  const gchar **check_sha256, guint64 *check_size, GError **error);

G_END_DECLS
