/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* test-errors.c — the one error contract end to end: each service's failing method, called
 * through libkith against real agents, arrives with the client code its org.kith.Error.*
 * name maps to and with the agent's own message; errors a service sends back are never
 * taken for a missing agent. */
#include "kith-client-private.h"
#include "kith.h"
#include "kith-test-agent.h"
#include "kith-test-backend.h"
#include "kith-test-suite.h"

#include <check.h>
#include <string.h>

#define WAIT_MS 60000

static KithClient *
connect_client (KithTestAgent *agent)
{
  g_autoptr (KithClient) client = kith_client_new ();
  g_autoptr (GError) error = NULL;

  kith_client_set_address (client, kith_test_agent_get_dbus_address (agent));
  ck_assert_msg (kith_client_connect (client, NULL, &error), "%s", error != NULL ? error->message : "");
  return g_steal_pointer (&client);
}

static void
assert_error (const GError *error, KithClientError code, const gchar *text)
{
  ck_assert_msg (error != NULL, "the call succeeded");
  ck_assert_msg (g_error_matches (error, KITH_CLIENT_ERROR, code), "got %s %d (%s), expected %s",
                 g_quark_to_string (error->domain), error->code, error->message,
                 kith_client_error_to_string (code));
  ck_assert_msg (strstr (error->message, text) != NULL, "\"%s\" not in \"%s\"", text, error->message);
  /* the agent's sentence, never the transport's */
  ck_assert_ptr_null (strstr (error->message, "No kith agent answers"));
  ck_assert_ptr_null (strstr (error->message, "GDBus.Error"));
}

static gchar *
update_check (KithClient *client, GError **error)
{
  g_autoptr (GAsyncResult) result = NULL;

  kith_client_update_check_async (client, NULL, NULL, NULL, kith_test_store_result, &result);
  return kith_client_update_check_finish (client, kith_test_wait_result (&result, WAIT_MS), error);
}

static gchar *
upload_file (KithClient *client, const gchar *path, GError **error)
{
  g_autoptr (GAsyncResult) result = NULL;

  kith_client_upload_file_async (client, path, FALSE, NULL, kith_test_store_result, &result);
  return kith_client_upload_file_finish (client, kith_test_wait_result (&result, WAIT_MS), error);
}

/* hello, peering and update without a backend; Agent1 itself */
START_TEST (test_errors_unconfigured_agent)
{
  g_autoptr (KithTestAgent) agent = kith_test_agent_start_new ("hello;peering;update",
                                                 "[peering]\nlisten=127.255.255.255\n"
                                                 "send-address=127.0.0.1\nbroadcast=127.255.255.255\n");
  g_autoptr (KithClient) client = connect_client (agent);
  g_autoptr (GDBusConnection) connection = kith_test_agent_connect (agent, NULL);
  g_autoptr (GError) error = NULL;
  g_autoptr (GVariant) reply = NULL;
  g_autofree gchar *dest = g_build_filename (kith_test_agent_get_dir (agent), "fetched", NULL);
  g_autofree gchar *message = NULL;
  g_autoptr (KithClientTransfer) transfer = NULL;

  /* hello: Greet ("") is InvalidArgs */
  ck_assert_ptr_nonnull (connection);
  reply = g_dbus_connection_call_sync (connection, NULL, "/org/kith/Agent1/Hello", "org.kith.Hello1", "Greet",
                                       g_variant_new ("(s)", ""), NULL, G_DBUS_CALL_FLAGS_NONE, -1, NULL, &error);
  ck_assert_ptr_null (reply);
  kith_client_error_convert (&error, kith_test_agent_get_dbus_address (agent), G_BUS_TYPE_SYSTEM);
  assert_error (error, KITH_CLIENT_ERROR_INVALID_ARGS, "say whom to greet");
  g_clear_error (&error);

  /* peering: a malformed sha256 is InvalidArgs */
  transfer = kith_client_fetch (client, "http://127.0.0.1:9/x", dest, "not-hex", KITH_CLIENT_FETCH_FLAG_NONE,
                                NULL, NULL, NULL, &error);
  ck_assert_ptr_null (transfer);
  assert_error (error, KITH_CLIENT_ERROR_INVALID_ARGS, "sha256");
  g_clear_error (&error);

  /* update: a check without [agent] backend-url is NotConfigured */
  message = update_check (client, &error);
  ck_assert_ptr_null (message);
  assert_error (error, KITH_CLIENT_ERROR_NOT_CONFIGURED, "backend-url");
  g_clear_error (&error);

  /* a service that does not run: PluginMissing */
  message = upload_file (client, kith_test_agent_get_config_path (agent), &error);
  ck_assert_ptr_null (message);
  ck_assert_msg (g_error_matches (error, KITH_CLIENT_ERROR, KITH_CLIENT_ERROR_PLUGIN_MISSING), "%s",
                 error->message);
}
END_TEST

