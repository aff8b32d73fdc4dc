/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* test-relay.c — the relay service (docs/relay.md) across real processes on loopback: a
 * kith-backend over HTTPS behind a tap that records every byte sent towards it, connected
 * agents that enroll and relay, and offline agents ([agent] offline=true: they never try
 * the backend directly) that reach it only through a relay's CONNECT. */
#include "kith-test-agent.h"
#include "kith-test-backend.h"
#include "kith-test-suite.h"
#include "kith-test-tls.h"

#include <check.h>
#include <glib/gstdio.h>
#include <libsoup/soup.h>
#include <string.h>

static guint16 test_port;

/* ---- the tap: a TCP forwarder in front of the backend that keeps what goes up ---- */

#define TAP_KEEP (16 * 1024 * 1024)

typedef struct {
  GThread *thread;
  GMainContext *context;
  GMainLoop *loop;
  GSocketService *service;
  guint16 port;
  guint16 target_port;
  GMutex lock;
  GByteArray *up;       /* bytes towards the backend, at most TAP_KEEP */
  guint connections;    /* that sent at least one byte */
  guint clear_starts;   /* of those, how many did not start with a TLS handshake record */
} Tap;

typedef struct {
  GInputStream *in;
  GOutputStream *out;
} TapCopy;

static gpointer
tap_copy_down (gpointer data)
{
  TapCopy *copy = data;
  guint8 buffer[16384];
  gssize n;

  while ((n = g_input_stream_read (copy->in, buffer, sizeof buffer, NULL, NULL)) > 0)
    if (!g_output_stream_write_all (copy->out, buffer, (gsize) n, NULL, NULL, NULL))
      break;
  return NULL;
}

static gboolean
tap_run_cb (GThreadedSocketService *service, GSocketConnection *client, GObject *source, gpointer user_data)
{
  Tap *tap = user_data;
  g_autoptr (GSocketClient) connector = g_socket_client_new ();
  g_autoptr (GSocketConnection) backend = g_socket_client_connect_to_host (connector, "127.0.0.1", tap->target_port,
                                                                           NULL, NULL);
  TapCopy down;
  GThread *thread;
  guint8 buffer[16384];
  gboolean first = TRUE;
  gssize n;

  if (backend == NULL)
    return TRUE;
  down = (TapCopy){ g_io_stream_get_input_stream (G_IO_STREAM (backend)),
                    g_io_stream_get_output_stream (G_IO_STREAM (client)) };
  thread = g_thread_new ("tap-down", tap_copy_down, &down);
  while ((n = g_input_stream_read (g_io_stream_get_input_stream (G_IO_STREAM (client)), buffer, sizeof buffer, NULL,
                                   NULL)) > 0) {
    g_mutex_lock (&tap->lock);
    if (first) {
      tap->connections++;
      tap->clear_starts += buffer[0] != 0x16;
      first = FALSE;
    }
    if (tap->up->len + (gsize) n <= TAP_KEEP)
      g_byte_array_append (tap->up, buffer, (guint) n);
    g_mutex_unlock (&tap->lock);
    if (!g_output_stream_write_all (g_io_stream_get_output_stream (G_IO_STREAM (backend)), buffer, (gsize) n, NULL,
                                    NULL, NULL))
      break;
  }
  g_socket_shutdown (g_socket_connection_get_socket (backend), TRUE, TRUE, NULL);
  g_socket_shutdown (g_socket_connection_get_socket (client), TRUE, TRUE, NULL);
  g_thread_join (thread);
  return TRUE;
}

static gpointer
tap_thread (gpointer data)
{
  Tap *tap = data;

  g_main_context_push_thread_default (tap->context);
  g_main_loop_run (tap->loop);
  g_main_context_pop_thread_default (tap->context);
  return NULL;
}

