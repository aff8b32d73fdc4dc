/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* kith-cli.c — the shared plumbing of the `kith` commands */
#include "kith-cli.h"
#include "kith-json.h"

#include <stdio.h>
#include <string.h>

#ifdef G_OS_UNIX
#include <glib-unix.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <unistd.h>
#endif

#define KITH_CLI_RATE_SAMPLE_US (G_USEC_PER_SEC / 4)

void
kith_cli_add_global_options (KithCli *cli, GOptionContext *context)
{
  const GOptionEntry entries[] = {
    { "address", 'a', 0, G_OPTION_ARG_STRING, &cli->address,
      "D-Bus address of an agent listening peer-to-peer (overrides KITH_AGENT_ADDRESS)", "ADDR" },
    { "session", 0, 0, G_OPTION_ARG_NONE, &cli->session, "Use the agent on the session bus", NULL },
    { "system", 0, 0, G_OPTION_ARG_NONE, &cli->system, "Use the agent on the system bus (default)", NULL },
    { "json", 'j', 0, G_OPTION_ARG_NONE, &cli->json, "Print only JSON on stdout, errors included", NULL },
    { "verbose", 'v', 0, G_OPTION_ARG_NONE, &cli->verbose, "Show debug messages on stderr", NULL },
    { "version", 0, 0, G_OPTION_ARG_NONE, &cli->version, "Print the version and exit", NULL },
    { NULL },
  };
  /* main entries, so every --help lists them */
  g_option_context_add_main_entries (context, entries, NULL);
}

gboolean
kith_cli_parse (KithCli *cli, const KithCommand *command, const gchar *parameter_string,
                const GOptionEntry *entries, gint *argc, gchar ***argv, GError **error)
{
  g_autoptr (GOptionContext) context = NULL;
  g_autofree gchar *parameters = g_strdup_printf ("%s%s%s", command->name,
                                                  parameter_string != NULL ? " " : "",
                                                  parameter_string != NULL ? parameter_string : "");

  context = g_option_context_new (parameters);
  g_option_context_set_summary (context, command->summary);
  if (entries != NULL)
    g_option_context_add_main_entries (context, entries, NULL);
  kith_cli_add_global_options (cli, context);
  if (!g_option_context_parse (context, argc, argv, error))
    return FALSE;
  if (cli->session && cli->system) {
    g_set_error_literal (error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
                         "--session and --system exclude each other");
    return FALSE;
  }
  if (cli->verbose)
    g_setenv ("G_MESSAGES_DEBUG", "all", TRUE);
  return TRUE;
}

gboolean
kith_cli_parse_no_args (KithCli *cli, const KithCommand *command, const GOptionEntry *entries, gint *argc,
                        gchar ***argv, GError **error)
{
  if (!kith_cli_parse (cli, command, NULL, entries, argc, argv, error))
    return FALSE;
  if (*argc > 1) {
    g_set_error (error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE, "%s takes no arguments, got '%s'", command->name,
                 (*argv)[1]);
    return FALSE;
  }
  return TRUE;
}

KithClient *
kith_cli_connect (KithCli *cli, GError **error)
{
  g_autoptr (KithClient) client = kith_client_new ();

  if (cli->address != NULL)
    kith_client_set_address (client, cli->address);
  kith_client_set_bus_type (client, cli->session ? G_BUS_TYPE_SESSION : G_BUS_TYPE_SYSTEM);
  if (!kith_client_connect (client, NULL, error))
    return NULL;
  return g_steal_pointer (&client);
}

GVariant *
kith_cli_get_status (KithCli *cli, KithClient **client, GError **error)
{
  *client = kith_cli_connect (cli, error);
  if (*client == NULL)
    return NULL;
  return kith_client_get_status (*client, NULL, error);
}

