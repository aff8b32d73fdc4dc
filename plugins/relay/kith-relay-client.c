/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* kith-relay-client.c — direct or through a relay: probes, search, failover */
#include "kith-relay-client.h"

#include "kith-deadline.h"
#include "kith-http-request.h"
#include "kith-peer-proof.h"

/* the most of a relay's answer to a fetch that is read: a line of text */
#define KITH_RELAY_CLIENT_ANSWER_MAX (64 * 1024)
/* a fetch the relay refused for its caps is asked again after this */
#define KITH_RELAY_CLIENT_FETCH_RETRY_MS 500
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

/* A relay that proved it misbehaves: not taken again for a day, and left now if in use. */
static void
kith_relay_client_blacklist (KithRelayClient *self, const gchar *node, const gchar *why)
{
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

/* ---- origin misses, fetched by the relay ---- */

typedef struct {
  KithRelayClient *self;
  gchar *query;    /* "url=…&sha256=…&size=…" of /relay/fetch */
  gint64 deadline; /* monotonic µs */
  /* the request in flight, cancelled with the fetch or at the deadline: an answer that
   * trickles in stays under the session's idle timeout, and under the size bound for hours */
  KithDeadline *request;
  gchar *relay_node;  /* whom the request in flight went to */
  GError *last_error; /* why the request before it failed, when it is asked again */
} KithRelayClientFetch;

static void
kith_relay_client_fetch_free (KithRelayClientFetch *fetch)
{
  kith_deadline_free (fetch->request);
  g_free (fetch->relay_node);
  g_clear_error (&fetch->last_error);
  g_free (fetch->query);
  g_free (fetch);
}

static void kith_relay_client_fetch_send (GTask *task);

static gboolean
kith_relay_client_fetch_again_cb (gpointer user_data)
{
  GTask *task = user_data;

  if (g_task_return_error_if_cancelled (task))
    g_object_unref (task);
  else
    kith_relay_client_fetch_send (task);
  return G_SOURCE_REMOVE;
}

/* Asks again a little later — the relay's caps are full, or it is gone and the route is
 * moving to the next one — or fails with @error once past the deadline. Takes @task. */
static void
kith_relay_client_fetch_later (GTask *task, GError *error)
{
  KithRelayClientFetch *fetch = g_task_get_task_data (task);

  if (g_get_monotonic_time () >= fetch->deadline) {
    g_task_return_error (task, error);
    g_object_unref (task);
    return;
  }
  g_clear_error (&fetch->last_error);
  fetch->last_error = error;
  g_timeout_add_full (G_PRIORITY_DEFAULT, KITH_RELAY_CLIENT_FETCH_RETRY_MS, kith_relay_client_fetch_again_cb, task,
                      NULL);
}

static void
kith_relay_client_fetch_cb (GObject *source, GAsyncResult *res, gpointer user_data)
{
  g_autoptr (GTask) task = user_data;
  KithRelayClientFetch *fetch = g_task_get_task_data (task);
  GError *error = NULL;
  g_autoptr (GBytes) body = kith_http_request_send_finish (res, &error);
  SoupMessage *msg = SOUP_MESSAGE (source);
  g_autoptr (KithDeadline) request = g_steal_pointer (&fetch->request);
  g_autofree gchar *text = NULL;
  guint status;

  if (body == NULL && kith_deadline_has_expired (request) &&
      !g_cancellable_is_cancelled (g_task_get_cancellable (task))) {
    g_clear_error (&error);
    if (fetch->last_error != NULL)
      g_task_return_new_error (task, G_IO_ERROR, G_IO_ERROR_TIMED_OUT,
                               "the relay's answer did not end by the fetch's deadline (the one before: %s)",
                               fetch->last_error->message);
    else
      g_task_return_new_error (task, G_IO_ERROR, G_IO_ERROR_TIMED_OUT,
                               "the relay's answer did not end by the fetch's deadline");
    return;
  }
  if (body == NULL && g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED)) {
    g_task_return_error (task, error);
    return;
  }
  if (body == NULL && g_error_matches (error, G_IO_ERROR, G_IO_ERROR_MESSAGE_TOO_LARGE)) {
    /* more than the bound is no fault but proof of misbehaviour (docs/security.md): asking
     * it again every half second until the deadline only fed it our time */
    g_autofree gchar *why = g_strdup_printf ("its answer to a fetch was %s", error->message);
    if (fetch->relay_node != NULL)
      kith_relay_client_blacklist (fetch->self, fetch->relay_node, why);
    g_task_return_new_error (task, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
                             "the relay's answer was %s (blacklisted)", error->message);
    g_error_free (error);
    return;
  }
  if (body == NULL) {
    /* the relay went away: the route finds the next one, and the fetch asks it */
    kith_backend_route_report_failure (kith_agent_get_backend_route (fetch->self->agent));
    kith_relay_client_fetch_later (g_steal_pointer (&task), error);
    return;
  }
  status = soup_message_get_status (msg);
  if (status == SOUP_STATUS_OK) {
    g_task_return_boolean (task, TRUE);
    return;
  }
  if (status == SOUP_STATUS_ACCEPTED && g_get_monotonic_time () < fetch->deadline) {
    kith_relay_client_fetch_send (g_steal_pointer (&task));
    return;
  }
  text = g_strndup (g_bytes_get_data (body, NULL), MIN (g_bytes_get_size (body), 200));
  g_strchomp (text);
  error = g_error_new (G_IO_ERROR, G_IO_ERROR_FAILED, "the relay answered %u: %s", status,
                       status == SOUP_STATUS_ACCEPTED ? "still fetching at the deadline" : text);
  if (status == SOUP_STATUS_SERVICE_UNAVAILABLE) {
    /* the relay's caps: this node's other fetches first */
    kith_relay_client_fetch_later (g_steal_pointer (&task), error);
    return;
  }
  g_task_return_error (task, error);
}