static Tap *
tap_new (guint16 target_port)
{
  Tap *tap = g_new0 (Tap, 1);
  g_autoptr (GInetAddress) loopback = g_inet_address_new_loopback (G_SOCKET_FAMILY_IPV4);
  g_autoptr (GSocketAddress) address = g_inet_socket_address_new (loopback, 0);
  g_autoptr (GSocketAddress) effective = NULL;
  g_autoptr (GError) error = NULL;

  g_mutex_init (&tap->lock);
  tap->up = g_byte_array_new ();
  tap->target_port = target_port;
  tap->context = g_main_context_new ();
  tap->loop = g_main_loop_new (tap->context, FALSE);
  g_main_context_push_thread_default (tap->context);
  tap->service = g_threaded_socket_service_new (64);
  ck_assert (g_socket_listener_add_address (G_SOCKET_LISTENER (tap->service), address, G_SOCKET_TYPE_STREAM,
                                            G_SOCKET_PROTOCOL_TCP, NULL, &effective, &error));
  g_signal_connect (tap->service, "run", G_CALLBACK (tap_run_cb), tap);
  g_socket_service_start (tap->service);
  g_main_context_pop_thread_default (tap->context);
  tap->port = g_inet_socket_address_get_port (G_INET_SOCKET_ADDRESS (effective));
  tap->thread = g_thread_new ("tap", tap_thread, tap);
  return tap;
}

static gboolean
tap_quit_cb (gpointer data)
{
  Tap *tap = data;
  g_socket_service_stop (tap->service);
  g_socket_listener_close (G_SOCKET_LISTENER (tap->service));
  g_main_loop_quit (tap->loop);
  return G_SOURCE_REMOVE;
}

static void
tap_free (Tap *tap)
{
  g_main_context_invoke (tap->context, tap_quit_cb, tap);
  g_thread_join (tap->thread);
  g_object_unref (tap->service);
  g_main_loop_unref (tap->loop);
  g_main_context_unref (tap->context);
  g_byte_array_unref (tap->up);
  g_mutex_clear (&tap->lock);
  g_free (tap);
}
G_DEFINE_AUTOPTR_CLEANUP_FUNC (Tap, tap_free)

/* Whether @needle went up through the tap in clear. */
static gboolean
tap_saw (Tap *tap, const gchar *needle, gsize len)
{
  gboolean found;

  g_mutex_lock (&tap->lock);
  found = FALSE;
  for (gsize i = 0; !found && len > 0 && i + len <= tap->up->len; i++)
    found = memcmp (tap->up->data + i, needle, len) == 0;
  g_mutex_unlock (&tap->lock);
  return found;
}

static gchar *
tap_url (Tap *tap)
{
  return g_strdup_printf ("https://127.0.0.1:%u", tap->port);
}

/* ---- agents ---- */

typedef struct {
  KithTestAgent *agent;
  GDBusConnection *connection;
} Node;

static void
node_free (Node *node)
{
  if (node->connection != NULL) {
    g_clear_object (&node->connection);
    ck_assert_int_eq (kith_test_agent_stop (node->agent), 0);
  }
  kith_test_agent_free (node->agent);
  g_free (node);
}
G_DEFINE_AUTOPTR_CLEANUP_FUNC (Node, node_free)

static gchar *
backend_token (KithTestBackend *backend)
{
  g_autofree gchar *path = g_build_filename (kith_test_backend_get_dir (backend), "enrollment-token", NULL);
  gchar *token = NULL;

  ck_assert (g_file_get_contents (path, &token, NULL, NULL));
  return g_strstrip (token);
}

/* How many reports stored at @backend hold exactly @content. */
static guint
backend_copies_of (KithTestBackend *backend, const gchar *content)
{
  g_autofree gchar *dir_path = g_build_filename (kith_test_backend_get_dir (backend), "uploads", NULL);
  g_autoptr (GDir) dir = g_dir_open (dir_path, 0, NULL);
  const gchar *name;
  guint copies = 0;

  while (dir != NULL && (name = g_dir_read_name (dir)) != NULL) {
    g_autofree gchar *path = g_build_filename (dir_path, name, NULL);
    g_autofree gchar *data = NULL;
    if (!g_str_has_suffix (name, ".receipt") && g_file_get_contents (path, &data, NULL, NULL) &&
        g_strcmp0 (data, content) == 0)
      copies++;
  }
  return copies;
}

