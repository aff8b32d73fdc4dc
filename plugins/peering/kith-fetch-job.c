/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* kith-fetch-job.c — the requesting side for one URL (FIG. 4A, 4B, 6, 7; docs/architecture.md)
 *
 * SEARCHING   broadcast "I need", wait client-wait-ms; the first "I have" wins
 *             (broadcast "I found", fetch the alias).
 * WAITING     someone announced "downloading": follow its progress, fetch from it
 *             on "complete"; if it goes silent, give up on it.
 * FROM_ORIGIN nobody has it: the elected requester (lowest node id among those that
 *             asked at the same time) fetches it, announcing progress; the others
 *             wait for it — so a boot storm costs one origin download.
 * Every copy is verified (sha256) into the alias store before it is handed on, and a
 * peer's copy is taken only against a hash this node trusts (the caller's, or the one the
 * origin states in a HEAD) or from a peer that proves it is enrolled (trust=verified,
 * kith-fetch-offers.h); the copy records which (KithAliasTrust).
 *
 * Streaming (docs/protocol.md "Streaming"): a download from the origin is served to others
 * while it runs, as a partial copy (kith-partial-table.h) named in our "downloading". A
 * waiter with a trusted hash and a known size does not wait for "complete": it reads that
 * partial copy as it grows, into a partial copy of its own that it serves on in turn, and
 * verifies the whole at the end like any download from a peer. A partial copy with all
 * its readers (stream-readers) answers 503: the waiter reads another node's instead, so a
 * storm spreads over a tree of readers rather than one node's link.
 *
 * This file runs the fetch to its end: it takes the source its finder names, fetches from
 * it, and on a failure looks again, goes to the origin or gives up. Its parts report back to
 * it through callbacks and never call it: kith-fetch-finder.h (where the file comes from
 * next: the store, the search of the LAN, the downloader waited for and the election, the
 * partial copies read as they grow), kith-fetch-offers.h (which copies it takes, the
 * origin's digest, and the nodes it leaves out), kith-fetch-attempt.h (one download from one
 * source into the store, whole or in pieces, served as our partial copy and announced, and
 * what its end earns or costs its source), kith-fetch-deadline.h (when the origin is
 * better), kith-fetch-transfers.h (the callers riding along).
 */
#include "kith-fetch-job.h"

#include "kith-fetch-attempt.h"
#include "kith-fetch-finder.h"
#include "kith-fetch-transfers.h"
#include "kith-peering-error.h"

#define KITH_FETCH_JOB_MAX_PEER_ATTEMPTS 4
/* partial copies that ended under us in one job before that counts as a failed attempt */
#define KITH_FETCH_JOB_MAX_STREAM_ENDS 8

struct _KithFetchJob {
  const KithPeeringContext *ctx; /* borrowed from the service that owns the job */
  KithFetchJobFinishedFunc finished;
  gpointer finished_data;
  gchar *href;
  KithFetchOffers *offers; /* what the job trusts, and the nodes it leaves out */
  KithFetchFlags flags;
  KithFetchTransfers *transfers; /* the callers riding along */
  gboolean done;                 /* finished: its transfers have their end */
  KithFetchFinder *finder;       /* where the file comes from next */
  guint attempts;
  guint streams_ended;         /* partial copies that ended under us (kith_fetch_job_attempt_ended) */
  KithFetchDeadline *deadline; /* from the job's creation */
  gchar *source;               /* node id, "origin", "relay" or "cache" */
  GCancellable *cancellable;   /* the origin's HEAD, the relay's fetch */
  KithFetchAttempt *attempt;   /* the download in progress, or NULL */
  KithFetchAnnounce *announce; /* what we tell the LAN of it */
  guint start_idle_id;
};

static void kith_fetch_job_fail_literal (KithFetchJob *job, gint code, const gchar *message);
static void kith_fetch_job_from_origin (KithFetchJob *job);
static void kith_fetch_job_pieces_failed (KithFetchJob *job, const GError *error);
static const KithFetchFinderFuncs kith_fetch_job_finder_funcs;

