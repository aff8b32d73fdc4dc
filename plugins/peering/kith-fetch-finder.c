/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* kith-fetch-finder.c — where a fetch job's file comes from next */
#include "kith-fetch-finder.h"

#include "kith-fetch-relay.h"
#include "kith-fetch-search.h"
#include "kith-peering-error.h"

/* a partial copy that answered 503 (all its readers taken) is not asked again this long */
#define KITH_FETCH_FINDER_BUSY_MS 1000

typedef enum {
  KITH_FETCH_FINDER_IDLE, /* the job fetches, or has not begun */
  KITH_FETCH_FINDER_SEARCHING,
  KITH_FETCH_FINDER_WAITING,
} KithFetchFinderState;

struct _KithFetchFinder {
  const KithPeeringContext *ctx;
  KithFetchFinderFuncs funcs;
  gpointer user_data;
  gchar *href;
  KithFetchFlags flags;
  KithFetchOffers *offers;     /* borrowed from the job */
  KithFetchDeadline *deadline; /* borrowed from the job */
  KithFetchFinderState state;
  KithFetchSearch *search;       /* the request to the LAN in force, and its wait */
  KithFetchWait *wait;           /* the downloader waited for */
  KithFetchStreamers *streamers; /* partial copies announced */
  GCancellable *cancellable;     /* borrowed from the job: its HEAD and the relay's fetch */
  guint relay_asks;              /* times the relay was asked to fetch it (at most twice) */
  guint found_id;                /* in pieces: the "found" once the other holders had their time */
};

static void kith_fetch_finder_decide (KithFetchFinder *self);

static gboolean
kith_fetch_finder_may_use_origin (KithFetchFinder *self)
{
  return kith_fetch_deadline_origin_allowed (self->deadline);
}

/* ---- what the search, the wait and the streamers ask and tell ---- */

static const gchar *
kith_fetch_finder_waited_for (gpointer user_data)
{
  KithFetchFinder *self = user_data;

  return kith_fetch_wait_get_node (self->wait);
}

static gboolean
kith_fetch_finder_search_may_use_origin (gpointer user_data)
{
  return kith_fetch_finder_may_use_origin (user_data);
}

/* Nobody answered the search in time. */
static void
kith_fetch_finder_search_ended (gpointer user_data)
{
  kith_fetch_finder_decide (user_data);
}

static const KithFetchSearchFuncs kith_fetch_finder_search_funcs = {
  .waited_for = kith_fetch_finder_waited_for,
  .may_use_origin = kith_fetch_finder_search_may_use_origin,
  .ended = kith_fetch_finder_search_ended,
};

/* The downloader or elected one waited for stayed silent: given up on. */
static void
kith_fetch_finder_silent (const gchar *node, gpointer user_data)
{
  KithFetchFinder *self = user_data;

  kith_fetch_offers_leave_out (self->offers, node);
  kith_fetch_finder_decide (self);
}

static gboolean
kith_fetch_finder_takes (const gchar *node, gpointer user_data)
{
  KithFetchFinder *self = user_data;

  return kith_fetch_offers_takes_from (self->offers, node);
}

KithFetchFinder *
kith_fetch_finder_new (const KithPeeringContext *context, const gchar *href, KithFetchFlags flags,
                       KithFetchOffers *offers, KithFetchDeadline *deadline,
                       const KithFetchFinderFuncs *funcs, gpointer user_data)
{
  KithFetchFinder *self = g_new0 (KithFetchFinder, 1);

  self->ctx = context;
  self->funcs = *funcs;
  self->user_data = user_data;
  self->href = g_strdup (href);
  self->flags = flags;
  self->offers = offers;
  self->deadline = deadline;
  self->search = kith_fetch_search_new (context, href, kith_fetch_offers_get_left_out (offers),
                                        &kith_fetch_finder_search_funcs, self);
  self->wait = kith_fetch_wait_new (context, href, deadline, kith_fetch_finder_silent, self);
  self->streamers =
      kith_fetch_streamers_new (kith_fetch_offers_get_size (offers), kith_fetch_finder_takes, self);
  return self;
}

void
kith_fetch_finder_free (KithFetchFinder *self)
{
  g_clear_handle_id (&self->found_id, g_source_remove);
  kith_fetch_search_free (self->search);
  kith_fetch_wait_free (self->wait);
  kith_fetch_streamers_free (self->streamers);
  g_free (self->href);
  g_free (self);
}

/* ---- searching and waiting ---- */

