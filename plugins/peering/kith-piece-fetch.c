/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* kith-piece-fetch.c — a file in pieces from several sources (kith-piece-fetch.h)
 *
 * Each request is one Range GET of one piece, held in memory until it is complete and
 * its SHA-256 matches the list; only then is it written to the file. So nothing
 * unverified reaches the disk, a piece asked of two sources never mixes their bytes, and
 * memory is bounded by the requests in flight (at most 16 MiB of pieces). Which piece a
 * free source is asked for is the picker's choice (kith-piece-picker.h).
 */
#include "kith-piece-fetch.h"

#include <string.h>

#include "kith-peer-download.h"
#include "kith-peering-error.h"
#include "kith-piece-map.h"
#include "kith-piece-picker.h"
#include "kith-sha256.h"

#define KITH_PIECE_FETCH_TICK_MS 50
/* a source that answered 503 (all its readers taken) is not asked again this long */
#define KITH_PIECE_FETCH_BUSY_MS 1000
/* a source without a piece map that refused a piece (416: it has not got it yet) is not
 * asked again this long (one announcement interval) */
#define KITH_PIECE_FETCH_MISSING_MS 250

typedef struct {
  KithPiecePickerSource has; /* first: the picker reads the sources as these */
  gchar *node;
  gchar *url;
  guint64 bytes; /* verified bytes it sent */
} KithPieceSource;

typedef struct {
  KithPiecePickerRequest pick; /* first: the picker reads the requests as these */
  KithPieceFetch *fetch;
  KithPieceSource *source;
  guint64 offset;
  guint64 length;
  KithPeerDownload *download;
  KithSha256 *checksum;
  guint8 *buffer;
  gint64 last_bytes_us;
} KithPieceRequest;

struct _KithPieceFetch {
  SoupSession *session;
  KithMetrics *metrics;
  KithPieceList *pieces;
  KithAliasWriter *writer;
  guint stall_ms;
  KithPieceFetchFuncs funcs;
  gpointer user_data;
  GPtrArray *sources;  /* KithPieceSource*, owned; never removed (requests point at them) */
  GPtrArray *requests; /* KithPieceRequest* in flight, owned */
  guint8 *verified;    /* per piece */
  guint8 *asked;       /* per piece: requests in flight for it */
  guint16 *avail;      /* per piece: sources that have it (as of the last schedule) */
  guint count;
  guint verified_count;
  guint first_missing;
  guint64 prefix;
  guint64 done;
  guint max_inflight;
  gint64 piece_us_total;
  guint piece_us_count;
  gint64 last_progress_us;
  guint tick_id;
  guint idle_id;
  gboolean finished;
  gboolean starved; /* no source left, told the caller; cleared by a new source */
  gboolean told;    /* the caller was told (starved) since the last piece kept */
};

static void kith_piece_fetch_schedule (KithPieceFetch *self);

static void
kith_piece_source_free (KithPieceSource *source)
{
  g_free (source->node);
  g_free (source->url);
  kith_piece_map_free (source->has.map);
  g_free (source);
}

static void
kith_piece_request_free (KithPieceRequest *request)
{
  g_clear_pointer (&request->download, kith_peer_download_free);
  kith_sha256_free (request->checksum);
  g_free (request->buffer);
  g_free (request);
}

static void
kith_piece_fetch_count (KithPieceFetch *self, const gchar *result)
{
  g_autofree gchar *labels = g_strdup_printf ("result=\"%s\"", result);
  kith_metrics_add (self->metrics, "kith_peering_pieces_total", labels, 1);
}

/* Takes @request out of flight (its piece may be asked again) and frees it. */
static void
kith_piece_fetch_drop (KithPieceFetch *self, KithPieceRequest *request)
{
  self->asked[request->pick.index]--;
  request->source->has.inflight--;
  g_ptr_array_remove_fast (self->requests, request); /* frees it */
}

