/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* bench-update.c — issue 4, benchmark: the time to bring N nodes current with the sample
 * release (2.29 MB) over a 1 MB/s backend uplink, with kith against the same N nodes each
 * fetching the release from the backend alone; and backend bytes ÷ release bytes.
 *
 * Usage: bench-update [--rate BYTES/S] [N …]          (default: 1000000; N = 1 5 10)
 *   kith:  a fresh backend and N fresh agents (peering, update); once every agent runs and
 *          its D-Bus connection is open, Check() goes to all N at once; the clock stops at
 *          the last reply (all N sets installed).
 *   alone: a fresh backend; N clients at once, each GETs every file of the release in turn
 *          (plain HTTP, libsoup, one connection per client); the clock stops at the last body.
 * Every result is one line "bench: update-kith|update-alone N SECONDS BACKEND/RELEASE".
 * Needs kith-agent, the plugins, kith-backend and data/make-sample-release.sh (the build
 * passes their paths as defaults). Binds only loopback; every wait is bounded.
 */
#include "kith-catalog.h"
#include "kith-test-agent.h"
#include "kith-test-backend.h"
#include "kith-test-tls.h"

#include <glib/gstdio.h>
#include <libsoup/soup.h>
#include <stdlib.h>
#include <string.h>

#define BENCH_TIMEOUT_MS 300000

static guint16 bench_port;
static gchar *bench_rate;

typedef struct {
  guint pending;
  guint failed;
} BenchWait;

static gboolean
bench_wait_done (gpointer user_data)
{
  return ((BenchWait *) user_data)->pending == 0;
}

static void
bench_check_cb (GObject *source, GAsyncResult *result, gpointer user_data)
{
  BenchWait *wait = user_data;
  g_autoptr (GError) error = NULL;
  g_autoptr (GVariant) reply = g_dbus_connection_call_finish (G_DBUS_CONNECTION (source), result, &error);
  const gchar *text = NULL;

  if (reply != NULL)
    g_variant_get (reply, "(&s)", &text);
  if (reply == NULL || !g_str_has_prefix (text, "installed catalog")) {
    g_printerr ("check: %s\n", error != NULL ? error->message : text);
    wait->failed++;
  }
  wait->pending--;
}

static void
bench_report (const gchar *what, guint n, gint64 elapsed_us, KithTestBackend *backend, guint64 release)
{
  guint64 served = kith_test_backend_get_bytes (backend, "/files/");
  g_print ("bench: %s %u %.2f %.2f\n", what, n, elapsed_us / 1e6, (gdouble) served / (gdouble) release);
}

/* The sample release, published and served at the bench rate; its size in *@release. */
static KithTestBackend *
bench_backend (guint64 *release)
{
  KithTestBackend *backend = kith_test_backend_new ();
  const gchar *src = kith_test_backend_publish_sample (backend, "2611211200");
  g_autoptr (GDir) dir = g_dir_open (src, 0, NULL);
  const gchar *name;

  *release = 0;
  while ((name = g_dir_read_name (dir)) != NULL) {
    g_autofree gchar *path = g_build_filename (src, name, NULL);
    GStatBuf st;
    g_assert_true (g_stat (path, &st) == 0);
    *release += (guint64) st.st_size;
  }
  kith_test_backend_serve (backend, bench_rate);
  return backend;
}

static void
bench_kith (guint n)
{
  guint64 release = 0;
  g_autoptr (KithTestBackend) backend = bench_backend (&release);
  g_autoptr (GPtrArray) agents = g_ptr_array_new_with_free_func ((GDestroyNotify) kith_test_agent_free);
  g_autoptr (GPtrArray) connections = g_ptr_array_new_with_free_func (g_object_unref);
  g_autofree gchar *config = g_strdup_printf ("backend-url=%s\ntrust-anchor=%s\n"
                                              "[peering]\nport=%u\nlisten=127.255.255.255\n"
                                              "send-address=127.0.0.1\nbroadcast=127.255.255.255\n"
                                              "[update]\nfirst-check=1h\n",
                                              kith_test_backend_get_url (backend),
                                              kith_test_backend_get_ca (backend), bench_port);
  BenchWait wait = { .pending = n };
  gint64 start;

  for (guint i = 0; i < n; i++) {
    KithTestAgent *agent = kith_test_agent_new ("peering;update", config);
    g_autoptr (GError) error = NULL;
    GDBusConnection *connection;
    g_ptr_array_add (agents, agent);
    if (!kith_test_agent_start (agent, &error) || (connection = kith_test_agent_connect (agent, &error)) == NULL)
      g_error ("agent %u: %s", i, error->message);
    g_ptr_array_add (connections, connection);
  }
  start = g_get_monotonic_time ();
  for (guint i = 0; i < n; i++)
    g_dbus_connection_call (g_ptr_array_index (connections, i), NULL, "/org/kith/Agent1/Update",
                            "org.kith.Update1", "Check", NULL, G_VARIANT_TYPE ("(s)"),
                            G_DBUS_CALL_FLAGS_NONE, BENCH_TIMEOUT_MS, NULL, bench_check_cb, &wait);
  if (!kith_test_wait_until (bench_wait_done, &wait, BENCH_TIMEOUT_MS) || wait.failed > 0)
    g_error ("kith N=%u: %u checks failed or timed out", n, wait.failed + wait.pending);
  bench_report ("update-kith", n, g_get_monotonic_time () - start, backend, release);
}