static void
kith_fetch_finder_stop_timers (KithFetchFinder *self)
{
  g_clear_handle_id (&self->found_id, g_source_remove);
  kith_fetch_wait_stop (self->wait);
  kith_fetch_search_stop (self->search);
}

void
kith_fetch_finder_search (KithFetchFinder *self)
{
  self->state = KITH_FETCH_FINDER_SEARCHING;
  kith_fetch_wait_clear_progress (self->wait);
  self->funcs.looking (NULL, self->user_data);
  kith_fetch_finder_stop_timers (self);
  kith_fetch_search_start (self->search, kith_fetch_offers_in_pieces (self->offers));
}

/* The origin stated its digest, or not: the LAN is asked. */
static void
kith_fetch_finder_digest_done (gpointer user_data)
{
  kith_fetch_finder_search (user_data);
}

void
kith_fetch_finder_start (KithFetchFinder *self, GCancellable *cancellable)
{
  g_autoptr (KithAliasEntry) entry = kith_fetch_offers_lookup_stored (self->offers);

  self->cancellable = cancellable;
  if (entry != NULL)
    self->funcs.stored (entry, self->user_data);
  else if (kith_fetch_offers_want_digest (self->offers) && kith_fetch_finder_may_use_origin (self))
    kith_fetch_offers_ask_origin (self->offers, cancellable, kith_fetch_finder_digest_done, self);
  else
    kith_fetch_finder_search (self);
}

void
kith_fetch_finder_stop (KithFetchFinder *self)
{
  self->state = KITH_FETCH_FINDER_IDLE;
  kith_fetch_finder_stop_timers (self);
}

void
kith_fetch_finder_end (KithFetchFinder *self)
{
  if (self->state == KITH_FETCH_FINDER_SEARCHING)
    kith_fetch_search_end (self->search);
}

void
kith_fetch_finder_forget (KithFetchFinder *self, const gchar *node)
{
  kith_fetch_wait_forget (self->wait, node);
}

/* Waits for @node (kith_fetch_wait_arm()). */
static void
kith_fetch_finder_wait_for (KithFetchFinder *self, const gchar *node, guint timeout_ms, gboolean moving)
{
  self->state = KITH_FETCH_FINDER_WAITING;
  self->funcs.looking (node, self->user_data);
  kith_fetch_finder_stop_timers (self);
  kith_fetch_wait_arm (self->wait, node, timeout_ms, moving);
}

/* Reads a partial copy rather than waiting for "complete": only against a trusted hash
 * (the end verifies every byte) and a known size (the bound of what we take); in pieces,
 * of all of them at once. FALSE when that cannot be done: the wait goes on. */
static gboolean
kith_fetch_finder_try_stream (KithFetchFinder *self)
{
  const gchar *picked =
      kith_fetch_offers_may_stream (self->offers)
          ? kith_fetch_streamers_pick (self->streamers, kith_fetch_wait_get_node (self->wait))
          : NULL;
  KithFetchStreamer *streamer;
  g_autofree gchar *node = NULL;
  g_autofree gchar *alias = NULL;

  if (picked == NULL)
    return FALSE;
  node = g_strdup (picked);
  streamer = kith_fetch_streamers_lookup (self->streamers, picked);
  if (kith_fetch_offers_in_pieces (self->offers)) {
    self->funcs.pieces (node, streamer->alias, kith_fetch_streamers_available (streamer), self->user_data);
    return TRUE;
  }
  alias = g_strdup (streamer->alias);
  self->funcs.copy (node, alias, kith_fetch_offers_get_sha256 (self->offers),
                    kith_fetch_streamers_size (self->streamers, streamer), KITH_ALIAS_TRUST_HASH, TRUE,
                    self->user_data);
  return TRUE;
}

void
kith_fetch_finder_read_elsewhere (KithFetchFinder *self, const gchar *node, gboolean ended)
{
  KithFetchStreamer *streamer = kith_fetch_streamers_lookup (self->streamers, node);
  g_autofree gchar *leader = g_strdup (node);
  const gchar *waited;

  if (streamer != NULL && ended)
    streamer->ended = TRUE;
  else if (streamer != NULL)
    streamer->busy_until_us = g_get_monotonic_time () + KITH_FETCH_FINDER_BUSY_MS * 1000;
  if (kith_fetch_finder_try_stream (self))
    return;
  waited = kith_fetch_wait_get_node (self->wait);
  kith_fetch_finder_wait_for (
      self, waited != NULL ? waited : leader,
      ended ? kith_fetch_wait_get_reannounce_ms (self->wait) : self->ctx->timings->stall_ms, TRUE);
}

