/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* kith-partial-handler.c — a growing copy to its readers, a bounded buffer at a time
 *
 * Each reader queues at most KITH_PARTIAL_HANDLER_BUFFER bytes on its libsoup message
 * (chunks of KITH_PARTIAL_HANDLER_CHUNK read from the file); libsoup pauses the message
 * when the queue runs dry, and the copy's "changed" or libsoup's "wrote-body-data" queue
 * more and unpause it. Nothing is held in memory beyond the queue.
 *
 * A range of verified pieces is in the file whole when it is asked for: that goes out with
 * sendfile(2) instead (kith-sendfile.h), from the page cache, without the copy through our
 * memory and libsoup's wakeup per chunk; most of what joiners trade is such ranges.
 */
#include "kith-partial-handler.h"

#include <errno.h>
#include <string.h>
#include <sys/socket.h>

#include "kith-hex.h"
#include "kith-http-answer.h"
#include "kith-http-range.h"
#include "kith-piece-map.h"
#include "kith-sendfile.h"

#define KITH_PARTIAL_HANDLER_CHUNK (64 * 1024)

struct _KithPartialHandler {
  GObject parent_instance;
  KithPartialTable *table; /* borrowed */
  guint stall_ms;
  guint max_readers;
  guint64 bytes_served;
  GList *readers; /* KithPartialReader, borrowed: each removes itself as it stops */
};

enum {
  KITH_PARTIAL_HANDLER_SIGNAL_SERVED,
  KITH_PARTIAL_HANDLER_SIGNAL_REFUSED,
  KITH_PARTIAL_HANDLER_N_SIGNALS
};
static guint kith_partial_handler_signals[KITH_PARTIAL_HANDLER_N_SIGNALS];

G_DEFINE_TYPE (KithPartialHandler, kith_partial_handler, G_TYPE_OBJECT)

/* One reader: a GET answered from a copy that may still grow. */
typedef struct {
  KithPartialHandler *handler; /* ref */
  KithPartialCopy *copy;       /* ref */
  SoupServerMessage *msg;      /* ref until the reader stops */
  guint64 next;    /* the next byte of the file to queue */
  guint64 end;     /* one past the answer's last byte; 0: the copy's end, size unknown yet */
  guint64 queued;  /* queued on the message, not yet written */
  guint64 written;
  gint64 waiting_since_us; /* since when the reader has been waiting for bytes, 0: not */
  gulong changed_id;
  guint stall_id;
  guint cut_id;        /* the cut, scheduled */
  const gchar *cut_reason;
  gboolean completed; /* the whole answer is queued */
  gboolean pieces;    /* the answer is of verified pieces: all there now */
  GList *link;        /* in the handler's readers */
} KithPartialReader;

static void kith_partial_handler_pump (KithPartialReader *reader);

/* The reader's answer ended, was cut or its client left: everything is let go, and the
 * reader is freed. */
static void
kith_partial_handler_reader_stop (KithPartialReader *reader)
{
  KithPartialHandler *self = reader->handler;

  g_clear_signal_handler (&reader->changed_id, reader->copy);
  g_clear_handle_id (&reader->stall_id, g_source_remove);
  g_clear_handle_id (&reader->cut_id, g_source_remove);
  g_signal_handlers_disconnect_by_data (reader->msg, reader);
  kith_partial_copy_remove_reader (reader->copy);
  self->readers = g_list_delete_link (self->readers, reader->link);
  g_signal_emit (self, kith_partial_handler_signals[KITH_PARTIAL_HANDLER_SIGNAL_SERVED], 0,
                 reader->written, reader->completed && reader->queued == 0);
  g_object_unref (reader->msg);
  g_object_unref (reader->copy);
  g_object_unref (reader->handler);
  g_free (reader);
}