/* An agent with peering, upload, update and relay against @url, trusting @ca: connected
 * (with @token: it enrolls and may relay) or offline (@token NULL: offline=true). */
static Node *
node_start (const gchar *url, const gchar *ca, const gchar *token, const gchar *relay_extra)
{
  Node *node = g_new0 (Node, 1);
  g_autofree gchar *config = NULL;
  g_autoptr (GError) error = NULL;

  config = g_strdup_printf ("backend-url=%s\n"
                            "trust-anchor=%s\n"
                            "%s%s\n"
                            "offline=%s\n"
                            "[peering]\n"
                            "port=%u\n"
                            "listen=127.255.255.255\n"
                            "send-address=127.0.0.1\n"
                            "broadcast=127.255.255.255\n"
                            "max-delay-ms=300\n"
                            "client-wait-ms=400\n"
                            "[update]\n"
                            "first-check=1h\n"
                            "[upload]\n"
                            "scan=100ms\n"
                            "retry=300ms\n"
                            "offer-wait=2s\n"
                            "receipt-slack=2s\n"
                            "[relay]\n"
                            "probe=500ms\n"
                            "retry=300ms\n"
                            "offer-wait=1s\n"
                            "%s\n",
                            url, ca, token != NULL ? "enrollment-token=" : "", token != NULL ? token : "",
                            token != NULL ? "false" : "true", test_port, relay_extra != NULL ? relay_extra : "");
  node->agent = kith_test_agent_new ("peering;upload;update;relay", config);
  ck_assert_msg (kith_test_agent_start (node->agent, &error), "%s", error != NULL ? error->message : "");
  node->connection = kith_test_agent_connect (node->agent, &error);
  g_assert_no_error (error);
  return node;
}

static gboolean
tick_cb (gpointer user_data)
{
  return G_SOURCE_CONTINUE;
}

/* Waits for another process's state: a tick keeps the loop turning. */
static gboolean
wait_for (gboolean (*condition) (gpointer), gpointer user_data, guint timeout_ms)
{
  guint tick = g_timeout_add (50, tick_cb, NULL);
  gboolean ok = kith_test_wait_until (condition, user_data, timeout_ms);
  g_source_remove (tick);
  return ok;
}

static gboolean
node_is_serving (gpointer user_data)
{
  Node *node = user_data;
  g_autoptr (GVariant) relay = kith_test_get_status_section (node->connection, "relay");
  gboolean serving = FALSE;

  g_variant_lookup (relay, "serving", "b", &serving);
  return serving;
}

/* The relay node @node's requests go through, or NULL. */
static gchar *
node_relay (Node *node)
{
  g_autoptr (GVariant) relay = kith_test_get_status_section (node->connection, "relay");
  gchar *id = NULL;

  if (!g_variant_lookup (relay, "relay-node", "s", &id))
    return NULL;
  return id;
}

static gboolean
node_is_relayed (gpointer user_data)
{
  g_autofree gchar *id = node_relay (user_data);
  return id != NULL;
}

static void
node_wait_serving (Node *node)
{
  g_autofree gchar *log = NULL;

  if (wait_for (node_is_serving, node, 30000))
    return;
  log = kith_test_agent_get_log (node->agent);
  ck_abort_msg ("the relay never offered relaying:\n%s", log);
}

static void
node_wait_relayed (Node *node)
{
  g_autofree gchar *log = NULL;

  if (wait_for (node_is_relayed, node, 30000))
    return;
  log = kith_test_agent_get_log (node->agent);
  ck_abort_msg ("the offline node never took a relay:\n%s", log);
}

typedef struct {
  gchar *result;
  GError *error;
  gboolean done;
} Call;

static void
call_free (Call *call)
{
  g_free (call->result);
  g_clear_error (&call->error);
  g_free (call);
}
G_DEFINE_AUTOPTR_CLEANUP_FUNC (Call, call_free)

