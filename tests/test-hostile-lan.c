/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* test-hostile-lan.c — real agents against an attacker on the same LAN
 * (tests/kith-hostile-peer.c, its own process): poisoned copies, SSRF and file:// aliases,
 * endless bodies. Each case ends with the origin's bytes, or a clear refusal. */
#include "kith-dbus-generated.h"
#include "kith-test-agent.h"
#include "kith-test-origin.h"

#include <check.h>
#include <gio/gunixfdlist.h>
#include <glib/gstdio.h>
#include <libsoup/soup.h>
#include <string.h>
#include <unistd.h>

#include "kith-test-suite.h"

static guint16 test_port;

typedef struct {
  KithTestAgent *agent;
  GDBusConnection *connection;
} Node;

static Node *
node_start_with (const gchar *plugins, const gchar *extra)
{
  g_autofree gchar *config = g_strdup_printf ("[peering]\nport=%u\nlisten=127.255.255.255\n"
                                              "send-address=127.0.0.1\nbroadcast=127.255.255.255\n%s\n",
                                              test_port, extra != NULL ? extra : "");
  g_autoptr (GError) error = NULL;
  Node *node = g_new0 (Node, 1);

  node->agent = kith_test_agent_new (plugins, config);
  ck_assert_msg (kith_test_agent_start (node->agent, &error), "%s", error ? error->message : "");
  node->connection = kith_test_agent_connect (node->agent, &error);
  g_assert_no_error (error);
  return node;
}

static Node *
node_start (const gchar *extra)
{
  return node_start_with ("peering", extra);
}

static void
node_free (Node *node)
{
  g_clear_object (&node->connection);
  ck_assert_int_eq (kith_test_agent_stop (node->agent), 0);
  kith_test_agent_free (node->agent);
  g_free (node);
}
G_DEFINE_AUTOPTR_CLEANUP_FUNC (Node, node_free)

typedef struct {
  KithDbusTransfer1 *proxy;
  gchar *dest;
  guint64 max_done; /* the most BytesDone ever seen: what was written */
} Fetch;

static void
fetch_free (Fetch *fetch)
{
  g_clear_object (&fetch->proxy);
  g_unlink (fetch->dest);
  g_free (fetch->dest);
  g_free (fetch);
}
G_DEFINE_AUTOPTR_CLEANUP_FUNC (Fetch, fetch_free)

static void
fetch_notify (GObject *proxy, GParamSpec *pspec, Fetch *fetch)
{
  fetch->max_done = MAX (fetch->max_done, kith_dbus_transfer1_get_bytes_done (KITH_DBUS_TRANSFER1 (proxy)));
}

/* Asks @node for @url over D-Bus (sha256 and size when given), into a fresh file. */
static Fetch *
fetch_start (Node *node, const gchar *url, const gchar *sha256, guint64 size)
{
  Fetch *fetch = g_new0 (Fetch, 1);
  g_autoptr (GError) error = NULL;
  g_autoptr (GUnixFDList) fds = g_unix_fd_list_new ();
  g_autoptr (GVariant) reply = NULL;
  GVariantDict options;
  const gchar *path = NULL;
  gint fd;

  fetch->dest = g_build_filename (kith_test_agent_get_dir (node->agent), "fetched-XXXXXX", NULL);
  fd = g_mkstemp (fetch->dest);
  ck_assert_int_ge (fd, 0);
  g_unix_fd_list_append (fds, fd, &error);
  close (fd);
  g_variant_dict_init (&options, NULL);
  if (sha256 != NULL)
    g_variant_dict_insert (&options, "sha256", "s", sha256);
  if (size > 0)
    g_variant_dict_insert (&options, "size", "t", size);
  reply = g_dbus_connection_call_with_unix_fd_list_sync (
      node->connection, NULL, "/org/kith/Agent1/Peering", "org.kith.Peering1", "Fetch",
      g_variant_new ("(sh@a{sv})", url, 0, g_variant_dict_end (&options)), G_VARIANT_TYPE ("(o)"),
      G_DBUS_CALL_FLAGS_NONE, -1, fds, NULL, NULL, &error);
  g_assert_no_error (error);
  g_variant_get (reply, "(&o)", &path);
  fetch->proxy = kith_dbus_transfer1_proxy_new_sync (node->connection, G_DBUS_PROXY_FLAGS_NONE, NULL, path, NULL,
                                                     &error);
  g_assert_no_error (error);
  g_signal_connect (fetch->proxy, "notify", G_CALLBACK (fetch_notify), fetch);
  return fetch;
}

static gboolean
fetch_is_finished (gpointer user_data)
{
  Fetch *fetch = user_data;
  const gchar *state = kith_dbus_transfer1_get_state (fetch->proxy);
  return g_strcmp0 (state, "done") == 0 || g_strcmp0 (state, "failed") == 0;
}

