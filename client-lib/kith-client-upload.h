/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* kith-client-upload.h — the upload plugin (org.kith.Upload1) through a KithClient */
#pragma once

#include "kith-client.h"

G_BEGIN_DECLS

/**
 * KithClientUploadReport:
 * @name: the report's file name in the outbox
 * @state: waiting, sending or backoff
 * @attempts: attempts so far
 * @last_error: (nullable): why the last attempt failed (one line), or %NULL before any failure
 *
 * One report still in the outbox.
 */
typedef struct {
  gchar *name;
  gchar *state;
  guint attempts;
  gchar *last_error;
} KithClientUploadReport;

#define KITH_TYPE_CLIENT_UPLOAD_REPORT (kith_client_upload_report_get_type ())
GType kith_client_upload_report_get_type (void);
/**
 * kith_client_upload_report_copy:
 * @report: a report
 *
 * Returns: (transfer full): a deep copy
 */
KithClientUploadReport *kith_client_upload_report_copy (const KithClientUploadReport *report);
void kith_client_upload_report_free (KithClientUploadReport *report);

/**
 * KithClientUploadBlacklisted:
 * @node: the blacklisted node's id
 * @reason: why it was blacklisted
 * @since: when, in unix seconds
 * @until: until when, in unix seconds
 *
 * One blacklisted node.
 */
typedef struct {
  gchar *node;
  gchar *reason;
  gint64 since;
  gint64 until;
} KithClientUploadBlacklisted;

#define KITH_TYPE_CLIENT_UPLOAD_BLACKLISTED (kith_client_upload_blacklisted_get_type ())
GType kith_client_upload_blacklisted_get_type (void);
/**
 * kith_client_upload_blacklisted_copy:
 * @entry: an entry
 *
 * Returns: (transfer full): a deep copy
 */
KithClientUploadBlacklisted *kith_client_upload_blacklisted_copy (const KithClientUploadBlacklisted *entry);
void kith_client_upload_blacklisted_free (KithClientUploadBlacklisted *entry);

/**
 * KithClientUploadStatus:
 * @pending: (element-type KithClientUploadReport): the reports still in the outbox
 * @delivered: reports delivered since the agent started
 * @blacklist: (element-type KithClientUploadBlacklisted): the blacklisted nodes
 *
 * The upload service's state, as its D-Bus properties say.
 */
typedef struct {
  GPtrArray *pending;
  guint64 delivered;
  GPtrArray *blacklist;
} KithClientUploadStatus;

#define KITH_TYPE_CLIENT_UPLOAD_STATUS (kith_client_upload_status_get_type ())
GType kith_client_upload_status_get_type (void);
/**
 * kith_client_upload_status_copy:
 * @status: a status
 *
 * Returns: (transfer full): a deep copy
 */
KithClientUploadStatus *kith_client_upload_status_copy (const KithClientUploadStatus *status);
void kith_client_upload_status_free (KithClientUploadStatus *status);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (KithClientUploadStatus, kith_client_upload_status_free)

/**
 * kith_client_upload_get_status_async:
 *
 * Reads the upload service's properties; PLUGIN_MISSING when it does not run.
 */
void kith_client_upload_get_status_async (KithClient *self, GCancellable *cancellable, GAsyncReadyCallback callback,
                                          gpointer user_data);
/**
 * kith_client_upload_get_status_finish:
 * @self: a client
 * @res: the result
 * @error: return location for an error
 *
 * Returns: (transfer full): the status; caller frees it
 */
KithClientUploadStatus *kith_client_upload_get_status_finish (KithClient *self, GAsyncResult *res, GError **error);
/**
 * kith_client_upload_get_status:
 * @self: a client
 * @cancellable: (nullable): a cancellable
 * @error: return location for an error
 *
 * Blocking kith_client_upload_get_status_async().
 *
 * Returns: (transfer full): the status; caller frees it
 */
KithClientUploadStatus *kith_client_upload_get_status (KithClient *self, GCancellable *cancellable, GError **error);

/**
 * kith_client_upload_file_async:
 *
 * Hands the file at @path to the agent's outbox (the agent reads it through an fd we open)
 * and, when @wait, waits (no D-Bus timeout) until the report's receipt has arrived.
 */
void kith_client_upload_file_async (KithClient *self, const gchar *path, gboolean wait, GCancellable *cancellable,
                                    GAsyncReadyCallback callback, gpointer user_data);
/**
 * kith_client_upload_file_finish:
 *
 * Finishes it: the receipt text when waiting, else the upload id; caller frees.
 */
gchar *kith_client_upload_file_finish (KithClient *self, GAsyncResult *res, GError **error);
/**
 * kith_client_upload_file:
 *
 * Blocking kith_client_upload_file_async(); caller frees the result.
 */
gchar *kith_client_upload_file (KithClient *self, const gchar *path, gboolean wait, GCancellable *cancellable,
                                GError **error);

/**
 * kith_client_upload_cancel_async:
 * @self: a client
 * @name: the report's file name in the outbox, as #KithClientUploadReport.name says
 * @cancellable: (nullable): a cancellable
 * @callback: (scope async): called when the agent answered
 * @user_data: (closure): data for @callback
 *
 * Withdraws a pending report from the agent's outbox: it is never delivered afterwards.
 * %KITH_CLIENT_ERROR_NOT_FOUND when no report of that name is pending.
 */
void kith_client_upload_cancel_async (KithClient *self, const gchar *name, GCancellable *cancellable,
                                      GAsyncReadyCallback callback, gpointer user_data);
/**
 * kith_client_upload_cancel_finish:
 * @self: a client
 * @res: the result
 * @error: return location for an error
 *
 * Returns: %TRUE when the report was removed from the outbox
 */
gboolean kith_client_upload_cancel_finish (KithClient *self, GAsyncResult *res, GError **error);
/**
 * kith_client_upload_cancel:
 * @self: a client
 * @name: the report's file name in the outbox
 * @cancellable: (nullable): a cancellable
 * @error: return location for an error
 *
 * Blocking kith_client_upload_cancel_async().
 *
 * Returns: %TRUE when the report was removed from the outbox
 */
gboolean kith_client_upload_cancel (KithClient *self, const gchar *name, GCancellable *cancellable, GError **error);

G_END_DECLS
