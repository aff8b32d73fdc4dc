/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* kith-backend-server.c — the backend's HTTP side */
#include "kith-backend-server.h"

#include <json-glib/json-glib.h>
#include <libsoup/soup.h>

#include "kith-backend-error.h"
#include "kith-http.h"
#include "kith-http-answer.h"
#include "kith-json.h"
#include "kith-backend-store.h"
#include "kith-backend-upload.h"
#include "kith-rate-limiter.h"

typedef struct {
  guint64 requests;
  guint64 bytes;
} KithPathStats;

struct _KithBackendServer {
  GObject parent_instance;
  gchar *dir;
  KithHttp *http;
  SoupServer *server; /* owned by http */
  KithRateLimiter *limiter; /* NULL: unlimited */
  guint64 rate_limit;
  GHashTable *stats; /* URL path → KithPathStats; only paths that name a resource */
  guint64 total_requests;
  guint64 total_bytes;
  KithBackendUploads *uploads;
};

G_DEFINE_TYPE (KithBackendServer, kith_backend_server, G_TYPE_OBJECT)

/* One response body on its way out, attached to its message. */
typedef struct {
  KithBackendServer *self; /* a ref: the server outlives its responses */
  SoupServerMessage *msg;  /* borrowed: this struct is the message's data */
  GBytes *body;            /* the whole (range of the) resource */
  gsize offset;            /* what has been handed to libsoup */
  gsize pending;           /* reserved from the limiter, waiting for its turn */
  KithPathStats *stats;    /* borrowed from self->stats */
  guint timeout_id;
} KithSend;

static void
kith_backend_server_send_free (KithSend *send)
{
  g_clear_handle_id (&send->timeout_id, g_source_remove);
  g_bytes_unref (send->body);
  g_object_unref (send->self);
  g_free (send);
}

/* Hands @length more bytes to libsoup; completes the body after the last. */
static void
kith_backend_server_send_append (KithSend *send, gsize length)
{
  SoupMessageBody *body = soup_server_message_get_response_body (send->msg);

  soup_message_body_append_bytes (body, g_bytes_new_from_bytes (send->body, send->offset, length));
  send->offset += length;
  if (send->offset >= g_bytes_get_size (send->body))
    soup_message_body_complete (body);
}

static gboolean
kith_backend_server_send_timeout_cb (gpointer user_data)
{
  KithSend *send = user_data;

  send->timeout_id = 0;
  kith_backend_server_send_append (send, send->pending);
  send->pending = 0;
  /* libsoup paused itself when it found no chunk to write */
  soup_server_message_unpause (send->msg);
  return G_SOURCE_REMOVE;
}

/* Queues the next chunk, now or when the shared limiter allows it. */
static void
kith_backend_server_send_next (KithSend *send)
{
  gsize remaining = g_bytes_get_size (send->body) - send->offset;
  gint64 wait_us;

  if (remaining == 0 || send->pending > 0 || send->timeout_id != 0)
    return;
  if (send->self->limiter == NULL) {
    kith_backend_server_send_append (send, remaining);
    return;
  }
  send->pending = MIN (remaining, kith_rate_limiter_get_chunk_size (send->self->limiter));
  wait_us = kith_rate_limiter_reserve (send->self->limiter, send->pending, g_get_monotonic_time ());
  if (wait_us == 0) {
    kith_backend_server_send_append (send, send->pending);
    send->pending = 0;
    return;
  }
  send->timeout_id = g_timeout_add ((guint) ((wait_us + 999) / 1000), kith_backend_server_send_timeout_cb,
                                    send);
}

static void
kith_backend_server_send_wrote_chunk_cb (SoupServerMessage *msg, gpointer user_data)
{
  kith_backend_server_send_next (user_data);
}

static void
kith_backend_server_send_wrote_body_data_cb (SoupServerMessage *msg, guint chunk_size, gpointer user_data)
{
  KithSend *send = user_data;
  send->stats->bytes += chunk_size;
  send->self->total_bytes += chunk_size;
}

static void
kith_backend_server_send_finished_cb (SoupServerMessage *msg, gpointer user_data)
{
  KithSend *send = user_data;
  /* the client may have gone away mid-body: stop feeding it */
  g_clear_handle_id (&send->timeout_id, g_source_remove);
}

