/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* kith-apt-item.c — one file apt asks for, answered through the agent or the origin */
#include "kith-apt-item.h"

#include "kith-apt-direct.h"
#include "kith-apt-hashes.h"
#include "kith-hex.h"

#include <string.h>

#define KITH_APT_SCHEME_PREFIX "kith+"

struct _KithAptItem {
  const KithAptItemContext *context;
  KithAptMessage *request;
  const gchar *uri; /* as apt sent it (kith+http://…), owned by request */
  gchar *url;       /* the origin's URL (http://…) */
  const gchar *filename;
  gchar *sha256;    /* expected, lowercase; NULL: the file comes from the origin directly */
  guint64 size;     /* expected, 0 when unknown */
  guint64 maximum_size;
  GDateTime *last_modified;
  gboolean started;
  GCancellable *cancellable; /* of the fetch through the agent */
};

/* ---- what apt hears ---- */

static void
kith_apt_item_send (KithAptItem *self, KithAptMessage *message)
{
  self->context->send (message, self->context->user_data);
}

/* 101 Log: apt shows it with -o Debug::pkgAcquire::Worker=1. */
static void
kith_apt_item_log (KithAptItem *self, const gchar *format, ...) G_GNUC_PRINTF (2, 3);

static void
kith_apt_item_log (KithAptItem *self, const gchar *format, ...)
{
  g_autoptr (KithAptMessage) message = kith_apt_message_new (101, "Log");
  g_autofree gchar *text = NULL;
  va_list args;

  va_start (args, format);
  text = g_strdup_vprintf (format, args);
  va_end (args);
  kith_apt_message_add (message, "URI", self->uri);
  kith_apt_message_add (message, "Message", text);
  kith_apt_item_send (self, message);
}

static gchar *
kith_apt_item_format_time (GDateTime *time)
{
  return time != NULL ? soup_date_time_to_string (time, SOUP_DATE_HTTP) : NULL;
}

/* The item is answered: the method forgets (and frees) it. */
static void
kith_apt_item_done (KithAptItem *self)
{
  self->context->answered (self, self->context->user_data);
}

static void
kith_apt_item_start (KithAptItem *self, guint64 size)
{
  g_autoptr (KithAptMessage) message = NULL;

  if (self->started)
    return;
  self->started = TRUE;
  message = kith_apt_message_new (200, "URI Start");
  kith_apt_message_add (message, "URI", self->uri);
  if (size > 0)
    kith_apt_message_addf (message, "Size", "%" G_GUINT64_FORMAT, size);
  kith_apt_item_send (self, message);
}

static void
kith_apt_item_fail (KithAptItem *self, const gchar *text, const gchar *fail_reason, gboolean transient)
{
  g_autoptr (KithAptMessage) message = kith_apt_message_new (400, "URI Failure");

  kith_apt_message_add (message, "URI", self->uri);
  kith_apt_message_add (message, "Message", text);
  kith_apt_message_add (message, "FailReason", fail_reason);
  if (transient)
    kith_apt_message_add (message, "Transient-Failure", "true");
  kith_apt_item_send (self, message);
  kith_apt_item_done (self);
}

static void
kith_apt_item_succeed (KithAptItem *self, KithAptHashes *hashes, GDateTime *last_modified)
{
  g_autoptr (KithAptMessage) message = kith_apt_message_new (201, "URI Done");
  g_autofree gchar *time = kith_apt_item_format_time (last_modified);

  kith_apt_message_add (message, "URI", self->uri);
  kith_apt_message_add (message, "Filename", self->filename);
  kith_apt_message_addf (message, "Size", "%" G_GUINT64_FORMAT, kith_apt_hashes_get_size (hashes));
  kith_apt_message_add (message, "Last-Modified", time);
  kith_apt_hashes_add_to (hashes, message, "");
  kith_apt_item_send (self, message);
  kith_apt_item_done (self);
}

/* ---- the direct way: what apt's http method would do ---- */

/* 201 URI Done with IMS-Hit: the copy apt has is current. */
static void
kith_apt_item_not_modified (KithAptItem *self)
{
  g_autoptr (KithAptMessage) message = kith_apt_message_new (201, "URI Done");
  g_autofree gchar *time = kith_apt_item_format_time (self->last_modified);

  kith_apt_message_add (message, "URI", self->uri);
  kith_apt_message_add (message, "Filename", self->filename);
  kith_apt_message_add (message, "Last-Modified", time);
  kith_apt_message_add (message, "IMS-Hit", "true");
  kith_apt_item_send (self, message);
  kith_apt_item_done (self);
}

