/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* kith-update-dbus.c — org.kith.Update1: properties follow the service's "changed",
 * signals are forwarded, Check() answers when the check it started or joined ends */
#include "kith-update-dbus.h"

#include "kith-dbus-generated.h"
#include "kith-update-error.h"

#define KITH_UPDATE_DBUS_PATH KITH_AGENT_DBUS_PATH "/Update"

struct _KithUpdateDbus {
  KithUpdate *update;
  KithDbus *dbus;
  KithDbusUpdate1 *skeleton;
};

static void
kith_update_dbus_sync (KithUpdate *update, KithUpdateDbus *self)
{
  g_object_freeze_notify (G_OBJECT (self->skeleton));
  kith_dbus_update1_set_state (self->skeleton,
                               kith_update_stage_to_string (kith_update_get_state (update)));
  kith_dbus_update1_set_catalog_version (self->skeleton, (guint64) kith_update_get_catalog_version (update));
  kith_dbus_update1_set_installed (self->skeleton, kith_update_get_installed (update));
  kith_dbus_update1_set_last_check (self->skeleton, kith_update_get_last_check (update));
  kith_dbus_update1_set_last_result (self->skeleton, kith_update_get_last_result (update));
  kith_dbus_update1_set_next_check (self->skeleton, kith_update_get_next_check (update));
  g_object_thaw_notify (G_OBJECT (self->skeleton));
}

static void
kith_update_dbus_file_progress (KithUpdate *update, const gchar *name, const gchar *source,
                                guint64 done, guint64 total, KithUpdateDbus *self)
{
  kith_dbus_update1_emit_file_progress (self->skeleton, name, source, done, total);
}

static void
kith_update_dbus_set_installed (KithUpdate *update, gint64 version, GVariant *files,
                                KithUpdateDbus *self)
{
  /* properties first, so a client reacting to the signal reads the new set */
  kith_update_dbus_sync (update, self);
  kith_dbus_update1_emit_set_installed (self->skeleton, (guint64) version, files);
}

static void
kith_update_dbus_check_done (GObject *source, GAsyncResult *result, gpointer user_data)
{
  g_autoptr (GDBusMethodInvocation) invocation = user_data;
  g_autoptr (GError) error = NULL;
  g_autofree gchar *message = kith_update_check_finish (KITH_UPDATE (source), result, &error);

  if (message == NULL) {
    kith_agent_error_return (g_steal_pointer (&invocation), kith_update_error_to_agent (error), error);
    return;
  }
  g_dbus_method_invocation_return_value (g_steal_pointer (&invocation), g_variant_new ("(s)", message));
}

static gboolean
kith_update_dbus_handle_check (KithDbusUpdate1 *skeleton, GDBusMethodInvocation *invocation,
                               KithUpdateDbus *self)
{
  kith_update_check_async (self->update, kith_update_dbus_check_done, g_object_ref (invocation));
  return G_DBUS_METHOD_INVOCATION_HANDLED;
}

KithUpdateDbus *
kith_update_dbus_new (KithUpdate *update, KithDbus *dbus)
{
  KithUpdateDbus *self = g_new0 (KithUpdateDbus, 1);

  self->update = g_object_ref (update);
  self->dbus = dbus;
  self->skeleton = kith_dbus_update1_skeleton_new ();
  kith_update_dbus_sync (update, self);
  g_signal_connect (update, "changed", G_CALLBACK (kith_update_dbus_sync), self);
  g_signal_connect (update, "file-progress", G_CALLBACK (kith_update_dbus_file_progress), self);
  g_signal_connect (update, "set-installed", G_CALLBACK (kith_update_dbus_set_installed), self);
  g_signal_connect (self->skeleton, "handle-check", G_CALLBACK (kith_update_dbus_handle_check), self);
  kith_dbus_export (dbus, G_DBUS_INTERFACE_SKELETON (self->skeleton), KITH_UPDATE_DBUS_PATH);
  return self;
}

void
kith_update_dbus_free (KithUpdateDbus *self)
{
  if (self == NULL)
    return;
  g_signal_handlers_disconnect_by_data (self->update, self);
  g_signal_handlers_disconnect_by_data (self->skeleton, self);
  kith_dbus_unexport (self->dbus, G_DBUS_INTERFACE_SKELETON (self->skeleton));
  g_object_unref (self->skeleton);
  g_object_unref (self->update);
  g_free (self);
}
