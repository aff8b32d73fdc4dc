/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* kith-http.c — the agent's embedded HTTP server
 *
 * Only what plugins register exists; every other path is 404, so the server
 * can never be used to browse the node.
 *
 * libsoup accepts the connections; this file counts each one from its first request
 * ("request-started", emitted at accept) to its close, and enforces the limits of
 * kith-http.h on it. libsoup 3.2 (Debian 12) never closes a kept-alive connection whose
 * client hangs up between two requests (fixed upstream in 3.3.0): every socket would
 * stay in CLOSE-WAIT. So no connection is kept alive here: each response says
 * "Connection: close", and libsoup closes the socket once it is written.
 */
#include "kith-http.h"

#include "kith-agent-error.h"

#include <string.h>
#ifdef G_OS_UNIX
#include <sys/resource.h>
#endif

/* how often deadlines are checked; a request head gets its timeout plus at most this */
#define KITH_HTTP_SWEEP_MS 250
/* a summary of what was refused is logged at most this often */
#define KITH_HTTP_LOG_INTERVAL_US (10 * G_USEC_PER_SEC)
/* of a refused body, at most this much is read (and dropped) so that the client sees the answer */
#define KITH_HTTP_BACKLOG 1024
#define KITH_HTTP_DRAIN_MAX (256 * 1024)

typedef struct _KithHttpConn KithHttpConn;

struct _KithHttp {
  GObject parent_instance;
  SoupServer *server;
  gchar *base_url;
  guint16 port;
  gboolean https;
  KithHttpLimits limits;
  KithHttpCounters counters;
  GHashTable *conns;       /* GSocket* (weak) → KithHttpConn*, owned */
  GHashTable *sources;     /* remote address text → open connections, as a pointer */
  GHashTable *body_limits; /* path prefix → guint64* */
  SoupServerCallback connect_handler;
  gpointer connect_data;
  gulong started_id;
  guint sweep_id;
  gint64 logged_us;
  guint64 logged_refused, logged_timeouts, logged_bodies;
};

/* One connection, from its accept to its close. */
struct _KithHttpConn {
  KithHttp *self;
  GSocket *socket;          /* weak: the key in self->conns */
  SoupServerMessage *msg;   /* weak: its (only) request, NULL once gone */
  gchar *source;
  gint64 header_deadline;   /* monotonic µs; 0 once the head is in */
  guint64 body_limit;
  guint64 body_read;
  guint64 refused_at;       /* body_read when the body was refused */
  gboolean refusing;
  gboolean cut;
};

G_DEFINE_TYPE (KithHttp, kith_http, G_TYPE_OBJECT)

static void kith_http_conn_msg_gone (gpointer data, GObject *where_the_object_was);
static void kith_http_conn_socket_gone (gpointer data, GObject *where_the_object_was);

/* Everything no handler took: 404, and CONNECT (it names no path) to the connect handler. */
static void
kith_http_not_found (SoupServer *server, SoupServerMessage *msg, const char *path,
                     GHashTable *query, gpointer user_data)
{
  KithHttp *self = user_data;

  if (soup_server_message_get_method (msg) == SOUP_METHOD_CONNECT) {
    if (self->connect_handler != NULL)
      self->connect_handler (server, msg, path, query, self->connect_data);
    else
      soup_server_message_set_status (msg, SOUP_STATUS_METHOD_NOT_ALLOWED, NULL);
    return;
  }
  soup_server_message_set_status (msg, SOUP_STATUS_NOT_FOUND, NULL);
}

static guint
kith_http_default_max_connections (void)
{
  guint64 soft = 0;
#ifdef G_OS_UNIX
  struct rlimit limit;
  if (getrlimit (RLIMIT_NOFILE, &limit) == 0 && limit.rlim_cur != RLIM_INFINITY)
    soft = limit.rlim_cur;
#endif
  /* half the descriptors stay for files, plugins and D-Bus */
  if (soft == 0)
    return KITH_HTTP_MAX_CONNECTIONS;
  return (guint) MAX (1, MIN (KITH_HTTP_MAX_CONNECTIONS, soft / 2));
}

