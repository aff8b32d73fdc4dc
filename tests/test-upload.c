/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* test-upload.c — the upload service (docs/architecture.md, "Trust", FIG. 9, claims 1–16) across real
 * processes on loopback: kith-backend (enroll, upload, receipts), connected and offline
 * agents, and bad peers — each a separate process (this binary with --fake-peer MODE)
 * speaking the peering protocol. See docs/security.md for the threat each test covers. */
#include "kith-crypto.h"
#include "kith-receipt.h"
#include "kith-test-backend.h"
#include "kith-test-child.h"
#include "kith-test-endless.h"
#include "kith-test-node.h"
#include "kith-test-offer.h"
#include "kith-test-tls.h"
#include "kith-test-origin.h"
#include "kith-upload-backoff.h"
#include "kith-upload-blacklist.h"
#include "kith-upload-verify.h"
#include "kith-client-upload.h"
#include "kith-client-error.h"

#include <check.h>

#include "kith-test-suite.h"
#include <glib/gstdio.h>
#include <json-glib/json-glib.h>
#include <libsoup/soup.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <gio/gunixfdlist.h>

#define FAKE_NODE "fa4efa4efa4efa4efa4efa4efa4efa4e"

static guint16 test_port;

/* ---- kith-backend as a process ---- */

typedef struct {
  gchar *dir;   /* the backend directory (the test's private temp dir holds it) */
  gchar *root;
  GSubprocess *proc;
  gchar *url;
  gchar *token;
  gboolean plain_http; /* a fake of our own: plain HTTP, see fake_backend_start() */
} Backend;

static void
backend_free (Backend *b)
{
  if (b->proc != NULL) {
    g_subprocess_send_signal (b->proc, SIGTERM);
    g_subprocess_wait (b->proc, NULL, NULL);
    g_object_unref (b->proc);
  }
  if (b->root != NULL) {
    g_autofree gchar *cmd = g_strdup_printf ("rm -rf '%s'", b->root);
    ck_assert_int_eq (system (cmd), 0);
  }
  g_free (b->root);
  g_free (b->dir);
  g_free (b->url);
  g_free (b->token);
  g_free (b);
}
G_DEFINE_AUTOPTR_CLEANUP_FUNC (Backend, backend_free)

/* `kith-backend serve` of @b's directory on @listen with @extra_args (NULL-terminated, may be
 * NULL); waits for its ready line. */
static void
backend_serve (Backend *b, const gchar *listen, const gchar *const *extra_args)
{
  const gchar *bin = g_getenv ("KITH_BACKEND");
  g_autoptr (GError) error = NULL;
  g_autoptr (GPtrArray) argv = g_ptr_array_new ();
  g_autoptr (GDataInputStream) out = NULL;
  g_autofree gchar *line = NULL;

  g_ptr_array_add (argv, (gpointer) bin);
  g_ptr_array_add (argv, (gpointer) "serve");
  g_ptr_array_add (argv, (gpointer) "--listen");
  g_ptr_array_add (argv, (gpointer) listen);
  for (guint i = 0; extra_args != NULL && extra_args[i] != NULL; i++)
    g_ptr_array_add (argv, (gpointer) extra_args[i]);
  g_ptr_array_add (argv, b->dir);
  g_ptr_array_add (argv, NULL);
  b->proc = g_subprocess_newv ((const gchar *const *) argv->pdata, G_SUBPROCESS_FLAGS_STDOUT_PIPE, &error);
  g_assert_no_error (error);
  out = g_data_input_stream_new (g_subprocess_get_stdout_pipe (b->proc));
  line = g_data_input_stream_read_line_utf8 (out, NULL, NULL, &error);
  ck_assert_msg (line != NULL && strstr (line, " on https://") != NULL, "backend ready line: %s", line);
  {
    g_autofree gchar *ca = g_build_filename (b->dir, "ca.pem", NULL);
    kith_test_tls_trust (ca);
  }
  g_free (b->url);
  b->url = g_strdup (strstr (line, " on ") + 4);
}

static void
backend_stop (Backend *b)
{
  g_subprocess_send_signal (b->proc, SIGTERM);
  ck_assert (g_subprocess_wait (b->proc, NULL, NULL));
  g_clear_object (&b->proc);
}

/* `kith-backend init` + `serve` on 127.0.0.1:0 with @extra_args (NULL-terminated, may be NULL). */
static Backend *
backend_start (const gchar *const *extra_args)
{
  const gchar *bin = g_getenv ("KITH_BACKEND");
  g_autoptr (GError) error = NULL;
  g_autofree gchar *token_path = NULL;
  const gchar *init_argv[] = { bin, "init", NULL, NULL };
  Backend *b = g_new0 (Backend, 1);

  ck_assert_msg (bin != NULL, "KITH_BACKEND must name the kith-backend binary");
  b->root = g_dir_make_tmp ("kith-upload-XXXXXX", &error);
  g_assert_no_error (error);
  b->dir = g_build_filename (b->root, "backend", NULL);
  init_argv[2] = b->dir;
  ck_assert_int_eq (kith_test_run (init_argv, NULL, NULL, NULL), 0);
  token_path = g_build_filename (b->dir, "enrollment-token", NULL);
  ck_assert (g_file_get_contents (token_path, &b->token, NULL, NULL));
  g_strstrip (b->token);
  backend_serve (b, "127.0.0.1:0", extra_args);
  return b;
}

static gchar *
backend_ca_path (Backend *b)
{
  return g_build_filename (b->dir, "ca.pem", NULL);
}

static gchar *
read_text (const gchar *path)
{
  gchar *text = NULL;
  /* g_assert: the fake peer process uses it too, outside any check test */
  g_assert_true (g_file_get_contents (path, &text, NULL, NULL));
  return text;
}

/* A POST with @headers ("Name", "value", …, NULL); returns the status and body. */
static guint
http_post (const gchar *url, GBytes *body, const gchar *content_type, GBytes **reply, ...)
{
  g_autoptr (SoupSession) session = kith_test_session_new ();
  g_autoptr (SoupMessage) msg = soup_message_new (SOUP_METHOD_POST, url);
  g_autoptr (GError) error = NULL;
  va_list args;
  const gchar *name;

  va_start (args, reply);
  while ((name = va_arg (args, const gchar *)) != NULL)
    soup_message_headers_replace (soup_message_get_request_headers (msg), name, va_arg (args, const gchar *));
  va_end (args);
  soup_message_set_request_body_from_bytes (msg, content_type, body);
  *reply = soup_session_send_and_read (session, msg, NULL, &error);
  g_assert_no_error (error);
  return soup_message_get_status (msg);
}

static gint64
backend_stat (Backend *b, const gchar *key)
{
  g_autoptr (SoupSession) session = kith_test_session_new ();
  g_autofree gchar *url = g_strconcat (b->url, "/stats", NULL);
  g_autoptr (SoupMessage) msg = soup_message_new (SOUP_METHOD_GET, url);
  g_autoptr (GError) error = NULL;
  g_autoptr (GBytes) body = soup_session_send_and_read (session, msg, NULL, &error);
  g_autoptr (JsonParser) parser = json_parser_new ();

  g_assert_no_error (error);
  ck_assert (json_parser_load_from_data (parser, g_bytes_get_data (body, NULL), (gssize) g_bytes_get_size (body), NULL));
  return json_object_get_int_member (json_node_get_object (json_parser_get_root (parser)), key);
}

static guint
backend_copies_of (Backend *b, GBytes *content)
{
  return kith_test_backend_dir_count_reports (b->dir, content);
}

/* ---- agents ---- */

typedef struct {
  KithTestAgent *agent;
  gchar *outbox;
} Node;

static void
node_free (Node *node)
{
  ck_assert_int_eq (kith_test_agent_stop (node->agent), 0);
  kith_test_agent_free (node->agent);
  g_free (node->outbox);
  g_free (node);
}
G_DEFINE_AUTOPTR_CLEANUP_FUNC (Node, node_free)

/* An agent running peering and upload against @b: connected (enrolls and serves) or offline. */
static Node *
node_start (Backend *b, gboolean offline, const gchar *peering_extra, const gchar *upload_extra)
{
  g_autofree gchar *ca = backend_ca_path (b);
  g_autofree gchar *agent = kith_test_backend_agent_config (b->url, ca, offline ? NULL : b->token);
  g_autofree gchar *peering = kith_test_node_peering_config (test_port, peering_extra);
  g_autofree gchar *config = NULL;
  g_autoptr (GError) error = NULL;
  Node *node = g_new0 (Node, 1);

  config = g_strdup_printf ("%s"
                            "%s"
                            "%s"
                            "[upload]\n"
                            "scan=100ms\n"
                            "retry=300ms\n"
                            "offer-wait=3s\n"
                            "receipt-slack=2s\n"
                            "%s\n",
                            agent, b->plain_http ? "plain-http=true\n" : "", peering,
                            upload_extra != NULL ? upload_extra : "");
  node->agent = kith_test_agent_new ("peering;upload", config);
  ck_assert_msg (kith_test_agent_start (node->agent, &error), "%s", error != NULL ? error->message : "");
  node->outbox = g_build_filename (kith_test_agent_get_dir (node->agent), "state", "upload", "outbox", NULL);
  return node;
}

static gboolean
log_has (gpointer user_data)
{
  gpointer *pair = user_data;
  g_autofree gchar *log = kith_test_agent_get_log (((Node *) pair[0])->agent);
  return strstr (log, pair[1]) != NULL;
}

static void
node_wait_log (Node *node, const gchar *text, guint timeout_ms)
{
  gpointer pair[] = { node, (gpointer) text };
  g_autofree gchar *log = NULL;
  if (kith_test_poll_until (log_has, pair, timeout_ms))
    return;
  log = kith_test_agent_get_log (node->agent);
  ck_abort_msg ("no \"%s\" in the agent's log:\n%s", text, log);
}

/* Drops a report into the outbox the way applications should: write, then rename. */
static void
node_drop_report (Node *node, const gchar *name, GBytes *content)
{
  g_autofree gchar *tmp = g_strdup_printf ("%s/.%s.tmp", node->outbox, name);
  g_autofree gchar *path = g_build_filename (node->outbox, name, NULL);

  ck_assert (g_file_set_contents (tmp, g_bytes_get_data (content, NULL), (gssize) g_bytes_get_size (content), NULL));
  ck_assert_int_eq (g_rename (tmp, path), 0);
}

static gboolean
outbox_is_empty (gpointer user_data)
{
  Node *node = user_data;
  g_autoptr (GDir) dir = g_dir_open (node->outbox, 0, NULL);
  const gchar *name;

  while (dir != NULL && (name = g_dir_read_name (dir)) != NULL) {
    if (name[0] != '.')
      return FALSE;
  }
  return TRUE;
}

