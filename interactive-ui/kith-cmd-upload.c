/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* kith-cmd-upload.c — `kith upload FILE` (hand a report to the agent and wait for its receipt),
 * `kith upload status` (the outbox, with each report's last error), `kith upload cancel NAME`
 * (withdraw a pending report) and `kith upload blacklist` (the nodes the upload
 * service blacklisted, and why) */
#include "kith-cli.h"
#include "kith-json.h"

#include <errno.h>
#include <glib/gstdio.h>
#include <string.h>
#include <sys/stat.h>

typedef struct {
  GMainLoop *loop;
  KithClientUploadStatus *status;
  gchar *result;
  GError *error;
  guint timeout_s;
} KithUploadRun;

static void
kith_cmd_upload_run_clear (KithUploadRun *run)
{
  g_clear_pointer (&run->loop, g_main_loop_unref);
  g_clear_pointer (&run->status, kith_client_upload_status_free);
  g_clear_pointer (&run->result, g_free);
  g_clear_error (&run->error);
}


static void
kith_cmd_upload_file_cb (GObject *source, GAsyncResult *res, gpointer user_data)
{
  KithUploadRun *run = user_data;
  run->result = kith_client_upload_file_finish (KITH_CLIENT (source), res, &run->error);
  g_main_loop_quit (run->loop);
}

/* Ctrl-C while waiting: the report is the agent's now; it delivers it without us */
static void
kith_cmd_upload_interrupted_cb (GCancellable *cancellable, gpointer user_data)
{
  KithUploadRun *run = user_data;

  if (run->result == NULL && run->error == NULL)
    g_set_error_literal (&run->error, KITH_CLIENT_ERROR, KITH_CLIENT_ERROR_CANCELLED,
                         "stopped waiting; the report stays in the agent's outbox until its receipt arrives");
  g_main_loop_quit (run->loop);
}

/* --timeout: stop waiting; the agent keeps the report and retries */
static gboolean
kith_cmd_upload_timeout_cb (gpointer user_data)
{
  KithUploadRun *run = user_data;

  if (run->result == NULL && run->error == NULL)
    g_set_error (&run->error, KITH_CLIENT_ERROR, KITH_CLIENT_ERROR_FAILED,
                 "no receipt within %u s; the report stays queued and the agent keeps retrying "
                 "(see kith upload status)", run->timeout_s);
  g_main_loop_quit (run->loop);
  return G_SOURCE_REMOVE;
}

/* The CLI's own check of FILE before the agent sees it: errors name the file. */
static gboolean
kith_cmd_upload_check_file (const gchar *path, GError **error)
{
  GStatBuf st;
  gint saved;

  if (g_stat (path, &st) != 0) {
    saved = errno;
    g_set_error (error, G_FILE_ERROR, g_file_error_from_errno (saved), "%s: %s", path, g_strerror (saved));
    return FALSE;
  }
  if (!S_ISREG (st.st_mode)) {
    g_set_error (error, G_FILE_ERROR, S_ISDIR (st.st_mode) ? G_FILE_ERROR_ISDIR : G_FILE_ERROR_INVAL,
                 "%s: %s, not a report file", path, S_ISDIR (st.st_mode) ? "is a directory" : "is not a regular file");
    return FALSE;
  }
  if (g_access (path, R_OK) != 0) {
    saved = errno;
    g_set_error (error, G_FILE_ERROR, g_file_error_from_errno (saved), "%s: %s", path, g_strerror (saved));
    return FALSE;
  }
  return TRUE;
}

static gchar *
kith_cmd_upload_format_time (gint64 unix_seconds)
{
  g_autoptr (GDateTime) time = g_date_time_new_from_unix_utc (unix_seconds);
  return time != NULL ? g_date_time_format (time, "%Y-%m-%d %H:%M:%S UTC") : g_strdup ("?");
}

static void
kith_cmd_upload_blacklist_to_json (JsonBuilder *builder, GPtrArray *blacklist)
{
  json_builder_begin_array (builder);
  for (guint i = 0; i < blacklist->len; i++) {
    KithClientUploadBlacklisted *entry = g_ptr_array_index (blacklist, i);
    json_builder_begin_object (builder);
    kith_json_add_string (builder, "node", entry->node);
    kith_json_add_string (builder, "reason", entry->reason);
    kith_json_add_int (builder, "since", entry->since);
    kith_json_add_int (builder, "until", entry->until);
    json_builder_end_object (builder);
  }
  json_builder_end_array (builder);
}

static JsonNode *
kith_cmd_upload_status_to_json (KithClientUploadStatus *status)
{
  g_autoptr (JsonBuilder) builder = json_builder_new ();

  json_builder_begin_object (builder);
  kith_json_add_int (builder, "delivered", (gint64) status->delivered);
  json_builder_set_member_name (builder, "pending");
  json_builder_begin_array (builder);
  for (guint i = 0; i < status->pending->len; i++) {
    KithClientUploadReport *report = g_ptr_array_index (status->pending, i);
    json_builder_begin_object (builder);
    kith_json_add_string (builder, "name", report->name);
    kith_json_add_string (builder, "state", report->state);
    kith_json_add_int (builder, "attempts", report->attempts);
    json_builder_set_member_name (builder, "last-error");
    if (report->last_error != NULL)
      json_builder_add_string_value (builder, report->last_error);
    else
      json_builder_add_null_value (builder);
    json_builder_end_object (builder);
  }
  json_builder_end_array (builder);
  json_builder_set_member_name (builder, "blacklist");
  kith_cmd_upload_blacklist_to_json (builder, status->blacklist);
  json_builder_end_object (builder);
  return json_builder_get_root (builder);
}

static void
kith_cmd_upload_print_blacklist (GPtrArray *blacklist)
{
  if (blacklist->len == 0) {
    g_print ("No blacklisted peers.\n");
    return;
  }
  for (guint i = 0; i < blacklist->len; i++) {
    KithClientUploadBlacklisted *entry = g_ptr_array_index (blacklist, i);
    g_autofree gchar *until = kith_cmd_upload_format_time (entry->until);
    g_print ("%s  until %s  %s\n", entry->node, until, entry->reason);
  }
}

static void
kith_cmd_upload_print_status (KithClientUploadStatus *status)
{
  g_print ("Delivered:    %" G_GUINT64_FORMAT "\n", status->delivered);
  g_print ("Pending:%s\n", status->pending->len == 0 ? "      (none)" : "");
  for (guint i = 0; i < status->pending->len; i++) {
    KithClientUploadReport *report = g_ptr_array_index (status->pending, i);
    g_print ("  %-40s %-8s %u attempt%s\n", report->name, report->state, report->attempts,
             report->attempts == 1 ? "" : "s");
    if (report->last_error != NULL)
      g_print ("    last error: %s\n", report->last_error);
  }
  g_print ("Blacklisted:  %u\n", status->blacklist->len);
}

/* Reads the status and prints it whole (upload status) or only its blacklist (peers). */
static gint
kith_cmd_upload_show (KithCli *cli, KithClient *client, gboolean peers_only)
{
  KithUploadRun run = { 0 };
  gint rc = KITH_EXIT_OK;

  run.status = kith_client_upload_get_status (client, NULL, &run.error);
  if (run.status == NULL) {
    rc = kith_cli_report_error (cli, run.error);
  } else if (cli->json && peers_only) {
    g_autoptr (JsonBuilder) builder = json_builder_new ();
    g_autoptr (JsonNode) root = NULL;
    kith_cmd_upload_blacklist_to_json (builder, run.status->blacklist);
    root = json_builder_get_root (builder);
    kith_cli_print_json (root);
  } else if (cli->json) {
    g_autoptr (JsonNode) root = kith_cmd_upload_status_to_json (run.status);
    kith_cli_print_json (root);
  } else if (peers_only) {
    kith_cmd_upload_print_blacklist (run.status->blacklist);
  } else {
    kith_cmd_upload_print_status (run.status);
  }
  kith_cmd_upload_run_clear (&run);
  return rc;
}

static gint
kith_cmd_upload_cancel (KithCli *cli, KithClient *client, const gchar *name)
{
  g_autoptr (GError) error = NULL;

  if (!kith_client_upload_cancel (client, name, NULL, &error))
    return kith_cli_report_error (cli, error);
  if (cli->json) {
    g_autoptr (JsonBuilder) builder = json_builder_new ();
    g_autoptr (JsonNode) root = NULL;
    json_builder_begin_object (builder);
    kith_json_add_string (builder, "name", name);
    kith_json_add_string (builder, "state", "cancelled");
    json_builder_end_object (builder);
    root = json_builder_get_root (builder);
    kith_cli_print_json (root);
  } else {
    g_printerr ("%s: cancelled; removed from the outbox, it will not be delivered\n", name);
  }
  return KITH_EXIT_OK;
}

static gint
kith_cmd_upload_send (KithCli *cli, KithClient *client, const gchar *path, gboolean wait, guint timeout_s)
{
  KithUploadRun run = { .loop = g_main_loop_new (NULL, FALSE), .timeout_s = timeout_s };
  g_autoptr (GCancellable) cancellable = g_cancellable_new ();
  guint sigint = kith_cli_cancel_on_interrupt (cancellable);
  guint timer = 0;
  gint rc = KITH_EXIT_OK;

  g_cancellable_connect (cancellable, G_CALLBACK (kith_cmd_upload_interrupted_cb), &run, NULL);
  if (!cli->json && wait)
    g_printerr ("Uploading %s; waiting for the backend's receipt…\n", path);
  kith_client_upload_file_async (client, path, wait, cancellable, kith_cmd_upload_file_cb, &run);
  if (wait && timeout_s > 0)
    timer = g_timeout_add_seconds (timeout_s, kith_cmd_upload_timeout_cb, &run);
  g_main_loop_run (run.loop);
  g_source_remove (sigint);
  if (timer != 0 && run.error == NULL)
    g_source_remove (timer);
  if (run.result == NULL) {
    rc = kith_cli_report_error (cli, run.error);
  } else if (!wait) {
    if (cli->json) {
      g_autoptr (JsonBuilder) builder = json_builder_new ();
      g_autoptr (JsonNode) root = NULL;
      json_builder_begin_object (builder);
      kith_json_add_string (builder, "upload-id", run.result);
      kith_json_add_string (builder, "state", "queued");
      json_builder_end_object (builder);
      root = json_builder_get_root (builder);
      kith_cli_print_json (root);
    } else {
      g_printerr ("%s: queued as %s; the agent keeps retrying until the backend's receipt arrives\n", path,
                  run.result);
    }
  } else if (cli->json) {
    g_autoptr (JsonParser) parser = json_parser_new ();
    if (json_parser_load_from_data (parser, run.result, -1, NULL))
      kith_cli_print_json (json_parser_get_root (parser));
  } else {
    g_print ("%s\n", run.result);
  }
  kith_cmd_upload_run_clear (&run);
  return rc;
}

gint
kith_cmd_upload (KithCli *cli, const KithCommand *command, gint argc, gchar **argv)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (KithClient) client = NULL;
  gboolean no_wait = FALSE;
  gint timeout_s = 0;
  const GOptionEntry entries[] = {
    { "no-wait", 0, 0, G_OPTION_ARG_NONE, &no_wait, "Queue the report and return; the agent keeps retrying", NULL },
    { "timeout", 't', 0, G_OPTION_ARG_INT, &timeout_s, "Stop waiting for the receipt after SECONDS (it stays queued)",
      "SECONDS" },
    { NULL },
  };
  gboolean is_status;
  gboolean is_blacklist;

  if (!kith_cli_parse (cli, command, "FILE|status|blacklist|cancel NAME", entries, &argc, &argv, &error))
    return kith_cli_report_error (cli, error);
  if (argc >= 2 && g_strcmp0 (argv[1], "cancel") == 0) {
    if (argc != 3) {
      g_set_error_literal (&error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
                           "upload cancel takes the NAME of a pending report (see kith upload status)");
      return kith_cli_report_error (cli, error);
    }
    client = kith_cli_connect (cli, &error);
    if (client == NULL)
      return kith_cli_report_error (cli, error);
    return kith_cmd_upload_cancel (cli, client, argv[2]);
  }
  if (argc != 2 || timeout_s < 0) {
    g_set_error_literal (&error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
                         argc != 2 ? "upload takes a FILE, or: status, blacklist, cancel NAME" : "--timeout takes seconds >= 0");
    return kith_cli_report_error (cli, error);
  }
  is_status = g_strcmp0 (argv[1], "status") == 0;
  is_blacklist = g_strcmp0 (argv[1], "blacklist") == 0;
  if (!is_status && !is_blacklist && !kith_cmd_upload_check_file (argv[1], &error))
    return kith_cli_report_error (cli, error);
  client = kith_cli_connect (cli, &error);
  if (client == NULL)
    return kith_cli_report_error (cli, error);
  if (is_status || is_blacklist)
    return kith_cmd_upload_show (cli, client, is_blacklist);
  return kith_cmd_upload_send (cli, client, argv[1], !no_wait, (guint) timeout_s);
}
