/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* test-http.c — the HTTP servers of kith-agent and kith-backend against a hostile client
 * (kith-hostile-http, its own process, on loopback): no socket outlives its client, request
 * bodies are refused before they are read (or streamed to disk up to their cap), the
 * connection caps hold and a request head that never ends is cut off.
 *
 * The process's own numbers are read from /proc: open descriptors (/proc/PID/fd) and peak
 * resident memory (VmHWM in /proc/PID/status). */
#include <check.h>

#include "kith-test-agent.h"
#include "kith-test-backend.h"
#include "kith-test-suite.h"

#include <glib/gstdio.h>
#include <libsoup/soup.h>
#include <string.h>

#define MIB (1024 * 1024)
/* what loopback socket buffers can swallow of a body nobody reads, with a wide margin */
#define UNREAD_MAX (64 * MIB)
#define NODE_A "00112233445566778899aabbccddeeff"

static guint16 peering_port;

static gchar *
hostile (const gchar *mode, guint port, ...)
{
  const gchar *bin = g_getenv ("KITH_HOSTILE_HTTP");
  g_autoptr (GPtrArray) argv = g_ptr_array_new_with_free_func (g_free);
  g_autofree gchar *err = NULL;
  gchar *out = NULL;
  const gchar *arg;
  va_list args;
  gint status;

  ck_assert_msg (bin != NULL, "KITH_HOSTILE_HTTP must name kith-hostile-http");
  g_ptr_array_add (argv, g_strdup (bin));
  g_ptr_array_add (argv, g_strdup (mode));
  g_ptr_array_add (argv, g_strdup_printf ("%u", port));
  va_start (args, port);
  while ((arg = va_arg (args, const gchar *)) != NULL)
    g_ptr_array_add (argv, g_strdup (arg));
  va_end (args);
  g_ptr_array_add (argv, NULL);
  status = kith_test_run ((const gchar *const *) argv->pdata, NULL, &out, &err);
  ck_assert_msg (status == 0, "kith-hostile-http %s: exit %d: %s", mode, status, err);
  g_strstrip (out);
  return out;
}

static guint16
url_port (const gchar *url)
{
  g_autoptr (GUri) uri = g_uri_parse (url, G_URI_FLAGS_NONE, NULL);
  ck_assert (uri != NULL);
  return (guint16) g_uri_get_port (uri);
}

static guint
fd_count (gint pid)
{
  g_autofree gchar *path = g_strdup_printf ("/proc/%d/fd", pid);
  g_autoptr (GDir) dir = g_dir_open (path, 0, NULL);
  guint n = 0;

  ck_assert_msg (dir != NULL, "cannot read %s", path);
  while (g_dir_read_name (dir) != NULL)
    n++;
  return n;
}

/* VmHWM of @pid, in bytes. */
static guint64
peak_rss (gint pid)
{
  g_autofree gchar *path = g_strdup_printf ("/proc/%d/status", pid);
  g_autofree gchar *text = NULL;
  const gchar *line;

  ck_assert (g_file_get_contents (path, &text, NULL, NULL));
  line = strstr (text, "VmHWM:");
  ck_assert (line != NULL);
  return g_ascii_strtoull (line + strlen ("VmHWM:"), NULL, 10) * 1024;
}

typedef struct {
  gint pid;
  guint limit;
} FdWait;

static gboolean
fds_at_most (gpointer user_data)
{
  FdWait *wait = user_data;
  return fd_count (wait->pid) <= wait->limit;
}

/* 600 requests, each on a keep-alive connection its client then closes: the server's
 * descriptors come back to where they were (libsoup 3.2 alone keeps each in CLOSE-WAIT). */
static void
check_no_socket_left (gint pid, guint16 port)
{
  g_autofree gchar *warm = hostile ("close-each", port, "1", NULL);
  FdWait wait = { pid, 0 };
  g_autofree gchar *out = NULL;

  ck_assert_str_eq (warm, "done 1 answered 1");
  wait.limit = fd_count (pid);
  out = hostile ("close-each", port, "600", NULL);
  ck_assert_str_eq (out, "done 600 answered 600");
  ck_assert_msg (kith_test_wait_until (fds_at_most, &wait, 10000), "%u descriptors open, %u before",
                 fd_count (pid), wait.limit);
}

START_TEST (test_agent_no_socket_left)
{
  g_autoptr (KithTestAgent) agent = kith_test_agent_new ("", NULL);
  g_autoptr (GError) error = NULL;

  ck_assert_msg (kith_test_agent_start (agent, &error), "%s", error != NULL ? error->message : "");
  check_no_socket_left (kith_test_agent_get_pid (agent), url_port (kith_test_agent_get_http_url (agent)));
}
END_TEST