static void
kith_backend_server_start_body (KithBackendServer *self, SoupServerMessage *msg, GBytes *body,
                                KithPathStats *stats)
{
  KithSend *send = g_new0 (KithSend, 1);

  send->self = g_object_ref (self);
  send->msg = msg;
  send->body = g_bytes_ref (body);
  send->stats = stats;
  g_object_set_data_full (G_OBJECT (msg), "kith-send", send, (GDestroyNotify) kith_backend_server_send_free);
  soup_message_body_set_accumulate (soup_server_message_get_response_body (msg), FALSE);
  g_signal_connect (msg, "wrote-chunk", G_CALLBACK (kith_backend_server_send_wrote_chunk_cb), send);
  g_signal_connect (msg, "wrote-body-data", G_CALLBACK (kith_backend_server_send_wrote_body_data_cb), send);
  g_signal_connect (msg, "finished", G_CALLBACK (kith_backend_server_send_finished_cb), send);
  kith_backend_server_send_next (send);
}

/* The file behind URL @path, or NULL when @path names nothing we serve. */
static gchar *
kith_backend_server_resolve (KithBackendServer *self, const gchar *path, const gchar **content_type)
{
  if (g_str_equal (path, "/" KITH_BACKEND_CATALOG_FILE) || g_str_equal (path, "/" KITH_BACKEND_SIGNATURE_FILE)) {
    *content_type = "application/json";
    return kith_backend_store_public_path (self->dir, path + 1);
  }
  if (g_str_has_prefix (path, "/" KITH_BACKEND_FILES_DIR "/") &&
      kith_backend_store_is_safe_name (path + strlen ("/" KITH_BACKEND_FILES_DIR "/"))) {
    *content_type = "application/octet-stream";
    return kith_backend_store_public_path (self->dir, path + 1);
  }
  return NULL;
}

static KithPathStats *
kith_backend_server_path_stats (KithBackendServer *self, const gchar *path)
{
  KithPathStats *stats = g_hash_table_lookup (self->stats, path);
  if (stats == NULL) {
    stats = g_new0 (KithPathStats, 1);
    g_hash_table_insert (self->stats, g_strdup (path), stats);
  }
  return stats;
}

/* libsoup leaves a range starting past the end for us to refuse */
static gboolean
kith_backend_server_ranges_outside (const SoupRange *ranges, int n_ranges, gsize size)
{
  for (int i = 0; i < n_ranges; i++) {
    if (ranges[i].start < 0 || (guint64) ranges[i].start >= size || ranges[i].end < ranges[i].start ||
        (guint64) ranges[i].end >= size)
      return TRUE;
  }
  return FALSE;
}

static void
kith_backend_server_handle_file (KithBackendServer *self, SoupServerMessage *msg, const gchar *path)
{
  SoupMessageHeaders *request = soup_server_message_get_request_headers (msg);
  SoupMessageHeaders *response = soup_server_message_get_response_headers (msg);
  const gchar *content_type = NULL;
  g_autofree gchar *local = kith_backend_server_resolve (self, path, &content_type);
  g_autoptr (GMappedFile) mapped = NULL;
  g_autoptr (GBytes) whole = NULL;
  g_autoptr (GBytes) body = NULL;
  SoupRange *ranges = NULL;
  int n_ranges = 0;
  gsize size;
  KithPathStats *stats;

  if (local != NULL)
    mapped = g_mapped_file_new (local, FALSE, NULL);
  if (mapped == NULL) {
    kith_http_answer_line (msg, SOUP_STATUS_NOT_FOUND, "not found");
    return;
  }
  whole = g_mapped_file_get_bytes (mapped);
  size = g_bytes_get_size (whole);
  stats = kith_backend_server_path_stats (self, path);
  stats->requests++;
  soup_message_headers_replace (response, "Accept-Ranges", "bytes");
  if (g_str_equal (content_type, "application/json"))
    soup_message_headers_replace (response, "Cache-Control", "no-cache");
  if (soup_message_headers_get_one (request, "Range") != NULL &&
      (!soup_message_headers_get_ranges (request, size, &ranges, &n_ranges) ||
       kith_backend_server_ranges_outside (ranges, n_ranges, size))) {
    if (ranges != NULL)
      soup_message_headers_free_ranges (request, ranges);
    g_autofree gchar *cr = g_strdup_printf ("bytes */%" G_GSIZE_FORMAT, size);
    soup_message_headers_replace (response, "Content-Range", cr);
    kith_http_answer_line (msg, SOUP_STATUS_REQUESTED_RANGE_NOT_SATISFIABLE, "range not satisfiable");
    return;
  }
  /* several ranges would need multipart/byteranges; RFC 9110 lets us send the whole instead */
  if (n_ranges == 1) {
    body = g_bytes_new_from_bytes (whole, (gsize) ranges[0].start, (gsize) (ranges[0].end - ranges[0].start + 1));
    soup_message_headers_set_content_range (response, ranges[0].start, ranges[0].end, (goffset) size);
    soup_server_message_set_status (msg, SOUP_STATUS_PARTIAL_CONTENT, NULL);
  } else {
    body = g_bytes_ref (whole);
    soup_server_message_set_status (msg, SOUP_STATUS_OK, NULL);
  }
  if (ranges != NULL)
    soup_message_headers_free_ranges (request, ranges);
  soup_message_headers_set_content_type (response, content_type, NULL);
  soup_message_headers_set_content_length (response, (goffset) g_bytes_get_size (body));
  if (soup_server_message_get_method (msg) == SOUP_METHOD_HEAD || g_bytes_get_size (body) == 0)
    return;
  kith_backend_server_start_body (self, msg, body, stats);
}

