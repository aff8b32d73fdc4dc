/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* kith-dbus.c — the agent on D-Bus: owning a bus name, or listening peer-to-peer
 *
 * Peer-to-peer mode (dbus=unix:path=…) needs no bus daemon; it is how
 * several agents run side by side in tests and on systems without D-Bus.
 * Objects are exported on every connection, present and future.
 */
#include "kith-dbus-private.h"

#include "kith-agent-error.h"

#include <glib/gstdio.h>
#include <string.h>
#ifdef G_OS_UNIX
#include <unistd.h>
#endif

typedef struct {
  GDBusInterfaceSkeleton *skeleton;
  gchar *object_path;
} KithDbusExport;

struct _KithDbus {
  GObject parent_instance;
  GDBusServer *server;
  GPtrArray *connections; /* GDBusConnection* */
  GPtrArray *exports;     /* KithDbusExport* */
  gchar *address;
  gchar *socket_path;     /* peer-to-peer socket we created, to remove on stop */
};

G_DEFINE_TYPE (KithDbus, kith_dbus, G_TYPE_OBJECT)

static void
kith_dbus_export_free (KithDbusExport *export)
{
  g_object_unref (export->skeleton);
  g_free (export->object_path);
  g_free (export);
}

static void
kith_dbus_finalize (GObject *object)
{
  KithDbus *self = KITH_DBUS (object);
  kith_dbus_stop (self);
  g_ptr_array_unref (self->connections);
  g_ptr_array_unref (self->exports);
  g_free (self->address);
  G_OBJECT_CLASS (kith_dbus_parent_class)->finalize (object);
}

static void
kith_dbus_class_init (KithDbusClass *klass)
{
  G_OBJECT_CLASS (klass)->finalize = kith_dbus_finalize;
}

static void
kith_dbus_init (KithDbus *self)
{
  self->connections = g_ptr_array_new_with_free_func (g_object_unref);
  self->exports = g_ptr_array_new_with_free_func ((GDestroyNotify) kith_dbus_export_free);
}

KithDbus *
kith_dbus_new (void)
{
  return g_object_new (KITH_TYPE_DBUS, NULL);
}

/* unexport() is only allowed while exported somewhere */
static gboolean
kith_dbus_skeleton_is_exported (GDBusInterfaceSkeleton *skeleton)
{
  GList *connections = g_dbus_interface_skeleton_get_connections (skeleton);
  gboolean any = connections != NULL;
  g_list_free_full (connections, g_object_unref);
  return any;
}

static void
kith_dbus_export_on (KithDbusExport *export, GDBusConnection *connection)
{
  g_autoptr (GError) error = NULL;
  if (!g_dbus_interface_skeleton_export (export->skeleton, connection,
                                         export->object_path, &error))
    g_warning ("cannot export %s: %s", export->object_path, error->message);
}

static void
kith_dbus_connection_closed (GDBusConnection *connection, gboolean remote_peer_vanished,
                             GError *error, KithDbus *self)
{
  for (guint i = 0; i < self->exports->len; i++) {
    KithDbusExport *export = g_ptr_array_index (self->exports, i);
    g_dbus_interface_skeleton_unexport_from_connection (export->skeleton, connection);
  }
  g_signal_handlers_disconnect_by_data (connection, self);
  g_ptr_array_remove (self->connections, connection);
}

static void
kith_dbus_add_connection (KithDbus *self, GDBusConnection *connection)
{
  g_ptr_array_add (self->connections, g_object_ref (connection));
  g_signal_connect (connection, "closed", G_CALLBACK (kith_dbus_connection_closed), self);
  for (guint i = 0; i < self->exports->len; i++)
    kith_dbus_export_on (g_ptr_array_index (self->exports, i), connection);
}

static gboolean
kith_dbus_new_connection (GDBusServer *server, GDBusConnection *connection, KithDbus *self)
{
  g_debug ("new peer-to-peer D-Bus connection");
  kith_dbus_add_connection (self, connection);
  return TRUE;
}

