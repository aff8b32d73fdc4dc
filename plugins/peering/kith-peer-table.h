/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* kith-peer-table.h — what this node knows about the other nodes: who asked for a URL
 * (requesters, for the election), who announced downloading it, and who served bad bytes */
#pragma once

#include "kith-packet.h"
#include "kith-peering-timings.h"

G_BEGIN_DECLS

typedef struct _KithPeerTable KithPeerTable;

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
 * mid-download finds the downloader; "complete" (or done = total) forgets it. */
void kith_peer_table_track (KithPeerTable *self, const KithPacket *packet);
/* A node (not in @skip, not bad) that announced "downloading" @href within stall-ms,
 * or NULL: a job starting late still knows someone is on it. */
const gchar *kith_peer_table_find_downloader (KithPeerTable *self, const gchar *href,
                                              GHashTable *skip);
/* The node that should fetch @href from the origin: the lowest id among recent requesters
 * (within 4 client waits), this node too if @include_self, minus @skip and bad peers.
 * NULL if none. */
const gchar *kith_peer_table_elect (KithPeerTable *self, const gchar *href, GHashTable *skip,
                                    gboolean include_self);

/* Skips @node for bad-peer-ms; FALSE (nothing done) for NULL or "origin". */
gboolean kith_peer_table_mark_bad (KithPeerTable *self, const gchar *node);
gboolean kith_peer_table_is_bad (KithPeerTable *self, const gchar *node);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (KithPeerTable, kith_peer_table_free)

G_END_DECLS
