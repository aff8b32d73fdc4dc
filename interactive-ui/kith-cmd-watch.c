/* kith-cmd-watch.c — `kith watch`: downloads in progress on the LAN, and this agent's counters
 *
 * Built from PeerDownload signals (what other nodes announce) and GetStatus' peering
 * section. On a terminal the view is redrawn in place every 250 ms; otherwise each
 * announcement is one line. Stops on Ctrl-C or after --duration.
 */
#include "kith-cli.h"

#include <stdio.h>
#include <string.h>

#define KITH_WATCH_REDRAW_MS 250
#define KITH_WATCH_STATUS_EVERY 4 /* redraws: GetStatus once a second */
#define KITH_WATCH_KEEP_US (10 * G_USEC_PER_SEC) /* how long a quiet download stays listed */

/* One node's download of one href, as last announced. */
typedef struct {
  gchar *href;
  gchar *node;
  guint64 done;
  guint64 total;
  gint64 seen_us;
  KithCliRate rate;
} KithWatchDownload;

static void
kith_watch_download_free (KithWatchDownload *download)
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
  gboolean status_pending;
  guint ticks;
  guint lines_drawn;
  guint64 events;
} KithWatchView;

static gchar *
kith_watch_describe_progress (guint64 done, guint64 total)
{
  g_autofree gchar *done_str = g_format_size (done);
  g_autofree gchar *total_str = NULL;

  if (total == 0)
    return g_steal_pointer (&done_str);
  total_str = g_format_size (total);
  return g_strdup_printf ("%s / %s (%u%%)", done_str, total_str, (guint) (MIN (done, total) * 100 / total));
}

static void
kith_watch_peer_download (KithClient *client, const gchar *href, const gchar *node,
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
  kith_cli_rate_update (&download->rate, done, now);
  view->events++;
  if (!view->interactive && !view->cli->json) {
    g_autofree gchar *progress = kith_watch_describe_progress (done, total);
    g_autofree gchar *rate = kith_cli_format_rate (download->rate.rate);
    g_print ("%s  %s  %s  %s%s\n", node, href, progress, rate,
             total > 0 && done >= total ? "  complete" : "");
    fflush (stdout);
  }
}

/* A counter for people: sizes for byte counts, sums for per-type maps. */
static gchar *
kith_watch_format_counter (const gchar *key, GVariant *value)
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
kith_watch_counter_words (KithWatchView *view)
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
    g_autoptr(GVariant) v = g_variant_lookup_value (view->counters, first[i], NULL);
    g_autofree gchar *text = v != NULL ? kith_watch_format_counter (first[i], v) : NULL;
    if (text != NULL)
      g_ptr_array_add (words, g_strdup_printf ("%s %s", first[i], text));
  }
  g_variant_iter_init (&iter, view->counters);
  while (g_variant_iter_loop (&iter, "{&sv}", &key, &value)) {
    g_autofree gchar *text = NULL;
    if (g_strv_contains (first, key) || (text = kith_watch_format_counter (key, value)) == NULL)
      continue;
    g_ptr_array_add (words, g_strdup_printf ("%s %s", key, text));
  }
  return words;
}

/* Appends @words separated by ", " after a label as wide as @indent, starting a new line
 * (with @indent) before @width; returns the lines. */
static guint
kith_watch_append_wrapped (GString *out, GPtrArray *words, guint width, const gchar *indent)
{
  gsize line_start = out->len - strlen (indent);
  guint lines = 1;

  for (guint i = 0; i < words->len; i++) {
    const gchar *word = g_ptr_array_index (words, i);
    if (i > 0 && out->len - line_start + strlen (word) + 2 > width) {
      g_string_append_printf (out, ",\n\r\033[K%s", indent);
      line_start = out->len - strlen (indent);
      lines++;
    } else if (i > 0) {
      g_string_append (out, ", ");
    }
    g_string_append (out, word);
  }
  return lines;
}

static gint
kith_watch_compare (gconstpointer a, gconstpointer b)
{
  const KithWatchDownload *x = *(KithWatchDownload *const *) a;
  const KithWatchDownload *y = *(KithWatchDownload *const *) b;
  gint cmp = g_strcmp0 (x->href, y->href);
  return cmp != 0 ? cmp : g_strcmp0 (x->node, y->node);
}

