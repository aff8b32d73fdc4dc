/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* kith-peering-server.c — the responding side (FIG. 3, 5; docs/architecture.md)
 *
 * Each holder waits before saying "I have" — by its rank for this request among the holders
 * it knows of (or, reply-order=random, a random delay) — so the load spreads over holders
 * and the first answer silences the others (the requester broadcasts "I found", which
 * cancels pending replies).
 */
#include "kith-peering-server.h"

#include "kith-alias-handler.h"
#include "kith-rate-limit.h"
#include "kith-reply-rank.h"

/* Replies waiting for their delay, at most; then the oldest is dropped. */
#define KITH_PEERING_SERVER_MAX_PENDING 256
/* Source addresses whose reply rate is tracked, at most. */
#define KITH_PEERING_SERVER_MAX_SOURCES 1024

struct _KithPeeringServer {
  const KithPeeringContext *ctx; /* borrowed */
  KithPeeringTasks *tasks;       /* borrowed */
  KithPeeringOriginProgressFunc origin_progress;
  gpointer origin_progress_data;
  GHashTable *pending; /* "node:id" → KithPendingReply* */
  GHashTable *answered; /* "node:id" → KithPendingReply* (reply sent), the newest few */
  KithRateLimit *replies; /* per requester address */
};

typedef struct {
  KithPeeringServer *server;
  gchar *key;
  KithPacket *reply;
  GSocketAddress *to;
  guint timeout_id;
  gint64 created_us;
} KithPendingReply;

static void
kith_peering_server_reply_free (KithPendingReply *pending)
{
  if (pending->timeout_id != 0)
    g_source_remove (pending->timeout_id);
  g_free (pending->key);
  kith_packet_free (pending->reply);
  g_object_unref (pending->to);
  g_free (pending);
}

KithPeeringServer *
kith_peering_server_new (const KithPeeringContext *context, KithPeeringTasks *tasks,
                         KithPeeringOriginProgressFunc origin_progress, gpointer user_data)
{
  KithPeeringServer *self = g_new0 (KithPeeringServer, 1);
  self->ctx = context;
  self->tasks = tasks;
  self->origin_progress = origin_progress;
  self->origin_progress_data = user_data;
  self->pending = g_hash_table_new_full (g_str_hash, g_str_equal, NULL,
                                         (GDestroyNotify) kith_peering_server_reply_free);
  self->answered = g_hash_table_new_full (g_str_hash, g_str_equal, NULL,
                                          (GDestroyNotify) kith_peering_server_reply_free);
  self->replies = kith_rate_limit_new (context->timings->reply_rate, context->timings->reply_burst,
                                       KITH_PEERING_SERVER_MAX_SOURCES);
  return self;
}

void
kith_peering_server_free (KithPeeringServer *self)
{
  g_hash_table_unref (self->pending);
  g_hash_table_unref (self->answered);
  kith_rate_limit_free (self->replies);
  g_free (self);
}

guint
kith_peering_server_get_pending (KithPeeringServer *self)
{
  return g_hash_table_size (self->pending);
}

static gchar *
kith_peering_server_key (const KithPacket *packet)
{
  return g_strdup_printf ("%s:%u", packet->node, packet->id);
}

/* Unicast replies to one address are rate-limited, so that a request with a forged source
 * cannot turn the holders of a LAN into an amplifier aimed at someone else. */
static gboolean
kith_peering_server_may_reply (KithPeeringServer *self, GSocketAddress *to)
{
  g_autofree gchar *host = NULL;

  if (!G_IS_INET_SOCKET_ADDRESS (to))
    return TRUE;
  host = g_inet_address_to_string (g_inet_socket_address_get_address (G_INET_SOCKET_ADDRESS (to)));
  if (kith_rate_limit_take (self->replies, host, kith_peer_table_now (self->ctx->peers)))
    return TRUE;
  kith_metrics_add (self->ctx->metrics, "kith_peering_replies_limited_total", NULL, 1);
  g_debug ("not replying to %s: over its rate", host);
  return FALSE;
}

/* Keeps @table (pending or answered replies) within its bound: the oldest goes. */
static void
kith_peering_server_make_room (KithPeeringServer *self, GHashTable *table)
{
  GHashTableIter iter;
  KithPendingReply *pending, *oldest = NULL;

  if (g_hash_table_size (table) < KITH_PEERING_SERVER_MAX_PENDING)
    return;
  g_hash_table_iter_init (&iter, table);
  while (g_hash_table_iter_next (&iter, NULL, (gpointer *) &pending)) {
    if (oldest == NULL || pending->created_us < oldest->created_us)
      oldest = pending;
  }
  if (table == self->pending)
    kith_metrics_add (self->ctx->metrics, "kith_peering_replies_evicted_total", NULL, 1);
  g_hash_table_remove (table, oldest->key);
}

