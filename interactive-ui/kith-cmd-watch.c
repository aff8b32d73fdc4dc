/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* kith-cmd-watch.c — `kith watch`: downloads in progress on the LAN, and this agent's counters
 *
 * Built from PeerDownload signals (what nodes announce) and GetStatus (this node's id,
 * its peering counters and the peers it heard). On a terminal it is a dashboard on the
 * alternate screen, without echo, redrawn every 250 ms at the terminal's current size
 * (so a resize shows at the next tick), `q` quitting; otherwise each announcement is one
 * line. Stops on q, Ctrl-C or after --duration; the terminal is restored in every case.
 */
#include "kith-cli.h"
#include "kith-json.h"

#include <stdio.h>
#include <string.h>

#ifdef G_OS_UNIX
#include <glib-unix.h>
#include <sys/ioctl.h>
#include <termios.h>
#include <unistd.h>
#endif

#define KITH_WATCH_REDRAW_MS 250
#define KITH_WATCH_STATUS_EVERY 4 /* redraws: GetStatus once a second */
#define KITH_WATCH_KEEP_US (10 * G_USEC_PER_SEC) /* how long a quiet download stays listed */
#define KITH_WATCH_DONE_US (3 * G_USEC_PER_SEC)  /* how long a finished one stays, marked done */

/* One node's download of one href, as last announced. */
typedef struct {
  gchar *href;
  gchar *node;
  guint64 done;
  guint64 total;
  gint64 seen_us;
  gint64 finished_us; /* when it was first seen complete; 0 while running */
  KithCliRate rate;
} KithWatchDownload;

static void
kith_cmd_watch_download_free (KithWatchDownload *download)
{
  g_free (download->href);
  g_free (download->node);
  g_free (download);
}

typedef struct {
  KithCli *cli;
  KithClient *client;
  gboolean interactive;
  GMainLoop *loop;
  GHashTable *downloads; /* "node href" → KithWatchDownload */
  GVariant *counters;    /* the peering section of the last GetStatus, or NULL */
  gchar *node_id;        /* this agent's, from GetStatus, or NULL */
  GCancellable *stop;
#ifdef G_OS_UNIX
  gboolean tty_saved;
  struct termios tty;    /* stdin's settings before the dashboard */
  guint input_id;
#endif
  gboolean status_pending;
  guint ticks;
  guint64 events;
} KithWatchView;

static gchar *
kith_cmd_watch_describe_progress (guint64 done, guint64 total)
{
  g_autofree gchar *done_str = g_format_size (done);
  g_autofree gchar *total_str = NULL;

  if (total == 0)
    return g_steal_pointer (&done_str);
  total_str = g_format_size (total);
  return g_strdup_printf ("%s / %s (%u%%)", done_str, total_str, (guint) (MIN (done, total) * 100 / total));
}

static void
kith_cmd_watch_peer_download (KithClient *client, const gchar *href, const gchar *node,
                              guint64 done, guint64 total, KithWatchView *view)
{
  g_autofree gchar *key = g_strdup_printf ("%s %s", node, href);
  KithWatchDownload *download = g_hash_table_lookup (view->downloads, key);
  gint64 now = g_get_monotonic_time ();

  if (download == NULL) {
    download = g_new0 (KithWatchDownload, 1);
    download->href = g_strdup (href);
    download->node = g_strdup (node);
    g_hash_table_insert (view->downloads, g_steal_pointer (&key), download);
  }
  download->done = done;
  download->total = total;
  download->seen_us = now;
  if (total > 0 && done >= total && download->finished_us == 0)
    download->finished_us = now;
  else if (done < total)
    download->finished_us = 0;
  kith_cli_rate_update (&download->rate, done, now);
  view->events++;
  if (!view->interactive && !view->cli->json) {
    g_autofree gchar *progress = kith_cmd_watch_describe_progress (done, total);
    g_autofree gchar *rate = kith_cli_format_rate (download->rate.rate);
    g_print ("%s  %s  %s  %s%s\n", node, href, progress, rate,
             total > 0 && done >= total ? "  complete" : "");
    fflush (stdout);
  }
}

