/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* kith-piece-picker.c — which piece to ask of which source (kith-piece-picker.h) */
#include "kith-piece-picker.h"

#include <string.h>

/* a piece in flight this long, and 4 times the mean piece time, may be asked of an idle
 * source too (the end of a fetch must not wait for its slowest source) */
#define KITH_PIECE_PICKER_DUPLICATE_MIN_MS 200
/* a growing copy is asked for pieces starting up to this many pieces past its announced
 * progress (4 MiB is 330 ms at 100 Mbit/s, more than the 250 ms between announcements) */
#define KITH_PIECE_PICKER_LOOKAHEAD 4

static gboolean
kith_piece_picker_source_has (const KithPiecePicker *picker, const KithPiecePickerSource *source, guint index)
{
  guint64 offset, length;

  if (source->map != NULL)
    return kith_piece_map_get (source->map, index);
  kith_piece_list_get_piece (picker->pieces, index, &offset, &length);
  if (source->growing)
    return offset < source->available + KITH_PIECE_PICKER_LOOKAHEAD * kith_piece_list_get_piece_size (picker->pieces);
  return offset + length <= source->available;
}

/* Near the end, a piece stuck on another source, asked of idle @source as well. */
static guint
kith_piece_picker_pick_duplicate (const KithPiecePicker *picker, const KithPiecePickerSource *source, gint64 now)
{
  gint64 min_age_us = MAX ((gint64) KITH_PIECE_PICKER_DUPLICATE_MIN_MS * 1000, 4 * picker->mean_piece_us);

  if (source->inflight > 0)
    return KITH_PIECE_PICKER_NONE;
  for (guint i = 0; i < picker->requests->len; i++) {
    const KithPiecePickerRequest *request = g_ptr_array_index (picker->requests, i);
    if (request->source != source && picker->asked[request->index] == 1 &&
        now - request->started_us >= min_age_us && kith_piece_picker_source_has (picker, source, request->index))
      return request->index;
  }
  return KITH_PIECE_PICKER_NONE;
}

/* Whether a partial copy announced more bytes than its last piece map has: it has pieces
 * we do not know of. */
static gboolean
kith_piece_picker_map_is_stale (const KithPiecePicker *picker, const KithPiecePickerSource *source)
{
  return source->map != NULL && source->growing &&
         (guint64) kith_piece_map_get_set_count (source->map) * kith_piece_list_get_piece_size (picker->pieces) <
             source->available;
}

/* One step of rarest first: piece @i replaces *@best if fewer sources have it, or, as
 * rare, with the chance that leaves every one of the *@ties equals equally likely. */
static void
kith_piece_picker_consider (const KithPiecePicker *picker, guint i, guint *best, guint *ties)
{
  if (*best == KITH_PIECE_PICKER_NONE || picker->avail[i] < picker->avail[*best]) {
    *best = i;
    *ties = 1;
  } else if (picker->avail[i] == picker->avail[*best] && g_random_int_range (0, (gint32) ++(*ties)) == 0) {
    *best = i;
  }
}

/* A piece its (stale) map does not claim, to be asked as a probe: it is sent if the copy
 * has it by now, else refused with the copy's map as it is (no lie either way). The
 * rarest, at random among equals. */
static guint
kith_piece_picker_pick_probe (const KithPiecePicker *picker, const KithPiecePickerSource *source)
{
  guint best = KITH_PIECE_PICKER_NONE, ties = 0;

  for (guint i = picker->first_missing; i < picker->count; i++) {
    if (picker->verified[i] || picker->asked[i] != 0 || kith_piece_map_get (source->map, i))
      continue;
    kith_piece_picker_consider (picker, i, &best, &ties);
  }
  return best;
}

/* Whether piece @index is past what growing @source (without a map) announced: asked of
 * it, the piece comes only when its own download gets there. */
static gboolean
kith_piece_picker_is_ahead (const KithPiecePicker *picker, const KithPiecePickerSource *source, guint index)
{
  guint64 offset, length;

  if (source->map != NULL || !source->growing)
    return FALSE;
  kith_piece_list_get_piece (picker->pieces, index, &offset, &length);
  return offset + length > source->available;
}

/* Rarest first: of the pieces nobody is asked for that @source has, one that the fewest
 * sources have, at random among those (so fetchers that start together start on different
 * pieces, and soon have pieces to trade); a piece past a growing copy's announced progress
 * only when it has none before (one source takes one piece at a time: waiting there for
 * its download, we would leave the pieces it has); else a duplicate. */
guint
kith_piece_picker_pick (const KithPiecePicker *picker, const KithPiecePickerSource *source, gint64 now)
{
  guint best = KITH_PIECE_PICKER_NONE, ties = 0;
  guint ahead = KITH_PIECE_PICKER_NONE, ahead_ties = 0;

  for (guint i = picker->first_missing; i < picker->count; i++) {
    if (picker->verified[i] || picker->asked[i] != 0)
      continue;
    if (source->fallback && picker->avail[i] > 0)
      continue; /* another source has it */
    if (!kith_piece_picker_source_has (picker, source, i)) {
      if (source->map == NULL && !source->growing &&
          i * kith_piece_list_get_piece_size (picker->pieces) >= source->available)
        break; /* it has nothing further on */
      continue;
    }
    if (kith_piece_picker_is_ahead (picker, source, i))
      kith_piece_picker_consider (picker, i, &ahead, &ahead_ties);
    else
      kith_piece_picker_consider (picker, i, &best, &ties);
  }
  if (best == KITH_PIECE_PICKER_NONE)
    best = ahead;
  if (best == KITH_PIECE_PICKER_NONE && kith_piece_picker_map_is_stale (picker, source))
    best = kith_piece_picker_pick_probe (picker, source);
  return best != KITH_PIECE_PICKER_NONE ? best : kith_piece_picker_pick_duplicate (picker, source, now);
}

void
kith_piece_picker_count_avail (const KithPiecePicker *picker)
{
  memset (picker->avail, 0, sizeof (guint16) * picker->count);
  for (guint j = 0; j < picker->sources->len; j++) {
    const KithPiecePickerSource *source = g_ptr_array_index (picker->sources, j);
    if (source->gone || source->fallback)
      continue;
    for (guint i = picker->first_missing; i < picker->count; i++)
      if (!picker->verified[i] && kith_piece_picker_source_has (picker, source, i))
        picker->avail[i]++;
  }
}

gboolean
kith_piece_picker_usable (const KithPiecePickerSource *source, gint64 now)
{
  return !source->gone && source->busy_until_us <= now && source->inflight < KITH_PIECE_PICKER_PER_SOURCE;
}
