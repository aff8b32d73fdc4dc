/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* kith-client-fetch.c — kith_client_fetch_async(): Peering1.Fetch, then follow the Transfer1
 *
 * The operation owns one reference to its GTask from start to return; every way out goes
 * through kith_client_fetch_return_*(), which drops the watchers first, so no callback
 * runs after the result is delivered.
 */
#include "kith-client.h"
#include "kith-client-private.h"
#include "kith-dbus-generated.h"

#include <errno.h>
#include <fcntl.h>
#include <glib/gstdio.h>
#include <string.h>

#ifdef G_OS_UNIX
#include <gio/gunixfdlist.h>
#include <unistd.h>
#endif

#define KITH_CLIENT_FETCH_OBJECT "Peering"
#define KITH_CLIENT_PEERING_INTERFACE "org.kith.Peering1"
#define KITH_CLIENT_TRANSFER_INTERFACE "org.kith.Transfer1"
/* after Cancel() the agent reports "failed" at once; this only bounds a silent agent */
#define KITH_CLIENT_FETCH_CANCEL_GRACE_MS 5000

typedef struct {
  KithClientTransfer *transfer;
  KithDbusTransfer1 *proxy;
  KithClientProgressFunc progress;
  gpointer progress_data;
  GDestroyNotify progress_data_free;
  gboolean created;          /* we created the destination: remove it on failure */
  gboolean cancel_requested; /* the caller cancelled: the result is CANCELLED whatever comes */
  gboolean returned;
  GSource *cancel_source;
  GSource *grace_source;
  GDBusConnection *connection; /* watched for "closed": a dead agent sends no last state */
  gulong closed_id;
} KithClientFetch;

static void
kith_client_fetch_free (KithClientFetch *fetch)
{
  g_clear_object (&fetch->connection);
  g_clear_object (&fetch->proxy);
  g_clear_object (&fetch->transfer);
  if (fetch->progress_data_free != NULL)
    fetch->progress_data_free (fetch->progress_data);
  g_free (fetch);
}

/* Stops every watcher; the task must not hear from the agent after its result. */
static KithClientFetch *
kith_client_fetch_stop (GTask *task)
{
  KithClientFetch *fetch = g_task_get_task_data (task);

  fetch->returned = TRUE;
  if (fetch->proxy != NULL)
    g_signal_handlers_disconnect_by_data (fetch->proxy, task);
  if (fetch->closed_id != 0) {
    g_signal_handler_disconnect (fetch->connection, fetch->closed_id);
    fetch->closed_id = 0;
  }
  if (fetch->cancel_source != NULL) {
    g_source_destroy (fetch->cancel_source);
    g_clear_pointer (&fetch->cancel_source, g_source_unref);
  }
  if (fetch->grace_source != NULL) {
    g_source_destroy (fetch->grace_source);
    g_clear_pointer (&fetch->grace_source, g_source_unref);
  }
  return fetch;
}

/* Fails the operation with @error (taken); drops the operation's reference to @task. */
static void
kith_client_fetch_return_error (GTask *task, GError *error)
{
  KithClientFetch *fetch = kith_client_fetch_stop (task);

  if (fetch->created)
    g_unlink (kith_client_transfer_get_destination (fetch->transfer));
  g_task_return_error (task, error);
  g_object_unref (task);
}

static void
kith_client_fetch_return_cancelled (GTask *task)
{
  KithClientFetch *fetch = g_task_get_task_data (task);
  kith_client_fetch_return_error (task, g_error_new (KITH_CLIENT_ERROR, KITH_CLIENT_ERROR_CANCELLED,
                                                     "Fetching %s was cancelled",
                                                     kith_client_transfer_get_url (fetch->transfer)));
}

