/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* kith-cmd-peers.c — `kith peers`: the nodes this agent heard on the LAN, where they are,
 * when they were last heard and what they last said they hold or fetch */
#include "kith-cli.h"

#include <string.h>

/* "12 s ago" */
static gchar *
kith_cmd_peers_ago (gint64 unix_seconds)
{
  gint64 delta = g_get_real_time () / G_USEC_PER_SEC - unix_seconds;
  g_autofree gchar *span = kith_cli_format_duration (MAX (delta, 0));
  return g_strdup_printf ("%s ago", span);
}

/* "downloading 46% https://…", "holds https://…", "asks for https://…" */
static gchar *
kith_cmd_peers_describe (GVariant *peer)
{
  const gchar *activity = NULL, *href = NULL;
  guint64 done = 0, total = 0;

  if (!g_variant_lookup (peer, "activity", "&s", &activity) || !g_variant_lookup (peer, "href", "&s", &href))
    return g_strdup ("-");
  g_variant_lookup (peer, "done", "t", &done);
  g_variant_lookup (peer, "total", "t", &total);
  if (g_str_equal (activity, "downloading") && total > 0)
    return g_strdup_printf ("downloading %u%% %s", (guint) (MIN (done, total) * 100 / total), href);
  if (g_str_equal (activity, "asks"))
    return g_strdup_printf ("asks for %s", href);
  return g_strdup_printf ("%s %s", activity, href);
}

static void
kith_cmd_peers_print (GVariant *peers)
{
  guint width = kith_cli_fd_is_terminal (1) ? kith_cli_terminal_width () : G_MAXUINT;
  gsize n = g_variant_n_children (peers);

  if (n == 0) {
    g_print ("No peers heard on the LAN yet.\n");
    return;
  }
  g_print ("%-8s  %-15s  %-14s  %s\n", "NODE", "ADDRESS", "LAST SEEN", "HOLDS / FETCHES");
  for (gsize i = 0; i < n; i++) {
    g_autoptr (GVariant) peer = g_variant_get_child_value (peers, i);
    const gchar *node = "", *address = "";
    gint64 seen = 0;
    g_autofree gchar *short_node = NULL;
    g_autofree gchar *ago = NULL;
    g_autofree gchar *what = kith_cmd_peers_describe (peer);
    g_autofree gchar *line = NULL;
    g_autofree gchar *cut = NULL;

    g_variant_lookup (peer, "node", "&s", &node);
    g_variant_lookup (peer, "address", "&s", &address);
    g_variant_lookup (peer, "last-seen", "x", &seen);
    short_node = kith_cli_short_node (node);
    ago = kith_cmd_peers_ago (seen);
    line = g_strdup_printf ("%-8s  %-15s  %-14s  %s", short_node, address, ago, what);
    cut = kith_cli_truncate_columns (line, width);
    g_print ("%s\n", cut);
  }
}

gint
kith_cmd_peers (KithCli *cli, const KithCommand *command, gint argc, gchar **argv)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (KithClient) client = NULL;
  g_autoptr (GVariant) status = NULL;
  g_autoptr (GVariant) section = NULL;
  g_autoptr (GVariant) peers = NULL;

  if (!kith_cli_parse_no_args (cli, command, NULL, &argc, &argv, &error) ||
      (status = kith_cli_get_status (cli, &client, &error)) == NULL)
    return kith_cli_report_error (cli, error);
  section = g_variant_lookup_value (status, "peering", G_VARIANT_TYPE_VARDICT);
  if (section != NULL)
    peers = g_variant_lookup_value (section, "peers", G_VARIANT_TYPE ("aa{sv}"));
  if (peers == NULL) {
    g_set_error_literal (&error, KITH_CLIENT_ERROR, KITH_CLIENT_ERROR_PLUGIN_MISSING,
                         "the agent's peering plugin is not running (see kith status)");
    return kith_cli_report_error (cli, error);
  }
  if (cli->json) {
    g_autoptr (JsonNode) root = kith_cli_variant_to_json (peers);
    kith_cli_print_json (root);
  } else {
    kith_cmd_peers_print (peers);
  }
  return KITH_EXIT_OK;
}
