/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* kith-backend.c — the reference vendor backend: init, publish, serve */
#include <glib.h>
#include <locale.h>
#include <stdio.h>
#include <string.h>
#ifdef G_OS_UNIX
#include <glib-unix.h>
#include <signal.h>
#endif

#include "kith-backend-error.h"
#include "kith-build-config.h"
#include "kith-backend-server.h"
#include "kith-http.h"
#include "kith-backend-tls.h"
#include "kith-backend-store.h"
#include "kith-crypto.h"
#include "kith-file.h"

#define KITH_BACKEND_USAGE \
  "Usage:\n" \
  "  kith-backend init DIR\n" \
  "  kith-backend publish [--expires-in 7d] DIR SRC-DIR\n" \
  "  kith-backend tls-cert [--valid-for 90d] DIR FILE HOST...\n" \
  "  kith-backend serve [--listen ADDR:PORT] [--tls-name HOST]... [--plain-http] [--rate-limit BYTES/S] [--cert-validity 24h]\n" \
  "                     [--delay-receipts MS] [--drop-receipts] DIR\n"

/* "90", "90s", "15m", "12h", "7d" → seconds. */
static gboolean
kith_backend_parse_duration (const gchar *text, gint64 *seconds, GError **error)
{
  gchar *end = NULL;
  guint64 n = g_ascii_strtoull (text, &end, 10);
  gint64 unit = 1;

  if (end != text) {
    if (g_str_equal (end, "d"))
      unit = 24 * 3600;
    else if (g_str_equal (end, "h"))
      unit = 3600;
    else if (g_str_equal (end, "m"))
      unit = 60;
    else if (!g_str_equal (end, "s") && *end != '\0')
      end = (gchar *) text;
  }
  if (end == text || n == 0 || n > G_MAXINT32) {
    g_set_error (error, KITH_BACKEND_ERROR, KITH_BACKEND_ERROR_INVALID_ARGS,
                 "--expires-in %s: expected a positive duration such as 3600, 90m, 12h or 7d", text);
    return FALSE;
  }
  *seconds = (gint64) n * unit;
  return TRUE;
}

/* "100000", "100k", "1M" (decimal units, bytes per second). */
static gboolean
kith_backend_parse_rate (const gchar *text, guint64 *rate, GError **error)
{
  gchar *end = NULL;
  guint64 n = g_ascii_strtoull (text, &end, 10);

  if (end != text && (g_str_equal (end, "k") || g_str_equal (end, "K")))
    n *= 1000, end++;
  else if (end != text && g_str_equal (end, "M"))
    n *= 1000 * 1000, end++;
  if (end == text || *end != '\0' || n == 0 || n > G_MAXUINT32) {
    g_set_error (error, KITH_BACKEND_ERROR, KITH_BACKEND_ERROR_INVALID_ARGS,
                 "--rate-limit %s: expected bytes per second, e.g. 100000, 100k or 1M", text);
    return FALSE;
  }
  *rate = n;
  return TRUE;
}

static gboolean
kith_backend_check_args (gint argc, gint wanted, const gchar *command, GError **error)
{
  if (argc == wanted)
    return TRUE;
  g_set_error (error, KITH_BACKEND_ERROR, KITH_BACKEND_ERROR_INVALID_ARGS,
               "%s takes %d argument%s\n%s", command, wanted - 2, wanted == 3 ? "" : "s", KITH_BACKEND_USAGE);
  return FALSE;
}

static gboolean
kith_backend_cmd_init (gint argc, gchar **argv, GError **error)
{
  g_autofree gchar *ca = NULL;

  if (!kith_backend_check_args (argc, 3, "init", error))
    return FALSE;
  ca = kith_backend_store_init (argv[2], error);
  if (ca == NULL)
    return FALSE;
  g_print ("%s\n", ca);
  return TRUE;
}

