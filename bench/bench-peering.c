/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* bench-peering.c — the peering service measured across real agent processes on
 * loopback (issue 3, benchmark (a)–(d), and an agent's idle cost)
 *
 * Usage: bench-peering [--set KEY=VALUE …] SCENARIO [ARGS]
 *   origin                 (a) origin GETs when N = 2, 5, 10, 20 agents want one URL,
 *                              one after another and all at once
 *   discovery [COUNT]      (b) Fetch → the transfer leaves "searching" (a peer answered)
 *   miss [COUNT]           (c) a fetch nobody can answer, minus a direct origin GET
 *   throughput FILE URL    (d) GET of FILE from an agent's alias against URL (nginx), curl
 *   idle [SECONDS]         an idle agent's RSS and CPU time, from /proc
 * --set adds KEY=VALUE to every agent's [peering] group (e.g. client-wait-ms=80).
 * Remote mode (bench/netns.sh, on the namespace LAN): --agents REQUESTER,HOLDER… names the
 * D-Bus addresses of agents already running, and --origin-dir DIR --origin-url URL an
 * origin serving DIR at URL; discovery and miss then use those agents (every holder
 * fetches each file first) and write their files into DIR; fetches pass the sha256.
 * Every result is one line "bench: KEY VALUE…" for bench/run.sh; the rest is commentary.
 *
 * Times come from the client side: a D-Bus filter on the connection to the agent
 * stamps each org.kith.Transfer1 PropertiesChanged as it arrives (in GDBus's worker
 * thread, before any main-loop dispatch), so a figure is agent time plus one
 * peer-to-peer D-Bus hop. Needs $KITH_AGENT_BIN and $KITH_TEST_PLUGIN_DIRS (set by
 * the build as defaults). Binds only loopback; every wait is bounded.
 */
#include "kith-test-agent.h"
#include "kith-test-origin.h"

#include <fcntl.h>
#include <gio/gunixfdlist.h>
#include <glib/gstdio.h>
#include <libsoup/soup.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define BENCH_FETCH_TIMEOUT_MS 120000

static guint16 bench_port;
static gchar **bench_settings; /* --set KEY=VALUE */
static gchar *bench_dir;       /* destination files */
static gchar *bench_agents;     /* --agents: remote mode, REQUESTER,HOLDER… */
static gchar *bench_origin_dir; /* --origin-dir, --origin-url: the remote mode's origin */
static gchar *bench_origin_url;
static gchar *bench_metrics;    /* --metrics: remote mode, each agent's /metrics URL, same order */

/* What the filter saw of one transfer. */
typedef struct {
  gint64 left_searching_us; /* 0 until State is neither "searching" nor empty */
  gint64 finished_us;       /* 0 until State is "done" or "failed" */
  gchar *first_state;       /* the first state after "searching" */
  gchar *final_state;
  gchar *source;
} BenchTimes;

static void
bench_times_free (BenchTimes *times)
{
  g_free (times->first_state);
  g_free (times->final_state);
  g_free (times->source);
  g_free (times);
}

typedef struct {
  KithTestAgent *agent;
  GDBusConnection *connection;
  GMutex mutex;
  GHashTable *transfers; /* object path → BenchTimes*, written by the filter */
} Node;

typedef struct {
  Node *node;
  GBytes *content; /* expected bytes, borrowed */
  gchar *dest;
  gchar *path; /* the transfer, once Fetch answered */
  GError *error;
  gint64 start_us;
} Fetch;

/* ---- nodes ---- */

static void
bench_times_update (BenchTimes *times, GVariant *changed, gint64 now)
{
  const gchar *state = NULL;
  const gchar *source = NULL;

  if (g_variant_lookup (changed, "Source", "&s", &source)) {
    g_free (times->source);
    times->source = g_strdup (source);
  }
  if (!g_variant_lookup (changed, "State", "&s", &state) || *state == '\0' ||
      g_strcmp0 (state, "searching") == 0)
    return;
  if (times->left_searching_us == 0) {
    times->left_searching_us = now;
    times->first_state = g_strdup (state);
  }
  if (times->finished_us == 0 && (g_strcmp0 (state, "done") == 0 || g_strcmp0 (state, "failed") == 0)) {
    times->finished_us = now;
    times->final_state = g_strdup (state);
  }
}

/* Runs in GDBus's worker thread for every message, as it arrives. */
static GDBusMessage *
bench_filter (GDBusConnection *connection, GDBusMessage *message, gboolean incoming, gpointer user_data)
{
  Node *node = user_data;
  gint64 now = g_get_monotonic_time ();
  g_autoptr (GVariant) changed = NULL;
  const gchar *interface = NULL;
  BenchTimes *times;

  if (!incoming || g_dbus_message_get_message_type (message) != G_DBUS_MESSAGE_TYPE_SIGNAL ||
      g_strcmp0 (g_dbus_message_get_member (message), "PropertiesChanged") != 0 ||
      g_dbus_message_get_body (message) == NULL ||
      !g_variant_is_of_type (g_dbus_message_get_body (message), G_VARIANT_TYPE ("(sa{sv}as)")))
    return message;
  g_variant_get (g_dbus_message_get_body (message), "(&s@a{sv}@as)", &interface, &changed, NULL);
  if (g_strcmp0 (interface, "org.kith.Transfer1") != 0)
    return message;
  g_mutex_lock (&node->mutex);
  times = g_hash_table_lookup (node->transfers, g_dbus_message_get_path (message));
  if (times == NULL) {
    times = g_new0 (BenchTimes, 1);
    g_hash_table_insert (node->transfers, g_strdup (g_dbus_message_get_path (message)), times);
  }
  bench_times_update (times, changed, now);
  g_mutex_unlock (&node->mutex);
  g_main_context_wakeup (NULL);
  return message;
}

static gchar *
bench_peering_config (void)
{
  GString *config = g_string_new (NULL);

  g_string_append_printf (config,
                          "[peering]\nport=%u\nlisten=127.255.255.255\n"
                          "send-address=127.0.0.1\nbroadcast=127.255.255.255\n",
                          bench_port);
  for (guint i = 0; bench_settings != NULL && bench_settings[i] != NULL; i++)
    g_string_append_printf (config, "%s\n", bench_settings[i]);
  return g_string_free (config, FALSE);
}

static Node *
node_start (void)
{
  g_autofree gchar *config = bench_peering_config ();
  g_autoptr (GError) error = NULL;
  Node *node = g_new0 (Node, 1);

  node->agent = kith_test_agent_new ("peering", config);
  if (!kith_test_agent_start (node->agent, &error))
    g_error ("agent did not start: %s", error->message);
  node->connection = kith_test_agent_connect (node->agent, &error);
  if (node->connection == NULL)
    g_error ("cannot connect to the agent: %s", error->message);
  g_mutex_init (&node->mutex);
  node->transfers = g_hash_table_new_full (g_str_hash, g_str_equal, g_free,
                                           (GDestroyNotify) bench_times_free);
  g_dbus_connection_add_filter (node->connection, bench_filter, node, NULL);
  return node;
}

/* An agent already running at @address (remote mode): not started, not stopped here. */
static Node *
node_connect (const gchar *address)
{
  g_autoptr (GError) error = NULL;
  Node *node = g_new0 (Node, 1);

  node->connection = g_dbus_connection_new_for_address_sync (
      address, G_DBUS_CONNECTION_FLAGS_AUTHENTICATION_CLIENT, NULL, NULL, &error);
  if (node->connection == NULL)
    g_error ("cannot connect to the agent at %s: %s", address, error->message);
  g_mutex_init (&node->mutex);
  node->transfers = g_hash_table_new_full (g_str_hash, g_str_equal, g_free,
                                           (GDestroyNotify) bench_times_free);
  g_dbus_connection_add_filter (node->connection, bench_filter, node, NULL);
  return node;
}

static void
node_free (Node *node)
{
  /* close first, so the worker thread stops calling the filter */
  g_dbus_connection_close_sync (node->connection, NULL, NULL);
  g_clear_object (&node->connection);
  if (node->agent != NULL && kith_test_agent_stop (node->agent) != 0)
    g_warning ("an agent did not stop cleanly");
  g_clear_pointer (&node->agent, kith_test_agent_free);
  g_hash_table_unref (node->transfers);
  g_mutex_clear (&node->mutex);
  g_free (node);
}
G_DEFINE_AUTOPTR_CLEANUP_FUNC (Node, node_free)

/* A copy of what the filter saw of @path, or NULL. */
static BenchTimes *
node_get_times (Node *node, const gchar *path)
{
  BenchTimes *copy = NULL;
  BenchTimes *times;

  g_mutex_lock (&node->mutex);
  times = path != NULL ? g_hash_table_lookup (node->transfers, path) : NULL;
  if (times != NULL) {
    copy = g_memdup2 (times, sizeof *times);
    copy->first_state = g_strdup (times->first_state);
    copy->final_state = g_strdup (times->final_state);
    copy->source = g_strdup (times->source);
  }
  g_mutex_unlock (&node->mutex);
  return copy;
}
G_DEFINE_AUTOPTR_CLEANUP_FUNC (BenchTimes, bench_times_free)

/* ---- fetches ---- */

static void
fetch_free (Fetch *fetch)
{
  g_unlink (fetch->dest);
  g_free (fetch->dest);
  g_free (fetch->path);
  g_clear_error (&fetch->error);
  g_free (fetch);
}
G_DEFINE_AUTOPTR_CLEANUP_FUNC (Fetch, fetch_free)

static void
fetch_replied (GObject *source, GAsyncResult *result, gpointer user_data)
{
  Fetch *fetch = user_data;
  g_autoptr (GVariant) reply = g_dbus_connection_call_with_unix_fd_list_finish (
      G_DBUS_CONNECTION (source), NULL, result, &fetch->error);

  if (reply != NULL)
    g_variant_get (reply, "(o)", &fetch->path);
}

/* Asks @node for @url, into a fresh file; returns at once (the reply comes in the loop). */
static Fetch *
fetch_start (Node *node, const gchar *url, GBytes *content)
{
  Fetch *fetch = g_new0 (Fetch, 1);
  g_autoptr (GUnixFDList) fds = g_unix_fd_list_new ();
  g_autoptr (GError) error = NULL;
  GVariantBuilder options;
  gint fd;

  fetch->node = node;
  fetch->content = content;
  fetch->dest = g_build_filename (bench_dir, "fetched-XXXXXX", NULL);
  fd = g_mkstemp (fetch->dest);
  if (fd < 0 || g_unix_fd_list_append (fds, fd, &error) < 0)
    g_error ("cannot make a destination file in %s", bench_dir);
  close (fd);
  g_variant_builder_init (&options, G_VARIANT_TYPE_VARDICT);
  /* nginx states no digest: the remote mode's fetches bring the hash a package list would */
  if (bench_agents != NULL)
    g_variant_builder_add (&options, "{sv}", "sha256", g_variant_new_take_string (kith_test_sha256 (content)));
  fetch->start_us = g_get_monotonic_time ();
  g_dbus_connection_call_with_unix_fd_list (
      node->connection, NULL, "/org/kith/Agent1/Peering", "org.kith.Peering1", "Fetch",
      g_variant_new ("(sha{sv})", url, 0, &options),
      G_VARIANT_TYPE ("(o)"), G_DBUS_CALL_FLAGS_NONE, BENCH_FETCH_TIMEOUT_MS, fds, NULL,
      fetch_replied, fetch);
  return fetch;
}

static gboolean
fetch_is_finished (gpointer user_data)
{
  Fetch *fetch = user_data;
  g_autoptr (BenchTimes) times = NULL;

  if (fetch->error != NULL)
    return TRUE;
  times = node_get_times (fetch->node, fetch->path);
  return times != NULL && times->finished_us != 0;
}

/* Waits for the transfer to end, checks the bytes, and returns what the filter saw. */
static BenchTimes *
fetch_wait (Fetch *fetch)
{
  g_autofree gchar *data = NULL;
  BenchTimes *times;
  gsize len = 0;

  if (!kith_test_wait_until (fetch_is_finished, fetch, BENCH_FETCH_TIMEOUT_MS))
    g_error ("a transfer did not end within %u s", BENCH_FETCH_TIMEOUT_MS / 1000);
  if (fetch->error != NULL)
    g_error ("Fetch failed: %s", fetch->error->message);
  times = node_get_times (fetch->node, fetch->path);
  if (times == NULL || g_strcmp0 (times->final_state, "done") != 0)
    g_error ("transfer %s did not end done", fetch->path);
  if (!g_file_get_contents (fetch->dest, &data, &len, NULL) ||
      len != g_bytes_get_size (fetch->content) ||
      memcmp (data, g_bytes_get_data (fetch->content, NULL), len) != 0)
    g_error ("transfer %s delivered the wrong bytes", fetch->path);
  return times;
}

/* ---- statistics ---- */

static gint
cmp_double (gconstpointer a, gconstpointer b)
{
  gdouble x = *(const gdouble *) a, y = *(const gdouble *) b;
  return (x > y) - (x < y);
}

/* Sorts @values; nearest-rank percentile @p (0–100). */
static gdouble
percentile (GArray *values, gdouble p)
{
  guint rank;

  g_array_sort (values, cmp_double);
  rank = (guint) MAX (1.0, p / 100.0 * values->len + 0.999999);
  return g_array_index (values, gdouble, MIN (rank, values->len) - 1);
}

/* The median: the mean of the middle two for an even count. */
static gdouble
median (GArray *values)
{
  guint n = values->len;

  g_array_sort (values, cmp_double);
  if (n % 2 == 1)
    return g_array_index (values, gdouble, n / 2);
  return (g_array_index (values, gdouble, n / 2 - 1) + g_array_index (values, gdouble, n / 2)) / 2;
}

static gdouble
ms (gint64 us)
{
  return us / 1000.0;
}

static Node **
nodes_start (guint n)
{
  Node **nodes = g_new0 (Node *, n);
  for (guint i = 0; i < n; i++)
    nodes[i] = node_start ();
  return nodes;
}

static void
nodes_free (Node **nodes, guint n)
{
  for (guint i = 0; i < n; i++)
    node_free (nodes[i]);
  g_free (nodes);
}

/* ---- (a) origin GETs for N agents wanting one URL ---- */

/* N agents fetch @path, one after another or all at once; prints the origin GETs. */
static void
origin_round (KithTestOrigin *origin, Node **nodes, guint n, gboolean at_once)
{
  g_autofree gchar *path = g_strdup_printf ("/%s-%u.cab", at_once ? "storm" : "seq", n);
  g_autofree gchar *url = kith_test_origin_url (origin, path);
  g_autoptr (GBytes) content = kith_test_make_content (1024 * 1024, n * 2 + at_once);
  g_autoptr (GPtrArray) fetches = g_ptr_array_new_with_free_func ((GDestroyNotify) fetch_free);
  gint64 start = g_get_monotonic_time ();
  guint from_origin = 0;

  kith_test_origin_add (origin, path, content, 0);
  for (guint i = 0; i < n; i++) {
    g_ptr_array_add (fetches, fetch_start (nodes[i], url, content));
    if (!at_once)
      bench_times_free (fetch_wait (g_ptr_array_index (fetches, i)));
  }
  for (guint i = 0; i < n; i++) {
    g_autoptr (BenchTimes) times = fetch_wait (g_ptr_array_index (fetches, i));
    if (g_strcmp0 (times->source, "origin") == 0)
      from_origin++;
  }
  g_print ("bench: origin-%s %u %u %.0f\n", at_once ? "at-once" : "one-by-one", n,
           kith_test_origin_get_requests (origin, path), ms (g_get_monotonic_time () - start));
  g_print ("  %u agents, %s: %u origin GET(s), %u transfer(s) with Source=origin\n", n,
           at_once ? "all at once" : "one after another",
           kith_test_origin_get_requests (origin, path), from_origin);
}

static void
bench_origin (void)
{
  const guint counts[] = { 2, 5, 10, 20 };
  guint max = counts[G_N_ELEMENTS (counts) - 1];
  g_autoptr (KithTestOrigin) origin = kith_test_origin_new ();
  Node **nodes = nodes_start (max);

  g_print ("(a) origin GETs, 1 MiB file; line: mode N origin-GETs wall-ms\n");
  for (guint i = 0; i < G_N_ELEMENTS (counts); i++) {
    origin_round (origin, nodes, counts[i], FALSE);
    origin_round (origin, nodes, counts[i], TRUE);
  }
  nodes_free (nodes, max);
}

/* ---- the nodes and origin of (b) and (c): started here, or the remote mode's ---- */

typedef struct {
  KithTestOrigin *local; /* NULL in remote mode */
  guint32 tag;           /* remote mode: names and bytes differ from every earlier run */
  GPtrArray *nodes;      /* Node*: the requester, then the others */
} Bench;

static Bench *
bench_new (guint local_nodes)
{
  Bench *bench = g_new0 (Bench, 1);
  g_auto (GStrv) addresses = NULL;

  bench->nodes = g_ptr_array_new_with_free_func ((GDestroyNotify) node_free);
  if (bench_agents == NULL) {
    bench->local = kith_test_origin_new ();
    for (guint i = 0; i < local_nodes; i++)
      g_ptr_array_add (bench->nodes, node_start ());
    return bench;
  }
  if (bench_origin_dir == NULL || bench_origin_url == NULL)
    g_error ("--agents needs --origin-dir and --origin-url");
  bench->tag = g_random_int ();
  addresses = g_strsplit (bench_agents, ",", -1);
  for (guint i = 0; addresses[i] != NULL; i++)
    g_ptr_array_add (bench->nodes, node_connect (addresses[i]));
  if (bench->nodes->len < local_nodes)
    g_error ("--agents names %u agents, this scenario needs %u", bench->nodes->len, local_nodes);
  return bench;
}

static void
bench_free (Bench *bench)
{
  g_ptr_array_unref (bench->nodes);
  g_clear_pointer (&bench->local, kith_test_origin_free);
  g_free (bench);
}
G_DEFINE_AUTOPTR_CLEANUP_FUNC (Bench, bench_free)

static Node *
bench_node (Bench *bench, guint i)
{
  return g_ptr_array_index (bench->nodes, i);
}

/* Remote mode: closes the D-Bus connections to every agent but the requester. On a LAN each
 * agent's clients are on its own machine; here every agent would send this one process a
 * signal for each announcement it hears (PeerDownload), and this process shares the host's
 * CPUs with the agents it measures. */
static void
bench_keep_requester_only (Bench *bench)
{
  if (bench->local == NULL && bench->nodes->len > 1)
    g_ptr_array_set_size (bench->nodes, 1);
}

/* Puts @size bytes at a new URL named after @kind and @i; returns the bytes, fills @url. */
static GBytes *
bench_add_file (Bench *bench, const gchar *kind, guint i, guint32 seed, gsize size, gchar **url)
{
  g_autofree gchar *path = NULL;
  g_autoptr (GError) error = NULL;
  GBytes *content;

  if (bench->local != NULL) {
    path = g_strdup_printf ("/%s-%u.bin", kind, i);
    content = kith_test_make_content (size, seed);
    kith_test_origin_add (bench->local, path, content, 0);
    *url = kith_test_origin_url (bench->local, path);
    return content;
  }
  path = g_strdup_printf ("%08x-%s-%u.bin", bench->tag, kind, i);
  content = kith_test_make_content (size, seed ^ bench->tag);
  {
    g_autofree gchar *file = g_build_filename (bench_origin_dir, path, NULL);
    if (!g_file_set_contents (file, g_bytes_get_data (content, NULL), size, &error))
      g_error ("%s", error->message);
    g_chmod (file, 0644);
  }
  *url = g_strdup_printf ("%s/%s", bench_origin_url, path);
  return content;
}

/* The sum of the samples of @name in the Prometheus text at @url whose labels contain
 * @labels (NULL: all). */
static gdouble
scrape_metric (SoupSession *session, const gchar *url, const gchar *name, const gchar *labels)
{
  g_autoptr (SoupMessage) msg = soup_message_new ("GET", url);
  g_autoptr (GBytes) body = NULL;
  g_autoptr (GError) error = NULL;
  g_auto (GStrv) lines = NULL;
  gdouble sum = 0;
  gsize name_len = strlen (name);

  body = soup_session_send_and_read (session, msg, NULL, &error);
  if (body == NULL || soup_message_get_status (msg) != SOUP_STATUS_OK)
    g_error ("cannot read %s: %s", url, error != NULL ? error->message : "not 200");
  {
    g_autofree gchar *text = g_strndup (g_bytes_get_data (body, NULL), g_bytes_get_size (body));
    lines = g_strsplit (text, "\n", -1);
  }
  for (guint i = 0; lines[i] != NULL; i++) {
    const gchar *line = lines[i];
    const gchar *space = strrchr (line, ' ');
    if (strncmp (line, name, name_len) != 0 || (line[name_len] != ' ' && line[name_len] != '{') ||
        space == NULL)
      continue;
    if (labels != NULL && (line[name_len] != '{' || strstr (line, labels) == NULL))
      continue;
    sum += g_ascii_strtod (space + 1, NULL);
  }
  return sum;
}

/* Node i's @name (see scrape_metric) into @values[i], for every node of --metrics. */
static void
scrape_all (SoupSession *session, const gchar *name, const gchar *labels, GArray *values)
{
  g_auto (GStrv) urls = g_strsplit (bench_metrics, ",", -1);

  g_array_set_size (values, 0);
  for (guint i = 0; urls[i] != NULL; i++) {
    gdouble v = scrape_metric (session, urls[i], name, labels);
    g_array_append_val (values, v);
  }
}

/* ---- (b) hit discovery latency ---- */

/* Every node but the requester (node 0) fetches @url, all at once. */
static void
bench_hold (Bench *bench, const gchar *url, GBytes *content)
{
  g_autoptr (GPtrArray) fetches = g_ptr_array_new_with_free_func ((GDestroyNotify) fetch_free);

  for (guint n = 1; n < bench->nodes->len; n++)
    g_ptr_array_add (fetches, fetch_start (bench_node (bench, n), url, content));
  for (guint n = 0; n < fetches->len; n++)
    bench_times_free (fetch_wait (g_ptr_array_index (fetches, n)));
}

/* Replies per request and bytes served per holder over the requester's fetches (remote
 * mode, --metrics): every holder's counters before (@replies0, @served0) and after. */
static void
discovery_spread (SoupSession *session, guint count, GArray *replies0, GArray *replies1,
                  GArray *served0, GArray *served1)
{
  gdouble replies = 0, served = 0, most = 0, least = G_MAXDOUBLE, fair;
  guint holders;

  scrape_all (session, "kith_peering_packets_out_total", "type=\"response\"", replies1);
  scrape_all (session, "kith_peering_served_bytes_total", NULL, served1);
  holders = served1->len - 1;
  for (guint i = 1; i < served1->len; i++) { /* node 0 is the requester */
    gdouble bytes = g_array_index (served1, gdouble, i) - g_array_index (served0, gdouble, i);
    replies += g_array_index (replies1, gdouble, i) - g_array_index (replies0, gdouble, i);
    served += bytes;
    most = MAX (most, bytes);
    least = MIN (least, bytes);
    g_print ("  holder %u: %.0f replies, %.0f bytes served\n", i,
             g_array_index (replies1, gdouble, i) - g_array_index (replies0, gdouble, i), bytes);
  }
  fair = served / MAX (holders, 1);
  g_print ("  %u holders, %u requests: line: replies per request, most and least bytes served "
           "by one holder / its fair share\n", holders, count);
  g_print ("bench: replies-per-request %.2f %.2f %.2f\n", replies / count, most / MAX (fair, 1),
           least / MAX (fair, 1));
}

static void
bench_discovery (guint count)
{
  g_autoptr (Bench) bench = bench_new (2);
  Node *requester = bench_node (bench, 0);
  g_autoptr (GArray) found = g_array_new (FALSE, FALSE, sizeof (gdouble));
  g_autoptr (GArray) total = g_array_new (FALSE, FALSE, sizeof (gdouble));
  g_autoptr (GPtrArray) contents = g_ptr_array_new_with_free_func ((GDestroyNotify) g_bytes_unref);
  g_autoptr (GPtrArray) urls = g_ptr_array_new_with_free_func (g_free);
  g_autoptr (SoupSession) session = soup_session_new ();
  g_autoptr (GArray) replies0 = g_array_new (FALSE, FALSE, sizeof (gdouble));
  g_autoptr (GArray) replies1 = g_array_new (FALSE, FALSE, sizeof (gdouble));
  g_autoptr (GArray) served0 = g_array_new (FALSE, FALSE, sizeof (gdouble));
  g_autoptr (GArray) served1 = g_array_new (FALSE, FALSE, sizeof (gdouble));
  guint late = 0, holders;

  for (guint i = 0; i < count; i++) {
    gchar *url = NULL;
    GBytes *content = bench_add_file (bench, "hit", i, 100 + i, 16 * 1024, &url);
    g_ptr_array_add (contents, content);
    g_ptr_array_add (urls, url);
    bench_hold (bench, url, content);
  }
  holders = bench->nodes->len - 1;
  bench_keep_requester_only (bench);
  if (bench_metrics != NULL) {
    scrape_all (session, "kith_peering_packets_out_total", "type=\"response\"", replies0);
    scrape_all (session, "kith_peering_served_bytes_total", NULL, served0);
  }
  for (guint i = 0; i < count; i++) {
    g_autoptr (Fetch) fetch = fetch_start (requester, g_ptr_array_index (urls, i),
                                           g_ptr_array_index (contents, i));
    g_autoptr (BenchTimes) times = fetch_wait (fetch);
    gdouble t_found = ms (times->left_searching_us - fetch->start_us);
    gdouble t_total = ms (times->finished_us - fetch->start_us);
    if (bench->local != NULL &&
        g_strcmp0 (times->source, kith_test_agent_get_node_id (bench_node (bench, 1)->agent)) != 0)
      g_error ("hit %u came from %s, not the holder", i, times->source);
    if (g_strcmp0 (times->source, "origin") == 0 || g_strcmp0 (times->source, "cache") == 0)
      g_error ("hit %u came from the %s, not a holder", i, times->source);
    if (g_strcmp0 (times->first_state, "from-peer") != 0)
      late++; /* coalesced: the first state seen was already the end */
    g_print ("  hit %u: %.1f ms from %s\n", i, t_found, times->source);
    g_array_append_val (found, t_found);
    g_array_append_val (total, t_total);
  }
  g_print ("(b) hit discovery, 16 KiB files held by %u peer(s), %u fetches "
           "(%u where the first state seen was not from-peer)\n", holders, count, late);
  g_print ("bench: discovery-ms %.1f %.1f %.1f\n", median (found), percentile (found, 95),
           percentile (found, 100));
  g_print ("bench: hit-total-ms %.1f %.1f\n", median (total), percentile (total, 95));
  if (bench_metrics != NULL)
    discovery_spread (session, count, replies0, replies1, served0, served1);
}

/* ---- (c) miss penalty ---- */

/* One direct GET of @url; returns its duration in ms. */
static gdouble
direct_get_ms (SoupSession *session, const gchar *url, gsize expected)
{
  g_autoptr (SoupMessage) msg = soup_message_new ("GET", url);
  g_autoptr (GBytes) body = NULL;
  g_autoptr (GError) error = NULL;
  gint64 start = g_get_monotonic_time ();

  body = soup_session_send_and_read (session, msg, NULL, &error);
  if (body == NULL || soup_message_get_status (msg) != SOUP_STATUS_OK ||
      g_bytes_get_size (body) != expected)
    g_error ("direct GET of %s failed: %s", url, error != NULL ? error->message : "bad reply");
  return ms (g_get_monotonic_time () - start);
}

static void
bench_miss (guint count)
{
  g_autoptr (Bench) bench = bench_new (2); /* the requester and a bystander that has nothing */
  Node *requester = bench_node (bench, 0);
  g_autoptr (SoupSession) session = soup_session_new ();
  g_autoptr (GArray) kith = g_array_new (FALSE, FALSE, sizeof (gdouble));
  g_autoptr (GArray) direct = g_array_new (FALSE, FALSE, sizeof (gdouble));
  g_autoptr (GArray) penalty = g_array_new (FALSE, FALSE, sizeof (gdouble));
  g_autoptr (GArray) searching = g_array_new (FALSE, FALSE, sizeof (gdouble));
  g_autoptr (GArray) fetching = g_array_new (FALSE, FALSE, sizeof (gdouble));
  guint others = bench->nodes->len - 1;

  bench_keep_requester_only (bench);
  for (guint i = 0; i < count; i++) {
    g_autofree gchar *url = NULL;
    g_autoptr (GBytes) content = bench_add_file (bench, "miss", i, 200 + i, 16 * 1024, &url);
    g_autoptr (Fetch) fetch = NULL;
    g_autoptr (BenchTimes) times = NULL;
    gdouble t_direct = 0, t_kith, t_searching, diff;

    if (i % 2 == 0) /* alternate the order, so neither side always goes first */
      t_direct = direct_get_ms (session, url, g_bytes_get_size (content));
    fetch = fetch_start (requester, url, content);
    times = fetch_wait (fetch);
    if (g_strcmp0 (times->source, "origin") != 0)
      g_error ("miss %u came from %s", i, times->source);
    if (i % 2 == 1)
      t_direct = direct_get_ms (session, url, g_bytes_get_size (content));
    t_kith = ms (times->finished_us - fetch->start_us);
    t_searching = ms (times->left_searching_us - fetch->start_us);
    diff = t_kith - t_direct;
    g_array_append_val (searching, t_searching);
    t_searching = t_kith - t_searching; /* now: from-origin -> done */
    g_array_append_val (fetching, t_searching);
    g_array_append_val (kith, t_kith);
    g_array_append_val (direct, t_direct);
    g_array_append_val (penalty, diff);
  }
  g_print ("(c) miss, 16 KiB files nobody holds (the requester and %u other node(s)), %u fetches; "
           "line: penalty median p95, kith median, direct median (ms)\n",
           others, count);
  g_print ("bench: miss-ms %.1f %.1f %.1f %.2f\n", median (penalty), percentile (penalty, 95),
           median (kith), median (direct));
  g_print ("  of which searching (Fetch -> from-origin): median %.1f ms, p95 %.1f ms\n",
           median (searching), percentile (searching, 95));
  g_print ("  then origin GET, verify, durable store, copy to the caller (from-origin -> done): "
           "median %.1f ms, p95 %.1f ms\n", median (fetching), percentile (fetching, 95));
}

/* ---- (d) peer HTTP throughput against nginx ---- */

/* One curl GET of @url to /dev/null; returns MB/s (10^6 bytes). */
static gdouble
curl_rate (const gchar *url, gsize expected)
{
  const gchar *argv[] = { "curl", "-s", "-S", "--max-time", "50", "-o", "/dev/null", "-w",
                          "%{http_code} %{size_download} %{time_total}", url, NULL };
  g_autofree gchar *out = NULL;
  g_autofree gchar *err = NULL;
  g_auto (GStrv) words = NULL;
  gdouble seconds;

  if (kith_test_run (argv, NULL, &out, &err) != 0)
    g_error ("curl %s failed: %s", url, err);
  words = g_strsplit (out, " ", 3);
  if (g_strv_length (words) != 3 || g_strcmp0 (words[0], "200") != 0 ||
      g_ascii_strtoull (words[1], NULL, 10) != expected)
    g_error ("curl %s: unexpected answer '%s'", url, out);
  seconds = g_ascii_strtod (words[2], NULL);
  return expected / MAX (seconds, 1e-6) / 1e6;
}

static void
bench_throughput (const gchar *file, const gchar *nginx_url, guint runs)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GMappedFile) mapped = g_mapped_file_new (file, FALSE, &error);
  g_autoptr (KithTestOrigin) origin = kith_test_origin_new ();
  g_autoptr (GBytes) content = NULL;
  g_autoptr (Node) node = NULL;
  g_autoptr (Fetch) fetch = NULL;
  g_autofree gchar *url = NULL;
  g_autofree gchar *sha256 = NULL;
  g_autofree gchar *alias = NULL;
  g_autoptr (GArray) kith = g_array_new (FALSE, FALSE, sizeof (gdouble));
  g_autoptr (GArray) nginx = g_array_new (FALSE, FALSE, sizeof (gdouble));
  g_autoptr (GArray) paired = g_array_new (FALSE, FALSE, sizeof (gdouble));
  gsize size;

  if (mapped == NULL)
    g_error ("%s", error->message);
  content = g_mapped_file_get_bytes (mapped);
  size = g_bytes_get_size (content);
  node = node_start ();
  url = kith_test_origin_url (origin, "/big.bin");
  kith_test_origin_add (origin, "/big.bin", content, 0);
  fetch = fetch_start (node, url, content);
  bench_times_free (fetch_wait (fetch)); /* now in the agent's alias store */
  sha256 = kith_test_sha256 (content);
  alias = g_strdup_printf ("%s/alias/%s", kith_test_agent_get_http_url (node->agent), sha256);
  curl_rate (alias, size); /* warm-up: page cache, connections */
  curl_rate (nginx_url, size);
  for (guint i = 0; i < runs; i++) {
    gdouble k = curl_rate (alias, size);
    gdouble n = curl_rate (nginx_url, size);
    gdouble ratio = k / n; /* neighbours in time share the machine's load */
    g_array_append_val (kith, k);
    g_array_append_val (nginx, n);
    g_array_append_val (paired, ratio);
    g_print ("  run %u: agent %.0f MB/s, nginx %.0f MB/s\n", i + 1, k, n);
  }
  g_print ("(d) %zu-byte file over loopback with curl, median of %u runs each; line: agent "
           "MB/s, nginx MB/s (10^6 B/s), ratio of the medians, median of the paired ratios\n",
           size, runs);
  g_print ("bench: throughput-mbps %.0f %.0f %.2f %.2f\n", median (kith), median (nginx),
           median (kith) / median (nginx), median (paired));
}