const gchar *
kith_fetch_job_get_href (KithFetchJob *job)
{
  return job->href;
}

gboolean
kith_fetch_job_serves (KithFetchJob *job, const gchar *url, const gchar *sha256, guint64 size, KithFetchFlags flags)
{
  const gchar *trusted;

  if (job->done || g_strcmp0 (job->href, url) != 0)
    return FALSE;
  if (sha256 == NULL && size == 0)
    return TRUE;
  trusted = kith_fetch_offers_get_sha256 (job->offers);
  return job->flags == flags && sha256 != NULL && trusted != NULL &&
         g_ascii_strcasecmp (trusted, sha256) == 0 &&
         (size == 0 || kith_fetch_offers_get_size (job->offers) == size);
}

static gboolean
kith_fetch_job_may_use_origin (KithFetchJob *job)
{
  return kith_fetch_deadline_origin_allowed (job->deadline);
}

/* Every transfer of the job was cancelled: the job stops too. */
static void
kith_fetch_job_cancelled (gpointer user_data)
{
  KithFetchJob *job = user_data;

  kith_fetch_finder_end (job->finder);
  kith_fetch_job_fail_literal (job, KITH_PEERING_ERROR_CANCELLED, "cancelled");
}

KithFetchJob *
kith_fetch_job_new (const KithPeeringContext *context, const gchar *href, const gchar *sha256,
                    guint64 size, guint flags, KithFetchJobFinishedFunc finished, gpointer user_data)
{
  KithFetchJob *job = g_new0 (KithFetchJob, 1);
  job->ctx = context;
  job->finished = finished;
  job->finished_data = user_data;
  job->href = g_strdup (href);
  job->offers = kith_fetch_offers_new (context, href, sha256, size);
  job->flags = flags;
  job->transfers = kith_fetch_transfers_new (kith_fetch_job_cancelled, job);
  job->cancellable = g_cancellable_new ();
  job->deadline = kith_fetch_deadline_new (context, flags);
  job->finder = kith_fetch_finder_new (context, href, flags, job->offers, job->deadline,
                                       &kith_fetch_job_finder_funcs, job);
  job->announce = kith_fetch_announce_new (context, href);
  return job;
}

/* Where the job's bytes come from now: a node id, "origin", "relay" or "cache". */
static void
kith_fetch_job_set_source (KithFetchJob *job, const gchar *source)
{
  gchar *old = job->source;

  job->source = g_strdup (source);
  g_free (old);
}

static void
kith_fetch_job_clear_timer (KithFetchJob *job)
{
  kith_fetch_finder_stop (job->finder);
}

static void
kith_fetch_job_reset_download (KithFetchJob *job)
{
  g_clear_pointer (&job->attempt, kith_fetch_attempt_free);
  kith_fetch_finder_clear_progress (job->finder);
}

void
kith_fetch_job_free (KithFetchJob *job)
{
  kith_fetch_transfers_free (job->transfers);
  if (job->start_idle_id != 0)
    g_source_remove (job->start_idle_id);
  kith_fetch_job_clear_timer (job);
  g_cancellable_cancel (job->cancellable);
  kith_fetch_job_reset_download (job);
  g_object_unref (job->cancellable);
  g_free (job->href);
  kith_fetch_finder_free (job->finder);
  kith_fetch_deadline_free (job->deadline);
  kith_fetch_announce_free (job->announce);
  g_free (job->source);
  kith_fetch_offers_free (job->offers);
  g_free (job);
}

void
kith_fetch_job_set_pieces (KithFetchJob *job, const KithPieceList *pieces)
{
  kith_fetch_offers_set_pieces (job->offers, pieces);
}

/* Mirrors the job onto every transfer attached to it: the progress of its attempt, or of
 * the downloader it waits for. */