/* The downloads heard from recently, sorted; the array is the caller's, the items are not. */
static GPtrArray *
kith_watch_current (KithWatchView *view)
{
  GPtrArray *current = g_ptr_array_new ();
  GHashTableIter iter;
  KithWatchDownload *download;
  gint64 now = g_get_monotonic_time ();

  g_hash_table_iter_init (&iter, view->downloads);
  while (g_hash_table_iter_next (&iter, NULL, (gpointer *) &download)) {
    if (now - download->seen_us > KITH_WATCH_KEEP_US)
      g_hash_table_iter_remove (&iter);
    else
      g_ptr_array_add (current, download);
  }
  g_ptr_array_sort (current, kith_watch_compare);
  return current;
}

static void
kith_watch_redraw (KithWatchView *view)
{
  g_autoptr(GString) out = g_string_new (NULL);
  g_autoptr(GPtrArray) current = kith_watch_current (view);
  g_autoptr(GPtrArray) counters = kith_watch_counter_words (view);
  guint width = kith_cli_terminal_width () - 1;
  guint lines = 0;

  /* back to the top of what we drew last time, then overwrite it */
  if (view->lines_drawn > 0)
    g_string_append_printf (out, "\033[%uA", view->lines_drawn);
  g_string_append_printf (out, "\r\033[KDownloads on the LAN (%u):\n", current->len);
  lines++;
  for (guint i = 0; i < current->len; i++) {
    KithWatchDownload *download = g_ptr_array_index (current, i);
    g_autofree gchar *node = kith_cli_short_node (download->node);
    g_autofree gchar *progress = kith_watch_describe_progress (download->done, download->total);
    g_autofree gchar *rate = kith_cli_format_rate (download->rate.rate);
    g_autofree gchar *row = g_strdup_printf ("  %s  %-28s  %s  %s", node, progress, rate, download->href);
    if (strlen (row) > width)
      row[width] = '\0';
    g_string_append_printf (out, "\r\033[K%s\n", row);
    lines++;
  }
  g_string_append (out, "\r\033[KThis agent: ");
  lines += kith_watch_append_wrapped (out, counters, width, "            ");
  g_string_append (out, "\n\033[J");
  g_print ("%s", out->str);
  fflush (stdout);
  view->lines_drawn = lines;
}

static void
kith_watch_status_cb (GObject *source, GAsyncResult *res, gpointer user_data)
{
  KithWatchView *view = user_data;
  g_autoptr(GVariant) status = NULL;
  g_autoptr(GError) error = NULL;

  view->status_pending = FALSE;
  status = kith_client_get_status_finish (KITH_CLIENT (source), res, &error);
  if (status == NULL) {
    g_debug ("GetStatus: %s", error->message);
    return;
  }
  g_clear_pointer (&view->counters, g_variant_unref);
  view->counters = g_variant_lookup_value (status, "peering", G_VARIANT_TYPE_VARDICT);
}

static void
kith_watch_refresh_counters (KithWatchView *view)
{
  if (view->status_pending)
    return;
  view->status_pending = TRUE;
  kith_client_get_status_async (view->client, NULL, kith_watch_status_cb, view);
}

static gboolean
kith_watch_tick (gpointer user_data)
{
  KithWatchView *view = user_data;

  if (view->ticks++ % KITH_WATCH_STATUS_EVERY == 0)
    kith_watch_refresh_counters (view);
  kith_watch_redraw (view);
  return G_SOURCE_CONTINUE;
}

static void
kith_watch_stop (GCancellable *cancellable, KithWatchView *view)
{
  g_main_loop_quit (view->loop);
}

static gboolean
kith_watch_duration_over (gpointer user_data)
{
  g_cancellable_cancel (G_CANCELLABLE (user_data));
  return G_SOURCE_REMOVE;
}