/* Ends the operation from the transfer's final state. */
static void
kith_client_fetch_return_finished (GTask *task)
{
  KithClientFetch *fetch = g_task_get_task_data (task);
  KithClientTransfer *transfer = fetch->transfer;

  if (fetch->cancel_requested) {
    kith_client_fetch_return_cancelled (task);
    return;
  }
  if (kith_client_transfer_get_state (transfer) == KITH_CLIENT_TRANSFER_STATE_FAILED) {
    kith_client_fetch_return_error (task,
                                    kith_client_error_new_for_transfer (kith_client_transfer_get_url (transfer),
                                                                        kith_client_transfer_get_error (transfer)));
    return;
  }
  kith_client_fetch_stop (task);
  g_task_return_pointer (task, g_object_ref (transfer), g_object_unref);
  g_object_unref (task);
}

/* Copies the proxy's properties into the transfer; tells the caller; ends on DONE/FAILED. */
static void
kith_client_fetch_sync_from_proxy (GTask *task)
{
  KithClientFetch *fetch = g_task_get_task_data (task);
  KithDbusTransfer1 *proxy = fetch->proxy;
  const gchar *state = kith_dbus_transfer1_get_state (proxy);

  if (state == NULL) {
    kith_client_fetch_return_error (task,
                                    g_error_new (KITH_CLIENT_ERROR, KITH_CLIENT_ERROR_FAILED,
                                                 "Fetching %s failed: the agent has no transfer at %s",
                                                 kith_client_transfer_get_url (fetch->transfer),
                                                 kith_client_transfer_get_object_path (fetch->transfer)));
    return;
  }
  if (kith_client_transfer_update (fetch->transfer, state, kith_dbus_transfer1_get_source (proxy),
                                   kith_dbus_transfer1_get_bytes_done (proxy),
                                   kith_dbus_transfer1_get_bytes_total (proxy),
                                   kith_dbus_transfer1_get_error (proxy)) &&
      fetch->progress != NULL)
    fetch->progress (fetch->transfer, fetch->progress_data);
  if (kith_client_transfer_is_finished (fetch->transfer))
    kith_client_fetch_return_finished (task);
}

static void
kith_client_fetch_properties_changed (GDBusProxy *proxy, GVariant *changed,
                                      GStrv invalidated, gpointer user_data)
{
  kith_client_fetch_sync_from_proxy (G_TASK (user_data));
}

static gboolean
kith_client_fetch_grace_expired (gpointer user_data)
{
  GTask *task = G_TASK (user_data);
  KithClientFetch *fetch = g_task_get_task_data (task);

  g_clear_pointer (&fetch->grace_source, g_source_unref);
  g_debug ("the agent did not confirm the cancel of %s in time",
           kith_client_transfer_get_object_path (fetch->transfer));
  kith_client_fetch_return_cancelled (task);
  return G_SOURCE_REMOVE;
}

static void
kith_client_fetch_cancel_cb (GObject *source, GAsyncResult *res, gpointer user_data)
{
  g_autoptr (GTask) task = G_TASK (user_data); /* the reference given to the Cancel call */
  KithClientFetch *fetch = g_task_get_task_data (task);
  g_autoptr (GError) error = NULL;

  if (kith_dbus_transfer1_call_cancel_finish (KITH_DBUS_TRANSFER1 (source), res, &error) ||
      fetch->returned)
    return; /* the final state follows as a property change */
  g_debug ("cancelling %s: %s", kith_client_transfer_get_object_path (fetch->transfer), error->message);
  kith_client_fetch_return_cancelled (task); /* drops the operation's reference, not ours */
}

/* The caller cancelled: ask the agent to stop, then wait for it to say "failed". */
static gboolean
kith_client_fetch_cancelled (GCancellable *cancellable, gpointer user_data)
{
  GTask *task = G_TASK (user_data);
  KithClientFetch *fetch = g_task_get_task_data (task);

  g_clear_pointer (&fetch->cancel_source, g_source_unref);
  fetch->cancel_requested = TRUE;
  kith_dbus_transfer1_call_cancel (fetch->proxy, NULL, kith_client_fetch_cancel_cb, g_object_ref (task));
  fetch->grace_source = g_timeout_source_new (KITH_CLIENT_FETCH_CANCEL_GRACE_MS);
  g_source_set_callback (fetch->grace_source, kith_client_fetch_grace_expired, task, NULL);
  g_source_attach (fetch->grace_source, g_task_get_context (task));
  return G_SOURCE_REMOVE;
}

