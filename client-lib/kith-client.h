/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* kith-client.h — KithClient: a connection to one kith agent over D-Bus */
#pragma once

#include <gio/gio.h>

#include "kith-client-error.h"
#include "kith-client-plugin.h"
#include "kith-client-transfer.h"

G_BEGIN_DECLS

#define KITH_TYPE_CLIENT (kith_client_get_type ())
G_DECLARE_FINAL_TYPE (KithClient, kith_client, KITH, CLIENT, GObject)

/*
 * Which agent: the address set with kith_client_set_address(), else the
 * environment variable KITH_AGENT_ADDRESS (an agent listening peer-to-peer,
 * "unix:path=…"), else org.kith.Agent1 on the bus set with
 * kith_client_set_bus_type() (default: the system bus).
 * Every error is in the KITH_CLIENT_ERROR domain.
 */

/**
 * kith_client_new:
 *
 * A new, unconnected client; caller owns it.
 */
KithClient *kith_client_new (void);

/**
 * kith_client_set_address:
 *
 * Use the agent listening peer-to-peer at @address (NULL: back to the default); before connecting.
 */
void kith_client_set_address (KithClient *self, const gchar *address);
/**
 * kith_client_get_address:
 *
 * The address set with kith_client_set_address(), or NULL; owned by @self.
 */
const gchar *kith_client_get_address (KithClient *self);
/**
 * kith_client_set_bus_type:
 *
 * Use the agent on @bus_type (G_BUS_TYPE_SYSTEM or G_BUS_TYPE_SESSION) when no address applies.
 */
void kith_client_set_bus_type (KithClient *self, GBusType bus_type);
/**
 * kith_client_get_bus_type:
 *
 * The bus used when no address applies.
 */
GBusType kith_client_get_bus_type (KithClient *self);
/**
 * kith_client_get_target:
 *
 * Where the client connects (or connected): an address, or "system bus"/"session bus"; owned by @self.
 */
const gchar *kith_client_get_target (KithClient *self);

/**
 * kith_client_connect_async:
 *
 * Connects and checks the agent answers; fails with AGENT_NOT_RUNNING when nothing does.
 */
void kith_client_connect_async (KithClient *self, GCancellable *cancellable,
                                GAsyncReadyCallback callback, gpointer user_data);
/**
 * kith_client_connect_finish:
 *
 * Finishes kith_client_connect_async().
 */
gboolean kith_client_connect_finish (KithClient *self, GAsyncResult *res, GError **error);
/**
 * kith_client_connect:
 *
 * Blocking kith_client_connect_async().
 */
gboolean kith_client_connect (KithClient *self, GCancellable *cancellable, GError **error);
/**
 * kith_client_is_connected:
 *
 * TRUE once a connect succeeded.
 */
gboolean kith_client_is_connected (KithClient *self);

/**
 * kith_client_get_node_id:
 *
 * The agent's node id (32 hex digits); owned by @self; NULL before connecting.
 */
const gchar *kith_client_get_node_id (KithClient *self);
/**
 * kith_client_get_version:
 *
 * The agent's version string; owned by @self; NULL before connecting.
 */
const gchar *kith_client_get_version (KithClient *self);
/**
 * kith_client_get_plugins:
 * @self: a connected client
 *
 * Every plugin named in the agent's config.
 *
 * Returns: (transfer container) (element-type KithClientPlugin): the plugins; caller owns the array
 */
GPtrArray *kith_client_get_plugins (KithClient *self);

/**
 * kith_client_get_status_async:
 *
 * Asks the agent for its status: a{sv} with a section (a{sv}) per component, "agent" first.
 */
void kith_client_get_status_async (KithClient *self, GCancellable *cancellable,
                                   GAsyncReadyCallback callback, gpointer user_data);
/**
 * kith_client_get_status_finish:
 *
 * Finishes kith_client_get_status_async(); the a{sv} is the caller's.
 */
GVariant *kith_client_get_status_finish (KithClient *self, GAsyncResult *res, GError **error);
/**
 * kith_client_get_status:
 *
 * Blocking kith_client_get_status_async(); the a{sv} is the caller's.
 */
GVariant *kith_client_get_status (KithClient *self, GCancellable *cancellable, GError **error);

/**
 * KithClientFetchFlags:
 * @KITH_CLIENT_FETCH_FLAG_NONE: peers first, the origin when no peer has it
 * @KITH_CLIENT_FETCH_FLAG_CACHED_ONLY: only from a peer's cache; fail when no peer holds it
 * @KITH_CLIENT_FETCH_FLAG_NO_ORIGIN: never from the origin itself (peers and their downloads only)
 */
typedef enum {
  KITH_CLIENT_FETCH_FLAG_NONE = 0,
  KITH_CLIENT_FETCH_FLAG_CACHED_ONLY = 1 << 0,
  KITH_CLIENT_FETCH_FLAG_NO_ORIGIN = 1 << 1,
} KithClientFetchFlags;

/* Called after each change the agent reports (state, source, bytes), the last one DONE or FAILED. */
typedef void (*KithClientProgressFunc) (KithClientTransfer *transfer, gpointer user_data);

