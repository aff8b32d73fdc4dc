/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* kith-fetch-attempt.c — one attempt of a fetch job against one source */
#include "kith-fetch-attempt.h"

#include "kith-fetch-blame.h"
#include "kith-fetch-pieces.h"
#include "kith-peering-error.h"

/* a body this small comes in a read or two: its progress is not worth a broadcast */
#define KITH_FETCH_ATTEMPT_SMALL_BODY (64 * 1024)

struct _KithFetchAttempt {
  const KithPeeringContext *ctx;
  KithFetchAttemptFuncs funcs;
  gpointer user_data;
  gchar *href;
  KithFetchAttemptKind kind;
  gchar *source;
  KithFetchAnnounce *announce; /* borrowed from the job */
  KithFetchDeadline *deadline; /* borrowed from the job */
  KithFetchDownload *download;
  guint64 done;
  guint64 total;
  gint64 last_bytes_us; /* a stream: when bytes last came */
  guint watch_id;       /* a stream: the check for stalls and pace */
};

static const KithFetchDownloadFuncs kith_fetch_attempt_download_funcs;

/* An attempt that failed or could not begin: the origin's failure is the operator's to see;
 * a peer's is held against it (in pieces, the sources were blamed one by one as they failed). */
static void
kith_fetch_attempt_count_failure (const KithPeeringContext *context, const gchar *href,
                                  KithFetchAttemptKind kind, const gchar *source, const GError *error)
{
  if (kind == KITH_FETCH_ATTEMPT_ORIGIN)
    g_warning ("%s: origin download failed: %s", href, error->message);
  else
    kith_fetch_blame_source (context, href, source, error);
}

KithFetchAttempt *
kith_fetch_attempt_new (const KithPeeringContext *context, const gchar *href, KithFetchAttemptKind kind,
                        const gchar *source, const gchar *sha256, guint64 size, KithAliasTrust trust,
                        KithFetchAnnounce *announce, KithFetchDeadline *deadline,
                        const KithFetchAttemptFuncs *funcs, gpointer user_data, GError **error)
{
  KithFetchAttempt *self = g_new0 (KithFetchAttempt, 1);
  GError *local_error = NULL;

  self->download = kith_fetch_download_new (context, href, sha256, size, trust,
                                            &kith_fetch_attempt_download_funcs, self, &local_error);
  if (self->download == NULL) {
    kith_fetch_attempt_count_failure (context, href, kind, source, local_error);
    g_propagate_error (error, local_error);
    g_free (self);
    return NULL;
  }
  self->ctx = context;
  self->funcs = *funcs;
  self->user_data = user_data;
  self->href = g_strdup (href);
  self->kind = kind;
  self->source = g_strdup (source);
  self->announce = announce;
  self->deadline = deadline;
  self->total = size;
  if (kind != KITH_FETCH_ATTEMPT_PEER)
    kith_fetch_download_serve (self->download);
  return self;
}

void
kith_fetch_attempt_free (KithFetchAttempt *self)
{
  g_clear_handle_id (&self->watch_id, g_source_remove);
  /* what we announced of this download is not said again once it is over */
  if (kith_fetch_attempt_announces (self))
    kith_fetch_announce_stop (self->announce);
  kith_fetch_download_free (self->download);
  g_free (self->href);
  g_free (self->source);
  g_free (self);
}

KithFetchAttemptKind
kith_fetch_attempt_get_kind (KithFetchAttempt *self)
{
  return self->kind;
}

gboolean
kith_fetch_attempt_in_pieces (KithFetchAttempt *self)
{
  return kith_fetch_download_in_pieces (self->download);
}

gboolean
kith_fetch_attempt_announces (KithFetchAttempt *self)
{
  return self->kind == KITH_FETCH_ATTEMPT_ORIGIN || kith_fetch_download_is_served (self->download);
}

void
kith_fetch_attempt_get_progress (KithFetchAttempt *self, guint64 *done, guint64 *total)
{
  *done = self->done;
  *total = self->total;
}

gchar *
kith_fetch_attempt_get_partial_path (KithFetchAttempt *self)
{
  return kith_fetch_download_get_partial_path (self->download);
}

const gchar *
kith_fetch_attempt_get_source (KithFetchAttempt *self)
{
  if (self->kind == KITH_FETCH_ATTEMPT_PIECES)
    return kith_fetch_download_get_top_source (self->download);
  return self->source;
}

