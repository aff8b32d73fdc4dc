/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* kith-client-update.c — org.kith.Update1 for applications: properties, Check() with
 * per-file progress from the FileProgress signal */
#include "kith-client-update.h"

#include "kith-client-private.h"

#define KITH_CLIENT_UPDATE_OBJECT "Update"
#define KITH_CLIENT_UPDATE_INTERFACE "org.kith.Update1"

void
kith_client_update_status_free (KithClientUpdateStatus *status)
{
  if (status == NULL)
    return;
  g_free (status->state);
  g_free (status->last_result);
  g_clear_pointer (&status->installed, g_hash_table_unref);
  g_free (status);
}

KithClientUpdateStatus *
kith_client_update_status_copy (const KithClientUpdateStatus *status)
{
  KithClientUpdateStatus *copy = g_memdup2 (status, sizeof *status);
  GHashTableIter iter;
  gpointer key, value;

  copy->state = g_strdup (status->state);
  copy->last_result = g_strdup (status->last_result);
  copy->installed = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
  if (status->installed != NULL) {
    g_hash_table_iter_init (&iter, status->installed);
    while (g_hash_table_iter_next (&iter, &key, &value))
      g_hash_table_insert (copy->installed, g_strdup (key), g_strdup (value));
  }
  return copy;
}

G_DEFINE_BOXED_TYPE (KithClientUpdateStatus, kith_client_update_status, kith_client_update_status_copy,
                     kith_client_update_status_free)

static void
kith_client_update_get_all_cb (GObject *source, GAsyncResult *res, gpointer user_data)
{
  g_autoptr (GTask) task = user_data;
  g_autoptr (GError) error = NULL;
  g_autoptr (GVariant) reply = kith_client_call_plugin_finish (KITH_CLIENT (source), res, NULL, &error);
  g_autoptr (GVariant) props = NULL;
  g_autoptr (GVariant) installed = NULL;
  KithClientUpdateStatus *status;
  GVariantIter iter;
  const gchar *name, *version;

  if (reply == NULL) {
    g_task_return_error (task, g_steal_pointer (&error));
    return;
  }
  props = g_variant_get_child_value (reply, 0);
  status = g_new0 (KithClientUpdateStatus, 1);
  status->installed = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
  if (!g_variant_lookup (props, "State", "s", &status->state))
    status->state = g_strdup ("");
  if (!g_variant_lookup (props, "LastResult", "s", &status->last_result))
    status->last_result = g_strdup ("");
  g_variant_lookup (props, "CatalogVersion", "t", &status->catalog_version);
  g_variant_lookup (props, "LastCheck", "x", &status->last_check);
  g_variant_lookup (props, "NextCheck", "x", &status->next_check);
  installed = g_variant_lookup_value (props, "Installed", G_VARIANT_TYPE ("a{ss}"));
  if (installed != NULL) {
    g_variant_iter_init (&iter, installed);
    while (g_variant_iter_next (&iter, "{&s&s}", &name, &version))
      g_hash_table_insert (status->installed, g_strdup (name), g_strdup (version));
  }
  g_task_return_pointer (task, status, (GDestroyNotify) kith_client_update_status_free);
}

void
kith_client_update_get_status_async (KithClient *self, GCancellable *cancellable,
                                     GAsyncReadyCallback callback, gpointer user_data)
{
  GTask *task = kith_client_task_new (self, cancellable, callback, user_data,
                                      kith_client_update_get_status_async);

  kith_client_call_plugin_async (self, KITH_CLIENT_UPDATE_OBJECT, "org.freedesktop.DBus.Properties",
                                 "GetAll", g_variant_new ("(s)", KITH_CLIENT_UPDATE_INTERFACE),
                                 G_VARIANT_TYPE ("(a{sv})"), NULL, -1, cancellable,
                                 kith_client_update_get_all_cb, task);
}

KithClientUpdateStatus *
kith_client_update_get_status_finish (KithClient *self, GAsyncResult *res, GError **error)
{
  g_return_val_if_fail (g_task_is_valid (res, self), NULL);
  return g_task_propagate_pointer (G_TASK (res), error);
}

typedef struct {
  KithClient *client;
  KithClientUpdateProgressFunc progress;
  gpointer progress_data;
  guint subscription;
} KithClientUpdateCheck;

