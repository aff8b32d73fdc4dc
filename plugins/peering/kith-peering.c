/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* kith-peering.c — the peering service: made from [peering] (kith-peering-config.c), owns
 * the shared objects (store, transport, peer table, sender, task broker), dispatches
 * packets to the responder and the fetch jobs, and implements KithFetcher and KithTaskBroker */
#include "kith-peering.h"
#include "kith-backend-trust.h"

#include "kith-alias-handler.h"
#include "kith-alias-url.h"
#include "kith-fetch-job.h"
#include "kith-partial-handler.h"
#include "kith-peer-directory.h"
#include "kith-peering-config.h"
#include "kith-peering-context.h"
#include "kith-peering-error.h"
#include "kith-peering-server.h"
#include "kith-peering-tasks.h"
#include "kith-piece-fetch.h"
#include "kith-transport.h"

/* Connections of the peering session in all: four fetches in pieces at full width. */
#define KITH_PEERING_MAX_CONNS (4 * KITH_PIECE_FETCH_MAX_SOURCES)

struct _KithPeering {
  GObject parent_instance;
  KithAgent *agent; /* borrowed: the agent outlives its plugins */
  KithPeeringTimings timings;
  KithPeeringContext ctx; /* what jobs and the server are given; points into @self */
  KithAliasStore *store;
  KithPeeringTrust *trust;
  KithAliasHandler *handler;
  KithPartialTable *partials;
  KithPartialHandler *partial_handler;
  KithResumeTable *resumes;
  guint stream_readers; /* readers of one partial copy at most */
  KithTransport *transport;
  KithPeerTable *peers;
  KithPeerDirectory *directory; /* the nodes heard, for `kith peers` (read-only export) */
  KithPeeringSender *sender;
  KithPeeringTasks *tasks;
  KithPeeringServer *server;
  SoupSession *session;
  GPtrArray *jobs;       /* KithFetchJob* */
};

enum {
  SIGNAL_PEER_DOWNLOAD,
  N_SIGNALS,
};
static guint signals[N_SIGNALS];

static void kith_peering_fetcher_init (KithFetcherInterface *iface);
static void kith_peering_task_broker_init (KithTaskBrokerInterface *iface);

G_DEFINE_TYPE_WITH_CODE (KithPeering, kith_peering, G_TYPE_OBJECT,
                         G_IMPLEMENT_INTERFACE (KITH_TYPE_FETCHER, kith_peering_fetcher_init)
                         G_IMPLEMENT_INTERFACE (KITH_TYPE_TASK_BROKER, kith_peering_task_broker_init))

static void
kith_peering_finalize (GObject *object)
{
  KithPeering *self = KITH_PEERING (object);

  kith_peering_stop (self);
  g_ptr_array_unref (self->jobs);
  g_clear_object (&self->transport);
  g_clear_object (&self->handler);
  if (self->partial_handler != NULL) /* readers still in flight keep it */
    g_signal_handlers_disconnect_by_data (self->partial_handler, self);
  g_clear_object (&self->partial_handler);
  g_clear_pointer (&self->partials, kith_partial_table_free);
  g_clear_pointer (&self->resumes, kith_resume_table_free); /* before the store its files are in */
  g_clear_object (&self->store);
  g_clear_object (&self->session);
  g_clear_pointer (&self->tasks, kith_peering_tasks_free);
  g_clear_pointer (&self->sender, kith_peering_sender_free);
  g_clear_pointer (&self->peers, kith_peer_table_free);
  g_clear_pointer (&self->directory, kith_peer_directory_free);
  g_clear_pointer (&self->trust, kith_peering_trust_free);
  G_OBJECT_CLASS (kith_peering_parent_class)->finalize (object);
}