static gboolean
kith_partial_handler_cut_now (gpointer user_data)
{
  KithPartialReader *reader = user_data;
  g_autoptr (GIOStream) stream = NULL;
  SoupServerMessage *msg = g_object_ref (reader->msg);
  GSocket *socket = soup_server_message_get_socket (msg);
  SoupEncoding encoding = soup_message_headers_get_encoding (soup_server_message_get_response_headers (msg));

  reader->cut_id = 0;
  /* A chunked body (size unknown) has no length to fall short of: libsoup would end it with
   * the zero-length chunk as it lets the answer go, and even without that chunk libsoup's
   * client reads a close at a chunk's end as the body's end. The connection is reset
   * instead, before libsoup writes again: every HTTP client reports that as an error. */
  if (encoding == SOUP_ENCODING_CHUNKED && socket != NULL && !g_socket_is_closed (socket)) {
    struct linger reset = { .l_onoff = 1, .l_linger = 0 };

    if (setsockopt (g_socket_get_fd (socket), SOL_SOCKET, SO_LINGER, &reset, sizeof reset) != 0)
      g_warning ("cannot reset a reader's connection: %s", g_strerror (errno));
    /* libsoup asks for these as it lets the connection go: read while there is a socket */
    (void) soup_server_message_get_local_address (msg);
    (void) soup_server_message_get_remote_address (msg);
    g_socket_close (socket, NULL);
  }
  g_debug ("cutting a reader of %s after %" G_GUINT64_FORMAT " bytes: %s",
           kith_partial_copy_get_href (reader->copy), reader->written, reader->cut_reason);
  g_signal_emit (reader->handler, kith_partial_handler_signals[KITH_PARTIAL_HANDLER_SIGNAL_REFUSED], 0,
                 reader->cut_reason);
  kith_partial_handler_reader_stop (reader); /* frees @reader */
  stream = soup_server_message_steal_connection (msg);
  if (stream != NULL)
    g_io_stream_close (stream, NULL, NULL);
  g_object_unref (msg);
  return G_SOURCE_REMOVE;
}

/* Ends the answer mid-body: the reader sees a broken connection, never a short file. From
 * an idle, never inside libsoup's own signals (the connection goes with it). */
static void
kith_partial_handler_cut (KithPartialReader *reader, const gchar *reason)
{
  if (reader->cut_id != 0)
    return;
  reader->cut_reason = reason;
  reader->cut_id = g_idle_add (kith_partial_handler_cut_now, reader);
}

/* How far the answer may go now: what the copy can give (while it grows, never the file's
 * last byte), within the answer. */
static guint64
kith_partial_handler_limit (KithPartialReader *reader)
{
  KithPartialCopy *copy = reader->copy;
  guint64 limit = kith_partial_copy_get_readable (copy);

  if (reader->pieces)
    return reader->end;
  if (reader->end == 0 && kith_partial_copy_get_state (copy) == KITH_PARTIAL_COPY_COMPLETE)
    reader->end = kith_partial_copy_get_total (copy);
  return reader->end > 0 ? MIN (limit, reader->end) : limit;
}

/* Queues what the copy has, within the reader's buffer; completes or cuts the answer. */
static void
kith_partial_handler_pump (KithPartialReader *reader)
{
  SoupMessageBody *body = soup_server_message_get_response_body (reader->msg);
  KithPartialCopyState state = kith_partial_copy_get_state (reader->copy);
  guint64 limit;
  gboolean more = FALSE;

  if (reader->completed || reader->cut_id != 0)
    return;
  if (state == KITH_PARTIAL_COPY_FAILED) {
    kith_partial_handler_cut (reader, "failed");
    return;
  }
  limit = kith_partial_handler_limit (reader);
  while (reader->next < limit && reader->queued < KITH_PARTIAL_HANDLER_BUFFER) {
    g_autoptr (GError) error = NULL;
    gsize n = (gsize) MIN (MIN ((guint64) KITH_PARTIAL_HANDLER_CHUNK, limit - reader->next),
                           KITH_PARTIAL_HANDLER_BUFFER - reader->queued);
    g_autoptr (GBytes) bytes = kith_partial_copy_read (reader->copy, reader->next, n, &error);
    if (bytes == NULL) {
      g_warning ("cannot read the partial copy of %s: %s", kith_partial_copy_get_href (reader->copy),
                 error->message);
      kith_partial_handler_cut (reader, "failed");
      return;
    }
    soup_message_body_append_bytes (body, bytes);
    reader->next += n;
    reader->queued += n;
    more = TRUE;
  }
  /* the limit kept the file's last byte back while the copy grows: an answer that
   * reached its end may end */
  if (reader->end > 0 && reader->next == reader->end) {
    soup_message_body_complete (body);
    reader->completed = TRUE;
    more = TRUE;
  }
  /* waiting for the copy, not for the reader's socket: the stall clock runs */
  if (reader->next >= limit && !reader->completed) {
    if (reader->waiting_since_us == 0)
      reader->waiting_since_us = g_get_monotonic_time ();
  } else {
    reader->waiting_since_us = 0;
  }
  if (more)
    soup_server_message_unpause (reader->msg);
}

