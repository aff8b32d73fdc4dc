/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* kith-relay-request.c — an origin miss, fetched by the relay in use */
#include "kith-relay-request.h"

#include "kith-deadline.h"
#include "kith-http-request.h"

/* the most of a relay's answer to a fetch that is read: a line of text */
#define KITH_RELAY_REQUEST_ANSWER_MAX (64 * 1024)
/* a fetch the relay refused for its caps is asked again after this */
#define KITH_RELAY_REQUEST_RETRY_MS 500

typedef struct {
  /* the request's own references: it may outlive the relay client that started it (the
   * plugin stopped while it waited to ask again), and must not send on a freed session */
  KithBackendRoute *route;
  SoupSession *session;
  /* cancelled by the owner of blacklist_data before it frees it: once it is, the request
   * neither sends again nor blames a relay, and ends with G_IO_ERROR_CANCELLED */
  GCancellable *stop;
  KithRelayRequestBlacklistFunc blacklist;
  gpointer blacklist_data; /* borrowed until stop is cancelled */
  gchar *query;    /* "url=…&sha256=…&size=…" of /relay/fetch */
  gint64 deadline; /* monotonic µs */
  /* the request in flight, cancelled with the fetch or at the deadline: an answer that
   * trickles in stays under the session's idle timeout, and under the size bound for hours */
  KithDeadline *request;
  gchar *relay_node;  /* whom the request in flight went to */
  GError *last_error; /* why the request before it failed, when it is asked again */
} KithRelayRequest;

static void
kith_relay_request_free (KithRelayRequest *fetch)
{
  kith_deadline_free (fetch->request);
  g_free (fetch->relay_node);
  g_clear_error (&fetch->last_error);
  g_free (fetch->query);
  g_object_unref (fetch->stop);
  g_object_unref (fetch->session);
  g_object_unref (fetch->route);
  g_free (fetch);
}

/* Ends @task with G_IO_ERROR_CANCELLED if its owner stopped (stop is cancelled): nothing
 * it borrowed may be used after that. */
static gboolean
kith_relay_request_return_if_stopped (GTask *task)
{
  KithRelayRequest *fetch = g_task_get_task_data (task);

  if (!g_cancellable_is_cancelled (fetch->stop))
    return FALSE;
  g_task_return_new_error (task, G_IO_ERROR, G_IO_ERROR_CANCELLED, "the relay client stopped");
  return TRUE;
}

static void kith_relay_request_send (GTask *task);

static gboolean
kith_relay_request_again_cb (gpointer user_data)
{
  GTask *task = user_data;

  if (kith_relay_request_return_if_stopped (task) || g_task_return_error_if_cancelled (task))
    g_object_unref (task);
  else
    kith_relay_request_send (task);
  return G_SOURCE_REMOVE;
}

/* Asks again a little later — the relay's caps are full, or it is gone and the route is
 * moving to the next one — or fails with @error once past the deadline. Takes @task. */
static void
kith_relay_request_later (GTask *task, GError *error)
{
  KithRelayRequest *fetch = g_task_get_task_data (task);
  GSource *wait;
  GSource *stopped;

  if (g_get_monotonic_time () >= fetch->deadline) {
    g_task_return_error (task, error);
    g_object_unref (task);
    return;
  }
  g_clear_error (&fetch->last_error);
  fetch->last_error = error;
  /* the wait ends early when the owner stops: the fetch then fails at once, not half a
   * second later */
  wait = g_timeout_source_new (KITH_RELAY_REQUEST_RETRY_MS);
  stopped = g_cancellable_source_new (fetch->stop);
  g_source_set_dummy_callback (stopped);
  g_source_add_child_source (wait, stopped);
  g_source_unref (stopped);
  g_source_set_callback (wait, kith_relay_request_again_cb, task, NULL);
  g_source_attach (wait, g_main_context_get_thread_default ());
  g_source_unref (wait);
}