/* update and upload of an offline node with a backend configured */
START_TEST (test_errors_offline_agent)
{
  g_autoptr (KithTestBackend) backend = kith_test_backend_new ();
  g_autofree gchar *extra = g_strdup_printf ("backend-url=https://127.0.0.1:9\ntrust-anchor=%s\noffline=true\n"
                                             "[peering]\nlisten=127.255.255.255\n"
                                             "send-address=127.0.0.1\nbroadcast=127.255.255.255\n",
                                             kith_test_backend_get_ca (backend));
  g_autoptr (KithTestAgent) agent = kith_test_agent_start_new ("peering;update;upload", extra);
  g_autoptr (KithClient) client = connect_client (agent);
  g_autoptr (GError) error = NULL;
  g_autofree gchar *message = NULL;

  /* update: offline nodes do not fetch catalogs */
  message = update_check (client, &error);
  ck_assert_ptr_null (message);
  assert_error (error, KITH_CLIENT_ERROR_OFFLINE, "offline");
  g_clear_error (&error);

  /* upload: a directory is not a report; the agent's read error (a GIO error) says so */
  message = upload_file (client, kith_test_agent_get_dir (agent), &error);
  ck_assert_ptr_null (message);
  assert_error (error, KITH_CLIENT_ERROR_FAILED, "directory");
}
END_TEST

/* a GIO error a service sent back as it was is the agent's answer, not a lost transport */
START_TEST (test_errors_remote_gio)
{
  static const struct {
    gint code;
    KithClientError expect;
  } cases[] = {
    { G_IO_ERROR_NOT_FOUND, KITH_CLIENT_ERROR_NOT_FOUND },
    { G_IO_ERROR_PERMISSION_DENIED, KITH_CLIENT_ERROR_FAILED },
    { G_IO_ERROR_CLOSED, KITH_CLIENT_ERROR_FAILED },
    { G_IO_ERROR_IS_DIRECTORY, KITH_CLIENT_ERROR_FAILED },
  };

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++) {
    g_autoptr (GError) sent = g_error_new_literal (G_IO_ERROR, cases[i].code, "what the agent said");
    g_autofree gchar *name = g_dbus_error_encode_gerror (sent);
    g_autoptr (GError) error = g_dbus_error_new_for_dbus_error (name, "what the agent said");

    kith_client_error_convert (&error, "unix:path=/x", G_BUS_TYPE_SYSTEM);
    assert_error (error, cases[i].expect, "what the agent said");
    ck_assert_str_eq (error->message, "what the agent said");
  }
}
END_TEST

/* every org.kith.Error.* name has a client code other than the transport's */
START_TEST (test_errors_every_name)
{
  static const struct {
    const gchar *name;
    KithClientError code;
  } cases[] = {
    { "org.kith.Error.Failed", KITH_CLIENT_ERROR_FAILED },
    { "org.kith.Error.Config", KITH_CLIENT_ERROR_FAILED },
    { "org.kith.Error.Plugin", KITH_CLIENT_ERROR_PLUGIN_MISSING },
    { "org.kith.Error.PluginMissing", KITH_CLIENT_ERROR_PLUGIN_MISSING },
    { "org.kith.Error.InvalidArgs", KITH_CLIENT_ERROR_INVALID_ARGS },
    { "org.kith.Error.NotFound", KITH_CLIENT_ERROR_NOT_FOUND },
    { "org.kith.Error.Cancelled", KITH_CLIENT_ERROR_CANCELLED },
    { "org.kith.Error.PermissionDenied", KITH_CLIENT_ERROR_PERMISSION_DENIED },
    { "org.kith.Error.NotConfigured", KITH_CLIENT_ERROR_NOT_CONFIGURED },
    { "org.kith.Error.Offline", KITH_CLIENT_ERROR_OFFLINE },
  };

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++) {
    g_autoptr (GError) error = g_dbus_error_new_for_dbus_error (cases[i].name, "the agent says why");
    g_autoptr (GError) transfer = NULL;
    g_autofree gchar *reason = g_strdup_printf ("%s: the agent says why", cases[i].name);

    kith_client_error_convert (&error, NULL, G_BUS_TYPE_SYSTEM);
    ck_assert_msg (g_error_matches (error, KITH_CLIENT_ERROR, cases[i].code), "%s → %d", cases[i].name,
                   error->code);
    ck_assert_str_eq (error->message, "the agent says why");
    /* the same name in a transfer's Error property */
    transfer = kith_client_error_new_for_transfer ("http://x/y", reason);
    ck_assert_msg (g_error_matches (transfer, KITH_CLIENT_ERROR, cases[i].code), "%s → %d", cases[i].name,
                   transfer->code);
    ck_assert_str_eq (transfer->message, "Fetching http://x/y failed: the agent says why");
  }
}
END_TEST

static Suite *
errors_suite (void)
{
  Suite *suite = suite_create ("errors");
  TCase *names = tcase_create ("names");
  TCase *agents = tcase_create ("agents");

  tcase_add_test (names, test_errors_remote_gio);
  tcase_add_test (names, test_errors_every_name);
  suite_add_tcase (suite, names);
  tcase_set_timeout (agents, 120);
  tcase_add_test (agents, test_errors_unconfigured_agent);
  tcase_add_test (agents, test_errors_offline_agent);
  suite_add_tcase (suite, agents);
  return suite;
}

int
main (void)
{
  return kith_test_run_suite (errors_suite ());
}
