/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* kith-test-agent.h — a real kith-agent process for tests, and event-driven waiting */
#pragma once

#include <gio/gio.h>

G_BEGIN_DECLS

typedef struct _KithTestAgent KithTestAgent;

/* A private directory with a config: [agent] plugins=@plugins (";"-separated, may be ""),
 * plugin-dir from $KITH_TEST_PLUGIN_DIRS, dbus=unix:path=DIR/bus, http-listen=127.0.0.1:0,
 * state-dir=DIR/state, followed by @extra_config (more keys or groups, may be NULL).
 * Nothing runs until kith_test_agent_start(). Caller frees with kith_test_agent_free. */
KithTestAgent *kith_test_agent_new (const gchar *plugins, const gchar *extra_config);
/* Spawns $KITH_AGENT_BIN and waits for its ready line (or its exit: then fails with its log). */
gboolean kith_test_agent_start (KithTestAgent *self, GError **error);
/* kith_test_agent_new() and kith_test_agent_start(); fails the test (with the agent's log)
 * unless it becomes ready. */
KithTestAgent *kith_test_agent_start_new (const gchar *plugins, const gchar *extra_config);
/* SIGTERM, then waits; returns the exit status (0 = clean), or -1 if it had to be killed. */
gint kith_test_agent_stop (KithTestAgent *self);
/* SIGKILL, for crash tests; waits for the process to go. */
void kith_test_agent_kill (KithTestAgent *self);
/* Stops the agent if running and removes its directory. */
void kith_test_agent_free (KithTestAgent *self);

/* Borrowed strings, valid after a successful start (dir and config path always). */
const gchar *kith_test_agent_get_dir (KithTestAgent *self);
const gchar *kith_test_agent_get_config_path (KithTestAgent *self);
const gchar *kith_test_agent_get_dbus_address (KithTestAgent *self);
const gchar *kith_test_agent_get_http_url (KithTestAgent *self);
const gchar *kith_test_agent_get_node_id (KithTestAgent *self);
/* The agent's process id while it runs, 0 otherwise. */
gint kith_test_agent_get_pid (KithTestAgent *self);
/* Everything the agent wrote to stderr so far; caller frees. */
gchar *kith_test_agent_get_log (KithTestAgent *self);
/* A connection to the agent's peer-to-peer D-Bus address; caller owns it. */
GDBusConnection *kith_test_agent_connect (KithTestAgent *self, GError **error);

/* The @section dictionary (a{sv}) of GetStatus asked over @connection; caller owns it.
 * Fails the test if the call fails or the section is missing. */
GVariant *kith_test_get_status_section (GDBusConnection *connection, const gchar *section);

/* Iterates the default main context until @condition(@user_data) is TRUE; FALSE after
 * @timeout_ms (scaled by $KITH_TEST_TIMEOUT_MULTIPLIER). */
gboolean kith_test_wait_until (gboolean (*condition) (gpointer user_data), gpointer user_data,
                               guint timeout_ms);
/* kith_test_wait_until() for the state of another process, which no event of ours announces
 * (its files, its log): the loop turns every 50 ms to look again. */
gboolean kith_test_poll_until (gboolean (*condition) (gpointer user_data), gpointer user_data,
                               guint timeout_ms);
/* A GAsyncReadyCallback that keeps a ref of the result in the GAsyncResult * @user_data
 * points to (which starts NULL). */
void kith_test_store_result (GObject *source, GAsyncResult *result, gpointer user_data);
/* Waits up to @timeout_ms (scaled) for kith_test_store_result() to fill @slot; fails the
 * test otherwise. Returns *@slot, still owned by it. */
GAsyncResult *kith_test_wait_result (GAsyncResult **slot, guint timeout_ms);
/* A timeout scaled by $KITH_TEST_TIMEOUT_MULTIPLIER (sanitizer builds run slower). */
guint kith_test_timeout_ms (guint timeout_ms);
/* Runs @argv (NULL-terminated) to completion with @env_extra ("K=V" list or NULL), bounded by
 * 60 s; returns the exit status and the output (caller frees). */
gint kith_test_run (const gchar *const *argv, const gchar *const *env_extra, gchar **out_stdout,
                    gchar **out_stderr);
/* kith_test_run() of the kith command line ($KITH_CLI_BIN; the test fails if it is unset) with
 * @args (NULL-terminated), after `--address` and @agent's bus unless @agent is NULL. */
gint kith_test_run_cli (KithTestAgent *agent, const gchar *const *args, const gchar *const *env_extra,
                        gchar **out_stdout, gchar **out_stderr);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (KithTestAgent, kith_test_agent_free)

G_END_DECLS
