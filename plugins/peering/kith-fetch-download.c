/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* kith-fetch-download.c — one download of a fetch job's file into the alias store */
#include "kith-fetch-download.h"

#include "kith-crypto.h"
#include "kith-fetch-verdict.h"
#include "kith-peering-error.h"
#include "kith-partial-handler.h"
#include "kith-peer-download.h"
#include "kith-piece-fetch.h"

struct _KithFetchDownload {
  const KithPeeringContext *ctx;
  KithFetchDownloadFuncs funcs;
  gpointer user_data;
  gchar *href;
  gchar *sha256; /* the hash the copy is checked against, or NULL */
  guint64 size;
  guint64 bound; /* the size a download is bounded by: @size, else that of the bytes kept */
  KithAliasTrust trust;
  KithAliasWriter *writer;
  /* the whole file: the bytes in before this download began (resumed from a broken one);
   * who sent which of them, and who answers for a copy of several senders that does not
   * match; and the source now */
  guint64 kept;
  KithFetchVerdict *verdict;
  gchar *source;
  gchar *url;
  gboolean resumable; /* what is in may be kept if the download breaks (false once it lied,
                       * a write failed or the copy was checked) */
  KithPartialCopy *partial;    /* the download as we serve it, or NULL */
  KithPeerDownload *download;  /* the whole file from one URL, or NULL */
  KithPieceFetch *piece_fetch; /* the file in pieces from several sources, or NULL */
};

/* The caller gets the verified copy @entry (taken), or @error (taken). */
static void
kith_fetch_download_finish (KithFetchDownload *self, KithAliasEntry *entry, GError *error)
{
  self->funcs.finished (self, entry, error, self->user_data); /* may free @self */
  kith_alias_entry_free (entry);
  g_clear_error (&error);
}

static void
kith_fetch_download_blamed (KithFetchVerdict *verdict, const gchar *node, const GError *error,
                            gpointer user_data)
{
  KithFetchDownload *self = user_data;

  self->funcs.source_failed (self, node, error, self->user_data);
}

/* The copy fetched again verified, and the senders of the one that did not were judged by it. */
static void
kith_fetch_download_judged (KithFetchVerdict *verdict, KithAliasEntry *entry, gpointer user_data)
{
  kith_fetch_download_finish (user_data, entry, NULL);
}

static const KithFetchVerdictFuncs kith_fetch_download_verdict_funcs = {
  .blame = kith_fetch_download_blamed,
  .judged = kith_fetch_download_judged,
};

KithFetchDownload *
kith_fetch_download_new (const KithPeeringContext *context, const gchar *href, const gchar *sha256,
                         guint64 size, KithAliasTrust trust, const KithFetchDownloadFuncs *funcs,
                         gpointer user_data, GError **error)
{
  g_autoptr (KithResumePoint) point = kith_resume_table_take (context->resumes, href, sha256, size);
  KithAliasWriter *writer = point != NULL ? g_steal_pointer (&point->writer)
                                          : kith_alias_store_begin (context->store, href, sha256, size, error);
  KithFetchDownload *self;

  if (writer == NULL)
    return NULL;
  kith_alias_writer_set_trust (writer, trust);
  self = g_new0 (KithFetchDownload, 1);
  self->ctx = context;
  self->funcs = *funcs;
  self->user_data = user_data;
  self->href = g_strdup (href);
  self->sha256 = g_strdup (sha256);
  self->size = size;
  self->bound = size > 0 ? size : point != NULL ? point->size : 0;
  self->trust = trust;
  self->writer = writer;
  self->kept = kith_alias_writer_get_size (writer);
  self->verdict = kith_fetch_verdict_new (href, point != NULL ? point->span_nodes : NULL,
                                          point != NULL ? point->span_ends : NULL, context->metrics,
                                          &kith_fetch_download_verdict_funcs, self);
  self->resumable = TRUE;
  return self;
}

/* Bytes this download wrote itself. */
static guint64
kith_fetch_download_own_bytes (KithFetchDownload *self)
{
  return kith_alias_writer_get_size (self->writer) - self->kept;
}

/* The kept bytes are gone: nobody sent any. */
static void
kith_fetch_download_forget_kept (KithFetchDownload *self)
{
  self->kept = 0;
  kith_fetch_verdict_forget_kept (self->verdict);
}

