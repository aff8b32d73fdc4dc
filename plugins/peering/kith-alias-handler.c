/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* kith-alias-handler.c — serves the alias store to peers over HTTP
 *
 * A GET body goes out with sendfile(2) on plain HTTP under Linux (see
 * kith-sendfile.c: no user-space copy at all); otherwise the file's mapping
 * is handed to libsoup as one GBytes (a range is a sub-GBytes of it), so the
 * file is never read into the heap. Ranges are answered here, not by libsoup.
 */
#include "kith-alias-handler.h"

#include <string.h>

#include "kith-hex.h"
#include "kith-http-answer.h"
#include "kith-http-range.h"
#include "kith-sendfile.h"


#define SHA256_HEX_LEN 64

struct _KithAliasHandler {
  GObject parent_instance;
  KithAliasStore *store;
  guint64 bytes_served;
  guint64 hits;
  gboolean use_sendfile;
};

enum { SIGNAL_SERVED, SIGNAL_LAST };
static guint signals[SIGNAL_LAST];

G_DEFINE_TYPE (KithAliasHandler, kith_alias_handler, G_TYPE_OBJECT)

/* One response in flight: counts what libsoup actually writes. */
typedef struct {
  KithAliasHandler *handler; /* ref */
  gchar *sha256;
  guint64 bytes;
} ServeCtx;

static void
serve_ctx_free (ServeCtx *ctx)
{
  g_object_unref (ctx->handler);
  g_free (ctx->sha256);
  g_free (ctx);
}

static void
wrote_body_data_cb (SoupServerMessage *msg, guint chunk_size, gpointer user_data)
{
  ServeCtx *ctx = user_data;
  ctx->bytes += chunk_size;
  ctx->handler->bytes_served += chunk_size;
}

static void
finished_cb (SoupServerMessage *msg, gpointer user_data)
{
  ServeCtx *ctx = user_data;
  g_signal_emit (ctx->handler, signals[SIGNAL_SERVED], 0, ctx->sha256, ctx->bytes);
}

/* The sha256 named by @path, or NULL when @path is not exactly an alias path. */
static gchar *
parse_alias_path (const gchar *path)
{
  g_autofree gchar *sha256 = NULL;
  const gchar *p;

  if (path == NULL || !g_str_has_prefix (path, KITH_ALIAS_HANDLER_PREFIX))
    return NULL;
  p = path + strlen (KITH_ALIAS_HANDLER_PREFIX);
  sha256 = g_strndup (p, SHA256_HEX_LEN);
  if (!kith_hex_is_valid (sha256, SHA256_HEX_LEN, SHA256_HEX_LEN))
    return NULL;
  /* optional cosmetic name: one segment, nothing below it */
  if (p[SHA256_HEX_LEN] != '\0' &&
      (p[SHA256_HEX_LEN] != '/' || strchr (p + SHA256_HEX_LEN + 1, '/') != NULL))
    return NULL;
  return g_steal_pointer (&sha256);
}

/* TRUE if the If-None-Match value @inm names @etag (or is "*"). */
static gboolean
etag_list_matches (const gchar *inm, const gchar *etag)
{
  g_auto (GStrv) tags = g_strsplit (inm, ",", -1);

  for (guint i = 0; tags[i] != NULL; i++) {
    const gchar *tag = g_strstrip (tags[i]);
    if (g_str_has_prefix (tag, "W/")) /* weak comparison for If-None-Match */
      tag += 2;
    if (g_strcmp0 (tag, "*") == 0 || g_strcmp0 (tag, etag) == 0)
      return TRUE;
  }
  return FALSE;
}

/* Maps the entry's file; NULL (and the entry is dropped) if it is gone or changed on disk. */
static GBytes *
map_entry (KithAliasHandler *self, KithAliasEntry *entry)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GMappedFile) mapped = g_mapped_file_new (entry->path, FALSE, &error);

  if (mapped == NULL || g_mapped_file_get_length (mapped) != entry->size) {
    g_warning ("alias %s vanished or changed on disk, dropping it: %s", entry->sha256,
               error != NULL ? error->message : "size differs");
    kith_alias_store_remove (self->store, entry->sha256, NULL);
    return NULL;
  }
  return g_mapped_file_get_bytes (mapped);
}

static ServeCtx *
serve_ctx_new (KithAliasHandler *self, const gchar *sha256)
{
  ServeCtx *ctx = g_new0 (ServeCtx, 1);
  ctx->handler = g_object_ref (self);
  ctx->sha256 = g_strdup (sha256);
  return ctx;
}

static void
sendfile_done_cb (guint64 bytes, gboolean complete, gpointer user_data)
{
  ServeCtx *ctx = user_data;
  ctx->bytes = bytes;
  ctx->handler->bytes_served += bytes;
  g_signal_emit (ctx->handler, signals[SIGNAL_SERVED], 0, ctx->sha256, ctx->bytes);
}

