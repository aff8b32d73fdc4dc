/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* kith-upload-dbus.c — org.kith.Upload1: Upload(h, a{sv}), GetReceipt, Cancel, Pending, Delivered,
 * Blacklist and their signals */
#include "kith-upload-dbus.h"

#include "kith-dbus-generated.h"
#include "kith-upload-error.h"

#ifdef G_OS_UNIX
#include <gio/gunixfdlist.h>
#endif

struct _KithUploadDbus {
  KithUpload *upload;
  KithDbus *dbus;
  KithDbusUpload1 *skeleton;
};

static GVariant *
kith_upload_dbus_blacklist (KithUpload *upload)
{
  g_autoptr (GPtrArray) live =
      kith_upload_blacklist_list (kith_upload_get_blacklist (upload), g_get_real_time () / G_USEC_PER_SEC);
  GVariantBuilder builder;

  g_variant_builder_init (&builder, G_VARIANT_TYPE ("a(sstt)"));
  for (guint i = 0; i < live->len; i++) {
    KithBlacklistEntry *entry = g_ptr_array_index (live, i);
    g_variant_builder_add (&builder, "(sstt)", entry->node, entry->reason, (guint64) entry->since,
                           (guint64) entry->until);
  }
  return g_variant_builder_end (&builder);
}

static void
kith_upload_dbus_mirror (KithUploadDbus *self)
{
  g_object_freeze_notify (G_OBJECT (self->skeleton));
  kith_dbus_upload1_set_pending (self->skeleton, kith_upload_get_pending (self->upload));
  kith_dbus_upload1_set_delivered (self->skeleton, kith_upload_get_delivered (self->upload));
  kith_dbus_upload1_set_blacklist (self->skeleton, kith_upload_dbus_blacklist (self->upload));
  g_object_thaw_notify (G_OBJECT (self->skeleton));
}

static void
kith_upload_dbus_changed_cb (KithUpload *upload, KithUploadDbus *self)
{
  kith_upload_dbus_mirror (self);
}

static void
kith_upload_dbus_delivered_cb (KithUpload *upload, const gchar *upload_id, const gchar *receipt, KithUploadDbus *self)
{
  kith_upload_dbus_mirror (self);
  kith_dbus_upload1_emit_report_delivered (self->skeleton, upload_id, receipt != NULL ? receipt : "");
}

static void
kith_upload_dbus_blacklisted_cb (KithUpload *upload, const gchar *node, const gchar *reason, KithUploadDbus *self)
{
  kith_upload_dbus_mirror (self);
  kith_dbus_upload1_emit_node_blacklisted (self->skeleton, node, reason);
}

static void
kith_upload_dbus_added_cb (GObject *source, GAsyncResult *res, gpointer user_data)
{
  GDBusMethodInvocation *invocation = user_data; /* the call's own ref: returning takes it */
  g_autoptr (GError) error = NULL;
  g_autofree gchar *upload_id = kith_upload_add_finish (KITH_UPLOAD (source), res, &error);

  if (upload_id == NULL)
    kith_agent_error_return (invocation, kith_upload_error_to_agent (error), error);
  else
    g_dbus_method_invocation_return_value (invocation, g_variant_new ("(s)", upload_id));
}