/* A whole-file download that ends without a copy keeps what is in for the next attempt at
 * the same file (kith-resume-table.h), with who sent it: the end's hash check still
 * decides (who answers for a mismatch: kith-fetch-verdict.h). Not in pieces
 * (verified pieces are kept there), not without a hash and a size to check the whole against. */
static void
kith_fetch_download_park (KithFetchDownload *self)
{
  guint64 in = kith_alias_writer_get_size (self->writer);
  KithResumePoint *point;

  if (!self->resumable || self->sha256 == NULL || self->bound == 0 || in == 0 || in >= self->bound)
    return;
  point = kith_resume_point_new (NULL);
  kith_fetch_verdict_copy_spans (self->verdict, self->kept, in, self->source, point->span_nodes,
                                 point->span_ends);
  point->writer = g_steal_pointer (&self->writer);
  g_message ("%s: keeping the %" G_GUINT64_FORMAT " of %" G_GUINT64_FORMAT
             " bytes in for the next source, which is asked for the rest", self->href, in, self->bound);
  kith_resume_table_park (self->ctx->resumes, self->href, self->sha256, self->bound, point);
}

void
kith_fetch_download_free (KithFetchDownload *self)
{
  g_clear_pointer (&self->download, kith_peer_download_free);
  g_clear_pointer (&self->piece_fetch, kith_piece_fetch_free); /* before the writer it writes to */
  /* a copy that did not complete was abandoned: its readers are cut */
  if (self->partial != NULL)
    kith_partial_copy_fail (self->partial);
  g_clear_object (&self->partial);
  kith_fetch_download_park (self);
  kith_alias_writer_free (self->writer);
  kith_fetch_verdict_free (self->verdict); /* a comparison under way is cancelled */
  g_free (self->source);
  g_free (self->url);
  g_free (self->sha256);
  g_free (self->href);
  g_free (self);
}

void
kith_fetch_download_serve (KithFetchDownload *self)
{
  g_autoptr (GError) error = NULL;
  g_autofree gchar *token = kith_crypto_random_hex (KITH_PARTIAL_HANDLER_TOKEN_LEN / 2, &error);

  if (token != NULL)
    self->partial = kith_partial_copy_new (token, self->href, kith_alias_writer_get_path (self->writer),
                                           self->size, &error);
  if (self->partial == NULL) {
    g_warning ("%s: not serving the download while it runs: %s", self->href, error->message);
    return;
  }
  kith_partial_table_add (self->ctx->partials, self->partial);
}

gboolean
kith_fetch_download_is_served (KithFetchDownload *self)
{
  return self->partial != NULL;
}

gchar *
kith_fetch_download_get_partial_path (KithFetchDownload *self)
{
  if (self->partial == NULL)
    return NULL;
  return kith_partial_handler_build_path (kith_partial_copy_get_token (self->partial));
}

gboolean
kith_fetch_download_in_pieces (KithFetchDownload *self)
{
  return self->piece_fetch != NULL;
}

gboolean
kith_fetch_download_is_busy (KithFetchDownload *self)
{
  return self->download != NULL &&
         kith_peer_download_get_status (self->download) == SOUP_STATUS_SERVICE_UNAVAILABLE;
}

const gchar *
kith_fetch_download_get_top_source (KithFetchDownload *self)
{
  return self->piece_fetch != NULL ? kith_piece_fetch_get_top_source (self->piece_fetch) : NULL;
}

/* The copy is verified and stored; only now may the readers of our partial copy have its end. */
static void
kith_fetch_download_commit (KithFetchDownload *self, GError *error)
{
  KithAliasEntry *entry = NULL;

  if (error == NULL) {
    self->resumable = FALSE; /* checked: stored, or thrown away */
    entry = kith_alias_writer_commit (self->writer, &error);
    /* the bytes kept from before are as much in question as the last source's */
    if (entry == NULL && g_error_matches (error, KITH_PEERING_ERROR, KITH_PEERING_ERROR_HASH_MISMATCH))
      kith_fetch_verdict_blame_kept (self->verdict, error, self->source);
  } else if (g_error_matches (error, KITH_PEERING_ERROR, KITH_PEERING_ERROR_HASH_MISMATCH) &&
             (kith_fetch_download_own_bytes (self) > 0 || g_strcmp0 (self->source, "origin") == 0)) {
    /* a source that broke its promise: what it sent is not kept, nor is anything when the
     * origin itself answered wrongly (the next attempt would ask it the same) */
    self->resumable = FALSE;
  }
  if (entry != NULL && self->partial != NULL)
    kith_partial_copy_complete (self->partial, entry->sha256);
  /* a copy of several senders that did not match is judged by this one before the caller has it */
  if (entry != NULL && kith_fetch_verdict_has_suspect (self->verdict))
    kith_fetch_verdict_judge (self->verdict, entry);
  else
    kith_fetch_download_finish (self, entry, error);
}