static void
kith_piece_fetch_finish (KithPieceFetch *self, const GError *error)
{
  self->finished = TRUE;
  g_clear_handle_id (&self->tick_id, g_source_remove);
  g_clear_handle_id (&self->idle_id, g_source_remove);
  g_ptr_array_set_size (self->requests, 0);
  self->funcs.finished (self, error, self->user_data);
}

/* @source lied or failed: nothing more from it; its pieces in flight go back. */
static void
kith_piece_fetch_lose_source (KithPieceFetch *self, KithPieceSource *source, const GError *error)
{
  source->has.gone = TRUE;
  for (guint i = self->requests->len; i > 0; i--) {
    KithPieceRequest *request = g_ptr_array_index (self->requests, i - 1);
    if (request->source == source)
      kith_piece_fetch_drop (self, request);
  }
  self->funcs.source_failed (self, source->node, error, self->user_data);
}

static gboolean
kith_piece_fetch_write (KithPeerDownload *download G_GNUC_UNUSED, const guint8 *data, gsize len,
                        guint64 offset, gpointer user_data, GError **error)
{
  KithPieceRequest *request = user_data;
  guint64 at = offset - request->offset;

  /* the download holds the range to its length; checked again before the copy */
  if (offset < request->offset || at + len > request->length) {
    g_set_error (error, KITH_PEERING_ERROR, KITH_PEERING_ERROR_HASH_MISMATCH,
                 "%s sent bytes outside piece %u", request->source->node, request->pick.index);
    return FALSE;
  }
  memcpy (request->buffer + at, data, len);
  kith_sha256_update (request->checksum, data, len);
  request->last_bytes_us = g_get_monotonic_time ();
  return TRUE;
}

/* The contiguous verified prefix and the first piece still missing move on. */
static void
kith_piece_fetch_advance (KithPieceFetch *self)
{
  while (self->first_missing < self->count && self->verified[self->first_missing]) {
    guint64 offset, length;
    kith_piece_list_get_piece (self->pieces, self->first_missing, &offset, &length);
    self->prefix = offset + length;
    self->first_missing++;
  }
}

/* A complete piece that matched: written, its duplicates cancelled, counted. */
static gboolean
kith_piece_fetch_keep (KithPieceFetch *self, KithPieceRequest *request, GError **error)
{
  guint index = request->pick.index;

  if (!kith_alias_writer_write_at (self->writer, request->offset, request->buffer, request->length, error))
    return FALSE;
  self->verified[index] = TRUE;
  self->verified_count++;
  self->done += request->length;
  request->source->bytes += request->length;
  g_debug ("piece %u from %s in %" G_GINT64_FORMAT " ms (%u in flight)", index, request->source->node,
           (g_get_monotonic_time () - request->pick.started_us) / 1000, self->requests->len);
  self->piece_us_total += g_get_monotonic_time () - request->pick.started_us;
  self->piece_us_count++;
  self->last_progress_us = g_get_monotonic_time ();
  self->told = FALSE;
  kith_piece_fetch_count (self, "ok");
  kith_metrics_add (self->metrics, "kith_peering_piece_bytes_total", NULL, request->length);
  for (guint i = self->requests->len; i > 0; i--) {
    KithPieceRequest *other = g_ptr_array_index (self->requests, i - 1);
    if (other != request && other->pick.index == index) {
      kith_piece_fetch_count (self, "dropped");
      kith_piece_fetch_drop (self, other);
    }
  }
  kith_piece_fetch_advance (self);
  if (self->funcs.piece != NULL)
    self->funcs.piece (self, index, self->user_data);
  return TRUE;
}

/* @source lied about what it has (a map that is not one, takes pieces back, or claims one it
 * refuses): counted, and it loses its share like a source that sent a bad piece. */
static void
kith_piece_fetch_lie (KithPieceFetch *self, KithPieceSource *source, const GError *error)
{
  kith_piece_fetch_count (self, "lied");
  kith_piece_fetch_lose_source (self, source, error);
  kith_piece_fetch_schedule (self);
}

/* The piece map @source sent with an answer (@hex, NULL: none) becomes what it has. FALSE
 * when it lies: not a map of this file, or one without a piece it said it had (a copy
 * never loses a verified piece). */