static void
kith_peering_class_init (KithPeeringClass *klass)
{
  G_OBJECT_CLASS (klass)->finalize = kith_peering_finalize;
  signals[SIGNAL_PEER_DOWNLOAD] =
      g_signal_new ("peer-download", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0, NULL, NULL,
                    NULL, G_TYPE_NONE, 4, G_TYPE_STRING, G_TYPE_STRING, G_TYPE_UINT64, G_TYPE_UINT64);
}

static void
kith_peering_init (KithPeering *self)
{
  self->jobs = g_ptr_array_new ();
}

/* ---- packets ---- */

/* An alias must name the packet's source host and a kith alias path (kith-alias-url.h):
 * an announcement with any other is dropped and counted. */
static gboolean
kith_peering_alias_acceptable (KithPeering *self, const KithPacket *packet, GSocketAddress *from)
{
  g_autofree gchar *labels = NULL;
  const gchar *reason = NULL;

  if (packet->type != KITH_PACKET_TYPE_RESPONSE && packet->type != KITH_PACKET_TYPE_DOWNLOADING &&
      packet->type != KITH_PACKET_TYPE_COMPLETE)
    return TRUE;
  if (kith_alias_url_check (packet->alias, from, &reason))
    return TRUE;
  labels = g_strdup_printf ("reason=\"%s\"", reason);
  kith_metrics_add (self->ctx.metrics, "kith_peering_aliases_dropped_total", labels, 1);
  g_debug ("dropped a %s from %s: alias refused (%s)", kith_packet_type_to_string (packet->type), packet->node,
           reason);
  return FALSE;
}

static void
kith_peering_dispatch (KithPeering *self, KithPacket *packet, GSocketAddress *from)
{
  if (kith_peering_tasks_deliver_offer (self->tasks, packet, from))
    return; /* the alias of a task offer is checked, not fixed: it must name its sender */
  kith_alias_url_fix_host (&packet->alias, from);
  if (!kith_peering_alias_acceptable (self, packet, from))
    return;
  kith_peering_server_handle_packet (self->server, packet, from);
  kith_peer_table_track (self->peers, packet);
  /* a holder's announcements come from its send socket: a requester may ask it there */
  if (packet->type == KITH_PACKET_TYPE_COMPLETE || packet->type == KITH_PACKET_TYPE_RESPONSE)
    kith_peer_table_note_address (self->peers, packet->node, from);
  kith_peer_directory_note (self->directory, packet, from);
  if (packet->type == KITH_PACKET_TYPE_DOWNLOADING || packet->type == KITH_PACKET_TYPE_COMPLETE) {
    guint64 done = packet->type == KITH_PACKET_TYPE_COMPLETE ? packet->size : packet->done;
    guint64 total = packet->type == KITH_PACKET_TYPE_COMPLETE ? packet->size : packet->total;
    g_signal_emit (self, signals[SIGNAL_PEER_DOWNLOAD], 0, packet->href, packet->node, done, total);
  }
  /* a job may finish (and leave the array) while handling the packet */
  for (guint i = self->jobs->len; i > 0; i--) {
    KithFetchJob *job;
    if (i > self->jobs->len)
      continue;
    job = g_ptr_array_index (self->jobs, i - 1);
    if (packet->type == KITH_PACKET_TYPE_RESPONSE ||
        g_strcmp0 (packet->href, kith_fetch_job_get_href (job)) == 0)
      kith_fetch_job_handle_packet (job, packet, from);
  }
}

static void
kith_peering_datagram (KithTransport *transport, GBytes *data, GSocketAddress *from,
                       KithPeering *self)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (KithPacket) packet = NULL;
  gsize len = 0;
  const guint8 *raw = g_bytes_get_data (data, &len);

  packet = kith_packet_parse (raw, len, &error);
  if (packet == NULL) {
    g_autofree gchar *labels =
        g_strdup_printf ("reason=\"%s\"", kith_peering_error_to_reason (error->code));
    kith_metrics_add (kith_agent_get_metrics (self->agent), "kith_peering_packets_dropped_total", labels, 1);
    g_debug ("dropped a packet: %s", error->message);
    return;
  }
  if (g_strcmp0 (packet->node, kith_agent_get_node_id (self->agent)) == 0)
    return; /* our own broadcast */
  kith_peering_sender_count (self->sender, "in", packet->type);
  kith_peering_dispatch (self, packet, from);
}