/* ---- the whole file from one URL ---- */

static gboolean
kith_fetch_download_write (KithPeerDownload *download, const guint8 *data, gsize len, guint64 offset,
                           gpointer user_data, GError **error)
{
  KithFetchDownload *self = user_data;

  if (!kith_alias_writer_write (self->writer, data, len, error)) {
    self->resumable = FALSE; /* what is on disk is no longer known */
    return FALSE;
  }
  if (self->partial != NULL)
    kith_partial_copy_grow (self->partial, len);
  return TRUE;
}

/* The source sends the whole file again (it ignored our range): what was kept goes. */
static gboolean
kith_fetch_download_restarted (KithPeerDownload *download, gpointer user_data, GError **error)
{
  KithFetchDownload *self = user_data;

  if (!kith_alias_writer_restart (self->writer, error)) {
    self->resumable = FALSE;
    return FALSE;
  }
  kith_fetch_download_forget_kept (self);
  return TRUE;
}

static void
kith_fetch_download_started (KithPeerDownload *download, guint64 length, gpointer user_data)
{
  KithFetchDownload *self = user_data;

  /* resumed: the rest comes after what was kept, which our readers may have at once */
  if (length > 0)
    length += self->kept;
  if (self->kept > 0)
    g_message ("%s: %s sends the rest from byte %" G_GUINT64_FORMAT, self->href, self->source, self->kept);
  if (self->partial != NULL) {
    if (length > 0)
      kith_partial_copy_set_total (self->partial, length);
    if (self->kept > 0)
      kith_partial_copy_grow (self->partial, self->kept);
  }
  self->funcs.started (self, length, self->user_data);
}

static void
kith_fetch_download_progress (KithPeerDownload *download, guint64 done, gpointer user_data)
{
  KithFetchDownload *self = user_data;

  self->funcs.progress (self, kith_alias_writer_get_size (self->writer), self->user_data);
}

/* The kept bytes go and the source now is asked for the whole file, into a new temporary
 * file; nothing is kept if that breaks (resumable false), so one source makes the next copy.
 * @keep: the copy in had several senders, it is kept (with who sent what) until that one
 * verifies, to judge them by (kith_fetch_verdict_suspect()). TRUE when it started again. */
static gboolean
kith_fetch_download_refetch (KithFetchDownload *self, const GError *why, gboolean keep)
{
  g_autoptr (GError) error = NULL;
  g_autofree gchar *url = NULL;
  g_autofree gchar *source = NULL;
  KithAliasWriter *writer;
  gboolean served;

  writer = kith_alias_store_begin (self->ctx->store, self->href, self->sha256, self->size, &error);
  if (writer == NULL) {
    g_warning ("%s: %s", self->href, error->message);
    return FALSE;
  }
  kith_alias_writer_set_trust (writer, self->trust);
  g_message ("%s: the %" G_GUINT64_FORMAT " bytes kept from before did not make the file (%s); fetching it whole "
             "from %s", self->href, self->kept, why->message, self->source);
  /* our readers had those bytes: they are cut, and a new partial copy is announced */
  served = self->partial != NULL;
  if (served) {
    kith_partial_copy_fail (self->partial);
    g_clear_object (&self->partial);
  }
  if (keep)
    kith_fetch_verdict_suspect (self->verdict, self->writer, self->kept, self->source);
  else
    kith_alias_writer_free (self->writer);
  self->writer = writer;
  kith_fetch_download_forget_kept (self);
  if (self->size > 0 || g_strcmp0 (self->source, "origin") == 0)
    self->bound = self->size;
  self->resumable = FALSE;
  if (served)
    kith_fetch_download_serve (self);
  url = g_strdup (self->url);
  source = g_strdup (self->source);
  g_clear_pointer (&self->download, kith_peer_download_free); /* allowed from its finished */
  kith_fetch_download_start (self, url, source);
  return TRUE;
}

