/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* kith-client.c — KithClient: finds the agent, connects, and converts every error once.
 * Calls to a plugin's object are kith-client-call.c; the calls themselves live beside
 * their plugin's types (kith-client-fetch.c, -update.c, -upload.c, -peers.c). */
#include "kith-client.h"
#include "kith-client-private.h"
#include "kith-dbus-generated.h"

struct _KithClient {
  GObject parent_instance;
  gchar *address;          /* as set by the caller */
  GBusType bus_type;
  gchar *resolved_address; /* the address in use (caller's or environment); NULL on a bus */
  gchar *target;           /* for people: the address, or "system bus" */
  GDBusConnection *connection;
  KithDbusAgent1 *proxy;
  guint peer_download_id; /* PeerDownload subscription (kith-client-peers.c), 0 when not watching */
};

enum { PROP_0, PROP_ADDRESS, PROP_BUS_TYPE, PROP_LAST };
static GParamSpec *props[PROP_LAST];

enum { SIGNAL_PEER_DOWNLOAD, SIGNAL_LAST };
static guint signals[SIGNAL_LAST];

G_DEFINE_TYPE (KithClient, kith_client, G_TYPE_OBJECT)

/* Decides which agent to talk to; cheap, so done again whenever asked. */
static void
kith_client_resolve (KithClient *self)
{
  const gchar *env = g_getenv ("KITH_AGENT_ADDRESS");
  const gchar *address = self->address;

  if (address == NULL && env != NULL && env[0] != '\0')
    address = env;
  if (g_strcmp0 (address, self->resolved_address) == 0 && self->target != NULL)
    return;
  g_free (self->resolved_address);
  g_free (self->target);
  self->resolved_address = g_strdup (address);
  if (address != NULL)
    self->target = g_strdup (address);
  else
    self->target = g_strdup (self->bus_type == G_BUS_TYPE_SESSION ? "session bus" : "system bus");
}

void
kith_client_convert_error (KithClient *self, GError **error)
{
  kith_client_error_convert (error, self->resolved_address, self->bus_type);
}

static void
kith_client_convert_connect_error (KithClient *self, GError **error)
{
  kith_client_error_convert_connect (error, self->resolved_address, self->bus_type);
}

/* The PeerDownload subscription (kith-client-peers.c) ends with the connection it was made on. */
static void
kith_client_drop_peer_watch (KithClient *self)
{
  if (self->connection != NULL && self->peer_download_id != 0)
    g_dbus_connection_signal_unsubscribe (self->connection, self->peer_download_id);
  self->peer_download_id = 0;
}

guint
kith_client_get_peer_watch (KithClient *self)
{
  return self->peer_download_id;
}

void
kith_client_set_peer_watch (KithClient *self, guint subscription)
{
  kith_client_drop_peer_watch (self);
  self->peer_download_id = subscription;
}

/* Called before any connect: refuses a malformed address with a clear error. */
static gboolean
kith_client_prepare (KithClient *self, GError **error)
{
  g_autoptr (GError) error_local = NULL;

  kith_client_drop_peer_watch (self);
  g_clear_object (&self->proxy);
  g_clear_object (&self->connection);
  kith_client_resolve (self);
  if (self->resolved_address != NULL &&
      !g_dbus_is_supported_address (self->resolved_address, &error_local)) {
    g_set_error (error, KITH_CLIENT_ERROR, KITH_CLIENT_ERROR_INVALID_ARGS,
                 "'%s' is not a usable D-Bus address (%s): give the agent's dbus= "
                 "address, e.g. unix:path=/run/kith/agent.sock",
                 self->resolved_address, error_local->message);
    return FALSE;
  }
  return TRUE;
}