/* A counter for people: sizes for byte counts, sums for per-type maps. */
static gchar *
kith_cmd_watch_format_counter (const gchar *key, GVariant *value)
{
  if (g_variant_is_of_type (value, G_VARIANT_TYPE_UINT64)) {
    guint64 n = g_variant_get_uint64 (value);
    if (g_str_has_prefix (key, "bytes-") || g_str_has_suffix (key, "-bytes"))
      return g_format_size (n);
    return g_strdup_printf ("%" G_GUINT64_FORMAT, n);
  }
  if (g_variant_is_of_type (value, G_VARIANT_TYPE ("a{sd}"))) {
    GVariantIter iter;
    gdouble v, sum = 0;
    g_variant_iter_init (&iter, value);
    while (g_variant_iter_next (&iter, "{&sd}", NULL, &v))
      sum += v;
    return g_strdup_printf ("%.0f", sum);
  }
  return NULL; /* settings (max-delay-ms…) are not counters */
}

/* The peering counters as "key value" words: the ones people look for first, then the rest. */
static GPtrArray *
kith_cmd_watch_counter_words (KithWatchView *view)
{
  static const gchar *const first[] = { "hits", "misses", "bytes-from-peers", "bytes-from-origin",
                                        "bytes-served", "transfers-active", "cache-bytes", NULL };
  GPtrArray *words = g_ptr_array_new_with_free_func (g_free);
  GVariantIter iter;
  const gchar *key;
  GVariant *value;

  if (view->counters == NULL)
    return words;
  for (guint i = 0; first[i] != NULL; i++) {
    g_autoptr (GVariant) v = g_variant_lookup_value (view->counters, first[i], NULL);
    g_autofree gchar *text = v != NULL ? kith_cmd_watch_format_counter (first[i], v) : NULL;
    if (text != NULL)
      g_ptr_array_add (words, g_strdup_printf ("%s %s", first[i], text));
  }
  g_variant_iter_init (&iter, view->counters);
  while (g_variant_iter_loop (&iter, "{&sv}", &key, &value)) {
    g_autofree gchar *text = NULL;
    if (g_strv_contains (first, key) || (text = kith_cmd_watch_format_counter (key, value)) == NULL)
      continue;
    g_ptr_array_add (words, g_strdup_printf ("%s %s", key, text));
  }
  return words;
}

static gint
kith_cmd_watch_compare (gconstpointer a, gconstpointer b)
{
  const KithWatchDownload *x = *(KithWatchDownload *const *) a;
  const KithWatchDownload *y = *(KithWatchDownload *const *) b;
  gint cmp = g_strcmp0 (x->href, y->href);
  return cmp != 0 ? cmp : g_strcmp0 (x->node, y->node);
}

/* The downloads heard from recently, sorted; the array is the caller's, the items are not. */
static GPtrArray *
kith_cmd_watch_current (KithWatchView *view)
{
  GPtrArray *current = g_ptr_array_new ();
  GHashTableIter iter;
  KithWatchDownload *download;
  gint64 now = g_get_monotonic_time ();

  g_hash_table_iter_init (&iter, view->downloads);
  while (g_hash_table_iter_next (&iter, NULL, (gpointer *) &download)) {
    if (now - download->seen_us > KITH_WATCH_KEEP_US ||
        (download->finished_us != 0 && now - download->finished_us > KITH_WATCH_DONE_US))
      g_hash_table_iter_remove (&iter);
    else
      g_ptr_array_add (current, download);
  }
  g_ptr_array_sort (current, kith_cmd_watch_compare);
  return current;
}

/* Rows of the terminal on stdout (24 when unknown). */
static guint
kith_cmd_watch_terminal_height (void)
{
#if defined(G_OS_UNIX) && defined(TIOCGWINSZ)
  struct winsize size = { 0 };
  if (ioctl (STDOUT_FILENO, TIOCGWINSZ, &size) == 0 && size.ws_row >= 5)
    return size.ws_row;
#endif
  return 24;
}