guint64
kith_http_raise_fd_limit (void)
{
#ifdef G_OS_UNIX
  struct rlimit limit;
  if (getrlimit (RLIMIT_NOFILE, &limit) != 0)
    return 0;
  if (limit.rlim_cur < limit.rlim_max) {
    rlim_t old = limit.rlim_cur;
    limit.rlim_cur = limit.rlim_max;
    if (setrlimit (RLIMIT_NOFILE, &limit) != 0)
      limit.rlim_cur = old;
  }
  return limit.rlim_cur == RLIM_INFINITY ? G_MAXUINT64 : (guint64) limit.rlim_cur;
#else
  return 0;
#endif
}

/* Forgets @conn: its source's count goes down, its weak references go. */
static void
kith_http_conn_free (KithHttpConn *conn)
{
  KithHttp *self = conn->self;
  guint count = GPOINTER_TO_UINT (g_hash_table_lookup (self->sources, conn->source));

  if (count <= 1)
    g_hash_table_remove (self->sources, conn->source);
  else
    g_hash_table_insert (self->sources, g_strdup (conn->source), GUINT_TO_POINTER (count - 1));
  if (conn->msg != NULL) {
    g_signal_handlers_disconnect_by_data (conn->msg, conn);
    g_object_weak_unref (G_OBJECT (conn->msg), kith_http_conn_msg_gone, conn);
  }
  if (conn->socket != NULL)
    g_object_weak_unref (G_OBJECT (conn->socket), kith_http_conn_socket_gone, conn);
  g_free (conn->source);
  g_free (conn);
}

static void
kith_http_conn_release (KithHttpConn *conn)
{
  /* the table's key is the socket pointer, valid as a key even once it is gone */
  g_hash_table_remove (conn->self->conns, conn->socket);
}

static void
kith_http_conn_socket_gone (gpointer data, GObject *where_the_object_was)
{
  KithHttpConn *conn = data;
  KithHttp *self = conn->self;

  conn->socket = NULL;
  g_hash_table_remove (self->conns, where_the_object_was);
}

/* The request is gone: so is the connection, unless a handler took it over (stole it). */
static void
kith_http_conn_msg_gone (gpointer data, GObject *where_the_object_was)
{
  KithHttpConn *conn = data;

  conn->msg = NULL;
  if (conn->socket == NULL || g_socket_is_closed (conn->socket))
    kith_http_conn_release (conn);
}

/* libsoup closes the connection right after its (only) request finished. */
static void
kith_http_conn_finished_cb (SoupServerMessage *msg, gpointer user_data)
{
  kith_http_conn_release (user_data);
}

/* Closes the connection now: libsoup reads the end of the stream and cleans up. */
static void
kith_http_conn_shutdown (KithHttpConn *conn)
{
  if (conn->socket != NULL && !g_socket_is_closed (conn->socket))
    g_socket_shutdown (conn->socket, TRUE, TRUE, NULL);
}

/* Answers @status on the wire now and closes, without reading what the client still sends. */
static void
kith_http_conn_cut (KithHttp *self, KithHttpConn *conn, SoupServerMessage *msg, guint status)
{
  GSocket *socket = soup_server_message_get_socket (msg);

  if (conn != NULL) {
    if (conn->cut)
      return;
    conn->cut = TRUE;
  }
  if (socket == NULL || g_socket_is_closed (socket))
    return;
  if (!self->https) {
    /* a head this small always fits the socket's send buffer */
    g_autofree gchar *head = g_strdup_printf ("HTTP/1.1 %u %s\r\nConnection: close\r\n"
                                              "Content-Length: 0\r\n\r\n",
                                              status, soup_status_get_phrase (status));
    g_socket_send (socket, head, strlen (head), NULL, NULL);
  }
  g_socket_shutdown (socket, TRUE, TRUE, NULL);
}

