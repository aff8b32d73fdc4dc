/* kith-cli.c — the shared plumbing of the `kith` commands */
#include "kith-cli.h"

#include <stdio.h>

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
    { NULL },
  };
  /* main entries, so every --help lists them */
  g_option_context_add_main_entries (context, entries, NULL);
}

gboolean
kith_cli_parse (KithCli *cli, const KithCommand *command, const gchar *parameter_string,
                const GOptionEntry *entries, gint *argc, gchar ***argv, GError **error)
{
  g_autoptr(GOptionContext) context = NULL;
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

KithClient *
kith_cli_connect (KithCli *cli, GError **error)
{
  g_autoptr(KithClient) client = kith_client_new ();

  if (cli->address != NULL)
    kith_client_set_address (client, cli->address);
  kith_client_set_bus_type (client, cli->session ? G_BUS_TYPE_SESSION : G_BUS_TYPE_SYSTEM);
  if (!kith_client_connect (client, NULL, error))
    return NULL;
  return g_steal_pointer (&client);
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

gint
kith_cli_report_error (KithCli *cli, const GError *error)
{
  if (cli->json) {
    g_autoptr(JsonBuilder) builder = json_builder_new ();
    g_autoptr(JsonNode) root = NULL;

    json_builder_begin_object (builder);
    json_builder_set_member_name (builder, "error");
    json_builder_begin_object (builder);
    json_builder_set_member_name (builder, "domain");
    json_builder_add_string_value (builder, g_quark_to_string (error->domain));
    json_builder_set_member_name (builder, "code");
    json_builder_add_int_value (builder, error->code);
    if (error->domain == KITH_CLIENT_ERROR) {
      json_builder_set_member_name (builder, "name");
      json_builder_add_string_value (builder, kith_client_error_to_string (error->code));
    }
    json_builder_set_member_name (builder, "message");
    json_builder_add_string_value (builder, error->message);
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
  g_autoptr(JsonGenerator) generator = json_generator_new ();
  g_autofree gchar *text = NULL;

  json_generator_set_pretty (generator, TRUE);
  json_generator_set_root (generator, node);
  text = json_generator_to_data (generator, NULL);
  g_print ("%s\n", text);
}

gchar *
kith_cli_format_value (GVariant *value)
{
  g_autoptr(GVariant) inner = NULL;

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
