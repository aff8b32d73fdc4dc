/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* kith-fetch-download.c — one download of a fetch job's file into the alias store */
#include "kith-fetch-download.h"

#include "kith-crypto.h"
#include "kith-partial-handler.h"
#include "kith-peer-download.h"
#include "kith-piece-fetch.h"

struct _KithFetchDownload {
  const KithPeeringContext *ctx;
  KithFetchDownloadFuncs funcs;
  gpointer user_data;
  gchar *href;
  guint64 size;
  KithAliasWriter *writer;
  KithPartialCopy *partial;    /* the download as we serve it, or NULL */
  KithPeerDownload *download;  /* the whole file from one URL, or NULL */
  KithPieceFetch *piece_fetch; /* the file in pieces from several sources, or NULL */
};

KithFetchDownload *
kith_fetch_download_new (const KithPeeringContext *context, const gchar *href, const gchar *sha256,
                         guint64 size, KithAliasTrust trust, const KithFetchDownloadFuncs *funcs,
                         gpointer user_data, GError **error)
{
  KithAliasWriter *writer = kith_alias_store_begin (context->store, href, sha256, size, error);
  KithFetchDownload *self;

  if (writer == NULL)
    return NULL;
  kith_alias_writer_set_trust (writer, trust);
  self = g_new0 (KithFetchDownload, 1);
  self->ctx = context;
  self->funcs = *funcs;
  self->user_data = user_data;
  self->href = g_strdup (href);
  self->size = size;
  self->writer = writer;
  return self;
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
  kith_alias_writer_free (self->writer);
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

  if (error == NULL)
    entry = kith_alias_writer_commit (self->writer, &error);
  if (entry != NULL && self->partial != NULL)
    kith_partial_copy_complete (self->partial, entry->sha256);
  self->funcs.finished (self, entry, error, self->user_data); /* may free @self */
  kith_alias_entry_free (entry);
  g_clear_error (&error);
}

/* ---- the whole file from one URL ---- */

static gboolean
kith_fetch_download_write (KithPeerDownload *download, const guint8 *data, gsize len, guint64 offset,
                           gpointer user_data, GError **error)
{
  KithFetchDownload *self = user_data;

  if (!kith_alias_writer_write (self->writer, data, len, error))
    return FALSE;
  if (self->partial != NULL)
    kith_partial_copy_grow (self->partial, len);
  return TRUE;
}

static void
kith_fetch_download_started (KithPeerDownload *download, guint64 length, gpointer user_data)
{
  KithFetchDownload *self = user_data;

  if (length > 0 && self->partial != NULL)
    kith_partial_copy_set_total (self->partial, length);
  self->funcs.started (self, length, self->user_data);
}

static void
kith_fetch_download_progress (KithPeerDownload *download, guint64 done, gpointer user_data)
{
  KithFetchDownload *self = user_data;

  self->funcs.progress (self, done, self->user_data);
}

static void
kith_fetch_download_finished (KithPeerDownload *download, const GError *error, gpointer user_data)
{
  kith_fetch_download_commit (user_data, error != NULL ? g_error_copy (error) : NULL);
}

static const KithPeerDownloadFuncs kith_fetch_download_funcs = {
  .write = kith_fetch_download_write,
  .started = kith_fetch_download_started,
  .progress = kith_fetch_download_progress,
  .finished = kith_fetch_download_finished,
};

void
kith_fetch_download_start (KithFetchDownload *self, const gchar *url, const gchar *source)
{
  self->download = kith_peer_download_new (self->ctx->session, url, source, self->ctx->metrics,
                                           &kith_fetch_download_funcs, self);
  kith_peer_download_set_limit (self->download, self->size);
  kith_peer_download_start (self->download);
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