static void
kith_relay_request_cb (GObject *source, GAsyncResult *res, gpointer user_data)
{
  g_autoptr (GTask) task = user_data;
  KithRelayRequest *fetch = g_task_get_task_data (task);
  GError *error = NULL;
  g_autoptr (GBytes) body = kith_http_request_send_finish (res, &error);
  SoupMessage *msg = SOUP_MESSAGE (source);
  g_autoptr (KithDeadline) request = g_steal_pointer (&fetch->request);
  g_autofree gchar *text = NULL;
  guint status;

  /* the owner stopped (this is the abort of its session, or an answer that came in before
   * the stop): the blacklist's owner may be gone — no blame, no next request, whatever the
   * answer was */
  if (kith_relay_request_return_if_stopped (task)) {
    g_clear_error (&error);
    return;
  }
  if (body == NULL && kith_deadline_has_expired (request) &&
      !g_cancellable_is_cancelled (g_task_get_cancellable (task))) {
    g_clear_error (&error);
    if (fetch->last_error != NULL)
      g_task_return_new_error (task, G_IO_ERROR, G_IO_ERROR_TIMED_OUT,
                               "the relay's answer did not end by the fetch's deadline (the one before: %s)",
                               fetch->last_error->message);
    else
      g_task_return_new_error (task, G_IO_ERROR, G_IO_ERROR_TIMED_OUT,
                               "the relay's answer did not end by the fetch's deadline");
    return;
  }
  if (body == NULL && g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED)) {
    g_task_return_error (task, error);
    return;
  }
  if (body == NULL && g_error_matches (error, G_IO_ERROR, G_IO_ERROR_MESSAGE_TOO_LARGE)) {
    /* more than the bound is no fault but proof of misbehaviour (docs/security.md): asking
     * it again every half second until the deadline only fed it our time */
    g_autofree gchar *why = g_strdup_printf ("its answer to a fetch was %s", error->message);
    if (fetch->relay_node != NULL)
      fetch->blacklist (fetch->relay_node, why, fetch->blacklist_data);
    g_task_return_new_error (task, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
                             "the relay's answer was %s (blacklisted)", error->message);
    g_error_free (error);
    return;
  }
  if (body == NULL) {
    /* the relay went away: the route finds the next one, and the fetch asks it */
    kith_backend_route_report_failure (fetch->route);
    kith_relay_request_later (g_steal_pointer (&task), error);
    return;
  }
  status = soup_message_get_status (msg);
  if (status == SOUP_STATUS_OK) {
    g_task_return_boolean (task, TRUE);
    return;
  }
  if (status == SOUP_STATUS_ACCEPTED && g_get_monotonic_time () < fetch->deadline) {
    kith_relay_request_send (g_steal_pointer (&task));
    return;
  }
  text = g_strndup (g_bytes_get_data (body, NULL), MIN (g_bytes_get_size (body), 200));
  g_strchomp (text);
  error = g_error_new (G_IO_ERROR, G_IO_ERROR_FAILED, "the relay answered %u: %s", status,
                       status == SOUP_STATUS_ACCEPTED ? "still fetching at the deadline" : text);
  if (status == SOUP_STATUS_SERVICE_UNAVAILABLE) {
    /* the relay's caps: this node's other fetches first */
    kith_relay_request_later (g_steal_pointer (&task), error);
    return;
  }
  g_task_return_error (task, error);
}

/* To the relay in use now: after a failover, that is the next one. Takes @task. */
static void
kith_relay_request_send (GTask *task)
{
  KithRelayRequest *fetch = g_task_get_task_data (task);
  const gchar *relay = kith_backend_route_get_relay_url (fetch->route);
  g_autofree gchar *url = NULL;
  g_autoptr (SoupMessage) msg = NULL;
  gint64 left_ms;

  if (relay == NULL) {
    kith_relay_request_later (task,
                              g_error_new_literal (G_IO_ERROR, G_IO_ERROR_NOT_FOUND, "no relay in use"));
    return;
  }
  url = g_strdup_printf ("%s/relay/fetch?%s", relay, fetch->query);
  msg = soup_message_new (SOUP_METHOD_GET, url);
  g_free (fetch->relay_node);
  fetch->relay_node = g_strdup (kith_backend_route_get_relay_node (fetch->route));
  left_ms = MAX (fetch->deadline - g_get_monotonic_time (), 0) / 1000 + 1;
  fetch->request = kith_deadline_new (g_task_get_cancellable (task), (guint) MIN (left_ms, G_MAXUINT));
  kith_http_request_send_async (fetch->session, msg, KITH_RELAY_REQUEST_ANSWER_MAX,
                                kith_deadline_get_cancellable (fetch->request), kith_relay_request_cb, task);
}

void
kith_relay_request_async (KithBackendRoute *route, SoupSession *session, GCancellable *stop, gboolean finding,
                          KithRelayRequestBlacklistFunc blacklist, gpointer blacklist_data, GObject *source,
                          const gchar *url, const gchar *sha256, guint64 size, guint64 timeout_ms,
                          GCancellable *cancellable, GAsyncReadyCallback callback, gpointer user_data)
{
  GTask *task = g_task_new (source, cancellable, callback, user_data);
  g_autofree gchar *escaped_url = NULL;
  KithRelayRequest *fetch;

  /* between two relays (the one in use went away) the fetch waits for the next, up to
   * its deadline; a node that never had one fails at once */
  if ((kith_backend_route_get_relay_url (route) == NULL && !finding) || sha256 == NULL) {
    g_task_return_new_error (task, G_IO_ERROR, G_IO_ERROR_NOT_FOUND,
                             sha256 != NULL ? "no relay in use" : "a relay fetches only against a hash");
    g_object_unref (task);
    return;
  }
  escaped_url = g_uri_escape_string (url, NULL, FALSE);
  fetch = g_new0 (KithRelayRequest, 1);
  fetch->route = g_object_ref (route);
  fetch->session = g_object_ref (session);
  fetch->stop = g_object_ref (stop);
  fetch->blacklist = blacklist;
  fetch->blacklist_data = blacklist_data;
  fetch->query = g_strdup_printf ("url=%s&sha256=%s&size=%" G_GUINT64_FORMAT, escaped_url, sha256, size);
  fetch->deadline = g_get_monotonic_time () + (gint64) timeout_ms * 1000;
  g_task_set_task_data (task, fetch, (GDestroyNotify) kith_relay_request_free);
  kith_relay_request_send (task);
}

gboolean
kith_relay_request_finish (GAsyncResult *result, GError **error)
{
  return g_task_propagate_boolean (G_TASK (result), error);
}
