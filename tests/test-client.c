/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* test-client.c — libkith and the kith CLI: error mapping, and real agents in peer-to-peer mode */
#include "kith-client-private.h"
#include "kith-hex.h"
#include "kith.h"
#include "kith-test-agent.h"
#include "kith-test-bus.h"

#include <check.h>

#include "kith-test-suite.h"
#include <signal.h>
#include <glib/gstdio.h>
#include <json-glib/json-glib.h>
#include <string.h>

#define assert_contains(haystack, needle) \
  ck_assert_msg (strstr ((haystack), (needle)) != NULL, "'%s' not in: %s", (needle), (haystack))

#define assert_kith_error(error, code_) \
  ck_assert_msg (g_error_matches ((error), KITH_CLIENT_ERROR, (code_)), \
                 "expected %s, got %s:%d %s", kith_client_error_to_string (code_), \
                 (error) != NULL ? g_quark_to_string ((error)->domain) : "no error", \
                 (error) != NULL ? (error)->code : 0, (error) != NULL ? (error)->message : "")

/* An address under a fresh directory where nothing listens; caller frees both. */
static gchar *
dead_address (gchar **dir)
{
  *dir = g_dir_make_tmp ("kith-client-XXXXXX", NULL);
  ck_assert_ptr_nonnull (*dir);
  return g_strdup_printf ("unix:path=%s/no-agent", *dir);
}

static KithClient *
connect_client (KithTestAgent *agent)
{
  g_autoptr (KithClient) client = kith_client_new ();
  g_autoptr (GError) error = NULL;

  kith_client_set_address (client, kith_test_agent_get_dbus_address (agent));
  ck_assert_msg (kith_client_connect (client, NULL, &error), "%s", error ? error->message : "");
  ck_assert (kith_client_is_connected (client));
  return g_steal_pointer (&client);
}

/* ---- error mapping ------------------------------------------------------ */

START_TEST (test_error_remote_names)
{
  static const struct {
    const gchar *name;
    KithClientError code;
  } cases[] = {
    { "org.kith.Error.Failed", KITH_CLIENT_ERROR_FAILED },
    { "org.kith.Error.PluginMissing", KITH_CLIENT_ERROR_PLUGIN_MISSING },
    { "org.kith.Error.InvalidArgs", KITH_CLIENT_ERROR_INVALID_ARGS },
    { "org.kith.Error.NotFound", KITH_CLIENT_ERROR_NOT_FOUND },
    { "org.kith.Error.Cancelled", KITH_CLIENT_ERROR_CANCELLED },
    /* standard names the bus or GDBus send */
    { "org.freedesktop.DBus.Error.ServiceUnknown", KITH_CLIENT_ERROR_AGENT_NOT_RUNNING },
    { "org.freedesktop.DBus.Error.NameHasNoOwner", KITH_CLIENT_ERROR_AGENT_NOT_RUNNING },
    { "org.freedesktop.DBus.Error.AccessDenied", KITH_CLIENT_ERROR_PERMISSION_DENIED },
    { "org.freedesktop.DBus.Error.InvalidArgs", KITH_CLIENT_ERROR_INVALID_ARGS },
    { "org.freedesktop.DBus.Error.NoReply", KITH_CLIENT_ERROR_FAILED },
    { "com.example.Unheard.Of", KITH_CLIENT_ERROR_FAILED },
  };

  /* the names are registered by the quark, as any libkith call does first */
  (void) kith_client_error_quark ();
  for (guint i = 0; i < G_N_ELEMENTS (cases); i++) {
    g_autoptr (GError) error = g_dbus_error_new_for_dbus_error (cases[i].name, "the agent says why");
    kith_client_error_convert (&error, "unix:path=/x", G_BUS_TYPE_SYSTEM);
    ck_assert_msg (g_error_matches (error, KITH_CLIENT_ERROR, cases[i].code),
                   "%s → %d (%s), expected %d", cases[i].name, error->code, error->message,
                   cases[i].code);
    /* the remote prefix (GDBus.Error:name: ) never reaches people */
    ck_assert_ptr_null (strstr (error->message, "GDBus.Error"));
    assert_contains (error->message, "the agent says why");
  }
  /* the agent's own errors keep the agent's sentence as it is */
  {
    g_autoptr (GError) error = g_dbus_error_new_for_dbus_error ("org.kith.Error.NotFound", "no such alias");
    kith_client_error_convert (&error, NULL, G_BUS_TYPE_SYSTEM);
    ck_assert_str_eq (error->message, "no such alias");
  }
}
END_TEST

