/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* kith-piece-picker.h — which piece a fetch in pieces (kith-piece-fetch.h) asks of which
 * source next: rarest first, at random among equals; a copy whose piece map is behind its
 * announced progress probed for a piece the map does not claim; near the end a piece stuck
 * on a slow source asked of an idle one as well.
 *
 * Pure functions over what the fetch knows (its sources' pieces, what it holds and has
 * asked for, the clock): they start nothing and call nothing back. The fetch owns all the
 * data; the picker only writes the per-piece availability counts it is handed. */
#pragma once

#include <glib.h>

#include "kith-piece-list.h"
#include "kith-piece-map.h"

G_BEGIN_DECLS

/* no piece to ask */
#define KITH_PIECE_PICKER_NONE G_MAXUINT
/* requests in flight per source (one: on a LAN a round trip is far below a piece's time on
 * the wire, so the link stays busy, and a source's share follows its speed exactly) */
#define KITH_PIECE_PICKER_PER_SOURCE 1

/* What a source has, and whether it may be asked now; owned by the fetch. */
typedef struct {
  guint64 available; /* bytes from the start it has */
  gboolean growing;  /* a partial copy: has more soon */
  KithPieceMap *map; /* the pieces it says it has (Kith-Pieces), or NULL: its first @available bytes */
  gboolean fallback; /* asked only for pieces no other source has (the origin) */
  gboolean gone;     /* lied or failed: asked for nothing more */
  guint inflight;
  gint64 busy_until_us;
} KithPiecePickerSource;

/* A request in flight: for which piece, of which source, since when. */
typedef struct {
  const KithPiecePickerSource *source;
  guint index;
  gint64 started_us;
} KithPiecePickerRequest;

/* What the fetch knows, borrowed for one pick. */
typedef struct {
  const KithPieceList *pieces;
  guint count;         /* pieces in @pieces */
  guint first_missing; /* every piece before it is verified */
  const guint8 *verified; /* per piece */
  const guint8 *asked;    /* per piece: requests in flight for it */
  guint16 *avail;         /* per piece: written by kith_piece_picker_count_avail() */
  GPtrArray *sources;     /* of structs that begin with a KithPiecePickerSource */
  GPtrArray *requests;    /* of structs that begin with a KithPiecePickerRequest, oldest first */
  gint64 mean_piece_us;   /* mean time of a piece kept so far, 0: none yet */
} KithPiecePicker;

/* Sets @picker's avail to how many sources (neither gone nor fallback) have each missing piece. */
void kith_piece_picker_count_avail (const KithPiecePicker *picker);
/* Whether @source may be asked for a piece at @now (not gone, not busy, a request free). */
gboolean kith_piece_picker_usable (const KithPiecePickerSource *source, gint64 now);
/* The piece to ask of @source at @now (g_get_monotonic_time() clock), or
 * KITH_PIECE_PICKER_NONE. Random among equally rare pieces (g_random). */
guint kith_piece_picker_pick (const KithPiecePicker *picker, const KithPiecePickerSource *source, gint64 now);

G_END_DECLS
