/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* kith-fetch-transfers.h — the transfers a fetch job serves (one per caller riding along),
 * which mirror its state and end with it; when every one was cancelled, the job stops */
#pragma once

#include "kith-alias-store.h"
#include "kith-transfer.h"

G_BEGIN_DECLS

typedef struct _KithFetchTransfers KithFetchTransfers;

/* Every transfer of the table is finished, at least one by a cancellation: called from an
 * idle (a cancellation can happen inside the job's own callbacks); the table may be freed
 * from here. */
typedef void (*KithFetchTransfersCancelledFunc) (gpointer user_data);

/* An empty table; @cancelled as above. Caller owns. */
KithFetchTransfers *kith_fetch_transfers_new (KithFetchTransfersCancelledFunc cancelled, gpointer user_data);
/* Lets go of the transfers (they are not finished here: kith_fetch_transfers_finish()). */
void kith_fetch_transfers_free (KithFetchTransfers *self);
/* Adds @transfer (a reference is taken); its cancellation fails it at once. */
void kith_fetch_transfers_add (KithFetchTransfers *self, KithTransfer *transfer);
/* Every unfinished transfer gets @source (nullable), the progress and @state. */
void kith_fetch_transfers_publish (KithFetchTransfers *self, const gchar *source, guint64 done, guint64 total,
                                   KithTransferState state);
/* Every unfinished transfer completes with @entry (borrowed; from @source), or when @entry
 * is NULL fails with @error. */
void kith_fetch_transfers_finish (KithFetchTransfers *self, const gchar *source, const KithAliasEntry *entry,
                                  const GError *error);

G_END_DECLS