START_TEST (test_backend_no_socket_left)
{
  g_autoptr (KithTestBackend) backend = kith_test_backend_new ();

  kith_test_backend_serve_plain (backend); /* the HTTP layer, without TLS */
  check_no_socket_left (kith_test_backend_get_pid (backend), url_port (kith_test_backend_get_url (backend)));
}
END_TEST

/* A 300 MiB chunked POST to @path: refused, without reading it and without memory to show
 * for it; the server still answers afterwards. */
static void
check_body_refused (gint pid, guint16 port, const gchar *path, const gchar *headers, guint64 rss_max)
{
  guint64 before = peak_rss (pid);
  g_autofree gchar *out = hostile ("chunked", port, path, "300", headers != NULL ? headers : "", NULL);
  g_autofree gchar *after = NULL;
  guint64 sent = 0;
  guint status = 0;

  ck_assert_msg (sscanf (out, "sent %" G_GUINT64_FORMAT " status %u", &sent, &status) == 2, "%s", out);
  ck_assert_msg (sent < UNREAD_MAX, "%s: %" G_GUINT64_FORMAT " bytes went in", path, sent);
  ck_assert_msg (status == 0 || status == 413, "%s: answered %u", path, status);
  ck_assert_msg (peak_rss (pid) < before + rss_max, "%s: peak RSS %" G_GUINT64_FORMAT " → %" G_GUINT64_FORMAT,
                 path, before, peak_rss (pid));
  after = hostile ("close-each", port, "1", NULL);
  ck_assert_str_eq (after, "done 1 answered 1");
}

START_TEST (test_agent_body_refused)
{
  g_autoptr (KithTestAgent) agent = kith_test_agent_new ("", NULL);
  g_autoptr (GError) error = NULL;
  guint16 port;
  gint pid;

  ck_assert_msg (kith_test_agent_start (agent, &error), "%s", error != NULL ? error->message : "");
  port = url_port (kith_test_agent_get_http_url (agent));
  pid = kith_test_agent_get_pid (agent);
  check_body_refused (pid, port, "/nothing", NULL, 8 * MIB);
  check_body_refused (pid, port, "/metrics", NULL, 8 * MIB);
  check_body_refused (pid, port, "/upload/1", NULL, 8 * MIB);
}
END_TEST

#ifdef KITH_TEST_UPLOAD
static gboolean
agent_enrolled (gpointer user_data)
{
  g_autofree gchar *log = kith_test_agent_get_log (user_data);
  return strstr (log, "enrolled") != NULL;
}

static gboolean
dir_empty (gpointer user_data)
{
  g_autoptr (GDir) dir = g_dir_open (user_data, 0, NULL);
  return dir != NULL && g_dir_read_name (dir) == NULL;
}

/* The upload alias takes a body, up to [upload] max-size: it goes to the spool as it comes,
 * and past max-size the request is cut with 413 and nothing is left in the spool. */
START_TEST (test_agent_upload_body_streamed)
{
  g_autoptr (KithTestBackend) backend = kith_test_backend_new ();
  g_autofree gchar *token_path = g_build_filename (kith_test_backend_get_dir (backend), "enrollment-token", NULL);
  g_autofree gchar *token = NULL;
  g_autofree gchar *config = NULL;
  g_autofree gchar *spool = NULL;
  g_autoptr (KithTestAgent) agent = NULL;
  g_autoptr (GError) error = NULL;

  kith_test_backend_serve (backend, NULL);
  ck_assert (g_file_get_contents (token_path, &token, NULL, NULL));
  g_strstrip (token);
  config = g_strdup_printf ("backend-url=%s\ntrust-anchor=%s\nenrollment-token=%s\n"
                            "[peering]\nport=%u\nlisten=127.255.255.255\nsend-address=127.0.0.1\n"
                            "broadcast=127.255.255.255\n[upload]\nmax-size=20000000\n",
                            kith_test_backend_get_url (backend), kith_test_backend_get_ca (backend), token,
                            peering_port);
  agent = kith_test_agent_new ("peering;upload", config);
  ck_assert_msg (kith_test_agent_start (agent, &error), "%s", error != NULL ? error->message : "");
  ck_assert (kith_test_wait_until (agent_enrolled, agent, 20000));
  /* accumulating the 20 MB it may take would show; streaming to disk does not */
  check_body_refused (kith_test_agent_get_pid (agent), url_port (kith_test_agent_get_http_url (agent)), "/upload/1",
                      "X-Kith-Upload-Id: " NODE_A "|X-Kith-Node: " NODE_A, 12 * MIB);
  spool = g_build_filename (kith_test_agent_get_dir (agent), "state", "upload", "spool", NULL);
  /* the partial report goes with its request */
  ck_assert_msg (kith_test_wait_until (dir_empty, spool, 10000), "%s is not empty", spool);
}
END_TEST
#endif

