/* kith-client.h — KithClient: a connection to one kith agent over D-Bus */
#pragma once

#include <gio/gio.h>

#include "kith-client-error.h"
#include "kith-client-plugin.h"

G_BEGIN_DECLS

#define KITH_TYPE_CLIENT (kith_client_get_type ())
G_DECLARE_FINAL_TYPE (KithClient, kith_client, KITH, CLIENT, GObject)

/*
 * Which agent: the address set with kith_client_set_address(), else the
 * environment variable KITH_AGENT_ADDRESS (an agent listening peer-to-peer,
 * "unix:path=…"), else org.kith.Agent1 on the bus set with
 * kith_client_set_bus_type() (default: the system bus).
 * Every error is in the KITH_CLIENT_ERROR domain.
 */

/* A new, unconnected client; caller owns it. */
KithClient *kith_client_new (void);

/* Use the agent listening peer-to-peer at @address (NULL: back to the default); before connecting. */
void kith_client_set_address (KithClient *self, const gchar *address);
/* The address set with kith_client_set_address(), or NULL; owned by @self. */
const gchar *kith_client_get_address (KithClient *self);
/* Use the agent on @bus_type (G_BUS_TYPE_SYSTEM or G_BUS_TYPE_SESSION) when no address applies. */
void kith_client_set_bus_type (KithClient *self, GBusType bus_type);
/* The bus used when no address applies. */
GBusType kith_client_get_bus_type (KithClient *self);
/* Where the client connects (or connected): an address, or "system bus"/"session bus"; owned by @self. */
const gchar *kith_client_get_target (KithClient *self);

/* Connects and checks the agent answers; fails with AGENT_NOT_RUNNING when nothing does. */
void kith_client_connect_async (KithClient *self, GCancellable *cancellable,
                                GAsyncReadyCallback callback, gpointer user_data);
/* Finishes kith_client_connect_async(). */
gboolean kith_client_connect_finish (KithClient *self, GAsyncResult *res, GError **error);
/* Blocking kith_client_connect_async(). */
gboolean kith_client_connect (KithClient *self, GCancellable *cancellable, GError **error);
/* TRUE once a connect succeeded. */
gboolean kith_client_is_connected (KithClient *self);

/* The agent's node id (32 hex digits); owned by @self; NULL before connecting. */
const gchar *kith_client_get_node_id (KithClient *self);
/* The agent's version string; owned by @self; NULL before connecting. */
const gchar *kith_client_get_version (KithClient *self);
/* Every plugin named in the agent's config, as KithClientPlugin; caller owns the array. */
GPtrArray *kith_client_get_plugins (KithClient *self);

/* Asks the agent for its status: a{sv} with a section (a{sv}) per component, "agent" first. */
void kith_client_get_status_async (KithClient *self, GCancellable *cancellable,
                                   GAsyncReadyCallback callback, gpointer user_data);
/* Finishes kith_client_get_status_async(); the a{sv} is the caller's. */
GVariant *kith_client_get_status_finish (KithClient *self, GAsyncResult *res, GError **error);
/* Blocking kith_client_get_status_async(); the a{sv} is the caller's. */
GVariant *kith_client_get_status (KithClient *self, GCancellable *cancellable, GError **error);

G_END_DECLS