/* Keeps @proxy once it is known to be a live agent. */
static gboolean
kith_client_adopt (KithClient *self, GDBusConnection *connection, KithDbusAgent1 *proxy,
                   GCancellable *cancellable, GError **error)
{
  g_autofree gchar *owner = NULL;

  /* the proxy swallows a failed (or cancelled) GetAll; tell those apart here */
  if (g_cancellable_set_error_if_cancelled (cancellable, error)) {
    kith_client_convert_error (self, error);
    return FALSE;
  }
  if (self->resolved_address == NULL)
    owner = g_dbus_proxy_get_name_owner (G_DBUS_PROXY (proxy));
  if (self->resolved_address == NULL && owner == NULL) {
    g_set_error (error, G_DBUS_ERROR, G_DBUS_ERROR_NAME_HAS_NO_OWNER,
                 "nobody owns %s", KITH_CLIENT_AGENT_NAME);
    kith_client_convert_error (self, error);
    return FALSE;
  }
  if (kith_dbus_agent1_get_node_id (proxy) == NULL) {
    g_set_error (error, KITH_CLIENT_ERROR, KITH_CLIENT_ERROR_FAILED,
                 "The peer at %s does not export %s on %s: is it a kith agent?",
                 self->target, KITH_CLIENT_AGENT_NAME, KITH_CLIENT_AGENT_PATH);
    return FALSE;
  }
  g_set_object (&self->connection, connection);
  g_set_object (&self->proxy, proxy);
  g_debug ("connected to agent %s at %s", kith_dbus_agent1_get_node_id (proxy), self->target);
  return TRUE;
}

static GDBusProxyFlags
kith_client_proxy_flags (void)
{
  return G_DBUS_PROXY_FLAGS_DO_NOT_AUTO_START;
}

static void
kith_client_connect_proxy_cb (GObject *source, GAsyncResult *res, gpointer user_data)
{
  g_autoptr (GTask) task = G_TASK (user_data);
  KithClient *self = g_task_get_source_object (task);
  GDBusConnection *connection = g_task_get_task_data (task);
  g_autoptr (KithDbusAgent1) proxy = NULL;
  g_autoptr (GError) error = NULL;

  proxy = kith_dbus_agent1_proxy_new_finish (res, &error);
  if (proxy == NULL) {
    kith_client_convert_error (self, &error);
    g_task_return_error (task, g_steal_pointer (&error));
    return;
  }
  if (!kith_client_adopt (self, connection, proxy, g_task_get_cancellable (task), &error)) {
    g_task_return_error (task, g_steal_pointer (&error));
    return;
  }
  g_task_return_boolean (task, TRUE);
}

static void
kith_client_connect_connection_cb (GObject *source, GAsyncResult *res, gpointer user_data)
{
  g_autoptr (GTask) task = G_TASK (user_data);
  KithClient *self = g_task_get_source_object (task);
  GCancellable *cancellable = g_task_get_cancellable (task);
  g_autoptr (GDBusConnection) connection = NULL;
  g_autoptr (GError) error = NULL;

  if (self->resolved_address != NULL)
    connection = g_dbus_connection_new_for_address_finish (res, &error);
  else
    connection = g_bus_get_finish (res, &error);
  if (connection == NULL) {
    kith_client_convert_connect_error (self, &error);
    g_task_return_error (task, g_steal_pointer (&error));
    return;
  }
  g_task_set_task_data (task, g_object_ref (connection), g_object_unref);
  /* not inline below: argument evaluation order would let the steal run first */
  kith_dbus_agent1_proxy_new (connection, kith_client_proxy_flags (),
                              kith_client_get_bus_name (self), KITH_CLIENT_AGENT_PATH,
                              cancellable, kith_client_connect_proxy_cb, g_steal_pointer (&task));
}

GTask *
kith_client_task_new (KithClient *self, GCancellable *cancellable, GAsyncReadyCallback callback,
                      gpointer user_data, gpointer source_tag)
{
  GTask *task = g_task_new (self, cancellable, callback, user_data);

  /* our own converted error (KITH_CLIENT_ERROR_CANCELLED), not GTask's G_IO_ERROR */
  g_task_set_check_cancellable (task, FALSE);
  g_task_set_source_tag (task, source_tag);
  return task;
}