/* The report is read asynchronously: a writer that never writes holds only its own call. */
static gboolean
kith_upload_dbus_handle_upload (KithDbusUpload1 *skeleton, GDBusMethodInvocation *invocation, GVariant *handle,
                                GVariant *options, KithUploadDbus *self)
{
#ifdef G_OS_UNIX
  GUnixFDList *fds = g_dbus_message_get_unix_fd_list (g_dbus_method_invocation_get_message (invocation));
  g_autoptr (GError) error = NULL;
  const gchar *name = NULL;
  gint fd;

  if (fds == NULL || g_variant_get_handle (handle) >= g_unix_fd_list_get_length (fds)) {
    g_dbus_method_invocation_return_error_literal (invocation, KITH_AGENT_ERROR, KITH_AGENT_ERROR_INVALID_ARGS,
                                                   "Upload needs a file descriptor opened for reading");
    return TRUE;
  }
  fd = g_unix_fd_list_get (fds, g_variant_get_handle (handle), &error);
  if (fd < 0) {
    kith_agent_error_return (invocation, kith_upload_error_to_agent (error), error);
    return TRUE;
  }
  g_variant_lookup (options, "name", "&s", &name);
  kith_upload_add_async (self->upload, fd, name, kith_upload_dbus_added_cb, invocation);
#else
  g_dbus_method_invocation_return_error_literal (invocation, KITH_AGENT_ERROR, KITH_AGENT_ERROR_FAILED,
                                                 "Upload needs file descriptor passing (a POSIX system)");
#endif
  return TRUE;
}

static gboolean
kith_upload_dbus_handle_get_receipt (KithDbusUpload1 *skeleton, GDBusMethodInvocation *invocation,
                                     const gchar *upload_id, KithUploadDbus *self)
{
  g_autofree gchar *receipt = kith_upload_get_receipt (self->upload, upload_id);

  if (receipt == NULL) {
    g_dbus_method_invocation_return_error (invocation, KITH_AGENT_ERROR, KITH_AGENT_ERROR_NOT_FOUND,
                                           "no receipt for upload %s (yet)", upload_id);
    return TRUE;
  }
  kith_dbus_upload1_complete_get_receipt (skeleton, invocation, receipt);
  return TRUE;
}

static gboolean
kith_upload_dbus_handle_cancel (KithDbusUpload1 *skeleton, GDBusMethodInvocation *invocation, const gchar *name,
                                KithUploadDbus *self)
{
  g_autoptr (GError) error = NULL;

  if (!kith_upload_cancel (self->upload, name, &error)) {
    kith_agent_error_return (invocation, kith_upload_error_to_agent (error), error);
    return TRUE;
  }
  kith_dbus_upload1_complete_cancel (skeleton, invocation);
  return TRUE;
}

KithUploadDbus *
kith_upload_dbus_new (KithUpload *upload, KithDbus *dbus)
{
  KithUploadDbus *self = g_new0 (KithUploadDbus, 1);

  self->upload = g_object_ref (upload);
  self->dbus = dbus;
  self->skeleton = kith_dbus_upload1_skeleton_new ();
  kith_upload_dbus_mirror (self);
  g_signal_connect (self->skeleton, "handle-upload", G_CALLBACK (kith_upload_dbus_handle_upload), self);
  g_signal_connect (self->skeleton, "handle-get-receipt", G_CALLBACK (kith_upload_dbus_handle_get_receipt), self);
  g_signal_connect (self->skeleton, "handle-cancel", G_CALLBACK (kith_upload_dbus_handle_cancel), self);
  g_signal_connect (upload, "changed", G_CALLBACK (kith_upload_dbus_changed_cb), self);
  g_signal_connect (upload, "delivered", G_CALLBACK (kith_upload_dbus_delivered_cb), self);
  g_signal_connect (upload, "blacklisted", G_CALLBACK (kith_upload_dbus_blacklisted_cb), self);
  kith_dbus_export (dbus, G_DBUS_INTERFACE_SKELETON (self->skeleton), KITH_UPLOAD_DBUS_PATH);
  return self;
}

void
kith_upload_dbus_free (KithUploadDbus *self)
{
  if (self == NULL)
    return;
  g_signal_handlers_disconnect_by_data (self->upload, self);
  g_signal_handlers_disconnect_by_data (self->skeleton, self);
  kith_dbus_unexport (self->dbus, G_DBUS_INTERFACE_SKELETON (self->skeleton));
  g_object_unref (self->skeleton);
  g_object_unref (self->upload);
  g_free (self);
}
