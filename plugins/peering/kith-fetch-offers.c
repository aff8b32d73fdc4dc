/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* kith-fetch-offers.c — which copies offered to one fetch job it takes, and how far it trusts each */
#include "kith-fetch-offers.h"

#include "kith-fetch-blame.h"
#include "kith-fetch-pieces.h"
#include "kith-origin-digest.h"
#include "kith-peering-error.h"

/* how long the origin may take to state its digest before we go on without it */
#define KITH_FETCH_OFFERS_DIGEST_TIMEOUT_MS 2000

struct _KithFetchOffers {
  const KithPeeringContext *ctx;
  gchar *href;
  gchar *sha256;                  /* the hash trusted: the caller's or the origin's digest */
  guint64 size;                   /* from the caller, 0: unknown */
  KithPieceList *pieces;          /* trusted per-piece hashes, or NULL */
  GHashTable *left_out;           /* node ids not taken, elected or waited for again */
  KithFetchOffersReadyFunc ready; /* the origin's digest asked for */
  gpointer ready_data;
};

KithFetchOffers *
kith_fetch_offers_new (const KithPeeringContext *context, const gchar *href, const gchar *sha256,
                       guint64 size)
{
  KithFetchOffers *self = g_new0 (KithFetchOffers, 1);

  self->ctx = context;
  self->href = g_strdup (href);
  self->sha256 = g_strdup (sha256);
  self->size = size;
  self->left_out = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  return self;
}

void
kith_fetch_offers_free (KithFetchOffers *self)
{
  g_hash_table_unref (self->left_out);
  kith_piece_list_free (self->pieces);
  g_free (self->sha256);
  g_free (self->href);
  g_free (self);
}

const gchar *
kith_fetch_offers_get_sha256 (KithFetchOffers *self)
{
  return self->sha256;
}

guint64
kith_fetch_offers_get_size (KithFetchOffers *self)
{
  return self->size;
}

static gboolean
kith_fetch_offers_verified (KithFetchOffers *self)
{
  return kith_peering_trust_get_mode (self->ctx->trust) == KITH_PEERING_TRUST_VERIFIED;
}

gboolean
kith_fetch_offers_want_digest (KithFetchOffers *self)
{
  return self->sha256 == NULL && kith_fetch_offers_verified (self);
}

/* The origin's HEAD: a stated digest becomes the hash we trust. */
static void
kith_fetch_offers_digest_done (GObject *source, GAsyncResult *result, gpointer user_data)
{
  g_autoptr (GError) error = NULL;
  g_autofree gchar *digest = kith_origin_digest_head_finish (result, &error);
  KithFetchOffers *self = user_data;

  if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    return; /* the job is gone */
  if (digest != NULL) {
    g_debug ("%s: the origin states sha-256 %s", self->href, digest);
    kith_metrics_add (self->ctx->metrics, "kith_peering_origin_digests_total", NULL, 1);
    g_free (self->sha256);
    self->sha256 = g_steal_pointer (&digest);
  } else {
    g_debug ("%s: no digest from the origin: %s", self->href, error->message);
  }
  self->ready (self->ready_data);
}

void
kith_fetch_offers_ask_origin (KithFetchOffers *self, GCancellable *cancellable,
                              KithFetchOffersReadyFunc ready, gpointer user_data)
{
  self->ready = ready;
  self->ready_data = user_data;
  kith_origin_digest_head_async (self->ctx->session, self->href, KITH_FETCH_OFFERS_DIGEST_TIMEOUT_MS,
                                 cancellable, kith_fetch_offers_digest_done, self);
}

void
kith_fetch_offers_set_pieces (KithFetchOffers *self, const KithPieceList *pieces)
{
  kith_piece_list_free (self->pieces);
  self->pieces = kith_piece_list_copy (pieces);
}

const KithPieceList *
kith_fetch_offers_get_pieces (KithFetchOffers *self)
{
  return self->pieces;
}

void
kith_fetch_offers_drop_pieces (KithFetchOffers *self)
{
  g_clear_pointer (&self->pieces, kith_piece_list_free);
}

gboolean
kith_fetch_offers_in_pieces (KithFetchOffers *self)
{
  return kith_fetch_pieces_fit (self->pieces, self->sha256, self->size);
}

gboolean
kith_fetch_offers_takes_from (KithFetchOffers *self, const gchar *node)
{
  return !g_hash_table_contains (self->left_out, node) && kith_peer_table_is_usable (self->ctx->peers, node);
}

void
kith_fetch_offers_leave_out (KithFetchOffers *self, const gchar *node)
{
  g_hash_table_add (self->left_out, g_strdup (node));
}