START_TEST (test_error_transport)
{
  static const struct {
    gint code; /* in G_IO_ERROR */
    gboolean connecting;
    KithClientError expect;
  } cases[] = {
    { G_IO_ERROR_CANCELLED, FALSE, KITH_CLIENT_ERROR_CANCELLED },
    { G_IO_ERROR_CANCELLED, TRUE, KITH_CLIENT_ERROR_CANCELLED },
    { G_IO_ERROR_NOT_FOUND, FALSE, KITH_CLIENT_ERROR_AGENT_NOT_RUNNING },
    { G_IO_ERROR_CONNECTION_REFUSED, FALSE, KITH_CLIENT_ERROR_AGENT_NOT_RUNNING },
    { G_IO_ERROR_CLOSED, FALSE, KITH_CLIENT_ERROR_AGENT_NOT_RUNNING },
    { G_IO_ERROR_PERMISSION_DENIED, TRUE, KITH_CLIENT_ERROR_PERMISSION_DENIED },
    { G_IO_ERROR_INVALID_ARGUMENT, FALSE, KITH_CLIENT_ERROR_INVALID_ARGS },
    { G_IO_ERROR_TIMED_OUT, FALSE, KITH_CLIENT_ERROR_FAILED },
    /* no bus, no socket, no auth: nothing answers while connecting */
    { G_IO_ERROR_FAILED, TRUE, KITH_CLIENT_ERROR_AGENT_NOT_RUNNING },
    { G_IO_ERROR_FAILED, FALSE, KITH_CLIENT_ERROR_FAILED },
  };

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++) {
    g_autoptr (GError) error = g_error_new_literal (G_IO_ERROR, cases[i].code, "low-level cause");
    if (cases[i].connecting)
      kith_client_error_convert_connect (&error, "unix:path=/x", G_BUS_TYPE_SYSTEM);
    else
      kith_client_error_convert (&error, "unix:path=/x", G_BUS_TYPE_SYSTEM);
    ck_assert_msg (g_error_matches (error, KITH_CLIENT_ERROR, cases[i].expect),
                   "case %u → %d (%s), expected %d", i, error->code, error->message,
                   cases[i].expect);
    assert_contains (error->message, "low-level cause");
  }
}
END_TEST

START_TEST (test_error_messages_say_what_to_do)
{
  g_autoptr (GError) p2p = g_error_new_literal (G_IO_ERROR, G_IO_ERROR_NOT_FOUND, "No such file");
  g_autoptr (GError) bus = g_error_new_literal (G_DBUS_ERROR, G_DBUS_ERROR_NAME_HAS_NO_OWNER, "x");
  g_autoptr (GError) denied = g_error_new_literal (G_DBUS_ERROR, G_DBUS_ERROR_ACCESS_DENIED, "x");

  kith_client_error_convert (&p2p, "unix:path=/run/k.sock", G_BUS_TYPE_SYSTEM);
  assert_contains (p2p->message, "No kith agent answers at unix:path=/run/k.sock");
  assert_contains (p2p->message, "kith-agent --config FILE");
  kith_client_error_convert (&bus, NULL, G_BUS_TYPE_SYSTEM);
  assert_contains (bus->message, "No kith agent answers on the system bus");
  assert_contains (bus->message, "systemctl start kith-agent");
  kith_client_error_convert (&denied, NULL, G_BUS_TYPE_SESSION);
  ck_assert_int_eq (denied->code, KITH_CLIENT_ERROR_PERMISSION_DENIED);
  assert_contains (denied->message, "session bus");

  /* every code has its own stable name */
  for (gint i = 0; i < KITH_CLIENT_ERROR_LAST; i++) {
    ck_assert_str_ne (kith_client_error_to_string (i), "unknown");
    for (gint j = 0; j < i; j++)
      ck_assert_str_ne (kith_client_error_to_string (i), kith_client_error_to_string (j));
  }
}
END_TEST

/* ---- connecting without an agent ----------------------------------------- */

START_TEST (test_connect_no_socket)
{
  g_autofree gchar *dir = NULL;
  g_autofree gchar *address = dead_address (&dir);
  g_autoptr (KithClient) client = kith_client_new ();
  g_autoptr (GError) error = NULL;
  g_autoptr (GVariant) status = NULL;

  kith_client_set_address (client, address);
  ck_assert (!kith_client_connect (client, NULL, &error));
  assert_kith_error (error, KITH_CLIENT_ERROR_AGENT_NOT_RUNNING);
  assert_contains (error->message, address);
  assert_contains (error->message, "is kith-agent running?");
  assert_contains (error->message, "kith-agent --config FILE");
  ck_assert (!kith_client_is_connected (client));
  ck_assert_ptr_null (kith_client_get_node_id (client));
  g_clear_error (&error);

  /* calls before a connect fail cleanly, not with a critical */
  status = kith_client_get_status (client, NULL, &error);
  ck_assert_ptr_null (status);
  assert_kith_error (error, KITH_CLIENT_ERROR_FAILED);
  g_rmdir (dir);
}
END_TEST

