/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* kith-peer-download.h — one HTTP GET of a URL (a peer's alias or the origin), whole or
 * one byte range, with a size cap: the bytes go to the caller's sink as they arrive */
#pragma once

#include <libsoup/soup.h>

#include "kith-agent.h"

G_BEGIN_DECLS

typedef struct _KithPeerDownload KithPeerDownload;

typedef struct {
  /* Takes @len bytes that belong at byte @offset of the file (ranges start at their first
   * byte); FALSE with @error stops the download, which then finishes with that error. */
  gboolean (*write) (KithPeerDownload *download, const guint8 *data, gsize len, guint64 offset,
                     gpointer user_data, GError **error);
  /* The response was accepted: @length is what it will send (0: unknown). Optional. */
  void (*started) (KithPeerDownload *download, guint64 length, gpointer user_data);
  /* After each write; @done bytes so far. Optional. */
  void (*progress) (KithPeerDownload *download, guint64 done, gpointer user_data);
  /* Called once: @error NULL when the body ended within its bounds (a range: all of it).
   * KITH_PEERING_ERROR_HASH_MISMATCH: the source broke its promise (more bytes than the
   * cap or than it announced); NOT_FOUND: an HTTP error status; else a transport error.
   * The download may be freed from here. */
  void (*finished) (KithPeerDownload *download, const GError *error, gpointer user_data);
  /* A resumed download (kith_peer_download_set_resume()) was answered 200, the whole file:
   * the sink throws away what it had, the writes start again at byte 0. FALSE with @error
   * stops the download. Required with a resume, before started. */
  gboolean (*restarted) (KithPeerDownload *download, gpointer user_data, GError **error);
} KithPeerDownloadFuncs;

/* A download of @url through @session; @source names the sender in errors ("origin", a
 * node id); @metrics (nullable) counts oversize bodies. @funcs is copied. Caller owns. */
KithPeerDownload *kith_peer_download_new (SoupSession *session, const gchar *url,
                                          const gchar *source, KithMetrics *metrics,
                                          const KithPeerDownloadFuncs *funcs, gpointer user_data);
/* @limit: the size the source promised (0: the response's Content-Length, if any). No byte
 * past it is taken, and a body that ends before it fails the download (KITH_PEERING_ERROR_FAILED,
 * a fault like a broken connection: a leader whose own source failed cuts its readers so).
 * Before start. */
void kith_peer_download_set_limit (KithPeerDownload *download, guint64 limit);
/* Asks only @length bytes from @offset (Range); the answer must be 206 for exactly that
 * range, and the body must hold all of it. Before start. */
void kith_peer_download_set_range (KithPeerDownload *download, guint64 offset, guint64 length);
/* Asks the file from byte @offset on (Range: bytes=OFFSET-), the first @offset bytes being
 * in already; needs the limit (the file's size, above @offset). A 206 must say exactly
 * bytes OFFSET-(limit-1)/limit (the total may be unknown): writes then start at @offset and
 * the limit bounds the rest. A 200 (a server that ignores Range) sends the whole file: restarted is called. A 206 of
 * any other range is a lie (KITH_PEERING_ERROR_HASH_MISMATCH), refused before its body is
 * read. Each outcome is counted in kith_peering_resumed_total{result="ranged"|"restarted"|
 * "lied"} of @metrics. Before start; not with a range. */
void kith_peer_download_set_resume (KithPeerDownload *download, guint64 offset);
/* Sends the request; callbacks come from the thread-default main context. */
void kith_peer_download_start (KithPeerDownload *download);
/* Bytes written so far by this download (after a resume: from its offset). */
guint64 kith_peer_download_get_done (KithPeerDownload *download);
/* The HTTP status of the answer, 0 before one came (e.g. 503 from a busy source). */
guint kith_peer_download_get_status (KithPeerDownload *download);
/* Header @name of the answer (a 206 or an error status alike), NULL before one came or
 * without it; owned by @download. */
const gchar *kith_peer_download_get_header (KithPeerDownload *download, const gchar *name);
/* Cancels a download in progress (no callback after this) and frees it. */
void kith_peer_download_free (KithPeerDownload *download);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (KithPeerDownload, kith_peer_download_free)

G_END_DECLS