static void
kith_fetch_job_publish (KithFetchJob *job, KithTransferState state)
{
  guint64 done;
  guint64 total;

  if (job->attempt != NULL)
    kith_fetch_attempt_get_progress (job->attempt, &done, &total);
  else
    kith_fetch_finder_get_progress (job->finder, &done, &total);
  kith_fetch_transfers_publish (job->transfers, job->source, done, total, state);
}

static void
kith_fetch_job_finish (KithFetchJob *job, const KithAliasEntry *entry, const GError *error)
{
  kith_fetch_job_clear_timer (job);
  job->done = TRUE;
  kith_fetch_transfers_finish (job->transfers, job->source, entry, error);
  job->finished (job, job->finished_data); /* frees the job */
}

void
kith_fetch_job_abort (KithFetchJob *job, const GError *error)
{
  kith_fetch_job_finish (job, NULL, error);
}

static void
kith_fetch_job_fail_literal (KithFetchJob *job, gint code, const gchar *message)
{
  g_autoptr (GError) error = g_error_new_literal (KITH_PEERING_ERROR, code, message);
  kith_fetch_job_finish (job, NULL, error);
}

void
kith_fetch_job_add_transfer (KithFetchJob *job, KithTransfer *transfer)
{
  kith_fetch_transfers_add (job->transfers, transfer);
}

/* ---- our own download ---- */

gboolean
kith_fetch_job_get_origin_progress (KithFetchJob *job, guint64 *done, guint64 *total, gchar **alias_path)
{
  *alias_path = NULL;
  if (job->attempt == NULL || !kith_fetch_attempt_announces (job->attempt))
    return FALSE;
  kith_fetch_attempt_get_progress (job->attempt, done, total);
  *alias_path = kith_fetch_attempt_get_partial_path (job->attempt);
  return TRUE;
}

/* One more attempt failed: the LAN again, the origin after a few, or the end. */
static void
kith_fetch_job_retry (KithFetchJob *job, const GError *error)
{
  if (++job->attempts < KITH_FETCH_JOB_MAX_PEER_ATTEMPTS)
    kith_fetch_finder_search (job->finder);
  else if (kith_fetch_job_may_use_origin (job))
    kith_fetch_job_from_origin (job);
  else
    kith_fetch_job_finish (job, NULL, error);
}

/* An attempt of @kind failed or could not begin, its source blamed (kith-fetch-attempt.h):
 * the origin's failure ends the job; a peer is left out, and the LAN asked again (the job
 * may be gone after this). */
static void
kith_fetch_job_failed (KithFetchJob *job, KithFetchAttemptKind kind, const GError *error)
{
  kith_fetch_job_reset_download (job);
  if (kind == KITH_FETCH_ATTEMPT_ORIGIN) {
    kith_fetch_job_finish (job, NULL, error);
    return;
  }
  kith_fetch_offers_leave_out (job->offers, job->source);
  kith_fetch_finder_forget (job->finder, job->source);
  kith_fetch_job_retry (job, error);
}

/* ---- what the attempt tells (kith-fetch-attempt.h) ---- */

static void
kith_fetch_job_attempt_progress (KithFetchAttempt *attempt, gpointer user_data)
{
  KithFetchJob *job = user_data;

  kith_fetch_job_publish (job, kith_fetch_attempt_get_kind (attempt) == KITH_FETCH_ATTEMPT_ORIGIN
                                   ? KITH_TRANSFER_STATE_FROM_ORIGIN
                                   : KITH_TRANSFER_STATE_FROM_PEER);
}

/* In pieces: a source that failed or lied (blamed) is left out of this job. */
static void
kith_fetch_job_piece_source_failed (KithFetchAttempt *attempt, const gchar *node, const GError *error,
                                    gpointer user_data)
{
  KithFetchJob *job = user_data;

  kith_fetch_offers_leave_out (job->offers, node);
}

/* In pieces, every source is gone: the pieces we have are kept. The LAN is asked again
 * (answers join as sources) and a fetch that may use the origin takes from it the pieces
 * nobody else has. */
