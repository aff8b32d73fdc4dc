/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* kith-peer-directory.h — the nodes heard on the LAN, for people (`kith peers`): address,
 * when last heard, and what each last said it holds or is fetching. Read-only to the
 * protocol: nothing here decides anything. */
#pragma once

#include "kith-packet.h"

#include <gio/gio.h>

G_BEGIN_DECLS

typedef struct _KithPeerDirectory KithPeerDirectory;

/* A directory of at most @max_nodes nodes (the oldest heard is forgotten first); packets
 * from @self_node are ignored. */
KithPeerDirectory *kith_peer_directory_new (const gchar *self_node, guint max_nodes);
void kith_peer_directory_free (KithPeerDirectory *self);
/* Notes a valid @packet received from @from. */
void kith_peer_directory_note (KithPeerDirectory *self, const KithPacket *packet, GSocketAddress *from);
/* aa{sv}, one dict per node, most recently heard first: node (s), address (s),
 * last-seen (x, unix seconds), last-packet (s), and when known href (s) with
 * activity (s: "asks", "holds", "downloading", "complete"), done and total (t). Floating. */
GVariant *kith_peer_directory_to_variant (KithPeerDirectory *self);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (KithPeerDirectory, kith_peer_directory_free)

G_END_DECLS
