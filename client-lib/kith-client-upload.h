/* kith-client-upload.h — the upload plugin (org.kith.Upload1) through a KithClient */
#pragma once

#include "kith-client.h"

G_BEGIN_DECLS

/* One report still in the outbox. */
typedef struct {
  gchar *name;
  gchar *state;   /* waiting, sending, backoff */
  guint attempts;
} KithClientUploadReport;

/* One blacklisted node. */
typedef struct {
  gchar *node;
  gchar *reason;
  gint64 since;   /* unix seconds */
  gint64 until;
} KithClientUploadBlacklisted;

/* The upload service's state, as its D-Bus properties say. */
typedef struct {
  GPtrArray *pending;   /* KithClientUploadReport* */
  guint64 delivered;
  GPtrArray *blacklist; /* KithClientUploadBlacklisted* */
} KithClientUploadStatus;

void kith_client_upload_status_free (KithClientUploadStatus *status);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (KithClientUploadStatus, kith_client_upload_status_free)

/* Reads the upload service's properties; PLUGIN_MISSING when it does not run. */
void kith_client_upload_get_status_async (KithClient *self, GCancellable *cancellable, GAsyncReadyCallback callback,
                                          gpointer user_data);
/* Finishes it; caller frees the status. */
KithClientUploadStatus *kith_client_upload_get_status_finish (KithClient *self, GAsyncResult *res, GError **error);
/* Blocking kith_client_upload_get_status_async(); caller frees the status. */
KithClientUploadStatus *kith_client_upload_get_status (KithClient *self, GCancellable *cancellable, GError **error);

/* Hands the file at @path to the agent's outbox (the agent reads it through an fd we open)
 * and, when @wait, waits (no D-Bus timeout) until the report's receipt has arrived. */
void kith_client_upload_file_async (KithClient *self, const gchar *path, gboolean wait, GCancellable *cancellable,
                                    GAsyncReadyCallback callback, gpointer user_data);
/* Finishes it: the receipt text when waiting, else the upload id; caller frees. */
gchar *kith_client_upload_file_finish (KithClient *self, GAsyncResult *res, GError **error);
/* Blocking kith_client_upload_file_async(); caller frees the result. */
gchar *kith_client_upload_file (KithClient *self, const gchar *path, gboolean wait, GCancellable *cancellable,
                                GError **error);

G_END_DECLS
