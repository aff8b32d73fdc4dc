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
 *
 * This file is the method: apt's messages in and out, its configuration, the privilege
 * drop and what the files share. One file's way is kith-apt-item.c; through the agent
 * kith-apt-kith.c, from the origin kith-apt-direct.c.
 */
#include "kith-apt-item.h"
#include "kith-apt-kith.h"
#include "kith-apt-message.h"
#include "kith-build-config.h"

#include <errno.h>
#include <locale.h>
#include <stdio.h>
#include <stdlib.h>

#ifdef G_OS_UNIX
#include <gio/gunixinputstream.h>
#include <grp.h>
#include <pwd.h>
#include <unistd.h>
#endif
#ifdef __linux__
#include <sys/prctl.h>
#endif

#define KITH_APT_DEFAULT_TIMEOUT_S 120
#define KITH_APT_DEFAULT_PARALLEL 2
#define KITH_APT_MAX_MESSAGE_LINES 4096

typedef struct {
  GMainLoop *loop;
  GDataInputStream *input;
  GPtrArray *lines;   /* of the message being read */
  GHashTable *config; /* apt's configuration: key → value */
  GCancellable *cancellable;
  KithAptItemContext context; /* what the items share: session, kith, cancellable, output */
  GHashTable *items;  /* KithAptItem* in flight (set) */
  gint exit_code;
} KithAptMethod;

/* ---- output ---- */

static void
kith_apt_send (KithAptMessage *message, gpointer user_data)
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
  kith_apt_send (message, NULL);
}

/* 101 Log of no file: apt shows it with -o Debug::pkgAcquire::Worker=1. */
static void
kith_apt_log (const gchar *text, gpointer user_data)
{
  g_autoptr (KithAptMessage) message = kith_apt_message_new (101, "Log");

  kith_apt_message_add (message, "URI", "<UNKNOWN>");
  kith_apt_message_add (message, "Message", text);
  kith_apt_send (message, NULL);
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
  g_clear_object (&self->context.session);
  /* the resolver is given at construction, so the desktop's default one is never loaded */
  self->context.session = soup_session_new_with_options ("user-agent", agent,
                                                 "timeout", kith_apt_config_uint (self, "Acquire::http::Timeout", 120),
                                                 "max-conns-per-host", 4,
                                                 "proxy-resolver", resolver,
                                                 NULL);
}

/* What the items read of apt's configuration, set again whenever it arrives. */
static void
kith_apt_apply_config (KithAptMethod *self)
{
  kith_apt_make_session (self);
  self->context.direct_only = kith_apt_config_bool (self, "Acquire::kith::Direct", FALSE);
  kith_apt_kith_configure (self->context.kith, kith_apt_config (self, "Acquire::kith::Address"),
                           kith_apt_config_uint (self, "Acquire::kith::Parallel", KITH_APT_DEFAULT_PARALLEL),
                           kith_apt_config_uint (self, "Acquire::kith::Timeout", KITH_APT_DEFAULT_TIMEOUT_S));
}

/* ---- items ---- */

static void
kith_apt_forget_item (KithAptItem *item, gpointer user_data)
{
  KithAptMethod *self = user_data;

  g_hash_table_remove (self->items, item); /* frees it */
}

static void
kith_apt_acquire (KithAptMethod *self, KithAptMessage *request)
{
  KithAptItem *item = kith_apt_item_new (&self->context, request);

  g_hash_table_add (self->items, item);
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
    kith_apt_item_cancel (item);
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
    kith_apt_send (failure, NULL);
    kith_apt_quit (self, 112);
    return;
  }
  kith_apt_apply_config (self);
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
  self.context = (KithAptItemContext) {
    .send = kith_apt_send,
    .answered = kith_apt_forget_item,
    .user_data = &self,
    .kith = kith_apt_kith_new (kith_apt_log, NULL, self.cancellable),
    .cancellable = self.cancellable,
  };
  kith_apt_apply_config (&self);
  kith_apt_send_capabilities ();
  kith_apt_read_next (&self);
  g_main_loop_run (self.loop);

  /* let the cancelled operations unwind before their items go */
  while (g_main_context_iteration (NULL, FALSE))
    ;
  g_hash_table_unref (self.items);
  kith_apt_kith_free (self.context.kith);
  g_clear_object (&self.context.session);
  g_object_unref (self.cancellable);
  g_hash_table_unref (self.config);
  g_ptr_array_unref (self.lines);
  g_object_unref (self.input);
  g_main_loop_unref (self.loop);
  return self.exit_code;
}