#ifdef G_OS_UNIX
/* Only the agent's own user (and root) may talk to a peer-to-peer agent. */
static gboolean
kith_dbus_authorize_peer (GDBusAuthObserver *observer, GIOStream *stream,
                          GCredentials *credentials, gpointer user_data)
{
  uid_t uid;
  if (credentials == NULL)
    return FALSE;
  uid = g_credentials_get_unix_user (credentials, NULL);
  return uid == getuid () || uid == 0;
}
#endif

/* A stale socket from a killed agent is removed; a live one is an error. */
static gboolean
kith_dbus_claim_socket (KithDbus *self, const gchar *address, GError **error)
{
  g_autofree gchar *path = NULL;
  g_autoptr (GDBusConnection) probe = NULL;

  if (!g_str_has_prefix (address, "unix:path="))
    return TRUE;
  path = g_strdup (address + strlen ("unix:path="));
  if (strchr (path, ',') != NULL)
    *strchr (path, ',') = '\0';
  if (!g_file_test (path, G_FILE_TEST_EXISTS)) {
    self->socket_path = g_steal_pointer (&path);
    return TRUE;
  }
  probe = g_dbus_connection_new_for_address_sync (address,
                                                  G_DBUS_CONNECTION_FLAGS_AUTHENTICATION_CLIENT,
                                                  NULL, NULL, NULL);
  if (probe != NULL) {
    g_set_error (error, KITH_AGENT_ERROR, KITH_AGENT_ERROR_FAILED,
                 "another agent already listens on %s", address);
    return FALSE;
  }
  g_debug ("removing stale socket %s", path);
  g_unlink (path);
  self->socket_path = g_steal_pointer (&path);
  return TRUE;
}

static gboolean
kith_dbus_start_server (KithDbus *self, const gchar *address, GError **error)
{
  g_autofree gchar *guid = g_dbus_generate_guid ();
  g_autoptr (GDBusAuthObserver) observer = g_dbus_auth_observer_new ();
  g_autoptr (GError) error_local = NULL;

  if (!kith_dbus_claim_socket (self, address, error))
    return FALSE;
#ifdef G_OS_UNIX
  g_signal_connect (observer, "authorize-authenticated-peer",
                    G_CALLBACK (kith_dbus_authorize_peer), NULL);
#endif
  self->server = g_dbus_server_new_sync (address, G_DBUS_SERVER_FLAGS_NONE, guid,
                                         observer, NULL, &error_local);
  if (self->server == NULL) {
    g_set_error (error, KITH_AGENT_ERROR, KITH_AGENT_ERROR_FAILED,
                 "cannot listen for D-Bus on %s: %s", address, error_local->message);
    return FALSE;
  }
  g_signal_connect (self->server, "new-connection", G_CALLBACK (kith_dbus_new_connection), self);
  g_dbus_server_start (self->server);
  self->address = g_strdup (g_dbus_server_get_client_address (self->server));
  return TRUE;
}