/* Waits for the end and checks the file holds @content; returns the transfer's Source. */
static const gchar *
fetch_wait_done (Fetch *fetch, GBytes *content)
{
  g_autofree gchar *data = NULL;
  gsize len = 0;

  ck_assert_msg (kith_test_wait_until (fetch_is_finished, fetch, 30000), "transfer did not end");
  ck_assert_msg (g_strcmp0 (kith_dbus_transfer1_get_state (fetch->proxy), "done") == 0, "transfer failed: %s",
                 kith_dbus_transfer1_get_error (fetch->proxy));
  g_assert_true (g_file_get_contents (fetch->dest, &data, &len, NULL));
  ck_assert_uint_eq (len, g_bytes_get_size (content));
  ck_assert_msg (memcmp (data, g_bytes_get_data (content, NULL), len) == 0, "not the origin's bytes");
  return kith_dbus_transfer1_get_source (fetch->proxy);
}

static gchar *
fetch_sync (Node *node, const gchar *url, const gchar *sha256, GBytes *content)
{
  g_autoptr (Fetch) fetch = fetch_start (node, url, sha256, 0);
  return g_strdup (fetch_wait_done (fetch, content));
}

static guint64
peering_status (Node *node, const gchar *key)
{
  g_autoptr (GVariant) section = kith_test_get_status_section (node->connection, "peering");
  guint64 value = 0;

  ck_assert_msg (g_variant_lookup (section, key, "t", &value), "no %s in status", key);
  return value;
}

/* One series of an a{sd} map of the peering status; all series summed with @labels NULL. */
static gdouble
peering_counter (Node *node, const gchar *map, const gchar *labels)
{
  g_autoptr (GVariant) section = kith_test_get_status_section (node->connection, "peering");
  g_autoptr (GVariant) series = g_variant_lookup_value (section, map, G_VARIANT_TYPE ("a{sd}"));
  gdouble value = 0, v;
  GVariantIter iter;

  if (series == NULL)
    return 0;
  if (labels != NULL) {
    g_variant_lookup (series, labels, "d", &value);
    return value;
  }
  g_variant_iter_init (&iter, series);
  while (g_variant_iter_next (&iter, "{&sd}", NULL, &v))
    value += v;
  return value;
}


/* ---- the attacker ---- */

typedef struct {
  GSubprocess *process;
  GDataInputStream *out;
  gchar *alias_base;
  gchar *sha256; /* of what it serves (or claims) */
} Hostile;

static Hostile *
hostile_spawn (const gchar *mode, const gchar *arg, const gchar *arg2)
{
  g_autofree gchar *port = g_strdup_printf ("%u", test_port);
  g_autoptr (GError) error = NULL;
  g_autofree gchar *line = NULL;
  g_auto (GStrv) words = NULL;
  Hostile *hostile = g_new0 (Hostile, 1);

  hostile->process = g_subprocess_new (G_SUBPROCESS_FLAGS_STDIN_PIPE | G_SUBPROCESS_FLAGS_STDOUT_PIPE, &error,
                                       g_getenv ("KITH_HOSTILE_PEER"), port, mode, arg, arg2, NULL);
  g_assert_no_error (error);
  hostile->out = g_data_input_stream_new (g_subprocess_get_stdout_pipe (hostile->process));
  line = g_data_input_stream_read_line_utf8 (hostile->out, NULL, NULL, &error);
  ck_assert_ptr_nonnull (line);
  words = g_strsplit (line, " ", 3);
  ck_assert_str_eq (words[0], "ready");
  hostile->alias_base = g_strdup (words[1]);
  hostile->sha256 = g_strdup (words[2]);
  return hostile;
}

/* Stops it; returns the most body bytes it wrote on one connection. */
static guint64
hostile_stop (Hostile *hostile)
{
  g_autoptr (GError) error = NULL;
  guint64 sent = 0;
  gchar *line;

  g_output_stream_close (g_subprocess_get_stdin_pipe (hostile->process), NULL, NULL);
  while ((line = g_data_input_stream_read_line_utf8 (hostile->out, NULL, NULL, NULL)) != NULL) {
    if (g_str_has_prefix (line, "sent "))
      sent = MAX (sent, g_ascii_strtoull (line + 5, NULL, 10));
    g_free (line);
  }
  ck_assert (g_subprocess_wait_check (hostile->process, NULL, &error));
  g_object_unref (hostile->out);
  g_object_unref (hostile->process);
  g_free (hostile->alias_base);
  g_free (hostile->sha256);
  g_free (hostile);
  return sent;
}