/* The relay holds the file now (it answers "I have"), or cannot get it. */
static void
kith_fetch_finder_relay_done (const GError *error, gpointer user_data)
{
  KithFetchFinder *self = user_data;

  if (error != NULL) {
    g_message ("%s: the relay could not fetch it: %s", self->href, error->message);
    self->funcs.nobody (KITH_PEERING_ERROR_OFFLINE, error->message, self->user_data);
    return;
  }
  g_debug ("%s: the relay holds it; asking the LAN again", self->href);
  /* whoever was left out failed us for a file it did not hold yet; the relay holds it now */
  kith_fetch_offers_take_back_all (self->offers);
  kith_fetch_finder_search (self);
}

/* This node may not use the origin and nobody has the file: the relay in use (if any)
 * fetches it — only against a trusted hash, and at most twice per job (the second time
 * after the relay that held it went away before it was taken); else the job fails. */
static void
kith_fetch_finder_nobody (KithFetchFinder *self, const gchar *message)
{
  const gchar *sha256 = kith_fetch_offers_get_sha256 (self->offers);

  if (self->ctx->can_reach_origin || self->relay_asks >= 2 || sha256 == NULL ||
      (self->flags & KITH_FETCH_FLAG_CACHED_ONLY) != 0 || !kith_fetch_relay_available (self->ctx->agent)) {
    self->funcs.nobody (self->ctx->can_reach_origin ? KITH_PEERING_ERROR_NO_SOURCE
                                                    : KITH_PEERING_ERROR_OFFLINE,
                        message, self->user_data);
    return;
  }
  self->relay_asks++;
  kith_fetch_finder_stop (self);
  self->funcs.relaying (self->user_data);
  g_message ("%s: nobody on the LAN has it; asking the relay to fetch it", self->href);
  kith_fetch_relay_ask (self->ctx->agent, self->href, sha256, kith_fetch_offers_get_size (self->offers),
                        self->cancellable, kith_fetch_finder_relay_done, self);
}

/* Nobody answered "I have": wait for a downloader, or fetch from the origin if elected. */
static void
kith_fetch_finder_decide (KithFetchFinder *self)
{
  const KithPeeringTimings *timings = self->ctx->timings;
  KithFetchStreamer *streamer;
  const gchar *node;
  guint left_ms;

  if (kith_fetch_deadline_passed (self->deadline, FALSE, &left_ms)) {
    g_message ("%s: nothing from the LAN within %u ms; fetching from the origin", self->href,
               timings->origin_deadline_ms);
    self->funcs.origin (self->user_data);
    return;
  }
  switch (kith_fetch_wait_choose (self->wait, kith_fetch_offers_get_left_out (self->offers),
                                  kith_fetch_finder_may_use_origin (self), &node)) {
  case KITH_FETCH_WAIT_DOWNLOADER:
    streamer = kith_fetch_streamers_lookup (self->streamers, node);
    /* a downloader whose copy ended under us has only a moment to announce a new one */
    if (!kith_fetch_finder_try_stream (self))
      kith_fetch_finder_wait_for (self, node,
                                  streamer != NULL && streamer->ended
                                      ? kith_fetch_wait_get_reannounce_ms (self->wait)
                                      : timings->stall_ms,
                                  FALSE);
    break;
  case KITH_FETCH_WAIT_LEADER:
    g_debug ("%s: %s will fetch it from the origin; waiting", self->href, node);
    kith_fetch_finder_wait_for (self, node, kith_fetch_wait_get_leader_ms (self->wait), FALSE);
    break;
  case KITH_FETCH_WAIT_SELF: self->funcs.origin (self->user_data); break;
  case KITH_FETCH_WAIT_NOBODY:
    kith_fetch_finder_nobody (self, "no peer on the LAN has it, and this fetch may not use the origin");
    break;
  case KITH_FETCH_WAIT_NO_LEADER:
    if (kith_fetch_finder_may_use_origin (self)) {
      g_message ("%s: %u elected peers stayed silent; fetching from the origin", self->href,
                 KITH_FETCH_WAIT_MAX_ELECTIONS);
      self->funcs.origin (self->user_data);
    } else {
      kith_fetch_finder_nobody (self, "the peers elected to fetch it stayed silent, and this fetch "
                                      "may not use the origin");
    }
    break;
  }
}

/* ---- packets from other nodes ---- */