static gint
kith_cli_exit_code (const GError *error)
{
  if (error->domain == G_OPTION_ERROR)
    return KITH_EXIT_USAGE;
  if (error->domain != KITH_CLIENT_ERROR)
    return KITH_EXIT_FAILED;
  switch (error->code) {
  case KITH_CLIENT_ERROR_AGENT_NOT_RUNNING: return KITH_EXIT_NO_AGENT;
  case KITH_CLIENT_ERROR_PERMISSION_DENIED: return KITH_EXIT_PERMISSION_DENIED;
  case KITH_CLIENT_ERROR_PLUGIN_MISSING: return KITH_EXIT_PLUGIN_MISSING;
  default: return KITH_EXIT_FAILED;
  }
}

/* "agent-not-running", "permission-denied", … for libkith's errors; "usage" for a bad
 * command line; "failed" for the rest (the CLI's own file errors). */
static const gchar *
kith_cli_error_name (const GError *error)
{
  if (error->domain == KITH_CLIENT_ERROR)
    return kith_client_error_to_string (error->code);
  if (error->domain == G_OPTION_ERROR)
    return "usage";
  return "failed";
}

gint
kith_cli_report_error (KithCli *cli, const GError *error)
{
  if (cli->json) {
    g_autoptr (JsonBuilder) builder = json_builder_new ();
    g_autoptr (JsonNode) root = NULL;

    json_builder_begin_object (builder);
    json_builder_set_member_name (builder, "error");
    json_builder_begin_object (builder);
    /* name: stable, for scripts to match; exit-status: what kith exits with */
    kith_json_add_string (builder, "name", kith_cli_error_name (error));
    kith_json_add_int (builder, "exit-status", kith_cli_exit_code (error));
    kith_json_add_string (builder, "domain", g_quark_to_string (error->domain));
    kith_json_add_int (builder, "code", error->code);
    kith_json_add_string (builder, "message", error->message);
    json_builder_end_object (builder);
    json_builder_end_object (builder);
    root = json_builder_get_root (builder);
    kith_cli_print_json (root);
  } else {
    g_printerr ("kith: %s\n", error->message);
    if (error->domain == G_OPTION_ERROR)
      g_printerr ("Try 'kith --help' for the commands and options.\n");
  }
  return kith_cli_exit_code (error);
}

void
kith_cli_print_json (JsonNode *node)
{
  g_autoptr (JsonGenerator) generator = json_generator_new ();
  g_autofree gchar *text = NULL;

  json_generator_set_pretty (generator, TRUE);
  json_generator_set_root (generator, node);
  text = json_generator_to_data (generator, NULL);
  g_print ("%s\n", text);
}

gchar *
kith_cli_format_value (GVariant *value)
{
  g_autoptr (GVariant) inner = NULL;

  if (g_variant_is_of_type (value, G_VARIANT_TYPE_VARIANT)) {
    inner = g_variant_get_variant (value);
    return kith_cli_format_value (inner);
  }
  if (g_variant_is_of_type (value, G_VARIANT_TYPE_STRING) ||
      g_variant_is_of_type (value, G_VARIANT_TYPE_OBJECT_PATH) ||
      g_variant_is_of_type (value, G_VARIANT_TYPE_SIGNATURE))
    return g_variant_dup_string (value, NULL);
  if (g_variant_is_of_type (value, G_VARIANT_TYPE_BOOLEAN))
    return g_strdup (g_variant_get_boolean (value) ? "yes" : "no");
  if (g_variant_is_of_type (value, G_VARIANT_TYPE_STRING_ARRAY)) {
    g_autofree const gchar **strv = g_variant_get_strv (value, NULL);
    return strv[0] != NULL ? g_strjoinv (", ", (gchar **) strv) : g_strdup ("(none)");
  }
  return g_variant_print (value, FALSE);
}

gboolean
kith_cli_is_interactive (KithCli *cli)
{
#ifdef G_OS_UNIX
  return !cli->json && isatty (STDOUT_FILENO);
#else
  return FALSE;
#endif
}

gboolean
kith_cli_fd_is_terminal (gint fd)
{
#ifdef G_OS_UNIX
  return isatty (fd);
#else
  return FALSE;
#endif
}

gboolean
kith_cli_use_colour (gint fd)
{
  return kith_cli_fd_is_terminal (fd) && g_getenv ("NO_COLOR") == NULL && g_strcmp0 (g_getenv ("TERM"), "dumb") != 0;
}

