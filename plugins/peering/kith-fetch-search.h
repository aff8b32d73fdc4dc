/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* kith-fetch-search.h — a fetch job's search of the LAN for one URL (docs/protocol.md): the
 * request ("I need"), to the known holder ranked first alone or to every node, the wait for
 * an answer ("I have"), and the "found" and "end" that close it */
#pragma once

#include "kith-peering-context.h"

G_BEGIN_DECLS

typedef struct _KithFetchSearch KithFetchSearch;

/* What the search asks its job, and tells it; all called from the main context, never from
 * within a call of the search's own API. */
typedef struct {
  /* The downloader the job waits for, or NULL (a wait for it is worth the full client wait). */
  const gchar *(*waited_for) (gpointer user_data);
  /* Whether the fetch may use the origin (else the request says cached-only). */
  gboolean (*may_use_origin) (gpointer user_data);
  /* The wait is over and nobody answered "I have": the job decides what next (it may free
   * the search from here). */
  void (*ended) (gpointer user_data);
} KithFetchSearchFuncs;

/* A search for @href with @context (borrowed: it outlives the search); @skip (borrowed: the
 * job's nodes left out, it outlives the search) is never hinted at. Caller owns. */
KithFetchSearch *kith_fetch_search_new (const KithPeeringContext *context, const gchar *href, GHashTable *skip,
                                        const KithFetchSearchFuncs *funcs, gpointer user_data);
/* Stops the wait (no callback after this). */
void kith_fetch_search_free (KithFetchSearch *self);
/* A new request (a new id): with reply-order=rank and @every_holder FALSE, to the known
 * holder ranked first alone, which has reply-slot-ms to answer before the LAN is asked with
 * the same id (it is forgotten as a holder); else to the LAN, which has client-wait-ms (or
 * only miss-wait-ms when nobody is known to hold or fetch the file). Then @ended. */
void kith_fetch_search_start (KithFetchSearch *self, gboolean every_holder);
/* Stops waiting (no @ended); the request id stays, a late answer to it still counts. */
void kith_fetch_search_stop (KithFetchSearch *self);
/* A new request to the LAN (naming the known holder ranked first), without a wait: the
 * answers are taken as they come, and no "found" closes it (kith_fetch_search_found() does
 * nothing until the next kith_fetch_search_start()). */
void kith_fetch_search_ask_again (KithFetchSearch *self);
/* The id of the request in force (0: none yet). */
guint32 kith_fetch_search_get_id (KithFetchSearch *self);
/* "found" for the request kith_fetch_search_start() sent: to @holder (nullable) alone when
 * the request went to it alone, else to the LAN, so that the others may stop. Nothing after
 * kith_fetch_search_ask_again(). */
void kith_fetch_search_found (KithFetchSearch *self, const gchar *holder);
/* "end" of the request: the fetch stops without an answer. */
void kith_fetch_search_end (KithFetchSearch *self);

G_END_DECLS
