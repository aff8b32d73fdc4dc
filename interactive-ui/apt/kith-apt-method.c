/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* kith-apt-method.c — apt's kith+http and kith+https transports
 *
 * apt runs this program as /usr/lib/apt/methods/kith+http and talks to it over stdin and
 * stdout (apt's acquire-method protocol). Every file apt asks for with its SHA256 (packages,
 * indexes) is fetched through the kith agent: from a peer on the LAN when one has it, from
 * the origin once otherwise, verified by the agent (hash, and the size apt expects) before a
 * byte reaches apt's file, and checked again by apt. Files without a hash (InRelease, Release) come from the origin
 * directly: they are signed, and apt checks the signature. When no agent answers, or the
 * agent fails a file, the file is downloaded directly the way apt's own http method does,
 * so apt never breaks because of kith.
 *
 * apt configuration read (from 601 Configuration): APT::Sandbox::User (privileges are
 * dropped to it, like apt's own methods), Acquire::kith::Address (an agent listening
 * peer-to-peer instead of org.kith.Agent1 on the system bus), Acquire::kith::Timeout
 * (seconds without progress before a kith download is given up, default 120),
 * Acquire::kith::Parallel (fetches through the agent at once, default 2),
 * Acquire::kith::Direct (true: never use the agent), Acquire::http::Timeout,
 * Acquire::http::Proxy and Acquire::https::Proxy (direct downloads only).
 */
#include "kith-apt-direct.h"
#include "kith-apt-hashes.h"
#include "kith-apt-message.h"
#include "kith-build-config.h"

#include <kith.h>

#include <errno.h>
#include <locale.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#ifdef G_OS_UNIX
#include <gio/gunixinputstream.h>
#include <grp.h>
#include <pwd.h>
#include <unistd.h>
#endif
#ifdef __linux__
#include <sys/prctl.h>
#endif

#define KITH_APT_SCHEME_PREFIX "kith+"
#define KITH_APT_DEFAULT_TIMEOUT_S 120
#define KITH_APT_DEFAULT_PARALLEL 2
#define KITH_APT_MAX_MESSAGE_LINES 4096

typedef enum {
  KITH_APT_AGENT_UNKNOWN,
  KITH_APT_AGENT_CONNECTING,
  KITH_APT_AGENT_READY,
  KITH_APT_AGENT_MISSING,
} KithAptAgentState;

typedef struct {
  GMainLoop *loop;
  GDataInputStream *input;
  GPtrArray *lines;   /* of the message being read */
  GHashTable *config; /* apt's configuration: key → value */
  GCancellable *cancellable;
  SoupSession *session;
  KithClient *client;
  KithAptAgentState agent;
  GQueue waiting;     /* KithAptItem* waiting for the agent to answer */
  GQueue queued;      /* KithAptItem* waiting for a free kith slot */
  guint active;       /* fetches through the agent right now */
  GHashTable *items;  /* KithAptItem* in flight (set) */
  gint exit_code;
} KithAptMethod;

typedef struct {
  KithAptMethod *method;
  KithAptMessage *request;
  const gchar *uri; /* as apt sent it (kith+http://…), owned by request */
  gchar *url;       /* the origin's URL (http://…) */
  const gchar *filename;
  gchar *sha256;    /* expected, lowercase; NULL: the file comes from the origin directly */
  guint64 size;     /* expected, 0 when unknown */
  guint64 maximum_size;
  GDateTime *last_modified;
  gboolean started;
  gboolean stalled;
  guint64 last_done;
  KithClientTransferState last_state;
  GSource *stall_timer;
  GCancellable *cancellable;
} KithAptItem;

static void kith_apt_item_direct (KithAptItem *item);

/* ---- output ---- */

static void
kith_apt_send (KithAptMessage *message)
{
  g_autofree gchar *text = kith_apt_message_to_string (message);

  fputs (text, stdout);
  fflush (stdout);
}

