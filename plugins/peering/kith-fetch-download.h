/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* kith-fetch-download.h — one download of a fetch job's file into the alias store: whole
 * from one URL (a peer's copy, a partial copy as it grows, the origin; kith-peer-download.h)
 * or in pieces from several sources (kith-piece-fetch.h). While it runs it may be served to
 * peers as a partial copy of ours (kith-partial-table.h) that ends with it; at the end the
 * copy is verified and stored, and only then do the readers of that partial copy get its end. */
#pragma once

#include "kith-peering-context.h"

G_BEGIN_DECLS

typedef struct _KithFetchDownload KithFetchDownload;

typedef struct {
  /* The source's answer was accepted: @length bytes will come (0: unknown). */
  void (*started) (KithFetchDownload *download, guint64 length, gpointer user_data);
  /* @done bytes so far (in pieces: the verified bytes, in any order; all are served). */
  void (*progress) (KithFetchDownload *download, guint64 done, gpointer user_data);
  /* In pieces: @node sent bytes that do not match (KITH_PEERING_ERROR_HASH_MISMATCH) or
   * failed; it is asked for nothing more. Whole: @node sent bytes kept from a broken
   * download before this one resumed it, and the whole did not match; or, when the copy
   * had several senders, @node is one of them (a fault, KITH_PEERING_ERROR_FAILED: the
   * file is fetched again whole from the source now), and once that copy verifies, one of
   * them whose bytes differ from it (KITH_PEERING_ERROR_HASH_MISMATCH; the verdict on such
   * a copy: kith-fetch-verdict.h). */
  void (*source_failed) (KithFetchDownload *download, const gchar *node, const GError *error,
                         gpointer user_data);
  /* In pieces: every source is gone with pieces missing (those in are kept); sources may
   * be added from here. Optional: without it the download fails at once. */
  void (*starved) (KithFetchDownload *download, gpointer user_data);
  /* Called once: @entry (borrowed) is the verified, stored copy, or @error says why there is
   * none. The download may be freed from here. */
  void (*finished) (KithFetchDownload *download, const KithAliasEntry *entry, const GError *error,
                    gpointer user_data);
} KithFetchDownloadFuncs;

/* A download of @href into the store of @context (borrowed: it outlives the download),
 * checked against @sha256 (nullable) and bounded by @size (0: unknown), the copy recorded
 * with @trust. NULL with @error when the store cannot take it. Caller owns. */
KithFetchDownload *kith_fetch_download_new (const KithPeeringContext *context, const gchar *href,
                                            const gchar *sha256, guint64 size, KithAliasTrust trust,
                                            const KithFetchDownloadFuncs *funcs, gpointer user_data,
                                            GError **error);
/* Serves the download while it runs, as a partial copy of ours; without one (no random
 * token, the file cannot be reopened) it goes on unshared. Before a start. */
void kith_fetch_download_serve (KithFetchDownload *self);
/* Fetches the whole file from @url; @source names the sender in errors ("origin" for the
 * origin). When a whole-file download of the same URL, sha256 and size (any size, when
 * none is known) broke before, the bytes it brought are kept (kith-resume-table.h) and only
 * the rest is asked for; the origin is asked for the whole file again when those bytes turn
 * out wrong (the whole does not match, or it names another size). Likewise,
 * when this one ends without a copy (but not in pieces, nor when its source lied), what it
 * brought is kept for the next. */
void kith_fetch_download_start (KithFetchDownload *self, const gchar *url, const gchar *source);
/* Fetches it in the pieces @pieces describes, first from @node at @url, which has its first
 * @available bytes (fewer than the size: a partial copy, still growing). */
void kith_fetch_download_start_pieces (KithFetchDownload *self, const KithPieceList *pieces, const gchar *node,
                                       const gchar *url, guint64 available);
/* In pieces: one more source (kith_piece_fetch_add_source()); FALSE when it is not taken. */
gboolean kith_fetch_download_add_source (KithFetchDownload *self, const gchar *node, const gchar *url,
                                         guint64 available, gboolean growing);
/* In pieces: whether @node is a source already (gone or not). */
gboolean kith_fetch_download_has_source (KithFetchDownload *self, const gchar *node);
/* In pieces: a source of last resort (the origin), asked only for the pieces no other has. */
void kith_fetch_download_add_fallback (KithFetchDownload *self, const gchar *node, const gchar *url);
gboolean kith_fetch_download_in_pieces (KithFetchDownload *self);
/* Whole: of the bytes of the copy, those the origin sent (kept from before, or its own). */
guint64 kith_fetch_download_get_origin_bytes (KithFetchDownload *self);
/* Whether the source answered 503: a partial copy with all the readers it takes. */
gboolean kith_fetch_download_is_busy (KithFetchDownload *self);
/* Whether the download is served as a partial copy. */
gboolean kith_fetch_download_is_served (KithFetchDownload *self);
/* The path peers read that partial copy at, NULL when it is not served; caller frees. */
gchar *kith_fetch_download_get_partial_path (KithFetchDownload *self);
/* In pieces: the source that sent the most verified bytes, or NULL; owned by @self. */
const gchar *kith_fetch_download_get_top_source (KithFetchDownload *self);
/* Cancels what is in flight (no callback after this); a partial copy not complete is
 * failed, so that its readers are cut. */
void kith_fetch_download_free (KithFetchDownload *self);

G_END_DECLS