/**
 * kith_client_fetch_async:
 *
 * Fetches @url through the agent (the LAN first, the origin once) into the file at
 * @destination, which libkith opens (created 0644, or truncated) and hands to the agent:
 * the agent writes only to that descriptor, verified bytes only, before DONE.
 * @sha256 (64 hex digits, or NULL) is the expected hash; other bytes are refused.
 * @progress (may be NULL) runs in the caller's thread-default main context; @progress_data_free
 * frees @progress_data once the fetch is over. Cancelling @cancellable cancels the agent's
 * transfer too and ends with KITH_CLIENT_ERROR_CANCELLED. On any failure a destination file
 * this call created is removed again.
 */
void kith_client_fetch_async (KithClient *self, const gchar *url, const gchar *destination,
                              const gchar *sha256, KithClientFetchFlags flags,
                              KithClientProgressFunc progress, gpointer progress_data,
                              GDestroyNotify progress_data_free, GCancellable *cancellable,
                              GAsyncReadyCallback callback, gpointer user_data);
/**
 * kith_client_fetch_finish:
 * @self: a client
 * @res: the result
 * @error: return location for an error
 *
 * Finishes kith_client_fetch_async().
 *
 * Returns: (transfer full): the DONE transfer (source, bytes, time), the caller's; %NULL on
 *   failure, with the agent's reason mapped into KITH_CLIENT_ERROR
 */
KithClientTransfer *kith_client_fetch_finish (KithClient *self, GAsyncResult *res, GError **error);
/**
 * kith_client_fetch:
 * @self: a client
 * @url: the URL
 * @destination: the file to write
 * @sha256: (nullable): the expected hash, 64 hex digits
 * @flags: where the bytes may come from
 * @progress: (scope call) (nullable): called after each change
 * @progress_data: (closure progress): data for @progress
 * @cancellable: (nullable): a cancellable
 * @error: return location for an error
 *
 * Blocking kith_client_fetch_async(); @progress runs inside this call.
 *
 * Returns: (transfer full): the DONE transfer
 */
KithClientTransfer *kith_client_fetch (KithClient *self, const gchar *url, const gchar *destination,
                                       const gchar *sha256, KithClientFetchFlags flags,
                                       KithClientProgressFunc progress, gpointer progress_data,
                                       GCancellable *cancellable, GError **error);

/**
 * kith_client_fetch_sized_async:
 *
 * kith_client_fetch_async() that also gives the expected @size in bytes (0: unknown, as
 * kith_client_fetch_async()): the agent writes no more than @size and refuses a copy of
 * another size. Finish with kith_client_fetch_finish().
 */
void kith_client_fetch_sized_async (KithClient *self, const gchar *url, const gchar *destination,
                                    const gchar *sha256, guint64 size, KithClientFetchFlags flags,
                                    KithClientProgressFunc progress, gpointer progress_data,
                                    GDestroyNotify progress_data_free, GCancellable *cancellable,
                                    GAsyncReadyCallback callback, gpointer user_data);
/**
 * kith_client_fetch_sized:
 * @self: a client
 * @url: the URL
 * @destination: the file to write
 * @sha256: (nullable): the expected hash, 64 hex digits
 * @size: the expected size in bytes, 0 when unknown
 * @flags: where the bytes may come from
 * @progress: (scope call) (nullable): called after each change
 * @progress_data: (closure progress): data for @progress
 * @cancellable: (nullable): a cancellable
 * @error: return location for an error
 *
 * Blocking kith_client_fetch_sized_async(); @progress runs inside this call.
 *
 * Returns: (transfer full): the DONE transfer
 */
KithClientTransfer *kith_client_fetch_sized (KithClient *self, const gchar *url, const gchar *destination,
                                             const gchar *sha256, guint64 size, KithClientFetchFlags flags,
                                             KithClientProgressFunc progress, gpointer progress_data,
                                             GCancellable *cancellable, GError **error);

/**
 * kith_client_fetch_pieces_async:
 *
 * kith_client_fetch_sized_async() with a piece list the caller trusts as it trusts
 * @sha256 (e.g. from a signed catalog): @pieces is the SHA-256 of every @piece_size-byte
 * piece of the @size-byte file (the last may be shorter), 64 lowercase hex digits each,
 * one after another (NULL: none, as kith_client_fetch_sized_async()). The agent may then
 * take the file in pieces from several peers at once, checking each piece as it arrives
 * and banning a peer whose piece does not match (docs/protocol.md "Pieces"); the whole
 * file is still checked against @sha256. @sha256 and @size are required with @pieces; a
 * list that breaks a bound (pieces of 64 KiB–64 MiB, at most 65536, one hash per piece)
 * fails with KITH_CLIENT_ERROR_INVALID_ARGS. Finish with kith_client_fetch_finish().
 */
void kith_client_fetch_pieces_async (KithClient *self, const gchar *url, const gchar *destination,
                                     const gchar *sha256, guint64 size, guint64 piece_size,
                                     const gchar *pieces, KithClientFetchFlags flags,
                                     KithClientProgressFunc progress, gpointer progress_data,
                                     GDestroyNotify progress_data_free, GCancellable *cancellable,
                                     GAsyncReadyCallback callback, gpointer user_data);

/**
 * kith_client_watch_peers:
 *
 * Emits KithClient::peer-download (href, node, done, total: s, s, guint64, guint64) for every
 * download another node announces on the LAN (done = total when it finished), in the
 * thread-default main context of this call, until @self is freed. Fails with
 * PLUGIN_MISSING when the agent runs no peering plugin. Calling it again changes nothing.
 */
gboolean kith_client_watch_peers (KithClient *self, GError **error);

G_END_DECLS