/* ---- jobs ---- */

KithAliasStore *
kith_peering_get_store (KithPeering *self)
{
  return self->store;
}

static gboolean
kith_peering_origin_progress (const gchar *href, guint64 *done, guint64 *total, gchar **alias_path,
                              gpointer user_data)
{
  KithPeering *self = user_data;

  for (guint i = 0; i < self->jobs->len; i++) {
    KithFetchJob *job = g_ptr_array_index (self->jobs, i);
    if (g_strcmp0 (kith_fetch_job_get_href (job), href) == 0 &&
        kith_fetch_job_get_origin_progress (job, done, total, alias_path))
      return TRUE;
  }
  return FALSE;
}

static void
kith_peering_job_finished (KithFetchJob *job, gpointer user_data)
{
  KithPeering *self = user_data;

  g_ptr_array_remove (self->jobs, job);
  kith_metrics_set (self->ctx.metrics, "kith_peering_transfers_active", NULL, self->jobs->len);
  kith_fetch_job_free (job);
}

/* ---- KithFetcher ---- */

static KithTransfer *
kith_peering_fetch_pieces (KithFetcher *fetcher, const gchar *url, const gchar *sha256, guint64 size,
                           const KithPieceList *pieces, KithFetchFlags flags)
{
  KithPeering *self = KITH_PEERING (fetcher);
  KithTransfer *transfer = kith_transfer_new (url);
  KithFetchJob *job = NULL;

  /* one job per URL: a second caller rides along (with a hash, only a job that checks the
   * same hash and size — the relay's fetches for requesters join its own this way) */
  for (guint i = 0; i < self->jobs->len && job == NULL; i++) {
    if (kith_fetch_job_serves (g_ptr_array_index (self->jobs, i), url, sha256, size, flags))
      job = g_ptr_array_index (self->jobs, i);
  }
  if (job == NULL) {
    job = kith_fetch_job_new (&self->ctx, url, sha256, size, flags, kith_peering_job_finished, self);
    if (pieces != NULL)
      kith_fetch_job_set_pieces (job, pieces);
    g_ptr_array_add (self->jobs, job);
    kith_metrics_set (self->ctx.metrics, "kith_peering_transfers_active", NULL, self->jobs->len);
    kith_fetch_job_start (job);
  }
  kith_fetch_job_add_transfer (job, transfer);
  return transfer;
}

static KithTransfer *
kith_peering_fetch (KithFetcher *fetcher, const gchar *url, const gchar *sha256, guint64 size,
                    KithFetchFlags flags)
{
  return kith_peering_fetch_pieces (fetcher, url, sha256, size, NULL, flags);
}

static void
kith_peering_fetcher_init (KithFetcherInterface *iface)
{
  iface->fetch = kith_peering_fetch;
  iface->fetch_pieces = kith_peering_fetch_pieces;
}

/* ---- KithTaskBroker: kith-peering-tasks.c does the work ---- */

static guint32
kith_peering_task_request (KithTaskBroker *broker, const gchar *task, const gchar *href,
                           KithTaskOfferFunc func, gpointer user_data)
{
  return kith_peering_tasks_request (KITH_PEERING (broker)->tasks, task, href, func, user_data);
}

static void
kith_peering_task_found (KithTaskBroker *broker, guint32 id)
{
  kith_peering_tasks_found (KITH_PEERING (broker)->tasks, id);
}

static void
kith_peering_task_end (KithTaskBroker *broker, guint32 id)
{
  kith_peering_tasks_end (KITH_PEERING (broker)->tasks, id);
}

