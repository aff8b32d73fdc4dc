/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* kith-relay-server.c — relay offers and the CONNECT endpoint */
#include "kith-relay-server.h"

#include <string.h>

#include "kith-http-answer.h"
#include "kith-peer-identity.h"
#include "kith-peer-proof.h"
#include "kith-relay-fetch.h"
#include "kith-relay-tunnel.h"

#define KITH_RELAY_ALIAS_PATH "/relay/"
/* a CONNECT head larger than this (request line and headers) is refused */
#define KITH_RELAY_MAX_HEAD 8192
/* requester addresses whose buckets are kept */
#define KITH_RELAY_MAX_BUCKETS 1024

struct _KithRelayServer {
  KithAgent *agent;
  KithRelayServerLimits limits;
  gchar **allow;       /* "host:port", lowercase host: the backend's first */
  gboolean serving;
  gboolean started;
  KithRateLimit *per_requester;
  KithRateLimit *total;
  GHashTable *tunnels; /* KithRelayTunnel* (owned) */
  GHashTable *pending; /* KithRelayConnect* being connected (owned) */
  GHashTable *counts;  /* requester address → tunnels open or being opened */
  guint64 tunnels_total;
  KithRelayFetch *fetch;
};

/* One accepted CONNECT while its target is being reached. */
typedef struct {
  KithRelayServer *self;
  SoupServerMessage *msg;
  gchar *requester;
  gchar *target;
  GCancellable *cancellable;
  GSocketConnection *upstream;
} KithRelayConnect;

static void
kith_relay_server_count (KithRelayServer *self, const gchar *name, const gchar *labels)
{
  kith_metrics_add (kith_agent_get_metrics (self->agent), name, labels, 1);
}

static void
kith_relay_server_publish (KithRelayServer *self)
{
  kith_metrics_set (kith_agent_get_metrics (self->agent), "kith_relay_tunnels", NULL,
                    g_hash_table_size (self->tunnels));
}

static void
kith_relay_server_hold (KithRelayServer *self, const gchar *requester)
{
  guint n = GPOINTER_TO_UINT (g_hash_table_lookup (self->counts, requester));
  g_hash_table_insert (self->counts, g_strdup (requester), GUINT_TO_POINTER (n + 1));
}

static void
kith_relay_server_release (KithRelayServer *self, const gchar *requester)
{
  guint n = GPOINTER_TO_UINT (g_hash_table_lookup (self->counts, requester));

  if (n <= 1)
    g_hash_table_remove (self->counts, requester);
  else
    g_hash_table_insert (self->counts, g_strdup (requester), GUINT_TO_POINTER (n - 1));
}

static void
kith_relay_connect_free (KithRelayConnect *connect)
{
  g_cancellable_cancel (connect->cancellable);
  g_object_unref (connect->cancellable);
  g_clear_object (&connect->upstream);
  g_object_unref (connect->msg);
  g_free (connect->requester);
  g_free (connect->target);
  g_free (connect);
}

/* "host:port" of a CONNECT, host lowercased; NULL when it names no port. */
static gchar *
kith_relay_server_target (SoupServerMessage *msg)
{
  GUri *uri = soup_server_message_get_uri (msg);
  const gchar *host = uri != NULL ? g_uri_get_host (uri) : NULL;
  g_autofree gchar *lower = NULL;

  if (host == NULL || *host == '\0' || g_uri_get_port (uri) <= 0)
    return NULL;
  lower = g_ascii_strdown (host, -1);
  return g_strdup_printf (strchr (lower, ':') != NULL ? "[%s]:%d" : "%s:%d", lower, g_uri_get_port (uri));
}

static gsize
kith_relay_server_head_size (SoupServerMessage *msg)
{
  SoupMessageHeadersIter iter;
  const char *name, *value;
  gsize size = 0;

  soup_message_headers_iter_init (&iter, soup_server_message_get_request_headers (msg));
  while (soup_message_headers_iter_next (&iter, &name, &value))
    size += strlen (name) + strlen (value) + 4;
  return size;
}

static void
kith_relay_server_refuse (KithRelayServer *self, SoupServerMessage *msg, guint status, const gchar *reason,
                          const gchar *why)
{
  g_autofree gchar *labels = g_strdup_printf ("reason=\"%s\"", reason);

  g_debug ("refused a CONNECT: %s", why);
  kith_relay_server_count (self, "kith_relay_refused_total", labels);
  kith_http_answer_line (msg, status, why);
}