/* ---- idle cost of one agent ---- */

/* The pid of the agent process started with @config_path, or 0. */
static GPid
find_agent_pid (const gchar *config_path)
{
  g_autoptr (GDir) proc = g_dir_open ("/proc", 0, NULL);
  const gchar *name;

  while (proc != NULL && (name = g_dir_read_name (proc)) != NULL) {
    g_autofree gchar *path = g_build_filename ("/proc", name, "cmdline", NULL);
    g_autofree gchar *cmdline = NULL;
    gsize len = 0;
    guint64 pid;
    if (!g_ascii_string_to_unsigned (name, 10, 1, G_MAXINT, &pid, NULL) ||
        !g_file_get_contents (path, &cmdline, &len, NULL))
      continue;
    for (gsize i = 0; i + 1 < len; i++) {
      if (cmdline[i] == '\0')
        cmdline[i] = ' ';
    }
    if (len > 0 && g_str_has_suffix (cmdline, config_path))
      return (GPid) pid;
  }
  return 0;
}

/* utime + stime in clock ticks, and VmRSS in kB, from /proc/PID. */
static void
read_proc (GPid pid, guint64 *ticks, guint64 *rss_kb)
{
  g_autofree gchar *stat_path = g_strdup_printf ("/proc/%d/stat", pid);
  g_autofree gchar *status_path = g_strdup_printf ("/proc/%d/status", pid);
  g_autofree gchar *stat = NULL;
  g_autofree gchar *status = NULL;
  g_auto (GStrv) fields = NULL;
  const gchar *rss;

  if (!g_file_get_contents (stat_path, &stat, NULL, NULL) ||
      !g_file_get_contents (status_path, &status, NULL, NULL) || strrchr (stat, ')') == NULL)
    g_error ("cannot read /proc/%d", pid);
  /* after "(comm)": state is field 3, utime 14 and stime 15 */
  fields = g_strsplit (strrchr (stat, ')') + 2, " ", -1);
  if (g_strv_length (fields) < 13)
    g_error ("short /proc/%d/stat", pid);
  *ticks = g_ascii_strtoull (fields[11], NULL, 10) + g_ascii_strtoull (fields[12], NULL, 10);
  rss = strstr (status, "VmRSS:");
  *rss_kb = rss != NULL ? g_ascii_strtoull (rss + 6, NULL, 10) : 0;
}