/* A socket file that nobody accepts on: a crashed agent leaves one behind. */
START_TEST (test_connect_refused)
{
  g_autofree gchar *dir = NULL;
  g_autofree gchar *address = dead_address (&dir);
  g_autofree gchar *path = g_build_filename (dir, "no-agent", NULL);
  g_autoptr (GSocket) socket = NULL;
  g_autoptr (GSocketAddress) sockaddr = g_unix_socket_address_new (path);
  g_autoptr (KithClient) client = kith_client_new ();
  g_autoptr (GError) error = NULL;

  socket = g_socket_new (G_SOCKET_FAMILY_UNIX, G_SOCKET_TYPE_STREAM, G_SOCKET_PROTOCOL_DEFAULT, &error);
  g_assert_no_error (error);
  ck_assert (g_socket_bind (socket, sockaddr, FALSE, &error));
  g_socket_close (socket, NULL); /* bound, never listening: connect() is refused */
  ck_assert (g_file_test (path, G_FILE_TEST_EXISTS));

  kith_client_set_address (client, address);
  ck_assert (!kith_client_connect (client, NULL, &error));
  assert_kith_error (error, KITH_CLIENT_ERROR_AGENT_NOT_RUNNING);
  assert_contains (error->message, address);
  g_unlink (path);
  g_rmdir (dir);
}
END_TEST

START_TEST (test_connect_bad_address)
{
  g_autoptr (KithClient) client = kith_client_new ();
  g_autoptr (GError) error = NULL;

  kith_client_set_address (client, "not-an-address");
  ck_assert (!kith_client_connect (client, NULL, &error));
  assert_kith_error (error, KITH_CLIENT_ERROR_INVALID_ARGS);
  assert_contains (error->message, "'not-an-address' is not a usable D-Bus address");
}
END_TEST

START_TEST (test_connect_environment)
{
  g_autofree gchar *dir = NULL;
  g_autofree gchar *address = dead_address (&dir);
  g_autoptr (KithClient) client = kith_client_new ();
  g_autoptr (GError) error = NULL;

  /* check runs each test in its own process, so this does not leak */
  g_setenv ("KITH_AGENT_ADDRESS", address, TRUE);
  ck_assert_str_eq (kith_client_get_target (client), address);
  ck_assert (!kith_client_connect (client, NULL, &error));
  assert_kith_error (error, KITH_CLIENT_ERROR_AGENT_NOT_RUNNING);
  assert_contains (error->message, address);
  g_clear_error (&error);

  /* an explicit address wins over the environment */
  kith_client_set_address (client, "unix:path=/nonexistent/explicit");
  ck_assert_str_eq (kith_client_get_target (client), "unix:path=/nonexistent/explicit");
  ck_assert (!kith_client_connect (client, NULL, &error));
  assert_contains (error->message, "unix:path=/nonexistent/explicit");
  g_clear_error (&error);

  /* neither: the bus named by option */
  g_unsetenv ("KITH_AGENT_ADDRESS");
  kith_client_set_address (client, NULL);
  ck_assert_str_eq (kith_client_get_target (client), "system bus");
  kith_client_set_bus_type (client, G_BUS_TYPE_SESSION);
  ck_assert_str_eq (kith_client_get_target (client), "session bus");
  g_rmdir (dir);
}
END_TEST

START_TEST (test_connect_async_no_socket)
{
  g_autofree gchar *dir = NULL;
  g_autofree gchar *address = dead_address (&dir);
  g_autoptr (KithClient) client = kith_client_new ();
  g_autoptr (GError) error = NULL;
  g_autoptr (GAsyncResult) res = NULL;

  kith_client_set_address (client, address);
  kith_client_connect_async (client, NULL, kith_test_store_result, &res);
  ck_assert (!kith_client_connect_finish (client, kith_test_wait_result (&res, 10000), &error));
  assert_kith_error (error, KITH_CLIENT_ERROR_AGENT_NOT_RUNNING);
  assert_contains (error->message, address);
  g_rmdir (dir);
}
END_TEST

/* ---- real agents --------------------------------------------------------- */

static KithClientPlugin *
find_plugin (GPtrArray *plugins, const gchar *name)
{
  for (guint i = 0; i < plugins->len; i++) {
    KithClientPlugin *plugin = g_ptr_array_index (plugins, i);
    if (g_strcmp0 (plugin->name, name) == 0)
      return plugin;
  }
  return NULL;
}