/* The number of receipts @node keeps, each checked against the trust anchor. */
static guint
node_receipts (Node *node, Backend *b)
{
  g_autofree gchar *dir_path = g_build_filename (kith_test_agent_get_dir (node->agent), "state", "upload", "receipts",
                                                 NULL);
  g_autofree gchar *ca_path = backend_ca_path (b);
  g_autofree gchar *anchor = read_text (ca_path);
  g_autoptr (GDir) dir = g_dir_open (dir_path, 0, NULL);
  const gchar *name;
  guint n = 0;

  while (dir != NULL && (name = g_dir_read_name (dir)) != NULL) {
    g_autofree gchar *path = g_build_filename (dir_path, name, NULL);
    g_autofree gchar *text = read_text (path);
    g_autoptr (JsonParser) parser = json_parser_new ();
    g_autoptr (GBytes) doc = g_bytes_new (text, strlen (text));
    g_autofree gchar *reason = NULL;
    JsonObject *receipt;
    KithUploadExpect expect = { 0 };
    /* the receipt's own fields, then the signature over them */
    g_autoptr (JsonParser) inner = json_parser_new ();
    ck_assert (json_parser_load_from_data (parser, text, -1, NULL));
    ck_assert (json_parser_load_from_data (
        inner, json_object_get_string_member (json_node_get_object (json_parser_get_root (parser)), "receipt"), -1,
        NULL));
    receipt = json_node_get_object (json_parser_get_root (inner));
    expect.upload_id = json_object_get_string_member (receipt, "upload_id");
    expect.sha256 = json_object_get_string_member (receipt, "sha256");
    expect.size = (guint64) json_object_get_int_member (receipt, "size");
    expect.requester = kith_test_agent_get_node_id (node->agent);
    ck_assert_msg (kith_upload_verify_receipt (anchor, doc, &expect, g_get_real_time () / G_USEC_PER_SEC, NULL, &reason),
                   "kept receipt %s does not verify: %s", name, reason);
    n++;
  }
  return n;
}

/* The reason @node blacklisted @bad for, or NULL. */
static gchar *
node_blacklist_reason (Node *node, const gchar *bad)
{
  g_autofree gchar *path = g_build_filename (kith_test_agent_get_dir (node->agent), "state", "upload",
                                             "blacklist.json", NULL);
  g_autoptr (KithUploadBlacklist) list = NULL;
  g_autoptr (GPtrArray) live = NULL;

  if (!g_file_test (path, G_FILE_TEST_EXISTS))
    return NULL;
  list = kith_upload_blacklist_new (path, 3600);
  live = kith_upload_blacklist_list (list, g_get_real_time () / G_USEC_PER_SEC);
  for (guint i = 0; i < live->len; i++) {
    KithBlacklistEntry *entry = g_ptr_array_index (live, i);
    if (g_strcmp0 (entry->node, bad) == 0)
      return g_strdup (entry->reason);
  }
  return NULL;
}

/* ---- pure pieces: the blacklist file and the receipt time T ---- */

START_TEST (test_blacklist_persists_and_expires)
{
  g_autofree gchar *dir = g_dir_make_tmp ("kith-blacklist-XXXXXX", NULL);
  g_autofree gchar *path = g_build_filename (dir, "blacklist.json", NULL);
  g_autoptr (GError) error = NULL;
  g_autofree gchar *header = NULL;
  gint64 now = 1000000;

  {
    g_autoptr (KithUploadBlacklist) list = kith_upload_blacklist_new (path, 60);
    ck_assert (kith_upload_blacklist_add (list, FAKE_NODE, NULL, "no receipt; within=T", now, &error));
    g_assert_no_error (error);
    ck_assert (kith_upload_blacklist_contains (list, FAKE_NODE, "127.0.0.1:5", now + 59));
    ck_assert (!kith_upload_blacklist_contains (list, FAKE_NODE, NULL, now + 60));
    /* an entry for one source only */
    ck_assert (kith_upload_blacklist_add (list, "0000000000000000000000000000000b", "127.0.0.1:9", "no certificate", now,
                                          &error));
    ck_assert (kith_upload_blacklist_contains (list, "0000000000000000000000000000000b", "127.0.0.1:9", now));
    ck_assert (!kith_upload_blacklist_contains (list, "0000000000000000000000000000000b", "127.0.0.1:10", now));
  }
  /* a new process reads it back; the header for the next report escapes the separators */
  {
    g_autoptr (KithUploadBlacklist) list = kith_upload_blacklist_new (path, 60);
    ck_assert (kith_upload_blacklist_contains (list, FAKE_NODE, NULL, now + 1));
    ck_assert (!kith_upload_blacklist_contains (list, "0000000000000000000000000000000b", "127.0.0.1:10", now + 1));
    ck_assert (kith_upload_blacklist_contains (list, "0000000000000000000000000000000b", "127.0.0.1:9", now + 1));
    header = kith_upload_blacklist_to_header (list, now + 1);
    ck_assert_str_eq (header, FAKE_NODE "=no receipt  within T;0000000000000000000000000000000b@127.0.0.1:9=no certificate");
    ck_assert_ptr_null (kith_upload_blacklist_to_header (list, now + 61));
  }
  /* a damaged file is replaced, not fatal */
  ck_assert (g_file_set_contents (path, "{not json", -1, NULL));
  {
    g_autoptr (KithUploadBlacklist) list = kith_upload_blacklist_new (path, 60);
    ck_assert (!kith_upload_blacklist_contains (list, FAKE_NODE, NULL, now + 1));
  }
  g_unlink (path);
  g_rmdir (dir);
}
END_TEST

/* The blacklist is fed by the network: it holds at most KITH_UPLOAD_BLACKLIST_MAX entries,
 * the newest, whether read from a larger file or grown one offer at a time. */
START_TEST (test_blacklist_bounded)
{
  g_autofree gchar *dir = g_dir_make_tmp ("kith-blacklist-XXXXXX", NULL);
  g_autofree gchar *path = g_build_filename (dir, "blacklist.json", NULL);
  g_autoptr (GString) text = g_string_new ("[");
  g_autoptr (GError) error = NULL;
  g_autoptr (KithUploadBlacklist) list = NULL;
  g_autoptr (GPtrArray) live = NULL;
  const guint total = KITH_UPLOAD_BLACKLIST_MAX + 100;
  gint64 now = 2000000;

  for (guint i = 0; i < total; i++)
    g_string_append_printf (text, "%s{\"node\": \"%032x\", \"reason\": \"bad\", \"since\": %u, \"until\": %" G_GINT64_FORMAT "}",
                            i > 0 ? "," : "", i, 1000 + i, now + 3600);
  g_string_append (text, "]");
  ck_assert (g_file_set_contents (path, text->str, (gssize) text->len, NULL));
  list = kith_upload_blacklist_new (path, 3600);
  live = kith_upload_blacklist_list (list, now);
  ck_assert_uint_eq (live->len, KITH_UPLOAD_BLACKLIST_MAX);
  ck_assert (!kith_upload_blacklist_contains (list, "00000000000000000000000000000000", NULL, now));
  ck_assert (kith_upload_blacklist_contains (list, "00000000000000000000000000000063", NULL, now) == FALSE);
  ck_assert (kith_upload_blacklist_contains (list, "00000000000000000000000000000064", NULL, now));
  g_clear_pointer (&live, g_ptr_array_unref);
  /* one more: the oldest goes, the new one is in */
  ck_assert (kith_upload_blacklist_add (list, FAKE_NODE, NULL, "worse", now, &error));
  g_assert_no_error (error);
  live = kith_upload_blacklist_list (list, now);
  ck_assert_uint_eq (live->len, KITH_UPLOAD_BLACKLIST_MAX);
  ck_assert (kith_upload_blacklist_contains (list, FAKE_NODE, NULL, now));
  ck_assert (!kith_upload_blacklist_contains (list, "00000000000000000000000000000064", NULL, now));
  ck_assert (kith_upload_blacklist_contains (list, "00000000000000000000000000000065", NULL, now));
  g_unlink (path);
  g_rmdir (dir);
}
END_TEST

/* A fault backs a responder off for seconds, doubling per fault in a row up to the cap, and
 * its first delivery forgets them; the table holds at most its cap of nodes. */
START_TEST (test_backoff)
{
  g_autoptr (KithUploadBackoff) backoff = kith_upload_backoff_new (2000, 10000, 3);
  gint64 t = 1000000;

  ck_assert (!kith_upload_backoff_active (backoff, FAKE_NODE, t));
  ck_assert_uint_eq (kith_upload_backoff_fault (backoff, FAKE_NODE, t), 2000);
  ck_assert (kith_upload_backoff_active (backoff, FAKE_NODE, t + 1999 * 1000));
  ck_assert (!kith_upload_backoff_active (backoff, FAKE_NODE, t + 2000 * 1000));
  ck_assert_uint_eq (kith_upload_backoff_fault (backoff, FAKE_NODE, t), 4000);
  ck_assert_uint_eq (kith_upload_backoff_fault (backoff, FAKE_NODE, t), 8000);
  ck_assert_uint_eq (kith_upload_backoff_fault (backoff, FAKE_NODE, t), 10000);
  ck_assert_uint_eq (kith_upload_backoff_fault (backoff, FAKE_NODE, t), 10000);
  kith_upload_backoff_clear (backoff, FAKE_NODE);
  ck_assert (!kith_upload_backoff_active (backoff, FAKE_NODE, t));
  ck_assert_uint_eq (kith_upload_backoff_fault (backoff, FAKE_NODE, t), 2000);
  /* bounded: the fourth node evicts the one that started first */
  kith_upload_backoff_fault (backoff, "0000000000000000000000000000000b", t + 1);
  kith_upload_backoff_fault (backoff, "0000000000000000000000000000000c", t + 2);
  kith_upload_backoff_fault (backoff, "0000000000000000000000000000000d", t + 3);
  ck_assert_uint_eq (kith_upload_backoff_get_count (backoff), 3);
  ck_assert_uint_eq (kith_upload_backoff_count_active (backoff, t + 4), 3);
  ck_assert_uint_eq (kith_upload_backoff_count_active (backoff, t + 3 + 2000 * 1000), 0);
  ck_assert (!kith_upload_backoff_active (backoff, FAKE_NODE, t + 4));
  ck_assert (kith_upload_backoff_active (backoff, "0000000000000000000000000000000d", t + 4));
}
END_TEST

START_TEST (test_receipt_time)
{
  /* 1 MB at 100 kB/s through two hops, a responder that uploads every 30 s, 10 s slack */
  ck_assert_uint_eq (kith_upload_receipt_time_ms (1000000, 100000, 30000, 10000), 10000 + 20000 + 30000);
  /* larger reports and slower links wait longer; an unknown speed adds nothing */
  ck_assert_uint_gt (kith_upload_receipt_time_ms (2000000, 100000, 0, 0),
                     kith_upload_receipt_time_ms (1000000, 100000, 0, 0));
  ck_assert_uint_gt (kith_upload_receipt_time_ms (1000000, 50000, 0, 0),
                     kith_upload_receipt_time_ms (1000000, 100000, 0, 0));
  ck_assert_uint_eq (kith_upload_receipt_time_ms (1000000, 0, 0, 5), 5);
}
END_TEST

static gboolean
backend_enrolled_twice (gpointer user_data)
{
  return backend_stat (user_data, "enrolled") >= 2;
}

