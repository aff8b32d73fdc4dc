/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* kith-peer-download.c — one HTTP GET into the caller's sink, bounded by what was promised
 *
 * The body is read in chunks of KITH_PEER_DOWNLOAD_CHUNK; near the cap one byte more than
 * allowed is asked for, which is enough to know the source broke its promise. Nothing here
 * decides trust: the sink (an alias writer, a piece) hashes and checks what it is given.
 *
 * A range over plain HTTP has its socket's SO_RCVLOWAT raised to what is still to come (at
 * most KITH_PEER_DOWNLOAD_LOWAT): a source sends a range it has whole, and without it
 * every few packets of it wake the main loop (on a 100 Mbit/s link, ~8 KiB a wakeup, each
 * a poll, a read and several main-loop wakeups through libsoup and GIO). The end of the
 * range, the source closing and any error still wake it at once.
 */
#include "kith-peer-download.h"

#ifdef G_OS_UNIX
#include <sys/socket.h>
#endif

#include "kith-peering-error.h"

#define KITH_PEER_DOWNLOAD_CHUNK (256 * 1024)
/* 32 KiB: below half the smallest default receive buffer (tcp_rmem's 128 KiB), so raising
 * it never makes the kernel clamp the receive window */
#define KITH_PEER_DOWNLOAD_LOWAT (32 * 1024)

struct _KithPeerDownload {
  SoupSession *session;
  gchar *url;
  gchar *source;
  KithMetrics *metrics;
  KithPeerDownloadFuncs funcs;
  gpointer user_data;
  GCancellable *cancellable;
  GInputStream *stream;
  guint8 *buffer;
  guint64 limit;
  guint64 offset; /* of the range asked for */
  guint64 length; /* of the range asked for, 0: the whole file */
  guint64 resume; /* asked from this byte on, the ones before in already (0: not resumed) */
  guint64 done;
  guint status;
  SoupMessageHeaders *response_headers; /* of the answer, once it came */
  SoupMessage *msg;                     /* of a range over plain HTTP, for its socket */
  GSocket *socket;                      /* its connection's, once connected */
  gint lowat;                           /* the SO_RCVLOWAT set on it, 0: none */
  gboolean started;
};

KithPeerDownload *
kith_peer_download_new (SoupSession *session, const gchar *url, const gchar *source,
                        KithMetrics *metrics, const KithPeerDownloadFuncs *funcs, gpointer user_data)
{
  KithPeerDownload *download = g_new0 (KithPeerDownload, 1);

  g_return_val_if_fail (funcs != NULL && funcs->write != NULL && funcs->finished != NULL, NULL);
  download->session = g_object_ref (session);
  download->url = g_strdup (url);
  download->source = g_strdup (source != NULL ? source : "the source");
  download->metrics = metrics != NULL ? g_object_ref (metrics) : NULL;
  download->funcs = *funcs;
  download->user_data = user_data;
  download->cancellable = g_cancellable_new ();
  return download;
}

void
kith_peer_download_set_limit (KithPeerDownload *download, guint64 limit)
{
  g_return_if_fail (!download->started);
  download->limit = limit;
}

void
kith_peer_download_set_range (KithPeerDownload *download, guint64 offset, guint64 length)
{
  g_return_if_fail (!download->started);
  g_return_if_fail (length > 0);
  download->offset = offset;
  download->length = length;
}

void
kith_peer_download_set_resume (KithPeerDownload *download, guint64 offset)
{
  g_return_if_fail (!download->started);
  g_return_if_fail (download->length == 0 && download->funcs.restarted != NULL);
  g_return_if_fail (offset > 0 && offset < download->limit);
  download->resume = offset;
}

guint64
kith_peer_download_get_done (KithPeerDownload *download)
{
  return download->done;
}

guint
kith_peer_download_get_status (KithPeerDownload *download)
{
  return download->status;
}

const gchar *
kith_peer_download_get_header (KithPeerDownload *download, const gchar *name)
{
  return download->response_headers != NULL ? soup_message_headers_get_one (download->response_headers, name)
                                            : NULL;
}