static gboolean
kith_piece_fetch_update_map (KithPieceFetch *self, KithPieceSource *source, const gchar *hex, GError **error)
{
  g_autoptr (GError) local_error = NULL;
  g_autoptr (KithPieceMap) map = NULL;

  if (hex == NULL)
    return TRUE;
  map = kith_piece_map_new_from_hex (hex, self->count, &local_error);
  if (map == NULL) {
    g_set_error (error, KITH_PEERING_ERROR, KITH_PEERING_ERROR_HASH_MISMATCH, "%s sent a bad piece map: %s",
                 source->node, local_error->message);
    return FALSE;
  }
  if (source->has.map != NULL && !kith_piece_map_covers (map, source->has.map)) {
    g_set_error (error, KITH_PEERING_ERROR, KITH_PEERING_ERROR_HASH_MISMATCH,
                 "%s no longer has pieces it said it had", source->node);
    return FALSE;
  }
  kith_piece_map_free (source->has.map);
  source->has.map = g_steal_pointer (&map);
  return TRUE;
}

static void
kith_piece_fetch_request_finished (KithPeerDownload *download, const GError *download_error, gpointer user_data)
{
  KithPieceRequest *request = user_data;
  KithPieceFetch *self = request->fetch;
  KithPieceSource *source = request->source;
  g_autoptr (GError) error = download_error != NULL ? g_error_copy (download_error) : NULL;
  g_autoptr (GError) lie = NULL;
  guint status = kith_peer_download_get_status (download);

  if (!kith_piece_fetch_update_map (self, source, kith_peer_download_get_header (download, KITH_PIECE_MAP_HEADER),
                                    &lie)) {
    kith_piece_fetch_lie (self, source, lie);
    return;
  }
  if (error != NULL && status == SOUP_STATUS_REQUESTED_RANGE_NOT_SATISFIABLE) {
    /* refused: a lie if its map says it has the piece, else it has not got it yet */
    if (source->has.map != NULL && kith_piece_map_get (source->has.map, request->pick.index)) {
      g_set_error (&lie, KITH_PEERING_ERROR, KITH_PEERING_ERROR_HASH_MISMATCH,
                   "%s refused piece %u, which it says it has", source->node, request->pick.index);
      kith_piece_fetch_lie (self, source, lie);
      return;
    }
    if (source->has.map == NULL)
      source->has.busy_until_us = g_get_monotonic_time () + KITH_PIECE_FETCH_MISSING_MS * 1000;
    kith_piece_fetch_count (self, "missing");
    kith_piece_fetch_drop (self, request);
    kith_piece_fetch_schedule (self);
    return;
  }
  if (error != NULL && status == SOUP_STATUS_SERVICE_UNAVAILABLE) {
    source->has.busy_until_us = g_get_monotonic_time () + KITH_PIECE_FETCH_BUSY_MS * 1000;
    kith_piece_fetch_count (self, "busy");
    kith_piece_fetch_drop (self, request);
    kith_piece_fetch_schedule (self);
    return;
  }
  if (error == NULL && !kith_piece_list_matches (self->pieces, request->pick.index, kith_sha256_get_string (request->checksum)))
    g_set_error (&error, KITH_PEERING_ERROR, KITH_PEERING_ERROR_HASH_MISMATCH,
                 "piece %u from %s does not match the piece list", request->pick.index, source->node);
  if (error == NULL && kith_piece_fetch_keep (self, request, &error)) {
    kith_piece_fetch_drop (self, request);
    self->funcs.progress (self, self->prefix, self->done, self->user_data);
    kith_piece_fetch_schedule (self);
    return;
  }
  kith_piece_fetch_count (self, g_error_matches (error, KITH_PEERING_ERROR, KITH_PEERING_ERROR_HASH_MISMATCH)
                                    ? "bad" : "failed");
  kith_piece_fetch_lose_source (self, source, error); /* drops @request too */
  kith_piece_fetch_schedule (self);
}