static void
kith_apt_send_capabilities (void)
{
  g_autoptr (KithAptMessage) message = kith_apt_message_new (100, "Capabilities");

  kith_apt_message_add (message, "Version", "1.2");
  kith_apt_message_add (message, "Pipeline", "true");
  kith_apt_message_add (message, "Send-Config", "true");
  kith_apt_message_add (message, "Send-URI-Encoded", "true");
  kith_apt_send (message);
}

/* 101 Log: apt shows it with -o Debug::pkgAcquire::Worker=1. */
static void
kith_apt_log (KithAptItem *item, const gchar *format, ...) G_GNUC_PRINTF (2, 3);

static void
kith_apt_log (KithAptItem *item, const gchar *format, ...)
{
  g_autoptr (KithAptMessage) message = kith_apt_message_new (101, "Log");
  g_autofree gchar *text = NULL;
  va_list args;

  va_start (args, format);
  text = g_strdup_vprintf (format, args);
  va_end (args);
  kith_apt_message_add (message, "URI", item != NULL ? item->uri : "<UNKNOWN>");
  kith_apt_message_add (message, "Message", text);
  kith_apt_send (message);
}

static gchar *
kith_apt_format_time (GDateTime *time)
{
  return time != NULL ? soup_date_time_to_string (time, SOUP_DATE_HTTP) : NULL;
}

/* ---- config ---- */

static const gchar *
kith_apt_config (KithAptMethod *self, const gchar *key)
{
  return g_hash_table_lookup (self->config, key);
}

static gboolean
kith_apt_config_bool (KithAptMethod *self, const gchar *key, gboolean fallback)
{
  const gchar *value = kith_apt_config (self, key);

  if (value == NULL || *value == '\0')
    return fallback;
  return g_ascii_strcasecmp (value, "true") == 0 || g_ascii_strcasecmp (value, "yes") == 0 ||
         g_ascii_strcasecmp (value, "on") == 0 || g_ascii_strcasecmp (value, "enable") == 0 ||
         g_strcmp0 (value, "1") == 0;
}

static guint
kith_apt_config_uint (KithAptMethod *self, const gchar *key, guint fallback)
{
  const gchar *value = kith_apt_config (self, key);
  guint64 number;

  if (value == NULL || !g_ascii_string_to_unsigned (value, 10, 1, G_MAXUINT, &number, NULL))
    return fallback;
  return (guint) number;
}

/* Like apt's own methods: become APT::Sandbox::User (when root and it is not root). */
static gboolean
kith_apt_drop_privileges (KithAptMethod *self, GError **error)
{
#ifdef G_OS_UNIX
  const gchar *user = kith_apt_config (self, "APT::Sandbox::User");
  struct passwd *pw;

#ifdef __linux__
  prctl (PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0);
#endif
  if (kith_apt_config_bool (self, "Debug::NoDropPrivs", FALSE) || user == NULL || *user == '\0' ||
      g_strcmp0 (user, "root") == 0 || getuid () != 0)
    return TRUE;
  pw = getpwnam (user);
  if (pw == NULL) {
    g_set_error (error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND, "No user %s, can not drop rights", user);
    return FALSE;
  }
  if (setgroups (1, &pw->pw_gid) != 0 || setresgid (pw->pw_gid, pw->pw_gid, pw->pw_gid) != 0 ||
      setresuid (pw->pw_uid, pw->pw_uid, pw->pw_uid) != 0) {
    gint saved_errno = errno;
    g_set_error (error, G_IO_ERROR, g_io_error_from_errno (saved_errno),
                 "Failed to become user %s: %s", user, g_strerror (saved_errno));
    return FALSE;
  }
  if (getuid () != pw->pw_uid || geteuid () != pw->pw_uid || getgid () != pw->pw_gid ||
      getegid () != pw->pw_gid) {
    g_set_error (error, G_IO_ERROR, G_IO_ERROR_FAILED, "Could not switch to user %s", user);
    return FALSE;
  }
#endif
  return TRUE;
}

