/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* kith-update-fetch.h — the files of one update check, each fetched through peering
 * (KithFetcher) on its own, so one set may come from several peers and the origin, and
 * each checked against its catalog entry before the set may be installed. */
#pragma once

#include "kith-catalog.h"
#include "kith-fetcher.h"

G_BEGIN_DECLS

typedef struct _KithUpdateFetch KithUpdateFetch;

/* File @name of the catalog moved: @done of @total bytes, from @source ("" when unknown). */
typedef void (*KithUpdateFetchProgress) (const gchar *name, const gchar *source, guint64 done, guint64 total,
                                         gpointer user_data);
/* Every file arrived and matches its entry (@error NULL), or one did not (a
 * KITH_UPDATE_ERROR_FILE naming it) and the others were cancelled. Called once. */
typedef void (*KithUpdateFetchDone) (const GError *error, gpointer user_data);

/* Asks @fetcher for each KithCatalogFile of @files, at @base_url joined with its url, to
 * be checked against its entry in @catalog (borrowed: it must outlive the fetch). Nothing
 * is reported before kith_update_fetch_start(). Free with kith_update_fetch_free(). */
KithUpdateFetch *kith_update_fetch_new (KithFetcher *fetcher, const gchar *base_url, GPtrArray *files,
                                        KithCatalog *catalog);
/* How many files are fetched; 0: nothing to wait for, @done will never be called. */
guint kith_update_fetch_get_count (KithUpdateFetch *self);
/* Reports from now on. A file served from the cache may have finished already: it is taken
 * at once, so @done may be called before this returns. */
void kith_update_fetch_start (KithUpdateFetch *self, KithUpdateFetchProgress progress, KithUpdateFetchDone done,
                              gpointer user_data);
/* File name → the verified copy's path in peering's cache, for each file that arrived;
 * owned by @self. */
GHashTable *kith_update_fetch_get_sources (KithUpdateFetch *self);
/* Reports nothing more; the transfers go on. */
void kith_update_fetch_detach (KithUpdateFetch *self);
/* Reports nothing more and cancels every transfer. */
void kith_update_fetch_cancel (KithUpdateFetch *self);
void kith_update_fetch_free (KithUpdateFetch *self);

G_END_DECLS
