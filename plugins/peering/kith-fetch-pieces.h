/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* kith-fetch-pieces.h — when a fetch job takes its file in pieces (docs/protocol.md
 * "Pieces"), and which of the holders it hears of join that download as sources */
#pragma once

#include "kith-fetch-download.h"
#include "kith-fetch-streamers.h"

G_BEGIN_DECLS

/* Whether a file of @size checked against @sha256 (nullable) is fetched in the pieces
 * @pieces (nullable) describes: a list trusted like the hash, of that size, in more than
 * one piece, each small enough to be held in memory until verified. */
gboolean kith_fetch_pieces_fit (const KithPieceList *pieces, const gchar *sha256, guint64 size);
/* A packet while @download (in pieces of the file @sha256, @size) runs: an "I have" for
 * our request @request_id, a "complete" of the same bytes, or a partial copy's progress
 * (noted in @streamers, @preferred as kith_fetch_streamers_note() says): its node joins. */
void kith_fetch_pieces_join (KithFetchDownload *download, KithFetchStreamers *streamers,
                             const KithPacket *packet, guint32 request_id, const gchar *sha256,
                             guint64 size, const gchar *preferred);
/* Every partial copy in @streamers still taken, of the expected size and not ended, joins
 * @download, but for a node that is a source of it already. */
void kith_fetch_pieces_join_streamers (KithFetchDownload *download, KithFetchStreamers *streamers);

G_END_DECLS
