/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* kith-agent-main.c — the kith-agent executable */
#include "kith-agent-private.h"

#include "kith-build-config.h"

#include <locale.h>
#include <stdlib.h>
#ifdef G_OS_UNIX
#include <glib-unix.h>
#include <signal.h>
#endif

#ifdef G_OS_UNIX
static gboolean
kith_agent_main_quit (gpointer user_data)
{
  g_message ("stopping");
  g_main_loop_quit (user_data);
  return G_SOURCE_REMOVE;
}
#endif

int
main (int argc, char *argv[])
{
  g_autofree gchar *config_file = NULL;
  gboolean verbose = FALSE;
  gboolean version = FALSE;
  gboolean check_config = FALSE;
  const GOptionEntry entries[] = {
    { "config", 'c', 0, G_OPTION_ARG_FILENAME, &config_file, "Configuration file", "FILE" },
    { "verbose", 'v', 0, G_OPTION_ARG_NONE, &verbose, "Log debug messages", NULL },
    { "check-config", 't', 0, G_OPTION_ARG_NONE, &check_config,
      "Check the configuration and the plugins it names, then exit (0: valid)", NULL },
    { "version", 0, 0, G_OPTION_ARG_NONE, &version, "Print the version and exit", NULL },
    { NULL },
  };
  g_autoptr (GOptionContext) context = g_option_context_new ("- kith LAN peering agent");
  g_autoptr (GError) error = NULL;
  g_autoptr (KithConfig) config = NULL;
  g_autoptr (KithAgent) agent = NULL;
  g_autoptr (GMainLoop) loop = NULL;

  setlocale (LC_ALL, "");
  g_option_context_add_main_entries (context, entries, NULL);
  if (!g_option_context_parse (context, &argc, &argv, &error)) {
    g_printerr ("kith-agent: %s\n", error->message);
    return EXIT_FAILURE;
  }
  if (version) {
    g_print ("kith-agent %s\n", KITH_VERSION);
    return EXIT_SUCCESS;
  }
  if (verbose)
    g_log_set_debug_enabled (TRUE);
  if (config_file == NULL)
    config_file = g_build_filename (KITH_SYSCONFDIR, "kith", "kith-agent.conf", NULL);
#ifdef G_OS_UNIX
  /* a peer that hangs up mid-response must not kill the daemon */
  signal (SIGPIPE, SIG_IGN);
#endif
  /* every HTTP connection costs a descriptor: take all the system allows (kith-http.h caps them) */
  kith_http_raise_fd_limit ();

  config = kith_config_new_from_file (config_file, &error);
  if (config == NULL) {
    g_printerr ("kith-agent: %s\n", error->message);
    return EXIT_FAILURE;
  }
  agent = kith_agent_new (config);
  if (check_config) {
    if (!kith_agent_check_config (agent, &error)) {
      g_printerr ("kith-agent: %s\n", error->message);
      return EXIT_FAILURE;
    }
    g_print ("%s: configuration valid\n", config_file);
    return EXIT_SUCCESS;
  }
  if (!kith_agent_start (agent, &error)) {
    g_printerr ("kith-agent: %s\n", error->message);
    return EXIT_FAILURE;
  }
  loop = g_main_loop_new (NULL, FALSE);
#ifdef G_OS_UNIX
  g_unix_signal_add (SIGTERM, kith_agent_main_quit, loop);
  g_unix_signal_add (SIGINT, kith_agent_main_quit, loop);
#endif
  g_message ("ready: node=%s http=%s dbus=%s", kith_agent_get_node_id (agent),
             kith_http_get_base_url (kith_agent_get_http (agent)),
             kith_dbus_get_address (kith_agent_get_dbus (agent)));
  g_main_loop_run (loop);
  kith_agent_stop (agent);
  return EXIT_SUCCESS;
}