static void
kith_fetch_finder_handle_response (KithFetchFinder *self, const KithPacket *packet, GSocketAddress *from)
{
  KithAliasTrust trust;
  KithFetchOfferVerdict verdict;

  if (packet->id != kith_fetch_search_get_id (self->search) || self->state == KITH_FETCH_FINDER_IDLE)
    return;
  verdict = kith_fetch_offers_judge_response (self->offers, packet, from, &trust);
  if (verdict != KITH_FETCH_OFFER_WHOLE && verdict != KITH_FETCH_OFFER_PIECES)
    return;
  kith_peer_table_note_holder (self->ctx->peers, self->href, packet->node);
  if (verdict == KITH_FETCH_OFFER_PIECES) {
    /* "found" once the other holders had time to answer too (kith_fetch_finder_found()) */
    self->funcs.pieces (packet->node, packet->alias, kith_fetch_offers_get_size (self->offers),
                        self->user_data);
    return;
  }
  kith_fetch_search_found (self->search, packet->node);
  self->funcs.copy (packet->node, packet->alias, packet->sha256, packet->size, trust, FALSE, self->user_data);
}

static void
kith_fetch_finder_handle_complete (KithFetchFinder *self, const KithPacket *packet)
{
  KithAliasTrust trust;

  switch (kith_fetch_offers_judge_complete (self->offers, packet, &trust)) {
  case KITH_FETCH_OFFER_PIECES:
    self->funcs.pieces (packet->node, packet->alias, packet->size, self->user_data);
    break;
  case KITH_FETCH_OFFER_WHOLE:
    self->funcs.copy (packet->node, packet->alias, packet->sha256, packet->size, trust, FALSE,
                      self->user_data);
    break;
  case KITH_FETCH_OFFER_UNPROVEN:
    /* ask again, so that the one we waited for answers "I have" with its proof (or is left out) */
    if (kith_fetch_wait_reask (self->wait, packet->node))
      kith_fetch_finder_search (self);
    break;
  default: break;
  }
}

void
kith_fetch_finder_handle_packet (KithFetchFinder *self, const KithPacket *packet, GSocketAddress *from)
{
  gboolean moved;

  switch (packet->type) {
  case KITH_PACKET_TYPE_RESPONSE: kith_fetch_finder_handle_response (self, packet, from); break;
  case KITH_PACKET_TYPE_DOWNLOADING:
    kith_fetch_streamers_note (self->streamers, packet, kith_fetch_wait_get_node (self->wait));
    if (self->state == KITH_FETCH_FINDER_WAITING && kith_fetch_finder_try_stream (self))
      break;
    /* its first word, or progress that moved, renews the wait; the same progress again does
     * not, so a downloader that does not move is left */
    if (self->state == KITH_FETCH_FINDER_SEARCHING)
      kith_fetch_wait_follow (self->wait, packet->node);
    else if (self->state == KITH_FETCH_FINDER_WAITING && kith_fetch_wait_heard (self->wait, packet, &moved))
      kith_fetch_finder_wait_for (self, packet->node, self->ctx->timings->stall_ms, moved);
    break;
  case KITH_PACKET_TYPE_COMPLETE:
    if (self->state != KITH_FETCH_FINDER_IDLE)
      kith_fetch_finder_handle_complete (self, packet);
    break;
  default: break;
  }
}

/* ---- what a download in pieces takes from the finder ---- */

void
kith_fetch_finder_ask_again (KithFetchFinder *self)
{
  kith_fetch_search_ask_again (self->search);
}

static gboolean
kith_fetch_finder_found (gpointer user_data)
{
  KithFetchFinder *self = user_data;

  self->found_id = 0;
  kith_fetch_search_found (self->search, NULL);
  return G_SOURCE_REMOVE;
}

void
kith_fetch_finder_found_later (KithFetchFinder *self)
{
  g_clear_handle_id (&self->found_id, g_source_remove);
  self->found_id = g_timeout_add (self->ctx->timings->max_delay_ms + 1, kith_fetch_finder_found, self);
}

guint32
kith_fetch_finder_get_request_id (KithFetchFinder *self)
{
  return kith_fetch_search_get_id (self->search);
}

KithFetchStreamers *
kith_fetch_finder_get_streamers (KithFetchFinder *self)
{
  return self->streamers;
}

const gchar *
kith_fetch_finder_get_waited_for (KithFetchFinder *self)
{
  return kith_fetch_wait_get_node (self->wait);
}

void
kith_fetch_finder_get_progress (KithFetchFinder *self, guint64 *done, guint64 *total)
{
  kith_fetch_wait_get_progress (self->wait, done, total);
}

void
kith_fetch_finder_clear_progress (KithFetchFinder *self)
{
  kith_fetch_wait_clear_progress (self->wait);
}