static gboolean
kith_backend_cmd_publish (gint argc, gchar **argv, GError **error)
{
  g_autofree gchar *expires_text = NULL;
  g_autoptr (GOptionContext) ctx = g_option_context_new ("DIR SRC-DIR");
  g_autoptr (KithCatalog) catalog = NULL;
  gint64 expires_in = 7 * 24 * 3600;
  const GOptionEntry entries[] = {
    { "expires-in", 0, 0, G_OPTION_ARG_STRING, &expires_text, "How long the catalog stays valid (7d)", "DURATION" },
    { NULL },
  };

  g_option_context_add_main_entries (ctx, entries, NULL);
  if (!g_option_context_parse (ctx, &argc, &argv, error))
    return FALSE;
  if (expires_text != NULL && !kith_backend_parse_duration (expires_text, &expires_in, error))
    return FALSE;
  if (!kith_backend_check_args (argc, 4, "publish", error))
    return FALSE;
  catalog = kith_backend_store_publish (argv[2], argv[3], expires_in, error);
  if (catalog == NULL)
    return FALSE;
  g_print ("kith-backend: published catalog version %" G_GINT64_FORMAT " with %u files\n", catalog->version,
           catalog->files->len);
  return TRUE;
}

/* A certificate from the vendor CA for a web server in front of the backend: FILE (0600)
 * holds it and its key, for nginx's ssl_certificate and ssl_certificate_key alike. */
static gboolean
kith_backend_cmd_tls_cert (gint argc, gchar **argv, GError **error)
{
  g_autofree gchar *validity_text = NULL;
  g_autofree gchar *pem = NULL;
  g_autoptr (GOptionContext) ctx = g_option_context_new ("DIR FILE HOST...");
  gint64 validity = 90 * 24 * 3600;
  const GOptionEntry entries[] = {
    { "valid-for", 0, 0, G_OPTION_ARG_STRING, &validity_text, "Validity of the certificate (90d)", "DURATION" },
    { NULL },
  };

  g_option_context_add_main_entries (ctx, entries, NULL);
  if (!g_option_context_parse (ctx, &argc, &argv, error))
    return FALSE;
  if (validity_text != NULL && !kith_backend_parse_duration (validity_text, &validity, error)) {
    g_prefix_error (error, "--valid-for: ");
    return FALSE;
  }
  if (argc < 5) {
    g_set_error (error, KITH_BACKEND_ERROR, KITH_BACKEND_ERROR_INVALID_ARGS,
                 "tls-cert takes DIR, FILE and at least one HOST\n%s", KITH_BACKEND_USAGE);
    return FALSE;
  }
  if (!kith_backend_store_check (argv[2], error) ||
      (pem = kith_backend_tls_issue_pem (argv[2], (const gchar *const *) argv + 4, validity, error)) == NULL ||
      !kith_file_write_atomic (argv[3], pem, strlen (pem), 0600, error))
    return FALSE;
  g_print ("kith-backend: %s holds a certificate for %d name%s, valid %" G_GINT64_FORMAT " s, and its key\n",
           argv[3], argc - 4, argc == 5 ? "" : "s", validity);
  return TRUE;
}

#ifdef G_OS_UNIX
static gboolean
kith_backend_quit_cb (gpointer user_data)
{
  g_main_loop_quit (user_data);
  return G_SOURCE_CONTINUE;
}
#endif