/* Where a redirect leads, in apt's terms: kith+http may move to kith+https, never back,
 * and the origin never chooses the transport. NULL (and @error) when apt must refuse it. */
static gchar *
kith_apt_item_redirect_uri (KithAptItem *self, const gchar *location, GError **error)
{
  g_autoptr (GUri) target = g_uri_parse (location, G_URI_FLAGS_ENCODED, NULL);
  const gchar *scheme = target != NULL ? g_uri_get_scheme (target) : NULL;
  gboolean from_https = g_str_has_prefix (self->uri, KITH_APT_SCHEME_PREFIX "https:");
  g_autofree gchar *uri = NULL;

  if (g_strcmp0 (scheme, "https") != 0 && (g_strcmp0 (scheme, "http") != 0 || from_https)) {
    g_set_error (error, G_IO_ERROR, G_IO_ERROR_PERMISSION_DENIED,
                 "Redirection from %s to '%s' is forbidden",
                 from_https ? "kith+https" : "kith+http", location);
    return NULL;
  }
  uri = g_strconcat (KITH_APT_SCHEME_PREFIX, location, NULL);
  if (g_strcmp0 (uri, self->uri) == 0) {
    g_set_error_literal (error, G_IO_ERROR, G_IO_ERROR_FAILED, "Redirection loop encountered");
    return NULL;
  }
  return g_steal_pointer (&uri);
}

/* 103 Redirect (apt queues the new URI), or a failure when the redirect is refused. */
static void
kith_apt_item_redirect (KithAptItem *self, const gchar *location)
{
  g_autoptr (GError) error = NULL;
  g_autofree gchar *new_uri = kith_apt_item_redirect_uri (self, location, &error);
  g_autoptr (KithAptMessage) message = NULL;

  if (new_uri == NULL) {
    kith_apt_item_fail (self, error->message,
                        g_error_matches (error, G_IO_ERROR, G_IO_ERROR_FAILED) ? "RedirectionLoop" : NULL,
                        FALSE);
    return;
  }
  message = kith_apt_message_new (103, "Redirect");
  kith_apt_message_add (message, "URI", self->uri);
  kith_apt_message_add (message, "New-URI", new_uri);
  kith_apt_item_send (self, message);
  kith_apt_item_done (self);
}

static void
kith_apt_item_direct_started (guint64 size, gpointer user_data)
{
  kith_apt_item_start (user_data, size);
}

static void
kith_apt_item_direct_cb (GObject *source, GAsyncResult *res, gpointer user_data)
{
  KithAptItem *self = user_data;
  g_autoptr (KithAptDirectResult) result = kith_apt_direct_fetch_finish (res);

  if (g_cancellable_is_cancelled (self->context->cancellable))
    return; /* apt went away */
  switch (result->outcome) {
  case KITH_APT_DIRECT_DONE:
    kith_apt_item_succeed (self, result->hashes, result->last_modified);
    return;
  case KITH_APT_DIRECT_NOT_MODIFIED:
    kith_apt_item_not_modified (self);
    return;
  case KITH_APT_DIRECT_REDIRECT:
    kith_apt_item_redirect (self, result->location);
    return;
  case KITH_APT_DIRECT_FAILED:
  default:
    kith_apt_item_fail (self, result->message, result->fail_reason, result->transient);
    return;
  }
}

static void
kith_apt_item_direct (KithAptItem *self)
{
  kith_apt_direct_fetch_async (self->context->session, self->url, self->filename, self->maximum_size,
                               self->size, self->last_modified, kith_apt_item_direct_started,
                               self->context->cancellable, kith_apt_item_direct_cb, self);
}

/* ---- the kith way ---- */

/* 102 Status: what apt shows next to the file while no bytes flow yet. */
static void
kith_apt_item_kith_status (const gchar *text, gpointer user_data)
{
  KithAptItem *self = user_data;
  g_autoptr (KithAptMessage) message = kith_apt_message_new (102, "Status");

  kith_apt_message_add (message, "URI", self->uri);
  kith_apt_message_add (message, "Message", text);
  kith_apt_item_send (self, message);
}

static void
kith_apt_item_kith_declined (gpointer user_data)
{
  kith_apt_item_direct (user_data);
}

/* What apt gets is what is in the file: hash it again, with every hash apt knows. */
static gboolean
kith_apt_item_kith_succeed (KithAptItem *self, KithClientTransfer *transfer, GError **error)
{
  g_autoptr (KithAptHashes) hashes = kith_apt_hashes_new_for_file (self->filename, NULL, error);

  if (hashes == NULL || !kith_apt_hashes_check (hashes, self->request, error))
    return FALSE;
  kith_apt_item_log (self, "kith: %" G_GUINT64_FORMAT " bytes from %s",
                     kith_apt_hashes_get_size (hashes), kith_client_transfer_get_source (transfer));
  kith_apt_item_succeed (self, hashes, NULL);
  return TRUE;
}