static void
kith_fetch_job_pieces_starved (KithFetchAttempt *attempt, gpointer user_data)
{
  KithFetchJob *job = user_data;

  g_message ("%s: every source of the pieces is gone; keeping those in, asking again%s", job->href,
             kith_fetch_job_may_use_origin (job) ? " and the origin for the rest" : "");
  if (kith_fetch_job_may_use_origin (job))
    kith_fetch_attempt_add_origin (attempt);
  kith_fetch_finder_ask_again (job->finder);
}

/* Our read of a partial copy stopped by no fault of its leader: the finder reads another,
 * or waits (kith_fetch_finder_read_elsewhere()). */
static void
kith_fetch_job_stream_stopped (KithFetchJob *job, gboolean ended)
{
  g_autofree gchar *node = g_strdup (job->source);

  kith_fetch_job_reset_download (job);
  kith_fetch_finder_read_elsewhere (job->finder, node, ended);
}

/* The partial copy we asked for has all the readers it takes (503): another one, else the
 * wait goes on until one can take us. Not a fault, not an attempt. */
static void
kith_fetch_job_attempt_busy (KithFetchAttempt *attempt, gpointer user_data)
{
  KithFetchJob *job = user_data;

  g_debug ("%s: %s has all the readers it takes; reading elsewhere", job->href, job->source);
  kith_fetch_job_stream_stopped (job, FALSE);
}

/* A stream too slow to follow past the deadline: the origin. */
static void
kith_fetch_job_attempt_too_slow (KithFetchAttempt *attempt, gpointer user_data)
{
  KithFetchJob *job = user_data;

  kith_fetch_job_reset_download (job);
  kith_fetch_job_from_origin (job);
}

/* The partial copy we read ended short or is gone (404): its leader's own source failed (it
 * cuts its readers and drops the copy) or the leader died. Not held against the leader: it
 * may well start over with a new copy, announced afresh, and be the only node that can (the
 * LAN's last online one). That copy is not read again; another is, or the wait for the
 * leader goes on. Not an attempt, but at most KITH_FETCH_JOB_MAX_STREAM_ENDS per job. */
static gboolean
kith_fetch_job_attempt_ended (KithFetchAttempt *attempt, const GError *error, gpointer user_data)
{
  KithFetchJob *job = user_data;

  if (job->streams_ended >= KITH_FETCH_JOB_MAX_STREAM_ENDS)
    return FALSE;
  job->streams_ended++;
  g_message ("%s: the partial copy of %s ended (%s); reading another or waiting", job->href, job->source,
             error->message);
  kith_fetch_job_stream_stopped (job, TRUE);
  return TRUE;
}

/* The attempt ended: the copy is handed to the transfers, or the next step is taken. */
static void
kith_fetch_job_attempt_finished (KithFetchAttempt *attempt, const KithAliasEntry *entry, const GError *error,
                                 gpointer user_data)
{
  KithFetchJob *job = user_data;
  KithFetchAttemptKind kind = kith_fetch_attempt_get_kind (attempt);

  if (entry != NULL) {
    kith_fetch_job_set_source (job, kith_fetch_attempt_get_source (attempt));
    kith_fetch_job_reset_download (job);
    kith_fetch_job_finish (job, entry, NULL);
  } else if (kind == KITH_FETCH_ATTEMPT_PIECES) {
    kith_fetch_job_pieces_failed (job, error);
  } else {
    kith_fetch_job_failed (job, kind, error);
  }
}

static const KithFetchAttemptFuncs kith_fetch_job_attempt_funcs = {
  .progress = kith_fetch_job_attempt_progress,
  .source_failed = kith_fetch_job_piece_source_failed,
  .starved = kith_fetch_job_pieces_starved,
  .busy = kith_fetch_job_attempt_busy,
  .too_slow = kith_fetch_job_attempt_too_slow,
  .ended = kith_fetch_job_attempt_ended,
  .finished = kith_fetch_job_attempt_finished,
};

/* A new attempt of @kind from job->source; FALSE when it could not begin (the job moved on
 * through kith_fetch_job_failed() and may be gone). */
