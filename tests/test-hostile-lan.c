/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* test-hostile-lan.c — real agents against an attacker on the same LAN
 * (tests/kith-hostile-peer.c, its own process): poisoned copies, SSRF and file:// aliases,
 * endless bodies. Each case ends with the origin's bytes, or a clear refusal. */
#include "kith-dbus-generated.h"
#include "kith-test-agent.h"
#include "kith-test-backend.h"
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

/* An agent running @plugins with @agent_extra in [agent] and @extra in [peering]. */
static Node *
node_start_full (const gchar *plugins, const gchar *agent_extra, const gchar *extra)
{
  g_autofree gchar *config = g_strdup_printf ("%s\n[peering]\nport=%u\nlisten=127.255.255.255\n"
                                              "send-address=127.0.0.1\nbroadcast=127.255.255.255\n%s\n",
                                              agent_extra != NULL ? agent_extra : "", test_port,
                                              extra != NULL ? extra : "");
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
  return node_start_full ("peering", NULL, extra);
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

/* GET @path on @node's HTTP server; returns the status. */
static guint
http_status (Node *node, const gchar *path)
{
  g_autoptr (SoupSession) session = soup_session_new ();
  g_autofree gchar *url = g_strconcat (kith_test_agent_get_http_url (node->agent), path, NULL);
  g_autoptr (SoupMessage) msg = soup_message_new ("GET", url);
  g_autoptr (GBytes) body G_GNUC_UNUSED = soup_session_send_and_read (session, msg, NULL, NULL);

  return soup_message_get_status (msg);
}

/* The victim keeps neither the attacker's bytes nor serves them; @content is what it holds. */
static void
assert_not_poisoned (Node *node, Hostile *hostile, GBytes *content)
{
  g_autofree gchar *poison = g_strdup_printf ("/alias/%s", hostile->sha256);
  g_autofree gchar *sha = kith_test_sha256 (content);
  g_autofree gchar *good = g_strdup_printf ("/alias/%s", sha);

  ck_assert_uint_eq (http_status (node, poison), 404);
  ck_assert_uint_eq (peering_status (node, "cache-bytes"), g_bytes_get_size (content));
  /* its own copy came from the origin and no peer vouched for it: it keeps it, serves it
   * to peers that hold the hash */
  ck_assert_uint_eq (http_status (node, good), 200);
}

/* `kith fetch URL` with no hash, the origin stating none, while an attacker answers "I have"
 * first with its own alias and the sha256 of its own bytes: the victim takes the origin's
 * bytes, and so does the next node, which asks the LAN after it. */
START_TEST (test_poisoned_answer_without_hash)
{
  g_autoptr (KithTestOrigin) origin = kith_test_origin_new ();
  g_autoptr (GBytes) content = kith_test_make_content (64 * 1024, 31);
  g_autofree gchar *url = kith_test_origin_url (origin, "/p.cab");
  g_autofree gchar *second = NULL;
  g_autoptr (Node) victim = node_start (NULL);
  g_autoptr (Node) next = node_start (NULL);
  Hostile *hostile;

  kith_test_origin_set_digest (origin, FALSE);
  kith_test_origin_add (origin, "/p.cab", content, 0);
  hostile = hostile_spawn ("have", "65536", NULL);
  /* the victim's user runs `kith fetch URL -o FILE`, no --sha256 */
  {
    g_autofree gchar *dest = g_build_filename (kith_test_agent_get_dir (victim->agent), "p.cab", NULL);
    g_autofree gchar *out = NULL;
    g_autofree gchar *err = NULL;
    g_autofree gchar *data = NULL;
    gsize len = 0;
    const gchar *argv[] = { g_getenv ("KITH_CLI_BIN"), "--address", kith_test_agent_get_dbus_address (victim->agent),
                            "--json", "fetch", url, "-o", dest, NULL };
    gint rc = kith_test_run (argv, NULL, &out, &err);

    ck_assert_msg (rc == 0, "kith fetch: rc %d: %s", rc, err);
    ck_assert_msg (strstr (out, "\"source\" : \"origin\"") != NULL || strstr (out, "\"source\":\"origin\"") != NULL,
                   "not from the origin: %s", out);
    ck_assert (g_file_get_contents (dest, &data, &len, NULL));
    ck_assert_uint_eq (len, g_bytes_get_size (content));
    ck_assert_msg (memcmp (data, g_bytes_get_data (content, NULL), len) == 0, "not the origin's bytes");
  }
  second = fetch_sync (next, url, NULL, content);
  ck_assert_str_eq (second, "origin");
  assert_not_poisoned (victim, hostile, content);
  assert_not_poisoned (next, hostile, content);
  hostile_stop (hostile);
}
END_TEST

/* The same with the origin stating its digest: the hash is trusted, the poison refused
 * before a byte is read, and the second node takes the victim's copy. */
START_TEST (test_poisoned_answer_origin_digest)
{
  g_autoptr (KithTestOrigin) origin = kith_test_origin_new ();
  g_autoptr (GBytes) content = kith_test_make_content (64 * 1024, 32);
  g_autofree gchar *url = kith_test_origin_url (origin, "/q.cab");
  g_autofree gchar *first = NULL;
  g_autofree gchar *second = NULL;
  g_autoptr (Node) victim = node_start (NULL);
  g_autoptr (Node) next = node_start (NULL);
  Hostile *hostile;

  kith_test_origin_add (origin, "/q.cab", content, 0);
  hostile = hostile_spawn ("have", "65536", NULL);
  first = fetch_sync (victim, url, NULL, content);
  ck_assert_str_eq (first, "origin");
  second = fetch_sync (next, url, NULL, content);
  ck_assert_str_eq (second, kith_test_agent_get_node_id (victim->agent));
  ck_assert_uint_eq (kith_test_origin_get_requests (origin, "/q.cab"), 1);
  assert_not_poisoned (victim, hostile, content);
  assert_not_poisoned (next, hostile, content);
  ck_assert_uint_eq (hostile_stop (hostile), 0); /* nobody fetched its bytes */
}
END_TEST

/* A bare "complete" (no request id) broadcast every 50 ms for the URL, naming the
 * attacker's copy. */
START_TEST (test_bare_complete_poison)
{
  g_autoptr (KithTestOrigin) origin = kith_test_origin_new ();
  g_autoptr (GBytes) content = kith_test_make_content (64 * 1024, 33);
  g_autofree gchar *url = kith_test_origin_url (origin, "/c.cab");
  g_autofree gchar *source = NULL;
  g_autoptr (Node) victim = node_start (NULL);
  Hostile *hostile;

  kith_test_origin_set_digest (origin, FALSE);
  kith_test_origin_add (origin, "/c.cab", content, 0);
  hostile = hostile_spawn ("complete", url, NULL);
  source = fetch_sync (victim, url, NULL, content);
  ck_assert_str_eq (source, "origin");
  assert_not_poisoned (victim, hostile, content);
  ck_assert_uint_eq (hostile_stop (hostile), 0);
}
END_TEST

/* A boot storm: three nodes miss the same URL at once while the attacker broadcasts its
 * "complete": no node takes the poison. */
START_TEST (test_boot_storm_with_poisoner)
{
  g_autoptr (KithTestOrigin) origin = kith_test_origin_new ();
  g_autoptr (GBytes) content = kith_test_make_content (200 * 1024, 34);
  g_autofree gchar *url = kith_test_origin_url (origin, "/storm.cab");
  Node *nodes[3];
  Fetch *fetches[3];
  Hostile *hostile;

  kith_test_origin_set_digest (origin, FALSE);
  kith_test_origin_add (origin, "/storm.cab", content, 0);
  hostile = hostile_spawn ("complete", url, NULL);
  for (guint i = 0; i < G_N_ELEMENTS (nodes); i++)
    nodes[i] = node_start (NULL);
  for (guint i = 0; i < G_N_ELEMENTS (nodes); i++)
    fetches[i] = fetch_start (nodes[i], url, NULL, 0);
  for (guint i = 0; i < G_N_ELEMENTS (nodes); i++) {
    ck_assert_str_ne (fetch_wait_done (fetches[i], content), "0000000000000000000000000000beef");
    assert_not_poisoned (nodes[i], hostile, content);
  }
  ck_assert_uint_ge (kith_test_origin_get_requests (origin, "/storm.cab"), 1);
  ck_assert_uint_eq (hostile_stop (hostile), 0);
  for (guint i = 0; i < G_N_ELEMENTS (nodes); i++) {
    fetch_free (fetches[i]);
    node_free (nodes[i]);
  }
}
END_TEST

static gboolean
log_says_enrolled (gpointer user_data)
{
  g_autofree gchar *log = kith_test_agent_get_log (((Node *) user_data)->agent);
  return strstr (log, "enrolled: node certificate") != NULL;
}

/* A node enrolled with the vendor backend (certificate from kith-backend) vouches for the
 * copy it fetched from the origin: another node takes it with no hash at all, while the
 * attacker's unproven answer is left out. */
START_TEST (test_enrolled_peer_accepted_without_hash)
{
  g_autoptr (KithTestBackend) backend = kith_test_backend_new ();
  g_autoptr (KithTestOrigin) origin = kith_test_origin_new ();
  g_autoptr (GBytes) content = kith_test_make_content (64 * 1024, 35);
  g_autofree gchar *url = kith_test_origin_url (origin, "/e.cab");
  g_autofree gchar *token_path = NULL;
  g_autofree gchar *token = NULL;
  g_autofree gchar *enrolled_conf = NULL;
  g_autofree gchar *plain_conf = NULL;
  g_autofree gchar *first = NULL;
  g_autofree gchar *second = NULL;
  g_autoptr (Node) holder = NULL;
  g_autoptr (Node) asker = NULL;
  Hostile *hostile;

  kith_test_backend_serve (backend, NULL);
  token_path = g_build_filename (kith_test_backend_get_dir (backend), "enrollment-token", NULL);
  ck_assert (g_file_get_contents (token_path, &token, NULL, NULL));
  g_strstrip (token);
  enrolled_conf = g_strdup_printf ("backend-url=%s\ntrust-anchor=%s\nenrollment-token=%s\n",
                                   kith_test_backend_get_url (backend), kith_test_backend_get_ca (backend), token);
  plain_conf = g_strdup_printf ("trust-anchor=%s\n", kith_test_backend_get_ca (backend));
  kith_test_origin_set_digest (origin, FALSE);
  kith_test_origin_add (origin, "/e.cab", content, 0);
  holder = node_start_full ("peering;upload", enrolled_conf, NULL);
  asker = node_start_full ("peering", plain_conf, NULL);
  ck_assert_msg (kith_test_wait_until (log_says_enrolled, holder, 20000), "the holder did not enroll");
  first = fetch_sync (holder, url, NULL, content);
  ck_assert_str_eq (first, "origin");
  hostile = hostile_spawn ("have", "65536", NULL);
  second = fetch_sync (asker, url, NULL, content);
  ck_assert_str_eq (second, kith_test_agent_get_node_id (holder->agent));
  ck_assert_uint_eq (kith_test_origin_get_requests (origin, "/e.cab"), 1);
  assert_not_poisoned (asker, hostile, content);
  hostile_stop (hostile);
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
  tcase_add_test (tc, test_poisoned_answer_without_hash);
  tcase_add_test (tc, test_poisoned_answer_origin_digest);
  tcase_add_test (tc, test_bare_complete_poison);
  tcase_add_test (tc, test_boot_storm_with_poisoner);
  tcase_add_test (tc, test_enrolled_peer_accepted_without_hash);
  suite_add_tcase (suite, tc);
  return suite;
}

int
main (void)
{
  test_port = g_random_int_range (20000, 60000);
  return kith_test_run_suite (hostile_suite ());
}
