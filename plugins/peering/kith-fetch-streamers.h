/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* kith-fetch-streamers.h — the partial copies other nodes announced for the URL of one
 * fetch job (docs/protocol.md "Streaming"): remembered up to a bound, and which to read */
#pragma once

#include "kith-packet.h"

G_BEGIN_DECLS

/* Partial copies remembered per job (announced by the network: bounded). */
#define KITH_FETCH_STREAMERS_MAX 16

/* A partial copy another node announced. */
typedef struct {
  gchar *alias;
  guint64 total;
  guint64 done;
  gint64 busy_until_us; /* answered 503: not before this */
  gboolean ended;       /* this copy was cut or is gone: not read again */
} KithFetchStreamer;

typedef struct _KithFetchStreamers KithFetchStreamers;

/* Whether the job still takes copies from @node (not left out, usable). */
typedef gboolean (*KithFetchStreamersTakesFunc) (const gchar *node, gpointer user_data);

/* A table for a file of @expected_size (0: unknown); @takes is asked about nodes when a
 * copy is picked or room is made. Caller owns. */
KithFetchStreamers *kith_fetch_streamers_new (guint64 expected_size, KithFetchStreamersTakesFunc takes,
                                              gpointer user_data);
void kith_fetch_streamers_free (KithFetchStreamers *self);
/* The copy @node announced, or NULL; owned by @self. */
KithFetchStreamer *kith_fetch_streamers_lookup (KithFetchStreamers *self, const gchar *node);
/* A "downloading" that names a partial copy is remembered (its progress updated); others
 * are ignored. A full table makes room only by dropping a node no longer taken, or, for
 * @preferred (the downloader waited for), the copy least far on. */
void kith_fetch_streamers_note (KithFetchStreamers *self, const KithPacket *packet, const gchar *preferred);
/* The node whose copy to read: @preferred when it can take us, else the one furthest on;
 * none left out, busy, ended or of another size. NULL: none; owned by @self. */
const gchar *kith_fetch_streamers_pick (KithFetchStreamers *self, const gchar *preferred);
/* The nodes (owned by @self) of every copy still taken, not ended, whose size is the
 * expected one. */
GPtrArray *kith_fetch_streamers_list_sized (KithFetchStreamers *self);
/* The size a read of @streamer is bounded by, 0 when it may not be read: the expected
 * size, else the announced total; another size is another version. */
guint64 kith_fetch_streamers_size (KithFetchStreamers *self, const KithFetchStreamer *streamer);
/* What @streamer has: what it announced, but never the file's last byte (a partial copy
 * sends it only once complete; of a size not announced, any byte may be the last). */
guint64 kith_fetch_streamers_available (const KithFetchStreamer *streamer);

G_END_DECLS