/* "DIRECT" (or nothing) is no proxy, as in apt.conf. */
static const gchar *
kith_apt_proxy (KithAptMethod *self, const gchar *scheme)
{
  g_autofree gchar *key = g_strdup_printf ("Acquire::%s::Proxy", scheme);
  g_autofree gchar *env = g_strdup_printf ("%s_proxy", scheme);
  const gchar *proxy = kith_apt_config (self, key);

  if (proxy == NULL)
    proxy = g_getenv (env);
  if (proxy == NULL || *proxy == '\0' || g_ascii_strcasecmp (proxy, "DIRECT") == 0)
    return NULL;
  return proxy;
}

/* The session for direct downloads, set up from apt's configuration. */
static void
kith_apt_make_session (KithAptMethod *self)
{
  const gchar *http_proxy = kith_apt_proxy (self, "http");
  const gchar *https_proxy = kith_apt_proxy (self, "https");
  g_autofree gchar *agent = g_strdup_printf ("Debian APT-HTTP/1.3 (kith %s)", KITH_VERSION);
  g_autoptr (GProxyResolver) resolver = NULL;

  if (http_proxy != NULL || https_proxy != NULL) {
    const gchar *no_proxy = g_getenv ("no_proxy");
    g_auto (GStrv) ignore = no_proxy != NULL ? g_strsplit (no_proxy, ",", -1) : NULL;

    resolver = g_simple_proxy_resolver_new (NULL, ignore);
    if (http_proxy != NULL)
      g_simple_proxy_resolver_set_uri_proxy (G_SIMPLE_PROXY_RESOLVER (resolver), "http", http_proxy);
    if (https_proxy != NULL)
      g_simple_proxy_resolver_set_uri_proxy (G_SIMPLE_PROXY_RESOLVER (resolver), "https", https_proxy);
  } else {
    resolver = g_simple_proxy_resolver_new (NULL, NULL); /* as apt: no proxy unless configured */
  }
  g_clear_object (&self->session);
  /* the resolver is given at construction, so the desktop's default one is never loaded */
  self->session = soup_session_new_with_options ("user-agent", agent,
                                                 "timeout", kith_apt_config_uint (self, "Acquire::http::Timeout", 120),
                                                 "max-conns-per-host", 4,
                                                 "proxy-resolver", resolver,
                                                 NULL);
}

/* ---- items ---- */

static void
kith_apt_item_free (KithAptItem *item)
{
  if (item->stall_timer != NULL) {
    g_source_destroy (item->stall_timer);
    g_source_unref (item->stall_timer);
  }
  g_clear_object (&item->cancellable);
  g_clear_pointer (&item->last_modified, g_date_time_unref);
  g_free (item->sha256);
  g_free (item->url);
  kith_apt_message_free (item->request);
  g_free (item);
}

/* The item is answered: forget it. */
static void
kith_apt_item_done (KithAptItem *item)
{
  g_hash_table_remove (item->method->items, item);
}

static void
kith_apt_item_start (KithAptItem *item, guint64 size)
{
  g_autoptr (KithAptMessage) message = NULL;

  if (item->started)
    return;
  item->started = TRUE;
  message = kith_apt_message_new (200, "URI Start");
  kith_apt_message_add (message, "URI", item->uri);
  if (size > 0)
    kith_apt_message_addf (message, "Size", "%" G_GUINT64_FORMAT, size);
  kith_apt_send (message);
}

static void
kith_apt_item_fail (KithAptItem *item, const gchar *text, const gchar *fail_reason, gboolean transient)
{
  g_autoptr (KithAptMessage) message = kith_apt_message_new (400, "URI Failure");

  kith_apt_message_add (message, "URI", item->uri);
  kith_apt_message_add (message, "Message", text);
  kith_apt_message_add (message, "FailReason", fail_reason);
  if (transient)
    kith_apt_message_add (message, "Transient-Failure", "true");
  kith_apt_send (message);
  kith_apt_item_done (item);
}

