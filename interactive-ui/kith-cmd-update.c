/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* kith-cmd-update.c — `kith update status` and `kith update check`: the signature files the
 * update plugin keeps, and a check now with every file's progress and where it came from */
#include "kith-cli.h"
#include "kith-json.h"

#include <string.h>

typedef struct {
  KithClientUpdateStatus *status;
  gchar *result;
  GError *error;
  GHashTable *sources; /* name → source shown, so each change prints once */
  GHashTable *sizes;   /* name → bytes, once verified */
  gboolean json;
} KithUpdateRun;

static void
kith_cmd_update_run_clear (KithUpdateRun *run)
{
  g_clear_pointer (&run->status, kith_client_update_status_free);
  g_clear_pointer (&run->result, g_free);
  g_clear_error (&run->error);
  g_clear_pointer (&run->sources, g_hash_table_unref);
  g_clear_pointer (&run->sizes, g_hash_table_unref);
}

/* "origin", "cache", "relay" (fetching it for this offline node), or "peer 1a2b3c4d" (a
 * node id shortened: enough on one LAN); caller frees. */
static gchar *
kith_cmd_update_source_label (const gchar *source)
{
  if (g_strcmp0 (source, "origin") == 0 || g_strcmp0 (source, "cache") == 0 || g_strcmp0 (source, "relay") == 0)
    return g_strdup (source);
  return g_strdup_printf ("peer %.8s", source);
}

static gchar *
kith_cmd_update_format_time (gint64 unix_seconds)
{
  g_autoptr (GDateTime) time = NULL;

  if (unix_seconds <= 0)
    return g_strdup ("never");
  time = g_date_time_new_from_unix_utc (unix_seconds);
  return g_date_time_format (time, "%Y-%m-%d %H:%M:%S UTC");
}

static JsonNode *
kith_cmd_update_status_to_json (KithClientUpdateStatus *status)
{
  g_autoptr (JsonBuilder) builder = json_builder_new ();
  g_autoptr (GList) names = g_list_sort (g_hash_table_get_keys (status->installed), (GCompareFunc) g_strcmp0);

  json_builder_begin_object (builder);
  kith_json_add_string (builder, "state", status->state);
  kith_json_add_int (builder, "catalog-version", (gint64) status->catalog_version);
  json_builder_set_member_name (builder, "installed");
  json_builder_begin_object (builder);
  for (GList *l = names; l != NULL; l = l->next) {
    kith_json_add_string (builder, l->data, g_hash_table_lookup (status->installed, l->data));
  }
  json_builder_end_object (builder);
  kith_json_add_int (builder, "last-check", status->last_check);
  kith_json_add_string (builder, "last-result", status->last_result);
  kith_json_add_int (builder, "next-check", status->next_check);
  json_builder_end_object (builder);
  return json_builder_get_root (builder);
}

static void
kith_cmd_update_status_print (KithClientUpdateStatus *status)
{
  g_autoptr (GList) names = g_list_sort (g_hash_table_get_keys (status->installed), (GCompareFunc) g_strcmp0);
  g_autofree gchar *last = kith_cmd_update_format_time (status->last_check);
  g_autofree gchar *next = kith_cmd_update_format_time (status->next_check);
  gsize width = 0;

  g_print ("State:        %s\n", status->state);
  g_print ("Catalog:      %" G_GUINT64_FORMAT "%s\n", status->catalog_version,
           status->catalog_version == 0 ? " (nothing installed)" : "");
  g_print ("Last check:   %s\n", last);
  g_print ("Last result:  %s\n", status->last_result[0] != '\0' ? status->last_result : "-");
  g_print ("Next check:   %s\n", next);
  g_print ("Installed:%s\n", names == NULL ? "    (none)" : "");
  for (GList *l = names; l != NULL; l = l->next)
    width = MAX (width, strlen (l->data));
  for (GList *l = names; l != NULL; l = l->next)
    g_print ("  %-*s  %s\n", (gint) width, (const gchar *) l->data,
             (const gchar *) g_hash_table_lookup (status->installed, l->data));
}