/* The origin is where the file comes from: a copy it completed after bytes kept from peers
 * that does not match (@why a HASH_MISMATCH: the kept bytes were the wrong ones, their
 * senders blamed as kith_fetch_verdict_blame() says), or an answer to the rest that
 * brought none of it (another range or size than the kept bytes were bounded by — a peer
 * announced it —, a 416, an error), means the kept bytes go and the origin is asked for the
 * whole file: an origin attempt that failed would end the fetch, which a peer that sent bad
 * bytes and broke off must not be able to do. Once: nothing is kept after it. TRUE when it
 * started again. */
static gboolean
kith_fetch_download_start_over (KithFetchDownload *self, const GError *why, gboolean blame)
{
  gboolean several;

  if (self->kept == 0 || g_strcmp0 (self->source, "origin") != 0)
    return FALSE;
  several = kith_fetch_verdict_get_n_kept_senders (self->verdict) > 1;
  if (blame)
    kith_fetch_verdict_blame (self->verdict, why, NULL, 0);
  return kith_fetch_download_refetch (self, why, blame && several);
}

static void
kith_fetch_download_finished (KithPeerDownload *download, const GError *error, gpointer user_data)
{
  KithFetchDownload *self = user_data;
  g_autoptr (GError) mismatch = NULL;
  gboolean from_origin = g_strcmp0 (self->source, "origin") == 0;

  if (error == NULL && self->kept > 0 && kith_fetch_verdict_get_n_kept_senders (self->verdict) > 0 &&
      (from_origin || kith_fetch_verdict_count_senders (self->verdict, self->source,
                                                        kith_fetch_download_own_bytes (self)) > 1) &&
      !kith_alias_writer_matches (self->writer, &mismatch) &&
      g_error_matches (mismatch, KITH_PEERING_ERROR, KITH_PEERING_ERROR_HASH_MISMATCH)) {
    if (from_origin && kith_fetch_download_start_over (self, mismatch, TRUE))
      return;
    /* a peer completed bytes others sent: it sends the whole again, and answers for it alone */
    if (!from_origin) {
      kith_fetch_verdict_blame (self->verdict, mismatch, self->source, kith_fetch_download_own_bytes (self));
      if (kith_fetch_download_refetch (self, mismatch, TRUE))
        return;
      self->resumable = FALSE; /* the bytes in are not the file's */
      kith_fetch_download_commit (self, g_error_new (KITH_PEERING_ERROR, KITH_PEERING_ERROR_FAILED,
                                                     "%s", mismatch->message));
      return;
    }
  }
  /* the origin would not send the rest (another range or size, 416, an error): the whole */
  if (error != NULL && kith_peer_download_get_done (download) == 0 && kith_fetch_download_start_over (self, error, FALSE))
    return;
  kith_fetch_download_commit (self, error != NULL ? g_error_copy (error) : NULL);
}

static const KithPeerDownloadFuncs kith_fetch_download_funcs = {
  .write = kith_fetch_download_write,
  .started = kith_fetch_download_started,
  .progress = kith_fetch_download_progress,
  .finished = kith_fetch_download_finished,
  .restarted = kith_fetch_download_restarted,
};

void
kith_fetch_download_start (KithFetchDownload *self, const gchar *url, const gchar *source)
{
  g_free (self->source);
  self->source = g_strdup (source);
  g_free (self->url);
  self->url = g_strdup (url);
  self->download = kith_peer_download_new (self->ctx->session, url, source, self->ctx->metrics,
                                           &kith_fetch_download_funcs, self);
  kith_peer_download_set_limit (self->download, self->bound);
  if (self->kept > 0)
    kith_peer_download_set_resume (self->download, self->kept);
  kith_peer_download_start (self->download);
}

guint64
kith_fetch_download_get_origin_bytes (KithFetchDownload *self)
{
  if (self->piece_fetch != NULL)
    return 0;
  return kith_fetch_verdict_get_kept_origin (self->verdict) +
         (g_strcmp0 (self->source, "origin") == 0 ? kith_fetch_download_own_bytes (self) : 0);
}

/* ---- in pieces, each checked as it arrives ---- */

static void
kith_fetch_download_piece_source_failed (KithPieceFetch *fetch, const gchar *node, const GError *error,
                                         gpointer user_data)
{
  KithFetchDownload *self = user_data;

  self->funcs.source_failed (self, node, error, self->user_data);
}