static void
kith_fetch_attempt_announce (KithFetchAttempt *self, gboolean force)
{
  kith_fetch_announce_progress (self->announce, self->download, self->done, self->total, force);
}

/* ---- the download's reports ---- */

static void
kith_fetch_attempt_started (KithFetchDownload *download, guint64 length, gpointer user_data)
{
  KithFetchAttempt *self = user_data;
  /* said at once only when it is news (waiters stream only with a known size) and more than
   * a read or two: a small body's "complete" follows a moment later */
  gboolean news = length > 0 && length != self->total && length > KITH_FETCH_ATTEMPT_SMALL_BODY;

  if (length > 0)
    self->total = length;
  if (kith_fetch_attempt_announces (self))
    kith_fetch_attempt_announce (self, news);
}

static void
kith_fetch_attempt_progress (KithFetchDownload *download, guint64 done, gpointer user_data)
{
  KithFetchAttempt *self = user_data;

  self->done = done;
  self->last_bytes_us = g_get_monotonic_time ();
  if (kith_fetch_attempt_announces (self))
    kith_fetch_attempt_announce (self, FALSE);
  self->funcs.progress (self, self->user_data);
}

static void
kith_fetch_attempt_source_failed (KithFetchDownload *download, const gchar *node, const GError *error,
                                  gpointer user_data)
{
  KithFetchAttempt *self = user_data;

  kith_fetch_blame_peer (self->ctx, node, error);
  self->funcs.source_failed (self, node, error, self->user_data);
}

static void
kith_fetch_attempt_starved (KithFetchDownload *download, gpointer user_data)
{
  KithFetchAttempt *self = user_data;

  self->funcs.starved (self, self->user_data);
}

/* The copy is stored: counted, announced (a copy from a peer too: who holds what is how the
 * LAN finds it fast; a download we announced ends with it, "complete" being its 100 %), its
 * source noted as a holder and forgiven what it failed before. */
static void
kith_fetch_attempt_got (KithFetchAttempt *self, const KithAliasEntry *entry)
{
  KithMetrics *metrics = self->ctx->metrics;
  gboolean from_origin = self->kind == KITH_FETCH_ATTEMPT_ORIGIN;
  const gchar *source = kith_fetch_attempt_get_source (self);

  /* a download resumed after a broken one has bytes of both kinds of source */
  guint64 origin_bytes = MIN (kith_fetch_download_get_origin_bytes (self->download), entry->size);

  kith_metrics_add (metrics, from_origin ? "kith_peering_misses_total" : "kith_peering_hits_total", NULL, 1);
  kith_metrics_add (metrics, "kith_peering_origin_bytes_total", NULL, origin_bytes);
  kith_metrics_add (metrics, "kith_peering_peer_bytes_total", NULL, entry->size - origin_bytes);
  if (self->kind == KITH_FETCH_ATTEMPT_STREAM)
    kith_metrics_add (metrics, "kith_peering_streamed_total", NULL, 1);
  kith_fetch_announce_complete (self->announce, entry);
  kith_peer_table_note_holder (self->ctx->peers, self->href, source);
  g_message ("%s: %" G_GUINT64_FORMAT " bytes from %s", self->href, entry->size, source);
  kith_peer_table_forgive (self->ctx->peers, source);
}

/* A partial copy that ended short or is gone (404), rather than one that broke or lied. */
static gboolean
kith_fetch_attempt_copy_ended (const GError *error)
{
  return g_error_matches (error, KITH_PEERING_ERROR, KITH_PEERING_ERROR_FAILED) ||
         g_error_matches (error, KITH_PEERING_ERROR, KITH_PEERING_ERROR_NOT_FOUND);
}

/* Every end but busy and too slow: the books, then the job (which may free @self). */
static void
kith_fetch_attempt_end (KithFetchAttempt *self, const KithAliasEntry *entry, const GError *error)
{
  if (entry != NULL) {
    kith_fetch_attempt_got (self, entry);
  } else if (self->kind == KITH_FETCH_ATTEMPT_STREAM && kith_fetch_attempt_copy_ended (error) &&
             self->funcs.ended (self, error, self->user_data)) {
    return; /* the job reads another copy or waits; @self may be gone */
  } else if (self->kind != KITH_FETCH_ATTEMPT_PIECES) {
    kith_fetch_attempt_count_failure (self->ctx, self->href, self->kind, self->source, error);
  }
  self->funcs.finished (self, entry, error, self->user_data);
}