static void
kith_peering_task_add_responder (KithTaskBroker *broker, const gchar *task,
                                 KithTaskResponder func, gpointer user_data)
{
  kith_peering_tasks_add_responder (KITH_PEERING (broker)->tasks, task, func, user_data);
}

static void
kith_peering_task_remove_responder (KithTaskBroker *broker, const gchar *task)
{
  kith_peering_tasks_remove_responder (KITH_PEERING (broker)->tasks, task);
}

static void
kith_peering_task_broker_init (KithTaskBrokerInterface *iface)
{
  iface->request = kith_peering_task_request;
  iface->found = kith_peering_task_found;
  iface->end = kith_peering_task_end;
  iface->add_responder = kith_peering_task_add_responder;
  iface->remove_responder = kith_peering_task_remove_responder;
}

/* ---- life cycle ---- */

static void
kith_peering_register_metrics (KithMetrics *metrics)
{
  kith_metrics_register (metrics, "kith_peering_packets_in_total", KITH_METRIC_COUNTER, "Packets received, by type");
  kith_metrics_register (metrics, "kith_peering_packets_out_total", KITH_METRIC_COUNTER, "Packets sent, by type");
  kith_metrics_register (metrics, "kith_peering_packets_dropped_total", KITH_METRIC_COUNTER, "Malformed packets dropped, by reason");
  kith_metrics_register (metrics, "kith_peering_aliases_dropped_total", KITH_METRIC_COUNTER, "Announcements dropped for their alias URL (not http(s), not the sender's host, not an alias path), by reason");
  kith_metrics_register (metrics, "kith_peering_hits_total", KITH_METRIC_COUNTER, "Fetches served by a peer");
  kith_metrics_register (metrics, "kith_peering_misses_total", KITH_METRIC_COUNTER, "Fetches that went to the origin");
  kith_metrics_register (metrics, "kith_peering_peer_bytes_total", KITH_METRIC_COUNTER, "Bytes fetched from peers");
  kith_metrics_register (metrics, "kith_peering_origin_bytes_total", KITH_METRIC_COUNTER, "Bytes fetched from origins");
  kith_metrics_register (metrics, "kith_peering_served_bytes_total", KITH_METRIC_COUNTER, "Bytes served to peers");
  kith_metrics_register (metrics, "kith_peering_bad_peers_total", KITH_METRIC_COUNTER, "Peers skipped for serving bad bytes");
  kith_metrics_register (metrics, "kith_peering_peer_backoffs_total", KITH_METRIC_COUNTER, "Peers backed off after a failed download (a fault, not misbehaviour)");
  kith_metrics_register (metrics, "kith_peering_replies_limited_total", KITH_METRIC_COUNTER, "Replies not sent: the requester's address was over its rate");
  kith_metrics_register (metrics, "kith_peering_replies_hinted_total", KITH_METRIC_COUNTER, "Replies scheduled at once because the request named this node as the holder to answer first");
  kith_metrics_register (metrics, "kith_peering_requests_direct_total", KITH_METRIC_COUNTER, "Requests sent straight to the known holder ranked first, by whether it answered in time");
  kith_metrics_register (metrics, "kith_peering_replies_evicted_total", KITH_METRIC_COUNTER, "Pending replies dropped to stay within the table's bound");
  kith_metrics_register (metrics, "kith_peering_oversize_downloads_total", KITH_METRIC_COUNTER, "Downloads cut at the size they were promised");
  kith_metrics_register (metrics, "kith_peering_unvouched_total", KITH_METRIC_COUNTER, "Copies refused without a trusted hash from peers that did not prove they are enrolled");
  kith_metrics_register (metrics, "kith_peering_origin_digests_total", KITH_METRIC_COUNTER, "Fetches whose trusted hash came from the origin's digest");
  kith_metrics_register (metrics, "kith_peering_transfers_active", KITH_METRIC_GAUGE, "Fetches in progress");
  kith_metrics_register (metrics, "kith_peering_streamed_total", KITH_METRIC_COUNTER, "Fetches read from a peer's partial copy while it downloaded, and verified");
  kith_metrics_register (metrics, "kith_peering_partial_served_bytes_total", KITH_METRIC_COUNTER, "Bytes served to peers from our partial copies (downloads in progress)");
  kith_metrics_register (metrics, "kith_peering_stream_busy_total", KITH_METRIC_COUNTER, "Partial copies that had all the readers they take (503): read elsewhere");
  kith_metrics_register (metrics, "kith_peering_pieces_total", KITH_METRIC_COUNTER, "Pieces of files fetched in pieces, by result (ok: verified and kept, bad: did not match the piece list, failed: the source failed, busy: the source answered 503, dropped: a duplicate asked near the end that another source sent first, missing: a partial copy refused a piece it did not claim, lied: a source refused a piece it claimed or sent a bad piece map)");
  kith_metrics_register (metrics, "kith_peering_piece_bytes_total", KITH_METRIC_COUNTER, "Bytes of verified pieces kept");
  kith_metrics_register (metrics, "kith_peering_resumed_total", KITH_METRIC_COUNTER, "Downloads of a whole file that asked their source only for the rest, the bytes before kept from a download that broke, by answer (ranged: the rest came, 206; restarted: the whole file again, 200; lied: a 206 of another range, refused; mismatched: the copy had bytes of several peers and did not match, none banned for it alone, fetched again whole from one, then those whose bytes differ from that banned)");
  kith_metrics_register (metrics, "kith_peering_partial_refused_total", KITH_METRIC_COUNTER, "Readers of a partial copy turned away or cut, by reason (readers: over the cap, stall, failed, missing: a piece not verified yet, stopping: the agent stopped)");
}

