/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* kith.c — the `kith` command line: global options, then one command from the table */
#include "kith-cli.h"

#include "kith-build-config.h"

#include <locale.h>

/* A new command is one row here and one kith-NAME.c file. */
static const KithCommand kith_commands[] = {
  { "status", "Show the agent's node id, version, plugins and the status of each part", kith_cmd_status },
  { "fetch", "Fetch a URL through the agent: from a peer on the LAN, else from the origin", kith_cmd_fetch },
  { "watch", "Watch downloads in progress on the LAN and this agent's peering counters", kith_cmd_watch },
  { "update", "Show the installed signature files (status) or check for updates now (check)", kith_cmd_update },
  { "upload", "Send a report to the backend and wait for its receipt (FILE), show the outbox (status) or the "
    "blacklisted peers (blacklist)", kith_cmd_upload },
  { "peers", "List the peers heard on the LAN: node, address, last seen, what each holds or fetches", kith_cmd_peers },
};

static const gchar kith_help_description[] =
  "Which agent: --address ADDR, else the environment variable KITH_AGENT_ADDRESS\n"
  "(the dbus= address of an agent listening peer-to-peer, e.g. unix:path=/run/kith.sock),\n"
  "else org.kith.Agent1 on the system bus (or the session bus with --session).\n"
  "\n"
  "Exit status:\n"
  "  0   success\n"
  "  1   the agent reported an error, or something else failed\n"
  "  2   no kith agent answers (not running, or a wrong address or bus)\n"
  "  3   not allowed to talk to the agent\n"
  "  4   a plugin the command needs is not running in the agent\n"
  "  64  bad command line\n";

static gchar *
kith_commands_summary (void)
{
  GString *str = g_string_new ("Commands:");
  for (gsize i = 0; i < G_N_ELEMENTS (kith_commands); i++)
    g_string_append_printf (str, "\n  %-10s %s", kith_commands[i].name, kith_commands[i].summary);
  g_string_append (str, "\n\nRun 'kith COMMAND --help' for a command's own options.");
  return g_string_free (str, FALSE);
}

static const KithCommand *
kith_command_find (const gchar *name)
{
  for (gsize i = 0; i < G_N_ELEMENTS (kith_commands); i++) {
    if (g_strcmp0 (kith_commands[i].name, name) == 0)
      return &kith_commands[i];
  }
  return NULL;
}

static gint
kith_run (KithCli *cli, gint argc, gchar **argv)
{
  g_autoptr (GOptionContext) context = NULL;
  g_autoptr (GError) error = NULL;
  g_autofree gchar *summary = kith_commands_summary ();
  const KithCommand *command;

  /* global options up to the command name; the command parses the rest */
  context = g_option_context_new ("COMMAND [ARGS…]");
  g_option_context_set_strict_posix (context, TRUE);
  g_option_context_set_summary (context, summary);
  g_option_context_set_description (context, kith_help_description);
  kith_cli_add_global_options (cli, context);
  if (!g_option_context_parse (context, &argc, &argv, &error))
    return kith_cli_report_error (cli, error);
  if (cli->version) {
    g_print ("kith %s\n", KITH_VERSION);
    return KITH_EXIT_OK;
  }
  if (argc < 2) {
    g_set_error_literal (&error, G_OPTION_ERROR, G_OPTION_ERROR_FAILED, "no command given");
    return kith_cli_report_error (cli, error);
  }
  command = kith_command_find (argv[1]);
  if (command == NULL) {
    g_set_error (&error, G_OPTION_ERROR, G_OPTION_ERROR_UNKNOWN_OPTION,
                 "unknown command '%s'", argv[1]);
    return kith_cli_report_error (cli, error);
  }
  return command->run (cli, command, argc - 1, argv + 1);
}

int
main (int argc, char *argv[])
{
  KithCli cli = { 0 };
  gint rc;

  setlocale (LC_ALL, "");
  g_set_prgname ("kith");
  /* stdout is for results only (--json must parse); every log line goes to stderr */
  g_log_writer_default_set_use_stderr (TRUE);
  rc = kith_run (&cli, argc, argv);
  g_free (cli.address);
  return rc;
}