static gint
kith_cmd_update_status (KithCli *cli, KithClient *client)
{
  KithUpdateRun run = { 0 };
  gint rc = KITH_EXIT_OK;

  run.status = kith_client_update_get_status (client, NULL, &run.error);
  if (run.status == NULL) {
    rc = kith_cli_report_error (cli, run.error);
  } else if (cli->json) {
    g_autoptr (JsonNode) root = kith_cmd_update_status_to_json (run.status);
    kith_cli_print_json (root);
  } else {
    kith_cmd_update_status_print (run.status);
  }
  kith_cmd_update_run_clear (&run);
  return rc;
}

/* One line when a file's source becomes known or changes, one when it verified. */
static void
kith_cmd_update_progress (const gchar *name, const gchar *source, guint64 done, guint64 total,
                          gpointer user_data)
{
  KithUpdateRun *run = user_data;
  const gchar *shown = g_hash_table_lookup (run->sources, name);
  g_autofree gchar *label = NULL;

  if (source[0] == '\0')
    return;
  label = kith_cmd_update_source_label (source);
  if (total > 0 && done == total) {
    if (!g_hash_table_contains (run->sizes, name) && !run->json)
      g_print ("  %-10s %9" G_GUINT64_FORMAT " bytes  from %s  verified\n", name, total, label);
    g_hash_table_insert (run->sizes, g_strdup (name), g_strdup_printf ("%" G_GUINT64_FORMAT, total));
  } else if (g_strcmp0 (shown, label) != 0 && !run->json) {
    g_print ("  %-10s downloading from %s\n", name, label);
  }
  g_hash_table_insert (run->sources, g_strdup (name), g_steal_pointer (&label));
}

static JsonNode *
kith_cmd_update_check_to_json (KithUpdateRun *run)
{
  g_autoptr (JsonBuilder) builder = json_builder_new ();
  g_autoptr (GList) names = g_list_sort (g_hash_table_get_keys (run->sizes), (GCompareFunc) g_strcmp0);

  json_builder_begin_object (builder);
  kith_json_add_string (builder, "result", run->result);
  json_builder_set_member_name (builder, "files");
  json_builder_begin_array (builder);
  for (GList *l = names; l != NULL; l = l->next) {
    json_builder_begin_object (builder);
    kith_json_add_string (builder, "name", l->data);
    kith_json_add_string (builder, "source", g_hash_table_lookup (run->sources, l->data));
    kith_json_add_int (builder, "bytes", g_ascii_strtoll (g_hash_table_lookup (run->sizes, l->data), NULL, 10));
    json_builder_end_object (builder);
  }
  json_builder_end_array (builder);
  json_builder_end_object (builder);
  return json_builder_get_root (builder);
}

static gint
kith_cmd_update_check (KithCli *cli, KithClient *client)
{
  KithUpdateRun run = { .json = cli->json };
  gint rc = KITH_EXIT_OK;

  run.sources = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
  run.sizes = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
  if (!cli->json)
    g_print ("Checking for updates on %s\n", kith_client_get_node_id (client));
  run.result = kith_client_update_check (client, kith_cmd_update_progress, &run, NULL, &run.error);
  if (run.result == NULL) {
    rc = kith_cli_report_error (cli, run.error);
  } else if (cli->json) {
    g_autoptr (JsonNode) root = kith_cmd_update_check_to_json (&run);
    kith_cli_print_json (root);
  } else {
    g_print ("%s\n", run.result);
  }
  kith_cmd_update_run_clear (&run);
  return rc;
}

gint
kith_cmd_update (KithCli *cli, const KithCommand *command, gint argc, gchar **argv)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (KithClient) client = NULL;

  if (!kith_cli_parse (cli, command, "status|check", NULL, &argc, &argv, &error))
    return kith_cli_report_error (cli, error);
  if (argc != 2 || (g_strcmp0 (argv[1], "status") != 0 && g_strcmp0 (argv[1], "check") != 0)) {
    g_set_error_literal (&error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
                         "update takes one of: status, check");
    return kith_cli_report_error (cli, error);
  }
  client = kith_cli_connect (cli, &error);
  if (client == NULL)
    return kith_cli_report_error (cli, error);
  if (g_strcmp0 (argv[1], "status") == 0)
    return kith_cmd_update_status (cli, client);
  return kith_cmd_update_check (cli, client);
}
