/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* kith-cmd-status.c — `kith status`: who the agent is, its plugins, and every status section */
#include "kith-cli.h"
#include "kith-json.h"

static void kith_cmd_status_print_dict (GString *out, GVariant *dict, guint indent);

/* Dictionaries (a{sv}) nest; anything else fits on the key's line. */
static gboolean
kith_cmd_status_is_dict (GVariant *value)
{
  return g_variant_is_of_type (value, G_VARIANT_TYPE_VARDICT);
}

static gint
kith_cmd_status_compare_keys (gconstpointer a, gconstpointer b)
{
  return g_strcmp0 (*(const gchar *const *) a, *(const gchar *const *) b);
}

/* Keys in alphabetical order: agents build these dictionaries in hash order. */
static void
kith_cmd_status_print_dict (GString *out, GVariant *dict, guint indent)
{
  g_autoptr (GPtrArray) keys = g_ptr_array_new ();
  GVariantIter iter;
  const gchar *key;
  gsize width = 0;

  g_variant_iter_init (&iter, dict);
  while (g_variant_iter_next (&iter, "{&sv}", &key, NULL)) {
    g_ptr_array_add (keys, (gpointer) key);
    width = MAX (width, strlen (key));
  }
  if (width == 0) {
    g_string_append_printf (out, "%*s(empty)\n", (gint) indent, "");
    return;
  }
  g_ptr_array_sort (keys, kith_cmd_status_compare_keys);
  for (guint i = 0; i < keys->len; i++) {
    g_autoptr (GVariant) value = g_variant_lookup_value (dict, g_ptr_array_index (keys, i), NULL);
    key = g_ptr_array_index (keys, i);
    if (kith_cmd_status_is_dict (value)) {
      g_string_append_printf (out, "%*s%s:\n", (gint) indent, "", key);
      kith_cmd_status_print_dict (out, value, indent + 2);
    } else {
      g_autofree gchar *text = kith_cli_format_field (key, value);
      g_string_append_printf (out, "%*s%-*s  %s\n", (gint) indent, "", (gint) width, key, text);
    }
  }
}

/* The relay this node reaches its backend through, from the agent section (docs/relay.md). */
static void
kith_cmd_status_print_relay (GString *out, GVariant *status)
{
  g_autoptr (GVariant) agent = g_variant_lookup_value (status, "agent", G_VARIANT_TYPE_VARDICT);
  const gchar *url = NULL, *node = NULL;

  if (agent == NULL || !g_variant_lookup (agent, "relay", "&s", &url))
    return;
  if (!g_variant_lookup (agent, "relay-node", "&s", &node))
    node = "?";
  g_string_append_printf (out, "Relay:    %s at %s (the backend through its tunnel)\n", node, url);
}

static void
kith_cmd_status_print_human (KithClient *client, GVariant *status)
{
  g_autoptr (GString) out = g_string_new (NULL);
  g_autoptr (GPtrArray) plugins = kith_client_get_plugins (client);
  const gchar *section;
  gsize width = 0;

  g_string_append_printf (out, "Agent:    %s\n", kith_client_get_target (client));
  g_string_append_printf (out, "Node id:  %s\n", kith_client_get_node_id (client));
  g_string_append_printf (out, "Version:  %s\n", kith_client_get_version (client));
  kith_cmd_status_print_relay (out, status);
  g_string_append (out, "Plugins:");
  for (guint i = 0; i < plugins->len; i++) {
    KithClientPlugin *plugin = g_ptr_array_index (plugins, i);
    width = MAX (width, strlen (plugin->name));
  }
  if (plugins->len == 0)
    g_string_append (out, "  (none)");
  g_string_append_c (out, '\n');
  for (guint i = 0; i < plugins->len; i++) {
    KithClientPlugin *plugin = g_ptr_array_index (plugins, i);
    const gchar *version = plugin->version != NULL && plugin->version[0] != '\0' ? plugin->version : "-";
    g_string_append_printf (out, "  %-*s  %-10s  %s\n", (gint) width, plugin->name,
                            version, plugin->state);
  }

  for (gsize i = 0; i < g_variant_n_children (status); i++) {
    g_autoptr (GVariant) value = NULL;
    g_variant_get_child (status, i, "{&sv}", &section, &value);
    g_string_append_printf (out, "\n[%s]\n", section);
    if (kith_cmd_status_is_dict (value)) {
      kith_cmd_status_print_dict (out, value, 2);
    } else {
      g_autofree gchar *text = kith_cli_format_value (value);
      g_string_append_printf (out, "  %s\n", text);
    }
  }
  g_print ("%s", out->str);
}

static JsonNode *
kith_cmd_status_to_json (KithClient *client, GVariant *status)
{
  g_autoptr (JsonBuilder) builder = json_builder_new ();
  g_autoptr (GPtrArray) plugins = kith_client_get_plugins (client);

  json_builder_begin_object (builder);
  kith_json_add_string (builder, "node-id", kith_client_get_node_id (client));
  kith_json_add_string (builder, "version", kith_client_get_version (client));
  json_builder_set_member_name (builder, "plugins");
  json_builder_begin_array (builder);
  for (guint i = 0; i < plugins->len; i++) {
    KithClientPlugin *plugin = g_ptr_array_index (plugins, i);
    json_builder_begin_object (builder);
    kith_json_add_string (builder, "name", plugin->name);
    kith_json_add_string (builder, "version", plugin->version);
    kith_json_add_string (builder, "state", plugin->state);
    json_builder_end_object (builder);
  }
  json_builder_end_array (builder);
  json_builder_set_member_name (builder, "sections");
  json_builder_add_value (builder, kith_cli_variant_to_json (status));
  json_builder_end_object (builder);
  return json_builder_get_root (builder);
}

gint
kith_cmd_status (KithCli *cli, const KithCommand *command, gint argc, gchar **argv)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (KithClient) client = NULL;
  g_autoptr (GVariant) status = NULL;

  if (!kith_cli_parse_no_args (cli, command, NULL, &argc, &argv, &error) ||
      (status = kith_cli_get_status (cli, &client, &error)) == NULL)
    return kith_cli_report_error (cli, error);

  if (cli->json) {
    g_autoptr (JsonNode) root = kith_cmd_status_to_json (client, status);
    kith_cli_print_json (root);
  } else {
    kith_cmd_status_print_human (client, status);
  }
  return KITH_EXIT_OK;
}