static void
call_cb (GObject *source, GAsyncResult *result, gpointer user_data)
{
  Call *call = user_data;
  g_autoptr (GVariant) reply = g_dbus_connection_call_finish (G_DBUS_CONNECTION (source), result, &call->error);

  if (reply != NULL)
    g_variant_get (reply, "(s)", &call->result);
  if (call->error != NULL)
    g_dbus_error_strip_remote_error (call->error);
  call->done = TRUE;
}

static gboolean
call_is_done (gpointer user_data)
{
  return ((Call *) user_data)->done;
}

/* Update1.Check(), waited for while the tap and the agents keep running. */
static Call *
node_check (Node *node)
{
  Call *call = g_new0 (Call, 1);

  g_dbus_connection_call (node->connection, NULL, "/org/kith/Agent1/Update", "org.kith.Update1", "Check", NULL,
                          G_VARIANT_TYPE ("(s)"), G_DBUS_CALL_FLAGS_NONE, 120000, NULL, call_cb, call);
  ck_assert_msg (kith_test_wait_until (call_is_done, call, 90000), "Check() did not return");
  return call;
}

static void
node_check_ok (Node *node)
{
  g_autoptr (Call) call = node_check (node);
  g_autofree gchar *log = NULL;

  if (call->error == NULL)
    return;
  log = kith_test_agent_get_log (node->agent);
  ck_abort_msg ("Check() failed: %s\n%s", call->error->message, log);
}

static guint64
node_catalog_version (Node *node)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GVariant) reply = g_dbus_connection_call_sync (
      node->connection, NULL, "/org/kith/Agent1/Update", "org.freedesktop.DBus.Properties", "Get",
      g_variant_new ("(ss)", "org.kith.Update1", "CatalogVersion"), G_VARIANT_TYPE ("(v)"), G_DBUS_CALL_FLAGS_NONE,
      -1, NULL, &error);
  g_autoptr (GVariant) value = NULL;

  g_assert_no_error (error);
  g_variant_get (reply, "(v)", &value);
  return g_variant_get_uint64 (value);
}

/* One sample of @node's /metrics (0 when absent). */
static gdouble
node_metric (Node *node, const gchar *series)
{
  g_autoptr (SoupSession) session = soup_session_new ();
  g_autofree gchar *url = g_strconcat (kith_test_agent_get_http_url (node->agent), "/metrics", NULL);
  g_autoptr (SoupMessage) msg = soup_message_new (SOUP_METHOD_GET, url);
  g_autoptr (GBytes) body = soup_session_send_and_read (session, msg, NULL, NULL);
  g_autofree gchar *text = body != NULL ? g_strndup (g_bytes_get_data (body, NULL), g_bytes_get_size (body)) : NULL;
  g_autofree gchar *prefix = g_strconcat ("\n", series, " ", NULL);
  const gchar *at = text != NULL ? strstr (text, prefix) : NULL;

  return at != NULL ? g_ascii_strtod (at + strlen (prefix), NULL) : 0;
}

/* Drops a report into @node's outbox (write, then rename) and waits until its receipt is kept. */
static void
node_upload (Node *node, const gchar *name, const gchar *content)
{
  g_autofree gchar *outbox = g_build_filename (kith_test_agent_get_dir (node->agent), "state", "upload", "outbox", NULL);
  g_autofree gchar *tmp = g_strdup_printf ("%s/.%s", outbox, name);
  g_autofree gchar *path = g_build_filename (outbox, name, NULL);

  ck_assert (g_file_set_contents (tmp, content, -1, NULL));
  ck_assert_int_eq (g_rename (tmp, path), 0);
}

static gboolean
node_has_receipt (gpointer user_data)
{
  Node *node = user_data;
  g_autofree gchar *dir_path = g_build_filename (kith_test_agent_get_dir (node->agent), "state", "upload", "receipts",
                                                 NULL);
  g_autoptr (GDir) dir = g_dir_open (dir_path, 0, NULL);

  return dir != NULL && g_dir_read_name (dir) != NULL;
}

/* ---- raw CONNECTs, as a hostile or curious requester would send them ---- */

/* Sends @head to @node's HTTP port; returns the connection (caller owns) with the status of
 * the answer in *@status (0: none). */