static void
kith_backend_server_handler (SoupServer *server, SoupServerMessage *msg, const char *path, GHashTable *query,
                             gpointer user_data)
{
  KithBackendServer *self = user_data;
  const gchar *method = soup_server_message_get_method (msg);

  self->total_requests++;
  g_debug ("%s %s", method, path);
  /* Routes: the upload service's POST endpoints live in kith-backend-upload.c */
  if (method == SOUP_METHOD_POST && g_str_equal (path, "/enroll")) {
    kith_backend_uploads_handle_enroll (self->uploads, msg);
    return;
  }
  if (method == SOUP_METHOD_POST && g_str_equal (path, "/upload")) {
    kith_backend_uploads_handle_upload (self->uploads, msg);
    return;
  }
  if (method != SOUP_METHOD_GET && method != SOUP_METHOD_HEAD) {
    soup_message_headers_replace (soup_server_message_get_response_headers (msg), "Allow", "GET, HEAD");
    kith_http_answer_line (msg, SOUP_STATUS_METHOD_NOT_ALLOWED, "method not allowed");
    return;
  }
  if (g_str_equal (path, "/stats")) {
    g_autofree gchar *json = kith_backend_server_get_stats_json (self);
    kith_http_answer_text (msg, SOUP_STATUS_OK, "application/json", json);
    return;
  }
  kith_backend_server_handle_file (self, msg, path);
}

static void
kith_backend_server_early_handler (SoupServer *server, SoupServerMessage *msg, const char *path, GHashTable *query,
                                   gpointer user_data)
{
  KithBackendServer *self = user_data;

  if (soup_server_message_get_method (msg) == SOUP_METHOD_POST && g_str_equal (path, "/upload"))
    kith_backend_uploads_begin_upload (self->uploads, msg);
}

gchar *
kith_backend_server_get_stats_json (KithBackendServer *self)
{
  g_autoptr (JsonBuilder) builder = json_builder_new ();
  g_autoptr (GList) paths = g_list_sort (g_hash_table_get_keys (self->stats), (GCompareFunc) g_strcmp0);

  json_builder_begin_object (builder);
  json_builder_set_member_name (builder, "paths");
  json_builder_begin_object (builder);
  for (GList *l = paths; l != NULL; l = l->next) {
    KithPathStats *stats = g_hash_table_lookup (self->stats, l->data);
    json_builder_set_member_name (builder, l->data);
    json_builder_begin_object (builder);
    kith_json_add_int (builder, "requests", (gint64) stats->requests);
    kith_json_add_int (builder, "bytes", (gint64) stats->bytes);
    json_builder_end_object (builder);
  }
  json_builder_end_object (builder);
  kith_json_add_int (builder, "total_requests", (gint64) self->total_requests);
  kith_json_add_int (builder, "total_bytes", (gint64) self->total_bytes);
  kith_json_add_int (builder, "uploads", (gint64) kith_backend_uploads_get_count (self->uploads));
  kith_json_add_int (builder, "enrolled", (gint64) kith_backend_uploads_get_enrolled (self->uploads));
  kith_json_add_int (builder, "rate_limit", (gint64) self->rate_limit);
  json_builder_end_object (builder);
  return kith_json_builder_to_data (builder, FALSE, NULL);
}