static guint64
kith_cmd_watch_counter (KithWatchView *view, const gchar *key)
{
  guint64 n = 0;

  if (view->counters != NULL && !g_variant_lookup (view->counters, key, "t", &n))
    n = 0;
  return n;
}

/* "Savings: 3.1 MB from peers, 1.0 MB from the origin, saved 4.1×": how much less the
 * Internet link carried than the bytes this node received. */
static gchar *
kith_cmd_watch_describe_savings (KithWatchView *view)
{
  guint64 peers = kith_cmd_watch_counter (view, "bytes-from-peers");
  guint64 origin = kith_cmd_watch_counter (view, "bytes-from-origin");
  g_autofree gchar *peers_str = g_format_size (peers);
  g_autofree gchar *origin_str = g_format_size (origin);
  g_autofree gchar *factor = NULL;

  if (origin > 0)
    factor = g_strdup_printf ("saved %.1f×", (gdouble) (peers + origin) / (gdouble) origin);
  else
    factor = g_strdup (peers > 0 ? "saved all of it" : "saved nothing yet");
  return g_strdup_printf ("Savings: %s from peers, %s from the origin, %s", peers_str, origin_str, factor);
}

/* Appends @text fitted to @width columns as one screen line. */
static void
kith_cmd_watch_append_line (GString *out, const gchar *text, guint width)
{
  g_autofree gchar *fitted = kith_cli_truncate_columns (text, width);
  g_string_append_printf (out, "%s\033[K\r\n", fitted);
}

/* One download: ↓ or ✓ (done), node (or "this node"), progress, rate, then the href in
 * what is left. */
static gchar *
kith_cmd_watch_describe_row (KithWatchView *view, KithWatchDownload *download, guint width)
{
  g_autofree gchar *node = g_strcmp0 (download->node, view->node_id) == 0
                             ? g_strdup ("this node") : kith_cli_short_node (download->node);
  g_autofree gchar *progress = kith_cmd_watch_describe_progress (download->done, download->total);
  g_autofree gchar *rate = download->finished_us != 0 ? g_strdup ("") : kith_cli_format_rate (download->rate.rate);
  g_autofree gchar *head = g_strdup_printf ("%s %-9s  %-4s  %-26s  %-10s  ", download->finished_us != 0 ? "✓" : "↓",
                                            node, download->finished_us != 0 ? "done" : "", progress, rate);
  guint used = kith_cli_display_width (head);
  g_autofree gchar *href = kith_cli_truncate_columns (download->href, width > used ? width - used : 0);

  return g_strconcat (head, href, NULL);
}

/* Peers heard on the LAN with what they last said they do: who serves and who waits on whom. */
static void
kith_cmd_watch_append_peers (KithWatchView *view, GString *out, guint width, guint rows)
{
  g_autoptr (GVariant) peers = view->counters != NULL
                                ? g_variant_lookup_value (view->counters, "peers", G_VARIANT_TYPE ("aa{sv}")) : NULL;
  gsize n = peers != NULL ? g_variant_n_children (peers) : 0;

  for (gsize i = 0; i < n && i < rows; i++) {
    g_autoptr (GVariant) peer = g_variant_get_child_value (peers, i);
    const gchar *node = "", *address = "", *activity = "heard", *href = "";
    g_autofree gchar *short_node = NULL;
    g_autofree gchar *line = NULL;

    g_variant_lookup (peer, "node", "&s", &node);
    g_variant_lookup (peer, "address", "&s", &address);
    g_variant_lookup (peer, "activity", "&s", &activity);
    g_variant_lookup (peer, "href", "&s", &href);
    short_node = kith_cli_short_node (node);
    line = g_strdup_printf ("%-9s  %-15s  %-9s  %s", short_node, address, activity, href);
    kith_cmd_watch_append_line (out, line, width);
  }
  if (n == 0)
    kith_cmd_watch_append_line (out, "(no peer heard yet)", width);
}