static const KithPeerDownloadFuncs kith_piece_fetch_request_funcs = {
  .write = kith_piece_fetch_write,
  .finished = kith_piece_fetch_request_finished,
};

static void
kith_piece_fetch_ask (KithPieceFetch *self, KithPieceSource *source, guint index)
{
  KithPieceRequest *request = g_new0 (KithPieceRequest, 1);

  request->fetch = self;
  request->source = source;
  request->pick.source = &source->has;
  request->pick.index = index;
  kith_piece_list_get_piece (self->pieces, index, &request->offset, &request->length);
  request->checksum = kith_sha256_new ();
  request->buffer = g_malloc (request->length);
  request->pick.started_us = request->last_bytes_us = g_get_monotonic_time ();
  request->download = kith_peer_download_new (self->session, source->url, source->node, self->metrics,
                                              &kith_piece_fetch_request_funcs, request);
  kith_peer_download_set_range (request->download, request->offset, request->length);
  self->asked[index]++;
  source->has.inflight++;
  g_ptr_array_add (self->requests, request);
  kith_peer_download_start (request->download);
}

/* What the picker needs to know, as of now (pieces kept move on first_missing and the mean). */
static void
kith_piece_fetch_picker (KithPieceFetch *self, KithPiecePicker *picker)
{
  *picker = (KithPiecePicker) {
    .pieces = self->pieces,
    .count = self->count,
    .first_missing = self->first_missing,
    .verified = self->verified,
    .asked = self->asked,
    .avail = self->avail,
    .sources = self->sources,
    .requests = self->requests,
    .mean_piece_us = self->piece_us_count > 0 ? self->piece_us_total / self->piece_us_count : 0,
  };
}

static guint
kith_piece_fetch_pick (KithPieceFetch *self, KithPieceSource *source, gint64 now)
{
  KithPiecePicker picker;

  kith_piece_fetch_picker (self, &picker);
  return kith_piece_picker_pick (&picker, &source->has, now);
}

/* Hands out pieces to free sources; ends the fetch when all are verified, or when no
 * source is left to bring the others. */
static void
kith_piece_fetch_schedule (KithPieceFetch *self)
{
  gint64 now = g_get_monotonic_time ();
  gboolean any_left = FALSE;
  KithPiecePicker picker;
  guint offset;

  if (self->finished)
    return;
  if (self->verified_count == self->count) {
    kith_piece_fetch_finish (self, NULL);
    return;
  }
  kith_piece_fetch_picker (self, &picker);
  kith_piece_picker_count_avail (&picker);
  /* from a random source on: none is always first to take the rarest pieces */
  offset = self->sources->len > 0 ? (guint) g_random_int_range (0, (gint32) self->sources->len) : 0;
  for (guint k = 0; k < self->sources->len && self->requests->len < self->max_inflight; k++) {
    KithPieceSource *source = g_ptr_array_index (self->sources, (k + offset) % self->sources->len);
    guint index;
    while (kith_piece_picker_usable (&source->has, now) && self->requests->len < self->max_inflight &&
           (index = kith_piece_fetch_pick (self, source, now)) != KITH_PIECE_PICKER_NONE)
      kith_piece_fetch_ask (self, source, index);
  }
  for (guint i = 0; i < self->sources->len; i++)
    any_left |= !((KithPieceSource *) g_ptr_array_index (self->sources, i))->has.gone;
  if (!any_left && self->requests->len == 0 && self->funcs.starved != NULL) {
    /* the caller may find new sources (the LAN again, the origin); the pieces we have are
     * kept, and the tick ends the fetch if none brings one within stall-ms */
    if (!self->starved) {
      self->starved = self->told = TRUE;
      self->last_progress_us = now;
      self->funcs.starved (self, self->user_data); /* may add sources, not free the fetch */
    }
    return;
  }
  if (!any_left && self->requests->len == 0) {
    g_autoptr (GError) error = g_error_new (KITH_PEERING_ERROR, KITH_PEERING_ERROR_NO_SOURCE,
                                           "no source left for %u of %u pieces", self->count - self->verified_count,
                                           self->count);
    kith_piece_fetch_finish (self, error);
  }
}