/* A node renews its certificate at two thirds of its validity, without a restart. */
START_TEST (test_renews_before_expiry)
{
  static const gchar *const args[] = { "--cert-validity", "3s", NULL };
  g_autoptr (Backend) b = backend_start (args);
  g_autoptr (Node) c = node_start (b, FALSE, NULL, NULL);

  node_wait_log (c, "enrolled", 10000);
  ck_assert_msg (kith_test_poll_until (backend_enrolled_twice, b, 10000),
                 "the node did not renew its certificate");
}
END_TEST


/* ---- backend endpoints ---- */

static GBytes *
enroll_body (const gchar *token, const gchar *public_key, const gchar *node_id, const gchar *alias)
{
  g_autoptr (JsonBuilder) builder = json_builder_new ();
  g_autoptr (JsonGenerator) gen = json_generator_new ();
  g_autoptr (JsonNode) root = NULL;
  gsize len = 0;
  gchar *text;

  json_builder_begin_object (builder);
  json_builder_set_member_name (builder, "token");
  json_builder_add_string_value (builder, token);
  json_builder_set_member_name (builder, "public_key");
  json_builder_add_string_value (builder, public_key);
  json_builder_set_member_name (builder, "node_id");
  json_builder_add_string_value (builder, node_id);
  json_builder_set_member_name (builder, "alias");
  json_builder_add_string_value (builder, alias);
  json_builder_end_object (builder);
  root = json_builder_get_root (builder);
  json_generator_set_root (gen, root);
  text = json_generator_to_data (gen, &len);
  return g_bytes_new_take (text, len);
}

START_TEST (test_enroll)
{
  static const gchar *const args[] = { "--cert-validity", "2h", NULL };
  g_autoptr (Backend) b = backend_start (args);
  g_autofree gchar *url = g_strconcat (b->url, "/enroll", NULL);
  g_autofree gchar *key = kith_crypto_key_generate (NULL);
  g_autofree gchar *pub = kith_crypto_key_get_public (key, NULL);
  g_autofree gchar *ca_path = backend_ca_path (b);
  g_autofree gchar *anchor = read_text (ca_path);
  g_autoptr (GBytes) bad = enroll_body ("00000000000000000000000000000000", pub, FAKE_NODE, "http://127.0.0.1:1/upload/");
  g_autoptr (GBytes) good = enroll_body (b->token, pub, FAKE_NODE, "http://127.0.0.1:1/upload/");
  g_autoptr (GBytes) reply = NULL;
  g_autoptr (JsonParser) parser = json_parser_new ();
  g_autoptr (KithPublicKey) cert_key = NULL;
  g_autoptr (GError) error = NULL;
  g_autofree gchar *node = NULL;
  g_autofree gchar *tasks = NULL;
  g_auto (GStrv) sans = NULL;
  const gchar *cert;
  gint64 now = g_get_real_time () / G_USEC_PER_SEC;
  gint64 expires;

  ck_assert_uint_eq (http_post (url, bad, "application/json", &reply, NULL), 403);
  ck_assert (g_strstr_len (g_bytes_get_data (reply, NULL), (gssize) g_bytes_get_size (reply), "wrong enrollment token") !=
             NULL);
  g_clear_pointer (&reply, g_bytes_unref);
  ck_assert_uint_eq (http_post (url, good, "application/json", &reply, NULL), 200);
  ck_assert (json_parser_load_from_data (parser, g_bytes_get_data (reply, NULL), (gssize) g_bytes_get_size (reply), NULL));
  cert = json_object_get_string_member (json_node_get_object (json_parser_get_root (parser)), "certificate");
  expires = json_object_get_int_member (json_node_get_object (json_parser_get_root (parser)), "expires");
  ck_assert_int_ge (expires, now + 7200 - 5);
  ck_assert_int_le (expires, now + 7200 + 5);
  cert_key = kith_crypto_verify_cert (cert, anchor, now, &error);
  g_assert_no_error (error);
  /* and no longer valid once its 2 h have passed */
  ck_assert_ptr_null (kith_crypto_verify_cert (cert, anchor, now + 7300, NULL));
  node = kith_crypto_cert_get_extension (cert, KITH_CRYPTO_OID_NODE_ID, NULL);
  tasks = kith_crypto_cert_get_extension (cert, KITH_CRYPTO_OID_TASKS, NULL);
  sans = kith_crypto_cert_get_san_uris (cert, NULL);
  ck_assert_str_eq (node, FAKE_NODE);
  ck_assert_str_eq (tasks, "upload,relay,serve");
  ck_assert_str_eq (sans[0], "http://127.0.0.1:1/upload/");
  /* small enough for a task response packet: base64 DER + signature + alias */
  {
    g_autofree gchar *b64 = kith_peer_cert_base64_from_pem (cert);
    ck_assert_uint_lt (strlen (b64), 900);
  }
  ck_assert_int_eq (backend_stat (b, "enrolled"), 1);
}
END_TEST

START_TEST (test_backend_receipts)
{
  g_autoptr (Backend) b = backend_start (NULL);
  g_autofree gchar *url = g_strconcat (b->url, "/upload", NULL);
  g_autofree gchar *ca_path = backend_ca_path (b);
  g_autofree gchar *anchor = read_text (ca_path);
  g_autoptr (GBytes) report = kith_test_make_content (20000, 5);
  g_autofree gchar *sha = kith_test_sha256 (report);
  const gchar *id = "0123456789abcdef0123456789abcdef";
  g_autoptr (GBytes) first = NULL;
  g_autoptr (GBytes) second = NULL;
  g_autoptr (GBytes) refused = NULL;
  g_autofree gchar *reason = NULL;
  g_autofree gchar *text = NULL;
  KithUploadExpect expect = { id, sha, 20000, FAKE_NODE };
  KithUploadExpect other = { id, sha, 20000, "0000000000000000000000000000000a" };
  gint64 now = g_get_real_time () / G_USEC_PER_SEC;

  ck_assert_uint_eq (http_post (url, report, "application/octet-stream", &first, "X-Kith-Upload-Id", id,
                                "X-Kith-Node", FAKE_NODE, NULL),
                     200);
  ck_assert_msg (kith_upload_verify_receipt (anchor, first, &expect, now, &text, &reason), "%s", reason);
  ck_assert (strstr (text, "\"requester\"") != NULL);
  /* the same upload id again: stored once, the same receipt */
  ck_assert_uint_eq (http_post (url, report, "application/octet-stream", &second, "X-Kith-Upload-Id", id,
                                "X-Kith-Node", FAKE_NODE, NULL),
                     200);
  ck_assert (g_bytes_equal (first, second));
  ck_assert_int_eq (backend_stat (b, "uploads"), 1);
  ck_assert_uint_eq (backend_copies_of (b, report), 1);
  /* a receipt is for one requester only */
  g_clear_pointer (&reason, g_free);
  ck_assert (!kith_upload_verify_receipt (anchor, first, &other, now, NULL, &reason));
  ck_assert_str_eq (reason, "receipt for another requester");
  /* no id, no report */
  ck_assert_uint_eq (http_post (url, report, "application/octet-stream", &refused, "X-Kith-Node", FAKE_NODE, NULL),
                     400);
}
END_TEST

/* ---- the requesting and serving sides ---- */

START_TEST (test_direct_when_online)
{
  g_autoptr (Backend) b = backend_start (NULL);
  g_autoptr (Node) n = node_start (b, FALSE, NULL, "serve=false");
  g_autoptr (GBytes) report = kith_test_make_content (50000, 11);

  node_drop_report (n, "report-1.txt", report);
  ck_assert_msg (kith_test_poll_until (outbox_is_empty, n, 20000), "report not delivered");
  ck_assert_uint_eq (node_receipts (n, b), 1);
  ck_assert_uint_eq (backend_copies_of (b, report), 1);
  node_wait_log (n, "delivered directly", 5000);
  {
    g_autoptr (SoupSession) session = kith_test_session_new ();
    g_autofree gchar *url = g_strconcat (kith_test_agent_get_http_url (n->agent), "/metrics", NULL);
    g_autoptr (SoupMessage) msg = soup_message_new (SOUP_METHOD_GET, url);
    g_autoptr (GBytes) body = soup_session_send_and_read (session, msg, NULL, NULL);
    g_autofree gchar *text = g_strndup (g_bytes_get_data (body, NULL), g_bytes_get_size (body));
    ck_assert_msg (strstr (text, "kith_upload_delivered_total{via=\"direct\"} 1") != NULL, "metrics:\n%s", text);
  }
}
END_TEST

static gboolean
outbox_has_only_link (gpointer user_data)
{
  Node *node = user_data;
  g_autoptr (GDir) dir = g_dir_open (node->outbox, 0, NULL);
  const gchar *name;
  guint others = 0;

  while (dir != NULL && (name = g_dir_read_name (dir)) != NULL) {
    if (name[0] != '.' && g_strcmp0 (name, "link.txt") != 0)
      others++;
  }
  return others == 0;
}

/* An outbox entry that is a symbolic link (to a file the agent may read and its callers may
 * not) is refused with a message and never sent; a report beside it goes as usual. */
START_TEST (test_outbox_refuses_symlinks)
{
  g_autoptr (Backend) b = backend_start (NULL);
  g_autoptr (Node) n = node_start (b, FALSE, NULL, "serve=false");
  g_autoptr (GBytes) secret = kith_test_make_content (4000, 91);
  g_autoptr (GBytes) report = kith_test_make_content (5000, 92);
  g_autofree gchar *secret_path = g_build_filename (kith_test_agent_get_dir (n->agent), "secret", NULL);
  g_autofree gchar *link_path = g_build_filename (n->outbox, "link.txt", NULL);

  ck_assert (g_file_set_contents (secret_path, g_bytes_get_data (secret, NULL), (gssize) g_bytes_get_size (secret),
                                  NULL));
  ck_assert_int_eq (symlink (secret_path, link_path), 0);
  node_drop_report (n, "plain.txt", report);
  ck_assert_msg (kith_test_poll_until (outbox_has_only_link, n, 20000),
                 "the regular report was not delivered");
  node_wait_log (n, "link.txt is a symbolic link: refused", 10000);
  ck_assert_uint_eq (backend_copies_of (b, report), 1);
  ck_assert_uint_eq (backend_copies_of (b, secret), 0);
  ck_assert (g_file_test (link_path, G_FILE_TEST_IS_SYMLINK));
  ck_assert_int_eq (backend_stat (b, "uploads"), 1);
}
END_TEST

/* Two nodes send byte-identical reports under the same name: the upload id names the
 * requester, so each gets its own receipt and the backend keeps one copy per node. */
START_TEST (test_same_report_two_nodes)
{
  g_autoptr (Backend) b = backend_start (NULL);
  g_autoptr (Node) n1 = node_start (b, FALSE, NULL, "serve=false");
  g_autoptr (Node) n2 = node_start (b, FALSE, NULL, "serve=false");
  g_autoptr (GBytes) report = kith_test_make_content (6000, 93);

  node_drop_report (n1, "daily-scan.xml", report);
  ck_assert_msg (kith_test_poll_until (outbox_is_empty, n1, 20000),
                 "the first node's report was not delivered");
  node_drop_report (n2, "daily-scan.xml", report);
  ck_assert_msg (kith_test_poll_until (outbox_is_empty, n2, 20000),
                 "the second node's report was not delivered");
  ck_assert_uint_eq (node_receipts (n1, b), 1);
  ck_assert_uint_eq (node_receipts (n2, b), 1);
  ck_assert_uint_eq (backend_copies_of (b, report), 2);
  ck_assert_int_eq (backend_stat (b, "uploads"), 2);
}
END_TEST