void
kith_http_refuse_body (KithHttp *self, SoupServerMessage *msg, guint status)
{
  GSocket *socket = soup_server_message_get_socket (msg);
  KithHttpConn *conn = socket != NULL ? g_hash_table_lookup (self->conns, socket) : NULL;
  SoupMessageHeaders *headers = soup_server_message_get_request_headers (msg);
  goffset length = soup_message_headers_get_encoding (headers) == SOUP_ENCODING_CONTENT_LENGTH
                       ? soup_message_headers_get_content_length (headers)
                       : -1;

  g_return_if_fail (KITH_IS_HTTP (self));
  soup_server_message_set_status (msg, status, NULL);
  soup_message_body_set_accumulate (soup_server_message_get_request_body (msg), FALSE);
  if (conn == NULL || conn->refusing)
    return;
  self->counters.bodies_refused++;
  conn->refusing = TRUE;
  conn->refused_at = conn->body_read;
  /* a small rest is read and dropped, so that the client sees the answer (closing on unread
   * bytes resets the connection); a large one is not worth reading */
  if (length < 0 || (guint64) length - MIN ((guint64) length, conn->body_read) > KITH_HTTP_DRAIN_MAX)
    kith_http_conn_cut (self, conn, msg, status);
}

static void
kith_http_conn_got_chunk_cb (SoupServerMessage *msg, GBytes *chunk, gpointer user_data)
{
  KithHttpConn *conn = user_data;

  conn->body_read += g_bytes_get_size (chunk);
  if (conn->refusing) {
    if (conn->body_read - conn->refused_at > KITH_HTTP_DRAIN_MAX)
      kith_http_conn_cut (conn->self, conn, msg, soup_server_message_get_status (msg));
    return;
  }
  if (conn->body_read > conn->body_limit) {
    g_debug ("refused a request body from %s: more than %" G_GUINT64_FORMAT " bytes", conn->source,
             conn->body_limit);
    kith_http_refuse_body (conn->self, msg, SOUP_STATUS_REQUEST_ENTITY_TOO_LARGE);
  }
}

/* The largest body a request for @path may carry: its longest registered prefix's. */
static guint64
kith_http_body_limit (KithHttp *self, const gchar *path)
{
  GHashTableIter iter;
  gpointer key, value;
  gsize best = 0;
  guint64 limit = 0;

  g_hash_table_iter_init (&iter, self->body_limits);
  while (g_hash_table_iter_next (&iter, &key, &value)) {
    gsize len = strlen (key);
    if (len > best && g_str_has_prefix (path, key)) {
      best = len;
      limit = *(guint64 *) value;
    }
  }
  return limit;
}

/* The head is in: a body is refused here, before libsoup reads it, unless its path takes one. */
static void
kith_http_conn_got_headers_cb (SoupServerMessage *msg, gpointer user_data)
{
  KithHttpConn *conn = user_data;
  SoupMessageHeaders *headers = soup_server_message_get_request_headers (msg);
  SoupEncoding encoding = soup_message_headers_get_encoding (headers);
  goffset length = encoding == SOUP_ENCODING_CONTENT_LENGTH ? soup_message_headers_get_content_length (headers) : -1;

  conn->header_deadline = 0;
  if (encoding == SOUP_ENCODING_NONE || (encoding == SOUP_ENCODING_CONTENT_LENGTH && length == 0))
    return;
  g_signal_connect (msg, "got-chunk", G_CALLBACK (kith_http_conn_got_chunk_cb), conn);
  if (soup_server_message_get_status (msg) != 0) {
    /* an early handler answered already: whatever the body is, it is not wanted */
    kith_http_refuse_body (conn->self, msg, soup_server_message_get_status (msg));
    return;
  }
  conn->body_limit = kith_http_body_limit (conn->self, g_uri_get_path (soup_server_message_get_uri (msg)));
  if (conn->body_limit == 0 || (length > 0 && (guint64) length > conn->body_limit)) {
    g_debug ("refused a request body from %s to %s: %s", conn->source,
             g_uri_get_path (soup_server_message_get_uri (msg)),
             conn->body_limit == 0 ? "this path takes none" : "Content-Length over the limit");
    kith_http_refuse_body (conn->self, msg, SOUP_STATUS_REQUEST_ENTITY_TOO_LARGE);
  }
}

static gchar *
kith_http_source_text (GSocketAddress *address)
{
  if (address != NULL && G_IS_INET_SOCKET_ADDRESS (address))
    return g_inet_address_to_string (g_inet_socket_address_get_address (G_INET_SOCKET_ADDRESS (address)));
  return g_strdup ("?");
}

