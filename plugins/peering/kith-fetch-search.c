/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* kith-fetch-search.c — a fetch job's search of the LAN: request, wait, found, end */
#include "kith-fetch-search.h"

#include "kith-reply-rank.h"

struct _KithFetchSearch {
  const KithPeeringContext *ctx;
  KithFetchSearchFuncs funcs;
  gpointer user_data;
  gchar *href;
  GHashTable *skip; /* borrowed from the job */
  guint32 request_id;
  /* the request a "found" closes: the one kith_fetch_search_start() sent; 0 once
   * kith_fetch_search_ask_again() asked for every answer */
  guint32 found_id;
  gchar *asked;     /* the holder this request went to alone, or NULL */
  guint timer_id;
};

KithFetchSearch *
kith_fetch_search_new (const KithPeeringContext *context, const gchar *href, GHashTable *skip,
                       const KithFetchSearchFuncs *funcs, gpointer user_data)
{
  KithFetchSearch *self = g_new0 (KithFetchSearch, 1);

  self->ctx = context;
  self->funcs = *funcs;
  self->user_data = user_data;
  self->href = g_strdup (href);
  self->skip = skip;
  return self;
}

void
kith_fetch_search_stop (KithFetchSearch *self)
{
  g_clear_handle_id (&self->timer_id, g_source_remove);
}

void
kith_fetch_search_free (KithFetchSearch *self)
{
  kith_fetch_search_stop (self);
  g_free (self->href);
  g_free (self->asked);
  g_free (self);
}

guint32
kith_fetch_search_get_id (KithFetchSearch *self)
{
  return self->request_id;
}

/* A request of this search's id for the URL; the caller owns it. */
static KithPacket *
kith_fetch_search_request (KithFetchSearch *self)
{
  KithPacket *request = kith_packet_new (KITH_PACKET_TYPE_REQUEST);

  request->id = self->request_id;
  request->method = KITH_PACKET_METHOD_GET;
  request->href = g_strdup (self->href);
  request->acceptprotocol = g_strdup ("http");
  request->cachedonly = !self->funcs.may_use_origin (self->user_data);
  return request;
}

static gboolean
kith_fetch_search_timeout (gpointer user_data)
{
  KithFetchSearch *self = user_data;

  self->timer_id = 0;
  self->funcs.ended (self->user_data);
  return G_SOURCE_REMOVE;
}

/* reply-order=rank: names in @request the holder we know of that should answer first
 * (kith-reply-rank.h: the same one the holders rank first, when they know what we know),
 * and returns how long to wait — the full client wait when someone is known to hold or be
 * fetching the file, else only the short miss wait, since a holder ranked first by its own
 * view answers at once. reply-order=random: no hint, the client wait. */
static guint
kith_fetch_search_hint (KithFetchSearch *self, KithPacket *request)
{
  const KithPeeringTimings *timings = self->ctx->timings;
  g_autoptr (GPtrArray) holders = NULL;

  if (timings->reply_order != KITH_REPLY_ORDER_RANK)
    return timings->client_wait_ms;
  holders = kith_peer_table_get_holders (self->ctx->peers, self->href, self->skip, TRUE);
  request->holder = g_strdup (kith_reply_rank_first (self->ctx->node_id, request->id, holders));
  if (request->holder != NULL || self->funcs.waited_for (self->user_data) != NULL ||
      kith_peer_table_find_downloader (self->ctx->peers, self->href, self->skip) != NULL)
    return timings->client_wait_ms;
  return timings->miss_wait_ms;
}

/* Broadcasts this search's request (naming the holder that should answer first) and waits. */
static void
kith_fetch_search_ask_lan (KithFetchSearch *self)
{
  g_autoptr (KithPacket) request = kith_fetch_search_request (self);
  guint wait_ms = kith_fetch_search_hint (self, request);

  kith_peering_sender_broadcast (self->ctx->sender, request);
  kith_fetch_search_stop (self);
  self->timer_id = g_timeout_add (wait_ms, kith_fetch_search_timeout, self);
}

