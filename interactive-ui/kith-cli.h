/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* kith-cli.h — what every `kith` command shares: global options, connecting, output, exit codes */
#pragma once

#include <json-glib/json-glib.h>
#include <kith.h>

G_BEGIN_DECLS

/* Exit codes of `kith`, listed in `kith --help`. */
typedef enum {
  KITH_EXIT_OK = 0,
  KITH_EXIT_FAILED = 1,
  KITH_EXIT_NO_AGENT = 2,
  KITH_EXIT_PERMISSION_DENIED = 3,
  KITH_EXIT_PLUGIN_MISSING = 4,
  KITH_EXIT_USAGE = 64,
} KithExit;

/* Global options, valid before or after the command name. */
typedef struct {
  gchar *address;
  gboolean session;
  gboolean system;
  gboolean json;
  gboolean verbose;
  gboolean version;
} KithCli;

/* One command: `kith NAME …` runs run() with argv[0] = NAME. */
typedef struct _KithCommand KithCommand;
struct _KithCommand {
  const gchar *name;
  const gchar *summary;
  gint (*run) (KithCli *cli, const KithCommand *command, gint argc, gchar **argv);
};

/* Parses @argv for command @command: its own @entries (may be NULL) plus the global options. */
gboolean kith_cli_parse (KithCli *cli, const KithCommand *command, const gchar *parameter_string,
                         const GOptionEntry *entries, gint *argc, gchar ***argv, GError **error);
/* kith_cli_parse() for a command that takes no arguments (options only): refuses any. */
gboolean kith_cli_parse_no_args (KithCli *cli, const KithCommand *command, const GOptionEntry *entries, gint *argc,
                                 gchar ***argv, GError **error);
/* Adds the global options to @context. */
void kith_cli_add_global_options (KithCli *cli, GOptionContext *context);
/* A client connected as the global options say; caller owns it. */
KithClient *kith_cli_connect (KithCli *cli, GError **error);
/* Connects (kith_cli_connect(), the client in @client) and returns the agent's GetStatus
 * answer; caller owns both. */
GVariant *kith_cli_get_status (KithCli *cli, KithClient **client, GError **error);
/* Prints @error (a JSON object on stdout with --json, else a line on stderr); returns the exit code. */
gint kith_cli_report_error (KithCli *cli, const GError *error);
/* Writes @node as pretty JSON and a newline on stdout. */
void kith_cli_print_json (JsonNode *node);
/* A one-line rendering of @value for people (strings bare, booleans yes/no); caller owns it. */
gchar *kith_cli_format_value (GVariant *value);
/* TRUE if @fd is a terminal. */
gboolean kith_cli_fd_is_terminal (gint fd);
/* Colour on terminal @fd unless NO_COLOR is set (any value) or TERM is dumb. */
gboolean kith_cli_use_colour (gint fd);
/* The width of terminal @fd in columns (80 when unknown). */
guint kith_cli_terminal_width_fd (gint fd);
/* The columns UTF-8 @text takes on a terminal (wide characters count 2, combining 0). */
guint kith_cli_display_width (const gchar *text);
/* The longest prefix of @text (whole characters) that fits in @columns, "…" marking a cut. */
gchar *kith_cli_truncate_columns (const gchar *text, guint columns);
/* @value of status key @key for people: times since the epoch as local dates with
 * "ago"/"in", *-seconds as durations, sizes in kB/MB, counter tables as "response 3, …". */
gchar *kith_cli_format_field (const gchar *key, GVariant *value);
/* "42 s", "3 min 5 s", "2 h 10 min", "4 d 3 h". */
gchar *kith_cli_format_duration (gint64 seconds);
/* A status value as JSON: keys of counter tables without label syntax, whole counts as
 * integers; floating. */
JsonNode *kith_cli_variant_to_json (GVariant *value);

/* TRUE when stdout is a terminal (progress bars, redrawn views) and --json is off. */
gboolean kith_cli_is_interactive (KithCli *cli);
/* Columns of the terminal on stdout (80 when unknown). */
guint kith_cli_terminal_width (void);
/* Cancels @cancellable on SIGINT (Ctrl-C) until the returned source id is removed. */
guint kith_cli_cancel_on_interrupt (GCancellable *cancellable);
/* "1.2 MB/s"; caller owns it. */
gchar *kith_cli_format_rate (gdouble bytes_per_second);
/* "0:42", "1:02:03", or "--:--" for a negative (unknown) number of seconds; caller owns it. */
gchar *kith_cli_format_eta (gdouble seconds);
/* The first 8 hex digits of a node id, enough to tell peers apart on a LAN; caller owns it. */
gchar *kith_cli_short_node (const gchar *node);

/* A transfer rate, smoothed over the last second or two; zero-initialise it. */
typedef struct {
  gint64 sample_us;     /* when the last sample was taken; 0 before the first */
  guint64 sample_bytes;
  gdouble rate;         /* bytes per second; 0 until two samples are far enough apart */
} KithCliRate;

/* Records that @bytes (a running total) were reached at @now_us (monotonic). */
void kith_cli_rate_update (KithCliRate *rate, guint64 bytes, gint64 now_us);

/* The commands, one file each. */
gint kith_cmd_status (KithCli *cli, const KithCommand *command, gint argc, gchar **argv);
gint kith_cmd_fetch (KithCli *cli, const KithCommand *command, gint argc, gchar **argv);
gint kith_cmd_watch (KithCli *cli, const KithCommand *command, gint argc, gchar **argv);
gint kith_cmd_update (KithCli *cli, const KithCommand *command, gint argc, gchar **argv);
gint kith_cmd_upload (KithCli *cli, const KithCommand *command, gint argc, gchar **argv);
gint kith_cmd_peers (KithCli *cli, const KithCommand *command, gint argc, gchar **argv);

G_END_DECLS