/* The agent went away (crashed, stopped, or lost the bus name) before the transfer ended. */
static void
kith_client_fetch_return_agent_gone (GTask *task)
{
  KithClientFetch *fetch = g_task_get_task_data (task);
  KithClient *self = g_task_get_source_object (task);

  kith_client_fetch_return_error (task, g_error_new (KITH_CLIENT_ERROR, KITH_CLIENT_ERROR_AGENT_NOT_RUNNING,
                                                     "The kith agent at %s went away while fetching %s: "
                                                     "is kith-agent still running?",
                                                     kith_client_get_target (self),
                                                     kith_client_transfer_get_url (fetch->transfer)));
}

static void
kith_client_fetch_owner_changed (GObject *proxy, GParamSpec *pspec, gpointer user_data)
{
  g_autofree gchar *owner = g_dbus_proxy_get_name_owner (G_DBUS_PROXY (proxy));

  /* only meaningful on a bus; a peer-to-peer proxy has no name to own */
  if (owner == NULL && g_dbus_proxy_get_name (G_DBUS_PROXY (proxy)) != NULL)
    kith_client_fetch_return_agent_gone (G_TASK (user_data));
}

static void
kith_client_fetch_closed (GDBusConnection *connection, gboolean remote_peer_vanished,
                          GError *error, gpointer user_data)
{
  kith_client_fetch_return_agent_gone (G_TASK (user_data));
}

/* Follows the agent's side: its property changes, and whether it is still there at all. */
static void
kith_client_fetch_watch (GTask *task, GDBusConnection *connection)
{
  KithClientFetch *fetch = g_task_get_task_data (task);

  g_signal_connect (fetch->proxy, "g-properties-changed",
                    G_CALLBACK (kith_client_fetch_properties_changed), task);
  g_signal_connect (fetch->proxy, "notify::g-name-owner",
                    G_CALLBACK (kith_client_fetch_owner_changed), task);
  fetch->connection = g_object_ref (connection);
  fetch->closed_id = g_signal_connect (connection, "closed", G_CALLBACK (kith_client_fetch_closed), task);
}

static void
kith_client_fetch_proxy_cb (GObject *source, GAsyncResult *res, gpointer user_data)
{
  /* a return below may deliver the result (and free the operation) at once: hold it meanwhile */
  g_autoptr (GTask) task = g_object_ref (G_TASK (user_data));
  KithClientFetch *fetch = g_task_get_task_data (task);
  KithClient *self = g_task_get_source_object (task);
  g_autoptr (GError) error = NULL;
  GCancellable *cancellable = g_task_get_cancellable (task);

  fetch->proxy = kith_dbus_transfer1_proxy_new_finish (res, &error);
  if (fetch->proxy == NULL) {
    kith_client_convert_error (self, &error);
    kith_client_fetch_return_error (task, g_steal_pointer (&error));
    return;
  }
  kith_client_fetch_watch (task, g_dbus_proxy_get_connection (G_DBUS_PROXY (fetch->proxy)));
  kith_client_fetch_sync_from_proxy (task);
  if (!fetch->returned && g_dbus_connection_is_closed (fetch->connection)) {
    kith_client_fetch_return_agent_gone (task);
    return;
  }
  if (fetch->returned || cancellable == NULL)
    return;
  /* a source, not a handler: it runs in our context even when another thread cancels */
  fetch->cancel_source = g_cancellable_source_new (cancellable);
  g_source_set_callback (fetch->cancel_source, G_SOURCE_FUNC (kith_client_fetch_cancelled), task, NULL);
  g_source_attach (fetch->cancel_source, g_task_get_context (task));
}