/* To the relay in use now: after a failover, that is the next one. */
static void
kith_relay_client_fetch_send (GTask *task)
{
  KithRelayClientFetch *fetch = g_task_get_task_data (task);
  const gchar *relay = kith_backend_route_get_relay_url (kith_agent_get_backend_route (fetch->self->agent));
  g_autofree gchar *url = NULL;
  g_autoptr (SoupMessage) msg = NULL;
  gint64 left_ms;

  if (relay == NULL) {
    kith_relay_client_fetch_later (task, g_error_new_literal (G_IO_ERROR, G_IO_ERROR_NOT_FOUND, "no relay in use"));
    return;
  }
  url = g_strdup_printf ("%s/relay/fetch?%s", relay, fetch->query);
  msg = soup_message_new (SOUP_METHOD_GET, url);
  g_free (fetch->relay_node);
  fetch->relay_node =
      g_strdup (kith_backend_route_get_relay_node (kith_agent_get_backend_route (fetch->self->agent)));
  left_ms = MAX (fetch->deadline - g_get_monotonic_time (), 0) / 1000 + 1;
  fetch->request = kith_deadline_new (g_task_get_cancellable (task), (guint) MIN (left_ms, G_MAXUINT));
  kith_http_request_send_async (fetch->self->session, msg, KITH_RELAY_CLIENT_ANSWER_MAX,
                                kith_deadline_get_cancellable (fetch->request), kith_relay_client_fetch_cb, task);
}

void
kith_relay_client_fetch_async (KithRelayClient *self, GObject *source, const gchar *url, const gchar *sha256,
                               guint64 size, guint64 timeout_ms, GCancellable *cancellable,
                               GAsyncReadyCallback callback, gpointer user_data)
{
  GTask *task = g_task_new (source, cancellable, callback, user_data);
  const gchar *relay = kith_backend_route_get_relay_url (kith_agent_get_backend_route (self->agent));
  g_autofree gchar *escaped_url = NULL;
  KithRelayClientFetch *fetch;

  /* between two relays (the one in use went away) the fetch waits for the next, up to
   * its deadline; a node that never had one fails at once */
  if ((relay == NULL && self->state != KITH_RELAY_CLIENT_SEARCHING && self->state != KITH_RELAY_CLIENT_TRYING) ||
      sha256 == NULL) {
    g_task_return_new_error (task, G_IO_ERROR, G_IO_ERROR_NOT_FOUND,
                             sha256 != NULL ? "no relay in use" : "a relay fetches only against a hash");
    g_object_unref (task);
    return;
  }
  escaped_url = g_uri_escape_string (url, NULL, FALSE);
  fetch = g_new0 (KithRelayClientFetch, 1);
  fetch->self = self;
  fetch->query = g_strdup_printf ("url=%s&sha256=%s&size=%" G_GUINT64_FORMAT, escaped_url, sha256, size);
  fetch->deadline = g_get_monotonic_time () + (gint64) timeout_ms * 1000;
  g_task_set_task_data (task, fetch, (GDestroyNotify) kith_relay_client_fetch_free);
  kith_relay_client_fetch_send (task);
}

gboolean
kith_relay_client_fetch_finish (KithRelayClient *self, GAsyncResult *result, GError **error)
{
  return g_task_propagate_boolean (G_TASK (result), error);
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
  g_cancellable_cancel (self->cancellable);
  g_clear_object (&self->cancellable);
  g_clear_handle_id (&self->timer_id, g_source_remove);
  g_idle_remove_by_data (self);
  g_clear_signal_handler (&self->failed_id, kith_agent_get_backend_route (self->agent));
  kith_relay_client_end_search (self);
  kith_backend_route_set_relay (kith_agent_get_backend_route (self->agent), NULL, NULL);
  g_hash_table_unref (self->backoff);
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