START_TEST (test_status_real_agent)
{
  g_autoptr (KithTestAgent) agent = kith_test_agent_start_new ("alpha;beta", NULL);
  g_autoptr (KithClient) client = connect_client (agent);
  g_autoptr (GPtrArray) plugins = kith_client_get_plugins (client);
  g_autoptr (GError) error = NULL;
  g_autoptr (GVariant) status = NULL;
  g_autoptr (GVariant) section = NULL;
  KithClientPlugin *alpha;

  ck_assert_msg (kith_hex_is_valid (kith_client_get_node_id (client), 32, 32), "node id %s",
                 kith_client_get_node_id (client));
  ck_assert_str_eq (kith_client_get_node_id (client), kith_test_agent_get_node_id (agent));
  ck_assert_str_ne (kith_client_get_version (client), "");
  ck_assert_uint_eq (plugins->len, 2);
  alpha = find_plugin (plugins, "alpha");
  ck_assert_ptr_nonnull (alpha);
  ck_assert_ptr_nonnull (find_plugin (plugins, "beta"));
  ck_assert_str_eq (alpha->state, "running");
  ck_assert (kith_client_plugin_is_running (alpha));

  status = kith_client_get_status (client, NULL, &error);
  g_assert_no_error (error);
  ck_assert (g_variant_is_of_type (status, G_VARIANT_TYPE_VARDICT));
  section = g_variant_lookup_value (status, "agent", G_VARIANT_TYPE_VARDICT);
  ck_assert_msg (section != NULL, "no agent section in %s", g_variant_print (status, TRUE));
  ck_assert_int_eq (kith_test_agent_stop (agent), 0);
}
END_TEST

START_TEST (test_two_agents_side_by_side)
{
  g_autoptr (KithTestAgent) agent1 = kith_test_agent_start_new ("", NULL);
  g_autoptr (KithTestAgent) agent2 = kith_test_agent_start_new ("alpha", NULL);
  g_autoptr (KithClient) client1 = connect_client (agent1);
  g_autoptr (KithClient) client2 = connect_client (agent2);
  g_autoptr (GPtrArray) plugins1 = kith_client_get_plugins (client1);
  g_autoptr (GPtrArray) plugins2 = kith_client_get_plugins (client2);

  ck_assert_str_eq (kith_client_get_node_id (client1), kith_test_agent_get_node_id (agent1));
  ck_assert_str_eq (kith_client_get_node_id (client2), kith_test_agent_get_node_id (agent2));
  ck_assert_str_ne (kith_client_get_node_id (client1), kith_client_get_node_id (client2));
  /* each answers with its own config, not the other's */
  ck_assert_uint_eq (plugins1->len, 0);
  ck_assert_uint_eq (plugins2->len, 1);
  for (guint i = 0; i < 2; i++) {
    KithClient *client = i == 0 ? client1 : client2;
    g_autoptr (GError) error = NULL;
    g_autoptr (GVariant) status = kith_client_get_status (client, NULL, &error);
    g_autoptr (GVariant) section = NULL;
    const gchar *node_id = NULL;

    g_assert_no_error (error);
    section = g_variant_lookup_value (status, "agent", G_VARIANT_TYPE_VARDICT);
    ck_assert_ptr_nonnull (section);
    ck_assert (g_variant_lookup (section, "node-id", "&s", &node_id));
    ck_assert_str_eq (node_id, kith_client_get_node_id (client));
  }
  ck_assert_int_eq (kith_test_agent_stop (agent1), 0);
  ck_assert_int_eq (kith_test_agent_stop (agent2), 0);
}
END_TEST

START_TEST (test_status_async_and_cancelled)
{
  g_autoptr (KithTestAgent) agent = kith_test_agent_start_new ("", NULL);
  g_autoptr (KithClient) client = kith_client_new ();
  g_autoptr (GCancellable) cancellable = g_cancellable_new ();
  g_autoptr (GAsyncResult) res_connect = NULL;
  g_autoptr (GAsyncResult) res_status = NULL;
  g_autoptr (GAsyncResult) res_cancelled = NULL;
  g_autoptr (GAsyncResult) res_connect_cancelled = NULL;
  g_autoptr (GVariant) status = NULL;
  g_autoptr (GVariant) none = NULL;
  g_autoptr (GError) error = NULL;
  g_autoptr (KithClient) client2 = kith_client_new ();
  g_autoptr (GCancellable) cancelled = g_cancellable_new ();

  kith_client_set_address (client, kith_test_agent_get_dbus_address (agent));
  kith_client_connect_async (client, NULL, kith_test_store_result, &res_connect);
  ck_assert_msg (kith_client_connect_finish (client, kith_test_wait_result (&res_connect, 10000), &error),
                 "%s", error ? error->message : "");
  ck_assert_str_eq (kith_client_get_node_id (client), kith_test_agent_get_node_id (agent));

  kith_client_get_status_async (client, NULL, kith_test_store_result, &res_status);
  status = kith_client_get_status_finish (client, kith_test_wait_result (&res_status, 10000), &error);
  g_assert_no_error (error);
  ck_assert (g_variant_lookup_value (status, "agent", G_VARIANT_TYPE_VARDICT) != NULL);

  /* cancelled while the call is in flight */
  kith_client_get_status_async (client, cancellable, kith_test_store_result, &res_cancelled);
  g_cancellable_cancel (cancellable);
  none = kith_client_get_status_finish (client, kith_test_wait_result (&res_cancelled, 10000), &error);
  ck_assert_ptr_null (none);
  assert_kith_error (error, KITH_CLIENT_ERROR_CANCELLED);
  g_clear_error (&error);

  /* a connect cancelled before it starts */
  g_cancellable_cancel (cancelled);
  kith_client_set_address (client2, kith_test_agent_get_dbus_address (agent));
  kith_client_connect_async (client2, cancelled, kith_test_store_result, &res_connect_cancelled);
  ck_assert (
      !kith_client_connect_finish (client2, kith_test_wait_result (&res_connect_cancelled, 10000), &error));
  assert_kith_error (error, KITH_CLIENT_ERROR_CANCELLED);
  ck_assert (!kith_client_is_connected (client2));
  ck_assert_int_eq (kith_test_agent_stop (agent), 0);
}
END_TEST

