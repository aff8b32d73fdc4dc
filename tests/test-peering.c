/* test-peering.c — the peering service across real agent processes on loopback:
 * one origin download per URL, "I found" cancels other holders, waiting for a
 * peer's download, boot storms, bad peers, restarts, garbage, ranges, eviction */
#include "kith-dbus-generated.h"
#include "kith-test-agent.h"
#include "kith-test-origin.h"

#include <check.h>
#include <fcntl.h>
#include <gio/gunixfdlist.h>
#include <glib/gstdio.h>
#include <libsoup/soup.h>
#include <string.h>

static guint16 test_port;

typedef struct {
  KithTestAgent *agent;
  GDBusConnection *connection;
} Node;

/* [peering] for loopback: listeners on lo's broadcast address, senders on 127.0.0.1. */
static gchar *
peering_config (const gchar *extra)
{
  return g_strdup_printf ("[peering]\n"
                          "port=%u\n"
                          "listen=127.255.255.255\n"
                          "send-address=127.0.0.1\n"
                          "broadcast=127.255.255.255\n"
                          "%s\n",
                          test_port, extra != NULL ? extra : "");
}

static Node *
node_start (const gchar *extra)
{
  g_autofree gchar *config = peering_config (extra);
  g_autoptr(GError) error = NULL;
  Node *node = g_new0 (Node, 1);

  node->agent = kith_test_agent_new ("peering", config);
  ck_assert_msg (kith_test_agent_start (node->agent, &error), "%s", error ? error->message : "");
  node->connection = kith_test_agent_connect (node->agent, &error);
  g_assert_no_error (error);
  return node;
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

/* Asks @node's agent for @url over D-Bus, into a fresh file of ours. */
static Fetch *
fetch_start (Node *node, const gchar *url, const gchar *sha256, gboolean cached_only)
{
  Fetch *fetch = g_new0 (Fetch, 1);
  g_autoptr(GError) error = NULL;
  g_autoptr(GUnixFDList) fds = g_unix_fd_list_new ();
  g_autoptr(GVariant) reply = NULL;
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
  if (cached_only)
    g_variant_dict_insert (&options, "cached-only", "b", TRUE);
  reply = g_dbus_connection_call_with_unix_fd_list_sync (
      node->connection, NULL, "/org/kith/Agent1/Peering", "org.kith.Peering1", "Fetch",
      g_variant_new ("(sh@a{sv})", url, 0, g_variant_dict_end (&options)), G_VARIANT_TYPE ("(o)"),
      G_DBUS_CALL_FLAGS_NONE, -1, fds, NULL, NULL, &error);
  g_assert_no_error (error);
  g_variant_get (reply, "(&o)", &path);
  fetch->proxy = kith_dbus_transfer1_proxy_new_sync (node->connection, G_DBUS_PROXY_FLAGS_NONE, NULL,
                                                     path, NULL, &error);
  g_assert_no_error (error);
  return fetch;
}

static gboolean
fetch_is_finished (gpointer user_data)
{
  Fetch *fetch = user_data;
  const gchar *state = kith_dbus_transfer1_get_state (fetch->proxy);
  return g_strcmp0 (state, "done") == 0 || g_strcmp0 (state, "failed") == 0;
}

/* Waits for the transfer to end and checks it delivered @content; returns its Source. */
static const gchar *
fetch_wait_done (Fetch *fetch, GBytes *content)
{
  g_autofree gchar *data = NULL;
  gsize len = 0;

  ck_assert_msg (kith_test_wait_until (fetch_is_finished, fetch, 30000), "transfer did not end");
  ck_assert_msg (g_strcmp0 (kith_dbus_transfer1_get_state (fetch->proxy), "done") == 0,
                 "transfer failed: %s", kith_dbus_transfer1_get_error (fetch->proxy));
  g_assert_true (g_file_get_contents (fetch->dest, &data, &len, NULL));
  ck_assert_uint_eq (len, g_bytes_get_size (content));
  ck_assert (memcmp (data, g_bytes_get_data (content, NULL), len) == 0);
  return kith_dbus_transfer1_get_source (fetch->proxy);
}

/* One fetch from start to end; returns the source (owned by the caller). */
static gchar *
fetch_sync (Node *node, const gchar *url, GBytes *content)
{
  g_autoptr(Fetch) fetch = fetch_start (node, url, NULL, FALSE);
  return g_strdup (fetch_wait_done (fetch, content));
}

/* A number from the peering section of GetStatus. */
static guint64
peering_status (Node *node, const gchar *key)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GVariant) reply = g_dbus_connection_call_sync (node->connection, NULL, "/org/kith/Agent1",
                                                           "org.kith.Agent1", "GetStatus", NULL,
                                                           G_VARIANT_TYPE ("(a{sv})"),
                                                           G_DBUS_CALL_FLAGS_NONE, -1, NULL, &error);
  g_autoptr(GVariant) dict = NULL;
  g_autoptr(GVariant) section = NULL;
  guint64 value = 0;

  g_assert_no_error (error);
  dict = g_variant_get_child_value (reply, 0);
  section = g_variant_lookup_value (dict, "peering", G_VARIANT_TYPE_VARDICT);
  ck_assert_ptr_nonnull (section);
  ck_assert_msg (g_variant_lookup (section, key, "t", &value), "no %s in status", key);
  return value;
}

START_TEST (test_origin_once_then_peers)
{
  g_autoptr(KithTestOrigin) origin = kith_test_origin_new ();
  g_autoptr(GBytes) content = kith_test_make_content (300 * 1024, 1);
  g_autofree gchar *url = kith_test_origin_url (origin, "/dat/avdat-1.cab");
  g_autoptr(Node) a = node_start (NULL);
  g_autoptr(Node) b = node_start (NULL);
  g_autoptr(Node) c = node_start (NULL);
  g_autofree gchar *source_a = NULL;
  g_autofree gchar *source_b = NULL;
  g_autofree gchar *source_c = NULL;

  kith_test_origin_add (origin, "/dat/avdat-1.cab", content, 0);
  source_a = fetch_sync (a, url, content);
  ck_assert_str_eq (source_a, "origin");
  source_b = fetch_sync (b, url, content);
  ck_assert_str_eq (source_b, kith_test_agent_get_node_id (a->agent));
  source_c = fetch_sync (c, url, content);
  /* C may be served by A or by B: B serves what it fetched */
  ck_assert (g_strcmp0 (source_c, kith_test_agent_get_node_id (a->agent)) == 0 ||
             g_strcmp0 (source_c, kith_test_agent_get_node_id (b->agent)) == 0);
  ck_assert_uint_eq (kith_test_origin_get_requests (origin, "/dat/avdat-1.cab"), 1);
  ck_assert_uint_eq (peering_status (a, "misses"), 1);
  ck_assert_uint_eq (peering_status (b, "hits"), 1);
  ck_assert_uint_eq (peering_status (b, "bytes-from-peers"), g_bytes_get_size (content));
}
END_TEST

static Suite *
peering_suite (void)
{
  Suite *suite = suite_create ("peering");
  TCase *tc = tcase_create ("peering");

  tcase_set_timeout (tc, 120);
  tcase_add_test (tc, test_origin_once_then_peers);
  suite_add_tcase (suite, tc);
  return suite;
}

int
main (void)
{
  SRunner *runner = srunner_create (peering_suite ());
  int failed;

  test_port = g_random_int_range (20000, 60000);
  srunner_run_all (runner, CK_NORMAL);
  failed = srunner_ntests_failed (runner);
  srunner_free (runner);
  return failed == 0 ? 0 : 1;
}