static void
kith_apt_item_succeed (KithAptItem *item, KithAptHashes *hashes, GDateTime *last_modified)
{
  g_autoptr (KithAptMessage) message = kith_apt_message_new (201, "URI Done");
  g_autofree gchar *time = kith_apt_format_time (last_modified);

  kith_apt_message_add (message, "URI", item->uri);
  kith_apt_message_add (message, "Filename", item->filename);
  kith_apt_message_addf (message, "Size", "%" G_GUINT64_FORMAT, kith_apt_hashes_get_size (hashes));
  kith_apt_message_add (message, "Last-Modified", time);
  kith_apt_hashes_add_to (hashes, message, "");
  kith_apt_send (message);
  kith_apt_item_done (item);
}

/* ---- the direct way: what apt's http method would do ---- */

/* Where a redirect leads, in apt's terms: kith+http may move to kith+https, never back,
 * and the origin never chooses the transport. NULL (and @error) when apt must refuse it. */
static gchar *
kith_apt_redirect_uri (KithAptItem *item, const gchar *location, GError **error)
{
  g_autoptr (GUri) target = g_uri_parse (location, G_URI_FLAGS_ENCODED, NULL);
  const gchar *scheme = target != NULL ? g_uri_get_scheme (target) : NULL;
  gboolean from_https = g_str_has_prefix (item->uri, KITH_APT_SCHEME_PREFIX "https:");
  g_autofree gchar *uri = NULL;

  if (g_strcmp0 (scheme, "https") != 0 && (g_strcmp0 (scheme, "http") != 0 || from_https)) {
    g_set_error (error, G_IO_ERROR, G_IO_ERROR_PERMISSION_DENIED,
                 "Redirection from %s to '%s' is forbidden",
                 from_https ? "kith+https" : "kith+http", location);
    return NULL;
  }
  uri = g_strconcat (KITH_APT_SCHEME_PREFIX, location, NULL);
  if (g_strcmp0 (uri, item->uri) == 0) {
    g_set_error_literal (error, G_IO_ERROR, G_IO_ERROR_FAILED, "Redirection loop encountered");
    return NULL;
  }
  return g_steal_pointer (&uri);
}

static void
kith_apt_item_direct_started (guint64 size, gpointer user_data)
{
  kith_apt_item_start (user_data, size);
}

static void
kith_apt_item_direct_cb (GObject *source, GAsyncResult *res, gpointer user_data)
{
  KithAptItem *item = user_data;
  g_autoptr (KithAptDirectResult) result = kith_apt_direct_fetch_finish (res);
  g_autoptr (KithAptMessage) message = NULL;
  g_autoptr (GError) error = NULL;
  g_autofree gchar *new_uri = NULL;
  g_autofree gchar *time = NULL;

  if (g_cancellable_is_cancelled (item->method->cancellable))
    return; /* apt went away */
  switch (result->outcome) {
  case KITH_APT_DIRECT_DONE:
    kith_apt_item_succeed (item, result->hashes, result->last_modified);
    return;
  case KITH_APT_DIRECT_NOT_MODIFIED:
    message = kith_apt_message_new (201, "URI Done");
    time = kith_apt_format_time (item->last_modified);
    kith_apt_message_add (message, "URI", item->uri);
    kith_apt_message_add (message, "Filename", item->filename);
    kith_apt_message_add (message, "Last-Modified", time);
    kith_apt_message_add (message, "IMS-Hit", "true");
    kith_apt_send (message);
    kith_apt_item_done (item);
    return;
  case KITH_APT_DIRECT_REDIRECT:
    new_uri = kith_apt_redirect_uri (item, result->location, &error);
    if (new_uri == NULL) {
      kith_apt_item_fail (item, error->message,
                          g_error_matches (error, G_IO_ERROR, G_IO_ERROR_FAILED) ? "RedirectionLoop" : NULL,
                          FALSE);
      return;
    }
    message = kith_apt_message_new (103, "Redirect");
    kith_apt_message_add (message, "URI", item->uri);
    kith_apt_message_add (message, "New-URI", new_uri);
    kith_apt_send (message);
    kith_apt_item_done (item);
    return;
  case KITH_APT_DIRECT_FAILED:
  default:
    kith_apt_item_fail (item, result->message, result->fail_reason, result->transient);
    return;
  }
}