void
kith_fetch_offers_take_back_all (KithFetchOffers *self)
{
  g_hash_table_remove_all (self->left_out);
}

GHashTable *
kith_fetch_offers_get_left_out (KithFetchOffers *self)
{
  return self->left_out;
}

/* Without a trusted hash a copy is believed only from an enrolled peer (trust=verified). */
static gboolean
kith_fetch_offers_vouched (KithFetchOffers *self, const KithPacket *packet, GSocketAddress *from)
{
  g_autofree gchar *reason = NULL;

  if (kith_peering_trust_check_vouch (self->ctx->trust, packet, from, &reason))
    return TRUE;
  kith_metrics_add (self->ctx->metrics, "kith_peering_unvouched_total", NULL, 1);
  g_debug ("%s: not taking the copy of %s without a trusted hash: %s", self->href, packet->node, reason);
  kith_fetch_offers_leave_out (self, packet->node);
  return FALSE;
}

KithFetchOfferVerdict
kith_fetch_offers_judge_response (KithFetchOffers *self, const KithPacket *packet, GSocketAddress *from,
                                  KithAliasTrust *trust)
{
  *trust = KITH_ALIAS_TRUST_HASH;
  if (self->sha256 != NULL && packet->sha256 != NULL &&
      g_ascii_strcasecmp (self->sha256, packet->sha256) != 0)
    return KITH_FETCH_OFFER_OTHER;
  if (self->sha256 == NULL) {
    if (!kith_fetch_offers_verified (self))
      *trust = KITH_ALIAS_TRUST_LAN;
    else if (kith_fetch_offers_vouched (self, packet, from))
      *trust = KITH_ALIAS_TRUST_PEER;
    else
      return KITH_FETCH_OFFER_UNPROVEN;
  }
  /* an answer need not state the size; one that does states ours */
  if (kith_fetch_offers_in_pieces (self) && (packet->size == 0 || packet->size == self->size))
    return KITH_FETCH_OFFER_PIECES;
  return KITH_FETCH_OFFER_WHOLE;
}

KithFetchOfferVerdict
kith_fetch_offers_judge_complete (KithFetchOffers *self, const KithPacket *packet, KithAliasTrust *trust)
{
  *trust = KITH_ALIAS_TRUST_HASH;
  if (self->sha256 != NULL) {
    if (g_ascii_strcasecmp (self->sha256, packet->sha256) != 0)
      return KITH_FETCH_OFFER_OTHER;
    return kith_fetch_offers_in_pieces (self) && packet->size == self->size ? KITH_FETCH_OFFER_PIECES
                                                                            : KITH_FETCH_OFFER_WHOLE;
  }
  if (kith_fetch_offers_verified (self))
    return KITH_FETCH_OFFER_UNPROVEN; /* a bare "complete" proves nothing */
  *trust = KITH_ALIAS_TRUST_LAN;
  return KITH_FETCH_OFFER_WHOLE;
}

KithAliasEntry *
kith_fetch_offers_lookup_stored (KithFetchOffers *self)
{
  g_autoptr (KithAliasEntry) entry = NULL;

  if (self->sha256 != NULL)
    return kith_alias_store_lookup_sha256 (self->ctx->store, self->sha256);
  entry = kith_alias_store_lookup_href (self->ctx->store, self->href);
  /* without a hash, a copy nobody vouched for is not the answer (trust=verified) */
  if (entry != NULL && kith_fetch_offers_verified (self) && entry->trust < KITH_ALIAS_TRUST_PEER)
    return NULL;
  return g_steal_pointer (&entry);
}

gboolean
kith_fetch_offers_may_stream (KithFetchOffers *self)
{
  return self->sha256 != NULL;
}

gboolean
kith_fetch_offers_bound (KithFetchOffers *self, const gchar *node, const gchar *sha256, guint64 size,
                         const gchar **check_sha256, guint64 *check_size, GError **error)
{
  if (self->size > 0 && size > 0 && size != self->size) {
    GError *lie = g_error_new (KITH_PEERING_ERROR, KITH_PEERING_ERROR_HASH_MISMATCH,
                               "%s offered %" G_GUINT64_FORMAT " bytes, not %" G_GUINT64_FORMAT, node, size,
                               self->size);
    kith_fetch_blame_source (self->ctx, self->href, node, lie);
    g_propagate_error (error, lie);
    return FALSE;
  }
  *check_sha256 = self->sha256 != NULL ? self->sha256 : sha256;
  *check_size = self->size > 0 ? self->size : size;
  return TRUE;
}
