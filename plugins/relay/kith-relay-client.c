/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* kith-relay-client.c — direct or through a relay: probes, search, failover */
#include "kith-relay-client.h"

#include "kith-peer-proof.h"
#include "kith-relay-request.h"

/* relays remembered in back-off at once */
#define KITH_RELAY_CLIENT_MAX_BACKOFF 256
/* a relay that proved it misbehaves (an answer past the bound) is not taken again for this
 * long — as upload's blacklist-time: a fault backs off, a proven lie blacklists */
#define KITH_RELAY_CLIENT_BLACKLIST_MS (24 * 3600 * G_GINT64_CONSTANT (1000))

typedef enum {
  KITH_RELAY_CLIENT_PROBING,
  KITH_RELAY_CLIENT_DIRECT,
  KITH_RELAY_CLIENT_SEARCHING,
  KITH_RELAY_CLIENT_TRYING,
  KITH_RELAY_CLIENT_RELAYED,
  KITH_RELAY_CLIENT_UNREACHABLE,
} KithRelayClientState;

static const gchar *const kith_relay_client_states[] = {
  "probing", "direct", "searching", "trying", "relayed", "unreachable",
};

struct _KithRelayClient {
  KithAgent *agent;
  KithRelayClientTimings timings;
  KithRelayClientDirectFunc func;
  gpointer user_data;
  KithTaskBroker *broker;
  gchar *anchor_pem;
  gchar *backend_host;
  guint16 backend_port;
  KithRelayClientState state;
  guint32 request_id; /* the search in progress, 0: none */
  gchar *node;        /* the relay tried or in use */
  gchar *proxy_url;
  guint timer_id;
  GCancellable *cancellable; /* the probe in flight */
  /* cancelled once, when the client is freed: the fetches through the relay it started
   * (kith-relay-request.h) may still wait to ask again then, and must neither send nor
   * call kith_relay_client_blacklist_cb() on it after that — not self->cancellable, which
   * each new probe replaces */
  GCancellable *stop;
  GHashTable *backoff;       /* node → gint64* monotonic µs until it may be taken again */
  guint64 refused;
  SoupSession *session;      /* fetch requests to the relay, on the LAN */
  gulong failed_id;          /* the route's "relay-failed" */
};

static void kith_relay_client_search (KithRelayClient *self);
static void kith_relay_client_probe_direct (KithRelayClient *self);
static void kith_relay_client_probe_relay (KithRelayClient *self);

static void
kith_relay_client_count (KithRelayClient *self, const gchar *name)
{
  kith_metrics_add (kith_agent_get_metrics (self->agent), name, NULL, 1);
}

static gboolean
kith_relay_client_tick_cb (gpointer user_data)
{
  KithRelayClient *self = user_data;

  self->timer_id = 0;
  if (!kith_agent_get_offline (self->agent))
    kith_relay_client_probe_direct (self);
  else if (self->state == KITH_RELAY_CLIENT_RELAYED)
    kith_relay_client_probe_relay (self);
  else
    kith_relay_client_search (self);
  return G_SOURCE_REMOVE;
}

static void
kith_relay_client_schedule (KithRelayClient *self, guint64 ms)
{
  g_clear_handle_id (&self->timer_id, g_source_remove);
  self->timer_id = g_timeout_add ((guint) MIN (MAX (ms, 10), G_MAXUINT), kith_relay_client_tick_cb, self);
}

static void
kith_relay_client_end_search (KithRelayClient *self)
{
  if (self->request_id != 0)
    kith_task_broker_end (self->broker, self->request_id);
  self->request_id = 0;
}

/* A new probe: the one in flight (if any) is forgotten. */
static GCancellable *
kith_relay_client_new_probe (KithRelayClient *self)
{
  g_cancellable_cancel (self->cancellable);
  g_clear_object (&self->cancellable);
  self->cancellable = g_cancellable_new ();
  return self->cancellable;
}

