/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* kith-apt-direct.c — a plain HTTP(S) download for apt, with libsoup */
#include "kith-apt-direct.h"

#include <errno.h>
#include <fcntl.h>
#include <glib/gstdio.h>
#include <string.h>

#ifdef G_OS_UNIX
#include <gio/gunixoutputstream.h>
#include <utime.h>
#endif

#define KITH_APT_DIRECT_BLOCK (64 * 1024)

typedef struct {
  SoupMessage *msg;
  gchar *url;
  gchar *destination;
  guint64 maximum_size;
  guint64 expected_size;
  GInputStream *body;
  GOutputStream *file;
  KithAptDirectStartedFunc started;
  gpointer started_data;
  KithAptDirectResult *result;
} KithAptDirect;

void
kith_apt_direct_result_free (KithAptDirectResult *result)
{
  if (result == NULL)
    return;
  g_clear_pointer (&result->hashes, kith_apt_hashes_free);
  g_clear_pointer (&result->last_modified, g_date_time_unref);
  g_free (result->location);
  g_free (result->message);
  g_free (result->fail_reason);
  g_free (result);
}

static void
kith_apt_direct_free (KithAptDirect *direct)
{
  g_clear_object (&direct->msg);
  g_clear_object (&direct->body);
  g_clear_object (&direct->file);
  g_clear_pointer (&direct->result, kith_apt_direct_result_free);
  g_free (direct->url);
  g_free (direct->destination);
  g_free (direct);
}

/* " [IP: 192.0.2.1 80]", as apt adds to a failure, or "" before a connection. */
static gchar *
kith_apt_direct_describe_peer (SoupMessage *msg)
{
  GSocketAddress *address = soup_message_get_remote_address (msg);
  g_autofree gchar *ip = NULL;

  if (!G_IS_INET_SOCKET_ADDRESS (address))
    return g_strdup ("");
  ip = g_inet_address_to_string (g_inet_socket_address_get_address (G_INET_SOCKET_ADDRESS (address)));
  return g_strdup_printf (" [IP: %s %u]", ip, g_inet_socket_address_get_port (G_INET_SOCKET_ADDRESS (address)));
}

/* Ends the task with the result so far; removes a partial file on failure. */
static void
kith_apt_direct_return (GTask *task)
{
  KithAptDirect *direct = g_task_get_task_data (task);

  if (direct->file != NULL)
    g_output_stream_close (direct->file, NULL, NULL);
  if (direct->result->outcome != KITH_APT_DIRECT_DONE)
    g_unlink (direct->destination);
  g_task_return_pointer (task, g_steal_pointer (&direct->result),
                         (GDestroyNotify) kith_apt_direct_result_free);
  g_object_unref (task);
}

static void
kith_apt_direct_fail (GTask *task, const gchar *fail_reason, gboolean transient,
                      const gchar *format, ...) G_GNUC_PRINTF (4, 5);

static void
kith_apt_direct_fail (GTask *task, const gchar *fail_reason, gboolean transient,
                      const gchar *format, ...)
{
  KithAptDirect *direct = g_task_get_task_data (task);
  g_autofree gchar *peer = direct->msg != NULL ? kith_apt_direct_describe_peer (direct->msg) : g_strdup ("");
  g_autofree gchar *text = NULL;
  va_list args;

  va_start (args, format);
  text = g_strdup_vprintf (format, args);
  va_end (args);
  direct->result->outcome = KITH_APT_DIRECT_FAILED;
  direct->result->fail_reason = g_strdup (fail_reason);
  direct->result->transient = transient;
  direct->result->message = g_strconcat (text, peer, NULL);
  kith_apt_direct_return (task);
}

/* apt's FailReason for a transport error, and whether apt may retry it. */
static const gchar *
kith_apt_direct_fail_reason (const GError *error, gboolean *transient)
{
  *transient = TRUE;
  if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CONNECTION_REFUSED))
    return "ConnectionRefused";
  if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_TIMED_OUT))
    return "Timeout";
  if (g_error_matches (error, G_RESOLVER_ERROR, G_RESOLVER_ERROR_TEMPORARY_FAILURE))
    return "TmpResolveFailure";
  if (error->domain == G_RESOLVER_ERROR)
    return "ResolveFailure";
  *transient = FALSE;
  return NULL;
}

static void kith_apt_direct_read_cb (GObject *source, GAsyncResult *res, gpointer user_data);

static void
kith_apt_direct_read_next (GTask *task)
{
  KithAptDirect *direct = g_task_get_task_data (task);

  g_input_stream_read_bytes_async (direct->body, KITH_APT_DIRECT_BLOCK, G_PRIORITY_DEFAULT,
                                   g_task_get_cancellable (task), kith_apt_direct_read_cb, task);
}

