/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* kith-fetch-attempt.h — one attempt of a fetch job against one source: a peer's copy, a
 * peer's partial copy as it grows (docs/protocol.md "Streaming"), the origin, or the file in
 * pieces from every holder heard of (kith-fetch-pieces.h). It runs the download into the
 * store (kith-fetch-download.h), announces it when it is served or from the origin
 * (kith-fetch-announce.h), and leaves a stream that stalls or is too slow to be followed
 * past the job's deadline (kith-fetch-deadline.h). It keeps the books of its end: a copy is
 * counted, announced complete and its source noted as a holder; a source that failed pays
 * for it (kith-fetch-blame.h). The job only decides what comes next. */
#pragma once

#include "kith-fetch-announce.h"
#include "kith-fetch-deadline.h"
#include "kith-fetch-streamers.h"

G_BEGIN_DECLS

typedef struct _KithFetchAttempt KithFetchAttempt;

typedef enum {
  KITH_FETCH_ATTEMPT_PEER,   /* a peer's copy, whole */
  KITH_FETCH_ATTEMPT_STREAM, /* a peer's partial copy, still growing: served on, watched */
  KITH_FETCH_ATTEMPT_ORIGIN, /* the origin: served and announced */
  KITH_FETCH_ATTEMPT_PIECES, /* in pieces: served and announced */
} KithFetchAttemptKind;

/* What the attempt tells its job; busy, too_slow, ended (when it returns TRUE) and finished
 * may free the attempt, the others may not. */
typedef struct {
  /* The bytes in moved (kith_fetch_attempt_get_progress()). */
  void (*progress) (KithFetchAttempt *attempt, gpointer user_data);
  /* In pieces: @node failed or lied (kith-fetch-download.h) and was blamed; it is asked for
   * nothing more. */
  void (*source_failed) (KithFetchAttempt *attempt, const gchar *node, const GError *error,
                         gpointer user_data);
  /* In pieces: every source is gone with pieces missing; sources may be added from here. */
  void (*starved) (KithFetchAttempt *attempt, gpointer user_data);
  /* A stream: the partial copy has all the readers it takes (503; counted). Not a fault. */
  void (*busy) (KithFetchAttempt *attempt, gpointer user_data);
  /* A stream past the deadline too slow to bring the whole file within
   * KITH_FETCH_DEADLINE_FOLLOW_PACE × follow-max-ms: the origin is better. */
  void (*too_slow) (KithFetchAttempt *attempt, gpointer user_data);
  /* A stream: the partial copy ended short or is gone (its leader's own source failed, or
   * the leader died): TRUE when the job reads another or waits (not the leader's fault:
   * nothing more is called), FALSE when it counts as a failure (finished follows). */
  gboolean (*ended) (KithFetchAttempt *attempt, const GError *error, gpointer user_data);
  /* Called once (unless busy, too slow or ended): @entry (borrowed) is the verified, stored
   * copy, counted and announced, or @error says why there is none (a stream that sent nothing
   * for stall-ms: timed out), the source blamed for it unless it was the origin or the
   * download in pieces (whose sources were blamed one by one). */
  void (*finished) (KithFetchAttempt *attempt, const KithAliasEntry *entry, const GError *error,
                    gpointer user_data);
} KithFetchAttemptFuncs;

/* An attempt of @kind at @href from @source (a node id or "origin"), checked against
 * @sha256 (nullable), bounded by @size (0: unknown), stored with @trust; @announce and
 * @deadline (borrowed, like @context: they outlive it) are the job's. NULL with @error when
 * the store cannot take it (a peer source is blamed for it, as for a failed download).
 * Caller owns. */
KithFetchAttempt *kith_fetch_attempt_new (const KithPeeringContext *context, const gchar *href,
                                          KithFetchAttemptKind kind, const gchar *source, const gchar *sha256,
                                          guint64 size, KithAliasTrust trust, KithFetchAnnounce *announce,
                                          KithFetchDeadline *deadline, const KithFetchAttemptFuncs *funcs,
                                          gpointer user_data, GError **error);
/* Cancels what is in flight (no callback after this); a partial copy of ours not complete
 * is failed, so that its readers are cut. */
void kith_fetch_attempt_free (KithFetchAttempt *self);
/* Fetches the whole file from @url (not in pieces); may call @finished before it returns
 * (@url is not a URL, say). */
void kith_fetch_attempt_start (KithFetchAttempt *self, const gchar *url);
/* In pieces: fetches the pieces @pieces describes, first from the source at @url, which
 * has the first @available bytes. Nothing is called back before it returns. */
void kith_fetch_attempt_start_pieces (KithFetchAttempt *self, const KithPieceList *pieces, const gchar *url,
                                      guint64 available);
/* In pieces: the node of @packet joins as a source when it has the same bytes
 * (kith_fetch_pieces_join(): @request_id, @streamers, @preferred). */
void kith_fetch_attempt_join (KithFetchAttempt *self, KithFetchStreamers *streamers, const KithPacket *packet,
                              guint32 request_id, const gchar *sha256, guint64 size, const gchar *preferred);
/* In pieces: every partial copy of @streamers still taken joins as a source. */
void kith_fetch_attempt_join_streamers (KithFetchAttempt *self, KithFetchStreamers *streamers);
/* In pieces: the origin brings the pieces nobody else has. */
void kith_fetch_attempt_add_origin (KithFetchAttempt *self);
KithFetchAttemptKind kith_fetch_attempt_get_kind (KithFetchAttempt *self);
gboolean kith_fetch_attempt_in_pieces (KithFetchAttempt *self);
/* Whether the LAN hears of this download: from the origin, or served as our partial copy. */
gboolean kith_fetch_attempt_announces (KithFetchAttempt *self);
/* The bytes in so far and the size (0: unknown). */
void kith_fetch_attempt_get_progress (KithFetchAttempt *self, guint64 *done, guint64 *total);
/* The path peers read our partial copy at, NULL when it is not served; caller frees. */
gchar *kith_fetch_attempt_get_partial_path (KithFetchAttempt *self);
/* Where the copy comes from (owned by @self): the source, or in pieces the one that sent the
 * most verified bytes (NULL: none yet). */
const gchar *kith_fetch_attempt_get_source (KithFetchAttempt *self);

G_END_DECLS