static void
kith_relay_client_clear_relay (KithRelayClient *self)
{
  KithBackendRoute *route = kith_agent_get_backend_route (self->agent);

  if (kith_backend_route_get_relay_node (route) != NULL)
    g_message ("backend traffic no longer goes through relay %s", kith_backend_route_get_relay_node (route));
  kith_backend_route_set_relay (route, NULL, NULL);
}

static void
kith_relay_client_set_backoff (KithRelayClient *self, const gchar *node, gint64 ms)
{
  gint64 until = g_get_monotonic_time () + ms * 1000;

  if (g_hash_table_size (self->backoff) >= KITH_RELAY_CLIENT_MAX_BACKOFF)
    g_hash_table_remove_all (self->backoff); /* a flood of names: forgetting is safe, checks still apply */
  g_hash_table_replace (self->backoff, g_strdup (node), g_memdup2 (&until, sizeof until));
}

static void
kith_relay_client_back_off (KithRelayClient *self, const gchar *node)
{
  kith_relay_client_set_backoff (self, node, (gint64) self->timings.backoff_ms);
}

static gboolean
kith_relay_client_backing_off (KithRelayClient *self, const gchar *node)
{
  gint64 *until = node != NULL ? g_hash_table_lookup (self->backoff, node) : NULL;

  if (until == NULL)
    return FALSE;
  if (*until > g_get_monotonic_time ())
    return TRUE;
  g_hash_table_remove (self->backoff, node);
  return FALSE;
}

static GSocketClient *
kith_relay_client_socket_client (KithRelayClient *self, const gchar *proxy_url)
{
  GSocketClient *client = g_socket_client_new ();

  g_socket_client_set_timeout (client, (guint) MAX (1, (self->timings.probe_timeout_ms + 999) / 1000));
  if (proxy_url == NULL) {
    g_socket_client_set_enable_proxy (client, FALSE);
  } else {
    /* GIO's own HTTP proxy support speaks the CONNECT */
    g_autoptr (GProxyResolver) resolver = g_simple_proxy_resolver_new (proxy_url, NULL);
    g_socket_client_set_proxy_resolver (client, resolver);
  }
  return client;
}

/* A relay that proved it misbehaves (a fetch through it told so): not taken again for a
 * day, and left now if in use. */
static void
kith_relay_client_blacklist_cb (const gchar *node, const gchar *why, gpointer user_data)
{
  KithRelayClient *self = user_data;

  g_message ("relay %s blacklisted for %" G_GINT64_FORMAT " s: %s", node, KITH_RELAY_CLIENT_BLACKLIST_MS / 1000,
             why);
  kith_relay_client_count (self, "kith_relay_blacklisted_total");
  kith_relay_client_set_backoff (self, node, KITH_RELAY_CLIENT_BLACKLIST_MS);
  if (g_strcmp0 (node, self->node) != 0 ||
      (self->state != KITH_RELAY_CLIENT_RELAYED && self->state != KITH_RELAY_CLIENT_TRYING))
    return;
  g_cancellable_cancel (self->cancellable); /* its probe */
  kith_relay_client_clear_relay (self);
  kith_relay_client_search (self);
}

/* ---- the relay in use ---- */

static void
kith_relay_client_relay_probed_cb (GObject *source, GAsyncResult *res, gpointer user_data)
{
  KithRelayClient *self = user_data;
  g_autoptr (GError) error = NULL;
  g_autoptr (GSocketConnection) tunnel = g_socket_client_connect_to_host_finish (G_SOCKET_CLIENT (source), res, &error);
  KithBackendRoute *route;

  if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    return;
  if (tunnel == NULL) {
    g_message ("relay %s (%s) does not tunnel to the backend: %s; looking for another", self->node, self->proxy_url,
               error->message);
    self->refused++;
    kith_relay_client_count (self, "kith_relay_failovers_total");
    kith_relay_client_back_off (self, self->node);
    kith_relay_client_clear_relay (self);
    kith_relay_client_search (self);
    return;
  }
  g_io_stream_close (G_IO_STREAM (tunnel), NULL, NULL);
  route = kith_agent_get_backend_route (self->agent);
  if (g_strcmp0 (kith_backend_route_get_relay_node (route), self->node) != 0)
    g_message ("backend traffic goes through relay %s at %s", self->node, self->proxy_url);
  kith_backend_route_set_relay (route, self->node, self->proxy_url);
  self->state = KITH_RELAY_CLIENT_RELAYED;
  kith_relay_client_schedule (self, self->timings.probe_ms);
}