static void
kith_peering_served (KithAliasHandler *handler, const gchar *sha256, guint64 bytes, KithPeering *self)
{
  kith_metrics_add (self->ctx.metrics, "kith_peering_served_bytes_total", NULL, bytes);
}

static void
kith_peering_partial_served (KithPartialHandler *handler, guint64 bytes, gboolean complete, KithPeering *self)
{
  kith_metrics_add (self->ctx.metrics, "kith_peering_served_bytes_total", NULL, bytes);
  kith_metrics_add (self->ctx.metrics, "kith_peering_partial_served_bytes_total", NULL, bytes);
}

static void
kith_peering_partial_refused (KithPartialHandler *handler, const gchar *reason, KithPeering *self)
{
  g_autofree gchar *labels = g_strdup_printf ("reason=\"%s\"", reason);
  kith_metrics_add (self->ctx.metrics, "kith_peering_partial_refused_total", labels, 1);
}

/* Partial copies are served under their own prefix, beside the verified aliases. A
 * finished copy lingers as long as a follower may take to come for it. */
static void
kith_peering_start_partials (KithPeering *self)
{
  self->partials = kith_partial_table_new (self->timings.stall_ms);
  self->partial_handler = kith_partial_handler_new (self->partials, self->timings.stall_ms);
  kith_partial_handler_set_max_readers (self->partial_handler, self->stream_readers);
  g_signal_connect (self->partial_handler, "served", G_CALLBACK (kith_peering_partial_served), self);
  g_signal_connect (self->partial_handler, "refused", G_CALLBACK (kith_peering_partial_refused), self);
  kith_http_add_handler (kith_agent_get_http (self->agent), KITH_PARTIAL_HANDLER_PREFIX,
                         kith_partial_handler_callback, g_object_ref (self->partial_handler),
                         g_object_unref);
}

/* A node whose backend answers only through a relay cannot reach origins either: its
 * misses go to the relay (docs/relay.md), and it is never elected to fetch for the LAN.
 * Nor can a node between two relays (the one in use died, the next not yet taken). */
