/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* test-agent.c — kith-agent as a process: config errors, the plugin loader,
 * D-Bus in peer-to-peer mode, /metrics, identity and shutdown */
#include "kith-dbus-generated.h"
#include "kith-test-agent.h"

#include <check.h>

#include "kith-test-suite.h"
#include <libsoup/soup.h>
#include <glib/gstdio.h>
#include <string.h>
#include <unistd.h>

/* Runs kith-agent on @config and returns its stderr; asserts it failed. */
static gchar *
run_bad_config (const gchar *config)
{
  g_autofree gchar *dir = g_dir_make_tmp ("kith-XXXXXX", NULL);
  g_autofree gchar *path = g_build_filename (dir, "bad.conf", NULL);
  g_autofree gchar *out = NULL;
  gchar *err = NULL;
  const gchar *argv[] = { g_getenv ("KITH_AGENT_BIN"), "--config", path, NULL };
  gint status;

  if (config != NULL)
    g_assert_true (g_file_set_contents (path, config, -1, NULL));
  status = kith_test_run (argv, NULL, &out, &err);
  ck_assert_int_ne (status, 0);
  ck_assert_ptr_nonnull (strstr (err, path));
  g_unlink (path);
  g_rmdir (dir);
  return err;
}

#define assert_contains(haystack, needle) \
  ck_assert_msg (strstr ((haystack), (needle)) != NULL, "'%s' not in: %s", (needle), (haystack))

START_TEST (test_config_errors)
{
  static const struct {
    const gchar *config;
    const gchar *expect;
  } cases[] = {
    { "[agent]\nstatedir=/tmp\n", "[agent] statedir: unknown key" },
    { "[agent]\nhttp-listen=nonsense\n", "[agent] http-listen: 'nonsense' is not ADDRESS:PORT" },
    { "[agent]\nhttp-listen=example.org:80\n", "[agent] http-listen: 'example.org' is not a numeric IP" },
    { "[agent]\noffline=maybe\n", "[agent] offline: 'maybe' is not a boolean" },
    { "[agent]\ndbus=bogus\n", "[agent] dbus: 'bogus' is neither session, system" },
    { "[agent]\nbackend-url=ftp://x/\n", "[agent] backend-url: 'ftp://x/' is not an http" },
    { "[agent]\nbackend-url=http://x/\n", "[agent] backend-url: 'http://x/' is plain HTTP: use https://" },
    { "[agent]\nplain-http=sure\n", "[agent] plain-http: 'sure' is not a boolean" },
    { "[agent]\ntrust-anchor=/nonexistent/ca.pem\n", "[agent] trust-anchor: '/nonexistent/ca.pem' does not exist" },
    { "not a key file\n", "bad.conf: " },
  };

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++) {
    g_autofree gchar *err = run_bad_config (cases[i].config);
    assert_contains (err, cases[i].expect);
  }
}
END_TEST

/* Runs the agent (from directory @cwd when not NULL) on the config of @agent with @option
 * (or none); returns the exit status and stderr. */
static gint
run_agent_config (KithTestAgent *agent, const gchar *option, const gchar *cwd, gchar **err)
{
  g_autofree gchar *out = NULL;
  const gchar *argv[] = { "env", "-C", cwd != NULL ? cwd : ".", g_getenv ("KITH_AGENT_BIN"),
                          "--config", kith_test_agent_get_config_path (agent), option, NULL };
  gint status = kith_test_run (argv, NULL, &out, err);

  if (option != NULL && g_strcmp0 (option, "--check-config") == 0 && status == 0)
    assert_contains (out, "configuration valid");
  return status;
}

/* A required plugin that cannot run, a typo in a plugin's group or key, a value out of
 * range: the agent names file, group and key and exits non-zero instead of going ready. */