START_TEST (test_plugin_call_missing_and_agent_gone)
{
  g_autoptr (KithTestAgent) agent = kith_test_agent_start_new ("alpha", NULL);
  g_autoptr (KithClient) client = connect_client (agent);
  g_autoptr (GAsyncResult) res = NULL;
  g_autoptr (GVariant) reply = NULL;
  g_autoptr (GVariant) status = NULL;
  g_autoptr (GError) error = NULL;

  kith_client_call_plugin_async (client, "Nonexistent", "org.kith.Nonexistent1", "Frob",
                                 NULL, NULL, NULL, -1, NULL, kith_test_store_result, &res);
  reply = kith_client_call_plugin_finish (client, kith_test_wait_result (&res, 10000), NULL, &error);
  ck_assert_ptr_null (reply);
  assert_kith_error (error, KITH_CLIENT_ERROR_PLUGIN_MISSING);
  assert_contains (error->message, "/org/kith/Agent1/Nonexistent");
  g_clear_error (&error);

  /* the agent goes away under a connected client */
  ck_assert_int_eq (kith_test_agent_stop (agent), 0);
  status = kith_client_get_status (client, NULL, &error);
  ck_assert_ptr_null (status);
  assert_kith_error (error, KITH_CLIENT_ERROR_AGENT_NOT_RUNNING);
}
END_TEST

/* Every async call of libkith, plugin wrappers too, reports a cancel in its own domain. */
START_TEST (test_plugin_calls_cancelled)
{
  g_autoptr (KithTestAgent) agent = kith_test_agent_start_new ("alpha", NULL);
  g_autoptr (KithClient) client = connect_client (agent);
  g_autoptr (GCancellable) cancellable = g_cancellable_new ();
  g_autoptr (GAsyncResult) res_update = NULL;
  g_autoptr (GAsyncResult) res_upload = NULL;
  g_autoptr (GError) error = NULL;

  g_cancellable_cancel (cancellable);
  kith_client_update_get_status_async (client, cancellable, kith_test_store_result, &res_update);
  ck_assert_ptr_null (
      kith_client_update_get_status_finish (client, kith_test_wait_result (&res_update, 10000), &error));
  assert_kith_error (error, KITH_CLIENT_ERROR_CANCELLED);
  g_clear_error (&error);
  kith_client_upload_get_status_async (client, cancellable, kith_test_store_result, &res_upload);
  ck_assert_ptr_null (
      kith_client_upload_get_status_finish (client, kith_test_wait_result (&res_upload, 10000), &error));
  assert_kith_error (error, KITH_CLIENT_ERROR_CANCELLED);
}
END_TEST