static void
kith_apt_item_direct (KithAptItem *item)
{
  kith_apt_direct_fetch_async (item->method->session, item->url, item->filename, item->maximum_size,
                               item->size, item->last_modified, kith_apt_item_direct_started,
                               item->method->cancellable, kith_apt_item_direct_cb, item);
}

/* ---- the kith way ---- */

static void kith_apt_item_kith (KithAptItem *item);

static gboolean
kith_apt_item_stalled (gpointer user_data)
{
  KithAptItem *item = user_data;

  g_clear_pointer (&item->stall_timer, g_source_unref);
  item->stalled = TRUE;
  g_cancellable_cancel (item->cancellable);
  return G_SOURCE_REMOVE;
}

static void
kith_apt_item_arm_stall_timer (KithAptItem *item)
{
  guint seconds = kith_apt_config_uint (item->method, "Acquire::kith::Timeout", KITH_APT_DEFAULT_TIMEOUT_S);

  if (item->stall_timer != NULL) {
    g_source_destroy (item->stall_timer);
    g_source_unref (item->stall_timer);
  }
  item->stall_timer = g_timeout_source_new_seconds (seconds);
  g_source_set_callback (item->stall_timer, kith_apt_item_stalled, item, NULL);
  g_source_attach (item->stall_timer, NULL);
}

/* 102 Status: what apt shows next to the file while no bytes flow yet. */
static void
kith_apt_item_status (KithAptItem *item, KithClientTransfer *transfer)
{
  g_autoptr (KithAptMessage) message = NULL;
  const gchar *source = kith_client_transfer_get_source (transfer);
  g_autofree gchar *text = NULL;

  switch (kith_client_transfer_get_state (transfer)) {
  case KITH_CLIENT_TRANSFER_STATE_SEARCHING:
    text = g_strdup ("Searching the LAN");
    break;
  case KITH_CLIENT_TRANSFER_STATE_WAITING_FOR_PEER:
    text = g_strdup_printf ("Waiting for peer %.8s", source != NULL ? source : "");
    break;
  default:
    return;
  }
  message = kith_apt_message_new (102, "Status");
  kith_apt_message_add (message, "URI", item->uri);
  kith_apt_message_add (message, "Message", text);
  kith_apt_send (message);
}

static void
kith_apt_item_progress (KithClientTransfer *transfer, gpointer user_data)
{
  KithAptItem *item = user_data;
  KithClientTransferState state = kith_client_transfer_get_state (transfer);
  guint64 done = kith_client_transfer_get_bytes_done (transfer);

  if (state != item->last_state)
    kith_apt_item_status (item, transfer);
  item->last_state = state;

  if (state == KITH_CLIENT_TRANSFER_STATE_FROM_PEER || state == KITH_CLIENT_TRANSFER_STATE_FROM_ORIGIN)
    kith_apt_item_start (item, item->size > 0 ? item->size : kith_client_transfer_get_bytes_total (transfer));
  /* the stall timer measures silence: any new state or byte re-arms it */
  if (!item->started || done != item->last_done || state != KITH_CLIENT_TRANSFER_STATE_FROM_PEER)
    kith_apt_item_arm_stall_timer (item);
  item->last_done = done;
}