static void
kith_client_update_check_free (KithClientUpdateCheck *check)
{
  if (check->subscription != 0)
    kith_client_unsubscribe_plugin_signal (check->client, check->subscription);
  g_object_unref (check->client);
  g_free (check);
}

static void
kith_client_update_file_progress (GDBusConnection *connection, const gchar *sender, const gchar *path,
                                  const gchar *interface_name, const gchar *signal_name,
                                  GVariant *parameters, gpointer user_data)
{
  KithClientUpdateCheck *check = user_data;
  const gchar *name, *source;
  guint64 done, total;

  if (check->progress == NULL || !g_variant_is_of_type (parameters, G_VARIANT_TYPE ("(sstt)")))
    return;
  g_variant_get (parameters, "(&s&stt)", &name, &source, &done, &total);
  check->progress (name, source, done, total, check->progress_data);
}

static void
kith_client_update_check_cb (GObject *source, GAsyncResult *res, gpointer user_data)
{
  g_autoptr (GTask) task = user_data;
  g_autoptr (GError) error = NULL;
  g_autoptr (GVariant) reply = kith_client_call_plugin_finish (KITH_CLIENT (source), res, NULL, &error);
  gchar *result = NULL;

  if (reply == NULL) {
    g_task_return_error (task, g_steal_pointer (&error));
    return;
  }
  g_variant_get (reply, "(s)", &result);
  g_task_return_pointer (task, result, g_free);
}

void
kith_client_update_check_async (KithClient *self, KithClientUpdateProgressFunc progress,
                                gpointer progress_data, GCancellable *cancellable,
                                GAsyncReadyCallback callback, gpointer user_data)
{
  GTask *task = kith_client_task_new (self, cancellable, callback, user_data,
                                      kith_client_update_check_async);
  KithClientUpdateCheck *check = g_new0 (KithClientUpdateCheck, 1);

  check->client = g_object_ref (self);
  check->progress = progress;
  check->progress_data = progress_data;
  g_task_set_task_data (task, check, (GDestroyNotify) kith_client_update_check_free);
  /* subscribe before calling, so not one progress signal is missed */
  if (kith_client_get_connection (self) != NULL)
    check->subscription = kith_client_subscribe_plugin_signal (self, KITH_CLIENT_UPDATE_OBJECT,
                                                               KITH_CLIENT_UPDATE_INTERFACE, "FileProgress",
                                                               kith_client_update_file_progress, check, NULL);
  /* no timeout: a check over a slow uplink takes as long as the files take */
  kith_client_call_plugin_async (self, KITH_CLIENT_UPDATE_OBJECT, KITH_CLIENT_UPDATE_INTERFACE, "Check",
                                 NULL, G_VARIANT_TYPE ("(s)"), NULL, G_MAXINT, cancellable,
                                 kith_client_update_check_cb, task);
}

gchar *
kith_client_update_check_finish (KithClient *self, GAsyncResult *res, GError **error)
{
  g_return_val_if_fail (g_task_is_valid (res, self), NULL);
  return g_task_propagate_pointer (G_TASK (res), error);
}

KithClientUpdateStatus *
kith_client_update_get_status (KithClient *self, GCancellable *cancellable, GError **error)
{
  KithClientSync sync;
  KithClientUpdateStatus *status;

  g_return_val_if_fail (KITH_IS_CLIENT (self), NULL);
  kith_client_sync_init (&sync);
  kith_client_update_get_status_async (self, cancellable, kith_client_sync_done, &sync);
  status = kith_client_update_get_status_finish (self, kith_client_sync_wait (&sync), error);
  kith_client_sync_clear (&sync);
  return status;
}

gchar *
kith_client_update_check (KithClient *self, KithClientUpdateProgressFunc progress,
                          gpointer progress_data, GCancellable *cancellable, GError **error)
{
  KithClientSync sync;
  gchar *result;

  g_return_val_if_fail (KITH_IS_CLIENT (self), NULL);
  kith_client_sync_init (&sync);
  kith_client_update_check_async (self, progress, progress_data, cancellable, kith_client_sync_done, &sync);
  result = kith_client_update_check_finish (self, kith_client_sync_wait (&sync), error);
  kith_client_sync_clear (&sync);
  return result;
}