/* A CONNECT to the backend through the relay, closed at once: it tunnels, or it fails. */
static void
kith_relay_client_probe_relay (KithRelayClient *self)
{
  g_autoptr (GSocketClient) client = kith_relay_client_socket_client (self, self->proxy_url);

  g_socket_client_connect_to_host_async (client, self->backend_host, self->backend_port,
                                         kith_relay_client_new_probe (self), kith_relay_client_relay_probed_cb, self);
}

/* A request through the relay got no answer: check it now, not at the next probe. */
static void
kith_relay_client_relay_failed_cb (KithBackendRoute *route, gpointer user_data)
{
  KithRelayClient *self = user_data;

  if (self->state != KITH_RELAY_CLIENT_RELAYED)
    return;
  g_clear_handle_id (&self->timer_id, g_source_remove);
  g_debug ("a request through relay %s failed; checking it now", self->node);
  kith_relay_client_probe_relay (self);
}

/* ---- finding a relay ---- */

static gboolean
kith_relay_client_search_timeout_cb (gpointer user_data)
{
  KithRelayClient *self = user_data;

  self->timer_id = 0;
  kith_relay_client_end_search (self);
  if (self->state == KITH_RELAY_CLIENT_SEARCHING) {
    g_message ("no relay on the LAN that verifies; looking again in %" G_GUINT64_FORMAT " ms", self->timings.retry_ms);
    self->state = KITH_RELAY_CLIENT_UNREACHABLE;
    kith_relay_client_schedule (self, self->timings.retry_ms);
  }
  return G_SOURCE_REMOVE;
}

/* "scheme://host:port" of the offered alias: where CONNECT goes. */
static gchar *
kith_relay_client_proxy_url (const gchar *alias)
{
  g_autoptr (GUri) uri = g_uri_parse (alias, G_URI_FLAGS_NONE, NULL);

  if (uri == NULL || g_uri_get_host (uri) == NULL || g_strcmp0 (g_uri_get_scheme (uri), "http") != 0)
    return NULL;
  return g_uri_join (G_URI_FLAGS_NONE, "http", NULL, g_uri_get_host (uri), g_uri_get_port (uri), "", NULL, NULL);
}

static gboolean
kith_relay_client_found_cb (gpointer user_data)
{
  KithRelayClient *self = user_data;

  kith_relay_client_end_search (self);
  return G_SOURCE_REMOVE;
}

/* The first offer that passes the check is tried; one that fails it is never taken. */
static void
kith_relay_client_offer_cb (guint32 id, const KithTaskOffer *offer, gpointer user_data)
{
  KithRelayClient *self = user_data;
  g_autofree gchar *reason = NULL;
  g_autofree gchar *proxy_url = NULL;

  if (self->state != KITH_RELAY_CLIENT_SEARCHING || id != self->request_id ||
      kith_relay_client_backing_off (self, offer->node))
    return;
  if (!kith_task_offer_verify (offer, id, self->anchor_pem, KITH_PEER_ROLE_RELAY, g_get_real_time () / G_USEC_PER_SEC,
                               &reason) ||
      (proxy_url = kith_relay_client_proxy_url (offer->alias)) == NULL) {
    g_message ("refused the relay offer of %s: %s", offer->node != NULL ? offer->node : "?",
               reason != NULL ? reason : "its alias is not an http:// URL");
    self->refused++;
    kith_relay_client_count (self, "kith_relay_offers_refused_total");
    return;
  }
  g_clear_handle_id (&self->timer_id, g_source_remove);
  kith_task_broker_found (self->broker, id);
  /* not from inside the broker's own callback */
  g_idle_add (kith_relay_client_found_cb, self);
  g_free (self->node);
  g_free (self->proxy_url);
  self->node = g_strdup (offer->node);
  self->proxy_url = g_steal_pointer (&proxy_url);
  self->state = KITH_RELAY_CLIENT_TRYING;
  g_debug ("relay %s at %s verifies; trying its tunnel", self->node, self->proxy_url);
  kith_relay_client_probe_relay (self);
}