static void
kith_peering_route_changed (KithBackendRoute *route, KithPeering *self)
{
  self->ctx.can_reach_origin = !kith_agent_get_offline (self->agent) && kith_backend_route_get_direct (route);
}

KithPeering *
kith_peering_new (KithAgent *agent, GError **error)
{
  g_autoptr (KithPeering) self = g_object_new (KITH_TYPE_PEERING, NULL);
  KithConfig *config = kith_agent_get_config (agent);

  self->agent = agent;
  if (!kith_peering_config_check_keys (config, error) ||
      (self->trust = kith_peering_trust_new (agent, error)) == NULL ||
      !kith_peering_config_load_timings (config, &self->timings, &self->stream_readers, error) ||
      (self->store = kith_peering_config_open_store (config, kith_agent_get_state_dir (agent), error)) == NULL ||
      (self->transport = kith_peering_config_open_transport (config, error)) == NULL)
    return NULL;
  kith_peering_register_metrics (kith_agent_get_metrics (agent));
  /* libsoup's default of 10 connections in all is less than one fetch in pieces keeps
   * open (a piece in flight per source, KITH_PIECE_FETCH_MAX_SOURCES): past it every piece
   * queued, and closed another source's idle connection to open its own — a new TCP
   * connection, and its slow start, per piece. Bounded all the same. */
  self->session = soup_session_new_with_options ("max-conns", KITH_PEERING_MAX_CONNS, "max-conns-per-host", 8,
                                                 "timeout", 60,
                                                 "user-agent", "kith ", NULL);
  kith_backend_trust_session (agent, self->session); /* origin files on the backend */
  self->peers = kith_peer_table_new (&self->timings, kith_agent_get_node_id (agent));
  self->directory = kith_peer_directory_new (kith_agent_get_node_id (agent), 256);
  self->sender = kith_peering_sender_new (self->transport, kith_agent_get_node_id (agent),
                                          kith_agent_get_metrics (agent), kith_agent_get_http (agent));
  self->tasks = kith_peering_tasks_new (self->sender);
  kith_peering_start_partials (self);
  self->resumes = kith_resume_table_new (KITH_RESUME_TABLE_KEEP_MS);
  self->ctx = (KithPeeringContext) {
    .timings = &self->timings,
    .node_id = kith_agent_get_node_id (agent),
    .metrics = kith_agent_get_metrics (agent),
    .store = self->store,
    .session = self->session,
    .peers = self->peers,
    .sender = self->sender,
    .can_reach_origin = !kith_agent_get_offline (agent),
    .trust = self->trust,
    .partials = self->partials,
    .resumes = self->resumes,
    .agent = agent,
  };
  self->server = kith_peering_server_new (&self->ctx, self->tasks, kith_peering_origin_progress, self);
  self->handler = kith_alias_handler_new (self->store);
  g_signal_connect (self->handler, "served", G_CALLBACK (kith_peering_served), self);
  kith_http_add_handler (kith_agent_get_http (agent), KITH_ALIAS_HANDLER_PREFIX,
                         kith_alias_handler_callback, g_object_ref (self->handler), g_object_unref);
  g_signal_connect (self->transport, "datagram", G_CALLBACK (kith_peering_datagram), self);
  g_signal_connect_object (kith_agent_get_backend_route (agent), "changed", G_CALLBACK (kith_peering_route_changed),
                           self, 0);
  return g_steal_pointer (&self);
}

