/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* kith-fetch-transfers.c — the transfers one fetch job serves */
#include "kith-fetch-transfers.h"

struct _KithFetchTransfers {
  GPtrArray *transfers; /* KithTransfer* */
  KithFetchTransfersCancelledFunc cancelled;
  gpointer user_data;
  guint cancel_idle_id;
};

KithFetchTransfers *
kith_fetch_transfers_new (KithFetchTransfersCancelledFunc cancelled, gpointer user_data)
{
  KithFetchTransfers *self = g_new0 (KithFetchTransfers, 1);

  self->transfers = g_ptr_array_new_with_free_func (g_object_unref);
  self->cancelled = cancelled;
  self->user_data = user_data;
  return self;
}

void
kith_fetch_transfers_free (KithFetchTransfers *self)
{
  for (guint i = 0; i < self->transfers->len; i++) {
    KithTransfer *transfer = g_ptr_array_index (self->transfers, i);
    g_signal_handlers_disconnect_by_data (kith_transfer_get_cancellable (transfer), self);
  }
  g_clear_handle_id (&self->cancel_idle_id, g_source_remove);
  g_ptr_array_unref (self->transfers);
  g_free (self);
}

/* When every transfer has been cancelled (or finished otherwise), the owner hears of it. */
static gboolean
kith_fetch_transfers_collect_cancelled (gpointer user_data)
{
  KithFetchTransfers *self = user_data;

  self->cancel_idle_id = 0;
  for (guint i = 0; i < self->transfers->len; i++) {
    if (!kith_transfer_is_finished (g_ptr_array_index (self->transfers, i)))
      return G_SOURCE_REMOVE;
  }
  self->cancelled (self->user_data); /* may free @self */
  return G_SOURCE_REMOVE;
}

static void
kith_fetch_transfers_transfer_cancelled (GCancellable *cancellable, KithFetchTransfers *self)
{
  g_autoptr (GError) error = g_error_new_literal (G_IO_ERROR, G_IO_ERROR_CANCELLED,
                                                 "the transfer was cancelled");

  for (guint i = 0; i < self->transfers->len; i++) {
    KithTransfer *transfer = g_ptr_array_index (self->transfers, i);
    if (kith_transfer_get_cancellable (transfer) == cancellable &&
        !kith_transfer_is_finished (transfer))
      kith_transfer_fail (transfer, error);
  }
  if (self->cancel_idle_id == 0)
    self->cancel_idle_id = g_idle_add (kith_fetch_transfers_collect_cancelled, self);
}

void
kith_fetch_transfers_add (KithFetchTransfers *self, KithTransfer *transfer)
{
  g_ptr_array_add (self->transfers, g_object_ref (transfer));
  g_signal_connect (kith_transfer_get_cancellable (transfer), "cancelled",
                    G_CALLBACK (kith_fetch_transfers_transfer_cancelled), self);
}

void
kith_fetch_transfers_publish (KithFetchTransfers *self, const gchar *source, guint64 done, guint64 total,
                              KithTransferState state)
{
  for (guint i = 0; i < self->transfers->len; i++) {
    KithTransfer *transfer = g_ptr_array_index (self->transfers, i);
    if (kith_transfer_is_finished (transfer))
      continue;
    kith_transfer_set_source (transfer, source);
    kith_transfer_set_progress (transfer, done, total);
    kith_transfer_set_state (transfer, state);
  }
}

void
kith_fetch_transfers_finish (KithFetchTransfers *self, const gchar *source, const KithAliasEntry *entry,
                             const GError *error)
{
  g_autoptr (GPtrArray) transfers = g_ptr_array_ref (self->transfers);

  for (guint i = 0; i < transfers->len; i++) {
    KithTransfer *transfer = g_ptr_array_index (transfers, i);
    if (kith_transfer_is_finished (transfer))
      continue;
    if (entry != NULL) {
      kith_transfer_set_source (transfer, source);
      kith_transfer_set_progress (transfer, entry->size, entry->size);
      kith_transfer_complete (transfer, entry->path, entry->sha256);
    } else {
      kith_transfer_fail (transfer, error);
    }
  }
}