static gboolean
kith_dbus_start_bus (KithDbus *self, GBusType bus_type, GError **error)
{
  g_autoptr (GDBusConnection) connection = NULL;
  g_autoptr (GVariant) reply = NULL;
  g_autoptr (GError) error_local = NULL;
  guint32 result;

  connection = g_bus_get_sync (bus_type, NULL, &error_local);
  if (connection == NULL) {
    g_set_error (error, KITH_AGENT_ERROR, KITH_AGENT_ERROR_FAILED,
                 "cannot connect to the %s bus: %s",
                 bus_type == G_BUS_TYPE_SYSTEM ? "system" : "session", error_local->message);
    return FALSE;
  }
  kith_dbus_add_connection (self, connection);
  reply = g_dbus_connection_call_sync (connection, "org.freedesktop.DBus", "/org/freedesktop/DBus",
                                       "org.freedesktop.DBus", "RequestName",
                                       g_variant_new ("(su)", KITH_AGENT_DBUS_NAME, 4u /* DO_NOT_QUEUE */),
                                       G_VARIANT_TYPE ("(u)"), G_DBUS_CALL_FLAGS_NONE, -1,
                                       NULL, &error_local);
  if (reply == NULL) {
    g_set_error (error, KITH_AGENT_ERROR, KITH_AGENT_ERROR_FAILED,
                 "cannot own %s: %s", KITH_AGENT_DBUS_NAME, error_local->message);
    return FALSE;
  }
  g_variant_get (reply, "(u)", &result);
  if (result != 1 /* PRIMARY_OWNER */ && result != 4 /* ALREADY_OWNER */) {
    g_set_error (error, KITH_AGENT_ERROR, KITH_AGENT_ERROR_FAILED,
                 "%s is already owned: is another kith-agent running?", KITH_AGENT_DBUS_NAME);
    return FALSE;
  }
  self->address = g_strdup (KITH_AGENT_DBUS_NAME);
  return TRUE;
}

gboolean
kith_dbus_start (KithDbus *self, const gchar *mode, GError **error)
{
  g_return_val_if_fail (KITH_IS_DBUS (self), FALSE);
  if (g_strcmp0 (mode, "session") == 0)
    return kith_dbus_start_bus (self, G_BUS_TYPE_SESSION, error);
  if (g_strcmp0 (mode, "system") == 0)
    return kith_dbus_start_bus (self, G_BUS_TYPE_SYSTEM, error);
  if (g_dbus_is_supported_address (mode, NULL))
    return kith_dbus_start_server (self, mode, error);
  g_set_error (error, KITH_AGENT_ERROR, KITH_AGENT_ERROR_CONFIG,
               "'%s' is neither session, system nor a D-Bus address (unix:path=…)", mode);
  return FALSE;
}

void
kith_dbus_export (KithDbus *self, GDBusInterfaceSkeleton *skeleton, const gchar *object_path)
{
  KithDbusExport *export = g_new0 (KithDbusExport, 1);

  g_return_if_fail (KITH_IS_DBUS (self));
  export->skeleton = g_object_ref (skeleton);
  export->object_path = g_strdup (object_path);
  g_ptr_array_add (self->exports, export);
  for (guint i = 0; i < self->connections->len; i++)
    kith_dbus_export_on (export, g_ptr_array_index (self->connections, i));
}

void
kith_dbus_unexport (KithDbus *self, GDBusInterfaceSkeleton *skeleton)
{
  g_return_if_fail (KITH_IS_DBUS (self));
  for (guint i = 0; i < self->exports->len; i++) {
    KithDbusExport *export = g_ptr_array_index (self->exports, i);
    if (export->skeleton != skeleton)
      continue;
    if (kith_dbus_skeleton_is_exported (skeleton))
      g_dbus_interface_skeleton_unexport (skeleton);
    g_ptr_array_remove_index (self->exports, i);
    return;
  }
}

const gchar *
kith_dbus_get_address (KithDbus *self)
{
  return self->address;
}

void
kith_dbus_stop (KithDbus *self)
{
  while (self->exports->len > 0)
    kith_dbus_unexport (self, ((KithDbusExport *) g_ptr_array_index (self->exports, 0))->skeleton);
  for (guint i = 0; i < self->connections->len; i++) {
    GDBusConnection *connection = g_ptr_array_index (self->connections, i);
    g_signal_handlers_disconnect_by_data (connection, self);
    if (self->server != NULL)
      g_dbus_connection_close_sync (connection, NULL, NULL);
  }
  g_ptr_array_set_size (self->connections, 0);
  if (self->server != NULL) {
    g_dbus_server_stop (self->server);
    g_clear_object (&self->server);
  }
  if (self->socket_path != NULL) {
    g_unlink (self->socket_path);
    g_clear_pointer (&self->socket_path, g_free);
  }
}