static void
kith_relay_server_tunnel_ended (KithRelayTunnel *tunnel, gpointer user_data)
{
  KithRelayServer *self = user_data;

  g_debug ("tunnel of %s closed: %" G_GUINT64_FORMAT " bytes up, %" G_GUINT64_FORMAT " down",
           kith_relay_tunnel_get_requester (tunnel), kith_relay_tunnel_get_bytes (tunnel, TRUE),
           kith_relay_tunnel_get_bytes (tunnel, FALSE));
  kith_relay_server_release (self, kith_relay_tunnel_get_requester (tunnel));
  g_hash_table_remove (self->tunnels, tunnel);
  kith_relay_server_publish (self);
}

/* The 200 is on the wire: the connection is the tunnel's from here. */
static void
kith_relay_server_wrote_cb (SoupServerMessage *msg, gpointer user_data)
{
  KithRelayConnect *connect = user_data;
  KithRelayServer *self = connect->self;
  g_autoptr (GIOStream) requester = NULL;
  KithRelayTunnelShared shared = {
    .per_requester = self->per_requester,
    .total = self->total,
    .metrics = kith_agent_get_metrics (self->agent),
    .idle_ms = self->limits.idle_ms,
  };
  KithRelayTunnel *tunnel;

  g_signal_handlers_disconnect_by_data (msg, connect);
  requester = soup_server_message_steal_connection (msg);
  g_hash_table_steal (self->pending, connect);
  if (requester == NULL) {
    kith_relay_server_release (self, connect->requester);
    kith_relay_connect_free (connect);
    return;
  }
  tunnel = kith_relay_tunnel_new (requester, G_IO_STREAM (connect->upstream), connect->requester, &shared,
                                  kith_relay_server_tunnel_ended, self);
  g_hash_table_add (self->tunnels, tunnel);
  self->tunnels_total++;
  kith_relay_server_count (self, "kith_relay_tunnels_total", NULL);
  kith_relay_server_publish (self);
  g_debug ("tunnel of %s to %s open", connect->requester, connect->target);
  kith_relay_connect_free (connect);
}

/* The requester left before its target answered. */
static void
kith_relay_server_gone_cb (SoupServerMessage *msg, gpointer user_data)
{
  KithRelayConnect *connect = user_data;
  KithRelayServer *self = connect->self;

  g_signal_handlers_disconnect_by_data (msg, connect);
  kith_relay_server_release (self, connect->requester);
  g_hash_table_remove (self->pending, connect);
}

static void
kith_relay_server_connected_cb (GObject *source, GAsyncResult *res, gpointer user_data)
{
  KithRelayConnect *connect = user_data;
  g_autoptr (GError) error = NULL;
  GSocketConnection *upstream = g_socket_client_connect_to_host_finish (G_SOCKET_CLIENT (source), res, &error);
  KithRelayServer *self;
  SoupMessageHeaders *headers;

  if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED)) {
    g_clear_object (&upstream);
    return; /* the server is going: its table frees the request */
  }
  self = connect->self;
  if (upstream == NULL) {
    g_autofree gchar *why = g_strdup_printf ("cannot reach %s: %s", connect->target, error->message);
    g_message ("CONNECT of %s: %s", connect->requester, why);
    kith_relay_server_count (self, "kith_relay_connect_failures_total", NULL);
    kith_http_answer_text (connect->msg, SOUP_STATUS_BAD_GATEWAY, "text/plain", why);
    g_signal_handlers_disconnect_by_data (connect->msg, connect);
    soup_server_message_unpause (connect->msg);
    kith_relay_server_release (self, connect->requester);
    g_hash_table_remove (self->pending, connect);
    return;
  }
  connect->upstream = upstream;
  headers = soup_server_message_get_response_headers (connect->msg);
  /* the connection lives on as the tunnel: nothing to close after this response */
  soup_message_headers_remove (headers, "Connection");
  soup_server_message_set_status (connect->msg, SOUP_STATUS_OK, "Connection established");
  g_signal_connect (connect->msg, "wrote-body", G_CALLBACK (kith_relay_server_wrote_cb), connect);
  soup_server_message_unpause (connect->msg);
}

static gboolean
kith_relay_server_allows (KithRelayServer *self, const gchar *target)
{
  return target != NULL && g_strv_contains ((const gchar *const *) self->allow, target);
}