static void
kith_client_fetch_called_cb (GObject *source, GAsyncResult *res, gpointer user_data)
{
  GTask *task = G_TASK (user_data);
  KithClient *self = KITH_CLIENT (source);
  KithClientFetch *fetch = g_task_get_task_data (task);
  g_autoptr (GVariant) reply = NULL;
  g_autoptr (GError) error = NULL;
  const gchar *path = NULL;

  reply = kith_client_call_plugin_finish (self, res, NULL, &error);
  if (reply == NULL) {
    kith_client_fetch_return_error (task, g_steal_pointer (&error));
    return;
  }
  g_variant_get (reply, "(&o)", &path);
  kith_client_transfer_set_object_path (fetch->transfer, path);
  /* not cancellable: once the agent has a transfer, a cancel must reach it through Cancel() */
  kith_dbus_transfer1_proxy_new (kith_client_get_connection (self), G_DBUS_PROXY_FLAGS_DO_NOT_AUTO_START,
                                 kith_client_get_bus_name (self), path, NULL,
                                 kith_client_fetch_proxy_cb, task);
}

/* Opens @path for the agent to write; *@created says whether the file is new. */
static gint
kith_client_fetch_open_destination (const gchar *path, gboolean *created, GError **error)
{
  gint fd = g_open (path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);

  *created = fd >= 0;
  if (fd < 0 && errno == EEXIST)
    fd = g_open (path, O_WRONLY | O_TRUNC | O_CLOEXEC, 0);
  if (fd < 0) {
    gint saved_errno = errno;
    g_set_error (error, KITH_CLIENT_ERROR,
                 saved_errno == EACCES || saved_errno == EPERM ? KITH_CLIENT_ERROR_PERMISSION_DENIED
                                                                : KITH_CLIENT_ERROR_FAILED,
                 "Cannot open %s for writing: %s", path, g_strerror (saved_errno));
  }
  return fd;
}

static GVariant *
kith_client_fetch_options (const gchar *sha256, guint64 size, guint64 piece_size, const gchar *pieces,
                           KithClientFetchFlags flags)
{
  GVariantDict options;

  g_variant_dict_init (&options, NULL);
  if (pieces != NULL) {
    g_variant_dict_insert (&options, "piece-size", "t", piece_size);
    g_variant_dict_insert (&options, "pieces", "s", pieces);
  }
  if (sha256 != NULL)
    g_variant_dict_insert (&options, "sha256", "s", sha256);
  if (size > 0)
    g_variant_dict_insert (&options, "size", "t", size);
  if (flags & KITH_CLIENT_FETCH_FLAG_CACHED_ONLY)
    g_variant_dict_insert (&options, "cached-only", "b", TRUE);
  if (flags & KITH_CLIENT_FETCH_FLAG_NO_ORIGIN)
    g_variant_dict_insert (&options, "no-origin", "b", TRUE);
  return g_variant_dict_end (&options);
}