gboolean
kith_backend_server_listen (KithBackendServer *self, const gchar *address, GError **error)
{
  g_autoptr (GSocketConnectable) parsed = NULL;
  g_autoptr (GInetAddress) inet = NULL;
  g_autoptr (GError) local = NULL;

  if (strrchr (address, ':') == NULL ||
      (parsed = g_network_address_parse (address, 0, &local)) == NULL ||
      (inet = g_inet_address_new_from_string (g_network_address_get_hostname (G_NETWORK_ADDRESS (parsed)))) == NULL) {
    g_set_error (error, KITH_BACKEND_ERROR, KITH_BACKEND_ERROR_INVALID_ARGS,
                 "--listen %s: expected an IP address and a port, e.g. 127.0.0.1:8080 or [::1]:0", address);
    return FALSE;
  }
  if (!kith_http_listen (self->http, address, &local)) {
    if (g_error_matches (local, G_IO_ERROR, G_IO_ERROR_ADDRESS_IN_USE))
      g_set_error (error, KITH_BACKEND_ERROR, KITH_BACKEND_ERROR_ADDRESS_IN_USE,
                   "cannot listen on %s: the address is already in use (another kith-backend?)", address);
    else
      g_set_error (error, KITH_BACKEND_ERROR, KITH_BACKEND_ERROR_FAILED, "%s", local->message);
    return FALSE;
  }
  return TRUE;
}

void
kith_backend_server_set_tls_certificate (KithBackendServer *self, GTlsCertificate *certificate)
{
  soup_server_set_tls_certificate (self->server, certificate); /* kith_http_listen then serves HTTPS */
}

gchar *
kith_backend_server_get_base_url (KithBackendServer *self)
{
  GSList *uris = soup_server_get_uris (self->server);
  gchar *url = NULL;

  if (uris != NULL) {
    g_autofree gchar *text = g_uri_to_string (uris->data);
    /* "http://127.0.0.1:40123/" → no trailing slash, so base + "/catalog.json" works */
    url = g_strndup (text, g_str_has_suffix (text, "/") ? strlen (text) - 1 : strlen (text));
  }
  g_slist_free_full (uris, (GDestroyNotify) g_uri_unref);
  return url;
}

void
kith_backend_server_stop (KithBackendServer *self)
{
  if (self->server != NULL)
    soup_server_disconnect (self->server);
}

static void
kith_backend_server_dispose (GObject *object)
{
  KithBackendServer *self = KITH_BACKEND_SERVER (object);

  kith_backend_server_stop (self);
  self->server = NULL;
  g_clear_object (&self->http);
  G_OBJECT_CLASS (kith_backend_server_parent_class)->dispose (object);
}

static void
kith_backend_server_finalize (GObject *object)
{
  KithBackendServer *self = KITH_BACKEND_SERVER (object);

  g_clear_pointer (&self->limiter, kith_rate_limiter_free);
  g_hash_table_unref (self->stats);
  kith_backend_uploads_free (self->uploads);
  g_free (self->dir);
  G_OBJECT_CLASS (kith_backend_server_parent_class)->finalize (object);
}

static void
kith_backend_server_class_init (KithBackendServerClass *klass)
{
  G_OBJECT_CLASS (klass)->dispose = kith_backend_server_dispose;
  G_OBJECT_CLASS (klass)->finalize = kith_backend_server_finalize;
}

static void
kith_backend_server_init (KithBackendServer *self)
{
  self->stats = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
}

KithBackendServer *
kith_backend_server_new (const gchar *dir, guint64 rate_limit)
{
  KithBackendServer *self = g_object_new (KITH_TYPE_BACKEND_SERVER, NULL);

  self->dir = g_strdup (dir);
  self->rate_limit = rate_limit;
  if (rate_limit > 0)
    self->limiter = kith_rate_limiter_new (rate_limit);
  self->uploads = kith_backend_uploads_new (dir, &(KithBackendUploadOptions){ 0 });
  self->http = kith_http_new ();
  self->server = kith_http_get_server (self->http);
  g_object_set (self->server, "server-header", "kith-backend ", NULL);
  soup_server_add_handler (self->server, NULL, kith_backend_server_handler, self, NULL);
  /* one libsoup handler for the path holds both callbacks: the early one alone would leave it unanswered */
  soup_server_add_handler (self->server, "/upload", kith_backend_server_handler, self, NULL);
  soup_server_add_early_handler (self->server, "/upload", kith_backend_server_early_handler, self, NULL);
  /* the only bodies the backend reads; any other is refused before it is read */
  kith_http_set_body_limit (self->http, "/enroll", KITH_BACKEND_ENROLL_MAX_SIZE);
  kith_http_set_body_limit (self->http, "/upload", KITH_BACKEND_UPLOAD_MAX_SIZE);
  return self;
}

void
kith_backend_server_set_upload_options (KithBackendServer *self, const KithBackendUploadOptions *options)
{
  kith_backend_uploads_free (self->uploads);
  self->uploads = kith_backend_uploads_new (self->dir, options);
}
