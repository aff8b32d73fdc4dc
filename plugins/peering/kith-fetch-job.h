/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* kith-fetch-job.h — the requesting side for one URL: search the LAN, wait for a
 * downloader, or fetch from the origin when elected; every copy verified into the store */
#pragma once

#include "kith-peering-context.h"

G_BEGIN_DECLS

typedef struct _KithFetchJob KithFetchJob;

/* Called once when the job has finished (its transfers are completed or failed);
 * the owner frees the job from here. */
typedef void (*KithFetchJobFinishedFunc) (KithFetchJob *job, gpointer user_data);

/* A job for @href (@sha256 nullable; @size: what the caller knows the file's size to be,
 * 0: unknown — no download writes more) working with @context (borrowed: it outlives the job). */
KithFetchJob *kith_fetch_job_new (const KithPeeringContext *context, const gchar *href,
                                  const gchar *sha256, guint64 size, guint flags,
                                  KithFetchJobFinishedFunc finished, gpointer user_data);
void kith_fetch_job_free (KithFetchJob *job);
/* A piece list trusted like the job's sha256 (copied), for a file of the job's size: with
 * it a large file may come in pieces from several peers (kith-piece-fetch.h). Before start. */
void kith_fetch_job_set_pieces (KithFetchJob *job, const KithPieceList *pieces);
/* Starts from an idle, so the caller can connect to its transfer first. */
void kith_fetch_job_start (KithFetchJob *job);
void kith_fetch_job_add_transfer (KithFetchJob *job, KithTransfer *transfer);
const gchar *kith_fetch_job_get_href (KithFetchJob *job);
/* Whether a fetch of @url against @sha256 (NULL: none) of @size (0: unknown) with @flags
 * can ride along @job: a fetch with neither hash nor size rides along any job of the URL;
 * one with them only a job of the same URL and flags that checks the same hash and size. */
gboolean kith_fetch_job_serves (KithFetchJob *job, const gchar *url, const gchar *sha256, guint64 size,
                                KithFetchFlags flags);
/* TRUE while it fetches from the origin, or streams from a peer while serving its own
 * partial copy; fills the progress so far and @alias_path, the path of that partial copy
 * (caller frees; NULL when there is none). */
gboolean kith_fetch_job_get_origin_progress (KithFetchJob *job, guint64 *done, guint64 *total,
                                             gchar **alias_path);
/* A packet from another node (sent from @from) that may concern this job. */
void kith_fetch_job_handle_packet (KithFetchJob *job, const KithPacket *packet, GSocketAddress *from);
/* Fails the job's transfers (agent shutting down); the job finishes. */
void kith_fetch_job_abort (KithFetchJob *job, const GError *error);

G_END_DECLS