/* Arranges the body of a GET: sendfile where possible, else the mapping
 * (counted through libsoup's signals). FALSE if the file is unusable. */
static gboolean
attach_body (KithAliasHandler *self, SoupServer *server, SoupServerMessage *msg,
             KithAliasEntry *entry, guint64 start, guint64 len)
{
  g_autoptr (GBytes) bytes = NULL;
  g_autoptr (GBytes) part = NULL;
  ServeCtx *ctx = serve_ctx_new (self, entry->sha256);

  if (self->use_sendfile &&
      kith_sendfile_respond (server, msg, entry->path, entry->size, start, len, sendfile_done_cb,
                             ctx, (GDestroyNotify) serve_ctx_free))
    return TRUE;
  bytes = map_entry (self, entry);
  if (bytes == NULL) {
    serve_ctx_free (ctx);
    return FALSE;
  }
  part = g_bytes_new_from_bytes (bytes, start, len);
  soup_message_body_append_bytes (soup_server_message_get_response_body (msg), part);
  g_object_set_data_full (G_OBJECT (msg), "kith-alias-serve", ctx, (GDestroyNotify) serve_ctx_free);
  g_signal_connect (msg, "wrote-body-data", G_CALLBACK (wrote_body_data_cb), ctx);
  g_signal_connect (msg, "finished", G_CALLBACK (finished_cb), ctx);
  return TRUE;
}

/* Answers 200/206 with the file (or only its headers, for HEAD). */
static void
respond_file (KithAliasHandler *self, SoupServer *server, SoupServerMessage *msg,
              KithAliasEntry *entry, gboolean partial, guint64 start, guint64 end)
{
  SoupMessageHeaders *hdrs = soup_server_message_get_response_headers (msg);
  SoupMessageBody *body = soup_server_message_get_response_body (msg);
  guint64 len = entry->size == 0 ? 0 : end - start + 1;

  /* no accumulation: libsoup drops each chunk once written, and its own
   * Range code (which would flatten the body) stays out of the way */
  soup_message_body_set_accumulate (body, FALSE);
  if (soup_server_message_get_method (msg) == SOUP_METHOD_GET && len > 0) {
    if (!attach_body (self, server, msg, entry, start, len)) {
      kith_http_answer_empty (msg, SOUP_STATUS_NOT_FOUND);
      return;
    }
    self->hits++;
    kith_alias_store_touch (self->store, entry->sha256);
  }
  if (partial)
    soup_message_headers_set_content_range (hdrs, (goffset) start, (goffset) end,
                                            (goffset) entry->size);
  soup_message_headers_set_content_length (hdrs, (goffset) len);
  soup_server_message_set_status (msg, partial ? SOUP_STATUS_PARTIAL_CONTENT : SOUP_STATUS_OK,
                                  NULL);
  soup_message_body_complete (body);
}

void
kith_alias_handler_callback (SoupServer *server, SoupServerMessage *msg, const char *path,
                             GHashTable *query, gpointer user_data)
{
  KithAliasHandler *self = KITH_ALIAS_HANDLER (user_data);
  SoupMessageHeaders *req = soup_server_message_get_request_headers (msg);
  SoupMessageHeaders *hdrs = soup_server_message_get_response_headers (msg);
  const gchar *method = soup_server_message_get_method (msg);
  const gchar *inm, *if_range;
  g_autofree gchar *sha256 = parse_alias_path (path);
  g_autofree gchar *etag = NULL;
  g_autoptr (KithAliasEntry) entry = NULL;
  guint64 start = 0, end = 0;
  KithHttpRangeResult range;

  entry = sha256 != NULL ? kith_alias_store_lookup_sha256 (self->store, sha256) : NULL;
  if (entry == NULL) {
    kith_http_answer_empty (msg, SOUP_STATUS_NOT_FOUND);
    return;
  }
  if (method != SOUP_METHOD_GET && method != SOUP_METHOD_HEAD) {
    soup_message_headers_replace (hdrs, "Allow", "GET, HEAD");
    kith_http_answer_empty (msg, SOUP_STATUS_METHOD_NOT_ALLOWED);
    return;
  }

  etag = g_strdup_printf ("\"%s\"", entry->sha256);
  soup_message_headers_replace (hdrs, "ETag", etag);
  soup_message_headers_replace (hdrs, "Accept-Ranges", "bytes");
  soup_message_headers_set_content_type (hdrs, "application/octet-stream", NULL);
  /* content-addressed: the bytes behind this URL can never change */
  soup_message_headers_replace (hdrs, "Cache-Control", "public, max-age=31536000, immutable");

  inm = soup_message_headers_get_one (req, "If-None-Match");
  if (inm != NULL && etag_list_matches (inm, etag)) {
    kith_http_answer_empty (msg, SOUP_STATUS_NOT_MODIFIED);
    return;
  }

  range = kith_http_range_parse (soup_message_headers_get_one (req, "Range"), entry->size, &start, &end);
  if_range = soup_message_headers_get_one (req, "If-Range");
  if (if_range != NULL && g_strcmp0 (if_range, etag) != 0)
    range = KITH_HTTP_RANGE_NONE;
  if (range == KITH_HTTP_RANGE_UNSATISFIABLE) {
    g_autofree gchar *cr = g_strdup_printf ("bytes */%" G_GUINT64_FORMAT, entry->size);
    soup_message_headers_replace (hdrs, "Content-Range", cr);
    kith_http_answer_empty (msg, SOUP_STATUS_REQUESTED_RANGE_NOT_SATISFIABLE);
    return;
  }
  if (range == KITH_HTTP_RANGE_NONE)
    end = entry->size > 0 ? entry->size - 1 : 0;
  respond_file (self, server, msg, entry, range == KITH_HTTP_RANGE_OK, start, end);
}