/* The dashboard, drawn from the top of the alternate screen at the terminal's current size. */
static void
kith_cmd_watch_redraw (KithWatchView *view)
{
  g_autoptr (GString) out = g_string_new ("\033[H");
  g_autoptr (GPtrArray) current = kith_cmd_watch_current (view);
  g_autofree gchar *node = view->node_id != NULL ? kith_cli_short_node (view->node_id) : g_strdup ("?");
  g_autofree gchar *title = g_strdup_printf ("kith watch — node %s, %" G_GUINT64_FORMAT " transfer(s) here — q quits",
                                             node, kith_cmd_watch_counter (view, "transfers-active"));
  g_autofree gchar *savings = kith_cmd_watch_describe_savings (view);
  g_autofree gchar *heading = g_strdup_printf ("Downloads on the LAN (%u):", current->len);
  guint width = kith_cli_terminal_width ();
  guint height = kith_cmd_watch_terminal_height ();
  guint rows = height > 8 ? height - 8 : 1; /* title, savings, 2 headings, 2 blank, 1+ peers */
  guint shown = MIN (current->len, rows - rows / 3);

  kith_cmd_watch_append_line (out, title, width);
  kith_cmd_watch_append_line (out, savings, width);
  kith_cmd_watch_append_line (out, "", width);
  kith_cmd_watch_append_line (out, heading, width);
  for (guint i = 0; i < shown; i++) {
    g_autofree gchar *row = kith_cmd_watch_describe_row (view, g_ptr_array_index (current, i), width);
    kith_cmd_watch_append_line (out, row, width);
  }
  if (shown < current->len) {
    g_autofree gchar *more = g_strdup_printf ("… and %u more", current->len - shown);
    kith_cmd_watch_append_line (out, more, width);
  }
  kith_cmd_watch_append_line (out, "", width);
  kith_cmd_watch_append_line (out, "Peers:", width);
  kith_cmd_watch_append_peers (view, out, width, rows > shown + 1 ? rows - shown - 1 : 1);
  g_string_append (out, "\033[J");
  fputs (out->str, stdout);
  fflush (stdout);
}

static void
kith_cmd_watch_take_status (KithWatchView *view, GVariant *status)
{
  g_autoptr (GVariant) agent = g_variant_lookup_value (status, "agent", G_VARIANT_TYPE_VARDICT);
  const gchar *node_id = NULL;

  g_clear_pointer (&view->counters, g_variant_unref);
  view->counters = g_variant_lookup_value (status, "peering", G_VARIANT_TYPE_VARDICT);
  if (agent != NULL && g_variant_lookup (agent, "node-id", "&s", &node_id)) {
    g_free (view->node_id);
    view->node_id = g_strdup (node_id);
  }
}

static void
kith_cmd_watch_status_cb (GObject *source, GAsyncResult *res, gpointer user_data)
{
  KithWatchView *view = user_data;
  g_autoptr (GVariant) status = NULL;
  g_autoptr (GError) error = NULL;

  view->status_pending = FALSE;
  status = kith_client_get_status_finish (KITH_CLIENT (source), res, &error);
  if (status == NULL) {
    g_debug ("GetStatus: %s", error->message);
    return;
  }
  kith_cmd_watch_take_status (view, status);
}

static void
kith_cmd_watch_refresh_counters (KithWatchView *view)
{
  if (view->status_pending)
    return;
  view->status_pending = TRUE;
  kith_client_get_status_async (view->client, NULL, kith_cmd_watch_status_cb, view);
}

static gboolean
kith_cmd_watch_tick (gpointer user_data)
{
  KithWatchView *view = user_data;

  if (view->ticks++ % KITH_WATCH_STATUS_EVERY == 0)
    kith_cmd_watch_refresh_counters (view);
  kith_cmd_watch_redraw (view);
  return G_SOURCE_CONTINUE;
}