START_TEST (test_config_stops_agent)
{
  static const struct {
    const gchar *plugins;
    const gchar *extra;
    const gchar *expect;
  } cases[] = {
    { "hello;helo", NULL, "[agent] plugins: plugin 'helo' cannot run: no module found" },
    { "failstart", NULL, "plugin 'failstart' cannot run: start failed: this plugin always fails" },
    { "hello", "[helo]\ngreeting=hi\n", "[helo]: unknown group" },
    { "peering", "[peering]\nport=70000\n", "[peering] port: '70000' is not a whole number from 1 to 65535" },
    { "peering", "[peering]\nbrodcast=127.255.255.255\n", "[peering] brodcast: unknown key" },
    { "peering;update", "[update]\nfirst-check=5 minutes\n",
      "[update] first-check: '5 minutes' is not a duration" },
    { "hello", "[agent]\nplugin-dir=\n", "plugin 'hello' cannot run: no module found" },
    { "hello", "metrics=lan", "[agent] metrics: 'lan' is neither loopback nor any" },
  };

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++) {
    g_autoptr (KithTestAgent) agent = kith_test_agent_new (cases[i].plugins, cases[i].extra);
    g_autofree gchar *err = NULL;
    gint status = run_agent_config (agent, NULL, NULL, &err);

    ck_assert_msg (status == 1, "case %u: exit %d, stderr: %s", i, status, err);
    assert_contains (err, kith_test_agent_get_config_path (agent));
    assert_contains (err, cases[i].expect);
    ck_assert_msg (strstr (err, "ready") == NULL, "case %u went ready: %s", i, err);
  }
}
END_TEST

/* --check-config: exit 0 and nothing created for a valid file, the start-time message
 * and exit 1 for a broken one. */
START_TEST (test_check_config)
{
  g_autoptr (KithTestAgent) good = kith_test_agent_new ("hello", "optional-plugins=missing");
  g_autoptr (KithTestAgent) bad = kith_test_agent_new ("hello;updat", NULL);
  g_autoptr (KithTestAgent) group = kith_test_agent_new ("hello", "[peerng]\nport=1\n");
  g_autofree gchar *state = g_build_filename (kith_test_agent_get_dir (good), "state", NULL);
  g_autofree gchar *err = NULL;

  ck_assert_int_eq (run_agent_config (good, "--check-config", NULL, &err), 0);
  ck_assert_msg (!g_file_test (state, G_FILE_TEST_EXISTS), "--check-config created %s", state);
  g_clear_pointer (&err, g_free);
  ck_assert_int_eq (run_agent_config (bad, "--check-config", NULL, &err), 1);
  assert_contains (err, "[agent] plugins: plugin 'updat' cannot run: no module found");
  g_clear_pointer (&err, g_free);
  ck_assert_int_eq (run_agent_config (group, "-t", NULL, &err), 1);
  assert_contains (err, "[peerng]: unknown group");
}
END_TEST

/* The directory of the first of $KITH_TEST_PLUGIN_DIRS holding the hello module. */
static gchar *
hello_plugin_dir (void)
{
  g_auto (GStrv) dirs = g_strsplit (g_getenv ("KITH_TEST_PLUGIN_DIRS"), ";", -1);

  for (guint i = 0; dirs[i] != NULL; i++) {
    g_autofree gchar *module = g_module_build_path (dirs[i], "kith-hello");
    if (g_file_test (module, G_FILE_TEST_EXISTS))
      return g_strdup (dirs[i]);
  }
  ck_abort_msg ("no hello module in KITH_TEST_PLUGIN_DIRS");
  return NULL;
}

/* Relative plugin-dir, state-dir and trust-anchor are taken relative to the config file,
 * whatever the working directory. */
START_TEST (test_config_relative_paths)
{
  g_autofree gchar *dir = g_dir_make_tmp ("kith-XXXXXX", NULL);
  g_autofree gchar *plugins = hello_plugin_dir ();
  g_autofree gchar *link = g_build_filename (dir, "modules", NULL);
  g_autofree gchar *anchor = g_build_filename (dir, "ca.pem", NULL);
  g_autofree gchar *path = g_build_filename (dir, "kith-agent.conf", NULL);
  g_autofree gchar *out = NULL;
  g_autofree gchar *err = NULL;
  const gchar *argv[] = { "env", "-C", "/", g_getenv ("KITH_AGENT_BIN"), "--check-config", "--config",
                          path, NULL };

  ck_assert_int_eq (symlink (plugins, link), 0);
  g_assert_true (g_file_set_contents (anchor, "", -1, NULL));
  g_assert_true (g_file_set_contents (path, "[agent]\nplugin-dir=modules\nplugins=hello\n"
                                            "state-dir=state\ntrust-anchor=ca.pem\n", -1, NULL));
  ck_assert_msg (kith_test_run (argv, NULL, &out, &err) == 0, "%s", err);
  assert_contains (out, "configuration valid");
  g_unlink (path);
  g_unlink (anchor);
  g_unlink (link);
  g_rmdir (dir);
}
END_TEST