static gboolean
backend_has_report (gpointer user_data)
{
  gpointer *pair = user_data;
  return backend_copies_of (pair[0], pair[1]) > 0;
}

START_TEST (test_backend_drops_receipts)
{
  static const gchar *const args[] = { "--drop-receipts", NULL };
  g_autoptr (Backend) b = backend_start (args);
  g_autoptr (Node) n = node_start (b, FALSE, NULL, "serve=false\noffer-wait=200ms");
  g_autoptr (GBytes) report = kith_test_make_content (3000, 12);
  gpointer pair[] = { b, report };

  node_drop_report (n, "kept.txt", report);
  ck_assert (kith_test_poll_until (backend_has_report, pair, 20000));
  /* three attempts without a receipt (direct, peers, direct) */
  node_wait_log (n, "HTTP 202 without a receipt", 20000);
  node_wait_log (n, "no trusted peer offered", 20000);
  ck_assert (!outbox_is_empty (n));
  ck_assert_uint_eq (node_receipts (n, b), 0);
  ck_assert_uint_eq (backend_copies_of (b, report), 1);
  ck_assert_int_eq (backend_stat (b, "uploads"), 1);
}
END_TEST

START_TEST (test_honest_peer_delivers)
{
  g_autoptr (Backend) b = backend_start (NULL);
  g_autoptr (Node) c = node_start (b, FALSE, NULL, NULL);
  g_autoptr (Node) o = NULL;
  g_autoptr (GBytes) report = kith_test_make_content (200000, 21);
  g_autofree gchar *key_path = NULL;
  GStatBuf st;

  node_wait_log (c, "enrolled", 10000);
  key_path = g_build_filename (kith_test_agent_get_dir (c->agent), "state", "upload", "node-key.pem", NULL);
  ck_assert_int_eq (g_stat (key_path, &st), 0);
  ck_assert_int_eq (st.st_mode & 0777, 0600);
  o = node_start (b, TRUE, NULL, NULL);
  node_drop_report (o, "scan-result.xml", report);
  ck_assert_msg (kith_test_poll_until (outbox_is_empty, o, 30000), "report not delivered through the peer");
  ck_assert_uint_eq (node_receipts (o, b), 1);
  ck_assert_uint_eq (backend_copies_of (b, report), 1);
  node_wait_log (o, "delivered through", 5000);
  /* the offline node never contacted the backend: only C did (its enrollment and the upload) */
  ck_assert_int_eq (backend_stat (b, "uploads"), 1);
}
END_TEST

static gboolean
status_not_serving (gpointer user_data)
{
  g_autofree gchar *log = kith_test_agent_get_log (((Node *) user_data)->agent);
  return strstr (log, "backend unreachable") != NULL || strstr (log, "cannot enroll") != NULL;
}

/* A connected node offers uploads only while the backend answers it: with the backend
 * gone, an offline node's request finds no taker and its report stays; once the backend is
 * back (same address) the peer re-enrolls and the report goes through. */
START_TEST (test_serves_only_while_backend_reachable)
{
  static const gchar *const args[] = { "--cert-validity", "3s", NULL };
  g_autoptr (Backend) b = backend_start (args);
  g_autoptr (Node) c = node_start (b, FALSE, NULL, NULL);
  g_autoptr (Node) o = NULL;
  g_autoptr (GBytes) report = kith_test_make_content (5000, 61);
  g_autofree gchar *listen = NULL;

  node_wait_log (c, "enrolled", 10000);
  listen = g_strdup (b->url + strlen ("https://"));
  backend_stop (b);
  /* its renewal (at 2 s) fails: it stops offering */
  ck_assert_msg (kith_test_poll_until (status_not_serving, c, 15000),
                 "the peer did not notice the backend was gone");
  o = node_start (b, TRUE, NULL, "offer-wait=1s");
  node_drop_report (o, "waiting.bin", report);
  node_wait_log (o, "no trusted peer offered", 15000);
  ck_assert (!outbox_is_empty (o));
  backend_serve (b, listen, args);
  ck_assert_msg (kith_test_poll_until (outbox_is_empty, o, 30000), "not delivered once the backend was back");
  ck_assert_uint_eq (backend_copies_of (b, report), 1);
  ck_assert_uint_eq (node_receipts (o, b), 1);
}
END_TEST

/* The serving side's door: POST only, both headers, at most max-size bytes; the agent's
 * other routes are untouched. (LAN-only cannot be shown on loopback: loopback is the LAN.) */
START_TEST (test_alias_refuses)
{
  g_autoptr (Backend) b = backend_start (NULL);
  g_autoptr (Node) c = node_start (b, FALSE, NULL, "max-size=1000");
  g_autofree gchar *url = NULL;
  g_autoptr (GBytes) small = kith_test_make_content (500, 71);
  g_autoptr (GBytes) big = kith_test_make_content (2000, 72);
  g_autoptr (GBytes) r1 = NULL;
  g_autoptr (GBytes) r2 = NULL;
  g_autoptr (GBytes) r3 = NULL;
  const gchar *id = "00112233445566778899aabbccddeeff";

  node_wait_log (c, "enrolled", 10000);
  url = g_strconcat (kith_test_agent_get_http_url (c->agent), "/upload/1", NULL);
  ck_assert_uint_eq (http_post (url, small, "application/octet-stream", &r1, NULL), 400);
  ck_assert_uint_eq (http_post (url, big, "application/octet-stream", &r2, "X-Kith-Upload-Id", id, "X-Kith-Node",
                                FAKE_NODE, NULL),
                     413);
  ck_assert_uint_eq (backend_copies_of (b, big), 0);
  /* a well-formed one is forwarded and answered with the backend's receipt */
  ck_assert_uint_eq (http_post (url, small, "application/octet-stream", &r3, "X-Kith-Upload-Id", id, "X-Kith-Node",
                                FAKE_NODE, NULL),
                     200);
  ck_assert (g_strstr_len (g_bytes_get_data (r3, NULL), (gssize) g_bytes_get_size (r3), "\"receipt\"") != NULL);
  ck_assert_uint_eq (backend_copies_of (b, small), 1);
}
END_TEST

/* ---- the kith CLI as a process ---- */

/* kith_test_run_cli() on @node with the arguments after @out, up to NULL; prints the CLI's
 * stderr when it fails. */
static gint
run_kith (Node *node, gchar **out, ...)
{
  g_autoptr (GPtrArray) args = g_ptr_array_new ();
  g_autofree gchar *err = NULL;
  va_list ap;
  const gchar *arg;
  gint rc;

  va_start (ap, out);
  while ((arg = va_arg (ap, const gchar *)) != NULL)
    g_ptr_array_add (args, (gpointer) arg);
  va_end (ap);
  g_ptr_array_add (args, NULL);
  rc = kith_test_run_cli (node->agent, (const gchar *const *) args->pdata, NULL, out, &err);
  if (rc != 0)
    g_printerr ("kith failed (%d): %s\n", rc, err);
  return rc;
}

static JsonNode *
parse_json (const gchar *text)
{
  g_autoptr (JsonParser) parser = json_parser_new ();
  ck_assert_msg (json_parser_load_from_data (parser, text, -1, NULL), "not JSON: %s", text);
  return json_node_copy (json_parser_get_root (parser));
}

/* `kith upload FILE` waits for the receipt and prints it; `kith upload status` shows the
 * delivery; D-Bus Upload(h, a{sv}) put the report in the outbox under its file name. */
START_TEST (test_cli_upload)
{
  g_autoptr (Backend) b = backend_start (NULL);
  g_autoptr (Node) n = node_start (b, FALSE, NULL, "serve=false");
  g_autoptr (GBytes) report = kith_test_make_content (7000, 51);
  g_autofree gchar *path = g_build_filename (kith_test_agent_get_dir (n->agent), "cli-report.txt", NULL);
  g_autofree gchar *sha = kith_test_sha256 (report);
  g_autofree gchar *out = NULL;
  g_autofree gchar *status = NULL;
  g_autoptr (JsonNode) receipt = NULL;
  g_autoptr (JsonNode) st = NULL;
  JsonObject *fields;

  ck_assert (g_file_set_contents (path, g_bytes_get_data (report, NULL), (gssize) g_bytes_get_size (report), NULL));
  ck_assert_int_eq (run_kith (n, &out, "upload", path, "--json", NULL), 0);
  receipt = parse_json (out);
  fields = json_node_get_object (receipt);
  ck_assert_str_eq (json_object_get_string_member (fields, "sha256"), sha);
  ck_assert_int_eq (json_object_get_int_member (fields, "size"), 7000);
  ck_assert_str_eq (json_object_get_string_member (fields, "requester"), kith_test_agent_get_node_id (n->agent));
  ck_assert_uint_eq (node_receipts (n, b), 1);
  ck_assert_uint_eq (backend_copies_of (b, report), 1);
  ck_assert_int_eq (run_kith (n, &status, "upload", "status", "--json", NULL), 0);
  st = parse_json (status);
  ck_assert_int_eq (json_object_get_int_member (json_node_get_object (st), "delivered"), 1);
  ck_assert_uint_eq (json_array_get_length (json_object_get_array_member (json_node_get_object (st), "pending")), 0);
}
END_TEST

/* The entry of @name in `kith upload status --json`, or NULL. */
static JsonObject *
status_report (JsonNode *status, const gchar *name)
{
  JsonArray *pending = json_object_get_array_member (json_node_get_object (status), "pending");

  for (guint i = 0; i < json_array_get_length (pending); i++) {
    JsonObject *report = json_array_get_object_element (pending, i);
    if (g_strcmp0 (json_object_get_string_member (report, "name"), name) == 0)
      return report;
  }
  return NULL;
}

/* A report the backend cannot take shows why in `kith upload status` (text and JSON);
 * `kith upload cancel NAME` withdraws it: it leaves the outbox and, once the backend is
 * back, is never delivered (a later report is, so the agent did try). An unknown name is
 * the agent's NotFound: exit 1 from the CLI, KITH_CLIENT_ERROR_NOT_FOUND from libkith. */