static GSocketConnection *
raw_request (Node *node, const gchar *head, guint *status)
{
  g_autoptr (GSocketClient) client = g_socket_client_new ();
  g_autoptr (GUri) uri = g_uri_parse (kith_test_agent_get_http_url (node->agent), G_URI_FLAGS_NONE, NULL);
  GSocketConnection *conn = g_socket_client_connect_to_host (client, "127.0.0.1", (guint16) g_uri_get_port (uri),
                                                             NULL, NULL);
  GInputStream *in;
  g_autoptr (GString) answer = g_string_new (NULL);
  gchar c;

  ck_assert_ptr_nonnull (conn);
  ck_assert (g_output_stream_write_all (g_io_stream_get_output_stream (G_IO_STREAM (conn)), head, strlen (head),
                                        NULL, NULL, NULL));
  in = g_io_stream_get_input_stream (G_IO_STREAM (conn));
  g_socket_set_timeout (g_socket_connection_get_socket (conn), 10);
  /* the answer's head, byte by byte: what follows may be the tunnel's */
  while (answer->len < 4096 && !g_str_has_suffix (answer->str, "\r\n\r\n") &&
         g_input_stream_read (in, &c, 1, NULL, NULL) == 1)
    g_string_append_c (answer, c);
  *status = g_str_has_prefix (answer->str, "HTTP/1.") && answer->len > 12
                ? (guint) g_ascii_strtoull (answer->str + 9, NULL, 10) : 0;
  return conn;
}

static guint
raw_status (Node *node, const gchar *head)
{
  guint status = 0;
  g_autoptr (GSocketConnection) conn = raw_request (node, head, &status);
  return status;
}

/* ---- the tests ---- */

/* The whole path: an offline node's catalog and report reach the backend only through a
 * verified relay, TLS end to end; the relay counts what it carried. */
START_TEST (test_offline_node_through_relay)
{
  g_autoptr (KithTestBackend) backend = kith_test_backend_new ();
  g_autoptr (Tap) tap = NULL;
  g_autoptr (Node) relay = NULL;
  g_autoptr (Node) offline = NULL;
  g_autofree gchar *url = NULL;
  g_autofree gchar *token = backend_token (backend);
  g_autofree gchar *via = NULL;
  g_autoptr (GUri) backend_uri = NULL;

  kith_test_backend_publish_sample (backend, "2611211200");
  kith_test_backend_serve (backend, NULL);
  backend_uri = g_uri_parse (kith_test_backend_get_url (backend), G_URI_FLAGS_NONE, NULL);
  tap = tap_new ((guint16) g_uri_get_port (backend_uri));
  url = tap_url (tap);
  relay = node_start (url, kith_test_backend_get_ca (backend), token, NULL);
  node_wait_serving (relay);
  node_check_ok (relay);
  ck_assert_uint_eq (node_catalog_version (relay), 1);

  offline = node_start (url, kith_test_backend_get_ca (backend), NULL, NULL);
  node_wait_relayed (offline);
  via = node_relay (offline);
  ck_assert_str_eq (via, kith_test_agent_get_node_id (relay->agent));
  node_check_ok (offline);
  ck_assert_uint_eq (node_catalog_version (offline), 1);
  ck_assert_uint_eq (kith_test_backend_get_requests (backend, "/catalog.json"), 2);
  /* the report goes straight to the backend, through the tunnel: no peer ever holds it */
  node_upload (offline, "scan.txt", "RELAYED-REPORT-0123456789 the offline node's secret scan");
  if (!wait_for (node_has_receipt, offline, 30000)) {
    g_autofree gchar *log = kith_test_agent_get_log (offline->agent);
    ck_abort_msg ("no receipt:\n%s", log);
  }
  ck_assert_double_eq (node_metric (offline, "kith_upload_delivered_total{via=\"direct\"}"), 1);
  ck_assert_uint_eq (backend_copies_of (backend, "RELAYED-REPORT-0123456789 the offline node's secret scan"), 1);
  ck_assert (!tap_saw (tap, "RELAYED-REPORT", strlen ("RELAYED-REPORT")));
  ck_assert_double_gt (node_metric (relay, "kith_relay_bytes_total{direction=\"up\"}"), 0);
  ck_assert_double_gt (node_metric (relay, "kith_relay_bytes_total{direction=\"down\"}"), 1000);
  ck_assert_double_ge (node_metric (relay, "kith_relay_tunnels_total"), 1);
  /* nothing went up in clear: every connection began a TLS handshake, the token never showed */
  ck_assert_uint_gt (tap->connections, 0);
  ck_assert_uint_eq (tap->clear_starts, 0);
  ck_assert (!tap_saw (tap, token, strlen (token)));
  ck_assert (!tap_saw (tap, "catalog.json", strlen ("catalog.json")));
}
END_TEST