static void
kith_relay_client_search (KithRelayClient *self)
{
  if (!self->timings.use_relays) {
    /* [relay] use=false: look again later, directly */
    self->state = KITH_RELAY_CLIENT_UNREACHABLE;
    kith_relay_client_schedule (self, self->timings.probe_ms);
    return;
  }
  if (self->broker == NULL || self->anchor_pem == NULL) {
    self->state = KITH_RELAY_CLIENT_UNREACHABLE;
    return;
  }
  kith_relay_client_end_search (self);
  self->state = KITH_RELAY_CLIENT_SEARCHING;
  self->request_id = kith_task_broker_request (self->broker, "relay", kith_agent_get_backend_url (self->agent),
                                               kith_relay_client_offer_cb, self);
  g_clear_handle_id (&self->timer_id, g_source_remove);
  self->timer_id = g_timeout_add ((guint) MAX (self->timings.offer_wait_ms, 10), kith_relay_client_search_timeout_cb,
                                  self);
}

/* ---- the backend, directly ---- */

static void
kith_relay_client_direct_probed_cb (GObject *source, GAsyncResult *res, gpointer user_data)
{
  KithRelayClient *self = user_data;
  g_autoptr (GError) error = NULL;
  g_autoptr (GSocketConnection) conn = g_socket_client_connect_to_host_finish (G_SOCKET_CLIENT (source), res, &error);

  if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    return;
  if (conn != NULL) {
    g_io_stream_close (G_IO_STREAM (conn), NULL, NULL);
    if (self->state != KITH_RELAY_CLIENT_DIRECT && self->state != KITH_RELAY_CLIENT_PROBING)
      g_message ("the backend answers directly again");
    kith_relay_client_end_search (self);
    kith_relay_client_clear_relay (self);
    kith_backend_route_set_unreachable (kith_agent_get_backend_route (self->agent), FALSE);
    self->state = KITH_RELAY_CLIENT_DIRECT;
    if (self->func != NULL)
      self->func (TRUE, self->user_data);
    kith_relay_client_schedule (self, self->timings.probe_ms);
    return;
  }
  kith_backend_route_set_unreachable (kith_agent_get_backend_route (self->agent), TRUE);
  if (self->func != NULL)
    self->func (FALSE, self->user_data);
  if (self->state == KITH_RELAY_CLIENT_RELAYED) {
    kith_relay_client_probe_relay (self);
    return;
  }
  g_message ("backend %s:%u unreachable (%s): looking for a relay", self->backend_host, self->backend_port,
             error->message);
  kith_relay_client_search (self);
}

static void
kith_relay_client_probe_direct (KithRelayClient *self)
{
  g_autoptr (GSocketClient) client = kith_relay_client_socket_client (self, NULL);

  g_socket_client_connect_to_host_async (client, self->backend_host, self->backend_port,
                                         kith_relay_client_new_probe (self), kith_relay_client_direct_probed_cb, self);
}

/* ---- origin misses, fetched by the relay (kith-relay-request.h) ---- */

void
kith_relay_client_fetch_async (KithRelayClient *self, GObject *source, const gchar *url, const gchar *sha256,
                               guint64 size, guint64 timeout_ms, GCancellable *cancellable,
                               GAsyncReadyCallback callback, gpointer user_data)
{
  /* while a relay is searched for or tried the fetch waits for it */
  gboolean finding = self->state == KITH_RELAY_CLIENT_SEARCHING || self->state == KITH_RELAY_CLIENT_TRYING;

  kith_relay_request_async (kith_agent_get_backend_route (self->agent), self->session, self->stop, finding,
                            kith_relay_client_blacklist_cb, self, source, url, sha256, size, timeout_ms, cancellable,
                            callback, user_data);
}