START_TEST (test_cli_cancel)
{
  g_autoptr (Backend) b = backend_start (NULL);
  /* retry=60s (it overrides node_start's): the status is read between the first attempt
   * (direct, then peers) and the next */
  g_autoptr (Node) n = node_start (b, FALSE, NULL, "serve=false\noffer-wait=300ms\nretry=60s");
  g_autoptr (GBytes) doomed = kith_test_make_content (4000, 81);
  g_autoptr (GBytes) later = kith_test_make_content (4100, 82);
  g_autoptr (KithClient) client = kith_client_new ();
  g_autoptr (GError) error = NULL;
  g_autofree gchar *listen = NULL;
  g_autofree gchar *text = NULL;
  g_autofree gchar *json = NULL;
  g_autofree gchar *cancelled = NULL;
  g_autofree gchar *unknown = NULL;
  g_autofree gchar *after = NULL;
  g_autofree gchar *doomed_path = NULL;
  g_autoptr (JsonNode) st = NULL;
  g_autoptr (JsonNode) st_after = NULL;
  g_autoptr (JsonNode) err = NULL;
  JsonObject *report, *fields;

  listen = g_strdup (b->url + strlen ("https://"));
  backend_stop (b);
  node_drop_report (n, "doomed.bin", doomed);
  node_wait_log (n, "report doomed.bin not delivered", 20000);

  ck_assert_int_eq (run_kith (n, &json, "upload", "status", "--json", NULL), 0);
  st = parse_json (json);
  report = status_report (st, "doomed.bin");
  ck_assert_msg (report != NULL, "doomed.bin not pending: %s", json);
  ck_assert_int_ge (json_object_get_int_member (report, "attempts"), 1);
  ck_assert_msg (json_object_get_string_member (report, "last-error") != NULL &&
                     strstr (json_object_get_string_member (report, "last-error"), "backend unreachable") != NULL,
                 "no last error in: %s", json);
  ck_assert_int_eq (run_kith (n, &text, "upload", "status", NULL), 0);
  ck_assert_msg (strstr (text, "doomed.bin") != NULL && strstr (text, "last error: backend unreachable") != NULL,
                 "upload status does not say why: %s", text);

  ck_assert_int_eq (run_kith (n, &cancelled, "upload", "cancel", "doomed.bin", NULL), 0);
  doomed_path = g_build_filename (n->outbox, "doomed.bin", NULL);
  ck_assert (!g_file_test (doomed_path, G_FILE_TEST_EXISTS));
  ck_assert_int_eq (run_kith (n, &after, "upload", "status", "--json", NULL), 0);
  st_after = parse_json (after);
  ck_assert_msg (status_report (st_after, "doomed.bin") == NULL, "still pending after cancel: %s", after);

  /* cancelling it again, or any unknown name: the agent's NotFound */
  ck_assert_int_eq (run_kith (n, &unknown, "upload", "cancel", "doomed.bin", "--json", NULL), 1);
  err = parse_json (unknown);
  fields = json_object_get_object_member (json_node_get_object (err), "error");
  ck_assert_str_eq (json_object_get_string_member (fields, "name"), "not-found");
  ck_assert_int_eq (json_object_get_int_member (fields, "exit-status"), 1);
  kith_client_set_address (client, kith_test_agent_get_dbus_address (n->agent));
  ck_assert_msg (kith_client_connect (client, NULL, &error), "%s", error != NULL ? error->message : "");
  ck_assert (!kith_client_upload_cancel (client, "no-such-report.bin", NULL, &error));
  ck_assert_msg (g_error_matches (error, KITH_CLIENT_ERROR, KITH_CLIENT_ERROR_NOT_FOUND), "%s: %s",
                 g_quark_to_string (error->domain), error->message);

  /* the backend is back: a later report goes through, the cancelled one never does */
  backend_serve (b, listen, NULL);
  node_drop_report (n, "later.bin", later);
  ck_assert_msg (kith_test_poll_until (outbox_is_empty, n, 30000), "the later report was not delivered");
  ck_assert_uint_eq (backend_copies_of (b, later), 1);
  ck_assert_uint_eq (backend_copies_of (b, doomed), 0);
}
END_TEST

/* ---- Upload(fd) against a writer that never writes ---- */

typedef struct {
  gchar *upload_id;
  GError *error;
  gboolean done;
} UploadCall;

static void
upload_call_cb (GObject *source, GAsyncResult *res, gpointer user_data)
{
  UploadCall *call = user_data;
  g_autoptr (GVariant) reply =
      g_dbus_connection_call_with_unix_fd_list_finish (G_DBUS_CONNECTION (source), NULL, res, &call->error);

  if (reply != NULL)
    g_variant_get (reply, "(s)", &call->upload_id);
  call->done = TRUE;
}

static gboolean
upload_call_done (gpointer user_data)
{
  return ((UploadCall *) user_data)->done;
}

/* The agent behind @bus answers GetStatus within 5 s. */
static void
assert_answers_dbus (GDBusConnection *bus, const gchar *when)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GVariant) status = g_dbus_connection_call_sync (bus, NULL, "/org/kith/Agent1", "org.kith.Agent1",
                                                             "GetStatus", NULL, G_VARIANT_TYPE ("(a{sv})"),
                                                             G_DBUS_CALL_FLAGS_NONE, 5000, NULL, &error);

  ck_assert_msg (status != NULL, "GetStatus %s: %s", when, error != NULL ? error->message : "");
}

/* Upload(h, {"name": @name}) with the read end of a new pipe; *@writer is its write end. */
static void
upload_begin (GDBusConnection *bus, const gchar *name, gint *writer, UploadCall *call)
{
  g_autoptr (GUnixFDList) fds = g_unix_fd_list_new ();
  g_autoptr (GError) error = NULL;
  GVariantBuilder options;
  gint pipe_fds[2];

  ck_assert_int_eq (pipe (pipe_fds), 0);
  ck_assert_int_eq (g_unix_fd_list_append (fds, pipe_fds[0], &error), 0);
  close (pipe_fds[0]);
  *writer = pipe_fds[1];
  g_variant_builder_init (&options, G_VARIANT_TYPE_VARDICT);
  g_variant_builder_add (&options, "{sv}", "name", g_variant_new_string (name));
  g_dbus_connection_call_with_unix_fd_list (bus, NULL, "/org/kith/Agent1/Upload", "org.kith.Upload1", "Upload",
                                            g_variant_new ("(ha{sv})", 0, &options), G_VARIANT_TYPE ("(s)"),
                                            G_DBUS_CALL_FLAGS_NONE, 60000, fds, NULL, upload_call_cb, call);
}

/* While an Upload(fd) waits on a writer that never writes, the agent keeps answering D-Bus
 * and HTTP and takes other reports; the stalled call ends with an error after read-timeout
 * and adds nothing. */
START_TEST (test_upload_fd_never_blocks)
{
  g_autoptr (Backend) b = backend_start (NULL);
  g_autoptr (Node) n = node_start (b, FALSE, NULL, "serve=false\nread-timeout=4s");
  g_autoptr (GError) error = NULL;
  g_autoptr (GDBusConnection) bus = kith_test_agent_connect (n->agent, &error);
  g_autoptr (GBytes) report = kith_test_make_content (9000, 95);
  UploadCall stalled = { 0 }, slow = { 0 };
  gint stalled_writer = -1, slow_writer = -1;
  g_autofree gchar *stalled_path = g_build_filename (n->outbox, "stalled.txt", NULL);

  g_assert_no_error (error);
  upload_begin (bus, "stalled.txt", &stalled_writer, &stalled);
  upload_begin (bus, "slow.txt", &slow_writer, &slow);
  /* both calls are in: the agent still answers D-Bus, within 5 s ... */
  assert_answers_dbus (bus, "while an Upload(fd) waits");
  /* ... and HTTP */
  {
    g_autoptr (SoupSession) session = kith_test_session_new ();
    g_object_set (session, "timeout", 5, NULL);
    g_autofree gchar *url = g_strconcat (kith_test_agent_get_http_url (n->agent), "/metrics", NULL);
    g_autoptr (SoupMessage) msg = soup_message_new (SOUP_METHOD_GET, url);
    g_autoptr (GBytes) body = soup_session_send_and_read (session, msg, NULL, &error);
    ck_assert_msg (body != NULL, "GET /metrics while an Upload(fd) waits: %s", error != NULL ? error->message : "");
    ck_assert_uint_eq (soup_message_get_status (msg), 200);
  }
  ck_assert (!stalled.done && !slow.done);
  /* the slow writer finishes: its report goes in and out while the other still waits */
  ck_assert_int_eq (write (slow_writer, g_bytes_get_data (report, NULL), g_bytes_get_size (report)),
                    (gssize) g_bytes_get_size (report));
  close (slow_writer);
  ck_assert (kith_test_poll_until (upload_call_done, &slow, 20000));
  ck_assert_msg (slow.upload_id != NULL, "%s", slow.error != NULL ? slow.error->message : "");
  ck_assert_msg (kith_test_poll_until (outbox_is_empty, n, 20000), "the report was not delivered");
  ck_assert_uint_eq (backend_copies_of (b, report), 1);
  /* the stalled one times out, with nothing added */
  ck_assert (kith_test_poll_until (upload_call_done, &stalled, 20000));
  ck_assert_ptr_null (stalled.upload_id);
  ck_assert_msg (stalled.error != NULL && strstr (stalled.error->message, "read-timeout") != NULL, "%s",
                 stalled.error != NULL ? stalled.error->message : "no error");
  ck_assert (!g_file_test (stalled_path, G_FILE_TEST_EXISTS));
  close (stalled_writer);
  g_clear_error (&stalled.error);
  g_free (slow.upload_id);
}
END_TEST

/* ---- bad peers, each its own process: test-upload --fake-peer PORT MODE BACKEND_DIR
 * BACKEND_URL [CERT]. It answers every upload "I need" at once (before any honest peer;
 * kith-test-offer.h) ---- */

typedef struct {
  const gchar *mode;
  const gchar *node; /* the node id it claims */
  const gchar *backend_url;
  KithTestOffer *offer;
  SoupSession *session;
  gchar *alias;
  gchar *key;
  gchar *cert; /* PEM; NULL for "nocert" */
  GPtrArray *held; /* messages thrown away: paused for ever */
  KithTestEndless *endless; /* "flood", "trickle": where its alias points */
} FakePeer;

/* The certificate each mode presents. */
static gchar *
fake_certificate (FakePeer *fake, const gchar *backend_dir, const gchar *replay_path)
{
  g_autofree gchar *ca_path = g_build_filename (backend_dir, "ca.pem", NULL);
  g_autofree gchar *ca_key_path = g_build_filename (backend_dir, "ca-key.pem", NULL);
  g_autofree gchar *ca = read_text (ca_path);
  g_autofree gchar *ca_key = kith_crypto_read_private_key (ca_key_path, NULL);
  g_autofree gchar *pub = kith_crypto_key_get_public (fake->key, NULL);
  gint64 now = g_get_real_time () / G_USEC_PER_SEC;

  if (g_str_equal (fake->mode, "nocert") || g_str_equal (fake->mode, "impostor"))
    return NULL;
  if (g_str_equal (fake->mode, "replay"))
    return read_text (replay_path);
  if (g_str_equal (fake->mode, "expired"))
    return kith_test_offer_issue (ca, ca_key, pub, FAKE_NODE, "upload,relay", fake->alias, now - 7200, now - 3600);
  if (g_str_equal (fake->mode, "otherca")) {
    g_autofree gchar *other_key = kith_crypto_key_generate (NULL);
    KithCertSpec spec = { .common_name = "kith vendor CA", .not_after = now + 3600, .is_ca = TRUE };
    g_autofree gchar *other_ca = kith_crypto_cert_self_signed (other_key, &spec, NULL);
    return kith_test_offer_issue (other_ca, other_key, pub, FAKE_NODE, "upload,relay", fake->alias, 0, now + 3600);
  }
  return kith_test_offer_issue (ca, ca_key, pub, FAKE_NODE, "upload,relay", fake->alias, 0, now + 3600);
}