static void
kith_partial_handler_copy_changed (KithPartialCopy *copy, KithPartialReader *reader)
{
  reader->waiting_since_us = 0;
  kith_partial_handler_pump (reader);
}

static void
kith_partial_handler_wrote (SoupServerMessage *msg, guint chunk_size, KithPartialReader *reader)
{
  reader->written += chunk_size;
  reader->handler->bytes_served += chunk_size;
  reader->queued -= MIN (reader->queued, (guint64) chunk_size);
  kith_partial_handler_pump (reader);
}

static void
kith_partial_handler_finished (SoupServerMessage *msg, KithPartialReader *reader)
{
  kith_partial_handler_reader_stop (reader);
}

static gboolean
kith_partial_handler_stall_check (gpointer user_data)
{
  KithPartialReader *reader = user_data;
  gint64 now = g_get_monotonic_time ();

  if (reader->waiting_since_us != 0 && reader->handler->stall_ms > 0 &&
      now - reader->waiting_since_us >= (gint64) reader->handler->stall_ms * 1000) {
    kith_partial_handler_cut (reader, "stall");
    return G_SOURCE_CONTINUE; /* removed when the reader stops */
  }
  return G_SOURCE_CONTINUE;
}

/* A copy fetched in pieces says which it has verified (all, once complete). */
static void
kith_partial_handler_add_piece_map (SoupMessageHeaders *hdrs, KithPartialCopy *copy)
{
  g_autofree gchar *map = kith_partial_copy_get_piece_map (copy);

  if (map != NULL)
    soup_message_headers_replace (hdrs, KITH_PIECE_MAP_HEADER, map);
}

/* Whether @msg asks for one range of verified pieces of a copy fetched in pieces: served
 * from the file at once, to up to KITH_PARTIAL_HANDLER_MAX_READERS readers. */
static gboolean
kith_partial_handler_is_piece_read (SoupServerMessage *msg, KithPartialCopy *copy)
{
  const gchar *range = soup_message_headers_get_one (soup_server_message_get_request_headers (msg), "Range");
  guint64 total = kith_partial_copy_get_total (copy), first = 0, last = 0;

  return kith_partial_copy_has_pieces (copy) && total > 0 &&
         kith_http_range_parse (range, total, &first, &last) == KITH_HTTP_RANGE_OK &&
         kith_partial_copy_has_range (copy, first, last + 1);
}

/* Whether @msg asks a copy fetched in pieces for a range it cannot serve now: answered 416
 * at once with its piece map, which takes no reader — so a requester guessing what a copy
 * has learns it even while the copy's readers are all taken (a 503 would keep it away). */
static gboolean
kith_partial_handler_is_refused_range (SoupServerMessage *msg, KithPartialCopy *copy)
{
  const gchar *range = soup_message_headers_get_one (soup_server_message_get_request_headers (msg), "Range");
  guint64 total = kith_partial_copy_get_total (copy), first = 0, last = 0;

  if (!kith_partial_copy_has_pieces (copy) || total == 0)
    return FALSE;
  switch (kith_http_range_parse (range, total, &first, &last)) {
  case KITH_HTTP_RANGE_OK:
    return !kith_partial_copy_has_range (copy, first, last + 1);
  case KITH_HTTP_RANGE_UNSATISFIABLE:
    return TRUE;
  default:
    return FALSE;
  }
}