/* No open proxy: CONNECT only to the backend (and [relay] allow=), never a plain GET of
 * someone else's URL; every refusal counted. */
START_TEST (test_connect_refused)
{
  g_autoptr (KithTestBackend) backend = kith_test_backend_new ();
  g_autoptr (Node) relay = NULL;
  g_autofree gchar *token = backend_token (backend);
  g_autofree gchar *get = NULL;
  g_autofree gchar *connect = NULL;
  g_autoptr (GUri) uri = NULL;
  g_autoptr (GSocketConnection) tunnel = NULL;
  guint status = 0;

  kith_test_backend_publish_sample (backend, "2611211200");
  kith_test_backend_serve (backend, NULL);
  uri = g_uri_parse (kith_test_backend_get_url (backend), G_URI_FLAGS_NONE, NULL);
  relay = node_start (kith_test_backend_get_url (backend), kith_test_backend_get_ca (backend), token,
                      "allow=127.0.0.1:9");
  node_wait_serving (relay);
  ck_assert_uint_eq (raw_status (relay, "CONNECT 127.0.0.1:22 HTTP/1.1\r\nHost: 127.0.0.1:22\r\n\r\n"), 403);
  ck_assert_uint_eq (raw_status (relay, "CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\n\r\n"), 403);
  /* the backend's host on another port is another target */
  connect = g_strdup_printf ("CONNECT 127.0.0.1:%d HTTP/1.1\r\n\r\n", g_uri_get_port (uri) + 1);
  ck_assert_uint_eq (raw_status (relay, connect), 403);
  ck_assert_double_eq (node_metric (relay, "kith_relay_refused_total{reason=\"target\"}"), 3);
  /* a proxy GET, even of the backend's own URL, is not proxied */
  get = g_strdup_printf ("GET %s/catalog.json HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n", kith_test_backend_get_url (backend));
  status = raw_status (relay, get);
  ck_assert_msg (status >= 400 && status < 500, "a proxy GET answered %u", status);
  ck_assert_uint_eq (kith_test_backend_get_requests (backend, "/catalog.json"), 0);
  /* an allowed origin that is down: 502, counted apart */
  ck_assert_uint_eq (raw_status (relay, "CONNECT 127.0.0.1:9 HTTP/1.1\r\n\r\n"), 502);
  ck_assert_double_eq (node_metric (relay, "kith_relay_connect_failures_total"), 1);
  /* the backend itself: 200, and the connection is a tunnel */
  g_free (connect);
  connect = g_strdup_printf ("CONNECT 127.0.0.1:%d HTTP/1.1\r\n\r\n", g_uri_get_port (uri));
  tunnel = raw_request (relay, connect, &status);
  ck_assert_uint_eq (status, 200);
  ck_assert_double_eq (node_metric (relay, "kith_relay_tunnels"), 1);
}
END_TEST

static Suite *
relay_suite (void)
{
  Suite *suite = suite_create ("relay");
  TCase *agents = tcase_create ("agents");

  tcase_set_timeout (agents, 180);
  tcase_add_test (agents, test_offline_node_through_relay);
  tcase_add_test (agents, test_connect_refused);
  suite_add_tcase (suite, agents);
  return suite;
}

int
main (void)
{
  test_port = (guint16) g_random_int_range (20000, 60000);
  return kith_test_run_suite (relay_suite ());
}
