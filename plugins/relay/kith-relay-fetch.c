/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* kith-relay-fetch.c — fetching a file for an offline requester, through the relay's peering */
#include "kith-relay-fetch.h"

#include <string.h>

#include "kith-hex.h"
#include "kith-http-answer.h"
#include "kith-rate-limit.h"

#define KITH_RELAY_FETCH_PATH "/relay/fetch"
/* how long one request waits for the fetch before it is told to ask again */
#define KITH_RELAY_FETCH_WAIT_S 20
/* fetch requests one address may start: a release's files at once, then a few a second —
 * each can cost the relay a download (one with a wrong hash is thrown away) */
#define KITH_RELAY_FETCH_RATE 4
#define KITH_RELAY_FETCH_BURST 64
#define KITH_RELAY_FETCH_BUCKETS 1024

struct _KithRelayFetch {
  KithAgent *agent;
  gchar **allow; /* borrowed */
  guint64 max_size;
  guint max_per_requester;
  guint max_total;
  gboolean serving;
  GHashTable *requests; /* KithRelayFetchRequest* (owned) */
  GHashTable *counts;   /* requester address → requests open */
  KithRateLimit *starts; /* requests per requester address over time */
  guint64 served;
};

/* One GET waiting for its transfer. */
typedef struct {
  KithRelayFetch *self;
  SoupServerMessage *msg;
  KithTransfer *transfer;
  gchar *requester;
  guint timer_id;
} KithRelayFetchRequest;

gchar *
kith_relay_fetch_target (const gchar *url)
{
  g_autoptr (GUri) uri = url != NULL ? g_uri_parse (url, G_URI_FLAGS_NONE, NULL) : NULL;
  g_autofree gchar *host = NULL;
  const gchar *scheme;
  gint port;

  if (uri == NULL || g_uri_get_host (uri) == NULL || *g_uri_get_host (uri) == '\0' || g_uri_get_userinfo (uri) != NULL)
    return NULL;
  scheme = g_uri_get_scheme (uri);
  if (g_ascii_strcasecmp (scheme, "https") != 0 && g_ascii_strcasecmp (scheme, "http") != 0)
    return NULL;
  host = g_ascii_strdown (g_uri_get_host (uri), -1);
  port = g_uri_get_port (uri) != -1 ? g_uri_get_port (uri) : g_ascii_strcasecmp (scheme, "https") == 0 ? 443 : 80;
  return g_strdup_printf (strchr (host, ':') != NULL ? "[%s]:%d" : "%s:%d", host, port);
}

static void
kith_relay_fetch_count (KithRelayFetch *self, const gchar *requester, gint delta)
{
  guint n = GPOINTER_TO_UINT (g_hash_table_lookup (self->counts, requester));

  if (delta < 0 && n <= 1)
    g_hash_table_remove (self->counts, requester);
  else
    g_hash_table_insert (self->counts, g_strdup (requester), GUINT_TO_POINTER (delta < 0 ? n - 1 : n + 1));
}

static void
kith_relay_fetch_request_free (KithRelayFetchRequest *request)
{
  g_clear_handle_id (&request->timer_id, g_source_remove);
  g_signal_handlers_disconnect_by_data (request->transfer, request);
  g_signal_handlers_disconnect_by_data (request->msg, request);
  kith_relay_fetch_count (request->self, request->requester, -1);
  /* the fetch itself goes on: the next request for it finds it done or joins it */
  g_object_unref (request->transfer);
  g_object_unref (request->msg);
  g_free (request->requester);
  g_free (request);
}

static void
kith_relay_fetch_answer (KithRelayFetchRequest *request, guint status, const gchar *text)
{
  SoupServerMessage *msg = request->msg;
  KithRelayFetch *self = request->self;

  kith_http_answer_line (msg, status, text);
  g_object_ref (msg);
  g_hash_table_remove (self->requests, request);
  soup_server_message_unpause (msg);
  g_object_unref (msg);
}

static void
kith_relay_fetch_finished_cb (KithTransfer *transfer, gpointer user_data)
{
  KithRelayFetchRequest *request = user_data;
  const GError *error = kith_transfer_get_error (transfer);

  if (kith_transfer_get_state (transfer) == KITH_TRANSFER_STATE_DONE) {
    request->self->served++;
    kith_metrics_add (kith_agent_get_metrics (request->self->agent), "kith_relay_fetches_total", NULL, 1);
    kith_relay_fetch_answer (request, SOUP_STATUS_OK, "held");
  } else {
    kith_relay_fetch_answer (request, SOUP_STATUS_BAD_GATEWAY, error != NULL ? error->message : "fetch failed");
  }
}

static gboolean
kith_relay_fetch_wait_cb (gpointer user_data)
{
  KithRelayFetchRequest *request = user_data;

  request->timer_id = 0;
  kith_relay_fetch_answer (request, SOUP_STATUS_ACCEPTED, "still fetching; ask again");
  return G_SOURCE_REMOVE;
}

/* The requester left: its fetch goes on without it. */
static void
kith_relay_fetch_gone_cb (SoupServerMessage *msg, gpointer user_data)
{
  KithRelayFetchRequest *request = user_data;
  g_hash_table_remove (request->self->requests, request);
}

static void
kith_relay_fetch_refuse (KithRelayFetch *self, SoupServerMessage *msg, guint status, const gchar *reason,
                         const gchar *why)
{
  g_autofree gchar *labels = g_strdup_printf ("reason=\"%s\"", reason);

  g_debug ("refused a fetch: %s", why);
  kith_metrics_add (kith_agent_get_metrics (self->agent), "kith_relay_fetches_refused_total", labels, 1);
  kith_http_answer_line (msg, status, why);
}