static void
kith_fetch_attempt_finished (KithFetchDownload *download, const KithAliasEntry *entry, const GError *error,
                             gpointer user_data)
{
  KithFetchAttempt *self = user_data;

  if (error != NULL && self->kind == KITH_FETCH_ATTEMPT_STREAM && kith_fetch_download_is_busy (download)) {
    /* not a fault: it has all the readers it takes */
    kith_metrics_add (self->ctx->metrics, "kith_peering_stream_busy_total", NULL, 1);
    self->funcs.busy (self, self->user_data);
    return;
  }
  kith_fetch_attempt_end (self, entry, error);
}

static const KithFetchDownloadFuncs kith_fetch_attempt_download_funcs = {
  .started = kith_fetch_attempt_started,
  .progress = kith_fetch_attempt_progress,
  .source_failed = kith_fetch_attempt_source_failed,
  .starved = kith_fetch_attempt_starved,
  .finished = kith_fetch_attempt_finished,
};

/* ---- the whole file from one URL ---- */

/* While streaming, a source that sends nothing for stall-ms is left like a broken one;
 * one that keeps sending is followed for follow-max-ms, like a downloader whose progress
 * moves, and after that only while it keeps pace (kith_fetch_deadline_on_pace()), before a
 * fetch that may use the origin goes there. */
static gboolean
kith_fetch_attempt_watch (gpointer user_data)
{
  KithFetchAttempt *self = user_data;
  const KithPeeringTimings *timings = self->ctx->timings;
  gint64 idle_us = g_get_monotonic_time () - self->last_bytes_us;
  guint left_ms;

  if (kith_fetch_deadline_passed (self->deadline, TRUE, &left_ms) &&
      !kith_fetch_deadline_on_pace (self->deadline, self->done, self->total)) {
    self->watch_id = 0;
    g_message ("%s: %s still streaming after %u ms, too slowly to finish within %u ms; fetching from the origin",
               self->href, self->source, timings->follow_max_ms,
               timings->follow_max_ms * KITH_FETCH_DEADLINE_FOLLOW_PACE);
    self->funcs.too_slow (self, self->user_data);
    return G_SOURCE_REMOVE;
  }
  if (idle_us >= (gint64) timings->stall_ms * 1000) {
    g_autoptr (GError) error = g_error_new (G_IO_ERROR, G_IO_ERROR_TIMED_OUT, "%s sent nothing for %u ms",
                                           self->source, timings->stall_ms);
    self->watch_id = 0;
    kith_fetch_attempt_end (self, NULL, error);
    return G_SOURCE_REMOVE;
  }
  return G_SOURCE_CONTINUE;
}

void
kith_fetch_attempt_start (KithFetchAttempt *self, const gchar *url)
{
  /* the elected one says so before it connects: reaching a distant origin (routing, TLS,
   * the first response) can outlast the short wait of the others for its first word */
  if (self->kind == KITH_FETCH_ATTEMPT_ORIGIN)
    kith_fetch_attempt_announce (self, TRUE);
  if (self->kind == KITH_FETCH_ATTEMPT_STREAM) {
    self->last_bytes_us = g_get_monotonic_time ();
    self->watch_id = g_timeout_add (MAX (self->ctx->timings->stall_ms / 4, 10), kith_fetch_attempt_watch, self);
  }
  kith_fetch_download_start (self->download, url, self->source);
}

/* ---- in pieces ---- */

void
kith_fetch_attempt_start_pieces (KithFetchAttempt *self, const KithPieceList *pieces, const gchar *url,
                                 guint64 available)
{
  kith_fetch_attempt_announce (self, TRUE);
  kith_fetch_download_start_pieces (self->download, pieces, self->source, url, available);
}

void
kith_fetch_attempt_join (KithFetchAttempt *self, KithFetchStreamers *streamers, const KithPacket *packet,
                         guint32 request_id, const gchar *sha256, guint64 size, const gchar *preferred)
{
  kith_fetch_pieces_join (self->download, streamers, packet, request_id, sha256, size, preferred);
}

void
kith_fetch_attempt_join_streamers (KithFetchAttempt *self, KithFetchStreamers *streamers)
{
  kith_fetch_pieces_join_streamers (self->download, streamers);
}

void
kith_fetch_attempt_add_origin (KithFetchAttempt *self)
{
  kith_fetch_download_add_fallback (self->download, "origin", self->href);
}