static void
kith_relay_server_connect (SoupServer *server, SoupServerMessage *msg, const char *path, GHashTable *query,
                           gpointer user_data)
{
  KithRelayServer *self = user_data;
  GSocketAddress *remote = soup_server_message_get_remote_address (msg);
  g_autofree gchar *target = kith_relay_server_target (msg);
  g_autofree gchar *requester = NULL;
  g_autoptr (GSocketClient) client = NULL;
  KithRelayConnect *connect;
  guint open;

  if (!kith_http_is_lan (remote)) {
    kith_relay_server_refuse (self, msg, SOUP_STATUS_FORBIDDEN, "source", "tunnels are for the LAN only");
    return;
  }
  requester = g_inet_address_to_string (g_inet_socket_address_get_address (G_INET_SOCKET_ADDRESS (remote)));
  if (kith_relay_server_head_size (msg) > KITH_RELAY_MAX_HEAD) {
    kith_relay_server_refuse (self, msg, 431 /* Request Header Fields Too Large */, "head", "request head too large");
    return;
  }
  if (!kith_relay_server_allows (self, target)) {
    g_autofree gchar *why = g_strdup_printf ("%s is not a target of this relay", target != NULL ? target : "?");
    g_message ("refused a CONNECT from %s: %s", requester, why);
    kith_relay_server_refuse (self, msg, SOUP_STATUS_FORBIDDEN, "target", why);
    return;
  }
  open = GPOINTER_TO_UINT (g_hash_table_lookup (self->counts, requester));
  if (open >= self->limits.max_per_requester ||
      g_hash_table_size (self->tunnels) + g_hash_table_size (self->pending) >= self->limits.max_tunnels) {
    kith_relay_server_refuse (self, msg, SOUP_STATUS_SERVICE_UNAVAILABLE, "cap", "too many tunnels; try again later");
    return;
  }
  connect = g_new0 (KithRelayConnect, 1);
  connect->self = self;
  connect->msg = g_object_ref (msg);
  connect->requester = g_steal_pointer (&requester);
  connect->target = g_strdup (target);
  connect->cancellable = g_cancellable_new ();
  kith_relay_server_hold (self, connect->requester);
  g_hash_table_add (self->pending, connect);
  g_signal_connect (msg, "finished", G_CALLBACK (kith_relay_server_gone_cb), connect);
  soup_server_message_pause (msg);
  client = g_socket_client_new ();
  g_socket_client_set_enable_proxy (client, FALSE);
  g_socket_client_set_timeout (client, (guint) MAX (1, (self->limits.connect_timeout_ms + 999) / 1000));
  g_socket_client_connect_to_host_async (client, target, 0, connect->cancellable, kith_relay_server_connected_cb,
                                         connect);
}

/* A relay offer: the CONNECT endpoint's alias, signed for this request. */
static gboolean
kith_relay_server_respond (const KithTaskAsk *ask, KithTaskOffer *offer, gpointer user_data)
{
  KithRelayServer *self = user_data;
  GObject *identity = kith_agent_get_service (self->agent, "upload");
  g_autofree gchar *alias = NULL;

  if (!self->serving || identity == NULL || !KITH_IS_PEER_IDENTITY (identity) ||
      g_strcmp0 (ask->href, kith_agent_get_backend_url (self->agent)) != 0 ||
      g_strcmp0 (ask->node, kith_agent_get_node_id (self->agent)) == 0)
    return FALSE;
  alias = g_strconcat (kith_http_get_base_url (kith_agent_get_http (self->agent)), KITH_RELAY_ALIAS_PATH, NULL);
  if (!kith_peer_identity_prove (KITH_PEER_IDENTITY (identity), KITH_PEER_ROLE_RELAY, ask->id, alias, &offer->cert,
                                 &offer->sig))
    return FALSE; /* not enrolled (yet), or not for relaying */
  offer->alias = g_steal_pointer (&alias);
  g_debug ("offering to relay for %s (request %u)", ask->node, ask->id);
  return TRUE;
}

