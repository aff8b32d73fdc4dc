/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* kith-client-transfer.h — KithClientTransfer: one fetch as the caller sees it
 *
 * A read-only mirror of the agent's org.kith.Transfer1 object. libkith updates it
 * (and emits "notify::…") as the agent reports progress; applications only read it.
 */
#pragma once

#include <glib-object.h>

G_BEGIN_DECLS

/**
 * KithClientTransferState:
 * @KITH_CLIENT_TRANSFER_STATE_SEARCHING: asking the LAN who has it
 * @KITH_CLIENT_TRANSFER_STATE_WAITING_FOR_PEER: a peer is downloading it; waiting for that peer
 * @KITH_CLIENT_TRANSFER_STATE_FROM_PEER: copying it from a peer's cache
 * @KITH_CLIENT_TRANSFER_STATE_FROM_ORIGIN: downloading it from the origin URL
 * @KITH_CLIENT_TRANSFER_STATE_DONE: verified and written into the destination
 * @KITH_CLIENT_TRANSFER_STATE_FAILED: stopped; kith_client_transfer_get_error() says why
 */
typedef enum {
  KITH_CLIENT_TRANSFER_STATE_SEARCHING,
  KITH_CLIENT_TRANSFER_STATE_WAITING_FOR_PEER,
  KITH_CLIENT_TRANSFER_STATE_FROM_PEER,
  KITH_CLIENT_TRANSFER_STATE_FROM_ORIGIN,
  KITH_CLIENT_TRANSFER_STATE_DONE,
  KITH_CLIENT_TRANSFER_STATE_FAILED,
} KithClientTransferState;

#define KITH_TYPE_CLIENT_TRANSFER_STATE (kith_client_transfer_state_get_type ())
GType kith_client_transfer_state_get_type (void);
/**
 * kith_client_transfer_state_to_string:
 *
 * The wire name ("waiting-for-peer"); static string.
 */
const gchar *kith_client_transfer_state_to_string (KithClientTransferState state);
/**
 * kith_client_transfer_state_from_string:
 *
 * Parses a wire name; FALSE (and *@state untouched) for anything unknown.
 */
gboolean kith_client_transfer_state_from_string (const gchar *str, KithClientTransferState *state);

#define KITH_TYPE_CLIENT_TRANSFER (kith_client_transfer_get_type ())
G_DECLARE_FINAL_TYPE (KithClientTransfer, kith_client_transfer, KITH, CLIENT_TRANSFER, GObject)

/**
 * kith_client_transfer_get_url:
 *
 * The origin URL; owned by @self.
 */
const gchar *kith_client_transfer_get_url (KithClientTransfer *self);
/**
 * kith_client_transfer_get_destination:
 *
 * Where the bytes go (the path given to kith_client_fetch_async()); owned by @self.
 */
const gchar *kith_client_transfer_get_destination (KithClientTransfer *self);
/**
 * kith_client_transfer_get_object_path:
 *
 * The agent's object path for it ("/org/kith/Agent1/Transfer/N"), NULL until known; owned by @self.
 */
const gchar *kith_client_transfer_get_object_path (KithClientTransfer *self);
KithClientTransferState kith_client_transfer_get_state (KithClientTransfer *self);
/**
 * kith_client_transfer_get_source:
 *
 * "origin", "cache", "relay" (the relay in use is fetching it for this offline node), a
 * peer's node id (32 hex digits) — the peer waited for while WAITING_FOR_PEER — or NULL
 * while unknown; owned by @self.
 */
const gchar *kith_client_transfer_get_source (KithClientTransfer *self);
/**
 * kith_client_transfer_is_from_peer:
 *
 * TRUE when the source is a peer's node id (not "origin", "cache", "relay" or unknown).
 */
gboolean kith_client_transfer_is_from_peer (KithClientTransfer *self);
guint64 kith_client_transfer_get_bytes_done (KithClientTransfer *self);
/**
 * kith_client_transfer_get_bytes_total:
 *
 * 0 while unknown.
 */
guint64 kith_client_transfer_get_bytes_total (KithClientTransfer *self);
/**
 * kith_client_transfer_get_elapsed:
 *
 * Microseconds (monotonic) since the fetch was asked for, or its total once finished.
 */
gint64 kith_client_transfer_get_elapsed (KithClientTransfer *self);
/**
 * kith_client_transfer_get_error:
 *
 * The agent's reason after FAILED ("org.kith.Error.Name: message"), else NULL; owned by @self.
 */
const gchar *kith_client_transfer_get_error (KithClientTransfer *self);
/**
 * kith_client_transfer_is_finished:
 *
 * TRUE once DONE or FAILED.
 */
gboolean kith_client_transfer_is_finished (KithClientTransfer *self);

G_END_DECLS
