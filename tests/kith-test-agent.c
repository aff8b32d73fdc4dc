/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* kith-test-agent.c — a real kith-agent process for tests
 *
 * The agent's stderr is drained by a thread, so the test never blocks the
 * agent and can wait for its ready line (or its death) as an event.
 */
#include "kith-test-agent.h"
#include "kith-test-util.h"

#include <check.h>
#include <glib/gstdio.h>
#include <signal.h>
#include <string.h>

struct _KithTestAgent {
  gchar *dir;
  gchar *config_path;
  GSubprocess *process;
  GThread *drain;
  GMutex mutex;
  GCond cond;
  GString *log;
  gboolean ready;
  gboolean eof;
  gchar *node_id;
  gchar *http_url;
  gchar *dbus_address;
};

guint
kith_test_timeout_ms (guint timeout_ms)
{
  const gchar *multiplier = g_getenv ("KITH_TEST_TIMEOUT_MULTIPLIER");
  guint64 factor = 1;

  if (multiplier != NULL)
    g_ascii_string_to_unsigned (multiplier, 10, 1, 100, &factor, NULL);
  return timeout_ms * factor;
}

KithTestAgent *
kith_test_agent_new (const gchar *plugins, const gchar *extra_config)
{
  KithTestAgent *self = g_new0 (KithTestAgent, 1);
  g_autoptr (GError) error = NULL;
  g_autofree gchar *config = NULL;
  const gchar *plugin_dirs = g_getenv ("KITH_TEST_PLUGIN_DIRS");

  /* short paths: unix socket paths are limited to 108 bytes */
  self->dir = g_dir_make_tmp ("kith-XXXXXX", &error);
  g_assert_no_error (error);
  self->config_path = g_build_filename (self->dir, "kith-agent.conf", NULL);
  config = g_strdup_printf ("[agent]\n"
                            "state-dir=%s/state\n"
                            "plugin-dir=%s\n"
                            "plugins=%s\n"
                            "dbus=unix:path=%s/bus\n"
                            "http-listen=127.0.0.1:0\n"
                            "%s\n",
                            self->dir, plugin_dirs != NULL ? plugin_dirs : "",
                            plugins != NULL ? plugins : "", self->dir,
                            extra_config != NULL ? extra_config : "");
  g_file_set_contents (self->config_path, config, -1, &error);
  g_assert_no_error (error);
  g_mutex_init (&self->mutex);
  g_cond_init (&self->cond);
  self->log = g_string_new (NULL);
  return self;
}

/* "… ready: node=N http=H dbus=D" */
static void
kith_test_agent_parse_ready (KithTestAgent *self, const gchar *line)
{
  g_auto (GStrv) words = g_strsplit (strstr (line, "ready: ") + 7, " ", -1);

  for (guint i = 0; words[i] != NULL; i++) {
    if (g_str_has_prefix (words[i], "node="))
      self->node_id = g_strdup (words[i] + 5);
    else if (g_str_has_prefix (words[i], "http="))
      self->http_url = g_strdup (words[i] + 5);
    else if (g_str_has_prefix (words[i], "dbus="))
      self->dbus_address = g_strdup (words[i] + 5);
  }
  self->ready = TRUE;
}

static gpointer
kith_test_agent_drain (gpointer user_data)
{
  KithTestAgent *self = user_data;
  g_autoptr (GDataInputStream) input =
      g_data_input_stream_new (g_subprocess_get_stderr_pipe (self->process));

  for (;;) {
    g_autofree gchar *line = g_data_input_stream_read_line_utf8 (input, NULL, NULL, NULL);
    g_mutex_lock (&self->mutex);
    if (line == NULL) {
      self->eof = TRUE;
      g_cond_broadcast (&self->cond);
      g_mutex_unlock (&self->mutex);
      return NULL;
    }
    g_string_append_printf (self->log, "%s\n", line);
    if (g_getenv ("KITH_TEST_VERBOSE") != NULL)
      g_printerr ("[agent %s] %s\n", self->dir, line);
    if (!self->ready && strstr (line, "ready: ") != NULL)
      kith_test_agent_parse_ready (self, line);
    g_cond_broadcast (&self->cond);
    g_mutex_unlock (&self->mutex);
  }
}

/* Waits until ready or EOF; returns TRUE if ready. */
static gboolean
kith_test_agent_wait_ready (KithTestAgent *self, guint timeout_ms)
{
  gint64 deadline = g_get_monotonic_time () + (gint64) timeout_ms * 1000;
  gboolean ready;

  g_mutex_lock (&self->mutex);
  while (!self->ready && !self->eof) {
    if (!g_cond_wait_until (&self->cond, &self->mutex, deadline))
      break;
  }
  ready = self->ready;
  g_mutex_unlock (&self->mutex);
  return ready;
}

