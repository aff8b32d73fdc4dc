/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* kith-relay.c — the relay service: config, its two sides, status, metrics */
#include "kith-relay.h"

#include <string.h>

#include "kith-relay-client.h"
#include "kith-relay-server.h"

struct _KithRelay {
  GObject parent_instance;
  KithAgent *agent;
  KithRelayServer *server; /* NULL: this node never relays (offline, serve=false) */
  KithRelayClient *client; /* NULL: use=false, or no backend */
  gchar **allow;
  guint64 fetch_timeout_ms; /* an origin miss fetched by the relay, at most */
  gboolean use;             /* [relay] use: this node takes relays */
};

static void kith_relay_origin_init (KithOriginRelayInterface *iface);

/* origin misses of this (offline) node, fetched by the relay in use */
G_DEFINE_TYPE_WITH_CODE (KithRelay, kith_relay, G_TYPE_OBJECT,
                         G_IMPLEMENT_INTERFACE (KITH_TYPE_ORIGIN_RELAY, kith_relay_origin_init))

static void
kith_relay_origin_fetch_async (KithOriginRelay *origin, const gchar *url, const gchar *sha256, guint64 size,
                               GCancellable *cancellable, GAsyncReadyCallback callback, gpointer user_data)
{
  KithRelay *self = KITH_RELAY (origin);

  if (self->client == NULL || !self->use) {
    g_task_report_new_error (self, callback, user_data, kith_relay_origin_fetch_async, G_IO_ERROR,
                             G_IO_ERROR_NOT_FOUND, "relaying is off ([relay] use=false)");
    return;
  }
  kith_relay_client_fetch_async (self->client, G_OBJECT (self), url, sha256, size, self->fetch_timeout_ms, cancellable, callback,
                                 user_data);
}

static gboolean
kith_relay_origin_fetch_finish (KithOriginRelay *origin, GAsyncResult *result, GError **error)
{
  return g_task_propagate_boolean (G_TASK (result), error);
}

static void
kith_relay_origin_init (KithOriginRelayInterface *iface)
{
  iface->fetch_async = kith_relay_origin_fetch_async;
  iface->fetch_finish = kith_relay_origin_fetch_finish;
}

static const gchar *const kith_relay_keys[] = {
  "serve", "use", "allow", "max-tunnels", "max-tunnels-per-requester", "rate", "rate-per-requester",
  "idle-timeout", "connect-timeout", "probe", "probe-timeout", "offer-wait", "retry", "backoff", "fetch-max-size",
  "max-fetches", "max-fetches-per-requester", "fetch-timeout", NULL,
};

/* The client found the backend reachable, or not: only a node that reaches it relays. */
static void
kith_relay_direct_cb (gboolean direct, gpointer user_data)
{
  KithRelay *self = user_data;

  if (self->server != NULL)
    kith_relay_server_set_serving (self->server, direct);
}

static gboolean
kith_relay_check_allow (KithRelay *self, KithConfig *config, GError **error)
{
  for (guint i = 0; self->allow[i] != NULL; i++) {
    const gchar *colon = strrchr (self->allow[i], ':');
    guint64 port = 0;
    if (colon == NULL || colon == self->allow[i] ||
        !g_ascii_string_to_unsigned (colon + 1, 10, 1, G_MAXUINT16, &port, NULL)) {
      kith_config_set_error (config, error, "relay", "allow", "'%s' is not HOST:PORT", self->allow[i]);
      return FALSE;
    }
  }
  return TRUE;
}