START_TEST (test_backend_body_refused)
{
  g_autoptr (KithTestBackend) backend = kith_test_backend_new ();
  guint16 port;
  gint pid;

  kith_test_backend_serve_plain (backend); /* the HTTP layer, without TLS */
  port = url_port (kith_test_backend_get_url (backend));
  pid = kith_test_backend_get_pid (backend);
  check_body_refused (pid, port, "/nothing", NULL, 8 * MIB);
  check_body_refused (pid, port, "/stats", NULL, 8 * MIB);
  check_body_refused (pid, port, "/enroll", NULL, 8 * MIB);
  /* /upload takes up to 16 MiB, streamed to disk: the rest is cut off */
  check_body_refused (pid, port, "/upload", "X-Kith-Upload-Id: " NODE_A "|X-Kith-Node: " NODE_A, 12 * MIB);
}
END_TEST

/* 80 connections from one address: the 64 of the per-source cap stay, the rest are closed at
 * once; when they go, the server serves again. */
START_TEST (test_agent_connection_cap)
{
  g_autoptr (KithTestAgent) agent = kith_test_agent_new ("", NULL);
  g_autoptr (GError) error = NULL;
  g_autofree gchar *held = NULL;
  g_autofree gchar *after = NULL;
  guint16 port;

  ck_assert_msg (kith_test_agent_start (agent, &error), "%s", error != NULL ? error->message : "");
  port = url_port (kith_test_agent_get_http_url (agent));
  held = hostile ("hold", port, "80", "5000", NULL);
  ck_assert_str_eq (held, "closed 16 of 80");
  after = hostile ("close-each", port, "1", NULL);
  ck_assert_str_eq (after, "done 1 answered 1");
  /* and the agent says so */
  {
    g_autoptr (SoupSession) session = soup_session_new ();
    g_autofree gchar *url = g_strconcat (kith_test_agent_get_http_url (agent), "/metrics", NULL);
    g_autoptr (SoupMessage) msg = soup_message_new ("GET", url);
    g_autoptr (GBytes) body = soup_session_send_and_read (session, msg, NULL, NULL);
    g_autofree gchar *text = body != NULL ? g_strndup (g_bytes_get_data (body, NULL), g_bytes_get_size (body)) : NULL;
    ck_assert_msg (text != NULL && strstr (text, "kith_agent_http_refused_total{reason=\"cap\"} 16\n") != NULL,
                   "%s", text);
  }
}
END_TEST

/* A request head sent one byte at a time never ends: the connection is closed at the header
 * timeout (10 s), not before and not never. */
START_TEST (test_agent_slowloris)
{
  g_autoptr (KithTestAgent) agent = kith_test_agent_new ("", NULL);
  g_autoptr (GError) error = NULL;
  g_autofree gchar *out = NULL;
  guint64 ms = 0;

  ck_assert_msg (kith_test_agent_start (agent, &error), "%s", error != NULL ? error->message : "");
  out = hostile ("slowloris", url_port (kith_test_agent_get_http_url (agent)), "30000", NULL);
  ck_assert_msg (sscanf (out, "closed-after %" G_GUINT64_FORMAT, &ms) == 1, "%s", out);
  ck_assert_msg (ms >= 9000 && ms <= 20000, "closed after %" G_GUINT64_FORMAT " ms", ms);
}
END_TEST

int
main (void)
{
  Suite *suite = suite_create ("http");
  TCase *tc = tcase_create ("hostile-client");

  peering_port = (guint16) g_random_int_range (20000, 60000);
  tcase_set_timeout (tc, 120);
  tcase_add_test (tc, test_agent_no_socket_left);
  tcase_add_test (tc, test_backend_no_socket_left);
  tcase_add_test (tc, test_agent_body_refused);
  tcase_add_test (tc, test_backend_body_refused);
#ifdef KITH_TEST_UPLOAD
  tcase_add_test (tc, test_agent_upload_body_streamed);
#endif
  tcase_add_test (tc, test_agent_connection_cap);
  tcase_add_test (tc, test_agent_slowloris);
  suite_add_tcase (suite, tc);
  return kith_test_run_suite (suite);
}