static void
bench_idle (guint seconds)
{
  g_autoptr (Node) node = node_start ();
  GPid pid = find_agent_pid (kith_test_agent_get_config_path (node->agent));
  guint64 ticks0, ticks1, rss0, rss1;
  gdouble cpu;

  if (pid == 0)
    g_error ("cannot find the agent's pid");
  read_proc (pid, &ticks0, &rss0);
  g_usleep ((gulong) seconds * G_USEC_PER_SEC); /* the measurement is the idle interval */
  read_proc (pid, &ticks1, &rss1);
  cpu = 100.0 * (ticks1 - ticks0) / sysconf (_SC_CLK_TCK) / seconds;
  g_print ("(idle) one agent with the peering plugin, %u s: RSS %" G_GUINT64_FORMAT " kB -> %"
           G_GUINT64_FORMAT " kB, CPU %.2f %%\n", seconds, rss0, rss1, cpu);
  g_print ("bench: idle %" G_GUINT64_FORMAT " %.2f\n", rss1, cpu);
}

/* ---- main ---- */

static guint
arg_uint (gchar **argv, guint i, guint fallback)
{
  guint64 value = 0;
  if (argv[i] == NULL || !g_ascii_string_to_unsigned (argv[i], 10, 1, 100000, &value, NULL))
    return fallback;
  return value;
}