START_TEST (test_config_missing_file)
{
  g_autofree gchar *err = run_bad_config (NULL);
  assert_contains (err, "cannot read the configuration");
}
END_TEST

/* The (name, version, state) of every plugin, plus the error of each failed one. */
static GVariant *
get_status (GDBusConnection *connection)
{
  g_autoptr (GError) error = NULL;
  GVariant *reply = g_dbus_connection_call_sync (connection, NULL, "/org/kith/Agent1",
                                                 "org.kith.Agent1", "GetStatus", NULL,
                                                 G_VARIANT_TYPE ("(a{sv})"),
                                                 G_DBUS_CALL_FLAGS_NONE, -1, NULL, &error);
  g_assert_no_error (error);
  return reply;
}

static gchar *
plugin_field (GVariant *status, const gchar *plugin, const gchar *field)
{
  g_autoptr (GVariant) dict = g_variant_get_child_value (status, 0);
  g_autoptr (GVariant) section = g_variant_lookup_value (dict, plugin, G_VARIANT_TYPE_VARDICT);
  gchar *value = NULL;

  ck_assert_msg (section != NULL, "no status section for %s", plugin);
  g_variant_lookup (section, field, "s", &value);
  return value;
}

START_TEST (test_loader_failures)
{
  static const struct {
    const gchar *plugin;
    const gchar *expect;
  } cases[] = {
    { "missing", "no module found" },
    { "notmodule", "is not a loadable module" },
    { "nosymbol", "does not export kith_plugin_describe" },
    { "oldsdk", "built for plugin SDK version 0" },
    /* the SDK before stop() received the agent */
    { "sdk1", "built for plugin SDK version 1, this agent has version 2; rebuild it" },
    { "failstart", "start failed: this plugin always fails to start" },
    { "needsfail", "required service 'failstart' failed to start" },
    { "needsmissing", "requires service 'nonexistent', which is not in the plugins list" },
    { "cyclea", "dependency cycle: cyclea → cycleb → cyclea" },
    { "cycleb", "dependency cycle" },
  };
  g_autoptr (KithTestAgent) agent =
      kith_test_agent_new ("alpha", "optional-plugins=missing;notmodule;nosymbol;oldsdk;sdk1;failstart;"
                           "needsfail;needsmissing;cyclea;cycleb");
  g_autoptr (GError) error = NULL;
  g_autoptr (GDBusConnection) connection = NULL;
  g_autoptr (GVariant) status = NULL;
  g_autofree gchar *log = NULL;

  ck_assert_msg (kith_test_agent_start (agent, &error), "%s", error ? error->message : "");
  connection = kith_test_agent_connect (agent, &error);
  g_assert_no_error (error);
  status = get_status (connection);
  log = kith_test_agent_get_log (agent);
  for (guint i = 0; i < G_N_ELEMENTS (cases); i++) {
    g_autofree gchar *state = plugin_field (status, cases[i].plugin, "state");
    g_autofree gchar *message = plugin_field (status, cases[i].plugin, "error");
    g_autofree gchar *logged = g_strdup_printf ("plugin %s: ", cases[i].plugin);
    ck_assert_str_eq (state, "failed");
    ck_assert_ptr_nonnull (message);
    assert_contains (message, cases[i].expect);
    assert_contains (log, logged); /* one operator-visible line each */
  }
  /* optional plugins may fail: the agent carries on with the plugins that can run */
  ck_assert_ptr_nonnull (strstr (log, "plugin alpha 0.1 running"));
  ck_assert_int_eq (kith_test_agent_stop (agent), 0);
}
END_TEST

static gchar *
read_events (KithTestAgent *agent)
{
  g_autofree gchar *path = g_build_filename (kith_test_agent_get_dir (agent), "state",
                                             "plugin-events", NULL);
  gchar *events = NULL;
  g_assert_true (g_file_get_contents (path, &events, NULL, NULL));
  return events;
}

START_TEST (test_dependency_order)
{
  g_autoptr (KithTestAgent) agent = kith_test_agent_new ("gamma;beta;alpha", NULL);
  g_autoptr (GError) error = NULL;
  g_autofree gchar *events = NULL;

  ck_assert_msg (kith_test_agent_start (agent, &error), "%s", error ? error->message : "");
  ck_assert_int_eq (kith_test_agent_stop (agent), 0);
  events = read_events (agent);
  ck_assert_str_eq (events, "start:alpha\nstart:beta\nstart:gamma\n"
                            "stop:gamma\nstop:beta\nstop:alpha\n");
}
END_TEST