/* The holder asked alone stayed silent for its slot: it is forgotten as a holder of the URL
 * (until it announces it again) and the LAN is asked, with the same request id, so that its
 * late answer still counts. */
static gboolean
kith_fetch_search_direct_timeout (gpointer user_data)
{
  KithFetchSearch *self = user_data;

  self->timer_id = 0;
  kith_metrics_add (self->ctx->metrics, "kith_peering_requests_direct_total", "result=\"unanswered\"", 1);
  g_debug ("%s: %s did not answer; asking the LAN", self->href, self->asked);
  kith_peer_table_forget_holder (self->ctx->peers, self->href, self->asked);
  g_clear_pointer (&self->asked, g_free);
  kith_fetch_search_ask_lan (self);
  return G_SOURCE_REMOVE;
}

/* reply-order=rank: the request goes to the known holder ranked first alone, at the address
 * its packets come from (docs/protocol.md, "Asking a known holder"): it answers at once and
 * nobody else is woken. FALSE when there is no such holder (or address): the LAN is asked. */
static gboolean
kith_fetch_search_ask_holder (KithFetchSearch *self)
{
  const KithPeeringTimings *timings = self->ctx->timings;
  g_autoptr (KithPacket) request = NULL;
  GSocketAddress *to;

  if (timings->reply_order != KITH_REPLY_ORDER_RANK)
    return FALSE;
  request = kith_fetch_search_request (self);
  kith_fetch_search_hint (self, request);
  to = kith_peer_table_get_address (self->ctx->peers, request->holder);
  if (request->holder == NULL || to == NULL)
    return FALSE;
  self->asked = g_strdup (request->holder);
  kith_peering_sender_send_to (self->ctx->sender, request, to);
  kith_fetch_search_stop (self);
  self->timer_id = g_timeout_add (MAX (timings->reply_slot_ms, 1), kith_fetch_search_direct_timeout, self);
  return TRUE;
}

void
kith_fetch_search_start (KithFetchSearch *self, gboolean every_holder)
{
  self->request_id = kith_peering_sender_next_id (self->ctx->sender);
  self->found_id = self->request_id;
  g_clear_pointer (&self->asked, g_free);
  if (every_holder || !kith_fetch_search_ask_holder (self))
    kith_fetch_search_ask_lan (self);
}

void
kith_fetch_search_ask_again (KithFetchSearch *self)
{
  g_autoptr (KithPacket) request = NULL;

  self->request_id = kith_peering_sender_next_id (self->ctx->sender);
  /* every answer is taken as it comes, those of holders waiting their slot too: a "found"
   * due for the request before (a fetch in pieces says it max-delay-ms after it began)
   * would silence them, the only ones left to answer a fetch that has no source */
  self->found_id = 0;
  request = kith_fetch_search_request (self);
  /* named like any request's, the holder we know that ranks first answers at once */
  kith_fetch_search_hint (self, request);
  kith_peering_sender_broadcast (self->ctx->sender, request);
}

void
kith_fetch_search_found (KithFetchSearch *self, const gchar *holder)
{
  g_autoptr (KithPacket) found = NULL;
  GSocketAddress *to = NULL;

  if (self->found_id == 0)
    return;
  found = kith_packet_new (KITH_PACKET_TYPE_FOUND);
  found->id = self->found_id;
  /* a request only the holder heard is answered: "found" goes to it alone too */
  if (self->asked != NULL && g_strcmp0 (holder, self->asked) == 0)
    to = kith_peer_table_get_address (self->ctx->peers, self->asked);
  if (to != NULL) {
    kith_metrics_add (self->ctx->metrics, "kith_peering_requests_direct_total", "result=\"answered\"", 1);
    kith_peering_sender_send_to (self->ctx->sender, found, to);
  } else {
    kith_peering_sender_broadcast (self->ctx->sender, found);
  }
}

void
kith_fetch_search_end (KithFetchSearch *self)
{
  g_autoptr (KithPacket) end = kith_packet_new (KITH_PACKET_TYPE_END_REQUEST);

  end->id = self->request_id;
  kith_peering_sender_broadcast (self->ctx->sender, end);
}