static void
kith_apt_item_kith_cb (GObject *source, GAsyncResult *res, gpointer user_data)
{
  KithAptItem *item = user_data;
  KithAptMethod *self = item->method;
  g_autoptr (GError) error = NULL;
  g_autoptr (KithClientTransfer) transfer = kith_client_fetch_finish (KITH_CLIENT (source), res, &error);
  g_autoptr (KithAptHashes) hashes = NULL;
  KithAptItem *next;

  if (g_cancellable_is_cancelled (self->cancellable))
    return; /* apt went away */
  self->active--;
  if ((next = g_queue_pop_head (&self->queued)) != NULL)
    kith_apt_item_kith (next);
  if (item->stall_timer != NULL) {
    g_source_destroy (item->stall_timer);
    g_clear_pointer (&item->stall_timer, g_source_unref);
  }
  if (transfer != NULL) {
    /* what apt gets is what is in the file: hash it again, with every hash apt knows */
    hashes = kith_apt_hashes_new_for_file (item->filename, NULL, &error);
    if (hashes != NULL && kith_apt_hashes_check (hashes, item->request, &error)) {
      kith_apt_log (item, "kith: %" G_GUINT64_FORMAT " bytes from %s",
                    kith_apt_hashes_get_size (hashes), kith_client_transfer_get_source (transfer));
      kith_apt_item_succeed (item, hashes, NULL);
      return;
    }
  }
  if (g_error_matches (error, KITH_CLIENT_ERROR, KITH_CLIENT_ERROR_AGENT_NOT_RUNNING) ||
      g_error_matches (error, KITH_CLIENT_ERROR, KITH_CLIENT_ERROR_PLUGIN_MISSING) ||
      g_error_matches (error, KITH_CLIENT_ERROR, KITH_CLIENT_ERROR_PERMISSION_DENIED))
    self->agent = KITH_APT_AGENT_MISSING; /* the rest goes straight to the origin */
  kith_apt_log (item, "kith: %s; downloading it from the origin",
                item->stalled ? "no progress from the agent" : error->message);
  g_clear_object (&item->cancellable);
  item->cancellable = g_cancellable_new ();
  kith_apt_item_direct (item);
}

static void
kith_apt_item_kith (KithAptItem *item)
{
  KithAptMethod *self = item->method;

  if (self->agent == KITH_APT_AGENT_MISSING) {
    kith_apt_item_direct (item);
    return;
  }
  if (self->active >= kith_apt_config_uint (self, "Acquire::kith::Parallel", KITH_APT_DEFAULT_PARALLEL)) {
    g_queue_push_tail (&self->queued, item);
    return;
  }
  self->active++;
  kith_apt_item_arm_stall_timer (item);
  kith_client_fetch_sized_async (self->client, item->url, item->filename, item->sha256, item->size,
                                 KITH_CLIENT_FETCH_FLAG_NONE, kith_apt_item_progress, item, NULL,
                                 item->cancellable, kith_apt_item_kith_cb, item);
}

static void
kith_apt_connect_cb (GObject *source, GAsyncResult *res, gpointer user_data)
{
  KithAptMethod *self = user_data;
  g_autoptr (GError) error = NULL;
  KithAptItem *item;

  if (g_cancellable_is_cancelled (self->cancellable))
    return;
  if (kith_client_connect_finish (self->client, res, &error)) {
    self->agent = KITH_APT_AGENT_READY;
  } else {
    self->agent = KITH_APT_AGENT_MISSING;
    kith_apt_log (NULL, "kith: %s; downloading from the origin directly", error->message);
  }
  while ((item = g_queue_pop_head (&self->waiting)) != NULL)
    kith_apt_item_kith (item);
}

/* Files with a SHA256 go through the agent (once it answers), the rest straight to the origin. */
static void
kith_apt_item_run (KithAptItem *item)
{
  KithAptMethod *self = item->method;
  const gchar *address = kith_apt_config (self, "Acquire::kith::Address");

  if (item->sha256 == NULL || kith_apt_config_bool (self, "Acquire::kith::Direct", FALSE)) {
    kith_apt_item_direct (item);
    return;
  }
  switch (self->agent) {
  case KITH_APT_AGENT_UNKNOWN:
    self->client = kith_client_new ();
    if (address != NULL && *address != '\0')
      kith_client_set_address (self->client, address);
    self->agent = KITH_APT_AGENT_CONNECTING;
    g_queue_push_tail (&self->waiting, item);
    kith_client_connect_async (self->client, self->cancellable, kith_apt_connect_cb, self);
    return;
  case KITH_APT_AGENT_CONNECTING:
    g_queue_push_tail (&self->waiting, item);
    return;
  case KITH_APT_AGENT_READY:
  case KITH_APT_AGENT_MISSING:
  default:
    kith_apt_item_kith (item);
    return;
  }
}

