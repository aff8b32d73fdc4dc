/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* kith-piece-fetch.h — one file fetched in pieces from several sources at once, each piece
 * checked against a trusted piece list as it arrives (docs/protocol.md "Pieces"): pieces
 * are handed out one at a time to whichever source is free, so a slow source ends up with
 * a small share and a piece stuck on one may be asked of an idle other near the end; a
 * source that lies or fails gets nothing more and its pieces go to the others; verified
 * pieces are kept whatever happens to the source that sent them.
 *
 * Pieces are asked rarest first (the fewest sources have them; random among equals;
 * the choice is kith-piece-picker.h's).
 * A partial copy fetched in pieces says which it has in a piece map (kith-piece-map.h) with
 * every answer; one that sends a map that is not one, takes back a piece, or refuses a
 * piece its map claims is a liar, like one that sends a bad piece. */
#pragma once

#include <libsoup/soup.h>

#include "kith-agent.h"
#include "kith-alias-writer.h"

G_BEGIN_DECLS

/* Sources one fetch takes (the network offers them: bounded). */
#define KITH_PIECE_FETCH_MAX_SOURCES 16
/* Pieces are held in memory until verified: at most this much per fetch, so a list with
 * larger pieces is not fetched in pieces (the file comes whole). */
#define KITH_PIECE_FETCH_MAX_BUFFERED (16 * 1024 * 1024)

typedef struct _KithPieceFetch KithPieceFetch;

typedef struct {
  /* @node sent a piece that does not match the list, or more than it was asked for
   * (KITH_PEERING_ERROR_HASH_MISMATCH: a liar), or failed (anything else); it is asked
   * for nothing more. */
  void (*source_failed) (KithPieceFetch *fetch, const gchar *node, const GError *error, gpointer user_data);
  /* More pieces are verified: @prefix bytes from the start of the file are all there,
   * @done bytes in all. */
  void (*progress) (KithPieceFetch *fetch, guint64 prefix, guint64 done, gpointer user_data);
  /* Piece @index was verified and written (before progress). Optional. */
  void (*piece) (KithPieceFetch *fetch, guint index, gpointer user_data);
  /* Every source is gone with pieces still missing, or (once per piece kept) none brought
   * one for stall-ms: the caller may add sources (not free the fetch from here); the
   * pieces verified are kept, and the fetch finishes with an error when no source brings
   * a piece for stall-ms after that. Optional: without it the fetch finishes at once. */
  void (*starved) (KithPieceFetch *fetch, gpointer user_data);
  /* Called once: every piece verified and written (@error NULL), or no source can bring
   * the pieces still missing. The fetch may be freed from here. */
  void (*finished) (KithPieceFetch *fetch, const GError *error, gpointer user_data);
} KithPieceFetchFuncs;

/* A fetch of the file @pieces describes (copied) into @writer (borrowed: it outlives the
 * fetch; pieces are written at their offsets once verified, nothing else is), through
 * @session; a source that sends nothing for @stall_ms fails. Caller owns. */
KithPieceFetch *kith_piece_fetch_new (SoupSession *session, KithMetrics *metrics, const KithPieceList *pieces,
                                      KithAliasWriter *writer, guint stall_ms, const KithPieceFetchFuncs *funcs,
                                      gpointer user_data);
/* A source: @node serves the file at @url and has its first @available bytes (the file
 * size for a complete copy; a partial copy's announced progress, @growing: it is asked
 * for pieces a little past that too, which it sends as they come in — announcements lag
 * behind). Known nodes get the new @url and @available; FALSE when the fetch has all the
 * sources it takes. */
gboolean kith_piece_fetch_add_source (KithPieceFetch *self, const gchar *node, const gchar *url,
                                      guint64 available, gboolean growing);
/* A source of last resort (the origin): asked only for the pieces no other source has. */
gboolean kith_piece_fetch_add_fallback (KithPieceFetch *self, const gchar *node, const gchar *url, guint64 available);
/* Whether @node is a source of this fetch (gone or not). */
gboolean kith_piece_fetch_has_source (KithPieceFetch *self, const gchar *node);
/* Starts asking for pieces (from an idle). */
void kith_piece_fetch_start (KithPieceFetch *self);
/* The verified bytes @node sent. */
guint64 kith_piece_fetch_get_source_bytes (KithPieceFetch *self, const gchar *node);
/* The source that sent the most verified bytes, or NULL; owned by @self. */
const gchar *kith_piece_fetch_get_top_source (KithPieceFetch *self);
/* "node: bytes, …" for the log; caller frees. */
gchar *kith_piece_fetch_describe (KithPieceFetch *self);
/* Cancels what is in flight (no callback after this) and frees. */
void kith_piece_fetch_free (KithPieceFetch *self);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (KithPieceFetch, kith_piece_fetch_free)

G_END_DECLS