/* Every tick: requests that brought nothing for stall-ms fail their source; nothing in
 * flight and no piece for stall-ms ends the fetch; else pieces are handed out again
 * (busy sources come back, slow pieces may be duplicated). */
static gboolean
kith_piece_fetch_tick (gpointer user_data)
{
  KithPieceFetch *self = user_data;
  gint64 now = g_get_monotonic_time ();
  gint64 stall_us = (gint64) self->stall_ms * 1000;

  for (guint i = self->requests->len; i > 0; i--) {
    KithPieceRequest *request;
    if (i > self->requests->len)
      continue; /* a source lost took several */
    request = g_ptr_array_index (self->requests, i - 1);
    if (now - request->last_bytes_us >= stall_us) {
      g_autoptr (GError) error = g_error_new (G_IO_ERROR, G_IO_ERROR_TIMED_OUT, "%s sent nothing for %u ms",
                                             request->source->node, self->stall_ms);
      kith_piece_fetch_count (self, "failed");
      kith_piece_fetch_lose_source (self, request->source, error);
    }
  }
  /* sources are left but none brought a piece for stall-ms (they have none we lack, or
   * went without a word): starved too, once per piece kept — the caller may find others */
  if (self->requests->len == 0 && now - self->last_progress_us >= stall_us && self->funcs.starved != NULL &&
      !self->told) {
    self->told = TRUE;
    self->last_progress_us = now;
    self->funcs.starved (self, self->user_data); /* may add sources, not free the fetch */
  }
  if (self->requests->len == 0 && now - self->last_progress_us >= stall_us) {
    g_autoptr (GError) error = g_error_new (G_IO_ERROR, G_IO_ERROR_TIMED_OUT,
                                           "no source brought a piece for %u ms", self->stall_ms);
    self->tick_id = 0;
    kith_piece_fetch_finish (self, error);
    return G_SOURCE_REMOVE;
  }
  /* last: the fetch may end, and be freed, in there (finishing removes this source) */
  kith_piece_fetch_schedule (self);
  return G_SOURCE_CONTINUE;
}

static gboolean
kith_piece_fetch_schedule_idle (gpointer user_data)
{
  KithPieceFetch *self = user_data;

  self->idle_id = 0;
  kith_piece_fetch_schedule (self);
  return G_SOURCE_REMOVE;
}

KithPieceFetch *
kith_piece_fetch_new (SoupSession *session, KithMetrics *metrics, const KithPieceList *pieces,
                      KithAliasWriter *writer, guint stall_ms, const KithPieceFetchFuncs *funcs, gpointer user_data)
{
  KithPieceFetch *self = g_new0 (KithPieceFetch, 1);
  guint64 piece_size = kith_piece_list_get_piece_size (pieces);

  self->session = g_object_ref (session);
  self->metrics = g_object_ref (metrics);
  self->pieces = kith_piece_list_copy (pieces);
  self->writer = writer;
  self->stall_ms = MAX (stall_ms, 1);
  self->funcs = *funcs;
  self->user_data = user_data;
  self->sources = g_ptr_array_new_with_free_func ((GDestroyNotify) kith_piece_source_free);
  self->requests = g_ptr_array_new_with_free_func ((GDestroyNotify) kith_piece_request_free);
  self->count = kith_piece_list_get_count (pieces);
  self->verified = g_new0 (guint8, self->count);
  self->asked = g_new0 (guint8, self->count);
  self->avail = g_new0 (guint16, self->count);
  self->max_inflight = (guint) MIN ((guint64) KITH_PIECE_FETCH_MAX_SOURCES * KITH_PIECE_PICKER_PER_SOURCE,
                                    MAX (KITH_PIECE_FETCH_MAX_BUFFERED / piece_size, 1));
  return self;
}

static KithPieceSource *
kith_piece_fetch_find_source (KithPieceFetch *self, const gchar *node)
{
  for (guint i = 0; i < self->sources->len; i++) {
    KithPieceSource *source = g_ptr_array_index (self->sources, i);
    if (g_strcmp0 (source->node, node) == 0)
      return source;
  }
  return NULL;
}