/* The agent is done with the file: apt gets it, or the origin is asked. */
static void
kith_apt_item_kith_done (KithClientTransfer *transfer, const GError *error, gboolean stalled,
                         gpointer user_data)
{
  KithAptItem *self = user_data;
  g_autoptr (GError) check_error = NULL;

  if (transfer != NULL) {
    if (kith_apt_item_kith_succeed (self, transfer, &check_error))
      return;
    error = check_error;
  }
  kith_apt_item_log (self, "kith: %s; downloading it from the origin",
                     stalled ? "no progress from the agent" : error->message);
  g_clear_object (&self->cancellable);
  self->cancellable = g_cancellable_new ();
  kith_apt_item_direct (self);
}

static const KithAptKithCallbacks kith_apt_item_kith_callbacks = {
  .status = kith_apt_item_kith_status,
  .started = kith_apt_item_direct_started,
  .declined = kith_apt_item_kith_declined,
  .done = kith_apt_item_kith_done,
};

/* ---- the item ---- */

/* kith+http://host/path → http://host/path; NULL for anything else. */
static gchar *
kith_apt_item_origin_url (const gchar *uri)
{
  if (g_str_has_prefix (uri, KITH_APT_SCHEME_PREFIX "http://") ||
      g_str_has_prefix (uri, KITH_APT_SCHEME_PREFIX "https://"))
    return g_strdup (uri + strlen (KITH_APT_SCHEME_PREFIX));
  return NULL;
}

void
kith_apt_item_run (KithAptItem *self)
{
  if (self->uri == NULL || self->filename == NULL) {
    if (self->uri == NULL)
      self->uri = "<UNKNOWN>";
    kith_apt_item_fail (self, "600 URI Acquire without URI or Filename", NULL, FALSE);
    return;
  }
  if (self->url == NULL) {
    kith_apt_item_fail (self, "Not a kith+http:// or kith+https:// URI", NULL, FALSE);
    return;
  }
  /* files with a SHA256 go through the agent, the rest straight to the origin */
  if (self->sha256 == NULL || self->context->direct_only) {
    kith_apt_item_direct (self);
    return;
  }
  kith_apt_kith_fetch (self->context->kith, self->url, self->filename, self->sha256, self->size,
                       &kith_apt_item_kith_callbacks, self, self->cancellable);
}

KithAptItem *
kith_apt_item_new (const KithAptItemContext *context, KithAptMessage *request)
{
  KithAptItem *self = g_new0 (KithAptItem, 1);
  const gchar *sha256 = kith_apt_message_get (request, "Expected-SHA256");
  const gchar *size = kith_apt_message_get (request, "Expected-Checksum-FileSize");
  const gchar *maximum = kith_apt_message_get (request, "Maximum-Size");
  const gchar *last_modified = kith_apt_message_get (request, "Last-Modified");

  self->context = context;
  self->request = request;
  self->uri = kith_apt_message_get (request, "URI");
  self->filename = kith_apt_message_get (request, "Filename");
  self->cancellable = g_cancellable_new ();
  if (self->uri != NULL)
    self->url = kith_apt_item_origin_url (self->uri);
  if (sha256 != NULL) {
    /* apt may spell it in capitals; kith names a hash in lower case only (kith-hex.h) */
    self->sha256 = g_ascii_strdown (sha256, -1);
    if (!kith_hex_is_valid (self->sha256, 64, 64))
      g_clear_pointer (&self->sha256, g_free);
  }
  if (size != NULL)
    self->size = g_ascii_strtoull (size, NULL, 10);
  self->maximum_size = self->size > 0 ? self->size : maximum != NULL ? g_ascii_strtoull (maximum, NULL, 10) : 0;
  if (last_modified != NULL)
    self->last_modified = soup_date_time_new_from_http_string (last_modified);
  return self;
}

void
kith_apt_item_cancel (KithAptItem *self)
{
  g_cancellable_cancel (self->cancellable);
}

void
kith_apt_item_free (KithAptItem *self)
{
  g_clear_object (&self->cancellable);
  g_clear_pointer (&self->last_modified, g_date_time_unref);
  g_free (self->sha256);
  g_free (self->url);
  kith_apt_message_free (self->request);
  g_free (self);
}