START_TEST (test_example_plugin_through_libkith)
{
  g_autoptr (KithTestAgent) agent = kith_test_agent_start_new ("hello", NULL);
  g_autoptr (KithClient) client = connect_client (agent);
  g_autoptr (GAsyncResult) res = NULL;
  g_autoptr (GAsyncResult) res_bad = NULL;
  g_autoptr (GVariant) reply = NULL;
  g_autoptr (GVariant) bad = NULL;
  g_autoptr (GError) error = NULL;
  g_autofree gchar *expected = g_strdup_printf ("Hello tester from node %s",
                                                kith_test_agent_get_node_id (agent));
  const gchar *greeting = NULL;

  kith_client_call_plugin_async (client, "Hello", "org.kith.Hello1", "Greet",
                                 g_variant_new ("(s)", "tester"), G_VARIANT_TYPE ("(s)"),
                                 NULL, -1, NULL, kith_test_store_result, &res);
  reply = kith_client_call_plugin_finish (client, kith_test_wait_result (&res, 10000), NULL, &error);
  g_assert_no_error (error);
  g_variant_get (reply, "(&s)", &greeting);
  ck_assert_str_eq (greeting, expected);

  /* the agent's org.kith.Error.InvalidArgs arrives as a code, prefix stripped */
  kith_client_call_plugin_async (client, "Hello", "org.kith.Hello1", "Greet",
                                 g_variant_new ("(s)", ""), G_VARIANT_TYPE ("(s)"),
                                 NULL, -1, NULL, kith_test_store_result, &res_bad);
  bad = kith_client_call_plugin_finish (client, kith_test_wait_result (&res_bad, 10000), NULL, &error);
  ck_assert_ptr_null (bad);
  assert_kith_error (error, KITH_CLIENT_ERROR_INVALID_ARGS);
  ck_assert_ptr_null (strstr (error->message, "org.kith.Error"));
  ck_assert_int_eq (kith_test_agent_stop (agent), 0);
}
END_TEST

/* ---- the kith CLI as a process ------------------------------------------- */

static JsonObject *
parse_json_object (JsonParser *parser, const gchar *text)
{
  g_autoptr (GError) error = NULL;

  ck_assert_msg (json_parser_load_from_data (parser, text, -1, &error),
                 "stdout is not JSON (%s): %s", error ? error->message : "", text);
  ck_assert (JSON_NODE_HOLDS_OBJECT (json_parser_get_root (parser)));
  return json_node_get_object (json_parser_get_root (parser));
}

START_TEST (test_cli_status_json)
{
  g_autoptr (KithTestAgent) agent = kith_test_agent_start_new ("alpha", NULL);
  g_autoptr (JsonParser) parser = json_parser_new ();
  g_autofree gchar *out = NULL;
  g_autofree gchar *err = NULL;
  /* --verbose too: debug lines must not reach stdout */
  const gchar *args[] = { "status", "--json", "--verbose", "--address",
                          kith_test_agent_get_dbus_address (agent), NULL };
  JsonObject *root, *plugin, *sections;
  JsonArray *plugins;
  gint rc;

  rc = kith_test_run_cli (NULL, args, NULL, &out, &err);
  ck_assert_msg (rc == 0, "kith status --json exited %d: %s", rc, err);
  root = parse_json_object (parser, out);
  ck_assert_str_eq (json_object_get_string_member (root, "node-id"),
                    kith_test_agent_get_node_id (agent));
  ck_assert (kith_hex_is_valid (json_object_get_string_member (root, "node-id"), 32, 32));
  plugins = json_object_get_array_member (root, "plugins");
  ck_assert_ptr_nonnull (plugins);
  ck_assert_uint_eq (json_array_get_length (plugins), 1);
  plugin = json_array_get_object_element (plugins, 0);
  ck_assert_str_eq (json_object_get_string_member (plugin, "name"), "alpha");
  ck_assert_str_eq (json_object_get_string_member (plugin, "state"), "running");
  sections = json_object_get_object_member (root, "sections");
  ck_assert_ptr_nonnull (sections);
  ck_assert (json_object_has_member (sections, "agent"));
  ck_assert_int_eq (kith_test_agent_stop (agent), 0);
}
END_TEST

START_TEST (test_cli_status_human_and_environment)
{
  g_autoptr (KithTestAgent) agent = kith_test_agent_start_new ("alpha", NULL);
  g_autofree gchar *dir = NULL;
  g_autofree gchar *dead = dead_address (&dir);
  g_autofree gchar *env_live = g_strdup_printf ("KITH_AGENT_ADDRESS=%s",
                                                kith_test_agent_get_dbus_address (agent));
  g_autofree gchar *env_dead = g_strdup_printf ("KITH_AGENT_ADDRESS=%s", dead);
  const gchar *env1[] = { env_live, NULL };
  const gchar *env2[] = { env_dead, NULL };
  const gchar *args_plain[] = { "status", NULL };
  const gchar *args_override[] = { "--address", kith_test_agent_get_dbus_address (agent),
                                   "status", NULL };
  g_autofree gchar *out1 = NULL, *err1 = NULL, *out2 = NULL, *err2 = NULL;
  gint rc;

  /* the environment names the agent */
  rc = kith_test_run_cli (NULL, args_plain, env1, &out1, &err1);
  ck_assert_msg (rc == 0, "kith status exited %d: %s", rc, err1);
  assert_contains (out1, kith_test_agent_get_node_id (agent));
  assert_contains (out1, "alpha");
  assert_contains (out1, "running");
  assert_contains (out1, "[agent]");
  /* human durations, not raw seconds */
  ck_assert_msg (g_regex_match_simple ("uptime-seconds +[0-9]+ (s|min)", out1, 0, 0), "raw uptime: %s", out1);

  /* --address (before the command) wins over a dead environment */
  rc = kith_test_run_cli (NULL, args_override, env2, &out2, &err2);
  ck_assert_msg (rc == 0, "kith --address … status exited %d: %s", rc, err2);
  assert_contains (out2, kith_test_agent_get_node_id (agent));
  ck_assert_int_eq (kith_test_agent_stop (agent), 0);
  g_rmdir (dir);
}
END_TEST