void
kith_peering_stop (KithPeering *self)
{
  g_autoptr (GError) error = g_error_new_literal (KITH_PEERING_ERROR, KITH_PEERING_ERROR_CANCELLED,
                                                 "the agent is stopping");

  if (self->server == NULL)
    return;
  while (self->jobs->len > 0)
    kith_fetch_job_abort (g_ptr_array_index (self->jobs, 0), error);
  /* the readers of our partial copies, cut before the agent's server lets them go */
  if (self->partial_handler != NULL)
    kith_partial_handler_stop (self->partial_handler);
  kith_transport_stop (self->transport);
  g_signal_handlers_disconnect_by_data (self->transport, self);
  kith_http_remove_handler (kith_agent_get_http (self->agent), KITH_ALIAS_HANDLER_PREFIX);
  kith_http_remove_handler (kith_agent_get_http (self->agent), KITH_PARTIAL_HANDLER_PREFIX);
  g_clear_pointer (&self->server, kith_peering_server_free);
  if (self->session != NULL)
    soup_session_abort (self->session);
}

GVariant *
kith_peering_get_status (KithPeering *self)
{
  KithMetrics *metrics = kith_agent_get_metrics (self->agent);
  GVariantDict dict;
  static const struct {
    const gchar *key;
    const gchar *metric;
  } counters[] = {
    { "hits", "kith_peering_hits_total" },
    { "misses", "kith_peering_misses_total" },
    { "bytes-from-peers", "kith_peering_peer_bytes_total" },
    { "bytes-from-origin", "kith_peering_origin_bytes_total" },
    { "bytes-served", "kith_peering_served_bytes_total" },
    { "bad-peers", "kith_peering_bad_peers_total" },
    { "peer-backoffs", "kith_peering_peer_backoffs_total" },
    { "replies-limited", "kith_peering_replies_limited_total" },
    { "replies-hinted", "kith_peering_replies_hinted_total" },
    { "streamed", "kith_peering_streamed_total" },
    { "bytes-served-partial", "kith_peering_partial_served_bytes_total" },
    { "stream-busy", "kith_peering_stream_busy_total" },
    { "bytes-from-pieces", "kith_peering_piece_bytes_total" },
  };

  g_variant_dict_init (&dict, NULL);
  for (guint i = 0; i < G_N_ELEMENTS (counters); i++)
    g_variant_dict_insert (&dict, counters[i].key, "t",
                           (guint64) kith_metrics_get (metrics, counters[i].metric, NULL));
  g_variant_dict_insert_value (&dict, "packets-in", kith_metrics_to_variant (metrics, "kith_peering_packets_in_total"));
  g_variant_dict_insert_value (&dict, "packets-out", kith_metrics_to_variant (metrics, "kith_peering_packets_out_total"));
  g_variant_dict_insert_value (&dict, "packets-dropped", kith_metrics_to_variant (metrics, "kith_peering_packets_dropped_total"));
  g_variant_dict_insert_value (&dict, "aliases-dropped", kith_metrics_to_variant (metrics, "kith_peering_aliases_dropped_total"));
  g_variant_dict_insert_value (&dict, "pieces", kith_metrics_to_variant (metrics, "kith_peering_pieces_total"));
  g_variant_dict_insert_value (&dict, "resumed", kith_metrics_to_variant (metrics, "kith_peering_resumed_total"));
  g_variant_dict_insert_value (&dict, "requests-direct", kith_metrics_to_variant (metrics, "kith_peering_requests_direct_total"));
  g_variant_dict_insert (&dict, "transfers-active", "t", (guint64) self->jobs->len);
  g_variant_dict_insert (&dict, "replies-pending", "t", (guint64) (
                         self->server != NULL ? kith_peering_server_get_pending (self->server) : 0));
  g_variant_dict_insert (&dict, "cache-bytes", "t", kith_alias_store_get_total_bytes (self->store));
  /* after a restart, copies are served only once re-hashed */
  g_variant_dict_insert (&dict, "cache-verifying", "b", kith_alias_store_is_verifying (self->store));
  g_variant_dict_insert (&dict, "max-delay-ms", "u", self->timings.max_delay_ms);
  g_variant_dict_insert (&dict, "client-wait-ms", "u", self->timings.client_wait_ms);
  g_variant_dict_insert_value (&dict, "peers", kith_peer_directory_to_variant (self->directory));
  return g_variant_dict_end (&dict);
}