/* HTTPS for the listen address (unless it is the wildcard) and every --tls-name. */
static gboolean
kith_backend_serve_tls (KithBackendServer *server, const gchar *dir, const gchar *listen, GStrv names,
                        gint64 validity, GError **error)
{
  g_autoptr (GPtrArray) hosts = g_ptr_array_new_with_free_func (g_free);
  g_autoptr (GSocketConnectable) parsed = g_network_address_parse (listen, 0, NULL);
  g_autoptr (GInetAddress) inet = NULL;
  g_autoptr (GTlsCertificate) cert = NULL;

  if (parsed != NULL) {
    const gchar *host = g_network_address_get_hostname (G_NETWORK_ADDRESS (parsed));
    inet = g_inet_address_new_from_string (host);
    if (inet != NULL && !g_inet_address_get_is_any (inet))
      g_ptr_array_add (hosts, g_strdup (host));
  }
  for (guint i = 0; names != NULL && names[i] != NULL; i++)
    g_ptr_array_add (hosts, g_strdup (names[i]));
  if (hosts->len == 0 && inet == NULL)
    return TRUE; /* not an address: listen says so */
  if (hosts->len == 0) {
    g_set_error (error, KITH_BACKEND_ERROR, KITH_BACKEND_ERROR_INVALID_ARGS,
                 "--listen %s is the wildcard: name the server with --tls-name (or --plain-http)", listen);
    return FALSE;
  }
  g_ptr_array_add (hosts, NULL);
  /* the certificate lives as long as node certificates, at least a day */
  cert = kith_backend_tls_certificate (dir, (const gchar *const *) hosts->pdata, MAX (validity, 86400) * 30, error);
  if (cert == NULL) {
    g_prefix_error (error, "TLS certificate: ");
    return FALSE;
  }
  kith_backend_server_set_tls_certificate (server, cert);
  return TRUE;
}

static gboolean
kith_backend_cmd_serve (gint argc, gchar **argv, GError **error)
{
  g_autofree gchar *listen = NULL;
  g_autofree gchar *rate_text = NULL;
  g_autofree gchar *url = NULL;
  g_autoptr (GOptionContext) ctx = g_option_context_new ("DIR");
  g_autoptr (KithBackendServer) server = NULL;
  g_autoptr (KithCatalog) catalog = NULL;
  g_autoptr (GMainLoop) loop = NULL;
  g_autoptr (GError) catalog_error = NULL;
  g_autofree gchar *validity_text = NULL;
  guint64 rate = 0;
  gint delay_receipts = 0;
  g_auto (GStrv) tls_names = NULL;
  gboolean plain_http = FALSE;
  KithBackendUploadOptions upload_options = { .cert_validity = KITH_BACKEND_CERT_VALIDITY };
  const GOptionEntry entries[] = {
    { "listen", 0, 0, G_OPTION_ARG_STRING, &listen, "Address and port (127.0.0.1:8080)", "ADDR:PORT" },
    { "tls-name", 0, 0, G_OPTION_ARG_STRING_ARRAY, &tls_names,
      "A name or address agents use for this server (the certificate covers these and the listen address)", "HOST" },
    { "plain-http", 0, 0, G_OPTION_ARG_NONE, &plain_http, "Serve plain HTTP, no TLS (agents refuse it by default)",
      NULL },
    { "rate-limit", 0, 0, G_OPTION_ARG_STRING, &rate_text, "Uplink limit shared by all clients", "BYTES/S" },
    { "cert-validity", 0, 0, G_OPTION_ARG_STRING, &validity_text, "Validity of node certificates (24h)", "DURATION" },
    { "delay-receipts", 0, 0, G_OPTION_ARG_INT, &delay_receipts, "Hold each upload receipt back (test)", "MS" },
    { "drop-receipts", 0, 0, G_OPTION_ARG_NONE, &upload_options.drop_receipts, "Store uploads, send no receipt (test)",
      NULL },
    { NULL },
  };

  g_option_context_add_main_entries (ctx, entries, NULL);
  if (!g_option_context_parse (ctx, &argc, &argv, error))
    return FALSE;
  if (rate_text != NULL && !kith_backend_parse_rate (rate_text, &rate, error))
    return FALSE;
  if (validity_text != NULL && !kith_backend_parse_duration (validity_text, &upload_options.cert_validity, error)) {
    g_prefix_error (error, "--cert-validity: ");
    return FALSE;
  }
  if (delay_receipts < 0) {
    g_set_error (error, KITH_BACKEND_ERROR, KITH_BACKEND_ERROR_INVALID_ARGS, "--delay-receipts: expected milliseconds");
    return FALSE;
  }
  upload_options.delay_receipts = (guint) delay_receipts;
  if (!kith_backend_check_args (argc, 3, "serve", error) || !kith_backend_store_check (argv[2], error))
    return FALSE;
  if (!kith_backend_store_load_catalog (argv[2], g_get_real_time () / G_USEC_PER_SEC, &catalog, &catalog_error)) {
    if (!g_error_matches (catalog_error, KITH_CRYPTO_ERROR, KITH_CRYPTO_ERROR_EXPIRED)) {
      g_propagate_error (error, g_steal_pointer (&catalog_error));
      return FALSE;
    }
    g_warning ("%s; agents will refuse it until you publish again", catalog_error->message);
  } else if (catalog == NULL) {
    g_message ("nothing published yet in %s; agents will find no catalog", argv[2]);
  }
  /* every connection costs a descriptor: take all the system allows (kith-http.h caps them) */
  kith_http_raise_fd_limit ();
  server = kith_backend_server_new (argv[2], rate);
  kith_backend_server_set_upload_options (server, &upload_options);
  if (!plain_http && !kith_backend_serve_tls (server, argv[2], listen != NULL ? listen : "127.0.0.1:8080",
                                               tls_names, upload_options.cert_validity, error))
    return FALSE;
  if (!kith_backend_server_listen (server, listen != NULL ? listen : "127.0.0.1:8080", error))
    return FALSE;
  loop = g_main_loop_new (NULL, FALSE);
#ifdef G_OS_UNIX
  g_unix_signal_add (SIGTERM, kith_backend_quit_cb, loop);
  g_unix_signal_add (SIGINT, kith_backend_quit_cb, loop);
#endif
  url = kith_backend_server_get_base_url (server);
  /* the ready line: tests and the demo wait for it */
  g_print ("kith-backend: serving %s on %s\n", argv[2], url);
  fflush (stdout);
  g_main_loop_run (loop);
  kith_backend_server_stop (server);
  return TRUE;
}