static void
kith_relay_fetch_handle (SoupServer *server, SoupServerMessage *msg, const char *path, GHashTable *query,
                         gpointer user_data)
{
  KithRelayFetch *self = user_data;
  GSocketAddress *remote = soup_server_message_get_remote_address (msg);
  const gchar *url = query != NULL ? g_hash_table_lookup (query, "url") : NULL;
  const gchar *sha256 = query != NULL ? g_hash_table_lookup (query, "sha256") : NULL;
  const gchar *size_text = query != NULL ? g_hash_table_lookup (query, "size") : NULL;
  g_autofree gchar *target = kith_relay_fetch_target (url);
  g_autofree gchar *requester = NULL;
  GObject *fetcher = kith_agent_get_service (self->agent, "peering");
  KithRelayFetchRequest *request;
  guint64 size = 0;

  if (soup_server_message_get_method (msg) != SOUP_METHOD_GET || g_strcmp0 (path, KITH_RELAY_FETCH_PATH) != 0) {
    kith_relay_fetch_refuse (self, msg, SOUP_STATUS_NOT_FOUND, "request", "GET /relay/fetch?url=…&sha256=…&size=…");
    return;
  }
  if (!kith_http_is_lan (remote)) {
    kith_relay_fetch_refuse (self, msg, SOUP_STATUS_FORBIDDEN, "source", "fetches are for the LAN only");
    return;
  }
  if (!self->serving || fetcher == NULL || !KITH_IS_FETCHER (fetcher)) {
    kith_relay_fetch_refuse (self, msg, SOUP_STATUS_SERVICE_UNAVAILABLE, "serving", "not relaying now");
    return;
  }
  if (!kith_hex_is_valid (sha256, 64, 64) ||
      (size_text != NULL && !g_ascii_string_to_unsigned (size_text, 10, 0, G_MAXUINT64, &size, NULL))) {
    kith_relay_fetch_refuse (self, msg, SOUP_STATUS_BAD_REQUEST, "request", "a sha256 (64 hex digits) is required");
    return;
  }
  if (target == NULL || !g_strv_contains ((const gchar *const *) self->allow, target)) {
    kith_relay_fetch_refuse (self, msg, SOUP_STATUS_FORBIDDEN, "target", "not an origin this relay fetches from");
    return;
  }
  if (size > self->max_size) {
    kith_relay_fetch_refuse (self, msg, SOUP_STATUS_REQUEST_ENTITY_TOO_LARGE, "size", "larger than this relay fetches");
    return;
  }
  requester = g_inet_address_to_string (g_inet_socket_address_get_address (G_INET_SOCKET_ADDRESS (remote)));
  if (GPOINTER_TO_UINT (g_hash_table_lookup (self->counts, requester)) >= self->max_per_requester ||
      g_hash_table_size (self->requests) >= self->max_total ||
      !kith_rate_limit_take (self->starts, requester, g_get_monotonic_time ())) {
    kith_relay_fetch_refuse (self, msg, SOUP_STATUS_SERVICE_UNAVAILABLE, "cap", "too many fetches; try again later");
    return;
  }
  request = g_new0 (KithRelayFetchRequest, 1);
  request->self = self;
  request->msg = g_object_ref (msg);
  request->requester = g_steal_pointer (&requester);
  /* the relay's own peering: one download for it and for every requester that asks */
  request->transfer = kith_fetcher_fetch_full (KITH_FETCHER (fetcher), url, sha256, size, KITH_FETCH_FLAG_NONE);
  kith_relay_fetch_count (self, request->requester, +1);
  g_hash_table_add (self->requests, request);
  g_debug ("fetching %s for %s", url, request->requester);
  if (kith_transfer_is_finished (request->transfer)) {
    kith_relay_fetch_finished_cb (request->transfer, request);
    return;
  }
  soup_server_message_pause (msg);
  g_signal_connect (request->transfer, "finished", G_CALLBACK (kith_relay_fetch_finished_cb), request);
  g_signal_connect (msg, "finished", G_CALLBACK (kith_relay_fetch_gone_cb), request);
  request->timer_id = g_timeout_add_seconds (KITH_RELAY_FETCH_WAIT_S, kith_relay_fetch_wait_cb, request);
}

KithRelayFetch *
kith_relay_fetch_new (KithAgent *agent, gchar **allow, guint64 max_size, guint max_per_requester, guint max_total)
{
  KithRelayFetch *self = g_new0 (KithRelayFetch, 1);

  self->agent = agent;
  self->allow = allow;
  self->max_size = max_size;
  self->max_per_requester = max_per_requester;
  self->max_total = max_total;
  self->requests = g_hash_table_new_full (NULL, NULL, (GDestroyNotify) kith_relay_fetch_request_free, NULL);
  self->counts = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  self->starts = kith_rate_limit_new (KITH_RELAY_FETCH_RATE, KITH_RELAY_FETCH_BURST, KITH_RELAY_FETCH_BUCKETS);
  kith_http_add_handler (kith_agent_get_http (agent), KITH_RELAY_FETCH_PATH, kith_relay_fetch_handle, self, NULL);
  return self;
}

void
kith_relay_fetch_free (KithRelayFetch *self)
{
  if (self == NULL)
    return;
  kith_http_remove_handler (kith_agent_get_http (self->agent), KITH_RELAY_FETCH_PATH);
  g_hash_table_unref (self->requests);
  g_hash_table_unref (self->counts);
  kith_rate_limit_free (self->starts);
  g_free (self);
}

void
kith_relay_fetch_set_serving (KithRelayFetch *self, gboolean serving)
{
  self->serving = serving;
}

guint64
kith_relay_fetch_get_served (KithRelayFetch *self)
{
  return self->served;
}