void
kith_client_fetch_pieces_async (KithClient *self, const gchar *url, const gchar *destination,
                                const gchar *sha256, guint64 size, guint64 piece_size, const gchar *pieces,
                                KithClientFetchFlags flags, KithClientProgressFunc progress,
                                gpointer progress_data, GDestroyNotify progress_data_free,
                                GCancellable *cancellable, GAsyncReadyCallback callback, gpointer user_data)
{
  GTask *task; /* the operation's reference, dropped by kith_client_fetch_return_*() */
  KithClientFetch *fetch;
  GError *error = NULL;
  g_autoptr (GUnixFDList) fds = NULL;
  gint fd;

  g_return_if_fail (KITH_IS_CLIENT (self));
  g_return_if_fail (url != NULL && destination != NULL);
  fetch = g_new0 (KithClientFetch, 1);
  fetch->transfer = kith_client_transfer_new (url, destination);
  fetch->progress = progress;
  fetch->progress_data = progress_data;
  fetch->progress_data_free = progress_data_free;
  task = kith_client_task_new (self, cancellable, callback, user_data, kith_client_fetch_async);
  g_task_set_task_data (task, fetch, (GDestroyNotify) kith_client_fetch_free);
  if (!kith_client_is_connected (self)) {
    kith_client_fetch_return_error (task, g_error_new_literal (KITH_CLIENT_ERROR, KITH_CLIENT_ERROR_FAILED,
                                                               "Not connected to a kith agent: call "
                                                               "kith_client_connect() first"));
    return;
  }
  if (g_cancellable_is_cancelled (cancellable)) {
    kith_client_fetch_return_cancelled (task);
    return;
  }
#ifdef G_OS_UNIX
  fd = kith_client_fetch_open_destination (destination, &fetch->created, &error);
  if (fd < 0) {
    kith_client_fetch_return_error (task, error);
    return;
  }
  fds = g_unix_fd_list_new ();
  /* the list holds its own duplicate; ours is closed either way */
  if (g_unix_fd_list_append (fds, fd, &error) < 0) {
    close (fd);
    kith_client_convert_error (self, &error);
    kith_client_fetch_return_error (task, error);
    return;
  }
  close (fd);
  kith_client_call_plugin_async (self, KITH_CLIENT_FETCH_OBJECT, KITH_CLIENT_PEERING_INTERFACE, "Fetch",
                                 g_variant_new ("(sh@a{sv})", url, 0,
                                                kith_client_fetch_options (sha256, size, piece_size, pieces, flags)),
                                 G_VARIANT_TYPE ("(o)"), fds, -1, NULL,
                                 kith_client_fetch_called_cb, task);
#else
  kith_client_fetch_return_error (task, g_error_new_literal (KITH_CLIENT_ERROR, KITH_CLIENT_ERROR_FAILED,
                                                             "Fetching needs file descriptor passing "
                                                             "(a Unix system)"));
#endif
}

void
kith_client_fetch_sized_async (KithClient *self, const gchar *url, const gchar *destination,
                               const gchar *sha256, guint64 size, KithClientFetchFlags flags,
                               KithClientProgressFunc progress, gpointer progress_data,
                               GDestroyNotify progress_data_free, GCancellable *cancellable,
                               GAsyncReadyCallback callback, gpointer user_data)
{
  kith_client_fetch_pieces_async (self, url, destination, sha256, size, 0, NULL, flags, progress, progress_data,
                                  progress_data_free, cancellable, callback, user_data);
}

void
kith_client_fetch_async (KithClient *self, const gchar *url, const gchar *destination,
                         const gchar *sha256, KithClientFetchFlags flags,
                         KithClientProgressFunc progress, gpointer progress_data,
                         GDestroyNotify progress_data_free, GCancellable *cancellable,
                         GAsyncReadyCallback callback, gpointer user_data)
{
  kith_client_fetch_sized_async (self, url, destination, sha256, 0, flags, progress, progress_data,
                                 progress_data_free, cancellable, callback, user_data);
}

KithClientTransfer *
kith_client_fetch_finish (KithClient *self, GAsyncResult *res, GError **error)
{
  g_return_val_if_fail (g_task_is_valid (res, self), NULL);
  return g_task_propagate_pointer (G_TASK (res), error);
}

KithClientTransfer *
kith_client_fetch_sized (KithClient *self, const gchar *url, const gchar *destination,
                         const gchar *sha256, guint64 size, KithClientFetchFlags flags,
                         KithClientProgressFunc progress, gpointer progress_data,
                         GCancellable *cancellable, GError **error)
{
  KithClientSync sync;
  KithClientTransfer *transfer;

  g_return_val_if_fail (KITH_IS_CLIENT (self), NULL);
  kith_client_sync_init (&sync);
  kith_client_fetch_sized_async (self, url, destination, sha256, size, flags, progress, progress_data,
                                 NULL, cancellable, kith_client_sync_done, &sync);
  transfer = kith_client_fetch_finish (self, kith_client_sync_wait (&sync), error);
  kith_client_sync_clear (&sync);
  return transfer;
}

KithClientTransfer *
kith_client_fetch (KithClient *self, const gchar *url, const gchar *destination,
                   const gchar *sha256, KithClientFetchFlags flags,
                   KithClientProgressFunc progress, gpointer progress_data,
                   GCancellable *cancellable, GError **error)
{
  return kith_client_fetch_sized (self, url, destination, sha256, 0, flags, progress, progress_data,
                                  cancellable, error);
}
