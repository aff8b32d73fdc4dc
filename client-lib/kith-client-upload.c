/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* kith-client-upload.c — org.kith.Upload1 for applications: properties, Upload(h, a{sv})
 * and waiting for the report's receipt (the ReportDelivered signal) */
#include "kith-client-upload.h"

#include "kith-client-private.h"

#include <errno.h>
#include <fcntl.h>
#include <glib/gstdio.h>
#ifdef G_OS_UNIX
#include <gio/gunixfdlist.h>
#include <unistd.h>
#endif

#define KITH_CLIENT_UPLOAD_OBJECT "Upload"
#define KITH_CLIENT_UPLOAD_INTERFACE "org.kith.Upload1"

void
kith_client_upload_report_free (KithClientUploadReport *report)
{
  if (report == NULL)
    return;
  g_free (report->name);
  g_free (report->state);
  g_free (report->last_error);
  g_free (report);
}

KithClientUploadReport *
kith_client_upload_report_copy (const KithClientUploadReport *report)
{
  KithClientUploadReport *copy = g_new0 (KithClientUploadReport, 1);

  copy->name = g_strdup (report->name);
  copy->state = g_strdup (report->state);
  copy->attempts = report->attempts;
  copy->last_error = g_strdup (report->last_error);
  return copy;
}

G_DEFINE_BOXED_TYPE (KithClientUploadReport, kith_client_upload_report, kith_client_upload_report_copy,
                     kith_client_upload_report_free)

void
kith_client_upload_blacklisted_free (KithClientUploadBlacklisted *entry)
{
  if (entry == NULL)
    return;
  g_free (entry->node);
  g_free (entry->reason);
  g_free (entry);
}

KithClientUploadBlacklisted *
kith_client_upload_blacklisted_copy (const KithClientUploadBlacklisted *entry)
{
  KithClientUploadBlacklisted *copy = g_memdup2 (entry, sizeof *entry);

  copy->node = g_strdup (entry->node);
  copy->reason = g_strdup (entry->reason);
  return copy;
}

G_DEFINE_BOXED_TYPE (KithClientUploadBlacklisted, kith_client_upload_blacklisted,
                     kith_client_upload_blacklisted_copy, kith_client_upload_blacklisted_free)

void
kith_client_upload_status_free (KithClientUploadStatus *status)
{
  if (status == NULL)
    return;
  g_ptr_array_unref (status->pending);
  g_ptr_array_unref (status->blacklist);
  g_free (status);
}

static GPtrArray *
kith_client_upload_copy_array (GPtrArray *array, GBoxedCopyFunc copy, GDestroyNotify free_func)
{
  GPtrArray *result = g_ptr_array_new_full (array->len, free_func);

  for (guint i = 0; i < array->len; i++)
    g_ptr_array_add (result, copy (g_ptr_array_index (array, i)));
  return result;
}

KithClientUploadStatus *
kith_client_upload_status_copy (const KithClientUploadStatus *status)
{
  KithClientUploadStatus *copy = g_new0 (KithClientUploadStatus, 1);

  copy->pending = kith_client_upload_copy_array (status->pending, (GBoxedCopyFunc) kith_client_upload_report_copy,
                                                 (GDestroyNotify) kith_client_upload_report_free);
  copy->blacklist = kith_client_upload_copy_array (status->blacklist,
                                                   (GBoxedCopyFunc) kith_client_upload_blacklisted_copy,
                                                   (GDestroyNotify) kith_client_upload_blacklisted_free);
  copy->delivered = status->delivered;
  return copy;
}

G_DEFINE_BOXED_TYPE (KithClientUploadStatus, kith_client_upload_status, kith_client_upload_status_copy,
                     kith_client_upload_status_free)