/* The answer's headers: a range of a copy whose size is known (206), else all of it, with
 * its length when known, chunked otherwise. FALSE when answered already (416). */
static gboolean
kith_partial_handler_headers (SoupServerMessage *msg, KithPartialCopy *copy, guint64 *start,
                              guint64 *end)
{
  SoupMessageHeaders *hdrs = soup_server_message_get_response_headers (msg);
  const gchar *range = soup_message_headers_get_one (soup_server_message_get_request_headers (msg), "Range");
  guint64 total = kith_partial_copy_get_total (copy), first = 0, last = 0;

  soup_message_headers_replace (hdrs, "Accept-Ranges", "bytes");
  soup_message_headers_set_content_type (hdrs, "application/octet-stream", NULL);
  /* the bytes behind a token are those of one download; not worth caching elsewhere */
  soup_message_headers_replace (hdrs, "Cache-Control", "no-store");
  *start = 0;
  *end = total;
  kith_partial_handler_add_piece_map (hdrs, copy);
  if (total == 0) {
    soup_message_headers_set_encoding (hdrs, SOUP_ENCODING_CHUNKED);
    soup_server_message_set_status (msg, SOUP_STATUS_OK, NULL);
    return TRUE;
  }
  switch (kith_http_range_parse (range, total, &first, &last)) {
  case KITH_HTTP_RANGE_OK:
    /* a copy fetched in pieces serves the pieces it has verified, and refuses at once a
     * range of any other (its piece map, above, says which it has) */
    if (!kith_partial_copy_has_pieces (copy) || kith_partial_copy_has_range (copy, first, last + 1)) {
      *start = first;
      *end = last + 1;
      soup_message_headers_set_content_range (hdrs, (goffset) first, (goffset) last, (goffset) total);
      soup_server_message_set_status (msg, SOUP_STATUS_PARTIAL_CONTENT, NULL);
      break;
    }
    G_GNUC_FALLTHROUGH;
  case KITH_HTTP_RANGE_UNSATISFIABLE: {
    g_autofree gchar *cr = g_strdup_printf ("bytes */%" G_GUINT64_FORMAT, total);
    soup_message_headers_replace (hdrs, "Content-Range", cr);
    soup_server_message_set_status (msg, SOUP_STATUS_REQUESTED_RANGE_NOT_SATISFIABLE, NULL);
    soup_message_body_complete (soup_server_message_get_response_body (msg));
    return FALSE;
  }
  default:
    soup_server_message_set_status (msg, SOUP_STATUS_OK, NULL);
    break;
  }
  soup_message_headers_set_content_length (hdrs, (goffset) (*end - *start));
  return TRUE;
}

/* The copy named by @path, or NULL when @path is not exactly a partial path. */
static KithPartialCopy *
kith_partial_handler_lookup (KithPartialHandler *self, const gchar *path)
{
  const gchar *token;
  g_autoptr (KithPartialCopy) copy = NULL;

  if (path == NULL || !g_str_has_prefix (path, KITH_PARTIAL_HANDLER_PREFIX))
    return NULL;
  token = path + strlen (KITH_PARTIAL_HANDLER_PREFIX);
  if (!kith_hex_is_valid (token, KITH_PARTIAL_HANDLER_TOKEN_LEN, KITH_PARTIAL_HANDLER_TOKEN_LEN))
    return NULL;
  copy = kith_partial_table_lookup (self->table, token);
  if (copy == NULL || kith_partial_copy_get_state (copy) == KITH_PARTIAL_COPY_FAILED)
    return NULL;
  return g_steal_pointer (&copy);
}