static gboolean
kith_fetch_job_attempt (KithFetchJob *job, KithFetchAttemptKind kind, const gchar *sha256, guint64 size,
                        KithAliasTrust trust)
{
  g_autoptr (GError) error = NULL;

  kith_fetch_job_clear_timer (job);
  kith_fetch_job_reset_download (job);
  job->attempt = kith_fetch_attempt_new (job->ctx, job->href, kind, job->source, sha256, size, trust,
                                         job->announce, job->deadline, &kith_fetch_job_attempt_funcs, job, &error);
  if (job->attempt == NULL) {
    kith_fetch_job_failed (job, kind, error);
    return FALSE;
  }
  kith_fetch_job_attempt_progress (job->attempt, job);
  return TRUE;
}

/* @trust: how the copy is verified (HASH with a trusted hash, PEER vouched, LAN believed);
 * @streaming: @alias is a partial copy, still growing. */
static void
kith_fetch_job_from_peer (KithFetchJob *job, const gchar *node, const gchar *alias,
                          const gchar *sha256, guint64 size, KithAliasTrust trust, gboolean streaming)
{
  g_autoptr (GError) error = NULL;
  const gchar *check_sha256;
  guint64 check_size;

  g_debug ("%s: fetching from %s at %s (%s%s)", job->href, node, alias, kith_alias_trust_to_string (trust),
           streaming ? ", streaming" : "");
  kith_fetch_job_set_source (job, node);
  if (!kith_fetch_offers_bound (job->offers, node, sha256, size, &check_sha256, &check_size, &error)) {
    kith_fetch_job_failed (job, KITH_FETCH_ATTEMPT_PEER, error);
    return;
  }
  if (kith_fetch_job_attempt (job, streaming ? KITH_FETCH_ATTEMPT_STREAM : KITH_FETCH_ATTEMPT_PEER,
                              check_sha256, check_size, trust))
    kith_fetch_attempt_start (job->attempt, alias);
}

static void
kith_fetch_job_from_origin (KithFetchJob *job)
{
  const gchar *sha256 = kith_fetch_offers_get_sha256 (job->offers);

  g_debug ("%s: fetching from the origin", job->href);
  kith_fetch_job_set_source (job, "origin");
  kith_fetch_announce_reset (job->announce);
  if (kith_fetch_job_attempt (job, KITH_FETCH_ATTEMPT_ORIGIN, sha256,
                              kith_fetch_offers_get_size (job->offers),
                              sha256 != NULL ? KITH_ALIAS_TRUST_HASH : KITH_ALIAS_TRUST_ORIGIN))
    kith_fetch_attempt_start (job->attempt, job->href);
}

/* ---- many sources: a large file in pieces, each checked as it arrives (kith-piece-fetch.h) ---- */

/* The download in pieces brought no copy: a new search (or the origin). */
static void
kith_fetch_job_pieces_failed (KithFetchJob *job, const GError *error)
{
  /* every piece matched, the file did not: the list and the hash disagree (nobody lied) */
  if (g_error_matches (error, KITH_PEERING_ERROR, KITH_PEERING_ERROR_HASH_MISMATCH))
    kith_fetch_offers_drop_pieces (job->offers);
  kith_fetch_job_reset_download (job);
  kith_fetch_job_retry (job, error);
}

/* Fetches the file in pieces, first from @node (its first @available bytes at @alias);
 * the partial copies already heard of join at once, every other holder as it is heard of
 * (kith_fetch_attempt_join()). The download is a partial copy of ours, announced, that
 * grows with the verified prefix. */
