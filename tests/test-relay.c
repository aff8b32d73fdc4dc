/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* test-relay.c — the relay service (docs/relay.md) across real processes on loopback: a
 * kith-backend over HTTPS behind a tap that records every byte sent towards it, connected
 * agents that enroll and relay, and offline agents ([agent] offline=true: they never try
 * the backend directly) that reach it only through a relay's CONNECT. */
#include "kith-backend-route.h"
#include "kith-crypto.h"
#include "kith-rate-limit.h"
#include "kith-test-child.h"
#include "kith-test-endless.h"
#include "kith-test-node.h"
#include "kith-test-offer.h"
#include "kith-test-origin.h"
#include "kith-test-backend.h"
#include "kith-test-suite.h"
#include "kith-test-thread.h"
#include "kith-test-tls.h"

#include <check.h>
#include <glib/gstdio.h>
#include <libsoup/soup.h>
#include <signal.h>
#include <string.h>
#include <unistd.h>

#define FAKE_NODE "fa4efa4efa4efa4efa4efa4efa4efa4e"

static guint16 test_port;

/* ---- the tap: a TCP forwarder in front of the backend that keeps what goes up ---- */

#define TAP_KEEP (16 * 1024 * 1024)

typedef struct {
  KithTestThread *thread; /* a service on 127.0.0.1 */
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

static Tap *
tap_new (guint16 target_port)
{
  Tap *tap = g_new0 (Tap, 1);

  g_mutex_init (&tap->lock);
  tap->up = g_byte_array_new ();
  tap->target_port = target_port;
  tap->thread = kith_test_thread_new_service ("tap", 64, G_CALLBACK (tap_run_cb), tap);
  tap->port = kith_test_thread_get_port (tap->thread);
  return tap;
}

static void
tap_free (Tap *tap)
{
  kith_test_thread_free (tap->thread);
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
  g_autoptr (GBytes) bytes = g_bytes_new_static (content, strlen (content));

  return kith_test_backend_dir_count_reports (kith_test_backend_get_dir (backend), bytes);
}

/* An agent with peering, upload, update and relay against @url, trusting @ca: connected
 * (with @token: it enrolls and may relay) or offline (@token NULL: offline=true). */
static KithTestNode *
node_start (const gchar *url, const gchar *ca, const gchar *token, const gchar *relay_extra)
{
  g_autofree gchar *peering = kith_test_node_peering_config (test_port,
                                                             "max-delay-ms=300\nclient-wait-ms=400");
  g_autofree gchar *agent = kith_test_backend_agent_config (url, ca, token);
  g_autofree gchar *config = NULL;

  config = g_strdup_printf ("%s"
                            "%s"
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
                            agent, peering, relay_extra != NULL ? relay_extra : "");
  return kith_test_node_start_new ("peering;upload;update;relay", config);
}

static gboolean
node_is_serving (gpointer user_data)
{
  KithTestNode *node = user_data;
  g_autoptr (GVariant) relay = kith_test_get_status_section (node->connection, "relay");
  gboolean serving = FALSE;

  g_variant_lookup (relay, "serving", "b", &serving);
  return serving;
}

/* The relay node @node's requests go through, or NULL. */
static gchar *
node_relay (KithTestNode *node)
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
node_wait_serving (KithTestNode *node)
{
  g_autofree gchar *log = NULL;

  if (kith_test_poll_until (node_is_serving, node, 30000))
    return;
  log = kith_test_agent_get_log (node->agent);
  ck_abort_msg ("the relay never offered relaying:\n%s", log);
}

static void
node_wait_relayed (KithTestNode *node)
{
  g_autofree gchar *log = NULL;

  if (kith_test_poll_until (node_is_relayed, node, 30000))
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
node_check_begin (KithTestNode *node)
{
  Call *call = g_new0 (Call, 1);

  g_dbus_connection_call (node->connection, NULL, "/org/kith/Agent1/Update", "org.kith.Update1", "Check", NULL,
                          G_VARIANT_TYPE ("(s)"), G_DBUS_CALL_FLAGS_NONE, 120000, NULL, call_cb, call);
  return call;
}

static Call *
node_check (KithTestNode *node)
{
  Call *call = node_check_begin (node);

  ck_assert_msg (kith_test_wait_until (call_is_done, call, 90000), "Check() did not return");
  return call;
}

static void
node_check_ok (KithTestNode *node)
{
  g_autoptr (Call) call = node_check (node);
  g_autofree gchar *log = NULL;

  if (call->error == NULL)
    return;
  log = kith_test_agent_get_log (node->agent);
  ck_abort_msg ("Check() failed: %s\n%s", call->error->message, log);
}

static guint64
node_catalog_version (KithTestNode *node)
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
node_metric (KithTestNode *node, const gchar *series)
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
node_upload (KithTestNode *node, const gchar *name, const gchar *content)
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
  KithTestNode *node = user_data;
  g_autofree gchar *dir_path = g_build_filename (kith_test_agent_get_dir (node->agent), "state", "upload", "receipts",
                                                 NULL);
  g_autoptr (GDir) dir = g_dir_open (dir_path, 0, NULL);

  return dir != NULL && g_dir_read_name (dir) != NULL;
}

/* `kith status` names the relay in use. */
static void
node_assert_status_line (KithTestNode *node, const gchar *relay_id)
{
  const gchar *args[] = { "status", NULL };
  g_autofree gchar *out = NULL;
  g_autofree gchar *err = NULL;
  g_autofree gchar *line = g_strdup_printf ("Relay:    %s at http://127.0.0.1:", relay_id);

  ck_assert_msg (kith_test_run_cli (node->agent, args, NULL, &out, &err) == 0, "kith status: %s", err);
  ck_assert_msg (strstr (out, line) != NULL, "kith status printed:\n%s", out);
}

/* ---- raw CONNECTs, as a hostile or curious requester would send them ---- */

/* Sends @head to @node's HTTP port; returns the connection (caller owns) with the status of
 * the answer in *@status (0: none). */
static GSocketConnection *
raw_request (KithTestNode *node, const gchar *head, guint *status)
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
raw_status (KithTestNode *node, const gchar *head)
{
  guint status = 0;
  g_autoptr (GSocketConnection) conn G_GNUC_UNUSED = raw_request (node, head, &status);
  return status;
}

/* ---- the tests ---- */

/* The whole path: an offline node's catalog and report reach the backend only through a
 * verified relay, TLS end to end; the relay counts what it carried. */
START_TEST (test_offline_node_through_relay)
{
  g_autoptr (KithTestBackend) backend = kith_test_backend_new ();
  g_autoptr (Tap) tap = NULL;
  g_autoptr (KithTestNode) relay = NULL;
  g_autoptr (KithTestNode) offline = NULL;
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
  if (!kith_test_poll_until (node_has_receipt, offline, 30000)) {
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
  node_assert_status_line (offline, kith_test_agent_get_node_id (relay->agent));
}
END_TEST

/* No open proxy: CONNECT only to the backend (and [relay] allow=), never a plain GET of
 * someone else's URL; every refusal counted. */
START_TEST (test_connect_refused)
{
  g_autoptr (KithTestBackend) backend = kith_test_backend_new ();
  g_autoptr (KithTestNode) relay = NULL;
  g_autofree gchar *token = backend_token (backend);
  g_autofree gchar *get = NULL;
  g_autofree gchar *connect = NULL;
  g_autoptr (GUri) uri = NULL;
  g_autoptr (GSocketConnection) tunnel = NULL;
  guint status = 0;

  kith_test_backend_publish_sample (backend, "2611211200");
  kith_test_backend_serve (backend, NULL);
  uri = g_uri_parse (kith_test_backend_get_url (backend), G_URI_FLAGS_NONE, NULL);
  /* use=false: it never takes a relay itself, and still serves as one */
  relay = node_start (kith_test_backend_get_url (backend), kith_test_backend_get_ca (backend), token,
                      "allow=127.0.0.1:9\nuse=false");
  node_wait_serving (relay);
  ck_assert_uint_eq (raw_status (relay, "CONNECT 127.0.0.1:22 HTTP/1.1\r\nHost: 127.0.0.1:22\r\n\r\n"), 403);
  ck_assert_uint_eq (raw_status (relay, "CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\n\r\n"), 403);
  /* the backend's host on another port is another target */
  connect = g_strdup_printf ("CONNECT 127.0.0.1:%d HTTP/1.1\r\n\r\n", g_uri_get_port (uri) + 1);
  ck_assert_uint_eq (raw_status (relay, connect), 403);
  ck_assert_double_eq (node_metric (relay, "kith_relay_refused_total{reason=\"target\"}"), 3);
  /* a head over 8 KiB, even to the backend, is refused */
  {
    g_autofree gchar *padding = g_strnfill (10000, 'x');
    g_autofree gchar *big = g_strdup_printf ("CONNECT 127.0.0.1:%d HTTP/1.1\r\nX-Padding: %s\r\n\r\n",
                                             g_uri_get_port (uri), padding);
    ck_assert_uint_eq (raw_status (relay, big), 431);
    ck_assert_double_eq (node_metric (relay, "kith_relay_refused_total{reason=\"head\"}"), 1);
  }
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

/* ---- a sink: an origin in [relay] allow= that sends SIZE bytes to whoever connects ---- */

typedef struct {
  KithTestThread *thread; /* a service on 127.0.0.1 */
  guint16 port;
  gsize size;
} Sink;

static gboolean
sink_run_cb (GThreadedSocketService *service, GSocketConnection *client, GObject *source, gpointer user_data)
{
  Sink *sink = user_data;
  g_autofree guint8 *data = g_malloc0 (sink->size);
  guint8 buffer[4096];

  g_output_stream_write_all (g_io_stream_get_output_stream (G_IO_STREAM (client)), data, sink->size, NULL, NULL, NULL);
  while (g_input_stream_read (g_io_stream_get_input_stream (G_IO_STREAM (client)), buffer, sizeof buffer, NULL, NULL) >
         0)
    ;
  return TRUE;
}

static Sink *
sink_new (gsize size)
{
  Sink *sink = g_new0 (Sink, 1);

  sink->size = size;
  sink->thread = kith_test_thread_new_service ("sink", 16, G_CALLBACK (sink_run_cb), sink);
  sink->port = kith_test_thread_get_port (sink->thread);
  return sink;
}

static void
sink_free (Sink *sink)
{
  kith_test_thread_free (sink->thread);
  g_free (sink);
}
G_DEFINE_AUTOPTR_CLEANUP_FUNC (Sink, sink_free)

/* ---- a fake relay, its own process: test-relay --fake-relay PORT MODE BACKEND_DIR URL.
 * It answers every want=relay at once with a signed offer whose certificate is wrong:
 * "otherca" (another vendor's CA, relay permitted), "norole" (the right CA, only upload);
 * or right, from a relay whose answers never end: "flood", "trickle" (its CONNECTs are
 * answered and held, every fetch answered 200 with a body that goes on, at full speed or
 * a byte every 100 ms; see kith-test-endless.h). It counts the connections made to its
 * alias (but for those two) and prints "connections N" when stdin closes (or after 120 s). ---- */

typedef struct {
  KithTestOffer *offer;
  const gchar *backend_url;
  gchar *alias;
  gchar *key;
  gchar *cert;
  guint connections;
  KithTestEndless *endless; /* "flood", "trickle": where its alias points */
} FakeRelay;

static gchar *
fake_relay_certificate (FakeRelay *fake, const gchar *mode, const gchar *backend_dir)
{
  g_autofree gchar *ca_path = g_build_filename (backend_dir, "ca.pem", NULL);
  g_autofree gchar *ca_key_path = g_build_filename (backend_dir, "ca-key.pem", NULL);
  g_autofree gchar *ca = NULL;
  g_autofree gchar *ca_key = kith_crypto_read_private_key (ca_key_path, NULL);
  g_autofree gchar *pub = kith_crypto_key_get_public (fake->key, NULL);
  gint64 now = g_get_real_time () / G_USEC_PER_SEC;

  g_assert_true (g_file_get_contents (ca_path, &ca, NULL, NULL));
  if (g_str_equal (mode, "otherca")) {
    KithCertSpec ca_spec = { .common_name = "kith vendor CA", .not_after = now + 3600, .is_ca = TRUE };
    g_free (ca_key);
    ca_key = kith_crypto_key_generate (NULL);
    g_free (ca);
    ca = kith_crypto_cert_self_signed (ca_key, &ca_spec, NULL);
  }
  return kith_test_offer_issue (ca, ca_key, pub, FAKE_NODE, g_str_equal (mode, "norole") ? "upload,serve" : "upload,relay",
                                fake->alias, 0, now + 3600);
}

static gboolean
fake_relay_incoming (GSocketService *service, GSocketConnection *connection, GObject *source, FakeRelay *fake)
{
  fake->connections++;
  return FALSE;
}

static int
fake_relay_main (int argc, char **argv)
{
  g_autoptr (GMainLoop) loop = g_main_loop_new (NULL, FALSE);
  g_autoptr (GSocketService) service = g_socket_service_new ();
  g_autoptr (GSocketAddress) address = g_inet_socket_address_new_from_string ("127.0.0.1", 0);
  g_autoptr (GSocketAddress) effective = NULL;
  g_autoptr (GError) error = NULL;
  FakeRelay fake = { .backend_url = argv[5] };

  g_assert_true (g_socket_listener_add_address (G_SOCKET_LISTENER (service), address, G_SOCKET_TYPE_STREAM,
                                                G_SOCKET_PROTOCOL_TCP, NULL, &effective, &error));
  g_signal_connect (service, "incoming", G_CALLBACK (fake_relay_incoming), &fake);
  if (g_str_equal (argv[3], "flood") || g_str_equal (argv[3], "trickle")) {
    fake.endless = kith_test_endless_new (g_str_equal (argv[3], "trickle"));
    fake.alias = g_strdup_printf ("http://127.0.0.1:%u/relay/", kith_test_endless_get_port (fake.endless));
  } else {
    fake.alias = g_strdup_printf ("http://127.0.0.1:%u/relay/",
                                  g_inet_socket_address_get_port (G_INET_SOCKET_ADDRESS (effective)));
  }
  fake.key = kith_crypto_key_generate (&error);
  g_assert_no_error (error);
  fake.cert = fake_relay_certificate (&fake, argv[3], argv[4]);
  g_assert_nonnull (fake.cert);
  fake.offer = kith_test_offer_new ((guint16) atoi (argv[2]), "relay", FAKE_NODE, fake.alias, FALSE, fake.cert,
                                    fake.key);
  kith_test_child_run (loop, "ready");
  g_clear_pointer (&fake.endless, kith_test_endless_free);
  g_print ("connections %u\n", fake.connections);
  kith_test_offer_free (fake.offer);
  g_free (fake.alias);
  g_free (fake.key);
  g_free (fake.cert);
  return 0;
}

static GSubprocess *
fake_relay_start (KithTestBackend *backend, const gchar *mode)
{
  g_autofree gchar *port = g_strdup_printf ("%u", test_port);

  return kith_test_child_spawn ("--fake-relay", port, mode, kith_test_backend_get_dir (backend),
                                kith_test_backend_get_url (backend), NULL);
}

typedef struct {
  guint connections;
  guint *cuts;
} FakeRelayEnd;

/* past the lines of answers cut (see kith-test-endless.h), the last: "connections N" */
static void
fake_relay_line (const gchar *line, gpointer user_data)
{
  FakeRelayEnd *end = user_data;

  if (end->cuts != NULL && g_str_has_prefix (line, "cut "))
    (*end->cuts)++;
  else if (g_str_has_prefix (line, "connections "))
    end->connections = (guint) g_ascii_strtoull (line + 12, NULL, 10);
}

/* Stops the fake relay; returns how many connections its alias got, and in *@cuts (may be
 * NULL) how many of its endless answers were cut that the suite had not read of yet. */
static guint
fake_relay_stop_counting (GSubprocess *proc, guint *cuts)
{
  FakeRelayEnd end = { G_MAXUINT, cuts };

  if (cuts != NULL)
    *cuts = 0;
  kith_test_child_stop (proc, fake_relay_line, &end);
  return end.connections;
}

static guint
fake_relay_stop (GSubprocess *proc)
{
  return fake_relay_stop_counting (proc, NULL);
}

static guint64
node_offers_refused (KithTestNode *node)
{
  g_autoptr (GVariant) relay = kith_test_get_status_section (node->connection, "relay");
  guint64 refused = 0;

  g_variant_lookup (relay, "offers-refused", "t", &refused);
  return refused;
}

static gboolean
node_refused_an_offer (gpointer user_data)
{
  return node_offers_refused (user_data) >= 2;
}

/* A relay whose certificate is another vendor's, or does not permit relaying, is never
 * used: not even a connection to it; the offline node stays offline. */
static void
check_unverifiable (const gchar *mode, const gchar *reason)
{
  g_autoptr (KithTestBackend) backend = kith_test_backend_new ();
  g_autoptr (KithTestNode) offline = NULL;
  g_autoptr (Call) call = NULL;
  g_autofree gchar *log = NULL;
  GSubprocess *fake;

  kith_test_backend_publish_sample (backend, "2611211200");
  kith_test_backend_serve (backend, NULL);
  fake = fake_relay_start (backend, mode);
  offline = node_start (kith_test_backend_get_url (backend), kith_test_backend_get_ca (backend), NULL, NULL);
  /* two searches, each refused */
  ck_assert (kith_test_poll_until (node_refused_an_offer, offline, 20000));
  ck_assert (!node_is_relayed (offline));
  call = node_check (offline);
  ck_assert_ptr_nonnull (call->error);
  ck_assert_msg (strstr (call->error->message, "offline") != NULL, "%s", call->error->message);
  ck_assert_double_ge (node_metric (offline, "kith_relay_offers_refused_total"), 2);
  ck_assert_uint_eq (fake_relay_stop (fake), 0);
  ck_assert_uint_eq (kith_test_backend_get_requests (backend, "/catalog.json"), 0);
  log = kith_test_agent_get_log (offline->agent);
  ck_assert_msg (strstr (log, reason) != NULL, "no \"%s\" in:\n%s", reason, log);
}

START_TEST (test_relay_of_another_vendor)
{
  check_unverifiable ("otherca", "certificate refused");
}
END_TEST

START_TEST (test_relay_without_relay_role)
{
  check_unverifiable ("norole", "certificate does not permit relay");
}
END_TEST

static gboolean
node_relay_is_not (gpointer user_data)
{
  gpointer *pair = user_data;
  g_autofree gchar *id = node_relay (pair[0]);
  return id != NULL && g_strcmp0 (id, pair[1]) != 0;
}

/* Publishes a sample release at @backend, serves it and starts two nodes that enroll
 * with @token: relays, once they serve. */
static void
relays_start (KithTestBackend *backend, const gchar *token, KithTestNode **one, KithTestNode **two)
{
  kith_test_backend_publish_sample (backend, "2611211200");
  kith_test_backend_serve (backend, NULL);
  *one = node_start (kith_test_backend_get_url (backend), kith_test_backend_get_ca (backend), token, NULL);
  *two = node_start (kith_test_backend_get_url (backend), kith_test_backend_get_ca (backend), token, NULL);
  node_wait_serving (*one);
  node_wait_serving (*two);
}

/* Once @offline relays through @one or @two: kills that one and returns it, its node id
 * in *@first. */
static KithTestNode *
relay_in_use_kill (KithTestNode *offline, KithTestNode *one, KithTestNode *two, gchar **first)
{
  KithTestNode *dead;

  node_wait_relayed (offline);
  *first = node_relay (offline);
  dead = g_strcmp0 (*first, kith_test_agent_get_node_id (one->agent)) == 0 ? one : two;
  kith_test_node_kill (dead);
  return dead;
}

/* Two relays: the offline node uses the first that verifies; killed, the other takes over. */
START_TEST (test_failover)
{
  g_autoptr (KithTestBackend) backend = kith_test_backend_new ();
  g_autoptr (KithTestNode) one = NULL;
  g_autoptr (KithTestNode) two = NULL;
  g_autoptr (KithTestNode) offline = NULL;
  g_autofree gchar *token = backend_token (backend);
  g_autofree gchar *first = NULL;
  g_autofree gchar *then = NULL;
  KithTestNode *dead, *alive;
  gpointer pair[2];

  relays_start (backend, token, &one, &two);
  node_check_ok (one);
  offline = node_start (kith_test_backend_get_url (backend), kith_test_backend_get_ca (backend), NULL, NULL);
  dead = relay_in_use_kill (offline, one, two, &first);
  alive = dead == one ? two : one;
  pair[0] = offline;
  pair[1] = first;
  ck_assert_msg (kith_test_poll_until (node_relay_is_not, pair, 20000), "no other relay taken");
  then = node_relay (offline);
  ck_assert_str_eq (then, kith_test_agent_get_node_id (alive->agent));
  ck_assert_double_ge (node_metric (offline, "kith_relay_failovers_total"), 1);
  node_check_ok (offline);
  ck_assert_uint_eq (node_catalog_version (offline), 1);
  ck_assert_double_ge (node_metric (alive, "kith_relay_tunnels_total"), 1);
}
END_TEST

/* A CONNECT from @local (an address on loopback) to 127.0.0.1:@port; its status in *@status. */
static GSocketConnection *
raw_connect_from (KithTestNode *node, const gchar *local, guint16 port, guint *status)
{
  g_autoptr (GSocketClient) client = g_socket_client_new ();
  g_autoptr (GSocketAddress) bind = g_inet_socket_address_new_from_string (local, 0);
  g_autoptr (GUri) uri = g_uri_parse (kith_test_agent_get_http_url (node->agent), G_URI_FLAGS_NONE, NULL);
  g_autofree gchar *head = g_strdup_printf ("CONNECT 127.0.0.1:%u HTTP/1.1\r\n\r\n", port);
  g_autoptr (GString) answer = g_string_new (NULL);
  GSocketConnection *conn;
  gchar c;

  g_socket_client_set_local_address (client, bind);
  conn = g_socket_client_connect_to_host (client, "127.0.0.1", (guint16) g_uri_get_port (uri), NULL, NULL);
  ck_assert_ptr_nonnull (conn);
  g_socket_set_timeout (g_socket_connection_get_socket (conn), 10);
  ck_assert (g_output_stream_write_all (g_io_stream_get_output_stream (G_IO_STREAM (conn)), head, strlen (head), NULL,
                                        NULL, NULL));
  while (answer->len < 4096 && !g_str_has_suffix (answer->str, "\r\n\r\n") &&
         g_input_stream_read (g_io_stream_get_input_stream (G_IO_STREAM (conn)), &c, 1, NULL, NULL) == 1)
    g_string_append_c (answer, c);
  *status = g_str_has_prefix (answer->str, "HTTP/1.") && answer->len > 12
                ? (guint) g_ascii_strtoull (answer->str + 9, NULL, 10) : 0;
  return conn;
}

/* How long a tunnel from @local to the sink takes to deliver its @size bytes (µs); the
 * tunnel, still open, in *@out. */
static gint64
tunnel_read_time (KithTestNode *relay, const gchar *local, guint16 port, gsize size, GSocketConnection **out)
{
  g_autofree guint8 *buffer = g_malloc (65536);
  gint64 start = g_get_monotonic_time ();
  guint status = 0;
  gsize got = 0;
  gssize n;

  *out = raw_connect_from (relay, local, port, &status);
  ck_assert_uint_eq (status, 200);
  while (got < size &&
         (n = g_input_stream_read (g_io_stream_get_input_stream (G_IO_STREAM (*out)), buffer, 65536, NULL, NULL)) > 0)
    got += (gsize) n;
  ck_assert_uint_eq (got, size);
  return g_get_monotonic_time () - start;
}

/* Caps: tunnels per requester and in all, bandwidth per requester and in all, idle timeout. */
START_TEST (test_caps)
{
  g_autoptr (KithTestBackend) backend = kith_test_backend_new ();
  g_autoptr (Sink) sink = sink_new (300000);
  g_autoptr (KithTestNode) relay = NULL;
  g_autofree gchar *token = backend_token (backend);
  g_autofree gchar *extra = NULL;
  GSocketConnection *held[3];
  g_autoptr (GSocketConnection) over = NULL;
  g_autoptr (GSocketConnection) over_all = NULL;
  g_autoptr (GSocketConnection) tunnel = NULL;
  g_autofree guint8 *buffer = g_malloc (65536);
  guint status = 0;
  gsize got = 0;
  gssize n;
  gint64 start, elapsed, idle;

  kith_test_backend_serve (backend, NULL);
  extra = g_strdup_printf ("allow=127.0.0.1:%u\nmax-tunnels=3\nmax-tunnels-per-requester=2\n"
                           "rate-per-requester=100000\nrate=0\nidle-timeout=1s\n",
                           sink->port);
  relay = node_start (kith_test_backend_get_url (backend), kith_test_backend_get_ca (backend), token, extra);
  node_wait_serving (relay);
  /* two from one requester, the third refused; one more from another address, then the total is full */
  held[0] = raw_connect_from (relay, "127.0.0.1", sink->port, &status);
  ck_assert_uint_eq (status, 200);
  held[1] = raw_connect_from (relay, "127.0.0.1", sink->port, &status);
  ck_assert_uint_eq (status, 200);
  over = raw_connect_from (relay, "127.0.0.1", sink->port, &status);
  ck_assert_uint_eq (status, 503);
  held[2] = raw_connect_from (relay, "127.0.0.2", sink->port, &status);
  ck_assert_uint_eq (status, 200);
  over_all = raw_connect_from (relay, "127.0.0.3", sink->port, &status);
  ck_assert_uint_eq (status, 503);
  ck_assert_double_eq (node_metric (relay, "kith_relay_refused_total{reason=\"cap\"}"), 2);
  ck_assert_double_eq (node_metric (relay, "kith_relay_tunnels"), 3);
  for (guint i = 0; i < G_N_ELEMENTS (held); i++) {
    g_io_stream_close (G_IO_STREAM (held[i]), NULL, NULL);
    g_object_unref (held[i]);
  }
  /* 300 000 bytes at 100 000 bytes/s after a burst of 100 000: about 2 s */
  start = g_get_monotonic_time ();
  tunnel = raw_connect_from (relay, "127.0.0.4", sink->port, &status);
  ck_assert_uint_eq (status, 200);
  while (got < 300000 && (n = g_input_stream_read (g_io_stream_get_input_stream (G_IO_STREAM (tunnel)), buffer, 65536,
                                                    NULL, NULL)) > 0)
    got += (gsize) n;
  elapsed = g_get_monotonic_time () - start;
  ck_assert_uint_eq (got, 300000);
  ck_assert_msg (elapsed >= 1500000 && elapsed < (gint64) kith_test_timeout_ms (8000) * 1000, "300000 bytes took %" G_GINT64_FORMAT " µs", elapsed);
  /* then nothing moves: the tunnel is closed after its idle timeout */
  start = g_get_monotonic_time ();
  n = g_input_stream_read (g_io_stream_get_input_stream (G_IO_STREAM (tunnel)), buffer, 65536, NULL, NULL);
  idle = g_get_monotonic_time () - start;
  ck_assert_int_eq (n, 0);
  ck_assert_msg (idle >= 700000 && idle < (gint64) kith_test_timeout_ms (5000) * 1000, "closed after %" G_GINT64_FORMAT " µs idle", idle);
  ck_assert_double_ge (node_metric (relay, "kith_relay_bytes_total{direction=\"down\"}"), 300000);
  /* the total bucket alone (no limit per requester) holds one tunnel just the same */
  {
    g_autoptr (KithTestNode) shared = NULL;
    g_autoptr (GSocketConnection) one = NULL;
    g_autofree gchar *shared_extra = g_strdup_printf ("allow=127.0.0.1:%u\nrate-per-requester=0\nrate=100000\n",
                                                      sink->port);
    shared = node_start (kith_test_backend_get_url (backend), kith_test_backend_get_ca (backend), token,
                         shared_extra);
    node_wait_serving (shared);
    elapsed = tunnel_read_time (shared, "127.0.0.5", sink->port, 300000, &one);
    ck_assert_msg (elapsed >= 1500000 && elapsed < (gint64) kith_test_timeout_ms (8000) * 1000, "300000 bytes took %" G_GINT64_FORMAT " µs", elapsed);
  }
}
END_TEST

/* Origin misses of offline nodes: the relay fetches each file once with its own peering and
 * then serves it; a second offline node gets everything from the LAN. */
START_TEST (test_origin_miss_fetched_by_relay)
{
  g_autoptr (KithTestBackend) backend = kith_test_backend_new ();
  g_autoptr (KithTestNode) relay = NULL;
  g_autoptr (KithTestNode) first = NULL;
  g_autoptr (KithTestNode) second = NULL;
  g_autofree gchar *token = backend_token (backend);
  const gchar *src = kith_test_backend_publish_sample (backend, "2611211200");
  g_autoptr (GDir) dir = g_dir_open (src, 0, NULL);
  guint files = 0;

  while (g_dir_read_name (dir) != NULL)
    files++;
  kith_test_backend_serve (backend, NULL);
  relay = node_start (kith_test_backend_get_url (backend), kith_test_backend_get_ca (backend), token, NULL);
  node_wait_serving (relay);
  first = node_start (kith_test_backend_get_url (backend), kith_test_backend_get_ca (backend), NULL, NULL);
  node_wait_relayed (first);
  /* nobody on the LAN holds the release: the relay fetches it for the offline node */
  node_check_ok (first);
  ck_assert_uint_eq (node_catalog_version (first), 1);
  ck_assert_uint_eq (kith_test_backend_get_requests (backend, "/files/"), files);
  ck_assert_double_eq (node_metric (relay, "kith_relay_fetches_total"), files);
  ck_assert_uint_eq (node_catalog_version (relay), 0); /* it fetched for others, installed nothing */
  second = node_start (kith_test_backend_get_url (backend), kith_test_backend_get_ca (backend), NULL, NULL);
  node_wait_relayed (second);
  node_check_ok (second);
  ck_assert_uint_eq (node_catalog_version (second), 1);
  ck_assert_uint_eq (kith_test_backend_get_requests (backend, "/files/"), files);
  /* a new release, both offline nodes at once: the relay's fetches for them are one job per file */
  kith_test_backend_publish_sample (backend, "2612011200");
  {
    g_autoptr (Call) one = node_check_begin (first);
    g_autoptr (Call) two = node_check_begin (second);
    ck_assert (kith_test_wait_until (call_is_done, one, 90000) && kith_test_wait_until (call_is_done, two, 90000));
    ck_assert_msg (one->error == NULL && two->error == NULL, "%s",
                   one->error != NULL ? one->error->message : two->error->message);
  }
  ck_assert_uint_eq (node_catalog_version (first), 2);
  ck_assert_uint_eq (node_catalog_version (second), 2);
  ck_assert_uint_eq (kith_test_backend_get_requests (backend, "/files/"), 2 * files);
  /* the relay fetches only against a hash, only from its origins */
  {
    g_autofree gchar *file_url = g_strconcat (kith_test_backend_get_url (backend), "/files/x", NULL);
    g_autofree gchar *escaped = g_uri_escape_string (file_url, NULL, FALSE);
    g_autofree gchar *head = g_strdup_printf ("GET /relay/fetch?url=%s&size=1 HTTP/1.1\r\nHost: relay\r\n\r\n", escaped);
    ck_assert_uint_eq (raw_status (relay, head), 400);
    ck_assert_double_eq (node_metric (relay, "kith_relay_fetches_refused_total{reason=\"request\"}"), 1);
    ck_assert_uint_eq (raw_status (relay, "GET /relay/fetch?url=http%3A%2F%2F127.0.0.1%3A22%2Fx&sha256="
                                          "0000000000000000000000000000000000000000000000000000000000000000 "
                                          "HTTP/1.1\r\nHost: relay\r\n\r\n"),
                       403);
    ck_assert_double_eq (node_metric (relay, "kith_relay_fetches_refused_total{reason=\"target\"}"), 1);
  }
}
END_TEST

/* With probes far apart, a request through a dead relay is what finds it dead: the next
 * relay is taken at once, not at the next probe. */
START_TEST (test_failover_on_failed_request)
{
  g_autoptr (KithTestBackend) backend = kith_test_backend_new ();
  g_autoptr (KithTestNode) one = NULL;
  g_autoptr (KithTestNode) two = NULL;
  g_autoptr (KithTestNode) offline = NULL;
  g_autoptr (Call) failed = NULL;
  g_autofree gchar *token = backend_token (backend);
  g_autofree gchar *first = NULL;
  gpointer pair[2];

  relays_start (backend, token, &one, &two);
  offline = node_start (kith_test_backend_get_url (backend), kith_test_backend_get_ca (backend), NULL, "probe=1h");
  relay_in_use_kill (offline, one, two, &first);
  failed = node_check (offline);
  ck_assert_ptr_nonnull (failed->error);
  pair[0] = offline;
  pair[1] = first;
  ck_assert_msg (kith_test_poll_until (node_relay_is_not, pair, 5000), "the failed request did not move the node on");
  node_check_ok (offline);
  ck_assert_uint_eq (node_catalog_version (offline), 1);
}
END_TEST

/* An offline node's relay answers its fetch of an origin miss with a body that never ends,
 * at full speed ("flood") or a byte every 100 ms ("trickle"), from a process of its own
 * whose offer verifies: the node cuts it, at the 64 KiB an answer may be or at the fetch's
 * deadline, the fetch fails saying so, bounded in time, and the node keeps answering. An
 * answer past the bound is proven misbehaviour: that relay is blacklisted, asked once (not
 * again every 500 ms until the deadline) and never again, not even by the next fetch. */
static void
check_endless_relay (const gchar *mode, const gchar *error)
{
  g_autoptr (KithTestBackend) backend = kith_test_backend_new ();
  g_autoptr (KithTestNode) offline = NULL;
  g_autoptr (KithTestFetch) fetch = NULL;
  g_autoptr (GBytes) content = kith_test_make_content (1000, 7);
  g_autofree gchar *sha256 = kith_test_sha256 (content);
  g_autoptr (GVariant) relay = NULL;
  GSubprocess *fake;
  guint64 sent;

  kith_test_backend_serve (backend, NULL);
  fake = fake_relay_start (backend, mode);
  offline = node_start (kith_test_backend_get_url (backend), kith_test_backend_get_ca (backend), NULL,
                        "fetch-timeout=3s");
  node_wait_relayed (offline);
  fetch = kith_test_fetch_start (offline, "http://127.0.0.1:9/nobody-has-it.cab", sha256, 1000, FALSE);
  /* the deadline is 3 s: well within this, however the relay answers */
  ck_assert_msg (kith_test_wait_until (kith_test_fetch_is_finished, fetch, 15000), "%s: the fetch did not end (%s)",
                 mode, kith_dbus_transfer1_get_state (fetch->proxy));
  ck_assert_str_eq (kith_dbus_transfer1_get_state (fetch->proxy), "failed");
  ck_assert_msg (strstr (kith_dbus_transfer1_get_error (fetch->proxy), error) != NULL, "%s: failed with \"%s\"", mode,
                 kith_dbus_transfer1_get_error (fetch->proxy));
  /* the node closed the relay's answer (the relay says so), and keeps answering */
  sent = kith_test_endless_wait_cut (fake);
  if (g_str_equal (mode, "flood")) {
    /* past the bound (so the bound cut it), and not much more than the socket buffers hold */
    ck_assert_uint_gt (sent, 64 * 1024);
    ck_assert_uint_lt (sent, 64 * 1024 * 1024);
  } else {
    ck_assert_uint_ge (sent, 1);
  }
  relay = kith_test_get_status_section (offline->connection, "relay");
  ck_assert_ptr_nonnull (relay);
  if (g_str_equal (mode, "flood")) {
    g_autoptr (KithTestFetch) again = NULL;
    guint cuts;
    ck_assert_double_eq (node_metric (offline, "kith_relay_blacklisted_total"), 1);
    ck_assert (!node_is_relayed (offline));
    again = kith_test_fetch_start (offline, "http://127.0.0.1:9/nobody-has-it-either.cab", sha256, 1000,
                                   FALSE);
    ck_assert (kith_test_wait_until (kith_test_fetch_is_finished, again, 15000));
    ck_assert_str_eq (kith_dbus_transfer1_get_state (again->proxy), "failed");
    /* the relay offers again at every search: still not taken */
    ck_assert (!node_is_relayed (offline));
    fake_relay_stop_counting (fake, &cuts);
    ck_assert_uint_eq (cuts, 0);
  } else {
    fake_relay_stop (fake);
  }
}

START_TEST (test_relay_flood)
{
  check_endless_relay ("flood", "more than 65536 bytes");
}
END_TEST

START_TEST (test_relay_trickle)
{
  check_endless_relay ("trickle", "deadline");
}
END_TEST

/* ---- the pieces ---- */

/* A bucket charged for bytes already read goes into debt and says how long it lasts. */
START_TEST (test_rate_limit_charge)
{
  g_autoptr (KithRateLimit) limit = kith_rate_limit_new (1000, 1000, 2);
  g_autoptr (KithRateLimit) none = kith_rate_limit_new (0, 0, 2);
  gint64 now = 1000000;

  ck_assert_int_eq (kith_rate_limit_charge (limit, "a", 600, now), 0);
  /* 400 left, 1000 more: 600 in debt at 1000/s */
  ck_assert_int_eq (kith_rate_limit_charge (limit, "a", 1000, now), 600001);
  /* half a second later, still 100 in debt */
  ck_assert_int_eq (kith_rate_limit_charge (limit, "a", 0, now + 500000), 100001);
  ck_assert_int_eq (kith_rate_limit_charge (limit, "a", 0, now + 600001), 0);
  /* another key has its own bucket */
  ck_assert_int_eq (kith_rate_limit_charge (limit, "b", 1000, now), 0);
  ck_assert_int_eq (kith_rate_limit_charge (none, "a", G_MAXUINT32, now), 0);
}
END_TEST

/* Only the backend's https host and port go to the relay, and only while one is set. */
START_TEST (test_backend_route)
{
  g_autoptr (KithBackendRoute) route = kith_backend_route_new ("https://Backend.example:8443");
  g_autoptr (KithBackendRoute) nothing = kith_backend_route_new (NULL);
  g_auto (GStrv) direct = NULL;
  g_auto (GStrv) relayed = NULL;
  g_auto (GStrv) other = NULL;
  g_autoptr (GError) error = NULL;

  ck_assert (kith_backend_route_is_backend (route, "https://backend.example:8443/catalog.json"));
  ck_assert (!kith_backend_route_is_backend (route, "http://backend.example:8443/catalog.json"));
  ck_assert (!kith_backend_route_is_backend (route, "https://backend.example/catalog.json"));
  ck_assert (!kith_backend_route_is_backend (route, "https://backend.example.evil:8443/"));
  ck_assert (!kith_backend_route_is_backend (nothing, "https://backend.example:8443/"));
  direct = g_proxy_resolver_lookup (G_PROXY_RESOLVER (route), "https://backend.example:8443", NULL, &error);
  g_assert_no_error (error);
  ck_assert_ptr_nonnull (direct);
  ck_assert_ptr_null (kith_backend_route_get_relay_url (route));
  kith_backend_route_set_relay (route, FAKE_NODE, "http://10.0.0.5:6515");
  relayed = g_proxy_resolver_lookup (G_PROXY_RESOLVER (route), "https://backend.example:8443", NULL, &error);
  ck_assert_str_eq (relayed[0], "http://10.0.0.5:6515");
  ck_assert_ptr_null (relayed[1]);
  other = g_proxy_resolver_lookup (G_PROXY_RESOLVER (route), "https://elsewhere.example:8443", NULL, &error);
  ck_assert_str_ne (other[0], "http://10.0.0.5:6515");
  ck_assert_str_eq (kith_backend_route_get_relay_node (route), FAKE_NODE);
  kith_backend_route_set_relay (route, NULL, NULL);
  ck_assert_ptr_null (kith_backend_route_get_relay_url (route));
}
END_TEST

static Suite *
relay_suite (void)
{
  Suite *suite = suite_create ("relay");
  TCase *unit = tcase_create ("unit");
  TCase *agents = tcase_create ("agents");
  TCase *endless = tcase_create ("endless");

  tcase_add_test (unit, test_rate_limit_charge);
  tcase_add_test (unit, test_backend_route);
  suite_add_tcase (suite, unit);

  tcase_set_timeout (agents, 180);
  tcase_add_test (agents, test_offline_node_through_relay);
  tcase_add_test (agents, test_connect_refused);
  tcase_add_test (agents, test_relay_of_another_vendor);
  tcase_add_test (agents, test_relay_without_relay_role);
  tcase_add_test (agents, test_failover);
  tcase_add_test (agents, test_failover_on_failed_request);
  tcase_add_test (agents, test_caps);
  tcase_add_test (agents, test_origin_miss_fetched_by_relay);
  suite_add_tcase (suite, agents);
  /* relays whose answers never end, each a process of its own */
  tcase_set_timeout (endless, 120);
  tcase_add_test (endless, test_relay_flood);
  tcase_add_test (endless, test_relay_trickle);
  suite_add_tcase (suite, endless);
  return suite;
}

int
main (int argc, char **argv)
{
  if (argc >= 6 && g_strcmp0 (argv[1], "--fake-relay") == 0)
    return fake_relay_main (argc, argv);
  test_port = (guint16) g_random_int_range (20000, 60000);
  return kith_test_run_suite (relay_suite ());
}