/* Our partial copy streams the verified prefix in order; what we announce is every
 * verified byte (the copy serves each verified piece: kith_fetch_download_piece). */
static void
kith_fetch_download_piece_progress (KithPieceFetch *fetch, guint64 prefix, guint64 done, gpointer user_data)
{
  KithFetchDownload *self = user_data;

  if (self->partial != NULL && prefix > kith_partial_copy_get_available (self->partial))
    kith_partial_copy_grow (self->partial, prefix - kith_partial_copy_get_available (self->partial));
  self->funcs.progress (self, done, self->user_data);
}

/* Our partial copy serves every piece verified, in any order: joiners trade. */
static void
kith_fetch_download_piece (KithPieceFetch *fetch, guint index, gpointer user_data)
{
  KithFetchDownload *self = user_data;

  if (self->partial != NULL)
    kith_partial_copy_add_piece (self->partial, index);
}

static void
kith_fetch_download_pieces_starved (KithPieceFetch *fetch, gpointer user_data)
{
  KithFetchDownload *self = user_data;

  if (self->funcs.starved != NULL)
    self->funcs.starved (self, self->user_data);
}

static void
kith_fetch_download_pieces_finished (KithPieceFetch *fetch, const GError *error, gpointer user_data)
{
  g_autofree gchar *sources = kith_piece_fetch_describe (fetch);
  KithFetchDownload *self = user_data;
  KithAliasEntry *entry = NULL;
  GError *commit_error = NULL;

  if (error == NULL)
    entry = kith_alias_writer_commit (self->writer, &commit_error);
  if (entry != NULL) {
    g_message ("%s: in pieces from %s", self->href, sources);
    if (self->partial != NULL)
      kith_partial_copy_complete (self->partial, entry->sha256);
    self->funcs.finished (self, entry, NULL, self->user_data); /* may free @self and @fetch */
    kith_alias_entry_free (entry);
    return;
  }
  g_message ("%s: the pieces did not make the file (sources %s): %s", self->href, sources,
             error != NULL ? error->message : commit_error->message);
  self->funcs.finished (self, NULL, error != NULL ? error : commit_error, self->user_data);
  g_clear_error (&commit_error);
}

static const KithPieceFetchFuncs kith_fetch_download_piece_funcs = {
  .source_failed = kith_fetch_download_piece_source_failed,
  .progress = kith_fetch_download_piece_progress,
  .piece = kith_fetch_download_piece,
  .starved = kith_fetch_download_pieces_starved,
  .finished = kith_fetch_download_pieces_finished,
};

void
kith_fetch_download_start_pieces (KithFetchDownload *self, const KithPieceList *pieces, const gchar *node,
                                  const gchar *url, guint64 available)
{
  g_autoptr (GError) error = NULL;

  /* pieces are checked one by one against their list: bytes kept unchecked are not used */
  if (self->kept > 0 && !kith_alias_writer_restart (self->writer, &error))
    g_warning ("%s: %s", self->href, error->message);
  kith_fetch_download_forget_kept (self);
  self->resumable = FALSE; /* written out of order */
  if (self->partial != NULL)
    kith_partial_copy_set_pieces (self->partial, kith_piece_list_get_piece_size (pieces),
                                  kith_piece_list_get_count (pieces));
  self->piece_fetch = kith_piece_fetch_new (self->ctx->session, self->ctx->metrics, pieces, self->writer,
                                            self->ctx->timings->stall_ms, &kith_fetch_download_piece_funcs, self);
  kith_piece_fetch_add_source (self->piece_fetch, node, url, available, available < self->size);
  kith_piece_fetch_start (self->piece_fetch);
}

void
kith_fetch_download_add_fallback (KithFetchDownload *self, const gchar *node, const gchar *url)
{
  if (self->piece_fetch != NULL)
    kith_piece_fetch_add_fallback (self->piece_fetch, node, url, self->size);
}

gboolean
kith_fetch_download_add_source (KithFetchDownload *self, const gchar *node, const gchar *url, guint64 available,
                                gboolean growing)
{
  return self->piece_fetch != NULL && kith_piece_fetch_add_source (self->piece_fetch, node, url, available, growing);
}

gboolean
kith_fetch_download_has_source (KithFetchDownload *self, const gchar *node)
{
  return self->piece_fetch != NULL && kith_piece_fetch_has_source (self->piece_fetch, node);
}