/* Emitted for a connection's first request as libsoup accepts it, before it reads a byte. */
static void
kith_http_request_started_cb (SoupServer *server, SoupServerMessage *msg, gpointer user_data)
{
  KithHttp *self = user_data;
  GSocket *socket = soup_server_message_get_socket (msg);
  g_autofree gchar *source = NULL;
  KithHttpConn *conn;
  guint count;

  soup_message_headers_replace (soup_server_message_get_response_headers (msg), "Connection", "close");
  if (socket == NULL)
    return;
  conn = g_hash_table_lookup (self->conns, socket);
  if (conn != NULL) {
    /* a second request on one connection: only if a handler dropped "Connection: close" */
    return;
  }
  source = kith_http_source_text (soup_server_message_get_remote_address (msg));
  count = GPOINTER_TO_UINT (g_hash_table_lookup (self->sources, source));
  if (g_hash_table_size (self->conns) >= self->limits.max_connections || count >= self->limits.max_per_source) {
    self->counters.refused++;
    g_debug ("refused a connection from %s: %u open from there, %u in all", source, count,
             g_hash_table_size (self->conns));
    g_socket_shutdown (socket, TRUE, TRUE, NULL);
    return;
  }
  self->counters.accepted++;
  conn = g_new0 (KithHttpConn, 1);
  conn->self = self;
  conn->socket = socket;
  conn->msg = msg;
  conn->source = g_steal_pointer (&source);
  conn->header_deadline = g_get_monotonic_time () + (gint64) self->limits.header_timeout_ms * 1000;
  g_hash_table_insert (self->sources, g_strdup (conn->source), GUINT_TO_POINTER (count + 1));
  g_hash_table_insert (self->conns, socket, conn);
  g_object_weak_ref (G_OBJECT (socket), kith_http_conn_socket_gone, conn);
  g_object_weak_ref (G_OBJECT (msg), kith_http_conn_msg_gone, conn);
  g_signal_connect (msg, "got-headers", G_CALLBACK (kith_http_conn_got_headers_cb), conn);
  g_signal_connect (msg, "finished", G_CALLBACK (kith_http_conn_finished_cb), conn);
  /* every read and write libsoup waits for gives up after this much silence */
  g_socket_set_timeout (socket, (guint) MAX (1, (self->limits.idle_timeout_ms + 999) / 1000));
}

static void
kith_http_log_refusals (KithHttp *self, gint64 now)
{
  if (now - self->logged_us < KITH_HTTP_LOG_INTERVAL_US)
    return;
  if (self->counters.refused != self->logged_refused || self->counters.header_timeouts != self->logged_timeouts ||
      self->counters.bodies_refused != self->logged_bodies)
    g_message ("HTTP: closed %" G_GUINT64_FORMAT " connections over the caps (%u per source, %u in all), "
               "%" G_GUINT64_FORMAT " slow request heads, refused %" G_GUINT64_FORMAT " bodies",
               self->counters.refused - self->logged_refused, self->limits.max_per_source,
               self->limits.max_connections, self->counters.header_timeouts - self->logged_timeouts,
               self->counters.bodies_refused - self->logged_bodies);
  self->logged_us = now;
  self->logged_refused = self->counters.refused;
  self->logged_timeouts = self->counters.header_timeouts;
  self->logged_bodies = self->counters.bodies_refused;
}

static gboolean
kith_http_sweep_cb (gpointer user_data)
{
  KithHttp *self = user_data;
  gint64 now = g_get_monotonic_time ();
  GHashTableIter iter;
  gpointer value;
  GPtrArray *closed = NULL;

  g_hash_table_iter_init (&iter, self->conns);
  while (g_hash_table_iter_next (&iter, NULL, &value)) {
    KithHttpConn *conn = value;
    if (conn->socket == NULL || (conn->msg == NULL && g_socket_is_closed (conn->socket))) {
      if (closed == NULL)
        closed = g_ptr_array_new ();
      g_ptr_array_add (closed, conn);
    } else if (conn->header_deadline != 0 && now >= conn->header_deadline) {
      conn->header_deadline = 0;
      self->counters.header_timeouts++;
      g_debug ("closing a connection from %s: no request head within %" G_GUINT64_FORMAT " ms", conn->source,
               self->limits.header_timeout_ms);
      kith_http_conn_shutdown (conn);
    }
  }
  for (guint i = 0; closed != NULL && i < closed->len; i++)
    kith_http_conn_release (g_ptr_array_index (closed, i));
  g_clear_pointer (&closed, g_ptr_array_unref);
  kith_http_log_refusals (self, now);
  return G_SOURCE_CONTINUE;
}