/* The body is complete: stamp the file with the origin's time, as apt does for If-Modified-Since. */
static void
kith_apt_direct_finish_file (GTask *task)
{
  KithAptDirect *direct = g_task_get_task_data (task);
  g_autoptr (GError) error = NULL;

  if (!g_output_stream_close (direct->file, NULL, &error)) {
    kith_apt_direct_fail (task, NULL, FALSE, "Cannot write %s: %s", direct->destination, error->message);
    return;
  }
  g_clear_object (&direct->file);
#ifdef G_OS_UNIX
  if (direct->result->last_modified != NULL) {
    struct utimbuf times;
    times.actime = times.modtime = g_date_time_to_unix (direct->result->last_modified);
    g_utime (direct->destination, &times);
  }
#endif
  direct->result->outcome = KITH_APT_DIRECT_DONE;
  kith_apt_direct_return (task);
}

static void
kith_apt_direct_read_cb (GObject *source, GAsyncResult *res, gpointer user_data)
{
  GTask *task = G_TASK (user_data);
  KithAptDirect *direct = g_task_get_task_data (task);
  g_autoptr (GError) error = NULL;
  g_autoptr (GBytes) bytes = g_input_stream_read_bytes_finish (G_INPUT_STREAM (source), res, &error);
  KithAptHashes *hashes = direct->result->hashes;
  gsize len;
  const guchar *data;

  if (bytes == NULL) {
    gboolean transient;
    const gchar *reason = kith_apt_direct_fail_reason (error, &transient);
    kith_apt_direct_fail (task, reason, transient, "Reading from %s failed: %s", direct->url, error->message);
    return;
  }
  data = g_bytes_get_data (bytes, &len);
  if (len == 0) {
    kith_apt_direct_finish_file (task);
    return;
  }
  if (direct->maximum_size > 0 && kith_apt_hashes_get_size (hashes) + len > direct->maximum_size) {
    kith_apt_direct_fail (task, "MaximumSizeExceeded", FALSE,
                          "File is larger than expected (more than %" G_GUINT64_FORMAT " bytes)",
                          direct->maximum_size);
    return;
  }
  kith_apt_hashes_update (hashes, data, len);
  if (!g_output_stream_write_all (direct->file, data, len, NULL, NULL, &error)) {
    kith_apt_direct_fail (task, NULL, FALSE, "Cannot write %s: %s", direct->destination, error->message);
    return;
  }
  kith_apt_direct_read_next (task);
}

/* Opens apt's file in place: apt made it (or its directory) the sandbox user's. */
static GOutputStream *
kith_apt_direct_open (const gchar *path, GError **error)
{
#ifdef G_OS_UNIX
  gint fd = g_open (path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);

  if (fd < 0) {
    gint saved_errno = errno;
    g_set_error (error, G_IO_ERROR, g_io_error_from_errno (saved_errno), "Cannot open %s: %s", path,
                 g_strerror (saved_errno));
    return NULL;
  }
  return g_unix_output_stream_new (fd, TRUE);
#else
  g_autoptr (GFile) file = g_file_new_for_path (path);
  return G_OUTPUT_STREAM (g_file_replace (file, NULL, FALSE, G_FILE_CREATE_NONE, NULL, error));
#endif
}