/* One node fetching alone: the catalog's files one after another. */
typedef struct {
  SoupSession *session;
  KithCatalog *catalog;
  const gchar *base;
  guint next;
  BenchWait *wait;
} BenchClient;

static void bench_client_next (BenchClient *client);

static void
bench_client_cb (GObject *source, GAsyncResult *result, gpointer user_data)
{
  BenchClient *client = user_data;
  g_autoptr (GError) error = NULL;
  g_autoptr (GBytes) body = soup_session_send_and_read_finish (SOUP_SESSION (source), result, &error);
  const KithCatalogFile *file = g_ptr_array_index (client->catalog->files, client->next - 1);

  if (body == NULL || g_bytes_get_size (body) != file->size) {
    g_printerr ("GET %s: %s\n", file->url, error != NULL ? error->message : "short body");
    client->wait->failed++;
  }
  bench_client_next (client);
}

static void
bench_client_next (BenchClient *client)
{
  const KithCatalogFile *file;
  g_autofree gchar *url = NULL;
  g_autoptr (SoupMessage) msg = NULL;

  if (client->next == client->catalog->files->len) {
    client->wait->pending--;
    return;
  }
  file = g_ptr_array_index (client->catalog->files, client->next++);
  url = g_strconcat (client->base, file->url, NULL);
  msg = soup_message_new (SOUP_METHOD_GET, url);
  soup_session_send_and_read_async (client->session, msg, G_PRIORITY_DEFAULT, NULL, bench_client_cb, client);
}

static void
bench_alone (guint n)
{
  guint64 release = 0;
  g_autoptr (KithTestBackend) backend = bench_backend (&release);
  g_autofree gchar *catalog_path = g_build_filename (kith_test_backend_get_dir (backend), "public", "catalog.json", NULL);
  g_autofree gchar *text = NULL;
  gsize length = 0;
  g_autoptr (GBytes) bytes = NULL;
  g_autoptr (KithCatalog) catalog = NULL;
  g_autofree BenchClient *clients = g_new0 (BenchClient, n);
  BenchWait wait = { .pending = n };
  gint64 start;

  g_assert_true (g_file_get_contents (catalog_path, &text, &length, NULL));
  bytes = g_bytes_new_take (g_steal_pointer (&text), length);
  catalog = kith_catalog_parse (bytes, NULL);
  g_assert_nonnull (catalog);
  kith_test_tls_trust (kith_test_backend_get_ca (backend)); /* the backend talks HTTPS */
  start = g_get_monotonic_time ();
  for (guint i = 0; i < n; i++) {
    clients[i] = (BenchClient) { .session = kith_test_session_new (), .catalog = catalog,
                                 .base = kith_test_backend_get_url (backend), .wait = &wait };
    bench_client_next (&clients[i]);
  }
  if (!kith_test_wait_until (bench_wait_done, &wait, BENCH_TIMEOUT_MS) || wait.failed > 0)
    g_error ("alone N=%u: %u fetches failed or timed out", n, wait.failed + wait.pending);
  bench_report ("update-alone", n, g_get_monotonic_time () - start, backend, release);
  for (guint i = 0; i < n; i++)
    g_object_unref (clients[i].session);
}

int
main (int argc, char **argv)
{
  g_autoptr (GArray) sizes = g_array_new (FALSE, FALSE, sizeof (guint));
  static const guint defaults[] = { 1, 5, 10 };
  gint i = 1;

  g_setenv ("KITH_AGENT_BIN", KITH_BENCH_AGENT_BIN, FALSE);
  g_setenv ("KITH_TEST_PLUGIN_DIRS", KITH_BENCH_PLUGIN_DIRS, FALSE);
  g_setenv ("KITH_BACKEND", KITH_BENCH_BACKEND, FALSE);
  g_setenv ("KITH_SAMPLE_RELEASE", KITH_BENCH_SAMPLE_RELEASE, FALSE);
  bench_rate = g_strdup ("1000000");
  if (argc > 2 && g_strcmp0 (argv[1], "--rate") == 0) {
    g_free (bench_rate);
    bench_rate = g_strdup (argv[2]);
    i = 3;
  }
  for (; i < argc; i++) {
    guint64 n = 0;
    guint size;
    if (!g_ascii_string_to_unsigned (argv[i], 10, 1, 100, &n, NULL)) {
      g_printerr ("usage: bench-update [--rate BYTES/S] [N …]  (N from 1 to 100)\n");
      return 2;
    }
    size = (guint) n;
    g_array_append_val (sizes, size);
  }
  if (sizes->len == 0)
    g_array_append_vals (sizes, defaults, G_N_ELEMENTS (defaults));
  bench_port = (guint16) g_random_int_range (20000, 60000);
  g_print ("update: sample release over a %s B/s uplink; kith (N agents, Check() at once) "
           "vs N clients alone\n", bench_rate);
  for (guint k = 0; k < sizes->len; k++) {
    bench_kith (g_array_index (sizes, guint, k));
    bench_alone (g_array_index (sizes, guint, k));
  }
  g_free (bench_rate);
  return 0;
}