static void
kith_http_dispose (GObject *object)
{
  KithHttp *self = KITH_HTTP (object);

  g_clear_handle_id (&self->sweep_id, g_source_remove);
  if (self->server != NULL) {
    g_clear_signal_handler (&self->started_id, self->server);
    soup_server_disconnect (self->server);
  }
  g_clear_object (&self->server);
  if (self->conns != NULL)
    g_hash_table_remove_all (self->conns);
  G_OBJECT_CLASS (kith_http_parent_class)->dispose (object);
}

static void
kith_http_finalize (GObject *object)
{
  KithHttp *self = KITH_HTTP (object);

  g_hash_table_unref (self->conns);
  g_hash_table_unref (self->sources);
  g_hash_table_unref (self->body_limits);
  g_free (self->base_url);
  G_OBJECT_CLASS (kith_http_parent_class)->finalize (object);
}

static void
kith_http_class_init (KithHttpClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  object_class->dispose = kith_http_dispose;
  object_class->finalize = kith_http_finalize;
}

static void
kith_http_init (KithHttp *self)
{
  self->conns = g_hash_table_new_full (g_direct_hash, g_direct_equal, NULL, (GDestroyNotify) kith_http_conn_free);
  self->sources = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  self->body_limits = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
  kith_http_set_limits (self, &(KithHttpLimits){ 0 });
  self->server = soup_server_new ("server-header", "kith ", NULL);
  self->started_id = g_signal_connect (self->server, "request-started", G_CALLBACK (kith_http_request_started_cb), self);
  soup_server_add_handler (self->server, NULL, kith_http_not_found, self, NULL);
}

KithHttp *
kith_http_new (void)
{
  return g_object_new (KITH_TYPE_HTTP, NULL);
}

void
kith_http_set_limits (KithHttp *self, const KithHttpLimits *limits)
{
  g_return_if_fail (KITH_IS_HTTP (self));
  self->limits = *limits;
  if (self->limits.header_timeout_ms == 0)
    self->limits.header_timeout_ms = KITH_HTTP_HEADER_TIMEOUT_MS;
  if (self->limits.idle_timeout_ms == 0)
    self->limits.idle_timeout_ms = KITH_HTTP_IDLE_TIMEOUT_MS;
  if (self->limits.max_connections == 0)
    self->limits.max_connections = kith_http_default_max_connections ();
  if (self->limits.max_per_source == 0)
    self->limits.max_per_source = KITH_HTTP_MAX_PER_SOURCE;
  self->limits.max_per_source = MIN (self->limits.max_per_source, self->limits.max_connections);
}

void
kith_http_get_limits (KithHttp *self, KithHttpLimits *limits)
{
  *limits = self->limits;
}

void
kith_http_get_counters (KithHttp *self, KithHttpCounters *counters)
{
  *counters = self->counters;
  counters->open = g_hash_table_size (self->conns);
}

/* "ADDR:PORT" or "[ADDR6]:PORT" → socket address. */
static GSocketAddress *
kith_http_parse_listen (const gchar *listen, GError **error)
{
  g_autofree gchar *host = NULL;
  const gchar *colon = strrchr (listen, ':');
  guint64 port = 0;
  g_autoptr (GInetAddress) address = NULL;

  if (colon == NULL || !g_ascii_string_to_unsigned (colon + 1, 10, 0, G_MAXUINT16, &port, NULL)) {
    g_set_error (error, KITH_AGENT_ERROR, KITH_AGENT_ERROR_CONFIG,
                 "'%s' is not ADDRESS:PORT (for example 127.0.0.1:6515 or [::1]:6515)", listen);
    return NULL;
  }
  if (listen[0] == '[' && colon > listen && colon[-1] == ']')
    host = g_strndup (listen + 1, colon - listen - 2);
  else
    host = g_strndup (listen, colon - listen);
  address = g_inet_address_new_from_string (host);
  if (address == NULL) {
    g_set_error (error, KITH_AGENT_ERROR, KITH_AGENT_ERROR_CONFIG,
                 "'%s' is not a numeric IP address", host);
    return NULL;
  }
  return g_inet_socket_address_new (address, (guint16) port);
}