START_TEST (test_cli_no_agent)
{
  g_autofree gchar *dir = NULL;
  g_autofree gchar *dead = dead_address (&dir);
  const gchar *args_human[] = { "status", "--address", dead, NULL };
  const gchar *args_json[] = { "--json", "status", "--address", dead, NULL };
  g_autoptr (JsonParser) parser = json_parser_new ();
  g_autofree gchar *out1 = NULL, *err1 = NULL, *out2 = NULL, *err2 = NULL;
  JsonObject *root, *error;
  gint rc;

  rc = kith_test_run_cli (NULL, args_human, NULL, &out1, &err1);
  ck_assert_int_eq (rc, 2);
  ck_assert_str_eq (out1, "");
  assert_contains (err1, "No kith agent answers at");
  assert_contains (err1, dead);
  assert_contains (err1, "kith-agent --config FILE");

  /* --json: only a JSON error object on stdout, same exit code */
  rc = kith_test_run_cli (NULL, args_json, NULL, &out2, &err2);
  ck_assert_int_eq (rc, 2);
  root = parse_json_object (parser, out2);
  error = json_object_get_object_member (root, "error");
  ck_assert_ptr_nonnull (error);
  ck_assert_str_eq (json_object_get_string_member (error, "domain"), "kith-client-error-quark");
  ck_assert_int_eq (json_object_get_int_member (error, "code"), KITH_CLIENT_ERROR_AGENT_NOT_RUNNING);
  ck_assert_str_eq (json_object_get_string_member (error, "name"), "agent-not-running");
  ck_assert_int_eq (json_object_get_int_member (error, "exit-status"), 2);
  assert_contains (json_object_get_string_member (error, "message"), "kith-agent --config FILE");
  g_rmdir (dir);
}
END_TEST

/* The CLI's own file errors name the file and exit 1, before any agent is asked; the
 * --json error object carries a stable name and the exit status. --version works. */
START_TEST (test_cli_file_errors)
{
  const gchar *args_dir[] = { "upload", "/tmp", "--address", "unix:path=/nonexistent/bus", NULL };
  const gchar *args_missing[] = { "--json", "upload", "/nonexistent/report.json", NULL };
  const gchar *args_version[] = { "--version", NULL };
  g_autoptr (JsonParser) parser = json_parser_new ();
  g_autofree gchar *out1 = NULL, *err1 = NULL, *out2 = NULL, *err2 = NULL, *out3 = NULL, *err3 = NULL;
  JsonObject *error;

  ck_assert_int_eq (kith_test_run_cli (NULL, args_dir, NULL, &out1, &err1), 1);
  assert_contains (err1, "/tmp: is a directory, not a report file");
  ck_assert_msg (strstr (err1, "agent") == NULL, "a file error blamed the agent: %s", err1);
  ck_assert_int_eq (kith_test_run_cli (NULL, args_missing, NULL, &out2, &err2), 1);
  error = json_object_get_object_member (parse_json_object (parser, out2), "error");
  ck_assert_str_eq (json_object_get_string_member (error, "name"), "failed");
  ck_assert_int_eq (json_object_get_int_member (error, "exit-status"), 1);
  assert_contains (json_object_get_string_member (error, "message"), "/nonexistent/report.json: No such file");
  ck_assert_int_eq (kith_test_run_cli (NULL, args_version, NULL, &out3, &err3), 0);
  ck_assert (g_str_has_prefix (out3, "kith "));
}
END_TEST

START_TEST (test_cli_usage)
{
  const gchar *args_unknown[] = { "frobnicate", NULL };
  const gchar *args_both[] = { "status", "--session", "--system", NULL };
  const gchar *args_help[] = { "--help", NULL };
  g_autofree gchar *out1 = NULL, *err1 = NULL, *out2 = NULL, *err2 = NULL;
  g_autofree gchar *out3 = NULL, *err3 = NULL;

  ck_assert_int_eq (kith_test_run_cli (NULL, args_unknown, NULL, &out1, &err1), 64);
  assert_contains (err1, "unknown command 'frobnicate'");
  ck_assert_int_eq (kith_test_run_cli (NULL, args_both, NULL, &out2, &err2), 64);
  assert_contains (err2, "--session and --system");
  /* the help lists the commands and documents the exit codes */
  ck_assert_int_eq (kith_test_run_cli (NULL, args_help, NULL, &out3, &err3), 0);
  assert_contains (out3, "status");
  assert_contains (out3, "2   no kith agent answers");
  assert_contains (out3, "KITH_AGENT_ADDRESS");
}
END_TEST

