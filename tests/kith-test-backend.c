/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* kith-test-backend.c — kith-backend as a process, for tests that need the vendor */
#include "kith-test-backend.h"
#include "kith-test-tls.h"

#include "kith-test-agent.h"
#include "kith-test-util.h"

#include <gio/gio.h>
#include <glib/gstdio.h>
#include <json-glib/json-glib.h>
#include <libsoup/soup.h>
#include <signal.h>
#include <string.h>

struct _KithTestBackend {
  gchar *root; /* temporary: the backend DIR and the releases live under it */
  gchar *dir;
  gchar *ca;
  GPtrArray *releases;
  GSubprocess *serve;
  gchar *url;
};

static const gchar *
kith_test_backend_bin (void)
{
  const gchar *path = g_getenv ("KITH_BACKEND");
  g_assert_nonnull (path);
  return path;
}

static void
kith_test_backend_run (const gchar *const *argv)
{
  g_autofree gchar *out = NULL;
  g_autofree gchar *err = NULL;
  gint status = kith_test_run (argv, NULL, &out, &err);

  if (status != 0)
    g_error ("%s %s failed (%d): %s", argv[0], argv[1], status, err);
}

KithTestBackend *
kith_test_backend_new (void)
{
  KithTestBackend *self = g_new0 (KithTestBackend, 1);
  g_autoptr (GError) error = NULL;

  self->root = g_dir_make_tmp ("kith-backend-XXXXXX", &error);
  g_assert_no_error (error);
  self->dir = g_build_filename (self->root, "vendor", NULL);
  self->ca = g_build_filename (self->dir, "ca.pem", NULL);
  self->releases = g_ptr_array_new_with_free_func (g_free);
  kith_test_backend_run ((const gchar *const[]) { kith_test_backend_bin (), "init", self->dir, NULL });
  return self;
}

void
kith_test_backend_free (KithTestBackend *self)
{
  if (self->serve != NULL) {
    g_subprocess_send_signal (self->serve, SIGTERM);
    g_subprocess_wait (self->serve, NULL, NULL);
    g_object_unref (self->serve);
  }
  kith_test_rm_rf (self->root);
  g_ptr_array_unref (self->releases);
  g_free (self->root);
  g_free (self->dir);
  g_free (self->ca);
  g_free (self->url);
  g_free (self);
}

const gchar *
kith_test_backend_get_dir (KithTestBackend *self)
{
  return self->dir;
}

const gchar *
kith_test_backend_get_ca (KithTestBackend *self)
{
  return self->ca;
}

gint
kith_test_backend_get_pid (KithTestBackend *self)
{
  const gchar *id = self->serve != NULL ? g_subprocess_get_identifier (self->serve) : NULL;
  return id != NULL ? (gint) g_ascii_strtoll (id, NULL, 10) : 0;
}

const gchar *
kith_test_backend_get_url (KithTestBackend *self)
{
  return self->url;
}

const gchar *
kith_test_backend_publish_sample (KithTestBackend *self, const gchar *stamp)
{
  g_autofree gchar *name = g_strdup_printf ("release-%s", stamp);
  gchar *src = g_build_filename (self->root, name, NULL);
  const gchar *script = g_getenv ("KITH_SAMPLE_RELEASE");

  g_assert_nonnull (script);
  g_ptr_array_add (self->releases, src);
  kith_test_backend_run ((const gchar *const[]) { "/bin/sh", script, src, stamp, NULL });
  kith_test_backend_run ((const gchar *const[]) { kith_test_backend_bin (), "publish", self->dir, src, NULL });
  return src;
}

void
kith_test_backend_publish (KithTestBackend *self, const gchar *src)
{
  kith_test_backend_run ((const gchar *const[]) { kith_test_backend_bin (), "publish", self->dir, src, NULL });
}

static void kith_test_backend_serve_full (KithTestBackend *self, const gchar *rate, gboolean plain);

void
kith_test_backend_serve (KithTestBackend *self, const gchar *rate)
{
  kith_test_backend_serve_full (self, rate, FALSE);
}

void
kith_test_backend_serve_plain (KithTestBackend *self)
{
  kith_test_backend_serve_full (self, NULL, TRUE);
}