static void
kith_cmd_watch_stop (GCancellable *cancellable, KithWatchView *view)
{
  g_main_loop_quit (view->loop);
}

static gboolean
kith_cmd_watch_duration_over (gpointer user_data)
{
  g_cancellable_cancel (G_CANCELLABLE (user_data));
  return G_SOURCE_REMOVE;
}

static JsonNode *
kith_cmd_watch_to_json (KithWatchView *view)
{
  g_autoptr (JsonBuilder) builder = json_builder_new ();
  g_autoptr (GPtrArray) current = kith_cmd_watch_current (view);

  json_builder_begin_object (builder);
  kith_json_add_int (builder, "events", (gint64) view->events);
  json_builder_set_member_name (builder, "downloads");
  json_builder_begin_array (builder);
  for (guint i = 0; i < current->len; i++) {
    KithWatchDownload *download = g_ptr_array_index (current, i);
    json_builder_begin_object (builder);
    kith_json_add_string (builder, "href", download->href);
    kith_json_add_string (builder, "node", download->node);
    kith_json_add_int (builder, "done", (gint64) download->done);
    kith_json_add_int (builder, "total", (gint64) download->total);
    kith_json_add_int (builder, "bytes-per-second", (gint64) download->rate.rate);
    json_builder_end_object (builder);
  }
  json_builder_end_array (builder);
  json_builder_set_member_name (builder, "counters");
  if (view->counters != NULL)
    json_builder_add_value (builder, kith_cli_variant_to_json (view->counters));
  else
    json_builder_add_null_value (builder);
  json_builder_end_object (builder);
  return json_builder_get_root (builder);
}

/* The last word: the counters, fetched now so they include everything seen. */
static void
kith_cmd_watch_finish (KithWatchView *view)
{
  g_autoptr (GVariant) status = kith_client_get_status (view->client, NULL, NULL);

  if (status != NULL)
    kith_cmd_watch_take_status (view, status);
  if (view->cli->json) {
    g_autoptr (JsonNode) root = kith_cmd_watch_to_json (view);
    kith_cli_print_json (root);
  } else if (view->interactive) {
    g_autofree gchar *savings = kith_cmd_watch_describe_savings (view);
    g_print ("%s\n", savings); /* on the normal screen, left after the dashboard */
  } else {
    g_autoptr (GPtrArray) counters = kith_cmd_watch_counter_words (view);
    g_autofree gchar *text = NULL;
    g_ptr_array_add (counters, NULL);
    text = g_strjoinv (", ", (gchar **) counters->pdata);
    g_print ("counters: %s\n", text);
  }
}

#ifdef G_OS_UNIX
/* A key on the dashboard: q (or Q) quits; everything else is ignored. */
static gboolean
kith_cmd_watch_key (gint fd, GIOCondition condition, gpointer user_data)
{
  KithWatchView *view = user_data;
  gchar buf[64];
  gssize n = read (fd, buf, sizeof buf);

  if (n <= 0) { /* end of input: nothing more can quit us but Ctrl-C and --duration */
    view->input_id = 0;
    return G_SOURCE_REMOVE;
  }
  if (memchr (buf, 'q', (gsize) n) != NULL || memchr (buf, 'Q', (gsize) n) != NULL)
    g_cancellable_cancel (view->stop);
  return G_SOURCE_CONTINUE;
}
#endif

/* Alternate screen, cursor hidden; on a terminal stdin, no echo and keys one at a time. */
static void
kith_cmd_watch_enter_screen (KithWatchView *view)
{
#ifdef G_OS_UNIX
  if (isatty (STDIN_FILENO) && tcgetattr (STDIN_FILENO, &view->tty) == 0) {
    struct termios raw = view->tty;
    raw.c_lflag &= ~(tcflag_t) (ECHO | ICANON);
    raw.c_cc[VMIN] = 1;
    raw.c_cc[VTIME] = 0;
    view->tty_saved = tcsetattr (STDIN_FILENO, TCSANOW, &raw) == 0;
    view->input_id = g_unix_fd_add (STDIN_FILENO, G_IO_IN | G_IO_HUP, kith_cmd_watch_key, view);
  }
#endif
  fputs ("\033[?1049h\033[?25l\033[H\033[2J", stdout);
  fflush (stdout);
}