static gboolean
kith_relay_read_config (KithRelay *self, gboolean *serve, gboolean *use, KithRelayServerLimits *limits,
                        KithRelayClientTimings *timings, GError **error)
{
  KithConfig *config = kith_agent_get_config (self->agent);
  guint64 max_tunnels = 64, per_requester = 8, max_fetches = 16, fetches_per_requester = 4;

  if (!kith_config_check_keys (config, "relay", kith_relay_keys, error) ||
      !kith_config_get_boolean (config, "relay", "serve", TRUE, serve, error) ||
      !kith_config_get_boolean (config, "relay", "use", TRUE, use, error) ||
      (self->allow = kith_config_get_strv (config, "relay", "allow", (const gchar *const[]){ NULL }, error)) == NULL ||
      !kith_relay_check_allow (self, config, error) ||
      !kith_config_get_uint64 (config, "relay", "max-tunnels", 64, 1, 4096, &max_tunnels, error) ||
      !kith_config_get_uint64 (config, "relay", "max-tunnels-per-requester", 8, 1, 4096, &per_requester, error) ||
      !kith_config_get_uint64 (config, "relay", "rate", 10000000, 0, G_MAXUINT32, &limits->rate, error) ||
      !kith_config_get_uint64 (config, "relay", "rate-per-requester", 2000000, 0, G_MAXUINT32,
                               &limits->rate_per_requester, error) ||
      !kith_config_get_duration_ms (config, "relay", "idle-timeout", 60000, &limits->idle_ms, error) ||
      !kith_config_get_duration_ms (config, "relay", "connect-timeout", 10000, &limits->connect_timeout_ms, error) ||
      !kith_config_get_duration_ms (config, "relay", "probe", 30000, &timings->probe_ms, error) ||
      !kith_config_get_duration_ms (config, "relay", "probe-timeout", 5000, &timings->probe_timeout_ms, error) ||
      !kith_config_get_duration_ms (config, "relay", "offer-wait", 2000, &timings->offer_wait_ms, error) ||
      !kith_config_get_duration_ms (config, "relay", "retry", 5000, &timings->retry_ms, error) ||
      !kith_config_get_duration_ms (config, "relay", "backoff", 60000, &timings->backoff_ms, error) ||
      !kith_config_get_uint64 (config, "relay", "fetch-max-size", 1024 * 1024 * 1024, 1, G_MAXUINT64,
                               &limits->fetch_max_size, error) ||
      !kith_config_get_uint64 (config, "relay", "max-fetches", 16, 1, 1024, &max_fetches, error) ||
      !kith_config_get_uint64 (config, "relay", "max-fetches-per-requester", 4, 1, 1024, &fetches_per_requester,
                               error) ||
      !kith_config_get_duration_ms (config, "relay", "fetch-timeout", 600000, &self->fetch_timeout_ms, error))
    return FALSE;
  limits->max_fetches = (guint) max_fetches;
  limits->max_fetches_per_requester = (guint) fetches_per_requester;
  limits->max_tunnels = (guint) max_tunnels;
  limits->max_per_requester = (guint) per_requester;
  limits->allow = self->allow;
  return TRUE;
}

static void
kith_relay_register_metrics (KithAgent *agent)
{
  KithMetrics *metrics = kith_agent_get_metrics (agent);

  kith_metrics_register (metrics, "kith_relay_bytes_total", KITH_METRIC_COUNTER,
                         "Bytes carried through this relay's tunnels, by direction (up: towards the backend)");
  kith_metrics_register (metrics, "kith_relay_tunnels", KITH_METRIC_GAUGE, "Tunnels open now");
  kith_metrics_register (metrics, "kith_relay_tunnels_total", KITH_METRIC_COUNTER, "Tunnels opened");
  kith_metrics_register (metrics, "kith_relay_refused_total", KITH_METRIC_COUNTER,
                         "CONNECT requests refused, by reason (target, source, cap, head)");
  kith_metrics_register (metrics, "kith_relay_connect_failures_total", KITH_METRIC_COUNTER,
                         "Allowed CONNECT requests whose target could not be reached");
  kith_metrics_register (metrics, "kith_relay_offers_refused_total", KITH_METRIC_COUNTER,
                         "Relay offers that failed the enrolled-peer check");
  kith_metrics_register (metrics, "kith_relay_failovers_total", KITH_METRIC_COUNTER,
                         "Relays given up because they stopped tunnelling to the backend");
  kith_metrics_register (metrics, "kith_relay_blacklisted_total", KITH_METRIC_COUNTER,
                         "Relays blacklisted for a day: an answer past its bound");
  kith_metrics_register (metrics, "kith_relay_fetches_total", KITH_METRIC_COUNTER,
                         "Origin misses fetched whole for offline requesters");
  kith_metrics_register (metrics, "kith_relay_fetches_refused_total", KITH_METRIC_COUNTER,
                         "Fetch requests refused, by reason (source, target, request, size, cap, serving)");
  kith_metrics_set (metrics, "kith_relay_tunnels", NULL, 0);
}

