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
 * This file is the state machine; its parts report back to it through callbacks and never
 * call it: kith-fetch-offers.h (which copies it takes, the origin's digest, and the nodes it
 * leaves out),
 * kith-fetch-search.h (the request to the LAN and the wait for an answer), kith-fetch-wait.h
 * (the downloader waited for, and the election),
 * kith-fetch-attempt.h (one download from one source into the store, whole or in pieces,
 * served as our partial copy and announced, and what its end earns or costs its source:
 * kith-fetch-download.h, kith-fetch-announce.h, kith-fetch-blame.h),
 * kith-fetch-streamers.h (the partial copies others announced), kith-fetch-pieces.h (when
 * pieces), kith-fetch-deadline.h (when the origin is better), kith-fetch-transfers.h (the
 * callers riding along), kith-fetch-relay.h (asking the relay).
 */
#include "kith-fetch-job.h"

#include "kith-fetch-attempt.h"
#include "kith-fetch-offers.h"
#include "kith-fetch-relay.h"
#include "kith-fetch-search.h"
#include "kith-fetch-transfers.h"
#include "kith-fetch-wait.h"
#include "kith-peering-error.h"

#define KITH_FETCH_JOB_MAX_PEER_ATTEMPTS 4
/* partial copies that ended under us in one job before that counts as a failed attempt */
#define KITH_FETCH_JOB_MAX_STREAM_ENDS 8
/* a partial copy that answered 503 (all its readers taken) is not asked again this long */
#define KITH_FETCH_JOB_BUSY_MS 1000

typedef enum {
  KITH_FETCH_JOB_ASKING_ORIGIN, /* HEAD for the origin's digest */
  KITH_FETCH_JOB_ASKING_RELAY,  /* the relay in use fetches it for us (docs/relay.md) */
  KITH_FETCH_JOB_SEARCHING,
  KITH_FETCH_JOB_WAITING,
  KITH_FETCH_JOB_FROM_PEER,
  KITH_FETCH_JOB_FROM_ORIGIN,
  KITH_FETCH_JOB_FINISHED,
} KithFetchJobState;

struct _KithFetchJob {
  const KithPeeringContext *ctx; /* borrowed from the service that owns the job */
  KithFetchJobFinishedFunc finished;
  gpointer finished_data;
  gchar *href;
  KithFetchOffers *offers; /* what the job trusts, and the nodes it leaves out */
  KithFetchFlags flags;
  KithFetchTransfers *transfers; /* the callers riding along */
  KithFetchJobState state;
  KithFetchSearch *search; /* the request to the LAN in force, and its wait */
  guint timer_id;
  guint attempts;
  guint streams_ended; /* partial copies that ended under us (kith_fetch_job_attempt_ended) */
  KithFetchWait *wait; /* the downloader waited for */
  guint relay_asks;   /* times the relay was asked to fetch it (at most twice) */
  KithFetchDeadline *deadline; /* from the job's creation */
  gchar *source;      /* node id or "origin" */
  GCancellable *cancellable; /* the origin's HEAD */
  KithFetchAttempt *attempt; /* the download in progress, or NULL */
  KithFetchAnnounce *announce; /* what we tell the LAN of it */
  KithFetchStreamers *streamers; /* partial copies announced */
  guint start_idle_id;
};

static void kith_fetch_job_fail_literal (KithFetchJob *job, gint code, const gchar *message);
static void kith_fetch_job_search (KithFetchJob *job);
static void kith_fetch_job_from_origin (KithFetchJob *job);
static void kith_fetch_job_decide (KithFetchJob *job);
static void kith_fetch_job_silent (const gchar *node, gpointer user_data);
static gboolean kith_fetch_job_try_stream_pieces (KithFetchJob *job, const gchar *first);
static void kith_fetch_job_wait_for (KithFetchJob *job, const gchar *node, guint timeout_ms, gboolean moving);
static gboolean kith_fetch_job_try_stream (KithFetchJob *job);
static void kith_fetch_job_pieces_failed (KithFetchJob *job, const GError *error);

const gchar *
kith_fetch_job_get_href (KithFetchJob *job)
{
  return job->href;
}