static gboolean
kith_peering_server_reply_due (gpointer user_data)
{
  KithPendingReply *pending = user_data;
  KithPeeringServer *self = pending->server;

  pending->timeout_id = 0;
  /* the rate counts replies sent: one that "I found" cancelled cost the requester nothing */
  if (!kith_peering_server_may_reply (self, pending->to)) {
    g_hash_table_remove (self->pending, pending->key);
    return G_SOURCE_REMOVE;
  }
  kith_peering_sender_send_to (self->ctx->sender, pending->reply, pending->to);
  g_hash_table_steal (self->pending, pending->key);
  g_clear_pointer (&pending->reply, kith_packet_free);
  kith_peering_server_make_room (self, self->answered);
  g_hash_table_replace (self->answered, pending->key, pending);
  return G_SOURCE_REMOVE;
}


/* Someone fetching @packet's href from the origin says so at once: the requester
 * then waits for it instead of starting a second origin download. */
static gboolean
kith_peering_server_answer_downloading (KithPeeringServer *self, const KithPacket *packet,
                                        GSocketAddress *from)
{
  g_autoptr (KithPacket) reply = NULL;
  g_autofree gchar *path = NULL;
  guint64 done = 0, total = 0;

  if (!self->origin_progress (packet->href, &done, &total, &path, self->origin_progress_data))
    return FALSE;
  if (!kith_peering_server_may_reply (self, from))
    return TRUE;
  reply = kith_packet_new (KITH_PACKET_TYPE_DOWNLOADING);
  reply->id = packet->id;
  reply->href = g_strdup (packet->href);
  /* the partial copy, when there is one: the asker may read it as it grows */
  reply->alias = kith_peering_sender_url_for_path (self->ctx->sender,
                                                   path != NULL ? path : KITH_ALIAS_HANDLER_PREFIX, from);
  reply->done = done;
  reply->total = total;
  kith_peering_sender_send_to (self->ctx->sender, reply, from);
  return TRUE;
}

/* How long to wait before answering @request (docs/protocol.md, "Reply order"). With
 * reply-order=rank: our rank among the holders we know of (kith-reply-rank.h), one slot
 * each, the hinted holder at once; capped at half the wait of a requester that knows no
 * holder, so that however many holders we believe in (a hostile host can make us believe
 * in many) someone still answers in time. Tasks, and reply-order=random: the patent's
 * random delay in [0, max-delay-ms]. */
static guint
kith_peering_server_delay (KithPeeringServer *self, const KithPacket *request)
{
  const KithPeeringTimings *timings = self->ctx->timings;
  g_autoptr (GPtrArray) holders = NULL;
  guint rank;

  if (timings->reply_order == KITH_REPLY_ORDER_RANDOM || request->method != KITH_PACKET_METHOD_GET ||
      request->href == NULL)
    return g_random_int_range (0, timings->max_delay_ms + 1);
  if (g_strcmp0 (request->holder, self->ctx->node_id) == 0) {
    kith_metrics_add (self->ctx->metrics, "kith_peering_replies_hinted_total", NULL, 1);
    return 0;
  }
  holders = kith_peer_table_get_holders (self->ctx->peers, request->href, NULL, FALSE);
  rank = kith_reply_rank_of (request->node, request->id, self->ctx->node_id, request->holder, holders);
  return (guint) MIN ((guint64) rank * timings->reply_slot_ms,
                      MIN (timings->max_delay_ms, timings->miss_wait_ms / 2));
}

/* Sends @reply to @from after its delay, unless "I found" or "end-request" for @request
 * comes first. Takes @reply. */
static void
kith_peering_server_schedule (KithPeeringServer *self, const KithPacket *request,
                              KithPacket *reply, GSocketAddress *from)
{
  KithPendingReply *pending;
  guint delay_ms = kith_peering_server_delay (self, request);

  kith_peering_server_make_room (self, self->pending);
  pending = g_new0 (KithPendingReply, 1);
  pending->created_us = kith_peer_table_now (self->ctx->peers);
  pending->server = self;
  pending->key = kith_peering_server_key (request);
  pending->to = g_object_ref (from);
  pending->reply = reply;
  pending->reply->id = request->id;
  pending->timeout_id = g_timeout_add (delay_ms, kith_peering_server_reply_due, pending);
  g_debug ("will answer %s for %s in %u ms", pending->key, request->href, delay_ms);
  g_hash_table_replace (self->pending, pending->key, pending);
}

/* A task (method post, want=TASK) is offered by the plugin that performs it. */
static void
kith_peering_server_handle_task (KithPeeringServer *self, const KithPacket *packet,
                                 GSocketAddress *from)
{
  gpointer user_data = NULL;
  KithTaskResponder responder = kith_peering_tasks_get_responder (self->tasks, packet->want, &user_data);
  KithTaskAsk ask = { packet->want, packet->href, packet->node, packet->id, from };
  KithTaskOffer offer = { 0 };
  KithPacket *reply;

  if (responder == NULL || !responder (&ask, &offer, user_data)) {
    g_free (offer.alias);
    g_free (offer.cert);
    g_free (offer.sig);
    return;
  }
  reply = kith_packet_new (KITH_PACKET_TYPE_RESPONSE);
  reply->method = KITH_PACKET_METHOD_POST;
  reply->want = g_strdup (packet->want);
  reply->alias = offer.alias;
  reply->cert = offer.cert;
  reply->sig = offer.sig;
  reply->interval = offer.interval;
  kith_peering_server_schedule (self, packet, reply, from);
}