static void
kith_test_backend_serve_full (KithTestBackend *self, const gchar *rate, gboolean plain)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GDataInputStream) out = NULL;
  g_autofree gchar *line = NULL;
  g_autoptr (GPtrArray) argv = g_ptr_array_new ();

  g_ptr_array_add (argv, (gpointer) kith_test_backend_bin ());
  g_ptr_array_add (argv, "serve");
  g_ptr_array_add (argv, self->dir);
  g_ptr_array_add (argv, "--listen");
  g_ptr_array_add (argv, "127.0.0.1:0");
  if (plain)
    g_ptr_array_add (argv, "--plain-http");
  if (rate != NULL) {
    g_ptr_array_add (argv, "--rate-limit");
    g_ptr_array_add (argv, (gpointer) rate);
  }
  g_ptr_array_add (argv, NULL);
  self->serve = g_subprocess_newv ((const gchar *const *) argv->pdata, G_SUBPROCESS_FLAGS_STDOUT_PIPE, &error);
  g_assert_no_error (error);
  /* a blocking read is bounded: serve prints its line or exits (EOF) */
  out = g_data_input_stream_new (g_subprocess_get_stdout_pipe (self->serve));
  line = g_data_input_stream_read_line_utf8 (out, NULL, NULL, &error);
  g_assert_no_error (error);
  if (line == NULL || strstr (line, plain ? " on http://" : " on https://") == NULL)
    g_error ("kith-backend serve did not start: %s", line != NULL ? line : "(exited)");
  kith_test_tls_trust (self->ca);
  self->url = g_strdup (strstr (line, " on ") + 4);
}

/* The sum of @member over the stats paths matching @path. */
static guint64
kith_test_backend_stat (KithTestBackend *self, const gchar *path, const gchar *member)
{
  g_autoptr (SoupSession) session = kith_test_session_new ();
  g_autofree gchar *url = g_strconcat (self->url, "/stats", NULL);
  g_autoptr (SoupMessage) msg = soup_message_new ("GET", url);
  g_autoptr (GError) error = NULL;
  g_autoptr (GBytes) body = soup_session_send_and_read (session, msg, NULL, &error);
  g_autoptr (JsonParser) parser = json_parser_new ();
  g_autoptr (GList) names = NULL;
  JsonObject *paths;
  guint64 sum = 0;

  g_assert_no_error (error);
  g_assert_true (json_parser_load_from_data (parser, g_bytes_get_data (body, NULL),
                                             (gssize) g_bytes_get_size (body), &error));
  paths = json_object_get_object_member (json_node_get_object (json_parser_get_root (parser)), "paths");
  names = json_object_get_members (paths);
  for (GList *l = names; l != NULL; l = l->next) {
    const gchar *name = l->data;
    gboolean match = g_str_has_suffix (path, "/") ? g_str_has_prefix (name, path) : g_strcmp0 (name, path) == 0;
    if (match)
      sum += (guint64) json_object_get_int_member (json_object_get_object_member (paths, name), member);
  }
  return sum;
}

guint64
kith_test_backend_get_requests (KithTestBackend *self, const gchar *path)
{
  return kith_test_backend_stat (self, path, "requests");
}

guint64
kith_test_backend_get_bytes (KithTestBackend *self, const gchar *path)
{
  return kith_test_backend_stat (self, path, "bytes");
}

guint
kith_test_backend_dir_count_reports (const gchar *dir, GBytes *content)
{
  g_autofree gchar *dir_path = g_build_filename (dir, "uploads", NULL);
  g_autoptr (GDir) uploads = g_dir_open (dir_path, 0, NULL);
  const gchar *name;
  guint copies = 0;

  while (uploads != NULL && (name = g_dir_read_name (uploads)) != NULL) {
    g_autofree gchar *path = g_build_filename (dir_path, name, NULL);
    g_autofree gchar *data = NULL;
    gsize len = 0;
    if (g_str_has_suffix (name, ".receipt") || !g_file_get_contents (path, &data, &len, NULL))
      continue;
    if (len == g_bytes_get_size (content) && memcmp (data, g_bytes_get_data (content, NULL), len) == 0)
      copies++;
  }
  return copies;
}

gchar *
kith_test_backend_agent_config (const gchar *url, const gchar *ca, const gchar *token)
{
  return g_strdup_printf ("backend-url=%s\n"
                          "trust-anchor=%s\n"
                          "%s%s\n"
                          "offline=%s\n",
                          url, ca, token != NULL ? "enrollment-token=" : "", token != NULL ? token : "",
                          token != NULL ? "false" : "true");
}