static KithClientUploadStatus *
kith_client_upload_status_from_props (GVariant *props)
{
  KithClientUploadStatus *status = g_new0 (KithClientUploadStatus, 1);
  g_autoptr (GVariant) pending = g_variant_lookup_value (props, "Pending", G_VARIANT_TYPE ("a(ssus)"));
  g_autoptr (GVariant) blacklist = g_variant_lookup_value (props, "Blacklist", G_VARIANT_TYPE ("a(sstt)"));
  GVariantIter iter;
  const gchar *a, *b, *why;
  guint32 attempts;
  guint64 since, until;

  status->pending = g_ptr_array_new_with_free_func ((GDestroyNotify) kith_client_upload_report_free);
  status->blacklist = g_ptr_array_new_with_free_func ((GDestroyNotify) kith_client_upload_blacklisted_free);
  g_variant_lookup (props, "Delivered", "t", &status->delivered);
  if (pending != NULL) {
    g_variant_iter_init (&iter, pending);
    while (g_variant_iter_next (&iter, "(&s&su&s)", &a, &b, &attempts, &why)) {
      KithClientUploadReport *report = g_new0 (KithClientUploadReport, 1);
      report->name = g_strdup (a);
      report->state = g_strdup (b);
      report->attempts = attempts;
      report->last_error = *why != '\0' ? g_strdup (why) : NULL;
      g_ptr_array_add (status->pending, report);
    }
  }
  if (blacklist != NULL) {
    g_variant_iter_init (&iter, blacklist);
    while (g_variant_iter_next (&iter, "(&s&stt)", &a, &b, &since, &until)) {
      KithClientUploadBlacklisted *entry = g_new0 (KithClientUploadBlacklisted, 1);
      entry->node = g_strdup (a);
      entry->reason = g_strdup (b);
      entry->since = (gint64) since;
      entry->until = (gint64) until;
      g_ptr_array_add (status->blacklist, entry);
    }
  }
  return status;
}

static void
kith_client_upload_get_all_cb (GObject *source, GAsyncResult *res, gpointer user_data)
{
  g_autoptr (GTask) task = user_data;
  g_autoptr (GError) error = NULL;
  g_autoptr (GVariant) reply = kith_client_call_plugin_finish (KITH_CLIENT (source), res, NULL, &error);
  g_autoptr (GVariant) props = NULL;

  if (reply == NULL) {
    g_task_return_error (task, g_steal_pointer (&error));
    return;
  }
  props = g_variant_get_child_value (reply, 0);
  g_task_return_pointer (task, kith_client_upload_status_from_props (props),
                         (GDestroyNotify) kith_client_upload_status_free);
}

void
kith_client_upload_get_status_async (KithClient *self, GCancellable *cancellable, GAsyncReadyCallback callback,
                                     gpointer user_data)
{
  GTask *task = kith_client_task_new (self, cancellable, callback, user_data,
                                      kith_client_upload_get_status_async);

  kith_client_call_plugin_async (self, KITH_CLIENT_UPLOAD_OBJECT, "org.freedesktop.DBus.Properties", "GetAll",
                                 g_variant_new ("(s)", KITH_CLIENT_UPLOAD_INTERFACE), G_VARIANT_TYPE ("(a{sv})"), NULL,
                                 -1, cancellable, kith_client_upload_get_all_cb, task);
}

KithClientUploadStatus *
kith_client_upload_get_status_finish (KithClient *self, GAsyncResult *res, GError **error)
{
  g_return_val_if_fail (g_task_is_valid (res, self), NULL);
  return g_task_propagate_pointer (G_TASK (res), error);
}

static void
kith_client_upload_cancel_cb (GObject *source, GAsyncResult *res, gpointer user_data)
{
  g_autoptr (GTask) task = user_data;
  g_autoptr (GError) error = NULL;
  g_autoptr (GVariant) reply = kith_client_call_plugin_finish (KITH_CLIENT (source), res, NULL, &error);

  if (reply == NULL)
    g_task_return_error (task, g_steal_pointer (&error));
  else
    g_task_return_boolean (task, TRUE);
}