gboolean
kith_relay_client_fetch_finish (KithRelayClient *self, GAsyncResult *result, GError **error)
{
  return kith_relay_request_finish (result, error);
}

/* ---- the object ---- */

KithRelayClient *
kith_relay_client_new (KithAgent *agent, const KithRelayClientTimings *timings, KithRelayClientDirectFunc func,
                       gpointer user_data)
{
  KithRelayClient *self = g_new0 (KithRelayClient, 1);
  GObject *peering = kith_agent_get_service (agent, "peering");
  const gchar *url = kith_agent_get_backend_url (agent);
  const gchar *anchor = kith_agent_get_trust_anchor (agent);
  g_autoptr (GUri) uri = url != NULL ? g_uri_parse (url, G_URI_FLAGS_NONE, NULL) : NULL;

  self->agent = agent;
  self->timings = *timings;
  self->func = func;
  self->user_data = user_data;
  self->broker = peering != NULL && KITH_IS_TASK_BROKER (peering) ? KITH_TASK_BROKER (peering) : NULL;
  if (anchor != NULL && !g_file_get_contents (anchor, &self->anchor_pem, NULL, NULL))
    g_warning ("cannot read trust-anchor %s: relay offers cannot be checked", anchor);
  if (uri != NULL && g_uri_get_host (uri) != NULL) {
    self->backend_host = g_strdup (g_uri_get_host (uri));
    self->backend_port = (guint16) (g_uri_get_port (uri) != -1 ? g_uri_get_port (uri) : 443);
  }
  self->backoff = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
  self->cancellable = g_cancellable_new ();
  self->stop = g_cancellable_new ();
  /* the relay's own HTTP server; a fetch request waits there up to its own bound */
  self->session = soup_session_new_with_options ("timeout", 60, "user-agent", "kith-relay", NULL);
  return self;
}

void
kith_relay_client_start (KithRelayClient *self)
{
  if (self->backend_host == NULL)
    return;
  self->failed_id = g_signal_connect (kith_agent_get_backend_route (self->agent), "relay-failed",
                                      G_CALLBACK (kith_relay_client_relay_failed_cb), self);
  if (kith_agent_get_offline (self->agent)) {
    /* never tried directly: straight to the LAN's relays */
    kith_relay_client_search (self);
    return;
  }
  self->state = KITH_RELAY_CLIENT_PROBING;
  kith_relay_client_probe_direct (self);
}

void
kith_relay_client_free (KithRelayClient *self)
{
  if (self == NULL)
    return;
  /* first: no fetch of ours blames a relay on self from here on */
  g_cancellable_cancel (self->stop);
  g_clear_object (&self->stop);
  g_cancellable_cancel (self->cancellable);
  g_clear_object (&self->cancellable);
  g_clear_handle_id (&self->timer_id, g_source_remove);
  g_idle_remove_by_data (self);
  g_clear_signal_handler (&self->failed_id, kith_agent_get_backend_route (self->agent));
  kith_relay_client_end_search (self);
  kith_backend_route_set_relay (kith_agent_get_backend_route (self->agent), NULL, NULL);
  g_hash_table_unref (self->backoff);
  /* the fetches in flight end now (cancelled); a fetch still holds its own reference */
  soup_session_abort (self->session);
  g_object_unref (self->session);
  g_free (self->anchor_pem);
  g_free (self->backend_host);
  g_free (self->node);
  g_free (self->proxy_url);
  g_free (self);
}

const gchar *
kith_relay_client_get_state (KithRelayClient *self)
{
  return kith_relay_client_states[self->state];
}

guint64
kith_relay_client_get_refused (KithRelayClient *self)
{
  return self->refused;
}