gboolean
kith_test_agent_start (KithTestAgent *self, GError **error)
{
  const gchar *agent_bin = g_getenv ("KITH_AGENT_BIN");
  g_autofree gchar *log = NULL;

  g_assert_nonnull (agent_bin);
  g_assert_null (self->process);
  self->ready = self->eof = FALSE;
  g_clear_pointer (&self->node_id, g_free);
  g_clear_pointer (&self->http_url, g_free);
  g_clear_pointer (&self->dbus_address, g_free);
  self->process = g_subprocess_new (G_SUBPROCESS_FLAGS_STDERR_PIPE, error, agent_bin,
                                    "--config", self->config_path, NULL);
  if (self->process == NULL)
    return FALSE;
  self->drain = g_thread_new ("kith-test-drain", kith_test_agent_drain, self);
  if (kith_test_agent_wait_ready (self, kith_test_timeout_ms (10000)))
    return TRUE;
  log = kith_test_agent_get_log (self);
  g_set_error (error, G_IO_ERROR, G_IO_ERROR_FAILED, "agent did not become ready:\n%s", log);
  kith_test_agent_stop (self);
  return FALSE;
}

KithTestAgent *
kith_test_agent_start_new (const gchar *plugins, const gchar *extra_config)
{
  g_autoptr (KithTestAgent) self = kith_test_agent_new (plugins, extra_config);
  g_autoptr (GError) error = NULL;

  ck_assert_msg (kith_test_agent_start (self, &error), "%s", error != NULL ? error->message : "");
  return g_steal_pointer (&self);
}

/* Reaps the process after a signal; -1 if it had to be killed. */
static gint
kith_test_agent_reap (KithTestAgent *self)
{
  gint64 deadline = g_get_monotonic_time () + kith_test_timeout_ms (10000) * 1000;
  gboolean killed = FALSE;
  gint status;

  g_mutex_lock (&self->mutex);
  while (!self->eof && g_cond_wait_until (&self->cond, &self->mutex, deadline))
    ;
  if (!self->eof) {
    g_subprocess_force_exit (self->process);
    killed = TRUE;
  }
  g_mutex_unlock (&self->mutex);
  g_subprocess_wait (self->process, NULL, NULL);
  g_thread_join (self->drain);
  self->drain = NULL;
  if (killed)
    status = -1;
  else if (g_subprocess_get_if_exited (self->process))
    status = g_subprocess_get_exit_status (self->process);
  else
    status = 128 + g_subprocess_get_term_sig (self->process);
  g_clear_object (&self->process);
  return status;
}

gint
kith_test_agent_stop (KithTestAgent *self)
{
  if (self->process == NULL)
    return -1;
  g_subprocess_send_signal (self->process, SIGTERM);
  return kith_test_agent_reap (self);
}

void
kith_test_agent_kill (KithTestAgent *self)
{
  if (self->process == NULL)
    return;
  g_subprocess_send_signal (self->process, SIGKILL);
  kith_test_agent_reap (self);
}

void
kith_test_agent_free (KithTestAgent *self)
{
  kith_test_agent_stop (self);
  if (g_getenv ("KITH_TEST_KEEP") == NULL)
    kith_test_rm_rf (self->dir);
  g_mutex_clear (&self->mutex);
  g_cond_clear (&self->cond);
  g_string_free (self->log, TRUE);
  g_free (self->dir);
  g_free (self->config_path);
  g_free (self->node_id);
  g_free (self->http_url);
  g_free (self->dbus_address);
  g_free (self);
}

gint
kith_test_agent_get_pid (KithTestAgent *self)
{
  const gchar *id = self->process != NULL ? g_subprocess_get_identifier (self->process) : NULL;
  return id != NULL ? (gint) g_ascii_strtoll (id, NULL, 10) : 0;
}

const gchar *
kith_test_agent_get_dir (KithTestAgent *self)
{
  return self->dir;
}

const gchar *
kith_test_agent_get_config_path (KithTestAgent *self)
{
  return self->config_path;
}

const gchar *
kith_test_agent_get_dbus_address (KithTestAgent *self)
{
  return self->dbus_address;
}

const gchar *
kith_test_agent_get_http_url (KithTestAgent *self)
{
  return self->http_url;
}

const gchar *
kith_test_agent_get_node_id (KithTestAgent *self)
{
  return self->node_id;
}

gchar *
kith_test_agent_get_log (KithTestAgent *self)
{
  gchar *log;
  g_mutex_lock (&self->mutex);
  log = g_strdup (self->log->str);
  g_mutex_unlock (&self->mutex);
  return log;
}

GDBusConnection *
kith_test_agent_connect (KithTestAgent *self, GError **error)
{
  return g_dbus_connection_new_for_address_sync (self->dbus_address,
                                                 G_DBUS_CONNECTION_FLAGS_AUTHENTICATION_CLIENT,
                                                 NULL, NULL, error);
}