static void
kith_cmd_watch_leave_screen (KithWatchView *view)
{
#ifdef G_OS_UNIX
  if (view->input_id != 0)
    g_source_remove (view->input_id);
  view->input_id = 0;
  if (view->tty_saved)
    tcsetattr (STDIN_FILENO, TCSANOW, &view->tty);
  view->tty_saved = FALSE;
#endif
  fputs ("\033[?25h\033[?1049l", stdout);
  fflush (stdout);
}

static gint
kith_cmd_watch_run (KithCli *cli, gdouble duration)
{
  g_autoptr (KithClient) client = NULL;
  g_autoptr (GCancellable) stop = g_cancellable_new ();
  g_autoptr (GMainLoop) loop = g_main_loop_new (NULL, FALSE);
  g_autoptr (GError) error = NULL;
  KithWatchView view = { .cli = cli, .loop = loop, .stop = stop, .interactive = kith_cli_is_interactive (cli) };
  guint interrupt_id, tick_id = 0, duration_id = 0;

  client = kith_cli_connect (cli, &error);
  if (client == NULL || !kith_client_watch_peers (client, &error))
    return kith_cli_report_error (cli, error);
  view.client = client;
  view.downloads = g_hash_table_new_full (g_str_hash, g_str_equal, g_free,
                                          (GDestroyNotify) kith_cmd_watch_download_free);
  g_signal_connect (client, "peer-download", G_CALLBACK (kith_cmd_watch_peer_download), &view);
  g_cancellable_connect (stop, G_CALLBACK (kith_cmd_watch_stop), &view, NULL);
  interrupt_id = kith_cli_cancel_on_interrupt (stop);
  if (duration > 0)
    duration_id = g_timeout_add_full (G_PRIORITY_DEFAULT, (guint) (duration * 1000),
                                      kith_cmd_watch_duration_over, g_object_ref (stop), g_object_unref);
  if (view.interactive) {
    kith_cmd_watch_enter_screen (&view);
    kith_cmd_watch_tick (&view);
    tick_id = g_timeout_add (KITH_WATCH_REDRAW_MS, kith_cmd_watch_tick, &view);
  }
  if (!g_cancellable_is_cancelled (stop))
    g_main_loop_run (loop);
  if (interrupt_id != 0)
    g_source_remove (interrupt_id);
  if (tick_id != 0)
    g_source_remove (tick_id);
  /* gone already when it fired */
  if (duration_id != 0 && g_main_context_find_source_by_id (NULL, duration_id) != NULL)
    g_source_remove (duration_id);
  if (view.interactive)
    kith_cmd_watch_leave_screen (&view);
  g_signal_handlers_disconnect_by_data (client, &view);
  kith_cmd_watch_finish (&view);
  g_hash_table_unref (view.downloads);
  g_clear_pointer (&view.counters, g_variant_unref);
  g_free (view.node_id);
  return KITH_EXIT_OK;
}

gint
kith_cmd_watch (KithCli *cli, const KithCommand *command, gint argc, gchar **argv)
{
  g_autoptr (GError) error = NULL;
  gdouble duration = 0;
  const GOptionEntry entries[] = {
    { "duration", 'd', 0, G_OPTION_ARG_DOUBLE, &duration, "Stop after S seconds (default: until Ctrl-C)", "S" },
    { NULL },
  };

  if (!kith_cli_parse_no_args (cli, command, entries, &argc, &argv, &error))
    return kith_cli_report_error (cli, error);
  if (duration < 0 || duration > G_MAXUINT / 1000) {
    g_set_error (&error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
                 "--duration must be a number of seconds between 0 and %u", G_MAXUINT / 1000);
    return kith_cli_report_error (cli, error);
  }
  return kith_cmd_watch_run (cli, duration);
}