void
kith_client_upload_cancel_async (KithClient *self, const gchar *name, GCancellable *cancellable,
                                 GAsyncReadyCallback callback, gpointer user_data)
{
  GTask *task = kith_client_task_new (self, cancellable, callback, user_data, kith_client_upload_cancel_async);

  kith_client_call_plugin_async (self, KITH_CLIENT_UPLOAD_OBJECT, KITH_CLIENT_UPLOAD_INTERFACE, "Cancel",
                                 g_variant_new ("(s)", name), G_VARIANT_TYPE ("()"), NULL, -1, cancellable,
                                 kith_client_upload_cancel_cb, task);
}

gboolean
kith_client_upload_cancel_finish (KithClient *self, GAsyncResult *res, GError **error)
{
  g_return_val_if_fail (g_task_is_valid (res, self), FALSE);
  return g_task_propagate_boolean (G_TASK (res), error);
}

gboolean
kith_client_upload_cancel (KithClient *self, const gchar *name, GCancellable *cancellable, GError **error)
{
  KithClientSync sync;
  gboolean ok;

  g_return_val_if_fail (KITH_IS_CLIENT (self), FALSE);
  g_return_val_if_fail (name != NULL, FALSE);
  kith_client_sync_init (&sync);
  kith_client_upload_cancel_async (self, name, cancellable, kith_client_sync_done, &sync);
  ok = kith_client_upload_cancel_finish (self, kith_client_sync_wait (&sync), error);
  kith_client_sync_clear (&sync);
  return ok;
}

typedef struct {
  KithClient *client;
  gboolean wait;
  gchar *upload_id;  /* NULL until Upload returned */
  gchar *receipt;    /* a delivery seen before Upload returned */
  gchar *early_id;
  guint subscription;
} KithClientUploadCall;

static void
kith_client_upload_call_free (KithClientUploadCall *call)
{
  if (call->subscription != 0)
    kith_client_unsubscribe_plugin_signal (call->client, call->subscription);
  g_object_unref (call->client);
  g_free (call->upload_id);
  g_free (call->receipt);
  g_free (call->early_id);
  g_free (call);
}

static void
kith_client_upload_delivered (GDBusConnection *connection, const gchar *sender, const gchar *path,
                              const gchar *interface_name, const gchar *signal_name, GVariant *parameters,
                              gpointer user_data)
{
  GTask *task = user_data;
  KithClientUploadCall *call = g_task_get_task_data (task);
  const gchar *id, *receipt;

  if (!g_variant_is_of_type (parameters, G_VARIANT_TYPE ("(ss)")))
    return;
  g_variant_get (parameters, "(&s&s)", &id, &receipt);
  if (call->upload_id == NULL) {
    /* delivered before Upload's reply reached us: keep it for when it does */
    g_free (call->early_id);
    g_free (call->receipt);
    call->early_id = g_strdup (id);
    call->receipt = g_strdup (receipt);
    return;
  }
  if (g_strcmp0 (id, call->upload_id) != 0)
    return;
  g_task_return_pointer (task, g_strdup (receipt), g_free);
  g_object_unref (task);
}

static void
kith_client_upload_call_cb (GObject *source, GAsyncResult *res, gpointer user_data)
{
  GTask *task = user_data;
  KithClientUploadCall *call = g_task_get_task_data (task);
  g_autoptr (GError) error = NULL;
  g_autoptr (GVariant) reply = kith_client_call_plugin_finish (KITH_CLIENT (source), res, NULL, &error);

  if (reply == NULL) {
    g_task_return_error (task, g_steal_pointer (&error));
    g_object_unref (task);
    return;
  }
  g_variant_get (reply, "(s)", &call->upload_id);
  if (!call->wait) {
    g_task_return_pointer (task, g_strdup (call->upload_id), g_free);
    g_object_unref (task);
  } else if (g_strcmp0 (call->early_id, call->upload_id) == 0) {
    g_task_return_pointer (task, g_steal_pointer (&call->receipt), g_free);
    g_object_unref (task);
  }
  /* else the ReportDelivered signal finishes the task */
}