static void
kith_peering_server_handle_request (KithPeeringServer *self, const KithPacket *packet,
                                    GSocketAddress *from)
{
  KithAliasStore *store = self->ctx->store;
  g_autoptr (KithAliasEntry) entry = NULL;
  KithPacket *reply;

  if (packet->method == KITH_PACKET_METHOD_POST && packet->want != NULL) {
    kith_peering_server_handle_task (self, packet, from);
    return;
  }
  if (packet->method != KITH_PACKET_METHOD_GET || packet->href == NULL)
    return;
  if (!packet->cachedonly)
    kith_peer_table_note_requester (self->ctx->peers, packet->href, packet->node);
  entry = kith_alias_store_lookup_href (store, packet->href);
  if (entry == NULL) {
    kith_peering_server_answer_downloading (self, packet, from);
    return;
  }
  reply = kith_packet_new (KITH_PACKET_TYPE_RESPONSE);
  reply->href = g_strdup (packet->href);
  reply->alias = kith_peering_sender_alias_url (self->ctx->sender, entry->sha256, entry->href, from);
  reply->size = entry->size;
  reply->sha256 = g_strdup (entry->sha256);
  reply->id = packet->id;
  /* we vouch only for what we fetched from the origin or checked against a trusted hash;
   * the certificate needs the room of the href (the requester matches the id) */
  if (KITH_ALIAS_TRUST_VOUCHES (entry->trust) && kith_peering_trust_vouch (self->ctx->trust, reply))
    g_clear_pointer (&reply->href, g_free);
  kith_peering_server_schedule (self, packet, reply, from);
}

static gboolean
kith_peering_server_same_address (GSocketAddress *a, GSocketAddress *b)
{
  if (!G_IS_INET_SOCKET_ADDRESS (a) || !G_IS_INET_SOCKET_ADDRESS (b))
    return FALSE;
  return g_inet_socket_address_get_port (G_INET_SOCKET_ADDRESS (a)) ==
             g_inet_socket_address_get_port (G_INET_SOCKET_ADDRESS (b)) &&
         g_inet_address_equal (g_inet_socket_address_get_address (G_INET_SOCKET_ADDRESS (a)),
                               g_inet_socket_address_get_address (G_INET_SOCKET_ADDRESS (b)));
}

/* "found" after our reply was sent, from the address the request came from: the requester
 * was real and took an answer (ours or another's), so the reply is given back to its rate.
 * A forged source gets its replies refunded only by forging one "found" per reply, which
 * leaves nothing to amplify (a reply is about the size of a request and a "found"). */
static void
kith_peering_server_taken (KithPeeringServer *self, const KithPacket *packet, const gchar *key,
                           GSocketAddress *from)
{
  KithPendingReply *answered = g_hash_table_lookup (self->answered, key);
  g_autofree gchar *host = NULL;

  if (answered == NULL || packet->type != KITH_PACKET_TYPE_FOUND ||
      !kith_peering_server_same_address (answered->to, from) || !G_IS_INET_SOCKET_ADDRESS (from))
    return;
  host = g_inet_address_to_string (g_inet_socket_address_get_address (G_INET_SOCKET_ADDRESS (from)));
  kith_rate_limit_refund (self->replies, host, kith_peer_table_now (self->ctx->peers));
  g_hash_table_remove (self->answered, key);
}

/* "found" or "end-request" cancels our pending reply, but only when it comes from the
 * address and port the request came from: anyone can write another node's id. */
static void
kith_peering_server_cancel (KithPeeringServer *self, const KithPacket *packet, GSocketAddress *from)
{
  g_autofree gchar *key = kith_peering_server_key (packet);
  KithPendingReply *pending = g_hash_table_lookup (self->pending, key);

  if (pending == NULL) {
    kith_peering_server_taken (self, packet, key, from);
    return;
  }
  if (!kith_peering_server_same_address (pending->to, from)) {
    kith_metrics_add (self->ctx->metrics, "kith_peering_packets_dropped_total",
                      "reason=\"foreign-cancel\"", 1);
    g_debug ("ignoring %s for %s from another address", kith_packet_type_to_string (packet->type), key);
    return;
  }
  g_hash_table_remove (self->pending, key);
  g_debug ("reply to %s cancelled by %s", key, kith_packet_type_to_string (packet->type));
}

void
kith_peering_server_handle_packet (KithPeeringServer *self, const KithPacket *packet,
                                   GSocketAddress *from)
{

  switch (packet->type) {
  case KITH_PACKET_TYPE_REQUEST:
    kith_peering_server_handle_request (self, packet, from);
    break;
  case KITH_PACKET_TYPE_FOUND:
  case KITH_PACKET_TYPE_END_REQUEST:
    kith_peering_server_cancel (self, packet, from);
    break;
  default:
    break;
  }
}