int
main (int argc, char **argv)
{
  g_autoptr (GError) error = NULL;
  const gchar *command = argc > 1 ? argv[1] : "";
  gboolean ok;

  setlocale (LC_ALL, "");
  g_set_prgname ("kith-backend");
  if (g_str_equal (command, "init"))
    ok = kith_backend_cmd_init (argc, argv, &error);
  else if (g_str_equal (command, "publish"))
    ok = kith_backend_cmd_publish (argc, argv, &error);
  else if (g_str_equal (command, "tls-cert"))
    ok = kith_backend_cmd_tls_cert (argc, argv, &error);
  else if (g_str_equal (command, "serve"))
    ok = kith_backend_cmd_serve (argc, argv, &error);
  else if (g_str_equal (command, "--version")) {
    g_print ("kith-backend %s\n", KITH_VERSION);
    return 0;
  } else if (g_str_equal (command, "--help") || g_str_equal (command, "-h")) {
    g_print ("%s", KITH_BACKEND_USAGE);
    return 0;
  } else {
    g_set_error (&error, KITH_BACKEND_ERROR, KITH_BACKEND_ERROR_INVALID_ARGS, "unknown command \"%s\"\n%s",
                 command, KITH_BACKEND_USAGE);
    ok = FALSE;
  }
  if (!ok) {
    g_printerr ("kith-backend: %s\n", error->message);
    return g_error_matches (error, KITH_BACKEND_ERROR, KITH_BACKEND_ERROR_INVALID_ARGS) ||
                   g_error_matches (error, G_OPTION_ERROR, G_OPTION_ERROR_UNKNOWN_OPTION) ||
                   g_error_matches (error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE)
               ? 2
               : 1;
  }
  return 0;
}