void
kith_client_upload_file_async (KithClient *self, const gchar *path, gboolean wait, GCancellable *cancellable,
                               GAsyncReadyCallback callback, gpointer user_data)
{
  GTask *task = kith_client_task_new (self, cancellable, callback, user_data, kith_client_upload_file_async);
#ifdef G_OS_UNIX
  KithClientUploadCall *call = g_new0 (KithClientUploadCall, 1);
  g_autoptr (GUnixFDList) fds = g_unix_fd_list_new ();
  g_autoptr (GError) error = NULL;
  g_autofree gchar *name = g_path_get_basename (path);
  GVariantDict options;
  gint fd;

  call->client = g_object_ref (self);
  call->wait = wait;
  g_task_set_task_data (task, call, (GDestroyNotify) kith_client_upload_call_free);
  fd = g_open (path, O_RDONLY | O_CLOEXEC, 0);
  if (fd < 0) {
    g_task_return_new_error (task, KITH_CLIENT_ERROR, KITH_CLIENT_ERROR_INVALID_ARGS, "cannot open %s: %s", path,
                             g_strerror (errno));
    g_object_unref (task);
    return;
  }
  g_unix_fd_list_append (fds, fd, &error);
  close (fd);
  /* subscribe before calling, so a quick delivery is not missed */
  if (wait && kith_client_get_connection (self) != NULL)
    call->subscription = kith_client_subscribe_plugin_signal (self, KITH_CLIENT_UPLOAD_OBJECT,
                                                              KITH_CLIENT_UPLOAD_INTERFACE, "ReportDelivered",
                                                              kith_client_upload_delivered, task, NULL);
  g_variant_dict_init (&options, NULL);
  g_variant_dict_insert (&options, "name", "s", name);
  kith_client_call_plugin_async (self, KITH_CLIENT_UPLOAD_OBJECT, KITH_CLIENT_UPLOAD_INTERFACE, "Upload",
                                 g_variant_new ("(h@a{sv})", 0, g_variant_dict_end (&options)),
                                 G_VARIANT_TYPE ("(s)"), fds, -1, cancellable, kith_client_upload_call_cb, task);
#else
  g_task_return_new_error (task, KITH_CLIENT_ERROR, KITH_CLIENT_ERROR_FAILED, "uploads need fd passing (POSIX)");
  g_object_unref (task);
#endif
}

gchar *
kith_client_upload_file_finish (KithClient *self, GAsyncResult *res, GError **error)
{
  g_return_val_if_fail (g_task_is_valid (res, self), NULL);
  return g_task_propagate_pointer (G_TASK (res), error);
}

KithClientUploadStatus *
kith_client_upload_get_status (KithClient *self, GCancellable *cancellable, GError **error)
{
  KithClientSync sync;
  KithClientUploadStatus *status;

  g_return_val_if_fail (KITH_IS_CLIENT (self), NULL);
  kith_client_sync_init (&sync);
  kith_client_upload_get_status_async (self, cancellable, kith_client_sync_done, &sync);
  status = kith_client_upload_get_status_finish (self, kith_client_sync_wait (&sync), error);
  kith_client_sync_clear (&sync);
  return status;
}

gchar *
kith_client_upload_file (KithClient *self, const gchar *path, gboolean wait, GCancellable *cancellable,
                         GError **error)
{
  KithClientSync sync;
  gchar *result;

  g_return_val_if_fail (KITH_IS_CLIENT (self), NULL);
  kith_client_sync_init (&sync);
  kith_client_upload_file_async (self, path, wait, cancellable, kith_client_sync_done, &sync);
  result = kith_client_upload_file_finish (self, kith_client_sync_wait (&sync), error);
  kith_client_sync_clear (&sync);
  return result;
}