/* A receipt that looks right but is signed with the fake's own (CA-issued) node key. */
static gchar *
fake_forged_receipt (FakePeer *fake, SoupServerMessage *msg, GBytes *body)
{
  SoupMessageHeaders *headers = soup_server_message_get_request_headers (msg);
  g_autofree gchar *sha = kith_crypto_sha256_hex (body);
  g_autofree gchar *text = g_strdup_printf (
      "{\"upload_id\":\"%s\",\"sha256\":\"%s\",\"size\":%" G_GSIZE_FORMAT ",\"requester\":\"%s\",\"time\":\"now\"}",
      soup_message_headers_get_one (headers, "X-Kith-Upload-Id"), sha, g_bytes_get_size (body),
      soup_message_headers_get_one (headers, "X-Kith-Node"));

  return kith_receipt_seal (text, fake->cert, fake->key, NULL);
}

/* A genuine backend receipt — for a report of the fake's own making. */
static GBytes *
fake_other_receipt (FakePeer *fake, SoupServerMessage *msg)
{
  g_autofree gchar *url = g_strconcat (fake->backend_url, "/upload", NULL);
  g_autoptr (SoupMessage) out = soup_message_new (SOUP_METHOD_POST, url);
  g_autoptr (GBytes) junk = kith_test_make_content (1000, 666);
  g_autofree gchar *id = kith_crypto_random_hex (16, NULL);

  soup_message_headers_replace (soup_message_get_request_headers (out), "X-Kith-Upload-Id", id);
  soup_message_headers_replace (soup_message_get_request_headers (out), "X-Kith-Node",
                                soup_message_headers_get_one (soup_server_message_get_request_headers (msg),
                                                              "X-Kith-Node"));
  soup_message_set_request_body_from_bytes (out, "application/octet-stream", junk);
  return soup_session_send_and_read (fake->session, out, NULL, NULL);
}

static void
fake_peer_serve (SoupServer *server, SoupServerMessage *msg, const char *path, GHashTable *query, gpointer user_data)
{
  FakePeer *fake = user_data;
  g_autoptr (GBytes) body = soup_message_body_flatten (soup_server_message_get_request_body (msg));

  g_printerr ("fake peer (%s): got a report of %" G_GSIZE_FORMAT " bytes\n", fake->mode, g_bytes_get_size (body));
  if (g_str_equal (fake->mode, "forged")) {
    g_autofree gchar *doc = fake_forged_receipt (fake, msg, body);
    soup_server_message_set_status (msg, SOUP_STATUS_OK, NULL);
    soup_server_message_set_response (msg, "application/json", SOUP_MEMORY_COPY, doc, strlen (doc));
  } else if (g_str_equal (fake->mode, "othercontent")) {
    g_autoptr (GBytes) doc = fake_other_receipt (fake, msg);
    soup_server_message_set_status (msg, SOUP_STATUS_OK, NULL);
    soup_message_body_append_bytes (soup_server_message_get_response_body (msg), doc);
  } else {
    /* "discard" (and anything else): take the report, never answer */
    g_ptr_array_add (fake->held, g_object_ref (msg));
    soup_server_message_pause (msg);
  }
}

static int
fake_peer_main (int argc, char **argv)
{
  g_autoptr (GMainLoop) loop = g_main_loop_new (NULL, FALSE);
  g_autoptr (SoupServer) server = soup_server_new (NULL, NULL);
  g_autoptr (GSocketAddress) address = g_inet_socket_address_new_from_string ("127.0.0.1", 0);
  g_autoptr (GError) error = NULL;
  FakePeer fake = { .mode = argv[3], .node = FAKE_NODE, .backend_url = argv[5] };
  GSList *uris;

  if (g_str_equal (fake.mode, "impostor") && argc > 6)
    fake.node = argv[6]; /* the honest node's id */
  fake.held = g_ptr_array_new_with_free_func (g_object_unref);
  fake.session = kith_test_session_new ();
  {
    g_autofree gchar *ca = g_build_filename (argv[4], "ca.pem", NULL);
    kith_test_tls_trust (ca);
  }
  fake.key = kith_crypto_key_generate (&error);
  g_assert_no_error (error);
  soup_server_add_handler (server, "/upload/", fake_peer_serve, &fake, NULL);
  g_assert_true (soup_server_listen (server, address, 0, &error));
  uris = soup_server_get_uris (server);
  fake.alias = g_strdup_printf ("http://127.0.0.1:%d/upload/", g_uri_get_port (uris->data));
  g_slist_free_full (uris, (GDestroyNotify) g_uri_unref);
  if (g_str_equal (fake.mode, "flood") || g_str_equal (fake.mode, "trickle")) {
    /* the report is taken, and the answer to it never ends */
    fake.endless = kith_test_endless_new (g_str_equal (fake.mode, "trickle"));
    g_free (fake.alias);
    fake.alias = g_strdup_printf ("http://127.0.0.1:%u/upload/", kith_test_endless_get_port (fake.endless));
  }
  fake.cert = fake_certificate (&fake, argv[4], argc > 6 ? argv[6] : NULL);
  fake.offer = kith_test_offer_new ((guint16) atoi (argv[2]), "upload", fake.node, fake.alias, TRUE, fake.cert,
                                    fake.key);
  kith_test_child_run (loop, "ready");
  kith_test_offer_free (fake.offer);
  soup_server_disconnect (server);
  g_clear_pointer (&fake.endless, kith_test_endless_free);
  g_ptr_array_unref (fake.held);
  g_object_unref (fake.session);
  g_free (fake.alias);
  g_free (fake.key);
  g_free (fake.cert);
  return 0;
}

static GSubprocess *
fake_peer_spawn (const gchar *mode, Backend *b, const gchar *replay)
{
  g_autofree gchar *port = g_strdup_printf ("%u", test_port);

  /* no replay path: the argument list ends at NULL */
  return kith_test_child_spawn ("--fake-peer", port, mode, b->dir, b->url, replay, NULL);
}

static const struct {
  const gchar *mode;
  const gchar *reason; /* what the blacklist must say */
} bad_peers[] = {
  { "nocert", "no certificate" },
  { "otherca", "does not chain to the trust anchor" },
  { "expired", "expired on" },
  { "replay", "certificate of node" },
  { "discard", "no receipt within T=" },
  { "forged", "receipt signed by node" },
  { "othercontent", "receipt for upload" },
};

static gboolean
node_has_blacklisted (gpointer user_data)
{
  gpointer *pair = user_data;
  g_autofree gchar *reason = node_blacklist_reason (pair[0], pair[1]);
  return reason != NULL;
}

/* Each bad peer answers first; the report still reaches the backend exactly once, through
 * the honest peer, and the bad one is blacklisted for what it did. */
START_TEST (test_bad_peer)
{
  const gchar *mode = bad_peers[_i].mode;
  g_autoptr (Backend) b = backend_start (NULL);
  /* the honest peer answers after up to 300 ms, the fake at once */
  g_autoptr (Node) c = node_start (b, FALSE, "max-delay-ms=300\nclient-wait-ms=400", NULL);
  g_autoptr (Node) o = NULL;
  g_autoptr (GBytes) report = kith_test_make_content (40000, 30 + (guint32) _i);
  g_autofree gchar *c_cert = g_build_filename (kith_test_agent_get_dir (c->agent), "state", "upload", "node-cert.pem",
                                               NULL);
  g_autofree gchar *reason = NULL;
  g_autoptr (GError) error = NULL;
  gpointer bad[] = { NULL, (gpointer) FAKE_NODE };
  GSubprocess *fake;

  node_wait_log (c, "enrolled", 10000);
  /* the honest peer steps away: the bad one is alone on the LAN, so every offer the offline
   * node hears is the bad one's — no race between the two — and nothing may get through */
  ck_assert_int_eq (kith_test_agent_stop (c->agent), 0);
  fake = fake_peer_spawn (mode, b, c_cert);
  o = node_start (b, TRUE, NULL, "receipt-slack=1500ms");
  bad[0] = o;
  node_drop_report (o, "report.bin", report);
  ck_assert_msg (kith_test_poll_until (node_has_blacklisted, bad, 30000),
                 "%s: the bad peer is not blacklisted", mode);
  ck_assert (!outbox_is_empty (o));
  ck_assert_uint_eq (backend_copies_of (b, report), 0);
  /* the honest peer comes back: the report goes through it, and only through it */
  ck_assert_msg (kith_test_agent_start (c->agent, &error), "%s", error != NULL ? error->message : "");
  ck_assert_msg (kith_test_poll_until (outbox_is_empty, o, 40000), "%s: report not delivered", mode);
  reason = node_blacklist_reason (o, FAKE_NODE);
  ck_assert_msg (reason != NULL, "%s: the bad peer is not blacklisted", mode);
  ck_assert_msg (strstr (reason, bad_peers[_i].reason) != NULL, "%s: blacklisted for \"%s\"", mode, reason);
  ck_assert_msg (node_blacklist_reason (o, kith_test_agent_get_node_id (c->agent)) == NULL,
                 "%s: the honest peer was blacklisted", mode);
  ck_assert_uint_eq (backend_copies_of (b, report), 1);
  ck_assert_uint_eq (node_receipts (o, b), 1);
  /* the next report told the backend: its receipt lists the bad node */
  {
    g_autofree gchar *uploads = g_build_filename (b->dir, "uploads", NULL);
    g_autoptr (GDir) dir = g_dir_open (uploads, 0, NULL);
    const gchar *name;
    gboolean told = FALSE;
    while (dir != NULL && (name = g_dir_read_name (dir)) != NULL) {
      g_autofree gchar *path = g_build_filename (uploads, name, NULL);
      g_autofree gchar *text = NULL;
      if (g_str_has_suffix (name, ".receipt") && g_file_get_contents (path, &text, NULL, NULL) &&
          strstr (text, kith_test_agent_get_node_id (o->agent)) != NULL && strstr (text, "blacklist") != NULL &&
          strstr (text, FAKE_NODE) != NULL)
        told = TRUE;
    }
    ck_assert_msg (told, "%s: the blacklist did not reach the backend with the report", mode);
  }
  /* and `kith upload blacklist` shows it, with its reason */
  {
    g_autofree gchar *out = NULL;
    g_autoptr (JsonNode) peers = NULL;
    JsonObject *first;
    ck_assert_int_eq (run_kith (o, &out, "upload", "blacklist", "--json", NULL), 0);
    peers = parse_json (out);
    ck_assert_uint_eq (json_array_get_length (json_node_get_array (peers)), 1);
    first = json_array_get_object_element (json_node_get_array (peers), 0);
    ck_assert_str_eq (json_object_get_string_member (first, "node"), FAKE_NODE);
    ck_assert_str_eq (json_object_get_string_member (first, "reason"), reason);
  }
  kith_test_child_stop (fake, NULL, NULL);
}
END_TEST

