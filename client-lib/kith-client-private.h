/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* kith-client-private.h — what libkith's own files (and its tests) share; not installed
 *
 * Per-plugin calls (Fetch, Update, Upload, …) go through
 * kith_client_call_plugin_async(): it addresses /org/kith/Agent1/<Object>,
 * passes file descriptors, and converts every error once, so a new call is
 * a thin typed wrapper.
 */
#pragma once

#include "kith-client.h"
#include "kith-client-transfer.h"

G_BEGIN_DECLS

#define KITH_CLIENT_AGENT_NAME "org.kith.Agent1"
#define KITH_CLIENT_AGENT_PATH "/org/kith/Agent1"

/* Rewrites *@error (GIO, GDBus or remote) into KITH_CLIENT_ERROR naming @address, or @bus_type when NULL. */
void kith_client_error_convert (GError **error, const gchar *address, GBusType bus_type);
/* The same for a failed connect, where any unreachable transport means AGENT_NOT_RUNNING. */
void kith_client_error_convert_connect (GError **error, const gchar *address, GBusType bus_type);
/* A KITH_CLIENT_ERROR for a transfer of @url that failed with @reason, the Error
 * property of org.kith.Transfer1 ("org.kith.Error.Name: message"); caller owns it. */
GError *kith_client_error_new_for_transfer (const gchar *url, const gchar *reason);

/* ---- KithClient itself (kith-client.c) ---- */

/* kith_client_error_convert() for @self's address or bus. */
void kith_client_convert_error (KithClient *self, GError **error);
/* Fails with a clear error when a call comes before a successful connect. */
gboolean kith_client_check_connected (KithClient *self, GError **error);

/* A GTask for an async call of @self that returns KITH_CLIENT_ERROR_CANCELLED itself
 * (GTask's own cancellation check is off); caller owns it. */
GTask *kith_client_task_new (KithClient *self, GCancellable *cancellable,
                             GAsyncReadyCallback callback, gpointer user_data,
                             gpointer source_tag);
/* kith_client_task_new() for a call that must pass @check first (e.g.
 * kith_client_check_connected()); when it fails the task has already returned its error,
 * and this returns NULL. Otherwise the caller owns the task. */
GTask *kith_client_task_new_checked (KithClient *self, gboolean (*check) (KithClient *, GError **),
                                     GCancellable *cancellable, GAsyncReadyCallback callback,
                                     gpointer user_data, gpointer source_tag);
/* When @task's cancellable is cancelled (a caller's cancel wins even over a reply already
 * on its way, so cancelling is deterministic): returns the converted error on @task and TRUE. */
gboolean kith_client_task_return_if_cancelled (KithClient *self, GTask *task);

/* The connection to the agent; NULL before connecting; owned by @self. */
GDBusConnection *kith_client_get_connection (KithClient *self);
/* The agent's bus name, or NULL in peer-to-peer mode (where calls carry no destination). */
const gchar *kith_client_get_bus_name (KithClient *self);

/* The subscription behind KithClient::peer-download, 0 when not watching. */
guint kith_client_get_peer_watch (KithClient *self);
/* Keeps @subscription (made on the current connection; an earlier one is dropped):
 * @self unsubscribes it when it connects again or is finalized. */
void kith_client_set_peer_watch (KithClient *self, guint subscription);

/* ---- calls to a plugin's object (kith-client-call.c) ---- */

/*
 * Calls @interface_name.@method on /org/kith/Agent1/@object (e.g. "Peering") with
 * @parameters (floating refs are sunk) and optional @fd_list, waiting at most
 * @timeout_msec (-1: the D-Bus default, G_MAXINT: as long as it takes). A missing
 * object, interface or method means the plugin is not running: PLUGIN_MISSING.
 */
void kith_client_call_plugin_async (KithClient *self, const gchar *object,
                                    const gchar *interface_name, const gchar *method,
                                    GVariant *parameters, const GVariantType *reply_type,
                                    GUnixFDList *fd_list, gint timeout_msec,
                                    GCancellable *cancellable,
                                    GAsyncReadyCallback callback, gpointer user_data);
/* Finishes kith_client_call_plugin_async(); reply and *@out_fd_list (may be NULL) are the caller's. */
GVariant *kith_client_call_plugin_finish (KithClient *self, GAsyncResult *res,
                                          GUnixFDList **out_fd_list, GError **error);

/* Subscribes @callback to @signal_name of @interface_name on /org/kith/Agent1/@object; returns the id. */
guint kith_client_subscribe_plugin_signal (KithClient *self, const gchar *object,
                                           const gchar *interface_name, const gchar *signal_name,
                                           GDBusSignalCallback callback, gpointer user_data,
                                           GDestroyNotify user_data_free);
/* Drops a subscription made with kith_client_subscribe_plugin_signal(). */
void kith_client_unsubscribe_plugin_signal (KithClient *self, guint id);

/* ---- transfers (kith-client-transfer.c) ---- */

/* A transfer of @url into @destination, SEARCHING, its clock started; caller owns it. */
KithClientTransfer *kith_client_transfer_new (const gchar *url, const gchar *destination);
/* Records the agent's object path for it. */
void kith_client_transfer_set_object_path (KithClientTransfer *self, const gchar *object_path);
/* Takes the agent's values (empty strings mean unset), notifying each change; TRUE if any changed. */
gboolean kith_client_transfer_update (KithClientTransfer *self, const gchar *state, const gchar *source,
                                      guint64 bytes_done, guint64 bytes_total, const gchar *error);

/* The blocking form of an async call (kith-client-sync.c):
 *   KithClientSync sync;
 *   kith_client_sync_init (&sync);
 *   kith_client_x_async (self, …, kith_client_sync_done, &sync);
 *   value = kith_client_x_finish (self, kith_client_sync_wait (&sync), error);
 *   kith_client_sync_clear (&sync);
 * The call's callbacks (progress too) run inside it, in a private main context. */
typedef struct {
  GMainContext *context;
  GAsyncResult *result;
} KithClientSync;

/* Makes a private main context thread-default for the call. */
void kith_client_sync_init (KithClientSync *sync);
/* The GAsyncReadyCallback to give the call, with @sync as user data. */
void kith_client_sync_done (GObject *source, GAsyncResult *res, gpointer user_data);
/* Iterates the private context until the call finished; the result is borrowed. */
GAsyncResult *kith_client_sync_wait (KithClientSync *sync);
/* Runs what the call left pending, then pops and frees the context. */
void kith_client_sync_clear (KithClientSync *sync);

G_END_DECLS