gboolean
kith_fetch_job_serves (KithFetchJob *job, const gchar *url, const gchar *sha256, guint64 size, KithFetchFlags flags)
{
  const gchar *trusted;

  if (job->state == KITH_FETCH_JOB_FINISHED || g_strcmp0 (job->href, url) != 0)
    return FALSE;
  if (sha256 == NULL && size == 0)
    return TRUE;
  trusted = kith_fetch_offers_get_sha256 (job->offers);
  return job->flags == flags && sha256 != NULL && trusted != NULL &&
         g_ascii_strcasecmp (trusted, sha256) == 0 && (size == 0 || kith_fetch_offers_get_size (job->offers) == size);
}

/* Whether copies of @node are still taken in this job. */
static gboolean
kith_fetch_job_takes (const gchar *node, gpointer user_data)
{
  KithFetchJob *job = user_data;

  return kith_fetch_offers_takes_from (job->offers, node);
}

static gboolean
kith_fetch_job_may_use_origin (KithFetchJob *job)
{
  return kith_fetch_deadline_origin_allowed (job->deadline);
}

/* ---- what the search asks and tells (kith-fetch-search.h) ---- */

static const gchar *
kith_fetch_job_waited_for (gpointer user_data)
{
  KithFetchJob *job = user_data;

  return kith_fetch_wait_get_node (job->wait);
}

static gboolean
kith_fetch_job_search_may_use_origin (gpointer user_data)
{
  return kith_fetch_job_may_use_origin (user_data);
}

/* Nobody answered the search in time. */
static void
kith_fetch_job_search_ended (gpointer user_data)
{
  kith_fetch_job_decide (user_data);
}

static const KithFetchSearchFuncs kith_fetch_job_search_funcs = {
  .waited_for = kith_fetch_job_waited_for,
  .may_use_origin = kith_fetch_job_search_may_use_origin,
  .ended = kith_fetch_job_search_ended,
};

/* Every transfer of the job was cancelled: the job stops too. */
static void
kith_fetch_job_cancelled (gpointer user_data)
{
  KithFetchJob *job = user_data;

  if (job->state == KITH_FETCH_JOB_SEARCHING)
    kith_fetch_search_end (job->search);
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
  job->streamers = kith_fetch_streamers_new (size, kith_fetch_job_takes, job);
  job->search = kith_fetch_search_new (context, href, kith_fetch_offers_get_left_out (job->offers),
                                       &kith_fetch_job_search_funcs, job);
  job->cancellable = g_cancellable_new ();
  job->deadline = kith_fetch_deadline_new (context, flags);
  job->wait = kith_fetch_wait_new (context, href, job->deadline, kith_fetch_job_silent, job);
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
  if (job->timer_id != 0)
    g_source_remove (job->timer_id);
  job->timer_id = 0;
  kith_fetch_wait_stop (job->wait);
  kith_fetch_search_stop (job->search);
}

static void
kith_fetch_job_reset_download (KithFetchJob *job)
{
  g_clear_pointer (&job->attempt, kith_fetch_attempt_free);
  kith_fetch_wait_clear_progress (job->wait);
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
  kith_fetch_search_free (job->search);
  kith_fetch_wait_free (job->wait);
  kith_fetch_streamers_free (job->streamers);
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
    kith_fetch_wait_get_progress (job->wait, &done, &total);
  kith_fetch_transfers_publish (job->transfers, job->source, done, total, state);
}

static void
kith_fetch_job_finish (KithFetchJob *job, const KithAliasEntry *entry, const GError *error)
{
  kith_fetch_job_clear_timer (job);
  job->state = KITH_FETCH_JOB_FINISHED;
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
    kith_fetch_job_search (job);
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
  kith_fetch_wait_forget (job->wait, job->source);
  kith_fetch_job_retry (job, error);
}

/* ---- what the attempt tells (kith-fetch-attempt.h) ---- */