KithRelay *
kith_relay_new (KithAgent *agent, GError **error)
{
  g_autoptr (KithRelay) self = g_object_new (KITH_TYPE_RELAY, NULL);
  KithRelayServerLimits limits = { 0 };
  KithRelayClientTimings timings = { 0 };
  gboolean serve = TRUE, use = TRUE;

  self->agent = agent;
  if (!kith_relay_read_config (self, &serve, &use, &limits, &timings, error))
    return NULL;
  if (kith_agent_get_backend_url (agent) == NULL || kith_agent_get_trust_anchor (agent) == NULL) {
    g_set_error (error, KITH_AGENT_ERROR, KITH_AGENT_ERROR_CONFIG,
                 "relay needs [agent] backend-url and trust-anchor (offers are checked against the anchor, "
                 "and only the backend is relayed)");
    return NULL;
  }
  kith_relay_register_metrics (agent);
  if (serve && !kith_agent_get_offline (agent)) {
    self->server = kith_relay_server_new (agent, &limits);
    kith_relay_server_start (self->server);
  }
  /* the serving side needs the probe too: it relays only while the backend answers directly */
  timings.use_relays = self->use = use;
  if (use || self->server != NULL) {
    self->client = kith_relay_client_new (agent, &timings, kith_relay_direct_cb, self);
    kith_relay_client_start (self->client);
  }
  return g_steal_pointer (&self);
}

void
kith_relay_stop (KithRelay *self)
{
  g_clear_pointer (&self->client, kith_relay_client_free);
  g_clear_pointer (&self->server, kith_relay_server_free);
}

GVariant *
kith_relay_get_status (KithRelay *self)
{
  KithBackendRoute *route = kith_agent_get_backend_route (self->agent);
  GVariantDict dict;

  g_variant_dict_init (&dict, NULL);
  g_variant_dict_insert (&dict, "route", "s", self->client != NULL ? kith_relay_client_get_state (self->client) : "off");
  if (kith_backend_route_get_relay_url (route) != NULL) {
    g_variant_dict_insert (&dict, "relay", "s", kith_backend_route_get_relay_url (route));
    g_variant_dict_insert (&dict, "relay-node", "s", kith_backend_route_get_relay_node (route));
  }
  if (self->client != NULL)
    g_variant_dict_insert (&dict, "offers-refused", "t", kith_relay_client_get_refused (self->client));
  g_variant_dict_insert (&dict, "serving", "b", self->server != NULL && kith_relay_server_is_offering (self->server));
  if (self->server != NULL) {
    g_variant_dict_insert (&dict, "tunnels", "u", kith_relay_server_get_tunnels (self->server));
    g_variant_dict_insert (&dict, "tunnels-total", "t", kith_relay_server_get_tunnels_total (self->server));
    g_variant_dict_insert (&dict, "fetches", "t", kith_relay_server_get_fetches (self->server));
  }
  return g_variant_dict_end (&dict);
}

static void
kith_relay_finalize (GObject *object)
{
  KithRelay *self = KITH_RELAY (object);

  kith_relay_stop (self);
  g_strfreev (self->allow);
  G_OBJECT_CLASS (kith_relay_parent_class)->finalize (object);
}

static void
kith_relay_class_init (KithRelayClass *klass)
{
  G_OBJECT_CLASS (klass)->finalize = kith_relay_finalize;
}

static void
kith_relay_init (KithRelay *self)
{
}