guint
kith_cli_terminal_width_fd (gint fd)
{
#if defined(G_OS_UNIX) && defined(TIOCGWINSZ)
  struct winsize size = { 0 };
  if (ioctl (fd, TIOCGWINSZ, &size) == 0 && size.ws_col >= 20)
    return size.ws_col;
#endif
  return 80;
}

static guint
kith_cli_char_width (gunichar c)
{
  if (g_unichar_iszerowidth (c))
    return 0;
  return g_unichar_iswide (c) ? 2 : 1;
}

guint
kith_cli_display_width (const gchar *text)
{
  guint width = 0;

  if (!g_utf8_validate (text, -1, NULL))
    return (guint) strlen (text);
  for (const gchar *p = text; *p != '\0'; p = g_utf8_next_char (p))
    width += kith_cli_char_width (g_utf8_get_char (p));
  return width;
}

gchar *
kith_cli_truncate_columns (const gchar *text, guint columns)
{
  guint width = 0;
  const gchar *p;

  if (kith_cli_display_width (text) <= columns)
    return g_strdup (text);
  if (columns == 0 || !g_utf8_validate (text, -1, NULL))
    return g_strndup (text, columns);
  for (p = text; *p != '\0'; p = g_utf8_next_char (p)) {
    guint w = kith_cli_char_width (g_utf8_get_char (p));
    if (width + w > columns - 1)
      break;
    width += w;
  }
  return g_strdup_printf ("%.*s…", (gint) (p - text), text);
}

guint
kith_cli_terminal_width (void)
{
#if defined(G_OS_UNIX) && defined(TIOCGWINSZ)
  struct winsize size = { 0 };
  if (ioctl (STDOUT_FILENO, TIOCGWINSZ, &size) == 0 && size.ws_col >= 20)
    return size.ws_col;
#endif
  return 80;
}

#ifdef G_OS_UNIX
static gboolean
kith_cli_interrupted (gpointer user_data)
{
  g_cancellable_cancel (G_CANCELLABLE (user_data));
  return G_SOURCE_CONTINUE;
}
#endif

guint
kith_cli_cancel_on_interrupt (GCancellable *cancellable)
{
#ifdef G_OS_UNIX
  return g_unix_signal_add_full (G_PRIORITY_DEFAULT, SIGINT, kith_cli_interrupted,
                                 g_object_ref (cancellable), g_object_unref);
#else
  return 0;
#endif
}

gchar *
kith_cli_format_rate (gdouble bytes_per_second)
{
  g_autofree gchar *size = g_format_size ((guint64) MAX (bytes_per_second, 0));
  return g_strdup_printf ("%s/s", size);
}

gchar *
kith_cli_format_eta (gdouble seconds)
{
  guint64 s;

  if (seconds < 0 || seconds > 100 * 3600)
    return g_strdup ("--:--");
  s = (guint64) (seconds + 0.5);
  if (s >= 3600)
    return g_strdup_printf ("%" G_GUINT64_FORMAT ":%02u:%02u", s / 3600,
                            (guint) (s / 60 % 60), (guint) (s % 60));
  return g_strdup_printf ("%u:%02u", (guint) (s / 60), (guint) (s % 60));
}

gchar *
kith_cli_short_node (const gchar *node)
{
  if (node == NULL)
    return g_strdup ("?");
  return g_strndup (node, 8);
}

void
kith_cli_rate_update (KithCliRate *rate, guint64 bytes, gint64 now_us)
{
  gdouble instant;

  if (rate->sample_us == 0 || bytes < rate->sample_bytes) {
    rate->sample_us = now_us;
    rate->sample_bytes = bytes;
    return;
  }
  /* samples closer than this make a jumpy rate out of bursty progress reports */
  if (now_us - rate->sample_us < KITH_CLI_RATE_SAMPLE_US)
    return;
  instant = (bytes - rate->sample_bytes) * (gdouble) G_USEC_PER_SEC / (now_us - rate->sample_us);
  rate->rate = rate->rate == 0 ? instant : 0.6 * rate->rate + 0.4 * instant;
  rate->sample_us = now_us;
  rate->sample_bytes = bytes;
}