gboolean
kith_client_check_connected (KithClient *self, GError **error)
{
  if (self->proxy != NULL)
    return TRUE;
  g_set_error_literal (error, KITH_CLIENT_ERROR, KITH_CLIENT_ERROR_FAILED,
                       "Not connected to a kith agent: call kith_client_connect() first");
  return FALSE;
}

GTask *
kith_client_task_new_checked (KithClient *self, gboolean (*check) (KithClient *, GError **),
                              GCancellable *cancellable, GAsyncReadyCallback callback, gpointer user_data,
                              gpointer source_tag)
{
  g_autoptr (GTask) task = kith_client_task_new (self, cancellable, callback, user_data, source_tag);
  g_autoptr (GError) error = NULL;

  if (check (self, &error))
    return g_steal_pointer (&task);
  g_task_return_error (task, g_steal_pointer (&error));
  return NULL;
}

void
kith_client_connect_async (KithClient *self, GCancellable *cancellable,
                           GAsyncReadyCallback callback, gpointer user_data)
{
  g_autoptr (GTask) task = NULL;

  g_return_if_fail (KITH_IS_CLIENT (self));
  task = kith_client_task_new_checked (self, kith_client_prepare, cancellable, callback, user_data,
                                       kith_client_connect_async);
  if (task == NULL)
    return;
  if (self->resolved_address != NULL)
    g_dbus_connection_new_for_address (self->resolved_address,
                                       G_DBUS_CONNECTION_FLAGS_AUTHENTICATION_CLIENT,
                                       NULL, cancellable,
                                       kith_client_connect_connection_cb, g_steal_pointer (&task));
  else
    g_bus_get (self->bus_type, cancellable,
               kith_client_connect_connection_cb, g_steal_pointer (&task));
}

gboolean
kith_client_connect_finish (KithClient *self, GAsyncResult *res, GError **error)
{
  g_return_val_if_fail (g_task_is_valid (res, self), FALSE);
  return g_task_propagate_boolean (G_TASK (res), error);
}

gboolean
kith_client_connect (KithClient *self, GCancellable *cancellable, GError **error)
{
  g_autoptr (GDBusConnection) connection = NULL;
  g_autoptr (KithDbusAgent1) proxy = NULL;

  g_return_val_if_fail (KITH_IS_CLIENT (self), FALSE);
  if (!kith_client_prepare (self, error))
    return FALSE;
  if (self->resolved_address != NULL)
    connection = g_dbus_connection_new_for_address_sync (self->resolved_address,
                                                         G_DBUS_CONNECTION_FLAGS_AUTHENTICATION_CLIENT,
                                                         NULL, cancellable, error);
  else
    connection = g_bus_get_sync (self->bus_type, cancellable, error);
  if (connection == NULL) {
    kith_client_convert_connect_error (self, error);
    return FALSE;
  }
  proxy = kith_dbus_agent1_proxy_new_sync (connection, kith_client_proxy_flags (),
                                           kith_client_get_bus_name (self),
                                           KITH_CLIENT_AGENT_PATH, cancellable, error);
  if (proxy == NULL) {
    kith_client_convert_error (self, error);
    return FALSE;
  }
  return kith_client_adopt (self, connection, proxy, cancellable, error);
}

gboolean
kith_client_is_connected (KithClient *self)
{
  g_return_val_if_fail (KITH_IS_CLIENT (self), FALSE);
  return self->proxy != NULL;
}

const gchar *
kith_client_get_node_id (KithClient *self)
{
  g_return_val_if_fail (KITH_IS_CLIENT (self), NULL);
  return self->proxy != NULL ? kith_dbus_agent1_get_node_id (self->proxy) : NULL;
}

const gchar *
kith_client_get_version (KithClient *self)
{
  g_return_val_if_fail (KITH_IS_CLIENT (self), NULL);
  return self->proxy != NULL ? kith_dbus_agent1_get_version (self->proxy) : NULL;
}