/* A GET admitted: the reader queues what there is and follows the copy. */
static void
kith_partial_handler_start_reader (KithPartialHandler *self, SoupServerMessage *msg,
                                   KithPartialCopy *copy, guint64 start, guint64 end, gboolean pieces)
{
  KithPartialReader *reader = g_new0 (KithPartialReader, 1);

  reader->handler = g_object_ref (self);
  reader->copy = g_object_ref (copy);
  reader->msg = g_object_ref (msg);
  reader->next = start;
  reader->end = end;
  reader->pieces = pieces;
  self->readers = g_list_prepend (self->readers, reader);
  reader->link = self->readers;
  /* no accumulation: libsoup drops each chunk once written */
  soup_message_body_set_accumulate (soup_server_message_get_response_body (msg), FALSE);
  g_signal_connect (msg, "wrote-body-data", G_CALLBACK (kith_partial_handler_wrote), reader);
  g_signal_connect (msg, "finished", G_CALLBACK (kith_partial_handler_finished), reader);
  reader->changed_id = g_signal_connect (copy, "changed", G_CALLBACK (kith_partial_handler_copy_changed),
                                         reader);
  reader->stall_id = g_timeout_add (MAX (self->stall_ms / 4, 10), kith_partial_handler_stall_check, reader);
  kith_partial_handler_pump (reader);
}

/* A range of verified pieces sent by the kernel: its reader is counted until it ends. */
typedef struct {
  KithPartialHandler *handler; /* ref */
  KithPartialCopy *copy;       /* ref */
} KithPartialSendfile;

static void
kith_partial_handler_sendfile_done (guint64 bytes, gboolean complete, gpointer user_data)
{
  KithPartialSendfile *sent = user_data;

  sent->handler->bytes_served += bytes;
  kith_partial_copy_remove_reader (sent->copy);
  g_signal_emit (sent->handler, kith_partial_handler_signals[KITH_PARTIAL_HANDLER_SIGNAL_SERVED], 0, bytes,
                 complete);
}

static void
kith_partial_handler_sendfile_free (gpointer user_data)
{
  KithPartialSendfile *sent = user_data;

  g_object_unref (sent->copy);
  g_object_unref (sent->handler);
  g_free (sent);
}

/* FALSE, @msg untouched, where sendfile cannot be used (HTTPS, no descriptor). */
static gboolean
kith_partial_handler_sendfile (KithPartialHandler *self, SoupServer *server, SoupServerMessage *msg,
                               KithPartialCopy *copy, guint64 start, guint64 end)
{
  gint fd = kith_partial_copy_dup_fd (copy);
  KithPartialSendfile *sent;

  if (fd < 0)
    return FALSE;
  sent = g_new0 (KithPartialSendfile, 1);
  sent->handler = g_object_ref (self);
  sent->copy = g_object_ref (copy);
  if (kith_sendfile_respond_fd (server, msg, fd, start, end - start, kith_partial_handler_sendfile_done, sent,
                                kith_partial_handler_sendfile_free))
    return TRUE;
  kith_partial_handler_sendfile_free (sent);
  return FALSE;
}

