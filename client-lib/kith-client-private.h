/* kith-client-private.h — what libkith's own files (and its tests) share; not installed
 *
 * Per-plugin calls (Fetch, Update, Upload, …) go through
 * kith_client_call_plugin_async(): it addresses /org/kith/Agent1/<Object>,
 * passes file descriptors, and converts every error once, so a new call is
 * a thin typed wrapper.
 */
#pragma once

#include "kith-client.h"

G_BEGIN_DECLS

#define KITH_CLIENT_AGENT_NAME "org.kith.Agent1"
#define KITH_CLIENT_AGENT_PATH "/org/kith/Agent1"

/* Rewrites *@error (GIO, GDBus or remote) into KITH_CLIENT_ERROR naming @address, or @bus_type when NULL. */
void kith_client_error_convert (GError **error, const gchar *address, GBusType bus_type);
/* The same for a failed connect, where any unreachable transport means AGENT_NOT_RUNNING. */
void kith_client_error_convert_connect (GError **error, const gchar *address, GBusType bus_type);

/* The connection to the agent; NULL before connecting; owned by @self. */
GDBusConnection *kith_client_get_connection (KithClient *self);
/* The agent's bus name, or NULL in peer-to-peer mode (where calls carry no destination). */
const gchar *kith_client_get_bus_name (KithClient *self);

/*
 * Calls @interface_name.@method on /org/kith/Agent1/@object (e.g. "Peering") with
 * @parameters (floating refs are sunk) and optional @fd_list. A missing object,
 * interface or method means the plugin is not running: PLUGIN_MISSING.
 */
void kith_client_call_plugin_async (KithClient *self, const gchar *object,
                                    const gchar *interface_name, const gchar *method,
                                    GVariant *parameters, const GVariantType *reply_type,
                                    GUnixFDList *fd_list, GCancellable *cancellable,
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

G_END_DECLS