int
main (int argc, char **argv)
{
  const GOptionEntry entries[] = {
    { "set", 's', 0, G_OPTION_ARG_STRING_ARRAY, &bench_settings, "KEY=VALUE for [peering]", "KEY=VALUE" },
    { "agents", 0, 0, G_OPTION_ARG_STRING, &bench_agents, "Running agents (remote mode), the requester first", "ADDR,ADDR…" },
    { "origin-dir", 0, 0, G_OPTION_ARG_FILENAME, &bench_origin_dir, "Remote mode: the directory the origin serves", "DIR" },
    { "origin-url", 0, 0, G_OPTION_ARG_STRING, &bench_origin_url, "Remote mode: the URL it serves DIR at", "URL" },
    { "metrics", 0, 0, G_OPTION_ARG_STRING, &bench_metrics, "Remote mode: the agents' /metrics URLs, in --agents order", "URL,URL…" },
    { NULL, 0, 0, 0, NULL, NULL, NULL },
  };
  g_autoptr (GOptionContext) context = g_option_context_new ("SCENARIO [ARGS] — peering benchmarks");
  g_autoptr (GError) error = NULL;
  const gchar *scenario;

  g_option_context_add_main_entries (context, entries, NULL);
  if (!g_option_context_parse (context, &argc, &argv, &error) || argc < 2) {
    g_printerr ("%s\n", error != NULL ? error->message : "which scenario? origin, discovery, "
                                                         "miss, throughput FILE URL, idle");
    return 2;
  }
  g_setenv ("KITH_AGENT_BIN", KITH_BENCH_AGENT_BIN, FALSE);
  g_setenv ("KITH_TEST_PLUGIN_DIRS", KITH_BENCH_PLUGIN_DIRS, FALSE);
  bench_port = g_random_int_range (20000, 60000);
  bench_dir = g_dir_make_tmp ("kith-bench-XXXXXX", &error);
  if (bench_dir == NULL)
    g_error ("%s", error->message);
  scenario = argv[1];
  if (g_strcmp0 (scenario, "origin") == 0)
    bench_origin ();
  else if (g_strcmp0 (scenario, "discovery") == 0)
    bench_discovery (arg_uint (argv, 2, 30));
  else if (g_strcmp0 (scenario, "miss") == 0)
    bench_miss (arg_uint (argv, 2, 30));
  else if (g_strcmp0 (scenario, "throughput") == 0 && argc >= 4)
    bench_throughput (argv[2], argv[3], arg_uint (argv, 4, 5));
  else if (g_strcmp0 (scenario, "idle") == 0)
    bench_idle (arg_uint (argv, 2, 10));
  else {
    g_printerr ("unknown scenario '%s'\n", scenario);
    return 2;
  }
  g_rmdir (bench_dir);
  g_free (bench_dir);
  g_strfreev (bench_settings);
  return 0;
}