GPtrArray *
kith_client_get_plugins (KithClient *self)
{
  GPtrArray *plugins = g_ptr_array_new_with_free_func ((GDestroyNotify) kith_client_plugin_free);
  GVariant *value;
  GVariantIter iter;
  const gchar *name, *version, *state;

  g_return_val_if_fail (KITH_IS_CLIENT (self), plugins);
  if (self->proxy == NULL)
    return plugins;
  value = kith_dbus_agent1_get_plugins (self->proxy);
  if (value == NULL)
    return plugins;
  g_variant_iter_init (&iter, value);
  while (g_variant_iter_next (&iter, "(&s&s&s)", &name, &version, &state))
    g_ptr_array_add (plugins, kith_client_plugin_new (name, version, state));
  return plugins;
}

/* A caller's cancel wins even over a reply already on its way, so cancelling is deterministic. */
gboolean
kith_client_task_return_if_cancelled (KithClient *self, GTask *task)
{
  g_autoptr (GError) error = NULL;

  if (!g_cancellable_set_error_if_cancelled (g_task_get_cancellable (task), &error))
    return FALSE;
  kith_client_convert_error (self, &error);
  g_task_return_error (task, g_steal_pointer (&error));
  return TRUE;
}

static void
kith_client_get_status_cb (GObject *source, GAsyncResult *res, gpointer user_data)
{
  g_autoptr (GTask) task = G_TASK (user_data);
  KithClient *self = g_task_get_source_object (task);
  g_autoptr (GVariant) status = NULL;
  g_autoptr (GError) error = NULL;

  if (!kith_dbus_agent1_call_get_status_finish (KITH_DBUS_AGENT1 (source), &status, res, &error)) {
    kith_client_convert_error (self, &error);
    g_task_return_error (task, g_steal_pointer (&error));
    return;
  }
  if (kith_client_task_return_if_cancelled (self, task))
    return;
  g_task_return_pointer (task, g_steal_pointer (&status), (GDestroyNotify) g_variant_unref);
}

void
kith_client_get_status_async (KithClient *self, GCancellable *cancellable,
                              GAsyncReadyCallback callback, gpointer user_data)
{
  g_autoptr (GTask) task = NULL;

  g_return_if_fail (KITH_IS_CLIENT (self));
  task = kith_client_task_new_checked (self, kith_client_check_connected, cancellable, callback, user_data,
                                       kith_client_get_status_async);
  if (task == NULL)
    return;
  kith_dbus_agent1_call_get_status (self->proxy, cancellable,
                                    kith_client_get_status_cb, g_steal_pointer (&task));
}

GVariant *
kith_client_get_status_finish (KithClient *self, GAsyncResult *res, GError **error)
{
  g_return_val_if_fail (g_task_is_valid (res, self), NULL);
  return g_task_propagate_pointer (G_TASK (res), error);
}

GVariant *
kith_client_get_status (KithClient *self, GCancellable *cancellable, GError **error)
{
  GVariant *status = NULL;

  g_return_val_if_fail (KITH_IS_CLIENT (self), NULL);
  if (!kith_client_check_connected (self, error))
    return NULL;
  if (!kith_dbus_agent1_call_get_status_sync (self->proxy, &status, cancellable, error)) {
    kith_client_convert_error (self, error);
    return NULL;
  }
  return status;
}

GDBusConnection *
kith_client_get_connection (KithClient *self)
{
  g_return_val_if_fail (KITH_IS_CLIENT (self), NULL);
  return self->connection;
}

const gchar *
kith_client_get_bus_name (KithClient *self)
{
  g_return_val_if_fail (KITH_IS_CLIENT (self), NULL);
  /* a peer-to-peer connection has no bus daemon to route by name */
  return self->resolved_address != NULL ? NULL : KITH_CLIENT_AGENT_NAME;
}

void
kith_client_set_address (KithClient *self, const gchar *address)
{
  g_return_if_fail (KITH_IS_CLIENT (self));
  if (g_strcmp0 (self->address, address) == 0)
    return;
  g_free (self->address);
  self->address = g_strdup (address);
  g_object_notify_by_pspec (G_OBJECT (self), props[PROP_ADDRESS]);
}