gboolean
kith_piece_fetch_has_source (KithPieceFetch *self, const gchar *node)
{
  return kith_piece_fetch_find_source (self, node) != NULL;
}

gboolean
kith_piece_fetch_add_source (KithPieceFetch *self, const gchar *node, const gchar *url, guint64 available,
                             gboolean growing)
{
  KithPieceSource *source = kith_piece_fetch_find_source (self, node);

  if (source == NULL) {
    if (self->sources->len >= KITH_PIECE_FETCH_MAX_SOURCES)
      return FALSE;
    source = g_new0 (KithPieceSource, 1);
    source->node = g_strdup (node);
    g_ptr_array_add (self->sources, source);
  }
  if (source->has.gone)
    return TRUE;
  /* a new URL (a new partial copy) is taken for the next piece; those in flight go on;
   * its piece map is not that of the old copy */
  if (g_strcmp0 (source->url, url) != 0)
    g_clear_pointer (&source->has.map, kith_piece_map_free);
  self->starved = FALSE;
  g_free (source->url);
  source->url = g_strdup (url);
  source->has.available = MIN (available, kith_piece_list_get_file_size (self->pieces));
  source->has.growing = growing && source->has.available < kith_piece_list_get_file_size (self->pieces);
  if (self->tick_id != 0 && self->idle_id == 0)
    self->idle_id = g_idle_add (kith_piece_fetch_schedule_idle, self);
  return TRUE;
}

gboolean
kith_piece_fetch_add_fallback (KithPieceFetch *self, const gchar *node, const gchar *url, guint64 available)
{
  KithPieceSource *source;

  if (!kith_piece_fetch_add_source (self, node, url, available, FALSE))
    return FALSE;
  source = kith_piece_fetch_find_source (self, node);
  if (source != NULL)
    source->has.fallback = TRUE;
  return TRUE;
}

void
kith_piece_fetch_start (KithPieceFetch *self)
{
  self->last_progress_us = g_get_monotonic_time ();
  self->tick_id = g_timeout_add (KITH_PIECE_FETCH_TICK_MS, kith_piece_fetch_tick, self);
  if (self->idle_id == 0)
    self->idle_id = g_idle_add (kith_piece_fetch_schedule_idle, self);
}

guint64
kith_piece_fetch_get_source_bytes (KithPieceFetch *self, const gchar *node)
{
  KithPieceSource *source = kith_piece_fetch_find_source (self, node);
  return source != NULL ? source->bytes : 0;
}

const gchar *
kith_piece_fetch_get_top_source (KithPieceFetch *self)
{
  KithPieceSource *top = NULL;

  for (guint i = 0; i < self->sources->len; i++) {
    KithPieceSource *source = g_ptr_array_index (self->sources, i);
    if (source->bytes > 0 && (top == NULL || source->bytes > top->bytes))
      top = source;
  }
  return top != NULL ? top->node : NULL;
}

gchar *
kith_piece_fetch_describe (KithPieceFetch *self)
{
  GString *text = g_string_new (NULL);

  for (guint i = 0; i < self->sources->len; i++) {
    KithPieceSource *source = g_ptr_array_index (self->sources, i);
    g_string_append_printf (text, "%s%s: %" G_GUINT64_FORMAT "%s", i > 0 ? ", " : "", source->node, source->bytes,
                            source->has.gone ? " (left)" : "");
  }
  return g_string_free (text, FALSE);
}

void
kith_piece_fetch_free (KithPieceFetch *self)
{
  if (self == NULL)
    return;
  g_clear_handle_id (&self->tick_id, g_source_remove);
  g_clear_handle_id (&self->idle_id, g_source_remove);
  g_ptr_array_unref (self->requests);
  g_ptr_array_unref (self->sources);
  g_object_unref (self->session);
  g_object_unref (self->metrics);
  kith_piece_list_free (self->pieces);
  g_free (self->verified);
  g_free (self->asked);
  g_free (self->avail);
  g_free (self);
}