/* A peer that claims the honest node's id and fails the checks must not get the honest node
 * ignored: an unproven offer is blacklisted for its source address only. */
START_TEST (test_impostor_cannot_blacklist_honest)
{
  g_autoptr (Backend) b = backend_start (NULL);
  g_autoptr (Node) c = node_start (b, FALSE, "max-delay-ms=300\nclient-wait-ms=400", NULL);
  g_autoptr (Node) o = NULL;
  g_autoptr (GBytes) report = kith_test_make_content (9000, 81);
  g_autofree gchar *reason = NULL;
  g_autofree gchar *through = NULL;
  g_autofree gchar *c_node = NULL;
  g_autoptr (GError) error = NULL;
  gpointer bad[] = { NULL, NULL };
  GSubprocess *fake;

  node_wait_log (c, "enrolled", 10000);
  c_node = g_strdup (kith_test_agent_get_node_id (c->agent));
  bad[1] = c_node;
  /* the impostor alone first, so its offer is surely heard; then the real node returns */
  ck_assert_int_eq (kith_test_agent_stop (c->agent), 0);
  fake = fake_peer_spawn ("impostor", b, c_node);
  o = node_start (b, TRUE, NULL, NULL);
  bad[0] = o;
  node_drop_report (o, "report.bin", report);
  ck_assert_msg (kith_test_poll_until (node_has_blacklisted, bad, 30000), "the impostor was not blacklisted");
  ck_assert_msg (kith_test_agent_start (c->agent, &error), "%s", error != NULL ? error->message : "");
  ck_assert_msg (kith_test_poll_until (outbox_is_empty, o, 30000),
                 "the impostor kept the report from the honest node");
  reason = node_blacklist_reason (o, kith_test_agent_get_node_id (c->agent));
  ck_assert_msg (reason != NULL && strstr (reason, "no certificate") != NULL, "impostor entry: %s", reason);
  through = g_strdup_printf ("delivered through %s", kith_test_agent_get_node_id (c->agent));
  node_wait_log (o, through, 5000);
  node_wait_log (o, " at 127.0.0.1:", 5000);
  ck_assert_uint_eq (backend_copies_of (b, report), 1);
  kith_test_child_stop (fake, NULL, NULL);
}
END_TEST

static gboolean
backend_has_upload (gpointer user_data)
{
  return backend_stat (user_data, "uploads") >= 1;
}

/* Killed after the report reached the backend but before the receipt came back: after a
 * restart the report goes again under the same upload id, and the backend keeps one copy. */
START_TEST (test_requester_killed_before_receipt)
{
  static const gchar *const args[] = { "--delay-receipts", "3000", NULL };
  g_autoptr (Backend) b = backend_start (args);
  g_autoptr (Node) c = node_start (b, FALSE, NULL, NULL);
  g_autoptr (Node) o = NULL;
  g_autoptr (GBytes) report = kith_test_make_content (30000, 41);
  g_autoptr (GError) error = NULL;

  node_wait_log (c, "enrolled", 10000);
  o = node_start (b, TRUE, NULL, "receipt-slack=20s");
  node_drop_report (o, "crash.bin", report);
  ck_assert (kith_test_poll_until (backend_has_upload, b, 20000));
  kith_test_agent_kill (o->agent);
  ck_assert (!outbox_is_empty (o));
  ck_assert_uint_eq (node_receipts (o, b), 0);
  ck_assert_msg (kith_test_agent_start (o->agent, &error), "%s", error != NULL ? error->message : "");
  ck_assert_msg (kith_test_poll_until (outbox_is_empty, o, 30000), "not delivered after the restart");
  ck_assert_uint_eq (node_receipts (o, b), 1);
  ck_assert_uint_eq (backend_copies_of (b, report), 1);
  ck_assert_int_eq (backend_stat (b, "uploads"), 1);
}
END_TEST

/* The only upload peer dies while it forwards a report (a fault, not a lie): the offline
 * node backs off from it for seconds instead of blacklisting it, and once it is back every
 * report goes through it. */
START_TEST (test_peer_killed_while_forwarding)
{
  static const gchar *const slow[] = { "--delay-receipts", "5000", NULL };
  g_autoptr (Backend) b = backend_start (slow);
  g_autoptr (Node) c = node_start (b, FALSE, NULL, NULL);
  g_autoptr (Node) o = NULL;
  g_autoptr (GError) error = NULL;
  g_autofree gchar *listen = NULL;
  g_autofree gchar *c_node = NULL;
  GBytes *reports[11];
  guint receipts;

  node_wait_log (c, "enrolled", 10000);
  c_node = g_strdup (kith_test_agent_get_node_id (c->agent));
  o = node_start (b, TRUE, NULL, "receipt-slack=20s");
  reports[0] = kith_test_make_content (20000, 100);
  node_drop_report (o, "000-first.bin", reports[0]);
  /* the peer forwarded it and waits for the receipt the backend holds back: kill it now */
  ck_assert (kith_test_poll_until (backend_has_upload, b, 20000));
  kith_test_agent_kill (c->agent);
  /* the backend answers at once from now on; the peer comes back */
  listen = g_strdup (b->url + strlen ("https://"));
  backend_stop (b);
  backend_serve (b, listen, NULL);
  ck_assert_msg (kith_test_agent_start (c->agent, &error), "%s", error != NULL ? error->message : "");
  for (guint i = 1; i < G_N_ELEMENTS (reports); i++) {
    g_autofree gchar *name = g_strdup_printf ("%03u-report.bin", i);
    reports[i] = kith_test_make_content (3000 + i, 100 + i);
    node_drop_report (o, name, reports[i]);
  }
  ck_assert_msg (kith_test_poll_until (outbox_is_empty, o, 60000),
                 "not every report was delivered after the peer came back");
  ck_assert_msg (node_blacklist_reason (o, c_node) == NULL, "the honest peer was blacklisted for dying");
  receipts = node_receipts (o, b);
  ck_assert_uint_eq (receipts, G_N_ELEMENTS (reports));
  for (guint i = 0; i < G_N_ELEMENTS (reports); i++) {
    ck_assert_uint_eq (backend_copies_of (b, reports[i]), 1);
    g_bytes_unref (reports[i]);
  }
  node_wait_log (o, "failed (cannot send", 1000);
}
END_TEST

/* Peers whose answer to the report never ends: each its own process (--fake-peer MODE),
 * with a certificate that verifies, taking the whole report and then answering 200 with a
 * body that goes on — at full speed ("flood") or a byte every 100 ms ("trickle"). */
static const struct {
  const gchar *mode;
  const gchar *reason; /* what the blacklist must say */
} endless_peers[] = {
  /* cut at the most a receipt may be, 1 MiB */
  { "flood", "an answer of more than 1048576 bytes, not a receipt" },
  /* cut at T: the report was taken and no receipt came */
  { "trickle", "no receipt within T=" },
};

/* The offline node cuts the endless answer (at its bound, or at T), blacklists the peer
 * for it and stays up; the report stays in its outbox and reaches the backend, once,
 * through the honest peer that comes next. */
START_TEST (test_endless_answer)
{
  const gchar *mode = endless_peers[_i].mode;
  g_autoptr (Backend) b = backend_start (NULL);
  g_autoptr (Node) o = NULL;
  g_autoptr (Node) c = NULL;
  g_autoptr (GBytes) report = kith_test_make_content (40000, 110 + (guint32) _i);
  g_autoptr (GDBusConnection) bus = NULL;
  g_autoptr (GError) error = NULL;
  g_autofree gchar *reason = NULL;
  gpointer bad[] = { NULL, (gpointer) FAKE_NODE };
  GSubprocess *fake = fake_peer_spawn (mode, b, NULL);
  guint64 sent;

  o = node_start (b, TRUE, NULL, "receipt-slack=1500ms");
  bad[0] = o;
  node_drop_report (o, "report.bin", report);
  sent = kith_test_endless_wait_cut (fake);
  if (g_str_equal (mode, "flood")) {
    /* it sent past the bound (so the bound cut it, not the end of a body), and not much
     * more than the socket buffers between the two hold */
    ck_assert_uint_gt (sent, 1024 * 1024);
    ck_assert_uint_lt (sent, 64 * 1024 * 1024);
  } else {
    ck_assert_uint_ge (sent, 1);
  }
  ck_assert_msg (kith_test_poll_until (node_has_blacklisted, bad, 10000), "%s: the peer is not blacklisted", mode);
  reason = node_blacklist_reason (o, FAKE_NODE);
  ck_assert_msg (strstr (reason, endless_peers[_i].reason) != NULL, "%s: blacklisted for \"%s\"", mode, reason);
  bus = kith_test_agent_connect (o->agent, &error);
  g_assert_no_error (error);
  assert_answers_dbus (bus, "after an endless answer");
  ck_assert (!outbox_is_empty (o));
  ck_assert_uint_eq (backend_copies_of (b, report), 0);
  kith_test_child_stop (fake, NULL, NULL);
  c = node_start (b, FALSE, NULL, NULL);
  ck_assert_msg (kith_test_poll_until (outbox_is_empty, o, 40000), "%s: report not delivered", mode);
  ck_assert_uint_eq (backend_copies_of (b, report), 1);
  ck_assert_uint_eq (node_receipts (o, b), 1);
}
END_TEST

/* ---- a backend whose answers never end, its own process: test-upload --fake-backend MODE
 * PORTFILE [CA_DIR] ("flood" or "trickle", see kith-test-endless.h), plain HTTP on loopback;
 * "forward-trickle": enrollments are answered with a node certificate issued by the CA
 * in CA_DIR (ca.pem, ca-key.pem), every other request trickles. It writes its port into
 * PORTFILE before it says "ready" ---- */

typedef struct {
  gchar *ca;
  gchar *ca_key;
} FakeBackend;

/* In a worker thread of the endless server: an enrollment gets its certificate. */
static gchar *
fake_backend_enroll (const gchar *head, GBytes *body, gpointer user_data)
{
  FakeBackend *fake = user_data;
  g_autoptr (JsonParser) parser = json_parser_new ();
  g_autoptr (JsonBuilder) builder = json_builder_new ();
  g_autoptr (JsonGenerator) generator = json_generator_new ();
  g_autoptr (JsonNode) root = NULL;
  g_autofree gchar *cert = NULL;
  g_autofree gchar *text = NULL;
  gint64 now = g_get_real_time () / G_USEC_PER_SEC;
  JsonObject *request;

  if (!g_str_has_prefix (head, "POST /enroll ") ||
      !json_parser_load_from_data (parser, g_bytes_get_data (body, NULL), (gssize) g_bytes_get_size (body),
                                   NULL))
    return NULL;
  request = json_node_get_object (json_parser_get_root (parser));
  cert = kith_test_offer_issue (fake->ca, fake->ca_key, json_object_get_string_member (request, "public_key"),
                                json_object_get_string_member (request, "node_id"), "upload",
                                json_object_get_string_member (request, "alias"), 0, now + 3600);
  json_builder_begin_object (builder);
  json_builder_set_member_name (builder, "certificate");
  json_builder_add_string_value (builder, cert);
  json_builder_set_member_name (builder, "expires");
  json_builder_add_int_value (builder, now + 3600);
  json_builder_end_object (builder);
  root = json_builder_get_root (builder);
  json_generator_set_root (generator, root);
  text = json_generator_to_data (generator, NULL);
  return g_strdup_printf ("HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: %zu\r\n"
                          "Connection: close\r\n\r\n%s",
                          strlen (text), text);
}