void
kith_alias_handler_add_to_server (KithAliasHandler *self, SoupServer *server)
{
  g_return_if_fail (KITH_IS_ALIAS_HANDLER (self));
  g_return_if_fail (SOUP_IS_SERVER (server));
  soup_server_add_handler (server, KITH_ALIAS_HANDLER_PREFIX, kith_alias_handler_callback,
                           g_object_ref (self), g_object_unref);
}

/* TRUE if @name is safe and readable as a URL segment. */
static gboolean
is_plain_name (const gchar *name)
{
  if (*name == '\0' || g_strcmp0 (name, ".") == 0 || g_strcmp0 (name, "..") == 0)
    return FALSE;
  for (const gchar *p = name; *p != '\0'; p++) {
    if (!g_ascii_isalnum (*p) && *p != '.' && *p != '-' && *p != '_' && *p != '+')
      return FALSE;
  }
  return TRUE;
}

gchar *
kith_alias_handler_build_path (const gchar *sha256, const gchar *href)
{
  g_autoptr (GUri) uri = href != NULL ? g_uri_parse (href, G_URI_FLAGS_ENCODED, NULL) : NULL;
  const gchar *path = uri != NULL ? g_uri_get_path (uri) : NULL;
  const gchar *slash = path != NULL ? strrchr (path, '/') : NULL;
  const gchar *name = slash != NULL ? slash + 1 : path;

  g_return_val_if_fail (sha256 != NULL, NULL);
  if (name != NULL && is_plain_name (name))
    return g_strdup_printf (KITH_ALIAS_HANDLER_PREFIX "%s/%s", sha256, name);
  return g_strdup_printf (KITH_ALIAS_HANDLER_PREFIX "%s", sha256);
}

guint64
kith_alias_handler_get_bytes_served (KithAliasHandler *self)
{
  g_return_val_if_fail (KITH_IS_ALIAS_HANDLER (self), 0);
  return self->bytes_served;
}

guint64
kith_alias_handler_get_hits (KithAliasHandler *self)
{
  g_return_val_if_fail (KITH_IS_ALIAS_HANDLER (self), 0);
  return self->hits;
}

static void
kith_alias_handler_finalize (GObject *object)
{
  KithAliasHandler *self = KITH_ALIAS_HANDLER (object);

  g_object_unref (self->store);
  G_OBJECT_CLASS (kith_alias_handler_parent_class)->finalize (object);
}

static void
kith_alias_handler_class_init (KithAliasHandlerClass *klass)
{
  G_OBJECT_CLASS (klass)->finalize = kith_alias_handler_finalize;
  /* served (sha256, body bytes written): a 200/206 response finished or was cut */
  signals[SIGNAL_SERVED] = g_signal_new ("served", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0,
                                         NULL, NULL, NULL, G_TYPE_NONE, 2, G_TYPE_STRING,
                                         G_TYPE_UINT64);
}

static void
kith_alias_handler_init (KithAliasHandler *self)
{
  self->use_sendfile = TRUE;
}

void
kith_alias_handler_set_use_sendfile (KithAliasHandler *self, gboolean use_sendfile)
{
  g_return_if_fail (KITH_IS_ALIAS_HANDLER (self));
  self->use_sendfile = use_sendfile;
}

KithAliasHandler *
kith_alias_handler_new (KithAliasStore *store)
{
  KithAliasHandler *self;

  g_return_val_if_fail (KITH_IS_ALIAS_STORE (store), NULL);
  self = g_object_new (KITH_TYPE_ALIAS_HANDLER, NULL);
  self->store = g_object_ref (store);
  return self;
}