static void
kith_fetch_job_attempt_progress (KithFetchAttempt *attempt, gpointer user_data)
{
  KithFetchJob *job = user_data;

  kith_fetch_job_publish (job, job->state == KITH_FETCH_JOB_FROM_ORIGIN ? KITH_TRANSFER_STATE_FROM_ORIGIN
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
  kith_fetch_search_ask_again (job->search);
}

/* Our read of a partial copy stopped by no fault of its leader: the copy is marked (@ended:
 * not read again; else busy, not asked for KITH_FETCH_JOB_BUSY_MS), another is read, or the
 * wait for the leader goes on, at most @timeout_ms, as for one that moves. */
static void
kith_fetch_job_stream_stopped (KithFetchJob *job, gboolean ended, guint timeout_ms)
{
  KithFetchStreamer *streamer = kith_fetch_streamers_lookup (job->streamers, job->source);
  g_autofree gchar *node = g_strdup (job->source);

  kith_fetch_job_reset_download (job);
  if (streamer != NULL && ended)
    streamer->ended = TRUE;
  else if (streamer != NULL)
    streamer->busy_until_us = g_get_monotonic_time () + KITH_FETCH_JOB_BUSY_MS * 1000;
  if (!kith_fetch_job_try_stream (job)) {
    const gchar *waited = kith_fetch_wait_get_node (job->wait);
    kith_fetch_job_wait_for (job, waited != NULL ? waited : node, timeout_ms, TRUE);
  }
}

/* The partial copy we asked for has all the readers it takes (503): another one, else the
 * wait goes on until one can take us. Not a fault, not an attempt. */
static void
kith_fetch_job_attempt_busy (KithFetchAttempt *attempt, gpointer user_data)
{
  KithFetchJob *job = user_data;

  g_debug ("%s: %s has all the readers it takes; reading elsewhere", job->href, job->source);
  kith_fetch_job_stream_stopped (job, FALSE, job->ctx->timings->stall_ms);
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
  kith_fetch_job_stream_stopped (job, TRUE, kith_fetch_wait_get_reannounce_ms (job->wait));
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
  job->state = KITH_FETCH_JOB_FROM_PEER;
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
  job->state = KITH_FETCH_JOB_FROM_ORIGIN;
  kith_fetch_job_set_source (job, "origin");
  kith_fetch_announce_reset (job->announce);
  if (kith_fetch_job_attempt (job, KITH_FETCH_ATTEMPT_ORIGIN, sha256, kith_fetch_offers_get_size (job->offers),
                              sha256 != NULL ? KITH_ALIAS_TRUST_HASH : KITH_ALIAS_TRUST_ORIGIN))
    kith_fetch_attempt_start (job->attempt, job->href);
}

/* ---- searching and waiting ---- */

static void
kith_fetch_job_search (KithFetchJob *job)
{
  job->state = KITH_FETCH_JOB_SEARCHING;
  g_clear_pointer (&job->source, g_free);
  kith_fetch_wait_clear_progress (job->wait);
  kith_fetch_job_publish (job, KITH_TRANSFER_STATE_SEARCHING);
  kith_fetch_job_clear_timer (job);
  kith_fetch_search_start (job->search, kith_fetch_offers_in_pieces (job->offers));
}

/* The downloader or elected one waited for stayed silent: given up on. */
static void
kith_fetch_job_silent (const gchar *node, gpointer user_data)
{
  KithFetchJob *job = user_data;

  kith_fetch_offers_leave_out (job->offers, node);
  kith_fetch_job_decide (job);
}

/* Waits for @node (kith_fetch_wait_arm()). */
static void
kith_fetch_job_wait_for (KithFetchJob *job, const gchar *node, guint timeout_ms, gboolean moving)
{
  job->state = KITH_FETCH_JOB_WAITING;
  kith_fetch_job_set_source (job, node);
  kith_fetch_job_publish (job, KITH_TRANSFER_STATE_WAITING_FOR_PEER);
  kith_fetch_job_clear_timer (job);
  kith_fetch_wait_arm (job->wait, node, timeout_ms, moving);
}

/* Reads a partial copy rather than waiting for "complete": only against a trusted hash
 * (the end verifies every byte) and a known size (the bound of what we take). FALSE when
 * that cannot be done: the wait goes on. */
static gboolean
kith_fetch_job_try_stream (KithFetchJob *job)
{
  const gchar *picked = kith_fetch_offers_may_stream (job->offers)
                           ? kith_fetch_streamers_pick (job->streamers, kith_fetch_wait_get_node (job->wait))
                           : NULL;
  KithFetchStreamer *streamer;
  g_autofree gchar *node = NULL;
  g_autofree gchar *alias = NULL;

  if (picked == NULL)
    return FALSE;
  node = g_strdup (picked);
  if (kith_fetch_job_try_stream_pieces (job, node))
    return TRUE;
  streamer = kith_fetch_streamers_lookup (job->streamers, picked);
  alias = g_strdup (streamer->alias);
  kith_fetch_job_from_peer (job, node, alias, kith_fetch_offers_get_sha256 (job->offers),
                            kith_fetch_streamers_size (job->streamers, streamer), KITH_ALIAS_TRUST_HASH, TRUE);
  return TRUE;
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

/* The other holders had max-delay-ms to answer and are sources now: the rest may cancel. */
static gboolean
kith_fetch_job_pieces_found (gpointer user_data)
{
  KithFetchJob *job = user_data;

  job->timer_id = 0;
  kith_fetch_search_found (job->search, NULL);
  return G_SOURCE_REMOVE;
}

/* Fetches the file in pieces, first from @node (its first @available bytes at @alias);
 * the partial copies already heard of join at once, every other holder as it is heard of
 * (kith_fetch_attempt_join()). The download is a partial copy of ours, announced, that
 * grows with the verified prefix. FALSE when it could not begin: the job moved on, and may
 * be gone. */
static gboolean
kith_fetch_job_from_pieces (KithFetchJob *job, const gchar *node, const gchar *alias, guint64 available)
{
  g_debug ("%s: fetching in pieces, first from %s", job->href, node);
  job->state = KITH_FETCH_JOB_FROM_PEER;
  kith_fetch_job_set_source (job, node);
  if (!kith_fetch_job_attempt (job, KITH_FETCH_ATTEMPT_PIECES, kith_fetch_offers_get_sha256 (job->offers),
                               kith_fetch_offers_get_size (job->offers), KITH_ALIAS_TRUST_HASH))
    return FALSE;
  /* set before the start, so that whatever ends the attempt clears it */
  job->timer_id = g_timeout_add (job->ctx->timings->max_delay_ms + 1, kith_fetch_job_pieces_found, job);
  kith_fetch_attempt_start_pieces (job->attempt, kith_fetch_offers_get_pieces (job->offers), alias, available);
  /* a downloader heard just before the "I have" that started this says nothing new until
   * its progress moves: without this it would wait for that, or for the fetch to starve */
  kith_fetch_attempt_join_streamers (job->attempt, job->streamers);
  return TRUE;
}

/* Waiting with partial copies announced: read pieces of all of them at once. */
static gboolean
kith_fetch_job_try_stream_pieces (KithFetchJob *job, const gchar *first)
{
  KithFetchStreamer *streamer = kith_fetch_streamers_lookup (job->streamers, first);

  if (!kith_fetch_offers_in_pieces (job->offers))
    return FALSE;
  kith_fetch_job_from_pieces (job, first, streamer->alias, kith_fetch_streamers_available (streamer));
  return TRUE;
}

/* The relay holds the file now (it answers "I have"), or cannot get it. */
static void
kith_fetch_job_relay_done (const GError *error, gpointer user_data)
{
  KithFetchJob *job = user_data;

  if (error != NULL) {
    g_message ("%s: the relay could not fetch it: %s", job->href, error->message);
    kith_fetch_job_fail_literal (job, KITH_PEERING_ERROR_OFFLINE, error->message);
    return;
  }
  g_debug ("%s: the relay holds it; asking the LAN again", job->href);
  /* whoever was left out failed us for a file it did not hold yet; the relay holds it now */
  kith_fetch_offers_take_back_all (job->offers);
  kith_fetch_job_search (job);
}

/* This node may not use the origin and nobody has the file: the relay in use (if any)
 * fetches it — only against a trusted hash, and at most twice per job (the second time
 * after the relay that held it went away before it was taken). */
static gboolean
kith_fetch_job_ask_relay (KithFetchJob *job)
{
  const gchar *sha256 = kith_fetch_offers_get_sha256 (job->offers);

  if (job->ctx->can_reach_origin || job->relay_asks >= 2 || sha256 == NULL ||
      (job->flags & KITH_FETCH_FLAG_CACHED_ONLY) != 0 || !kith_fetch_relay_available (job->ctx->agent))
    return FALSE;
  job->relay_asks++;
  job->state = KITH_FETCH_JOB_ASKING_RELAY;
  kith_fetch_job_clear_timer (job);
  kith_fetch_job_set_source (job, "relay");
  kith_fetch_job_publish (job, KITH_TRANSFER_STATE_FROM_ORIGIN);
  g_message ("%s: nobody on the LAN has it; asking the relay to fetch it", job->href);
  kith_fetch_relay_ask (job->ctx->agent, job->href, sha256, kith_fetch_offers_get_size (job->offers),
                        job->cancellable, kith_fetch_job_relay_done, job);
  return TRUE;
}

/* Nobody has it for us, and the origin is not ours to use. */
static void
kith_fetch_job_no_source (KithFetchJob *job, const gchar *message)
{
  kith_fetch_job_fail_literal (job, job->ctx->can_reach_origin ? KITH_PEERING_ERROR_NO_SOURCE
                                                               : KITH_PEERING_ERROR_OFFLINE,
                               message);
}

/* Nobody answered "I have": wait for a downloader, or fetch from the origin if elected. */
static void
kith_fetch_job_decide (KithFetchJob *job)
{
  const KithPeeringTimings *timings = job->ctx->timings;
  KithFetchStreamer *streamer;
  const gchar *node;
  guint left_ms;

  if (kith_fetch_deadline_passed (job->deadline, FALSE, &left_ms)) {
    g_message ("%s: nothing from the LAN within %u ms; fetching from the origin", job->href,
               timings->origin_deadline_ms);
    kith_fetch_job_from_origin (job);
    return;
  }
  switch (kith_fetch_wait_choose (job->wait, kith_fetch_offers_get_left_out (job->offers),
                                  kith_fetch_job_may_use_origin (job), &node)) {
  case KITH_FETCH_WAIT_DOWNLOADER:
    streamer = kith_fetch_streamers_lookup (job->streamers, node);
    /* a downloader whose copy ended under us has only a moment to announce a new one */
    if (!kith_fetch_job_try_stream (job))
      kith_fetch_job_wait_for (job, node,
                               streamer != NULL && streamer->ended ? kith_fetch_wait_get_reannounce_ms (job->wait)
                                                                   : timings->stall_ms,
                               FALSE);
    break;
  case KITH_FETCH_WAIT_LEADER:
    g_debug ("%s: %s will fetch it from the origin; waiting", job->href, node);
    kith_fetch_job_wait_for (job, node, kith_fetch_wait_get_leader_ms (job->wait), FALSE);
    break;
  case KITH_FETCH_WAIT_SELF:
    kith_fetch_job_from_origin (job);
    break;
  case KITH_FETCH_WAIT_NOBODY:
    if (!kith_fetch_job_ask_relay (job))
      kith_fetch_job_no_source (job, "no peer on the LAN has it, and this fetch may not use the origin");
    break;
  case KITH_FETCH_WAIT_NO_LEADER:
    if (kith_fetch_job_may_use_origin (job)) {
      g_message ("%s: %u elected peers stayed silent; fetching from the origin", job->href,
                 KITH_FETCH_WAIT_MAX_ELECTIONS);
      kith_fetch_job_from_origin (job);
    } else if (!kith_fetch_job_ask_relay (job)) {
      kith_fetch_job_no_source (job, "the peers elected to fetch it stayed silent, and this fetch "
                                     "may not use the origin");
    }
    break;
  }
}

/* The origin stated its digest, or not: the LAN is asked. */
static void
kith_fetch_job_digest_done (gpointer user_data)
{
  kith_fetch_job_search (user_data);
}

static gboolean
kith_fetch_job_start_now (gpointer user_data)
{
  KithFetchJob *job = user_data;
  g_autoptr (KithAliasEntry) entry = kith_fetch_offers_lookup_stored (job->offers);

  job->start_idle_id = 0;
  if (entry != NULL) {
    kith_fetch_job_set_source (job, "cache");
    kith_fetch_job_finish (job, entry, NULL);
    return G_SOURCE_REMOVE;
  }
  if (kith_fetch_offers_want_digest (job->offers) && kith_fetch_job_may_use_origin (job)) {
    job->state = KITH_FETCH_JOB_ASKING_ORIGIN;
    kith_fetch_offers_ask_origin (job->offers, job->cancellable, kith_fetch_job_digest_done, job);
    return G_SOURCE_REMOVE;
  }
  kith_fetch_job_search (job);
  return G_SOURCE_REMOVE;
}

void
kith_fetch_job_start (KithFetchJob *job)
{
  job->start_idle_id = g_idle_add (kith_fetch_job_start_now, job);
}

/* ---- packets from other nodes ---- */

static void
kith_fetch_job_handle_response (KithFetchJob *job, const KithPacket *packet, GSocketAddress *from)
{
  KithAliasTrust trust;
  KithFetchOfferVerdict verdict;

  if (packet->id != kith_fetch_search_get_id (job->search) ||
      (job->state != KITH_FETCH_JOB_SEARCHING && job->state != KITH_FETCH_JOB_WAITING))
    return;
  verdict = kith_fetch_offers_judge_response (job->offers, packet, from, &trust);
  if (verdict != KITH_FETCH_OFFER_WHOLE && verdict != KITH_FETCH_OFFER_PIECES)
    return;
  kith_peer_table_note_holder (job->ctx->peers, job->href, packet->node);
  if (verdict == KITH_FETCH_OFFER_PIECES) {
    kith_fetch_job_from_pieces (job, packet->node, packet->alias, kith_fetch_offers_get_size (job->offers));
    return; /* "found" once the other holders had time to answer too */
  }
  kith_fetch_search_found (job->search, packet->node);
  kith_fetch_job_from_peer (job, packet->node, packet->alias, packet->sha256, packet->size, trust, FALSE);
}

static void
kith_fetch_job_handle_complete (KithFetchJob *job, const KithPacket *packet)
{
  KithAliasTrust trust;

  switch (kith_fetch_offers_judge_complete (job->offers, packet, &trust)) {
  case KITH_FETCH_OFFER_PIECES:
    kith_fetch_job_from_pieces (job, packet->node, packet->alias, packet->size);
    break;
  case KITH_FETCH_OFFER_WHOLE:
    kith_fetch_job_from_peer (job, packet->node, packet->alias, packet->sha256, packet->size, trust, FALSE);
    break;
  case KITH_FETCH_OFFER_UNPROVEN:
    /* ask again, so that the one we waited for answers "I have" with its proof (or is left out) */
    if (kith_fetch_wait_reask (job->wait, packet->node))
      kith_fetch_job_search (job);
    break;
  default:
    break;
  }
}

void
kith_fetch_job_handle_packet (KithFetchJob *job, const KithPacket *packet, GSocketAddress *from)
{
  gboolean moved;

  if (!kith_fetch_offers_takes_from (job->offers, packet->node))
    return;
  if (job->attempt != NULL && kith_fetch_attempt_in_pieces (job->attempt)) {
    kith_fetch_attempt_join (job->attempt, job->streamers, packet, kith_fetch_search_get_id (job->search),
                             kith_fetch_offers_get_sha256 (job->offers), kith_fetch_offers_get_size (job->offers),
                             kith_fetch_wait_get_node (job->wait));
    return;
  }
  switch (packet->type) {
  case KITH_PACKET_TYPE_RESPONSE:
    kith_fetch_job_handle_response (job, packet, from);
    break;
  case KITH_PACKET_TYPE_DOWNLOADING:
    kith_fetch_streamers_note (job->streamers, packet, kith_fetch_wait_get_node (job->wait));
    if (job->state == KITH_FETCH_JOB_WAITING && kith_fetch_job_try_stream (job))
      break;
    /* its first word, or progress that moved, renews the wait; the same progress again does
     * not, so a downloader that does not move is left */
    if (job->state == KITH_FETCH_JOB_SEARCHING)
      kith_fetch_wait_follow (job->wait, packet->node);
    else if (job->state == KITH_FETCH_JOB_WAITING && kith_fetch_wait_heard (job->wait, packet, &moved))
      kith_fetch_job_wait_for (job, packet->node, job->ctx->timings->stall_ms, moved);
    break;
  case KITH_PACKET_TYPE_COMPLETE:
    if (job->state != KITH_FETCH_JOB_SEARCHING && job->state != KITH_FETCH_JOB_WAITING)
      break;
    kith_fetch_job_handle_complete (job, packet);
    break;
  default:
    break;
  }
}
