/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* kith-transfer.h — one fetch of one URL, observed by whoever asked for it */
#pragma once

#include <gio/gio.h>

G_BEGIN_DECLS

typedef enum {
  KITH_TRANSFER_STATE_SEARCHING,        /* asking the LAN ("I need") */
  KITH_TRANSFER_STATE_WAITING_FOR_PEER, /* a peer is downloading it; waiting for "complete" */
  KITH_TRANSFER_STATE_FROM_PEER,        /* fetching from a peer's alias */
  KITH_TRANSFER_STATE_FROM_ORIGIN,      /* fetching from the origin (or a relay) */
  KITH_TRANSFER_STATE_DONE,
  KITH_TRANSFER_STATE_FAILED,
} KithTransferState;

#define KITH_TYPE_TRANSFER (kith_transfer_get_type ())
G_DECLARE_FINAL_TYPE (KithTransfer, kith_transfer, KITH, TRANSFER, GObject)

/* A transfer of @url in state SEARCHING; caller owns it. */
KithTransfer *kith_transfer_new (const gchar *url);
/* "searching", "waiting-for-peer", "from-peer", "from-origin", "done", "failed". */
const gchar *kith_transfer_state_to_string (KithTransferState state);

const gchar *kith_transfer_get_url (KithTransfer *self);
KithTransferState kith_transfer_get_state (KithTransfer *self);
/* "origin", "relay" (while the relay in use fetches it for this offline node), or the node
 * id of the peer the bytes come from; NULL while searching. */
const gchar *kith_transfer_get_source (KithTransfer *self);
guint64 kith_transfer_get_bytes_done (KithTransfer *self);
/* 0 while unknown. */
guint64 kith_transfer_get_bytes_total (KithTransfer *self);
/* After DONE: the verified file (read-only, owned by the producer's cache) and its sha256. */
const gchar *kith_transfer_get_path (KithTransfer *self);
const gchar *kith_transfer_get_sha256 (KithTransfer *self);
/* After FAILED: why; owned by @self. */
const GError *kith_transfer_get_error (KithTransfer *self);
/* TRUE once DONE or FAILED. */
gboolean kith_transfer_is_finished (KithTransfer *self);
/* Asks the producer to stop; the transfer then fails with G_IO_ERROR_CANCELLED. */
void kith_transfer_cancel (KithTransfer *self);
/* Cancelled by kith_transfer_cancel(); producers watch it. Owned by @self. */
GCancellable *kith_transfer_get_cancellable (KithTransfer *self);

/* For producers: each change is notified ("notify::state", …); "finished" fires once. */
void kith_transfer_set_state (KithTransfer *self, KithTransferState state);
void kith_transfer_set_source (KithTransfer *self, const gchar *source);
void kith_transfer_set_progress (KithTransfer *self, guint64 done, guint64 total);
void kith_transfer_complete (KithTransfer *self, const gchar *path, const gchar *sha256);
void kith_transfer_fail (KithTransfer *self, const GError *error);

G_END_DECLS