static JsonNode *
kith_watch_to_json (KithWatchView *view)
{
  g_autoptr(JsonBuilder) builder = json_builder_new ();
  g_autoptr(GPtrArray) current = kith_watch_current (view);

  json_builder_begin_object (builder);
  json_builder_set_member_name (builder, "events");
  json_builder_add_int_value (builder, (gint64) view->events);
  json_builder_set_member_name (builder, "downloads");
  json_builder_begin_array (builder);
  for (guint i = 0; i < current->len; i++) {
    KithWatchDownload *download = g_ptr_array_index (current, i);
    json_builder_begin_object (builder);
    json_builder_set_member_name (builder, "href");
    json_builder_add_string_value (builder, download->href);
    json_builder_set_member_name (builder, "node");
    json_builder_add_string_value (builder, download->node);
    json_builder_set_member_name (builder, "done");
    json_builder_add_int_value (builder, (gint64) download->done);
    json_builder_set_member_name (builder, "total");
    json_builder_add_int_value (builder, (gint64) download->total);
    json_builder_set_member_name (builder, "bytes-per-second");
    json_builder_add_int_value (builder, (gint64) download->rate.rate);
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
kith_watch_finish (KithWatchView *view)
{
  g_autoptr(GVariant) status = kith_client_get_status (view->client, NULL, NULL);

  if (status != NULL) {
    g_clear_pointer (&view->counters, g_variant_unref);
    view->counters = g_variant_lookup_value (status, "peering", G_VARIANT_TYPE_VARDICT);
  }
  if (view->cli->json) {
    g_autoptr(JsonNode) root = kith_watch_to_json (view);
    kith_cli_print_json (root);
  } else if (view->interactive) {
    kith_watch_redraw (view);
  } else {
    g_autoptr(GPtrArray) counters = kith_watch_counter_words (view);
    g_autofree gchar *text = NULL;
    g_ptr_array_add (counters, NULL);
    text = g_strjoinv (", ", (gchar **) counters->pdata);
    g_print ("counters: %s\n", text);
  }
}

static gint
kith_watch_run (KithCli *cli, gdouble duration)
{
  g_autoptr(KithClient) client = NULL;
  g_autoptr(GCancellable) stop = g_cancellable_new ();
  g_autoptr(GMainLoop) loop = g_main_loop_new (NULL, FALSE);
  g_autoptr(GError) error = NULL;
  KithWatchView view = { .cli = cli, .loop = loop, .interactive = kith_cli_is_interactive (cli) };
  guint interrupt_id, tick_id = 0, duration_id = 0;

  client = kith_cli_connect (cli, &error);
  if (client == NULL || !kith_client_watch_peers (client, &error))
    return kith_cli_report_error (cli, error);
  view.client = client;
  view.downloads = g_hash_table_new_full (g_str_hash, g_str_equal, g_free,
                                          (GDestroyNotify) kith_watch_download_free);
  g_signal_connect (client, "peer-download", G_CALLBACK (kith_watch_peer_download), &view);
  g_cancellable_connect (stop, G_CALLBACK (kith_watch_stop), &view, NULL);
  interrupt_id = kith_cli_cancel_on_interrupt (stop);
  if (duration > 0)
    duration_id = g_timeout_add_full (G_PRIORITY_DEFAULT, (guint) (duration * 1000), kith_watch_duration_over,
                                      g_object_ref (stop), g_object_unref);
  if (view.interactive) {
    kith_watch_tick (&view);
    tick_id = g_timeout_add (KITH_WATCH_REDRAW_MS, kith_watch_tick, &view);
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
  g_signal_handlers_disconnect_by_data (client, &view);
  kith_watch_finish (&view);
  g_hash_table_unref (view.downloads);
  g_clear_pointer (&view.counters, g_variant_unref);
  return KITH_EXIT_OK;
}

gint
kith_cmd_watch (KithCli *cli, const KithCommand *command, gint argc, gchar **argv)
{
  g_autoptr(GError) error = NULL;
  gdouble duration = 0;
  const GOptionEntry entries[] = {
    { "duration", 'd', 0, G_OPTION_ARG_DOUBLE, &duration, "Stop after S seconds (default: until Ctrl-C)", "S" },
    { NULL },
  };

  if (!kith_cli_parse (cli, command, NULL, entries, &argc, &argv, &error))
    return kith_cli_report_error (cli, error);
  if (argc > 1) {
    g_set_error (&error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
                 "watch takes no arguments, got '%s'", argv[1]);
    return kith_cli_report_error (cli, error);
  }
  if (duration < 0 || duration > G_MAXUINT / 1000) {
    g_set_error (&error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
                 "--duration must be a number of seconds between 0 and %u", G_MAXUINT / 1000);
    return kith_cli_report_error (cli, error);
  }
  return kith_watch_run (cli, duration);
}