/* SO_RCVLOWAT of the download's socket to @lowat bytes (1: the default), if it has one. */
static void
kith_peer_download_set_lowat (KithPeerDownload *download, gint lowat)
{
#if defined(G_OS_UNIX) && defined(SO_RCVLOWAT)
  if (download->socket == NULL || lowat == download->lowat || (download->lowat == 0 && lowat == 1))
    return;
  /* a closed or refused socket keeps its default: the read just wakes more often */
  if (!g_socket_is_closed (download->socket))
    g_socket_set_option (download->socket, SOL_SOCKET, SO_RCVLOWAT, lowat, NULL);
  download->lowat = lowat;
#endif
}

/* The connection's socket is let go; a connection libsoup keeps for the next request gets
 * its default threshold back. */
static void
kith_peer_download_release_socket (KithPeerDownload *download)
{
  kith_peer_download_set_lowat (download, 1);
  g_clear_object (&download->socket);
  if (download->msg != NULL)
    g_signal_handlers_disconnect_by_data (download->msg, download);
  g_clear_object (&download->msg);
}

void
kith_peer_download_free (KithPeerDownload *download)
{
  if (download == NULL)
    return;
  kith_peer_download_release_socket (download);
  g_cancellable_cancel (download->cancellable);
  g_clear_object (&download->stream);
  g_clear_pointer (&download->response_headers, soup_message_headers_unref);
  g_clear_object (&download->cancellable);
  g_clear_object (&download->metrics);
  g_clear_object (&download->session);
  g_free (download->buffer);
  g_free (download->url);
  g_free (download->source);
  g_free (download);
}

static void
kith_peer_download_finish (KithPeerDownload *download, const GError *error)
{
  g_clear_object (&download->stream);
  g_clear_pointer (&download->buffer, g_free);
  kith_peer_download_release_socket (download);
  download->funcs.finished (download, error, download->user_data);
}

/* The source broke its promise of size: counted, and @error says how. */
static void G_GNUC_PRINTF (3, 4)
kith_peer_download_oversize (KithPeerDownload *download, GError **error, const gchar *format, ...)
{
  g_autofree gchar *message = NULL;
  va_list args;

  if (download->metrics != NULL)
    kith_metrics_add (download->metrics, "kith_peering_oversize_downloads_total", NULL, 1);
  va_start (args, format);
  message = g_strdup_vprintf (format, args);
  va_end (args);
  g_set_error_literal (error, KITH_PEERING_ERROR, KITH_PEERING_ERROR_HASH_MISMATCH, message);
}

static void kith_peer_download_read_next (KithPeerDownload *download);

static void
kith_peer_download_read_done (GObject *source, GAsyncResult *result, gpointer user_data)
{
  g_autoptr (GError) error = NULL;
  gssize n = g_input_stream_read_finish (G_INPUT_STREAM (source), result, &error);
  KithPeerDownload *download = user_data;

  if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    return; /* the download is gone */
  if (n > 0 && download->limit > 0 && download->done + (guint64) n > download->limit) {
    kith_peer_download_oversize (download, &error, "%s sent more than the %" G_GUINT64_FORMAT
                                 " bytes it promised", download->source, download->limit);
    n = -1;
  }
  if (n > 0 && download->funcs.write (download, download->buffer, n,
                                      download->offset + download->done, download->user_data,
                                      &error)) {
    download->done += n;
    if (download->funcs.progress != NULL)
      download->funcs.progress (download, download->done, download->user_data);
    kith_peer_download_read_next (download);
    return;
  }
  if (n == 0 && download->length > 0 && download->done != download->length)
    g_set_error (&error, KITH_PEERING_ERROR, KITH_PEERING_ERROR_FAILED,
                 "%s sent %" G_GUINT64_FORMAT " of the %" G_GUINT64_FORMAT " bytes asked for",
                 download->source, download->done, download->length);
  /* a chunked body cut mid-way reads as a clean end: short of the promise, it is a broken
   * download (a fault, backed off), not a short file to blame as a lie */
  else if (n == 0 && download->length == 0 && download->done < download->limit)
    g_set_error (&error, KITH_PEERING_ERROR, KITH_PEERING_ERROR_FAILED,
                 "%s ended after %" G_GUINT64_FORMAT " of the %" G_GUINT64_FORMAT " bytes it promised",
                 download->source, download->done, download->limit);
  kith_peer_download_finish (download, error);
}