static int
fake_backend_main (int argc, char **argv)
{
  g_autoptr (GMainLoop) loop = g_main_loop_new (NULL, FALSE);
  g_autoptr (KithTestEndless) endless = kith_test_endless_new (!g_str_equal (argv[2], "flood"));
  g_autofree gchar *port = g_strdup_printf ("%u", kith_test_endless_get_port (endless));
  FakeBackend fake = { 0 };

  if (g_str_equal (argv[2], "forward-trickle")) {
    g_autofree gchar *ca_path = g_build_filename (argv[4], "ca.pem", NULL);
    g_autofree gchar *ca_key_path = g_build_filename (argv[4], "ca-key.pem", NULL);
    g_assert_true (g_file_get_contents (ca_path, &fake.ca, NULL, NULL));
    g_assert_true (g_file_get_contents (ca_key_path, &fake.ca_key, NULL, NULL));
    kith_test_endless_set_func (endless, fake_backend_enroll, &fake);
  }
  g_assert_true (g_file_set_contents (argv[3], port, -1, NULL));
  kith_test_child_run (loop, "ready");
  g_clear_pointer (&endless, kith_test_endless_free);
  g_free (fake.ca);
  g_free (fake.ca_key);
  return 0;
}

/* The fake backend in @mode, with a trust anchor of the test's own making (only the
 * certificates "forward-trickle" issues chain to it). Frees like a real one. */
static Backend *
fake_backend_start (const gchar *mode)
{
  g_autoptr (GError) error = NULL;
  g_autofree gchar *key = kith_crypto_key_generate (NULL);
  KithCertSpec spec = { .common_name = "kith vendor CA", .not_after = g_get_real_time () / G_USEC_PER_SEC + 3600,
                        .is_ca = TRUE };
  g_autofree gchar *ca = kith_crypto_cert_self_signed (key, &spec, NULL);
  g_autofree gchar *ca_path = NULL;
  g_autofree gchar *ca_key_path = NULL;
  g_autofree gchar *port_path = NULL;
  g_autofree gchar *port = NULL;
  Backend *b = g_new0 (Backend, 1);

  b->root = g_dir_make_tmp ("kith-upload-XXXXXX", &error);
  g_assert_no_error (error);
  b->dir = g_build_filename (b->root, "backend", NULL);
  ck_assert_int_eq (g_mkdir (b->dir, 0700), 0);
  ca_path = backend_ca_path (b);
  ck_assert (ca != NULL && g_file_set_contents (ca_path, ca, -1, NULL));
  ca_key_path = g_build_filename (b->dir, "ca-key.pem", NULL);
  ck_assert (g_file_set_contents (ca_key_path, key, -1, NULL));
  port_path = g_build_filename (b->root, "port", NULL);
  b->proc = kith_test_child_spawn ("--fake-backend", mode, port_path, b->dir, NULL);
  ck_assert (g_file_get_contents (port_path, &port, NULL, NULL));
  b->url = g_strdup_printf ("http://127.0.0.1:%s", port);
  b->token = g_strdup ("00000000000000000000000000000000");
  b->plain_http = TRUE;
  return b;
}

static gboolean
node_is_serving (GDBusConnection *bus)
{
  g_autoptr (GVariant) upload = kith_test_get_status_section (bus, "upload");
  gboolean serving = TRUE;

  ck_assert (g_variant_lookup (upload, "serving", "b", &serving));
  return serving;
}

/* A backend whose answer to the enrollment never ends: the connected node cuts it, past
 * 1 MiB ("flood") or at enroll-timeout ("trickle", a byte every 100 ms), is not enrolled,
 * offers no uploads and keeps answering D-Bus; at its next try (5 s on) it cuts it again. */
START_TEST (test_enroll_answer_endless)
{
  const gchar *mode = _i == 0 ? "flood" : "trickle";
  g_autoptr (Backend) b = fake_backend_start (mode);
  g_autoptr (Node) c = node_start (b, FALSE, NULL, "enroll-timeout=2s");
  g_autoptr (GDBusConnection) bus = NULL;
  g_autoptr (GError) error = NULL;
  g_autofree gchar *cert = g_build_filename (kith_test_agent_get_dir (c->agent), "state", "upload", "node-cert.pem",
                                             NULL);

  for (guint attempt = 0; attempt < 2; attempt++) {
    guint64 sent = kith_test_endless_wait_cut (b->proc);
    if (_i == 0) {
      /* past the bound (so the bound cut it), not much more than the socket buffers hold */
      ck_assert_uint_gt (sent, 1024 * 1024);
      ck_assert_uint_lt (sent, 64 * 1024 * 1024);
    } else {
      /* it went on, a byte at a time, until the deadline (held for good before) */
      ck_assert_uint_ge (sent, 1);
      ck_assert_uint_lt (sent, 1024 * 1024);
    }
    bus = kith_test_agent_connect (c->agent, &error);
    g_assert_no_error (error);
    assert_answers_dbus (bus, "after an endless enrollment answer");
    ck_assert (!node_is_serving (bus));
    ck_assert (!g_file_test (cert, G_FILE_TEST_EXISTS));
    g_clear_object (&bus);
  }
  kith_test_child_stop (g_steal_pointer (&b->proc), NULL, NULL);
}
END_TEST

static gboolean
spool_has_report (gpointer user_data)
{
  g_autoptr (GDir) dir = g_dir_open (user_data, 0, NULL);
  const gchar *name;

  while (dir != NULL && (name = g_dir_read_name (dir)) != NULL) {
    if (name[0] != '.')
      return TRUE;
  }
  return FALSE;
}

static gboolean
spool_is_empty (gpointer user_data)
{
  return !spool_has_report (user_data);
}

/* A connected node forwards an offline node's report to a backend that enrolled it and
 * then trickles its answer to the report, a byte every 100 ms, from its own process: the
 * forward is given up at the requester's T (2 s + 2 × 5000 B / 125 kB/s = 2080 ms, sent as
 * X-Kith-Receipt-Time) and the 2 s margin — not held until restart — its spooled copy
 * deleted and counted; the offline node, which got no receipt, keeps its report. */
START_TEST (test_forward_answer_trickles)
{
  g_autoptr (Backend) b = fake_backend_start ("forward-trickle");
  g_autoptr (Node) c = node_start (b, FALSE, NULL, NULL);
  g_autoptr (Node) o = NULL;
  g_autoptr (GDBusConnection) bus = NULL;
  g_autoptr (GVariant) upload = NULL;
  g_autoptr (GError) error = NULL;
  g_autoptr (GBytes) report = kith_test_make_content (5000, 77);
  g_autofree gchar *spool =
      g_build_filename (kith_test_agent_get_dir (c->agent), "state", "upload", "spool", NULL);
  guint64 cut = 0, sent;
  gint64 spooled, ended;

  node_wait_log (c, "enrolled", 10000);
  o = node_start (b, TRUE, NULL, NULL);
  node_drop_report (o, "trickled.bin", report);
  ck_assert_msg (kith_test_poll_until (spool_has_report, spool, 20000),
                 "the report never reached the peer's spool");
  spooled = g_get_monotonic_time ();
  sent = kith_test_endless_wait_cut (b->proc);
  ended = g_get_monotonic_time ();
  /* a byte at a time until the forward's deadline: past T, within T and the margin */
  ck_assert_uint_ge (sent, 1);
  ck_assert_uint_lt (sent, 1024 * 1024);
  ck_assert_int_ge ((ended - spooled) / 1000, 2080 - 200);
  ck_assert_int_le ((ended - spooled) / 1000, 2080 + 2000 + 1000);
  ck_assert_msg (kith_test_poll_until (spool_is_empty, spool, 2000),
                 "the cut forward's report stayed in the spool");
  node_wait_log (c, "gave up forwarding", 2000);
  bus = kith_test_agent_connect (c->agent, &error);
  g_assert_no_error (error);
  assert_answers_dbus (bus, "after a forward cut");
  upload = kith_test_get_status_section (bus, "upload");
  ck_assert (g_variant_lookup (upload, "forwards-cut", "t", &cut));
  ck_assert_uint_eq (cut, 1);
  ck_assert (!outbox_is_empty (o));
  ck_assert_uint_eq (node_receipts (o, b), 0);
  kith_test_child_stop (g_steal_pointer (&b->proc), NULL, NULL);
}
END_TEST

static Suite *
upload_suite (void)
{
  Suite *s = suite_create ("upload");
  TCase *tc = tcase_create ("upload");
  TCase *endless = tcase_create ("endless");

  tcase_set_timeout (tc, 120);
  tcase_add_test (tc, test_blacklist_persists_and_expires);
  tcase_add_test (tc, test_receipt_time);
  tcase_add_test (tc, test_blacklist_bounded);
  tcase_add_test (tc, test_backoff);
  tcase_add_test (tc, test_enroll);
  tcase_add_test (tc, test_backend_receipts);
  tcase_add_test (tc, test_direct_when_online);
  tcase_add_test (tc, test_outbox_refuses_symlinks);
  tcase_add_test (tc, test_same_report_two_nodes);
  tcase_add_test (tc, test_backend_drops_receipts);
  tcase_add_test (tc, test_honest_peer_delivers);
  tcase_add_test (tc, test_renews_before_expiry);
  tcase_add_test (tc, test_serves_only_while_backend_reachable);
  tcase_add_test (tc, test_cli_upload);
  tcase_add_test (tc, test_cli_cancel);
  tcase_add_test (tc, test_upload_fd_never_blocks);
  tcase_add_test (tc, test_alias_refuses);
  tcase_add_loop_test (tc, test_bad_peer, 0, G_N_ELEMENTS (bad_peers));
  tcase_add_test (tc, test_impostor_cannot_blacklist_honest);
  tcase_add_test (tc, test_requester_killed_before_receipt);
  tcase_add_test (tc, test_peer_killed_while_forwarding);
  suite_add_tcase (s, tc);
  /* answers that never end, from peers of their own */
  tcase_set_timeout (endless, 120);
  tcase_add_loop_test (endless, test_endless_answer, 0, G_N_ELEMENTS (endless_peers));
  tcase_add_loop_test (endless, test_enroll_answer_endless, 0, 2);
  tcase_add_test (endless, test_forward_answer_trickles);
  suite_add_tcase (s, endless);
  return s;
}

int
main (int argc, char **argv)
{
  if (argc >= 6 && g_strcmp0 (argv[1], "--fake-peer") == 0)
    return fake_peer_main (argc, argv);
  if (argc >= 5 && g_strcmp0 (argv[1], "--fake-backend") == 0)
    return fake_backend_main (argc, argv);
  test_port = (guint16) g_random_int_range (20000, 60000);
  return kith_test_run_suite (upload_suite ());
}