START_TEST (test_hello_over_dbus)
{
  g_autoptr (KithTestAgent) agent = kith_test_agent_new ("hello", NULL);
  g_autoptr (GError) error = NULL;
  g_autoptr (GDBusConnection) connection = NULL;
  g_autoptr (KithDbusHello1) hello = NULL;
  g_autoptr (KithDbusAgent1) proxy = NULL;
  g_autofree gchar *greeting = NULL;
  g_autofree gchar *expected = NULL;
  g_autoptr (GVariant) status = NULL;
  g_autoptr (GVariant) plugins = NULL;
  g_autofree gchar *printed = NULL;
  g_autofree gchar *remote = NULL;

  ck_assert_msg (kith_test_agent_start (agent, &error), "%s", error ? error->message : "");
  connection = kith_test_agent_connect (agent, &error);
  g_assert_no_error (error);
  hello = kith_dbus_hello1_proxy_new_sync (connection, G_DBUS_PROXY_FLAGS_NONE, NULL,
                                           "/org/kith/Agent1/Hello", NULL, &error);
  g_assert_no_error (error);
  ck_assert (kith_dbus_hello1_call_greet_sync (hello, "tester", &greeting, NULL, &error));
  expected = g_strdup_printf ("Hello tester from node %s", kith_test_agent_get_node_id (agent));
  ck_assert_str_eq (greeting, expected);
  /* a bad argument comes back as the agent's error, by name */
  ck_assert (!kith_dbus_hello1_call_greet_sync (hello, "", NULL, NULL, &error));
  ck_assert (g_dbus_error_is_remote_error (error));
  remote = g_dbus_error_get_remote_error (error);
  ck_assert_str_eq (remote, "org.kith.Error.InvalidArgs");

  proxy = kith_dbus_agent1_proxy_new_sync (connection, G_DBUS_PROXY_FLAGS_NONE, NULL,
                                           "/org/kith/Agent1", NULL, NULL);
  ck_assert_str_eq (kith_dbus_agent1_get_node_id (proxy), kith_test_agent_get_node_id (agent));
  plugins = kith_dbus_agent1_dup_plugins (proxy);
  printed = g_variant_print (plugins, FALSE);
  ck_assert_str_eq (printed, "[('hello', '1.0', 'running')]");
  status = get_status (connection);
  {
    g_autoptr (GVariant) dict = g_variant_get_child_value (status, 0);
    g_autoptr (GVariant) section = g_variant_lookup_value (dict, "hello", G_VARIANT_TYPE_VARDICT);
    guint32 greetings = 0;
    ck_assert (g_variant_lookup (section, "greetings", "u", &greetings));
    ck_assert_uint_eq (greetings, 1);
  }
  ck_assert_int_eq (kith_test_agent_stop (agent), 0);
}
END_TEST

static gchar *
http_get (const gchar *url, guint *status)
{
  g_autoptr (SoupSession) session = soup_session_new ();
  g_autoptr (SoupMessage) msg = soup_message_new ("GET", url);
  g_autoptr (GBytes) body = soup_session_send_and_read (session, msg, NULL, NULL);

  *status = soup_message_get_status (msg);
  return body != NULL ? g_strndup (g_bytes_get_data (body, NULL), g_bytes_get_size (body)) : NULL;
}

START_TEST (test_http_metrics_and_404)
{
  g_autoptr (KithTestAgent) agent = kith_test_agent_new ("hello", NULL);
  g_autoptr (GError) error = NULL;
  g_autoptr (GDBusConnection) connection = NULL;
  g_autofree gchar *metrics_url = NULL;
  g_autofree gchar *other_url = NULL;
  g_autofree gchar *body = NULL;
  g_autofree gchar *other = NULL;
  g_autoptr (GVariant) reply = NULL;
  guint status = 0;

  ck_assert_msg (kith_test_agent_start (agent, &error), "%s", error ? error->message : "");
  connection = kith_test_agent_connect (agent, &error);
  reply = g_dbus_connection_call_sync (connection, NULL, "/org/kith/Agent1/Hello",
                                       "org.kith.Hello1", "Greet", g_variant_new ("(s)", "x"),
                                       NULL, G_DBUS_CALL_FLAGS_NONE, -1, NULL, &error);
  g_assert_no_error (error);
  metrics_url = g_strdup_printf ("%s/metrics", kith_test_agent_get_http_url (agent));
  body = http_get (metrics_url, &status);
  ck_assert_uint_eq (status, 200);
  assert_contains (body, "# TYPE kith_hello_greetings_total counter\nkith_hello_greetings_total 1\n");
  assert_contains (body, "kith_agent_plugins{state=\"running\"} 1\n");
  other_url = g_strdup_printf ("%s/etc/passwd", kith_test_agent_get_http_url (agent));
  other = http_get (other_url, &status);
  ck_assert_uint_eq (status, 404);
  ck_assert_int_eq (kith_test_agent_stop (agent), 0);
}
END_TEST

