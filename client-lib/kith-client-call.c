/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* kith-client-call.c — a call to one plugin's object of the agent (/org/kith/Agent1/<Object>)
 * and its signals: file descriptors passed both ways, every error converted once */
#include "kith-client-private.h"

#ifdef G_OS_UNIX
#include <gio/gunixfdlist.h>
#endif

/* The reply of a plugin call: body and any file descriptors that came with it. */
typedef struct {
  GVariant *reply;
  GUnixFDList *fd_list;
} KithClientReply;

static void
kith_client_reply_free (KithClientReply *reply)
{
  g_clear_pointer (&reply->reply, g_variant_unref);
  g_clear_object (&reply->fd_list);
  g_free (reply);
}

/* A plugin call that finds nothing to call means the plugin is not running. */
static void
kith_client_convert_plugin_error (KithClient *self, const gchar *object, GError **error)
{
  if (g_error_matches (*error, G_DBUS_ERROR, G_DBUS_ERROR_UNKNOWN_OBJECT) ||
      g_error_matches (*error, G_DBUS_ERROR, G_DBUS_ERROR_UNKNOWN_INTERFACE) ||
      g_error_matches (*error, G_DBUS_ERROR, G_DBUS_ERROR_UNKNOWN_METHOD)) {
    g_autofree gchar *cause = NULL;
    g_dbus_error_strip_remote_error (*error);
    cause = g_strdup ((*error)->message);
    g_clear_error (error);
    g_set_error (error, KITH_CLIENT_ERROR, KITH_CLIENT_ERROR_PLUGIN_MISSING,
                 "The kith agent at %s has nothing at %s/%s (%s): is that plugin running? "
                 "Add it to plugins= in the agent's config; `kith status` says why a plugin failed",
                 kith_client_get_target (self), KITH_CLIENT_AGENT_PATH, object, cause);
    return;
  }
  kith_client_convert_error (self, error);
}

static void
kith_client_call_plugin_cb (GObject *source, GAsyncResult *res, gpointer user_data)
{
  g_autoptr (GTask) task = G_TASK (user_data);
  KithClient *self = g_task_get_source_object (task);
  const gchar *object = g_task_get_task_data (task);
  g_autoptr (GError) error = NULL;
  g_autoptr (GUnixFDList) fd_list = NULL;
  g_autoptr (GVariant) body = NULL;
  KithClientReply *reply;

#ifdef G_OS_UNIX
  body = g_dbus_connection_call_with_unix_fd_list_finish (G_DBUS_CONNECTION (source),
                                                          &fd_list, res, &error);
#else
  body = g_dbus_connection_call_finish (G_DBUS_CONNECTION (source), res, &error);
#endif
  if (body == NULL) {
    kith_client_convert_plugin_error (self, object, &error);
    g_task_return_error (task, g_steal_pointer (&error));
    return;
  }
  if (kith_client_task_return_if_cancelled (self, task))
    return;
  reply = g_new0 (KithClientReply, 1);
  reply->reply = g_steal_pointer (&body);
  reply->fd_list = g_steal_pointer (&fd_list);
  g_task_return_pointer (task, reply, (GDestroyNotify) kith_client_reply_free);
}

void
kith_client_call_plugin_async (KithClient *self, const gchar *object,
                               const gchar *interface_name, const gchar *method,
                               GVariant *parameters, const GVariantType *reply_type,
                               GUnixFDList *fd_list, gint timeout_msec,
                               GCancellable *cancellable,
                               GAsyncReadyCallback callback, gpointer user_data)
{
  g_autoptr (GTask) task = NULL;
  g_autofree gchar *path = NULL;

  g_return_if_fail (KITH_IS_CLIENT (self));
  g_return_if_fail (object != NULL && interface_name != NULL && method != NULL);
  task = kith_client_task_new_checked (self, kith_client_check_connected, cancellable, callback, user_data,
                                       kith_client_call_plugin_async);
  if (task == NULL) {
    if (parameters != NULL)
      g_variant_unref (g_variant_ref_sink (parameters));
    return;
  }
  g_task_set_task_data (task, g_strdup (object), g_free);
  path = g_strdup_printf ("%s/%s", KITH_CLIENT_AGENT_PATH, object);
#ifdef G_OS_UNIX
  g_dbus_connection_call_with_unix_fd_list (kith_client_get_connection (self), kith_client_get_bus_name (self),
                                            path, interface_name, method, parameters,
                                            reply_type, G_DBUS_CALL_FLAGS_NO_AUTO_START,
                                            timeout_msec, fd_list, cancellable,
                                            kith_client_call_plugin_cb, g_steal_pointer (&task));
#else
  g_dbus_connection_call (kith_client_get_connection (self), kith_client_get_bus_name (self),
                          path, interface_name, method, parameters,
                          reply_type, G_DBUS_CALL_FLAGS_NO_AUTO_START, timeout_msec,
                          cancellable, kith_client_call_plugin_cb, g_steal_pointer (&task));
#endif
}

GVariant *
kith_client_call_plugin_finish (KithClient *self, GAsyncResult *res,
                                GUnixFDList **out_fd_list, GError **error)
{
  KithClientReply *reply;
  GVariant *body;

  g_return_val_if_fail (g_task_is_valid (res, self), NULL);
  reply = g_task_propagate_pointer (G_TASK (res), error);
  if (reply == NULL)
    return NULL;
  body = g_steal_pointer (&reply->reply);
  if (out_fd_list != NULL)
    *out_fd_list = g_steal_pointer (&reply->fd_list);
  kith_client_reply_free (reply);
  return body;
}

guint
kith_client_subscribe_plugin_signal (KithClient *self, const gchar *object,
                                     const gchar *interface_name, const gchar *signal_name,
                                     GDBusSignalCallback callback, gpointer user_data,
                                     GDestroyNotify user_data_free)
{
  g_autofree gchar *path = NULL;

  g_return_val_if_fail (KITH_IS_CLIENT (self), 0);
  g_return_val_if_fail (kith_client_get_connection (self) != NULL, 0);
  path = g_strdup_printf ("%s/%s", KITH_CLIENT_AGENT_PATH, object);
  return g_dbus_connection_signal_subscribe (kith_client_get_connection (self), kith_client_get_bus_name (self),
                                             interface_name, signal_name, path, NULL,
                                             G_DBUS_SIGNAL_FLAGS_NONE,
                                             callback, user_data, user_data_free);
}

void
kith_client_unsubscribe_plugin_signal (KithClient *self, guint id)
{
  g_return_if_fail (KITH_IS_CLIENT (self));
  if (kith_client_get_connection (self) != NULL && id != 0)
    g_dbus_connection_signal_unsubscribe (kith_client_get_connection (self), id);
}