static void
kith_peer_download_read_next (KithPeerDownload *download)
{
  gsize chunk = KITH_PEER_DOWNLOAD_CHUNK;
  guint64 left = download->limit - MIN (download->done, download->limit);

  /* one byte past the promise is enough to know it is broken */
  if (download->limit > 0 && left < chunk)
    chunk = left + 1;
  /* after the first read, which takes what libsoup read ahead with the head, whatever is
   * left of the range is still to come through the socket */
  if (download->socket != NULL && download->done > 0)
    kith_peer_download_set_lowat (download, (gint) MAX (1, MIN (left, KITH_PEER_DOWNLOAD_LOWAT)));
  g_input_stream_read_async (download->stream, download->buffer, chunk, G_PRIORITY_DEFAULT,
                             download->cancellable, kith_peer_download_read_done, download);
}

/* A range request must get exactly that range. */
static gboolean
kith_peer_download_check_range (KithPeerDownload *download, SoupMessage *msg, GError **error)
{
  goffset start = 0, end = 0, total = 0;

  if (soup_message_get_status (msg) == SOUP_STATUS_PARTIAL_CONTENT &&
      soup_message_headers_get_content_range (soup_message_get_response_headers (msg), &start,
                                              &end, &total) &&
      start == (goffset) download->offset &&
      end == (goffset) (download->offset + download->length - 1))
    return TRUE;
  g_set_error (error, KITH_PEERING_ERROR, KITH_PEERING_ERROR_NOT_FOUND,
               "%s did not answer the range %" G_GUINT64_FORMAT "+%" G_GUINT64_FORMAT
               " (HTTP %u)", download->source, download->offset, download->length,
               soup_message_get_status (msg));
  return FALSE;
}

static void
kith_peer_download_count_resume (KithPeerDownload *download, const gchar *result)
{
  g_autofree gchar *labels = g_strdup_printf ("result=\"%s\"", result);

  if (download->metrics != NULL)
    kith_metrics_add (download->metrics, "kith_peering_resumed_total", labels, 1);
}

/* The answer to a resumed request: the rest of the file (206 of exactly bytes=RESUME-, the
 * limit now bounding what is left), or all of it again from byte 0 (200). Any other range
 * would put bytes where they do not belong: a lie, refused before a byte is taken. */
static gboolean
kith_peer_download_check_resume (KithPeerDownload *download, SoupMessage *msg, GError **error)
{
  goffset start = 0, end = 0, total = 0;
  guint status = soup_message_get_status (msg);

  if (status == SOUP_STATUS_OK) {
    g_message ("%s ignored the range from byte %" G_GUINT64_FORMAT ": starting again from 0", download->source,
               download->resume);
    kith_peer_download_count_resume (download, "restarted");
    download->resume = 0;
    return download->funcs.restarted (download, download->user_data, error);
  }
  if (status != SOUP_STATUS_PARTIAL_CONTENT) {
    g_set_error (error, KITH_PEERING_ERROR, KITH_PEERING_ERROR_NOT_FOUND, "%s answered HTTP %u %s to bytes=%"
                 G_GUINT64_FORMAT "-", download->source, status, soup_message_get_reason_phrase (msg),
                 download->resume);
    return FALSE;
  }
  if (!soup_message_headers_get_content_range (soup_message_get_response_headers (msg), &start, &end, &total) ||
      start != (goffset) download->resume || end != (goffset) (download->limit - 1) ||
      (total != (goffset) download->limit && total != -1)) {
    const gchar *range = soup_message_headers_get_one (soup_message_get_response_headers (msg), "Content-Range");
    kith_peer_download_count_resume (download, "lied");
    g_set_error (error, KITH_PEERING_ERROR, KITH_PEERING_ERROR_HASH_MISMATCH,
                 "%s answered bytes=%" G_GUINT64_FORMAT "- of a file of %" G_GUINT64_FORMAT
                 " bytes with Content-Range '%s'", download->source, download->resume, download->limit,
                 range != NULL ? range : "");
    return FALSE;
  }
  g_debug ("%s sends the rest from byte %" G_GUINT64_FORMAT, download->source, download->resume);
  kith_peer_download_count_resume (download, "ranged");
  download->offset = download->resume;
  download->limit -= download->resume;
  return TRUE;
}