KithRelayServer *
kith_relay_server_new (KithAgent *agent, const KithRelayServerLimits *limits)
{
  KithRelayServer *self = g_new0 (KithRelayServer, 1);
  g_autoptr (GPtrArray) allow = g_ptr_array_new ();
  gchar *backend = kith_relay_fetch_target (kith_agent_get_backend_url (agent));

  self->agent = agent;
  self->limits = *limits;
  if (backend != NULL)
    g_ptr_array_add (allow, backend);
  for (guint i = 0; limits->allow != NULL && limits->allow[i] != NULL; i++)
    g_ptr_array_add (allow, g_ascii_strdown (limits->allow[i], -1));
  g_ptr_array_add (allow, NULL);
  self->allow = (gchar **) g_ptr_array_steal (allow, NULL);
  self->limits.allow = NULL;
  /* a bucket holds one second of its rate */
  self->per_requester = kith_rate_limit_new ((guint) MIN (limits->rate_per_requester, G_MAXUINT),
                                             (guint) MIN (limits->rate_per_requester, G_MAXUINT), KITH_RELAY_MAX_BUCKETS);
  self->total = kith_rate_limit_new ((guint) MIN (limits->rate, G_MAXUINT), (guint) MIN (limits->rate, G_MAXUINT), 1);
  self->tunnels = g_hash_table_new_full (NULL, NULL, (GDestroyNotify) kith_relay_tunnel_free, NULL);
  self->pending = g_hash_table_new_full (NULL, NULL, (GDestroyNotify) kith_relay_connect_free, NULL);
  self->counts = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  return self;
}

/* The relay fetches for requesters from the same origins it tunnels to. */
static void
kith_relay_server_start_fetch (KithRelayServer *self)
{
  self->fetch = kith_relay_fetch_new (self->agent, self->allow, self->limits.fetch_max_size,
                                      self->limits.max_fetches_per_requester, self->limits.max_fetches);
  kith_relay_fetch_set_serving (self->fetch, self->serving);
}

void
kith_relay_server_start (KithRelayServer *self)
{
  GObject *peering = kith_agent_get_service (self->agent, "peering");

  kith_http_set_connect_handler (kith_agent_get_http (self->agent), kith_relay_server_connect, self);
  if (peering != NULL && KITH_IS_TASK_BROKER (peering))
    kith_task_broker_add_responder (KITH_TASK_BROKER (peering), "relay", kith_relay_server_respond, self);
  kith_relay_server_start_fetch (self);
  self->started = TRUE;
  for (guint i = 0; self->allow[i] != NULL; i++)
    g_debug ("CONNECT allowed to %s", self->allow[i]);
}

void
kith_relay_server_free (KithRelayServer *self)
{
  if (self == NULL)
    return;
  g_clear_pointer (&self->fetch, kith_relay_fetch_free);
  if (self->started) {
    GObject *peering = kith_agent_get_service (self->agent, "peering");
    kith_http_set_connect_handler (kith_agent_get_http (self->agent), NULL, NULL);
    if (peering != NULL && KITH_IS_TASK_BROKER (peering))
      kith_task_broker_remove_responder (KITH_TASK_BROKER (peering), "relay");
  }
  g_hash_table_unref (self->pending);
  g_hash_table_unref (self->tunnels);
  g_hash_table_unref (self->counts);
  kith_rate_limit_free (self->per_requester);
  kith_rate_limit_free (self->total);
  g_strfreev (self->allow);
  g_free (self);
}

void
kith_relay_server_set_serving (KithRelayServer *self, gboolean serving)
{
  if (serving != self->serving)
    g_message ("%s relaying for the LAN", serving ? "offering" : "not offering");
  self->serving = serving;
  if (self->fetch != NULL)
    kith_relay_fetch_set_serving (self->fetch, serving);
}

gboolean
kith_relay_server_is_offering (KithRelayServer *self)
{
  GObject *identity = kith_agent_get_service (self->agent, "upload");
  g_autofree gchar *cert = NULL;
  g_autofree gchar *sig = NULL;

  return self->serving && identity != NULL && KITH_IS_PEER_IDENTITY (identity) &&
         kith_peer_identity_prove (KITH_PEER_IDENTITY (identity), KITH_PEER_ROLE_RELAY, 0, "status", &cert, &sig);
}

guint
kith_relay_server_get_tunnels (KithRelayServer *self)
{
  return g_hash_table_size (self->tunnels);
}

guint64
kith_relay_server_get_tunnels_total (KithRelayServer *self)
{
  return self->tunnels_total;
}

guint64
kith_relay_server_get_fetches (KithRelayServer *self)
{
  return self->fetch != NULL ? kith_relay_fetch_get_served (self->fetch) : 0;
}