static void
kith_fetch_job_pieces (const gchar *node, const gchar *alias, guint64 available, gpointer user_data)
{
  KithFetchJob *job = user_data;

  g_debug ("%s: fetching in pieces, first from %s", job->href, node);
  kith_fetch_job_set_source (job, node);
  if (!kith_fetch_job_attempt (job, KITH_FETCH_ATTEMPT_PIECES, kith_fetch_offers_get_sha256 (job->offers),
                               kith_fetch_offers_get_size (job->offers), KITH_ALIAS_TRUST_HASH))
    return; /* the job moved on, and may be gone */
  /* set before the start, so that whatever ends the attempt stops it: the other holders
   * had max-delay-ms to answer and are sources by then, the rest may cancel */
  kith_fetch_finder_found_later (job->finder);
  kith_fetch_attempt_start_pieces (job->attempt, kith_fetch_offers_get_pieces (job->offers), alias,
                                   available);
  /* a downloader heard just before the "I have" that started this says nothing new until
   * its progress moves: without this it would wait for that, or for the fetch to starve */
  kith_fetch_attempt_join_streamers (job->attempt, kith_fetch_finder_get_streamers (job->finder));
}

/* ---- what the finder tells (kith-fetch-finder.h) ---- */

static void
kith_fetch_job_stored (const KithAliasEntry *entry, gpointer user_data)
{
  KithFetchJob *job = user_data;

  kith_fetch_job_set_source (job, "cache");
  kith_fetch_job_finish (job, entry, NULL);
}

/* Searching, or waiting for @node: the transfers show it. */
static void
kith_fetch_job_looking (const gchar *node, gpointer user_data)
{
  KithFetchJob *job = user_data;

  kith_fetch_job_set_source (job, node);
  kith_fetch_job_publish (job, node != NULL ? KITH_TRANSFER_STATE_WAITING_FOR_PEER
                                            : KITH_TRANSFER_STATE_SEARCHING);
}

static void
kith_fetch_job_copy (const gchar *node, const gchar *alias, const gchar *sha256, guint64 size,
                     KithAliasTrust trust, gboolean streaming, gpointer user_data)
{
  kith_fetch_job_from_peer (user_data, node, alias, sha256, size, trust, streaming);
}

static void
kith_fetch_job_origin (gpointer user_data)
{
  kith_fetch_job_from_origin (user_data);
}

/* The relay in use fetches it for us. */
static void
kith_fetch_job_relaying (gpointer user_data)
{
  KithFetchJob *job = user_data;

  kith_fetch_job_set_source (job, "relay");
  kith_fetch_job_publish (job, KITH_TRANSFER_STATE_FROM_ORIGIN);
}

/* Nobody brings it: the end. */
static void
kith_fetch_job_nobody (gint code, const gchar *message, gpointer user_data)
{
  kith_fetch_job_fail_literal (user_data, code, message);
}

static const KithFetchFinderFuncs kith_fetch_job_finder_funcs = {
  .stored = kith_fetch_job_stored,
  .looking = kith_fetch_job_looking,
  .copy = kith_fetch_job_copy,
  .pieces = kith_fetch_job_pieces,
  .origin = kith_fetch_job_origin,
  .relaying = kith_fetch_job_relaying,
  .nobody = kith_fetch_job_nobody,
};

static gboolean
kith_fetch_job_start_now (gpointer user_data)
{
  KithFetchJob *job = user_data;

  job->start_idle_id = 0;
  kith_fetch_finder_start (job->finder, job->cancellable);
  return G_SOURCE_REMOVE;
}

void
kith_fetch_job_start (KithFetchJob *job)
{
  job->start_idle_id = g_idle_add (kith_fetch_job_start_now, job);
}

void
kith_fetch_job_handle_packet (KithFetchJob *job, const KithPacket *packet, GSocketAddress *from)
{
  if (!kith_fetch_offers_takes_from (job->offers, packet->node))
    return;
  if (job->attempt != NULL && kith_fetch_attempt_in_pieces (job->attempt)) {
    kith_fetch_attempt_join (job->attempt, kith_fetch_finder_get_streamers (job->finder), packet,
                             kith_fetch_finder_get_request_id (job->finder),
                             kith_fetch_offers_get_sha256 (job->offers),
                             kith_fetch_offers_get_size (job->offers),
                             kith_fetch_finder_get_waited_for (job->finder));
    return;
  }
  kith_fetch_finder_handle_packet (job->finder, packet, from);
}