/* kith+http://host/path → http://host/path; NULL for anything else. */
static gchar *
kith_apt_origin_url (const gchar *uri)
{
  if (g_str_has_prefix (uri, KITH_APT_SCHEME_PREFIX "http://") ||
      g_str_has_prefix (uri, KITH_APT_SCHEME_PREFIX "https://"))
    return g_strdup (uri + strlen (KITH_APT_SCHEME_PREFIX));
  return NULL;
}

static void
kith_apt_acquire (KithAptMethod *self, KithAptMessage *request)
{
  KithAptItem *item = g_new0 (KithAptItem, 1);
  const gchar *sha256 = kith_apt_message_get (request, "Expected-SHA256");
  const gchar *size = kith_apt_message_get (request, "Expected-Checksum-FileSize");
  const gchar *maximum = kith_apt_message_get (request, "Maximum-Size");
  const gchar *last_modified = kith_apt_message_get (request, "Last-Modified");

  item->method = self;
  item->request = request;
  item->uri = kith_apt_message_get (request, "URI");
  item->filename = kith_apt_message_get (request, "Filename");
  item->cancellable = g_cancellable_new ();
  item->last_state = KITH_CLIENT_TRANSFER_STATE_FAILED; /* none yet */
  g_hash_table_add (self->items, item);
  if (item->uri == NULL || item->filename == NULL) {
    if (item->uri == NULL)
      item->uri = "<UNKNOWN>";
    kith_apt_item_fail (item, "600 URI Acquire without URI or Filename", NULL, FALSE);
    return;
  }
  item->url = kith_apt_origin_url (item->uri);
  if (item->url == NULL) {
    kith_apt_item_fail (item, "Not a kith+http:// or kith+https:// URI", NULL, FALSE);
    return;
  }
  if (sha256 != NULL && strlen (sha256) == 64 && strspn (sha256, "0123456789abcdefABCDEF") == 64)
    item->sha256 = g_ascii_strdown (sha256, -1);
  if (size != NULL)
    item->size = g_ascii_strtoull (size, NULL, 10);
  item->maximum_size = item->size > 0 ? item->size : maximum != NULL ? g_ascii_strtoull (maximum, NULL, 10) : 0;
  if (last_modified != NULL)
    item->last_modified = soup_date_time_new_from_http_string (last_modified);
  kith_apt_item_run (item);
}

/* ---- input ---- */

static void kith_apt_read_next (KithAptMethod *self);

static void
kith_apt_quit (KithAptMethod *self, gint exit_code)
{
  GHashTableIter iter;
  KithAptItem *item;

  self->exit_code = exit_code;
  g_cancellable_cancel (self->cancellable);
  g_hash_table_iter_init (&iter, self->items);
  while (g_hash_table_iter_next (&iter, (gpointer *) &item, NULL))
    g_cancellable_cancel (item->cancellable);
  g_main_loop_quit (self->loop);
}

static void
kith_apt_configure (KithAptMethod *self, KithAptMessage *message)
{
  g_autoptr (GError) error = NULL;

  if (!kith_apt_message_get_config (message, self->config)) {
    g_printerr ("kith+http: malformed 601 Configuration\n");
    kith_apt_quit (self, 100);
    return;
  }
  if (!kith_apt_drop_privileges (self, &error)) {
    g_autoptr (KithAptMessage) failure = kith_apt_message_new (400, "URI Failure");
    kith_apt_message_add (failure, "URI", "<UNKNOWN>");
    kith_apt_message_add (failure, "Message", error->message);
    kith_apt_send (failure);
    kith_apt_quit (self, 112);
    return;
  }
  kith_apt_make_session (self);
}