/* ---- the cases ---- */

/* The alias points at an internal URL of another host: it is never fetched. */
START_TEST (test_ssrf_alias)
{
  g_autoptr (KithTestOrigin) origin = kith_test_origin_new ();
  g_autoptr (KithTestOrigin) internal = kith_test_origin_new ();
  g_autoptr (GBytes) content = kith_test_make_content (40 * 1024, 21);
  g_autoptr (GBytes) secret = kith_test_make_content (1000, 22);
  g_autofree gchar *url = kith_test_origin_url (origin, "/f.cab");
  g_autofree gchar *target = kith_test_origin_url (internal, "/secret");
  g_autofree gchar *source = NULL;
  g_autoptr (Node) victim = node_start (NULL);
  Hostile *hostile;

  kith_test_origin_add (origin, "/f.cab", content, 0);
  kith_test_origin_add (internal, "/secret", secret, 0);
  hostile = hostile_spawn ("alias", target, NULL);
  source = fetch_sync (victim, url, NULL, content);
  ck_assert_str_eq (source, "origin");
  ck_assert_uint_eq (kith_test_origin_get_requests (internal, "/secret"), 0);
  ck_assert (peering_counter (victim, "aliases-dropped", "reason=\"path\"") >= 1);
  hostile_stop (hostile);
}
END_TEST

/* A file:// alias is refused before the HTTP library sees it (no CRITICAL: the agents
 * run with G_DEBUG=fatal-criticals, so one would kill the victim). */
START_TEST (test_file_alias)
{
  g_autoptr (KithTestOrigin) origin = kith_test_origin_new ();
  g_autoptr (GBytes) content = kith_test_make_content (40 * 1024, 23);
  g_autofree gchar *url = kith_test_origin_url (origin, "/g.cab");
  g_autofree gchar *sha = kith_test_sha256 (content);
  g_autofree gchar *source = NULL;
  g_autofree gchar *log = NULL;
  g_autoptr (Node) victim = node_start (NULL);
  Hostile *hostile;

  kith_test_origin_add (origin, "/g.cab", content, 0);
  hostile = hostile_spawn ("alias", "file:///etc/passwd", NULL);
  /* with the expected hash too: the alias is refused whatever the hash */
  source = fetch_sync (victim, url, sha, content);
  ck_assert_str_eq (source, "origin");
  ck_assert (peering_counter (victim, "aliases-dropped", "reason=\"scheme\"") >= 1);
  ck_assert_uint_eq (peering_status (victim, "bad-peers"), 0);
  log = kith_test_agent_get_log (victim->agent);
  ck_assert_msg (strstr (log, "CRITICAL") == NULL, "%s", log);
  hostile_stop (hostile);
}
END_TEST

/* A peer promises 50,000 bytes (with the right hash) and streams 300 MB: the download stops
 * at the promise; the fetch ends with the origin's bytes. */
START_TEST (test_stream_cut_at_promised_size)
{
  g_autoptr (KithTestOrigin) origin = kith_test_origin_new ();
  g_autoptr (GBytes) content = kith_test_make_content (50000, 24);
  g_autofree gchar *url = kith_test_origin_url (origin, "/h.cab");
  g_autofree gchar *sha = kith_test_sha256 (content);
  g_autoptr (Node) victim = node_start (NULL);
  g_autoptr (Fetch) fetch = NULL;
  Hostile *hostile;
  guint64 sent;

  kith_test_origin_add (origin, "/h.cab", content, 0);
  hostile = hostile_spawn ("stream", "50000", sha);
  fetch = fetch_start (victim, url, sha, 50000);
  ck_assert_str_eq (fetch_wait_done (fetch, content), "origin");
  ck_assert_uint_le (fetch->max_done, 50000);
  ck_assert_uint_eq (peering_status (victim, "bad-peers"), 1);
  ck_assert_uint_eq (peering_status (victim, "cache-bytes"), 50000);
  sent = hostile_stop (hostile);
  /* what it got out before we hung up: the promise plus what socket buffers hold */
  ck_assert_uint_lt (sent, 64ull * 1024 * 1024);
}
END_TEST

static Suite *
hostile_suite (void)
{
  Suite *suite = suite_create ("hostile-lan");
  TCase *tc = tcase_create ("hostile-lan");

  tcase_set_timeout (tc, 120);
  tcase_add_test (tc, test_ssrf_alias);
  tcase_add_test (tc, test_file_alias);
  tcase_add_test (tc, test_stream_cut_at_promised_size);
  suite_add_tcase (suite, tc);
  return suite;
}

int
main (void)
{
  test_port = g_random_int_range (20000, 60000);
  return kith_test_run_suite (hostile_suite ());
}
