/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* kith-peer-table.h — what this node knows about the other nodes: who asked for a URL
 * (requesters, for the election), who announced downloading it, who holds it (holders, for
 * the reply order and the requester's hint), and who served bad bytes */
#pragma once

#include "kith-packet.h"
#include "kith-peering-timings.h"

#include <gio/gio.h>

G_BEGIN_DECLS

typedef struct _KithPeerTable KithPeerTable;

/* Everything here is fed by the network, so everything is bounded; when full, the entry
 * heard of longest ago goes. */
#define KITH_PEER_TABLE_MAX_HREFS 256    /* URLs with requesters (and, apart, downloaders) */
#define KITH_PEER_TABLE_MAX_NODES 64     /* requesters (or downloaders) of one URL */
#define KITH_PEER_TABLE_MAX_BAD 1024     /* peers skipped for misbehaviour */
#define KITH_PEER_TABLE_MAX_BACKOFF 256  /* peers backed off after a fault */
#define KITH_PEER_TABLE_MAX_HOLDER_HREFS 512 /* URLs with known holders */
#define KITH_PEER_TABLE_MAX_HOLDERS 32   /* holders of one URL */
#define KITH_PEER_TABLE_MAX_ADDRESSES 1024 /* nodes whose send address is remembered */
/* A holder not heard of again within this long is forgotten (its cache may have let go). */
#define KITH_PEER_TABLE_HOLDER_AGE_MS (30 * 60 * 1000)
/* A fault (connection failed, timed out, HTTP error) backs a peer off this long at first,
 * doubling on each fault up to the maximum, forgotten at its next good delivery. */
#define KITH_PEER_TABLE_BACKOFF_FIRST_MS 2000
#define KITH_PEER_TABLE_BACKOFF_MAX_MS (5 * 60 * 1000)

/* The table's clock in monotonic µs; injectable for tests. */
typedef gint64 (*KithPeerClockFunc) (gpointer user_data);

/* A table for the node @self_node, reading @timings (borrowed: it must outlive the table). */
KithPeerTable *kith_peer_table_new (const KithPeeringTimings *timings, const gchar *self_node);
void kith_peer_table_free (KithPeerTable *self);
/* Replaces the monotonic clock (for tests); resets to it when @func is NULL. */
void kith_peer_table_set_clock (KithPeerTable *self, KithPeerClockFunc func, gpointer user_data);
/* Now, on the table's clock (monotonic µs). */
gint64 kith_peer_table_now (KithPeerTable *self);

/* Remembers that @node asked the LAN for @href (it may fetch it from the origin). */
void kith_peer_table_note_requester (KithPeerTable *self, const gchar *href, const gchar *node);
/* A "downloading" or "complete" packet: remembered so that a search starting
 * mid-download finds the downloader; "complete" (or done = total) forgets it, and makes its
 * sender a holder of the URL. */
void kith_peer_table_track (KithPeerTable *self, const KithPacket *packet);
/* Remembers that @node holds @href (it announced "complete", answered "I have" to us, or
 * served it); @node "origin" or NULL is ignored. */
void kith_peer_table_note_holder (KithPeerTable *self, const gchar *href, const gchar *node);
/* Remembers where @node's packets come from (@from: its send socket, where it takes unicast
 * requests): the last address heard wins. */
void kith_peer_table_note_address (KithPeerTable *self, const gchar *node, GSocketAddress *from);
/* The address last heard from @node, or NULL; borrowed from the table until it next changes. */
GSocketAddress *kith_peer_table_get_address (KithPeerTable *self, const gchar *node);
/* Forgets @node as a holder of @href (it did not deliver). */
void kith_peer_table_forget_holder (KithPeerTable *self, const gchar *href, const gchar *node);
/* The holders of @href heard of within KITH_PEER_TABLE_HOLDER_AGE_MS, minus @skip and unusable
 * peers when @usable_only: node ids, borrowed from the table until it next changes. */
GPtrArray *kith_peer_table_get_holders (KithPeerTable *self, const gchar *href, GHashTable *skip,
                                        gboolean usable_only);
/* A node (not in @skip, usable) that announced "downloading" @href within stall-ms,
 * or NULL: a job starting late still knows someone is on it. */
const gchar *kith_peer_table_find_downloader (KithPeerTable *self, const gchar *href,
                                              GHashTable *skip);
/* The node that should fetch @href from the origin: the lowest id among recent requesters
 * (within 4 client waits), this node too if @include_self, minus @skip and unusable peers.
 * NULL if none. */
const gchar *kith_peer_table_elect (KithPeerTable *self, const gchar *href, GHashTable *skip,
                                    gboolean include_self);

/* Skips @node for bad-peer-ms (proven misbehaviour: bytes that do not match);
 * FALSE (nothing done) for NULL or "origin". */
gboolean kith_peer_table_mark_bad (KithPeerTable *self, const gchar *node);
gboolean kith_peer_table_is_bad (KithPeerTable *self, const gchar *node);
/* A fault of @node (not misbehaviour): skips it for a short, growing back-off; returns
 * the back-off in ms, 0 (nothing done) for NULL or "origin". */
guint kith_peer_table_back_off (KithPeerTable *self, const gchar *node);
/* @node delivered: its back-off is forgotten. */
void kith_peer_table_forgive (KithPeerTable *self, const gchar *node);
gboolean kith_peer_table_is_backed_off (KithPeerTable *self, const gchar *node);
/* Neither bad nor backed off. */
gboolean kith_peer_table_is_usable (KithPeerTable *self, const gchar *node);

/* Sizes, for tests and status: requesters of @href (all URLs with NULL), bad peers. */
guint kith_peer_table_count_requesters (KithPeerTable *self, const gchar *href);
guint kith_peer_table_count_bad (KithPeerTable *self);
/* Holders remembered, of @href (all URLs with NULL). */
guint kith_peer_table_count_holders (KithPeerTable *self, const gchar *href);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (KithPeerTable, kith_peer_table_free)

G_END_DECLS