static void
kith_apt_dispatch (KithAptMethod *self)
{
  g_autoptr (GError) error = NULL;
  g_ptr_array_add (self->lines, NULL);
  g_autoptr (KithAptMessage) message = kith_apt_message_parse ((const gchar *const *) self->lines->pdata, &error);

  g_ptr_array_set_size (self->lines, 0);
  if (message == NULL) {
    g_printerr ("kith+http: %s\n", error->message);
    kith_apt_quit (self, 100);
    return;
  }
  switch (kith_apt_message_get_code (message)) {
  case 601:
    kith_apt_configure (self, message);
    return;
  case 600:
    kith_apt_acquire (self, g_steal_pointer (&message));
    return;
  default:
    return; /* nothing else is for us */
  }
}

static void
kith_apt_read_cb (GObject *source, GAsyncResult *res, gpointer user_data)
{
  KithAptMethod *self = user_data;
  g_autoptr (GError) error = NULL;
  gsize length = 0;
  gchar *line = g_data_input_stream_read_line_finish_utf8 (G_DATA_INPUT_STREAM (source), res, &length, &error);

  if (line == NULL) {
    /* apt closed our stdin: it wants nothing more */
    kith_apt_quit (self, error != NULL && !g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED) ? 100 : 0);
    return;
  }
  if (line[0] == '\0') {
    g_free (line);
    if (self->lines->len > 0)
      kith_apt_dispatch (self);
  } else if (self->lines->len >= KITH_APT_MAX_MESSAGE_LINES) {
    g_free (line);
    g_printerr ("kith+http: a message of more than %u lines\n", KITH_APT_MAX_MESSAGE_LINES);
    kith_apt_quit (self, 100);
    return;
  } else {
    g_ptr_array_add (self->lines, line);
  }
  if (!g_cancellable_is_cancelled (self->cancellable))
    kith_apt_read_next (self);
}

static void
kith_apt_read_next (KithAptMethod *self)
{
  g_data_input_stream_read_line_async (self->input, G_PRIORITY_DEFAULT, self->cancellable,
                                       kith_apt_read_cb, self);
}

int
main (int argc, char **argv)
{
  KithAptMethod self = { 0 };
  g_autoptr (GInputStream) in = NULL;

  setlocale (LC_ALL, "");
  /* apt's sandbox user has no home: keep GIO away from desktop settings and virtual file systems */
  g_setenv ("GSETTINGS_BACKEND", "memory", TRUE);
  g_setenv ("GIO_USE_VFS", "local", TRUE);
  if (argc > 1) {
    g_printerr ("%s: an apt transport (acquire method); apt runs it for kith+http:// sources\n", argv[0]);
    return 100;
  }
#ifdef G_OS_UNIX
  in = g_unix_input_stream_new (STDIN_FILENO, FALSE);
#else
  g_printerr ("%s: needs a Unix system\n", argv[0]);
  return 100;
#endif
  self.loop = g_main_loop_new (NULL, FALSE);
  self.input = g_data_input_stream_new (in);
  g_data_input_stream_set_newline_type (self.input, G_DATA_STREAM_NEWLINE_TYPE_LF);
  self.lines = g_ptr_array_new_with_free_func (g_free);
  self.config = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
  self.cancellable = g_cancellable_new ();
  self.items = g_hash_table_new_full (NULL, NULL, (GDestroyNotify) kith_apt_item_free, NULL);
  g_queue_init (&self.waiting);
  g_queue_init (&self.queued);
  kith_apt_make_session (&self);
  kith_apt_send_capabilities ();
  kith_apt_read_next (&self);
  g_main_loop_run (self.loop);

  /* let the cancelled operations unwind before their items go */
  while (g_main_context_iteration (NULL, FALSE))
    ;
  g_queue_clear (&self.waiting);
  g_queue_clear (&self.queued);
  g_hash_table_unref (self.items);
  g_clear_object (&self.client);
  g_clear_object (&self.session);
  g_object_unref (self.cancellable);
  g_hash_table_unref (self.config);
  g_ptr_array_unref (self.lines);
  g_object_unref (self.input);
  g_main_loop_unref (self.loop);
  return self.exit_code;
}
