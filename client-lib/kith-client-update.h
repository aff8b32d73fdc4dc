/* kith-client-update.h — the update plugin (org.kith.Update1) through a KithClient */
#pragma once

#include "kith-client.h"

G_BEGIN_DECLS

/* The update service's state, as its D-Bus properties say. */
typedef struct {
  gchar *state;            /* idle, checking, downloading, installing */
  guint64 catalog_version; /* 0: nothing installed */
  GHashTable *installed;   /* file name → version */
  gint64 last_check;       /* unix seconds, 0: never */
  gchar *last_result;
  gint64 next_check;       /* unix seconds */
} KithClientUpdateStatus;

void kith_client_update_status_free (KithClientUpdateStatus *status);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (KithClientUpdateStatus, kith_client_update_status_free)

/* Called for each FileProgress of a running check: @source is "origin", "cache", a peer's
 * node id, or "" while searching; done = total once the file verified. */
typedef void (*KithClientUpdateProgressFunc) (const gchar *name, const gchar *source, guint64 done,
                                              guint64 total, gpointer user_data);

/* Reads the update service's properties; PLUGIN_MISSING when it does not run. */
void kith_client_update_get_status_async (KithClient *self, GCancellable *cancellable,
                                          GAsyncReadyCallback callback, gpointer user_data);
/* Finishes it; caller frees the status. */
KithClientUpdateStatus *kith_client_update_get_status_finish (KithClient *self, GAsyncResult *res,
                                                              GError **error);
/* Blocking kith_client_update_get_status_async(); caller frees the status. */
KithClientUpdateStatus *kith_client_update_get_status (KithClient *self, GCancellable *cancellable,
                                                       GError **error);

/* Asks the agent to check for updates now and waits (no D-Bus timeout: a check over a slow
 * line takes what it takes) while @progress (may be NULL) sees every file move. */
void kith_client_update_check_async (KithClient *self, KithClientUpdateProgressFunc progress,
                                     gpointer progress_data, GCancellable *cancellable,
                                     GAsyncReadyCallback callback, gpointer user_data);
/* Finishes it: the agent's one-line result ("installed catalog 2 (6 files, 6 fetched)");
 * caller frees. A check that failed is a KITH_CLIENT_ERROR_FAILED naming the reason. */
gchar *kith_client_update_check_finish (KithClient *self, GAsyncResult *res, GError **error);
/* Blocking kith_client_update_check_async(); @progress runs inside this call. */
gchar *kith_client_update_check (KithClient *self, KithClientUpdateProgressFunc progress,
                                 gpointer progress_data, GCancellable *cancellable, GError **error);

G_END_DECLS