#ifdef KITH_TEST_DBUS_DAEMON
START_TEST (test_session_bus)
{
  g_autoptr (KithTestBus) bus = kith_test_bus_new (KITH_TEST_DBUS_DAEMON);
  g_autoptr (KithTestAgent) agent = NULL;
  g_autoptr (KithClient) lonely = kith_client_new ();
  g_autoptr (KithClient) client = kith_client_new ();
  g_autoptr (GVariant) status = NULL;
  g_autoptr (GError) error = NULL;
  g_autoptr (JsonParser) parser = json_parser_new ();
  g_autofree gchar *out = NULL, *err = NULL;
  const gchar *args[] = { "--session", "status", "--json", NULL };
  JsonObject *root;
  gint rc;

  ck_assert_ptr_nonnull (bus); /* DBUS_SESSION_BUS_ADDRESS now names it */

  /* a bus without an agent: nobody owns org.kith.Agent1 */
  g_unsetenv ("KITH_AGENT_ADDRESS");
  kith_client_set_bus_type (lonely, G_BUS_TYPE_SESSION);
  ck_assert (!kith_client_connect (lonely, NULL, &error));
  assert_kith_error (error, KITH_CLIENT_ERROR_AGENT_NOT_RUNNING);
  assert_contains (error->message, "session bus");
  g_clear_error (&error);

  /* the last dbus= wins over the helper's peer-to-peer default */
  agent = kith_test_agent_new ("alpha", "dbus=session");
  ck_assert_msg (kith_test_agent_start (agent, &error), "%s", error ? error->message : "");
  kith_client_set_bus_type (client, G_BUS_TYPE_SESSION);
  ck_assert_msg (kith_client_connect (client, NULL, &error), "%s", error ? error->message : "");
  ck_assert_str_eq (kith_client_get_node_id (client), kith_test_agent_get_node_id (agent));
  ck_assert_str_eq (kith_client_get_target (client), "session bus");
  status = kith_client_get_status (client, NULL, &error);
  g_assert_no_error (error);
  ck_assert (g_variant_lookup_value (status, "agent", G_VARIANT_TYPE_VARDICT) != NULL);

  rc = kith_test_run_cli (NULL, args, NULL, &out, &err);
  ck_assert_msg (rc == 0, "kith --session status exited %d: %s %s", rc, g_strdelimit (out, "\n", ' '), err);
  root = parse_json_object (parser, out);
  ck_assert_str_eq (json_object_get_string_member (root, "node-id"),
                    kith_test_agent_get_node_id (agent));

  ck_assert_int_eq (kith_test_agent_stop (agent), 0);
}
END_TEST
#endif

static Suite *
client_suite (void)
{
  Suite *suite = suite_create ("client");
  TCase *errors = tcase_create ("errors");
  TCase *agents = tcase_create ("agents");
  TCase *cli = tcase_create ("cli");

  tcase_add_test (errors, test_error_remote_names);
  tcase_add_test (errors, test_error_transport);
  tcase_add_test (errors, test_error_messages_say_what_to_do);
  tcase_add_test (errors, test_connect_no_socket);
  tcase_add_test (errors, test_connect_refused);
  tcase_add_test (errors, test_connect_bad_address);
  tcase_add_test (errors, test_connect_environment);
  tcase_add_test (errors, test_connect_async_no_socket);
  suite_add_tcase (suite, errors);

  tcase_set_timeout (agents, 60);
  tcase_add_test (agents, test_status_real_agent);
  tcase_add_test (agents, test_two_agents_side_by_side);
  tcase_add_test (agents, test_status_async_and_cancelled);
  tcase_add_test (agents, test_plugin_call_missing_and_agent_gone);
  tcase_add_test (agents, test_example_plugin_through_libkith);
  tcase_add_test (agents, test_plugin_calls_cancelled);
  suite_add_tcase (suite, agents);

  tcase_set_timeout (cli, 90);
  tcase_add_test (cli, test_cli_status_json);
  tcase_add_test (cli, test_cli_status_human_and_environment);
  tcase_add_test (cli, test_cli_no_agent);
  tcase_add_test (cli, test_cli_usage);
  tcase_add_test (cli, test_cli_file_errors);
#ifdef KITH_TEST_DBUS_DAEMON
  tcase_add_test (cli, test_session_bus);
#endif
  suite_add_tcase (suite, cli);
  return suite;
}

int
main (void)
{
  return kith_test_run_suite (client_suite ());
}
