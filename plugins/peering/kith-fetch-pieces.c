/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* kith-fetch-pieces.c — a fetch job's file in pieces: when, and from whom */
#include "kith-fetch-pieces.h"

#include "kith-piece-fetch.h"

gboolean
kith_fetch_pieces_fit (const KithPieceList *pieces, const gchar *sha256, guint64 size)
{
  return pieces != NULL && sha256 != NULL && kith_piece_list_get_count (pieces) > 1 &&
         kith_piece_list_get_file_size (pieces) == size &&
         kith_piece_list_get_piece_size (pieces) <= KITH_PIECE_FETCH_MAX_BUFFERED;
}

void
kith_fetch_pieces_join (KithFetchDownload *download, KithFetchStreamers *streamers, const KithPacket *packet,
                        guint32 request_id, const gchar *sha256, guint64 size, const gchar *preferred)
{
  KithFetchStreamer *streamer;

  switch (packet->type) {
  case KITH_PACKET_TYPE_RESPONSE:
    if (packet->id != request_id || (packet->size > 0 && packet->size != size) ||
        (packet->sha256 != NULL && g_ascii_strcasecmp (packet->sha256, sha256) != 0))
      break;
    kith_fetch_download_add_source (download, packet->node, packet->alias, size, FALSE);
    break;
  case KITH_PACKET_TYPE_COMPLETE:
    if (g_ascii_strcasecmp (packet->sha256, sha256) == 0 && packet->size == size)
      kith_fetch_download_add_source (download, packet->node, packet->alias, size, FALSE);
    break;
  case KITH_PACKET_TYPE_DOWNLOADING:
    kith_fetch_streamers_note (streamers, packet, preferred);
    streamer = kith_fetch_streamers_lookup (streamers, packet->node);
    if (streamer != NULL && streamer->total == size && g_strcmp0 (streamer->alias, packet->alias) == 0)
      kith_fetch_download_add_source (download, packet->node, streamer->alias,
                                      kith_fetch_streamers_available (streamer), TRUE);
    break;
  default:
    break;
  }
}

void
kith_fetch_pieces_join_streamers (KithFetchDownload *download, KithFetchStreamers *streamers)
{
  g_autoptr (GPtrArray) nodes = kith_fetch_streamers_list_sized (streamers);

  for (guint i = 0; i < nodes->len; i++) {
    const gchar *node = g_ptr_array_index (nodes, i);
    KithFetchStreamer *streamer = kith_fetch_streamers_lookup (streamers, node);
    /* a source already (the first, maybe with its complete copy) keeps what it has */
    if (kith_fetch_download_has_source (download, node))
      continue;
    kith_fetch_download_add_source (download, node, streamer->alias, kith_fetch_streamers_available (streamer),
                                    TRUE);
  }
}