gboolean
kith_http_listen (KithHttp *self, const gchar *listen, GError **error)
{
  g_autoptr (GSocketAddress) address = kith_http_parse_listen (listen, error);
  g_autoptr (GError) error_local = NULL;
  g_autoptr (GSocket) socket = NULL;
  GSList *uris;

  if (address == NULL)
    return FALSE;
  self->https = soup_server_get_tls_certificate (self->server) != NULL;
  /* our own socket, for its backlog: a burst of connections must not drop the next SYNs */
  socket = g_socket_new (g_socket_address_get_family (address), G_SOCKET_TYPE_STREAM, G_SOCKET_PROTOCOL_TCP,
                         &error_local);
  if (socket != NULL) {
    g_socket_set_listen_backlog (socket, KITH_HTTP_BACKLOG);
    if (g_socket_bind (socket, address, TRUE, &error_local) && g_socket_listen (socket, &error_local))
      soup_server_listen_socket (self->server, socket, self->https ? SOUP_SERVER_LISTEN_HTTPS : 0, &error_local);
  }
  if (error_local != NULL) {
    g_propagate_prefixed_error (error, g_steal_pointer (&error_local), "cannot listen for HTTP on %s: ", listen);
    return FALSE;
  }
  uris = soup_server_get_uris (self->server);
  if (uris != NULL && self->base_url == NULL) {
    GUri *uri = uris->data;
    self->port = (guint16) g_uri_get_port (uri);
    self->base_url = g_strdup_printf ("%s://%s%s%s:%u", self->https ? "https" : "http",
                                      strchr (g_uri_get_host (uri), ':') ? "[" : "",
                                      g_uri_get_host (uri),
                                      strchr (g_uri_get_host (uri), ':') ? "]" : "",
                                      self->port);
  }
  g_slist_free_full (uris, (GDestroyNotify) g_uri_unref);
  if (self->sweep_id == 0)
    self->sweep_id = g_timeout_add (KITH_HTTP_SWEEP_MS, kith_http_sweep_cb, self);
  return TRUE;
}

void
kith_http_add_handler (KithHttp *self, const gchar *path, SoupServerCallback callback,
                       gpointer user_data, GDestroyNotify destroy)
{
  g_return_if_fail (KITH_IS_HTTP (self));
  g_return_if_fail (path != NULL && path[0] == '/');
  soup_server_add_handler (self->server, path, callback, user_data, destroy);
}

void
kith_http_remove_handler (KithHttp *self, const gchar *path)
{
  g_return_if_fail (KITH_IS_HTTP (self));
  soup_server_remove_handler (self->server, path);
  g_hash_table_remove (self->body_limits, path);
}

void
kith_http_set_connect_handler (KithHttp *self, SoupServerCallback callback, gpointer user_data)
{
  g_return_if_fail (KITH_IS_HTTP (self));
  self->connect_handler = callback;
  self->connect_data = user_data;
}

void
kith_http_set_body_limit (KithHttp *self, const gchar *path, guint64 max_size)
{
  g_return_if_fail (KITH_IS_HTTP (self));
  g_return_if_fail (path != NULL && path[0] == '/');
  g_hash_table_insert (self->body_limits, g_strdup (path), g_memdup2 (&max_size, sizeof max_size));
}

gboolean
kith_http_is_lan (GSocketAddress *address)
{
  GInetAddress *inet;

  if (address == NULL || !G_IS_INET_SOCKET_ADDRESS (address))
    return FALSE;
  inet = g_inet_socket_address_get_address (G_INET_SOCKET_ADDRESS (address));
  return g_inet_address_get_is_loopback (inet) || g_inet_address_get_is_site_local (inet) ||
         g_inet_address_get_is_link_local (inet);
}

guint16
kith_http_get_port (KithHttp *self)
{
  return self->port;
}

const gchar *
kith_http_get_base_url (KithHttp *self)
{
  return self->base_url;
}

SoupServer *
kith_http_get_server (KithHttp *self)
{
  return self->server;
}