void
kith_partial_handler_callback (SoupServer *server, SoupServerMessage *msg, const char *path,
                               GHashTable *query, gpointer user_data)
{
  KithPartialHandler *self = KITH_PARTIAL_HANDLER (user_data);
  const gchar *method = soup_server_message_get_method (msg);
  g_autoptr (KithPartialCopy) copy = kith_partial_handler_lookup (self, path);
  guint64 start = 0, end = 0;
  guint max_readers = self->max_readers;
  gboolean pieces = FALSE, reader = FALSE;

  if (copy == NULL) {
    kith_http_answer_empty (msg, SOUP_STATUS_NOT_FOUND);
    return;
  }
  if (method != SOUP_METHOD_GET && method != SOUP_METHOD_HEAD) {
    soup_message_headers_replace (soup_server_message_get_response_headers (msg), "Allow", "GET, HEAD");
    kith_http_answer_empty (msg, SOUP_STATUS_METHOD_NOT_ALLOWED);
    return;
  }
  if (method == SOUP_METHOD_GET) {
    pieces = kith_partial_handler_is_piece_read (msg, copy);
    max_readers = pieces ? KITH_PARTIAL_HANDLER_MAX_READERS : self->max_readers;
    reader = !kith_partial_handler_is_refused_range (msg, copy);
  }
  if (reader && !kith_partial_copy_add_reader (copy, max_readers)) {
    g_signal_emit (self, kith_partial_handler_signals[KITH_PARTIAL_HANDLER_SIGNAL_REFUSED], 0, "readers");
    soup_message_headers_replace (soup_server_message_get_response_headers (msg), "Retry-After", "1");
    kith_http_answer_empty (msg, SOUP_STATUS_SERVICE_UNAVAILABLE);
    return;
  }
  if (!kith_partial_handler_headers (msg, copy, &start, &end)) {
    if (reader)
      kith_partial_copy_remove_reader (copy);
    if (kith_partial_copy_has_pieces (copy))
      g_signal_emit (self, kith_partial_handler_signals[KITH_PARTIAL_HANDLER_SIGNAL_REFUSED], 0, "missing");
    return;
  }
  if (method == SOUP_METHOD_HEAD) {
    soup_message_body_complete (soup_server_message_get_response_body (msg));
    return;
  }
  if (pieces && end > start && kith_partial_handler_sendfile (self, server, msg, copy, start, end))
    return;
  kith_partial_handler_start_reader (self, msg, copy, start, end, pieces);
}

void
kith_partial_handler_add_to_server (KithPartialHandler *self, SoupServer *server)
{
  g_return_if_fail (KITH_IS_PARTIAL_HANDLER (self));
  soup_server_add_handler (server, KITH_PARTIAL_HANDLER_PREFIX, kith_partial_handler_callback,
                           g_object_ref (self), g_object_unref);
}

void
kith_partial_handler_set_max_readers (KithPartialHandler *self, guint max_readers)
{
  g_return_if_fail (KITH_IS_PARTIAL_HANDLER (self));
  self->max_readers = max_readers;
}

gchar *
kith_partial_handler_build_path (const gchar *token)
{
  return g_strconcat (KITH_PARTIAL_HANDLER_PREFIX, token, NULL);
}

void
kith_partial_handler_stop (KithPartialHandler *self)
{
  g_return_if_fail (KITH_IS_PARTIAL_HANDLER (self));
  /* now, not from an idle: the server lets every connection go before that would run, and
   * a chunked answer let go ends with its zero-length chunk, a clean end */
  while (self->readers != NULL) {
    KithPartialReader *reader = self->readers->data;

    if (reader->cut_id == 0)
      reader->cut_reason = "stopping";
    g_clear_handle_id (&reader->cut_id, g_source_remove);
    kith_partial_handler_cut_now (reader); /* frees @reader, and its link */
  }
}

guint64
kith_partial_handler_get_bytes_served (KithPartialHandler *self)
{
  g_return_val_if_fail (KITH_IS_PARTIAL_HANDLER (self), 0);
  return self->bytes_served;
}

static void
kith_partial_handler_class_init (KithPartialHandlerClass *klass)
{
  kith_partial_handler_signals[KITH_PARTIAL_HANDLER_SIGNAL_SERVED] =
      g_signal_new ("served", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0, NULL, NULL, NULL,
                    G_TYPE_NONE, 2, G_TYPE_UINT64, G_TYPE_BOOLEAN);
  kith_partial_handler_signals[KITH_PARTIAL_HANDLER_SIGNAL_REFUSED] =
      g_signal_new ("refused", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0, NULL, NULL, NULL,
                    G_TYPE_NONE, 1, G_TYPE_STRING);
}

static void
kith_partial_handler_init (KithPartialHandler *self)
{
  self->max_readers = KITH_PARTIAL_HANDLER_MAX_READERS;
}

KithPartialHandler *
kith_partial_handler_new (KithPartialTable *table, guint stall_ms)
{
  KithPartialHandler *self = g_object_new (KITH_TYPE_PARTIAL_HANDLER, NULL);

  self->table = table;
  self->stall_ms = stall_ms;
  return self;
}
