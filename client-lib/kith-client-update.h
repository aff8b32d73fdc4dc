/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* kith-client-update.h — the update plugin (org.kith.Update1) through a KithClient */
#pragma once

#include "kith-client.h"

G_BEGIN_DECLS

/**
 * KithClientUpdateStatus:
 * @state: idle, checking, downloading or installing
 * @catalog_version: the installed catalog's version; 0: nothing installed
 * @installed: (element-type utf8 utf8): file name → version
 * @last_check: unix seconds, 0: never
 * @last_result: the last check's one-line result
 * @next_check: unix seconds
 *
 * The update service's state, as its D-Bus properties say.
 */
typedef struct {
  gchar *state;
  guint64 catalog_version;
  GHashTable *installed;
  gint64 last_check;
  gchar *last_result;
  gint64 next_check;
} KithClientUpdateStatus;

#define KITH_TYPE_CLIENT_UPDATE_STATUS (kith_client_update_status_get_type ())
GType kith_client_update_status_get_type (void);
/**
 * kith_client_update_status_copy:
 * @status: a status
 *
 * Returns: (transfer full): a deep copy
 */
KithClientUpdateStatus *kith_client_update_status_copy (const KithClientUpdateStatus *status);
void kith_client_update_status_free (KithClientUpdateStatus *status);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (KithClientUpdateStatus, kith_client_update_status_free)

/* Called for each FileProgress of a running check: @source is "origin", "cache", a peer's
 * node id, or "" while searching; done = total once the file verified. */
typedef void (*KithClientUpdateProgressFunc) (const gchar *name, const gchar *source, guint64 done,
                                              guint64 total, gpointer user_data);

/**
 * kith_client_update_get_status_async:
 *
 * Reads the update service's properties; PLUGIN_MISSING when it does not run.
 */
void kith_client_update_get_status_async (KithClient *self, GCancellable *cancellable,
                                          GAsyncReadyCallback callback, gpointer user_data);
/**
 * kith_client_update_get_status_finish:
 * @self: a client
 * @res: the result
 * @error: return location for an error
 *
 * Returns: (transfer full): the status; caller frees it
 */
KithClientUpdateStatus *kith_client_update_get_status_finish (KithClient *self, GAsyncResult *res,
                                                              GError **error);
/**
 * kith_client_update_get_status:
 * @self: a client
 * @cancellable: (nullable): a cancellable
 * @error: return location for an error
 *
 * Blocking kith_client_update_get_status_async().
 *
 * Returns: (transfer full): the status; caller frees it
 */
KithClientUpdateStatus *kith_client_update_get_status (KithClient *self, GCancellable *cancellable,
                                                       GError **error);

/* Asks the agent to check for updates now and waits (no D-Bus timeout: a check over a slow
 * line takes what it takes) while @progress (may be NULL) sees every file move. */
/**
 * kith_client_update_check_async:
 * @self: a client
 * @progress: (scope forever) (nullable): sees every file move
 * @progress_data: (closure progress): data for @progress
 * @cancellable: (nullable): a cancellable
 * @callback: called when the check is over
 * @user_data: data for @callback
 *
 * Asks the agent to check for updates now.
 */
void kith_client_update_check_async (KithClient *self, KithClientUpdateProgressFunc progress,
                                     gpointer progress_data, GCancellable *cancellable,
                                     GAsyncReadyCallback callback, gpointer user_data);
/**
 * kith_client_update_check_finish:
 *
 * Finishes it: the agent's one-line result ("installed catalog 2 (6 files, 6 fetched)");
 * caller frees. A check that failed is a KITH_CLIENT_ERROR_FAILED naming the reason.
 */
gchar *kith_client_update_check_finish (KithClient *self, GAsyncResult *res, GError **error);
/* Blocking kith_client_update_check_async(); @progress runs inside this call. */
/**
 * kith_client_update_check:
 * @self: a client
 * @progress: (scope call) (nullable): sees every file move
 * @progress_data: (closure progress): data for @progress
 * @cancellable: (nullable): a cancellable
 * @error: return location for an error
 *
 * Blocking kith_client_update_check_async().
 *
 * Returns: (transfer full): the agent's one-line result
 */
gchar *kith_client_update_check (KithClient *self, KithClientUpdateProgressFunc progress,
                                 gpointer progress_data, GCancellable *cancellable, GError **error);

G_END_DECLS
