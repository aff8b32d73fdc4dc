/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* kith-update-check.h — one catalog check of the update service (private to the plugin):
 * the signed catalog from the backend, verified, the installed set hashed against its
 * manifest, and what to fetch
 *
 * It reads the agent's configuration and the service's installed catalog, and answers
 * through its GAsyncReadyCallback; it knows nothing of the service, its schedule, its
 * transfers or its installer's switch (docs/architecture.md, "Trust" and "Update schedule").
 */
#pragma once

#include "kith-agent.h"
#include "kith-catalog.h"

#include <libsoup/soup.h>

G_BEGIN_DECLS

typedef struct {
  KithCatalog *catalog; /* the verified catalog; owned */
  gboolean up_to_date;  /* @catalog is the installed one and every installed file matches it */
  gboolean repair;      /* @catalog is the installed one, some of its files are damaged */
  guint n_damaged;      /* installed files that no longer match their manifest */
  GPtrArray *fetch;     /* KithCatalogFile borrowed from @catalog: new, changed or damaged */
} KithUpdateCheckResult;

void kith_update_check_result_free (KithUpdateCheckResult *result);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (KithUpdateCheckResult, kith_update_check_result_free)

/* Whether a check can run at all: the backend is reachable (directly or through a relay's
 * tunnel) and [agent] backend-url and trust-anchor are set; else KITH_UPDATE_ERROR_OFFLINE or
 * _NOT_CONFIGURED. */
gboolean kith_update_check_ready (KithAgent *agent, GError **error);
/* GETs /catalog.json and /catalog.json.sig from @agent's backend-url through @session (never
 * through peers), verifies them against the trust anchor and @installed's version, then hashes
 * the files of @installed in @signatures_dir from a worker thread. @installed must stay alive
 * and unchanged until @callback runs. Call it once kith_update_check_ready() said yes. Fails with
 * KITH_UPDATE_ERROR_CATALOG or the soup error of a GET (prefixed with what was fetched). */
void kith_update_check_catalog_async (KithAgent *agent, SoupSession *session, const gchar *signatures_dir,
                                      KithCatalog *installed, GCancellable *cancellable,
                                      GAsyncReadyCallback callback, gpointer user_data);
/* The result (caller frees), or NULL with the error. */
KithUpdateCheckResult *kith_update_check_catalog_finish (GAsyncResult *result, GError **error);

G_END_DECLS