const gchar *
kith_client_get_address (KithClient *self)
{
  g_return_val_if_fail (KITH_IS_CLIENT (self), NULL);
  return self->address;
}

void
kith_client_set_bus_type (KithClient *self, GBusType bus_type)
{
  g_return_if_fail (KITH_IS_CLIENT (self));
  g_return_if_fail (bus_type == G_BUS_TYPE_SYSTEM || bus_type == G_BUS_TYPE_SESSION);
  if (self->bus_type == bus_type)
    return;
  self->bus_type = bus_type;
  g_clear_pointer (&self->target, g_free);
  g_object_notify_by_pspec (G_OBJECT (self), props[PROP_BUS_TYPE]);
}

GBusType
kith_client_get_bus_type (KithClient *self)
{
  g_return_val_if_fail (KITH_IS_CLIENT (self), G_BUS_TYPE_SYSTEM);
  return self->bus_type;
}

const gchar *
kith_client_get_target (KithClient *self)
{
  g_return_val_if_fail (KITH_IS_CLIENT (self), NULL);
  /* once connected, report what we connected to, not what the environment says now */
  if (self->proxy == NULL)
    kith_client_resolve (self);
  return self->target;
}

static void
kith_client_get_property (GObject *object, guint prop_id, GValue *value, GParamSpec *pspec)
{
  KithClient *self = KITH_CLIENT (object);
  switch (prop_id) {
  case PROP_ADDRESS:
    g_value_set_string (value, self->address);
    break;
  case PROP_BUS_TYPE:
    g_value_set_enum (value, self->bus_type);
    break;
  default:
    G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
  }
}

static void
kith_client_set_property (GObject *object, guint prop_id, const GValue *value, GParamSpec *pspec)
{
  KithClient *self = KITH_CLIENT (object);
  switch (prop_id) {
  case PROP_ADDRESS:
    kith_client_set_address (self, g_value_get_string (value));
    break;
  case PROP_BUS_TYPE:
    kith_client_set_bus_type (self, g_value_get_enum (value));
    break;
  default:
    G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
  }
}

static void
kith_client_finalize (GObject *object)
{
  KithClient *self = KITH_CLIENT (object);
  kith_client_drop_peer_watch (self);
  g_clear_object (&self->proxy);
  g_clear_object (&self->connection);
  g_free (self->address);
  g_free (self->resolved_address);
  g_free (self->target);
  G_OBJECT_CLASS (kith_client_parent_class)->finalize (object);
}

static void
kith_client_init (KithClient *self)
{
  self->bus_type = G_BUS_TYPE_SYSTEM;
}

static void
kith_client_class_init (KithClientClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->get_property = kith_client_get_property;
  object_class->set_property = kith_client_set_property;
  object_class->finalize = kith_client_finalize;

  /* KithClient:address: a peer-to-peer D-Bus address; overrides KITH_AGENT_ADDRESS. */
  props[PROP_ADDRESS] =
    g_param_spec_string ("address", NULL, NULL, NULL,
                         G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  /* KithClient:bus-type: the bus used when no address applies. */
  props[PROP_BUS_TYPE] =
    g_param_spec_enum ("bus-type", NULL, NULL, G_TYPE_BUS_TYPE, G_BUS_TYPE_SYSTEM,
                       G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  g_object_class_install_properties (object_class, PROP_LAST, props);

  /* KithClient::peer-download: another node's download (href, node, done, total); see
   * kith_client_watch_peers(). */
  signals[SIGNAL_PEER_DOWNLOAD] =
    g_signal_new ("peer-download", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0, NULL, NULL,
                  NULL, G_TYPE_NONE, 4, G_TYPE_STRING, G_TYPE_STRING, G_TYPE_UINT64, G_TYPE_UINT64);
}

KithClient *
kith_client_new (void)
{
  return g_object_new (KITH_TYPE_CLIENT, NULL);
}