/* The headers are in: decide between data, not-modified, redirect and an HTTP error. */
static void
kith_apt_direct_headers (GTask *task)
{
  KithAptDirect *direct = g_task_get_task_data (task);
  SoupMessageHeaders *headers = soup_message_get_response_headers (direct->msg);
  guint status = soup_message_get_status (direct->msg);
  const gchar *last_modified = soup_message_headers_get_one (headers, "Last-Modified");
  goffset length = soup_message_headers_get_content_length (headers);
  g_autoptr (GError) error = NULL;

  if (last_modified != NULL)
    direct->result->last_modified = soup_date_time_new_from_http_string (last_modified);
  if (status == SOUP_STATUS_NOT_MODIFIED) {
    direct->result->outcome = KITH_APT_DIRECT_NOT_MODIFIED;
    kith_apt_direct_return (task);
    return;
  }
  if (SOUP_STATUS_IS_REDIRECTION (status) && status != SOUP_STATUS_NOT_MODIFIED &&
      soup_message_headers_get_one (headers, "Location") != NULL) {
    g_autoptr (GUri) target = g_uri_parse_relative (soup_message_get_uri (direct->msg),
                                                   soup_message_headers_get_one (headers, "Location"),
                                                   G_URI_FLAGS_ENCODED, NULL);
    if (target == NULL) {
      kith_apt_direct_fail (task, NULL, FALSE, "%u %s: unusable Location", status,
                            soup_message_get_reason_phrase (direct->msg));
      return;
    }
    direct->result->outcome = KITH_APT_DIRECT_REDIRECT;
    direct->result->location = g_uri_to_string (target);
    kith_apt_direct_return (task);
    return;
  }
  if (!SOUP_STATUS_IS_SUCCESSFUL (status)) {
    g_autofree gchar *reason = g_strdup_printf ("HttpError%u", status);
    kith_apt_direct_fail (task, reason, FALSE, "%u %s", status, soup_message_get_reason_phrase (direct->msg));
    return;
  }
  if (soup_message_headers_get_encoding (headers) == SOUP_ENCODING_CONTENT_LENGTH &&
      ((direct->expected_size > 0 && (guint64) length != direct->expected_size) ||
       (direct->maximum_size > 0 && (guint64) length > direct->maximum_size))) {
    kith_apt_direct_fail (task, "MaximumSizeExceeded", FALSE,
                          "File has unexpected size (%" G_GUINT64_FORMAT " != %" G_GUINT64_FORMAT
                          "). Mirror sync in progress?",
                          (guint64) length, direct->expected_size > 0 ? direct->expected_size : direct->maximum_size);
    return;
  }
  direct->file = kith_apt_direct_open (direct->destination, &error);
  if (direct->file == NULL) {
    kith_apt_direct_fail (task, NULL, FALSE, "%s", error->message);
    return;
  }
  if (direct->started != NULL)
    direct->started (length > 0 ? (guint64) length : 0, direct->started_data);
  kith_apt_direct_read_next (task);
}

static void
kith_apt_direct_sent_cb (GObject *source, GAsyncResult *res, gpointer user_data)
{
  GTask *task = G_TASK (user_data);
  KithAptDirect *direct = g_task_get_task_data (task);
  g_autoptr (GError) error = NULL;

  direct->body = soup_session_send_finish (SOUP_SESSION (source), res, &error);
  if (direct->body == NULL) {
    gboolean transient;
    const gchar *reason = kith_apt_direct_fail_reason (error, &transient);
    kith_apt_direct_fail (task, reason, transient, "Could not fetch %s: %s", direct->url, error->message);
    return;
  }
  kith_apt_direct_headers (task);
}

void
kith_apt_direct_fetch_async (SoupSession *session, const gchar *url, const gchar *destination,
                             guint64 maximum_size, guint64 expected_size,
                             GDateTime *if_modified_since, KithAptDirectStartedFunc started,
                             GCancellable *cancellable, GAsyncReadyCallback callback,
                             gpointer user_data)
{
  GTask *task = g_task_new (NULL, cancellable, callback, user_data);
  KithAptDirect *direct = g_new0 (KithAptDirect, 1);
  g_autoptr (GError) error = NULL;
  g_autoptr (GUri) uri = g_uri_parse (url, G_URI_FLAGS_ENCODED, &error);

  g_task_set_source_tag (task, kith_apt_direct_fetch_async);
  g_task_set_task_data (task, direct, (GDestroyNotify) kith_apt_direct_free);
  direct->url = g_strdup (url);
  direct->destination = g_strdup (destination);
  direct->maximum_size = maximum_size;
  direct->expected_size = expected_size;
  direct->started = started;
  direct->started_data = user_data;
  direct->result = g_new0 (KithAptDirectResult, 1);
  direct->result->hashes = kith_apt_hashes_new ();
  if (uri != NULL && g_strcmp0 (g_uri_get_scheme (uri), "http") != 0 &&
      g_strcmp0 (g_uri_get_scheme (uri), "https") != 0)
    g_clear_pointer (&uri, g_uri_unref);
  if (uri != NULL)
    direct->msg = soup_message_new_from_uri (SOUP_METHOD_GET, uri);
  if (direct->msg == NULL) {
    kith_apt_direct_fail (task, NULL, FALSE, "'%s' is not a URL apt can fetch: %s", url,
                          error != NULL ? error->message : "unknown scheme");
    return;
  }
  /* apt decides about redirects itself (https to http is refused); hand them back */
  soup_message_add_flags (direct->msg, SOUP_MESSAGE_NO_REDIRECT);
  if (if_modified_since != NULL) {
    g_autofree gchar *date = soup_date_time_to_string (if_modified_since, SOUP_DATE_HTTP);
    soup_message_headers_replace (soup_message_get_request_headers (direct->msg), "If-Modified-Since", date);
  }
  soup_session_send_async (session, direct->msg, G_PRIORITY_DEFAULT, cancellable,
                           kith_apt_direct_sent_cb, task);
}

KithAptDirectResult *
kith_apt_direct_fetch_finish (GAsyncResult *res)
{
  return g_task_propagate_pointer (G_TASK (res), NULL);
}