GVariant *
kith_test_get_status_section (GDBusConnection *connection, const gchar *section)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GVariant) reply = g_dbus_connection_call_sync (connection, NULL, "/org/kith/Agent1",
                                                           "org.kith.Agent1", "GetStatus", NULL,
                                                           G_VARIANT_TYPE ("(a{sv})"),
                                                           G_DBUS_CALL_FLAGS_NONE, -1, NULL, &error);
  g_autoptr (GVariant) dict = NULL;
  GVariant *value;

  g_assert_no_error (error);
  dict = g_variant_get_child_value (reply, 0);
  value = g_variant_lookup_value (dict, section, G_VARIANT_TYPE_VARDICT);
  if (value == NULL)
    g_error ("no '%s' section in GetStatus", section);
  return value;
}

static gboolean
kith_test_wait_timeout (gpointer user_data)
{
  *(gboolean *) user_data = TRUE;
  return G_SOURCE_REMOVE;
}

gboolean
kith_test_wait_until (gboolean (*condition) (gpointer user_data), gpointer user_data,
                      guint timeout_ms)
{
  gboolean timed_out = FALSE;
  guint id = g_timeout_add (kith_test_timeout_ms (timeout_ms), kith_test_wait_timeout, &timed_out);

  while (!condition (user_data) && !timed_out)
    g_main_context_iteration (NULL, TRUE);
  if (!timed_out)
    g_source_remove (id);
  return condition (user_data);
}

static gboolean
kith_test_poll_tick (gpointer user_data)
{
  return G_SOURCE_CONTINUE;
}

gboolean
kith_test_poll_until (gboolean (*condition) (gpointer user_data), gpointer user_data, guint timeout_ms)
{
  guint tick = g_timeout_add (50, kith_test_poll_tick, NULL);
  gboolean ok = kith_test_wait_until (condition, user_data, timeout_ms);

  g_source_remove (tick);
  return ok;
}

void
kith_test_store_result (GObject *source, GAsyncResult *result, gpointer user_data)
{
  *(GAsyncResult **) user_data = g_object_ref (result);
}

static gboolean
kith_test_has_result (gpointer user_data)
{
  return *(GAsyncResult **) user_data != NULL;
}

GAsyncResult *
kith_test_wait_result (GAsyncResult **slot, guint timeout_ms)
{
  ck_assert_msg (kith_test_wait_until (kith_test_has_result, slot, timeout_ms),
                 "the call did not finish in %u ms", timeout_ms);
  return *slot;
}

gint
kith_test_run (const gchar *const *argv, const gchar *const *env_extra, gchar **out_stdout,
               gchar **out_stderr)
{
  g_autoptr (GSubprocessLauncher) launcher =
      g_subprocess_launcher_new (G_SUBPROCESS_FLAGS_STDOUT_PIPE | G_SUBPROCESS_FLAGS_STDERR_PIPE);
  g_autoptr (GPtrArray) args = g_ptr_array_new ();
  g_autoptr (GSubprocess) process = NULL;
  g_autoptr (GError) error = NULL;

  for (guint i = 0; env_extra != NULL && env_extra[i] != NULL; i++) {
    g_auto (GStrv) kv = g_strsplit (env_extra[i], "=", 2);
    g_subprocess_launcher_setenv (launcher, kv[0], kv[1] != NULL ? kv[1] : "", TRUE);
  }
  /* bounded: a hung child fails the test instead of hanging it */
  g_ptr_array_add (args, (gpointer) "timeout");
  g_ptr_array_add (args, (gpointer) "60");
  for (guint i = 0; argv[i] != NULL; i++)
    g_ptr_array_add (args, (gpointer) argv[i]);
  g_ptr_array_add (args, NULL);
  process = g_subprocess_launcher_spawnv (launcher, (const gchar *const *) args->pdata, &error);
  g_assert_no_error (error);
  g_subprocess_communicate_utf8 (process, NULL, NULL, out_stdout, out_stderr, &error);
  g_assert_no_error (error);
  if (!g_subprocess_get_if_exited (process))
    return 128 + g_subprocess_get_term_sig (process);
  return g_subprocess_get_exit_status (process);
}

gint
kith_test_run_cli (KithTestAgent *agent, const gchar *const *args, const gchar *const *env_extra,
                   gchar **out_stdout, gchar **out_stderr)
{
  const gchar *bin = g_getenv ("KITH_CLI_BIN");
  g_autoptr (GPtrArray) argv = g_ptr_array_new ();

  ck_assert_msg (bin != NULL, "KITH_CLI_BIN must name the kith CLI");
  g_ptr_array_add (argv, (gpointer) bin);
  if (agent != NULL) {
    g_ptr_array_add (argv, (gpointer) "--address");
    g_ptr_array_add (argv, (gpointer) kith_test_agent_get_dbus_address (agent));
  }
  for (guint i = 0; args[i] != NULL; i++)
    g_ptr_array_add (argv, (gpointer) args[i]);
  g_ptr_array_add (argv, NULL);
  return kith_test_run ((const gchar *const *) argv->pdata, env_extra, out_stdout, out_stderr);
}