START_TEST (test_two_agents_side_by_side)
{
  g_autoptr (KithTestAgent) a = kith_test_agent_new ("hello", NULL);
  g_autoptr (KithTestAgent) b = kith_test_agent_new ("hello", NULL);
  KithTestAgent *agents[] = { a, b };
  g_autoptr (GError) error = NULL;

  for (guint i = 0; i < G_N_ELEMENTS (agents); i++)
    ck_assert_msg (kith_test_agent_start (agents[i], &error), "%s", error ? error->message : "");
  ck_assert_str_ne (kith_test_agent_get_node_id (a), kith_test_agent_get_node_id (b));
  for (guint i = 0; i < G_N_ELEMENTS (agents); i++) {
    g_autoptr (GDBusConnection) connection = kith_test_agent_connect (agents[i], &error);
    g_autoptr (GVariant) status = get_status (connection);
    g_autofree gchar *node = plugin_field (status, "agent", "node-id");
    ck_assert_str_eq (node, kith_test_agent_get_node_id (agents[i]));
  }
  for (guint i = 0; i < G_N_ELEMENTS (agents); i++)
    ck_assert_int_eq (kith_test_agent_stop (agents[i]), 0);
}
END_TEST

START_TEST (test_identity_and_shutdown)
{
  g_autoptr (KithTestAgent) agent = kith_test_agent_new ("hello", NULL);
  g_autoptr (GError) error = NULL;
  g_autofree gchar *first = NULL;
  g_autofree gchar *socket = NULL;
  g_autofree gchar *log = NULL;

  ck_assert_msg (kith_test_agent_start (agent, &error), "%s", error ? error->message : "");
  first = g_strdup (kith_test_agent_get_node_id (agent));
  ck_assert_uint_eq (strlen (first), 32);
  socket = g_build_filename (kith_test_agent_get_dir (agent), "bus", NULL);
  ck_assert (g_file_test (socket, G_FILE_TEST_EXISTS));
  /* SIGTERM: exit 0 (and under ASan, no leak), socket removed */
  ck_assert_int_eq (kith_test_agent_stop (agent), 0);
  ck_assert (!g_file_test (socket, G_FILE_TEST_EXISTS));
  log = kith_test_agent_get_log (agent);
  assert_contains (log, "stopping");
  /* the node id survives a restart; a killed agent's stale socket is reclaimed */
  ck_assert_msg (kith_test_agent_start (agent, &error), "%s", error ? error->message : "");
  ck_assert_str_eq (kith_test_agent_get_node_id (agent), first);
  kith_test_agent_kill (agent);
  ck_assert (g_file_test (socket, G_FILE_TEST_EXISTS));
  ck_assert_msg (kith_test_agent_start (agent, &error), "%s", error ? error->message : "");
  ck_assert_str_eq (kith_test_agent_get_node_id (agent), first);
  ck_assert_int_eq (kith_test_agent_stop (agent), 0);
}
END_TEST

static Suite *
agent_suite (void)
{
  Suite *suite = suite_create ("agent");
  TCase *tc = tcase_create ("agent");

  tcase_set_timeout (tc, 60);
  tcase_add_test (tc, test_config_errors);
  tcase_add_test (tc, test_config_missing_file);
  tcase_add_test (tc, test_config_stops_agent);
  tcase_add_test (tc, test_check_config);
  tcase_add_test (tc, test_config_relative_paths);
  tcase_add_test (tc, test_loader_failures);
  tcase_add_test (tc, test_dependency_order);
  tcase_add_test (tc, test_hello_over_dbus);
  tcase_add_test (tc, test_http_metrics_and_404);
  tcase_add_test (tc, test_two_agents_side_by_side);
  tcase_add_test (tc, test_identity_and_shutdown);
  suite_add_tcase (suite, tc);
  return suite;
}

int
main (void)
{
  return kith_test_run_suite (agent_suite ());
}
