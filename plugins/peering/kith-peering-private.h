/* kith-peering-private.h — what the peering service shares with its jobs and its server */
#pragma once

#include <libsoup/soup.h>

#include "kith-packet.h"
#include "kith-peering.h"

G_BEGIN_DECLS

typedef struct _KithFetchJob KithFetchJob;

/* Timings and limits from [peering]. */
typedef struct {
  guint max_delay_ms;         /* responders wait a random delay in [0, this] */
  guint client_wait_ms;       /* requesters wait this long for a response */
  guint progress_interval_ms; /* "downloading" announcements at most this often */
  guint stall_ms;             /* a downloader silent this long is given up on */
  guint bad_peer_ms;          /* a peer that served bad bytes is skipped this long */
} KithPeeringTimings;

const KithPeeringTimings *kith_peering_get_timings (KithPeering *self);
const gchar *kith_peering_get_node_id (KithPeering *self);
SoupSession *kith_peering_get_session (KithPeering *self);
KithMetrics *kith_peering_get_metrics (KithPeering *self);
/* TRUE if this node may fetch from origins itself ([agent] offline=false). */
gboolean kith_peering_can_reach_origin (KithPeering *self);
/* A fresh request id, unique on this node. */
guint32 kith_peering_next_id (KithPeering *self);

/* Sends @packet (its node is filled in) to the LAN, or unicast to @to. */
void kith_peering_broadcast (KithPeering *self, KithPacket *packet);
void kith_peering_send_to (KithPeering *self, KithPacket *packet, GSocketAddress *to);

/* The alias URL of @sha256 as seen from @peer (the host peers reach us on), or with a
 * NULL @sha256 the base of our aliases (for "downloading"); caller frees. */
gchar *kith_peering_alias_url (KithPeering *self, const gchar *sha256, const gchar *href,
                               GSocketAddress *peer);
/* The job fetching @href from the origin right now, or NULL. */
KithFetchJob *kith_peering_find_origin_job (KithPeering *self, const gchar *href);

/* Peers that served bad bytes are skipped for a while. */
void kith_peering_mark_bad (KithPeering *self, const gchar *node, const gchar *reason);
gboolean kith_peering_is_bad (KithPeering *self, const gchar *node);
/* A node (not in @skip, not bad) that announced "downloading" @href within stall-ms,
 * or NULL: a job starting late still knows someone is on it. */
const gchar *kith_peering_find_downloader (KithPeering *self, const gchar *href, GHashTable *skip);
/* Remembers that @node asked the LAN for @href (it may fetch it from the origin). */
void kith_peering_note_requester (KithPeering *self, const gchar *href, const gchar *node);
/* The node that should fetch @href from the origin: the lowest id among recent requesters
 * that can reach the origin, this node too if @include_self, minus @skip. NULL if none. */
const gchar *kith_peering_elect (KithPeering *self, const gchar *href, GHashTable *skip,
                                 gboolean include_self);
/* The responder registered for @task, or NULL. */
KithTaskResponder kith_peering_get_responder (KithPeering *self, const gchar *task,
                                              gpointer *user_data);
/* Called by a job when it has finished; the service drops it. */
void kith_peering_job_finished (KithPeering *self, KithFetchJob *job);

/* kith-fetch-job.c */
KithFetchJob *kith_fetch_job_new (KithPeering *peering, const gchar *href, const gchar *sha256,
                                  guint flags);
void kith_fetch_job_free (KithFetchJob *job);
void kith_fetch_job_start (KithFetchJob *job);
void kith_fetch_job_add_transfer (KithFetchJob *job, KithTransfer *transfer);
const gchar *kith_fetch_job_get_href (KithFetchJob *job);
/* TRUE while it fetches from the origin; fills the progress so far. */
gboolean kith_fetch_job_get_origin_progress (KithFetchJob *job, guint64 *done, guint64 *total);
/* A packet from another node that may concern this job. */
void kith_fetch_job_handle_packet (KithFetchJob *job, const KithPacket *packet);
/* Fails the job's transfers (agent shutting down). */
void kith_fetch_job_abort (KithFetchJob *job, const GError *error);

G_END_DECLS