static void
kith_peer_download_sent (GObject *source, GAsyncResult *result, gpointer user_data)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GInputStream) stream = soup_session_send_finish (SOUP_SESSION (source), result, &error);
  KithPeerDownload *download = user_data;
  SoupMessage *msg;
  goffset length;

  if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    return;
  if (stream == NULL) {
    kith_peer_download_finish (download, error);
    return;
  }
  msg = soup_session_get_async_result_message (SOUP_SESSION (source), result);
  download->status = soup_message_get_status (msg);
  download->response_headers = soup_message_headers_ref (soup_message_get_response_headers (msg));
  if (download->length > 0) {
    if (!kith_peer_download_check_range (download, msg, &error)) {
      kith_peer_download_finish (download, error);
      return;
    }
  } else if (download->resume > 0) {
    if (!kith_peer_download_check_resume (download, msg, &error)) {
      kith_peer_download_finish (download, error);
      return;
    }
  } else if (soup_message_get_status (msg) != SOUP_STATUS_OK) {
    g_set_error (&error, KITH_PEERING_ERROR, KITH_PEERING_ERROR_NOT_FOUND, "%s answered HTTP %u %s",
                 g_uri_get_host (soup_message_get_uri (msg)), soup_message_get_status (msg),
                 soup_message_get_reason_phrase (msg));
    kith_peer_download_finish (download, error);
    return;
  }
  length = soup_message_headers_get_content_length (soup_message_get_response_headers (msg));
  if (length > 0 && download->limit > 0 && (guint64) length > download->limit) {
    kith_peer_download_oversize (download, &error, "%s announced %" G_GOFFSET_FORMAT
                                 " bytes, more than the %" G_GUINT64_FORMAT " promised",
                                 download->source, length, download->limit);
    kith_peer_download_finish (download, error);
    return;
  }
  if (length > 0 && download->limit == 0)
    download->limit = length;
  download->stream = g_steal_pointer (&stream);
  download->buffer = g_malloc (KITH_PEER_DOWNLOAD_CHUNK);
  if (download->funcs.started != NULL)
    download->funcs.started (download, length > 0 ? (guint64) length : 0, download->user_data);
  kith_peer_download_read_next (download);
}

static void
kith_peer_download_network_event (SoupMessage *msg, GSocketClientEvent event, GIOStream *connection,
                                  gpointer user_data)
{
  KithPeerDownload *download = user_data;

  if (event == G_SOCKET_CLIENT_CONNECTED && G_IS_SOCKET_CONNECTION (connection))
    g_set_object (&download->socket, g_socket_connection_get_socket (G_SOCKET_CONNECTION (connection)));
}

void
kith_peer_download_start (KithPeerDownload *download)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (SoupMessage) msg = NULL;

  g_return_if_fail (!download->started);
  download->started = TRUE;
  msg = soup_message_new ("GET", download->url);
  if (msg == NULL) {
    g_set_error (&error, KITH_PEERING_ERROR, KITH_PEERING_ERROR_FAILED, "'%s' is not a URL",
                 download->url);
    kith_peer_download_finish (download, error);
    return;
  }
  if (download->length > 0) {
    soup_message_headers_set_range (soup_message_get_request_headers (msg), (goffset) download->offset,
                                    (goffset) (download->offset + download->length - 1));
    if (download->limit == 0 || download->limit > download->length)
      download->limit = download->length;
    /* through TLS, what the socket holds is not what is left of the range */
    if (g_strcmp0 (g_uri_get_scheme (soup_message_get_uri (msg)), "http") == 0) {
      download->msg = g_object_ref (msg);
      g_signal_connect (msg, "network-event", G_CALLBACK (kith_peer_download_network_event), download);
    }
  } else if (download->resume > 0) {
    g_autofree gchar *range = g_strdup_printf ("bytes=%" G_GUINT64_FORMAT "-", download->resume);
    soup_message_headers_replace (soup_message_get_request_headers (msg), "Range", range);
  }
  soup_session_send_async (download->session, msg, G_PRIORITY_DEFAULT, download->cancellable,
                           kith_peer_download_sent, download);
}
