/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* kith-cmd-fetch.c — `kith fetch URL -o FILE`: one fetch through the agent, with its progress
 *
 * The data goes to FILE (-o - : standard output; -O: the URL's file name); progress and
 * the summary go to standard error. On a terminal one line is redrawn in place: a phase
 * word (searching / waiting for peer X / from peer X / from origin), then the fields that
 * fit in its width, measured in display columns; otherwise (logs, pipes) one line per
 * phase change and at most one progress line a second; --json prints only the result.
 */
#include "kith-cli.h"
#include "kith-hex.h"
#include "kith-json.h"

#include <errno.h>
#include <glib/gstdio.h>
#include <stdio.h>
#include <string.h>
#ifdef G_OS_UNIX
#include <gio/gunixoutputstream.h>
#include <unistd.h>
#endif

#define KITH_FETCH_REDRAW_US (G_USEC_PER_SEC / 10)
#define KITH_FETCH_LINE_US G_USEC_PER_SEC
#define KITH_FETCH_TICK_MS 250

typedef struct {
  KithCli *cli;
  gboolean interactive;
  GMainLoop *loop;
  KithClientTransfer *transfer; /* the last one the progress callback saw */
  KithClientTransfer *result;
  GError *error;
  KithClientTransferState last_state;
  gboolean seen_state;
  gchar *last_source;
  gint64 last_draw_us;
  gint64 last_line_us;
  KithCliRate rate;
  gboolean line_dirty;          /* a progress line is on screen and needs a newline */
  gboolean colour;              /* stderr is a terminal and NO_COLOR is unset */
} KithFetchView;

/* Where the bytes come from, for people: "origin", "peer 1a2b3c4d", "waiting for 1a2b3c4d". */
static gchar *
kith_cmd_fetch_describe_source (KithClientTransfer *transfer, gboolean full_node)
{
  const gchar *source = kith_client_transfer_get_source (transfer);
  g_autofree gchar *node = full_node ? g_strdup (source) : kith_cli_short_node (source);

  switch (kith_client_transfer_get_state (transfer)) {
  case KITH_CLIENT_TRANSFER_STATE_SEARCHING:
    return g_strdup ("searching the LAN");
  case KITH_CLIENT_TRANSFER_STATE_WAITING_FOR_PEER:
    return g_strdup_printf ("waiting for peer %s", node);
  default:
    break;
  }
  if (source == NULL)
    return g_strdup (kith_client_transfer_get_state (transfer) == KITH_CLIENT_TRANSFER_STATE_FROM_ORIGIN
                     ? "origin" : "unknown source");
  if (!kith_client_transfer_is_from_peer (transfer))
    return g_strdup (source);
  return g_strdup_printf ("peer %s", node);
}

/* TRUE while bytes flow from a source (not while searching or waiting for a peer). */
static gboolean
kith_cmd_fetch_is_copying (KithClientTransfer *transfer)
{
  KithClientTransferState state = kith_client_transfer_get_state (transfer);
  return state == KITH_CLIENT_TRANSFER_STATE_FROM_PEER || state == KITH_CLIENT_TRANSFER_STATE_FROM_ORIGIN;
}

/* "1.2 MB / 3.4 MB  35%" or "1.2 MB" while the size is unknown. */
static gchar *
kith_cmd_fetch_describe_bytes (KithClientTransfer *transfer)
{
  guint64 done = kith_client_transfer_get_bytes_done (transfer);
  guint64 total = kith_client_transfer_get_bytes_total (transfer);
  g_autofree gchar *done_str = g_format_size (done);
  g_autofree gchar *total_str = NULL;

  if (total == 0)
    return g_steal_pointer (&done_str);
  total_str = g_format_size (total);
  return g_strdup_printf ("%s / %s  %3u%%", done_str, total_str,
                          (guint) (MIN (done, total) * 100 / total));
}

static gdouble
kith_cmd_fetch_eta (KithFetchView *view)
{
  guint64 done = kith_client_transfer_get_bytes_done (view->transfer);
  guint64 total = kith_client_transfer_get_bytes_total (view->transfer);

  if (total == 0 || view->rate.rate <= 0 || done > total)
    return -1;
  return (total - done) / view->rate.rate;
}

static void
kith_cmd_fetch_draw_bar (GString *line, KithClientTransfer *transfer, guint width)
{
  guint64 done = kith_client_transfer_get_bytes_done (transfer);
  guint64 total = kith_client_transfer_get_bytes_total (transfer);
  guint filled = total > 0 ? (guint) (MIN (done, total) * width / total) : 0;

  g_string_append_c (line, '[');
  for (guint i = 0; i < width; i++)
    g_string_append_c (line, i < filled ? '#' : '.');
  g_string_append (line, "]");
}

/* The phase word of a transfer and its colour (SGR) on a terminal. */
static const gchar *
kith_cmd_fetch_phase_colour (KithClientTransfer *transfer)
{
  switch (kith_client_transfer_get_state (transfer)) {
  case KITH_CLIENT_TRANSFER_STATE_SEARCHING: return "36";        /* cyan */
  case KITH_CLIENT_TRANSFER_STATE_WAITING_FOR_PEER: return "33"; /* yellow */
  case KITH_CLIENT_TRANSFER_STATE_FROM_PEER: return "32";        /* green */
  case KITH_CLIENT_TRANSFER_STATE_FROM_ORIGIN: return "34";      /* blue */
  default: return "1";
  }
}

static gchar *
kith_cmd_fetch_phase (KithClientTransfer *transfer)
{
  g_autofree gchar *source = kith_cmd_fetch_describe_source (transfer, FALSE);

  if (kith_client_transfer_get_state (transfer) == KITH_CLIENT_TRANSFER_STATE_SEARCHING)
    return g_strdup ("searching");
  if (kith_cmd_fetch_is_copying (transfer))
    return g_strdup_printf ("from %s", source);
  return g_steal_pointer (&source);
}

/* The terminal line: the phase first (the most useful field), then bytes, rate, ETA and,
 * while bytes flow, a bar; fields that do not fit in the width are left out, last first.
 * No bar while searching or waiting: a peer's progress is not ours. */
static void
kith_cmd_fetch_redraw (KithFetchView *view)
{
  g_autoptr (GString) line = g_string_new ("\r");
  g_autofree gchar *phase = kith_cmd_fetch_phase (view->transfer);
  g_autofree gchar *bytes = kith_cmd_fetch_describe_bytes (view->transfer);
  g_autofree gchar *rate = kith_cli_format_rate (view->rate.rate);
  g_autofree gchar *eta_value = kith_cli_format_eta (kith_cmd_fetch_eta (view));
  g_autofree gchar *eta = g_strdup_printf ("ETA %s", eta_value);
  g_autoptr (GString) bar = g_string_new (NULL);
  guint width = kith_cli_terminal_width_fd (STDERR_FILENO) - 1;
  const gchar *fields[4];
  guint n = 0;
  guint used;

  fields[n++] = bytes;
  if (kith_cmd_fetch_is_copying (view->transfer)) {
    fields[n++] = rate;
    fields[n++] = eta;
    kith_cmd_fetch_draw_bar (bar, view->transfer, width >= 100 ? 30 : 20);
    fields[n++] = bar->str;
  }
  used = kith_cli_display_width (phase);
  if (used > width) {
    g_autofree gchar *cut = kith_cli_truncate_columns (phase, width);
    g_free (phase);
    phase = g_steal_pointer (&cut);
    used = width;
  }
  if (view->colour)
    g_string_append_printf (line, "\033[%sm%s\033[0m", kith_cmd_fetch_phase_colour (view->transfer), phase);
  else
    g_string_append (line, phase);
  for (guint i = 0; i < n; i++) {
    guint w = kith_cli_display_width (fields[i]) + 2;
    if (used + w > width)
      break;
    g_string_append_printf (line, "  %s", fields[i]);
    used += w;
  }
  g_string_append (line, "\033[K");
  g_printerr ("%s", line->str);
  view->line_dirty = TRUE;
  view->last_draw_us = g_get_monotonic_time ();
}

static void
kith_cmd_fetch_print_line (KithFetchView *view, const gchar *what)
{
  gdouble elapsed = kith_client_transfer_get_elapsed (view->transfer) / (gdouble) G_USEC_PER_SEC;
  g_printerr ("%6.1fs  %s\n", elapsed, what);
  view->last_line_us = g_get_monotonic_time ();
}

/* Plain output: a line per state or source change, a progress line at most each second. */
static void
kith_cmd_fetch_report_plain (KithFetchView *view, gboolean changed)
{
  KithClientTransfer *transfer = view->transfer;
  g_autofree gchar *source = kith_cmd_fetch_describe_source (transfer, TRUE);
  g_autofree gchar *bytes = kith_cmd_fetch_describe_bytes (transfer);
  g_autofree gchar *rate = kith_cli_format_rate (view->rate.rate);
  g_autofree gchar *what = NULL;

  if (changed) {
    what = g_strdup_printf ("%s: %s", kith_client_transfer_state_to_string (kith_client_transfer_get_state (transfer)),
                            source);
    kith_cmd_fetch_print_line (view, what);
    return;
  }
  if (kith_client_transfer_is_finished (transfer) ||
      g_get_monotonic_time () - view->last_line_us < KITH_FETCH_LINE_US)
    return;
  what = g_strdup_printf ("%s  %s  %s%s", bytes, rate, kith_cmd_fetch_is_copying (transfer) ? "from " : "",
                          source);
  kith_cmd_fetch_print_line (view, what);
}

static void
kith_cmd_fetch_progress (KithClientTransfer *transfer, gpointer user_data)
{
  KithFetchView *view = user_data;
  KithClientTransferState state = kith_client_transfer_get_state (transfer);
  gboolean changed = !view->seen_state || state != view->last_state ||
                     g_strcmp0 (view->last_source, kith_client_transfer_get_source (transfer)) != 0;

  g_set_object (&view->transfer, transfer);
  view->seen_state = TRUE;
  view->last_state = state;
  g_free (view->last_source);
  view->last_source = g_strdup (kith_client_transfer_get_source (transfer));
  kith_cli_rate_update (&view->rate, kith_client_transfer_get_bytes_done (transfer), g_get_monotonic_time ());
  if (view->cli->json)
    return;
  if (!view->interactive) {
    kith_cmd_fetch_report_plain (view, changed);
    return;
  }
  if (changed || kith_client_transfer_is_finished (transfer) ||
      g_get_monotonic_time () - view->last_draw_us >= KITH_FETCH_REDRAW_US)
    kith_cmd_fetch_redraw (view);
}

/* Keeps the rate and ETA moving on a terminal while the agent reports nothing. */
static gboolean
kith_cmd_fetch_tick (gpointer user_data)
{
  KithFetchView *view = user_data;

  if (view->transfer != NULL && !kith_client_transfer_is_finished (view->transfer))
    kith_cmd_fetch_redraw (view);
  return G_SOURCE_CONTINUE;
}

static void
kith_cmd_fetch_done (GObject *source, GAsyncResult *res, gpointer user_data)
{
  KithFetchView *view = user_data;

  view->result = kith_client_fetch_finish (KITH_CLIENT (source), res, &view->error);
  g_main_loop_quit (view->loop);
}

static gdouble
kith_cmd_fetch_average_rate (KithClientTransfer *transfer)
{
  gint64 elapsed = kith_client_transfer_get_elapsed (transfer);
  return elapsed > 0 ? kith_client_transfer_get_bytes_done (transfer) * (gdouble) G_USEC_PER_SEC / elapsed : 0;
}

static void
kith_cmd_fetch_print_summary (KithClientTransfer *transfer, const gchar *destination)
{
  g_autofree gchar *bytes = g_format_size (kith_client_transfer_get_bytes_done (transfer));
  g_autofree gchar *rate = kith_cli_format_rate (kith_cmd_fetch_average_rate (transfer));
  g_autofree gchar *source = kith_cmd_fetch_describe_source (transfer, TRUE);

  g_printerr ("Fetched %s in %.2f s (%s) from %s into %s\n", bytes,
              kith_client_transfer_get_elapsed (transfer) / (gdouble) G_USEC_PER_SEC, rate, source,
              destination);
}

static JsonNode *
kith_cmd_fetch_to_json (KithClientTransfer *transfer)
{
  g_autoptr (JsonBuilder) builder = json_builder_new ();

  json_builder_begin_object (builder);
  kith_json_add_string (builder, "url", kith_client_transfer_get_url (transfer));
  kith_json_add_string (builder, "file", kith_client_transfer_get_destination (transfer));
  kith_json_add_string (builder, "state",
                        kith_client_transfer_state_to_string (kith_client_transfer_get_state (transfer)));
  kith_json_add_string (builder, "source", kith_client_transfer_get_source (transfer));
  kith_json_add_int (builder, "bytes", (gint64) kith_client_transfer_get_bytes_done (transfer));
  kith_json_add_int (builder, "elapsed-ms", kith_client_transfer_get_elapsed (transfer) / 1000);
  kith_json_add_int (builder, "bytes-per-second", (gint64) kith_cmd_fetch_average_rate (transfer));
  json_builder_end_object (builder);
  return json_builder_get_root (builder);
}

/* Checks the command line; fills the flags. */
static gboolean
kith_cmd_fetch_check_args (gint argc, const gchar *output, const gchar *sha256, GError **error)
{
  if (argc != 2) {
    g_set_error_literal (error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
                         argc < 2 ? "fetch needs a URL" : "fetch takes exactly one URL");
    return FALSE;
  }
  if (output == NULL) {
    g_set_error_literal (error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
                         "fetch needs --output FILE (-o FILE, -o - for standard output) or -O: where to write the bytes");
    return FALSE;
  }
  if (sha256 != NULL && !kith_hex_is_valid (sha256, 64, 64)) {
    g_set_error (error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
                 "--sha256 needs 64 hex digits, not '%s'", sha256);
    return FALSE;
  }
  return TRUE;
}

/* -O: the last segment of the URL's path, unescaped; NULL (with @error) when it has none. */
static gchar *
kith_cmd_fetch_name_from_url (const gchar *url, GError **error)
{
  g_autoptr (GUri) uri = g_uri_parse (url, G_URI_FLAGS_NONE, NULL);
  const gchar *path = uri != NULL ? g_uri_get_path (uri) : NULL;
  const gchar *slash = path != NULL ? strrchr (path, '/') : NULL;
  g_autofree gchar *name = g_uri_unescape_string (slash != NULL ? slash + 1 : (path != NULL ? path : ""), "/");

  if (name == NULL || name[0] == '\0' || g_str_equal (name, ".") || g_str_equal (name, "..")) {
    g_set_error (error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
                 "-O: '%s' names no file; use -o FILE", url);
    return NULL;
  }
  return g_steal_pointer (&name);
}

/* -o -: the agent writes into a file of ours (it may seek); copied to stdout after. */
static gboolean
kith_cmd_fetch_copy_to_stdout (const gchar *path, GError **error)
{
  g_autoptr (GFile) file = g_file_new_for_path (path);
  g_autoptr (GFileInputStream) in = g_file_read (file, NULL, error);
  g_autoptr (GOutputStream) out = NULL;

  if (in == NULL)
    return FALSE;
  fflush (stdout);
  out = g_unix_output_stream_new (STDOUT_FILENO, FALSE);
  if (g_output_stream_splice (out, G_INPUT_STREAM (in), G_OUTPUT_STREAM_SPLICE_CLOSE_SOURCE, NULL, error) < 0) {
    g_prefix_error (error, "writing to standard output: ");
    return FALSE;
  }
  return TRUE;
}

/* --pieces FILE: the piece hashes it holds, whitespace (one per line, say) left out and
 * lower-cased; NULL with @error when it cannot be read. */
static gchar *
kith_cmd_fetch_read_pieces (const gchar *path, GError **error)
{
  g_autofree gchar *text = NULL;
  GString *hashes;

  if (!g_file_get_contents (path, &text, NULL, error)) {
    g_prefix_error (error, "--pieces: ");
    return NULL;
  }
  hashes = g_string_new (NULL);
  for (const gchar *c = text; *c != '\0'; c++) {
    if (!g_ascii_isspace (*c))
      g_string_append_c (hashes, g_ascii_tolower (*c));
  }
  return g_string_free (hashes, FALSE);
}

typedef struct {
  const gchar *sha256;
  guint64 size;       /* 0: unknown */
  guint64 piece_size;
  gchar *pieces;      /* NULL: none */
} KithFetchWhat;

static gint
kith_cmd_fetch_run (KithCli *cli, const gchar *url, const gchar *output, const KithFetchWhat *what,
                    KithClientFetchFlags flags)
{
  g_autofree gchar *spool = NULL;
  gboolean to_stdout = g_str_equal (output, "-");
  g_autoptr (KithClient) client = NULL;
  g_autoptr (GCancellable) cancellable = g_cancellable_new ();
  g_autoptr (GMainLoop) loop = g_main_loop_new (NULL, FALSE);
  g_autoptr (GError) error = NULL;
  KithFetchView view = { .cli = cli, .loop = loop };
  guint interrupt_id, tick_id = 0;
  gint rc;

  view.interactive = !cli->json && kith_cli_fd_is_terminal (STDERR_FILENO);
  view.colour = view.interactive && kith_cli_use_colour (STDERR_FILENO);
  client = kith_cli_connect (cli, &error);
  if (client == NULL)
    return kith_cli_report_error (cli, error);
  if (to_stdout) {
    gint fd = g_file_open_tmp ("kith-fetch-XXXXXX", &spool, &error);
    if (fd < 0)
      return kith_cli_report_error (cli, error);
    close (fd);
    output = spool;
  }
  interrupt_id = kith_cli_cancel_on_interrupt (cancellable);
  if (view.interactive)
    tick_id = g_timeout_add (KITH_FETCH_TICK_MS, kith_cmd_fetch_tick, &view);
  kith_client_fetch_pieces_async (client, url, output, what->sha256, what->size, what->piece_size, what->pieces,
                                  flags, kith_cmd_fetch_progress, &view, NULL, cancellable, kith_cmd_fetch_done,
                                  &view);
  g_main_loop_run (loop);
  if (interrupt_id != 0)
    g_source_remove (interrupt_id);
  if (tick_id != 0)
    g_source_remove (tick_id);
  if (view.line_dirty)
    g_printerr ("\n");
  if (view.result != NULL && to_stdout && !kith_cmd_fetch_copy_to_stdout (spool, &view.error))
    g_clear_object (&view.result);
  if (spool != NULL)
    g_unlink (spool);
  if (view.result == NULL) {
    rc = kith_cli_report_error (cli, view.error);
  } else if (cli->json) {
    g_autoptr (JsonNode) root = kith_cmd_fetch_to_json (view.result);
    kith_cli_print_json (root);
    rc = KITH_EXIT_OK;
  } else {
    kith_cmd_fetch_print_summary (view.result, to_stdout ? "standard output" : output);
    rc = KITH_EXIT_OK;
  }
  g_clear_error (&view.error);
  g_clear_object (&view.result);
  g_clear_object (&view.transfer);
  g_free (view.last_source);
  return rc;
}

gint
kith_cmd_fetch (KithCli *cli, const KithCommand *command, gint argc, gchar **argv)
{
  g_autoptr (GError) error = NULL;
  g_autofree gchar *output = NULL;
  g_autofree gchar *sha256 = NULL;
  g_autofree gchar *pieces_path = NULL;
  g_autofree gchar *pieces = NULL;
  gint64 size = 0, piece_size = 1024 * 1024;
  gboolean cached_only = FALSE, no_origin = FALSE, remote_name = FALSE;
  KithFetchWhat what;
  const GOptionEntry entries[] = {
    { "output", 'o', 0, G_OPTION_ARG_FILENAME, &output, "Write the bytes to FILE (created or truncated; - for standard output)", "FILE" },
    { "remote-name", 'O', 0, G_OPTION_ARG_NONE, &remote_name, "Write to a file named like the URL's last path segment", NULL },
    { "sha256", 0, 0, G_OPTION_ARG_STRING, &sha256, "Expected sha256 (64 hex digits); other bytes are refused", "HEX" },
    { "cached-only", 0, 0, G_OPTION_ARG_NONE, &cached_only, "Only from a peer's cache on the LAN", NULL },
    { "no-origin", 0, 0, G_OPTION_ARG_NONE, &no_origin, "Never from the origin URL itself", NULL },
    { "size", 0, 0, G_OPTION_ARG_INT64, &size, "Expected size in bytes; a copy of another size is refused", "BYTES" },
    { "pieces", 0, 0, G_OPTION_ARG_FILENAME, &pieces_path, "The sha256 of every piece, one per line (with --sha256 and --size): the file may come in pieces from several peers", "FILE" },
    { "piece-size", 0, 0, G_OPTION_ARG_INT64, &piece_size, "The size of the pieces --pieces lists (1048576)", "BYTES" },
    { NULL },
  };

  if (!kith_cli_parse (cli, command, "URL", entries, &argc, &argv, &error))
    return kith_cli_report_error (cli, error);
  if (remote_name && output != NULL) {
    g_set_error_literal (&error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE, "-O and -o exclude each other");
    return kith_cli_report_error (cli, error);
  }
  if (remote_name && argc == 2 && (output = kith_cmd_fetch_name_from_url (argv[1], &error)) == NULL)
    return kith_cli_report_error (cli, error);
  if (sha256 != NULL) {
    /* a person may type the hash in capitals; the agent is given the one spelling (kith-hex.h) */
    gchar *lower = g_ascii_strdown (sha256, -1);
    g_free (sha256);
    sha256 = lower;
  }
  if (!kith_cmd_fetch_check_args (argc, output, sha256, &error))
    return kith_cli_report_error (cli, error);
  if (size < 0 || piece_size <= 0) {
    g_set_error_literal (&error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE, "--size and --piece-size count bytes");
    return kith_cli_report_error (cli, error);
  }
  if (pieces_path != NULL && (pieces = kith_cmd_fetch_read_pieces (pieces_path, &error)) == NULL)
    return kith_cli_report_error (cli, error);
  what = (KithFetchWhat) { sha256, (guint64) size, (guint64) piece_size, pieces };
  return kith_cmd_fetch_run (cli, argv[1], output, &what,
                             (cached_only ? KITH_CLIENT_FETCH_FLAG_CACHED_ONLY : 0) |
                             (no_origin ? KITH_CLIENT_FETCH_FLAG_NO_ORIGIN : 0));
}
