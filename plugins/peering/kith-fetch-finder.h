/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* kith-fetch-finder.h — where a fetch job's file comes from next (FIG. 6, 7; docs/architecture.md):
 * the store first, then the LAN asked (kith-fetch-search.h), its answers, "complete"s and
 * partial copies judged (kith-fetch-offers.h, kith-fetch-streamers.h), the downloader waited
 * for or the election (kith-fetch-wait.h), the origin once its deadline passed, the relay
 * when this node may not use the origin (kith-fetch-relay.h). It names the source to its job
 * through callbacks; the job fetches from it. */
#pragma once

#include "kith-fetch-offers.h"
#include "kith-fetch-streamers.h"
#include "kith-fetch-wait.h"

G_BEGIN_DECLS

typedef struct _KithFetchFinder KithFetchFinder;

/* What the finder tells its job, from the main context or from within a call of its API;
 * each but looking may free the finder. */
typedef struct {
  /* The copy stored here already answers the fetch (@entry borrowed). */
  void (*stored) (const KithAliasEntry *entry, gpointer user_data);
  /* Searching (@node NULL: the LAN asked) or waiting for @node: the job shows it. */
  void (*looking) (const gchar *node, gpointer user_data);
  /* Fetch the copy of @node at @alias (@sha256, @size as it offers them) with @trust;
   * @streaming: a partial copy, still growing. */
  void (*copy) (const gchar *node, const gchar *alias, const gchar *sha256, guint64 size,
                KithAliasTrust trust, gboolean streaming, gpointer user_data);
  /* Fetch the file in pieces, first from @node (its first @available bytes at @alias), the
   * partial copies announced joining at once (kith_fetch_finder_get_streamers()). */
  void (*pieces) (const gchar *node, const gchar *alias, guint64 available, gpointer user_data);
  /* Fetch it from the origin. */
  void (*origin) (gpointer user_data);
  /* The relay in use fetches it for us (docs/relay.md): the job shows it. */
  void (*relaying) (gpointer user_data);
  /* Nobody will bring it: the job fails with KITH_PEERING_ERROR @code and @message. */
  void (*nobody) (gint code, const gchar *message, gpointer user_data);
} KithFetchFinderFuncs;

/* A finder for @href fetched with @flags that judges with @offers and goes by @deadline
 * (borrowed, like @context: they outlive it). Caller owns. */
KithFetchFinder *kith_fetch_finder_new (const KithPeeringContext *context, const gchar *href,
                                        KithFetchFlags flags, KithFetchOffers *offers,
                                        KithFetchDeadline *deadline, const KithFetchFinderFuncs *funcs,
                                        gpointer user_data);
void kith_fetch_finder_free (KithFetchFinder *self);
/* Looks first in the store (kith_fetch_offers_lookup_stored()), then — after the origin's
 * digest when it is worth asking for and the fetch may use the origin — asks the LAN;
 * @cancellable (borrowed: it outlives the finder) stops the HEAD and the relay's fetch. */
void kith_fetch_finder_start (KithFetchFinder *self, GCancellable *cancellable);
/* Asks the LAN (again): a new request, its answers awaited. */
void kith_fetch_finder_search (KithFetchFinder *self);
/* Stops looking (the job fetches): no timer, packets ignored until the next search. */
void kith_fetch_finder_stop (KithFetchFinder *self);
/* "end" of the request in force, while searching: the fetch stops without an answer. */
void kith_fetch_finder_end (KithFetchFinder *self);
/* @node failed the job: not waited for any more. */
void kith_fetch_finder_forget (KithFetchFinder *self, const gchar *node);
/* Our read of @node's partial copy stopped by no fault of its leader: the copy is marked
 * (@ended: cut or gone, not read again; else busy, not asked again for a while), another is
 * read, or the wait for the leader goes on as for one that moves — stall-ms, or after its
 * copy ended as long as a leader has for its first word. */
void kith_fetch_finder_read_elsewhere (KithFetchFinder *self, const gchar *node, gboolean ended);
/* A packet from another node, sent from @from (its node taken by the offers). */
void kith_fetch_finder_handle_packet (KithFetchFinder *self, const KithPacket *packet, GSocketAddress *from);
/* In pieces: a new request without a wait (answers join as they come); and the "found"
 * that lets the other holders stop, sent once they had max-delay-ms to answer (unless the
 * finder stops or looks again first). */
void kith_fetch_finder_ask_again (KithFetchFinder *self);
void kith_fetch_finder_found_later (KithFetchFinder *self);
/* The id of the request in force, the partial copies announced (owned by @self) and the node
 * waited for (NULL: none; owned by @self): what a download in pieces takes sources from. */
guint32 kith_fetch_finder_get_request_id (KithFetchFinder *self);
KithFetchStreamers *kith_fetch_finder_get_streamers (KithFetchFinder *self);
const gchar *kith_fetch_finder_get_waited_for (KithFetchFinder *self);
/* The progress the node waited for announced; cleared when a download of ours is reset. */
void kith_fetch_finder_get_progress (KithFetchFinder *self, guint64 *done, guint64 *total);
void kith_fetch_finder_clear_progress (KithFetchFinder *self);

G_END_DECLS
