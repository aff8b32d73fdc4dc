/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* test-fetch-cli.c — kith_client_fetch_async(), kith_client_watch_peers() and the `kith fetch`
 * and `kith watch` commands against real agents running the peering plugin on loopback,
 * with kith-test-origin playing the Internet */
#include "kith-client-private.h"
#include "kith-test-agent.h"
#include "kith-test-bus.h"
#include "kith-test-origin.h"

#include <check.h>

#include "kith-test-suite.h"
#include <signal.h>
#include <glib/gstdio.h>
#include <json-glib/json-glib.h>
#include <string.h>

static guint16 test_port;

/* An agent with the peering plugin on loopback and a libkith client connected to it. */
typedef struct {
  KithTestAgent *agent;
  KithClient *client;
} Node;

/* @on_session_bus: the agent owns org.kith.Agent1 on the session bus instead of listening
 * peer-to-peer (the last dbus= of its config wins). */
static Node *
node_start_full (gboolean on_session_bus)
{
  g_autofree gchar *config = g_strdup_printf ("%s\n"
                                              "[peering]\n"
                                              "port=%u\n"
                                              "listen=127.255.255.255\n"
                                              "send-address=127.0.0.1\n"
                                              "broadcast=127.255.255.255\n",
                                              on_session_bus ? "dbus=session" : "", test_port);
  g_autoptr (GError) error = NULL;
  Node *node = g_new0 (Node, 1);

  node->agent = kith_test_agent_new ("peering", config);
  ck_assert_msg (kith_test_agent_start (node->agent, &error), "%s", error ? error->message : "");
  node->client = kith_client_new ();
  if (on_session_bus)
    kith_client_set_bus_type (node->client, G_BUS_TYPE_SESSION);
  else
    kith_client_set_address (node->client, kith_test_agent_get_dbus_address (node->agent));
  ck_assert_msg (kith_client_connect (node->client, NULL, &error), "%s", error ? error->message : "");
  return node;
}

static Node *
node_start (void)
{
  return node_start_full (FALSE);
}

static void
node_free (Node *node)
{
  g_clear_object (&node->client);
  ck_assert_int_eq (kith_test_agent_stop (node->agent), 0);
  kith_test_agent_free (node->agent);
  g_free (node);
}
G_DEFINE_AUTOPTR_CLEANUP_FUNC (Node, node_free)

/* A path in @node's private directory. */
static gchar *
node_path (Node *node, const gchar *name)
{
  return g_build_filename (kith_test_agent_get_dir (node->agent), name, NULL);
}

static void
assert_file_equals (const gchar *path, GBytes *content)
{
  g_autofree gchar *data = NULL;
  gsize len = 0;

  ck_assert_msg (g_file_get_contents (path, &data, &len, NULL), "%s missing", path);
  ck_assert_uint_eq (len, g_bytes_get_size (content));
  ck_assert (memcmp (data, g_bytes_get_data (content, NULL), len) == 0);
}

/* What the progress callback saw, and the result. */
typedef struct {
  guint calls;
  guint64 last_bytes;
  gboolean bytes_went_back;
  guint distinct_bytes;          /* how many different BytesDone values were reported */
  KithClientTransferState last_state;
  gboolean saw_from_origin;
  KithClientTransfer *transfer;  /* from the callback */
  GCancellable *cancel_when_downloading;
  KithClientTransfer *result;
  GError *error;
  gboolean finished;
} Progress;

static void
progress_clear (Progress *progress)
{
  g_clear_object (&progress->transfer);
  g_clear_object (&progress->result);
  g_clear_error (&progress->error);
}

static void
progress_cb (KithClientTransfer *transfer, gpointer user_data)
{
  Progress *progress = user_data;
  guint64 bytes = kith_client_transfer_get_bytes_done (transfer);

  progress->calls++;
  if (bytes < progress->last_bytes)
    progress->bytes_went_back = TRUE;
  if (bytes != progress->last_bytes)
    progress->distinct_bytes++;
  progress->last_bytes = bytes;
  progress->last_state = kith_client_transfer_get_state (transfer);
  if (progress->last_state == KITH_CLIENT_TRANSFER_STATE_FROM_ORIGIN)
    progress->saw_from_origin = TRUE;
  g_set_object (&progress->transfer, transfer);
  if (progress->cancel_when_downloading != NULL && progress->saw_from_origin && bytes > 0)
    g_cancellable_cancel (progress->cancel_when_downloading);
}

static void
fetch_done_cb (GObject *source, GAsyncResult *res, gpointer user_data)
{
  Progress *progress = user_data;
  progress->result = kith_client_fetch_finish (KITH_CLIENT (source), res, &progress->error);
  progress->finished = TRUE;
}

static gboolean
progress_is_finished (gpointer user_data)
{
  return ((Progress *) user_data)->finished;
}

static gboolean
progress_is_downloading (gpointer user_data)
{
  Progress *progress = user_data;
  return progress->saw_from_origin && progress->last_bytes > 0;
}

static void
fetch_start (Node *node, const gchar *url, const gchar *dest, GCancellable *cancellable,
             Progress *progress)
{
  kith_client_fetch_async (node->client, url, dest, NULL, KITH_CLIENT_FETCH_FLAG_NONE,
                           progress_cb, progress, NULL, cancellable, fetch_done_cb, progress);
}

static void
fetch_wait (Progress *progress)
{
  ck_assert_msg (kith_test_wait_until (progress_is_finished, progress, 30000), "fetch did not end");
}

/* A from origin (with progress along the way), then B from A. */
START_TEST (test_fetch_origin_then_peer)
{
  g_autoptr (KithTestOrigin) origin = kith_test_origin_new ();
  g_autoptr (GBytes) content = kith_test_make_content (600 * 1024, 11);
  g_autofree gchar *url = kith_test_origin_url (origin, "/pkg/a.deb");
  g_autoptr (Node) a = node_start ();
  g_autoptr (Node) b = node_start ();
  g_autofree gchar *dest_a = node_path (a, "a.deb");
  g_autofree gchar *dest_b = node_path (b, "a.deb");
  g_autoptr (KithClientTransfer) transfer_b = NULL;
  g_autoptr (GError) error = NULL;
  Progress progress = { 0 };

  /* slow enough for several progress reports */
  kith_test_origin_add (origin, "/pkg/a.deb", content, 1024 * 1024);
  fetch_start (a, url, dest_a, NULL, &progress);
  fetch_wait (&progress);
  ck_assert_msg (progress.result != NULL, "%s", progress.error->message);
  assert_file_equals (dest_a, content);
  ck_assert_str_eq (kith_client_transfer_get_source (progress.result), "origin");
  ck_assert (!kith_client_transfer_is_from_peer (progress.result));
  ck_assert_uint_eq (kith_client_transfer_get_bytes_done (progress.result), g_bytes_get_size (content));
  ck_assert_uint_eq (kith_client_transfer_get_bytes_total (progress.result), g_bytes_get_size (content));
  ck_assert_ptr_nonnull (kith_client_transfer_get_object_path (progress.result));
  ck_assert (progress.saw_from_origin);
  ck_assert (!progress.bytes_went_back);
  ck_assert_uint_ge (progress.distinct_bytes, 2); /* something between 0 and the end */
  ck_assert_int_eq (progress.last_state, KITH_CLIENT_TRANSFER_STATE_DONE);
  ck_assert_uint_eq (progress.last_bytes, g_bytes_get_size (content));

  /* the blocking wrapper, on the second agent: the first one serves it */
  transfer_b = kith_client_fetch (b->client, url, dest_b, NULL, KITH_CLIENT_FETCH_FLAG_NONE,
                                  NULL, NULL, NULL, &error);
  g_assert_no_error (error);
  assert_file_equals (dest_b, content);
  ck_assert_str_eq (kith_client_transfer_get_source (transfer_b), kith_test_agent_get_node_id (a->agent));
  ck_assert (kith_client_transfer_is_from_peer (transfer_b));
  ck_assert_int_eq (kith_client_transfer_get_state (transfer_b), KITH_CLIENT_TRANSFER_STATE_DONE);
  ck_assert_uint_eq (kith_test_origin_get_requests (origin, "/pkg/a.deb"), 1);
  progress_clear (&progress);
}
END_TEST

/* kith_client_fetch_pieces_async(): B takes A's copy with a piece list (64 KiB pieces); a
 * list one hash short is refused (INVALID_ARGS) before anything is fetched. */
START_TEST (test_fetch_pieces)
{
  g_autoptr (KithTestOrigin) origin = kith_test_origin_new ();
  g_autoptr (GBytes) content = kith_test_make_content (5 * 65536 + 11, 17);
  g_autofree gchar *url = kith_test_origin_url (origin, "/pieces.bin");
  g_autofree gchar *sha256 = g_compute_checksum_for_bytes (G_CHECKSUM_SHA256, content);
  g_autoptr (Node) a = node_start ();
  g_autoptr (Node) b = node_start ();
  g_autofree gchar *dest_a = node_path (a, "pieces.bin");
  g_autofree gchar *dest_b = node_path (b, "pieces.bin");
  g_autoptr (KithClientTransfer) transfer = NULL;
  g_autoptr (GString) hashes = g_string_new (NULL);
  g_autoptr (GError) error = NULL;
  gsize size = g_bytes_get_size (content);
  Progress progress = { 0 };

  for (gsize offset = 0; offset < size; offset += 65536) {
    g_autoptr (GBytes) piece = g_bytes_new_from_bytes (content, offset, MIN (65536, size - offset));
    g_autofree gchar *piece_sha256 = g_compute_checksum_for_bytes (G_CHECKSUM_SHA256, piece);
    g_string_append (hashes, piece_sha256);
  }
  kith_test_origin_add (origin, "/pieces.bin", content, 0);
  transfer = kith_client_fetch (a->client, url, dest_a, sha256, KITH_CLIENT_FETCH_FLAG_NONE, NULL, NULL, NULL, &error);
  g_assert_no_error (error);
  g_clear_object (&transfer);
  kith_client_fetch_pieces_async (b->client, url, dest_b, sha256, size, 65536, hashes->str + 64,
                                  KITH_CLIENT_FETCH_FLAG_NONE, progress_cb, &progress, NULL, NULL, fetch_done_cb,
                                  &progress);
  fetch_wait (&progress);
  ck_assert_msg (g_error_matches (progress.error, KITH_CLIENT_ERROR, KITH_CLIENT_ERROR_INVALID_ARGS), "%s",
                 progress.error != NULL ? progress.error->message : "no error");
  progress_clear (&progress);
  memset (&progress, 0, sizeof progress);
  kith_client_fetch_pieces_async (b->client, url, dest_b, sha256, size, 65536, hashes->str,
                                  KITH_CLIENT_FETCH_FLAG_NONE, progress_cb, &progress, NULL, NULL, fetch_done_cb,
                                  &progress);
  fetch_wait (&progress);
  ck_assert_msg (progress.result != NULL, "%s", progress.error->message);
  assert_file_equals (dest_b, content);
  ck_assert_str_eq (kith_client_transfer_get_source (progress.result), kith_test_agent_get_node_id (a->agent));
  ck_assert_uint_eq (kith_test_origin_get_requests (origin, "/pieces.bin"), 1);
  progress_clear (&progress);
}
END_TEST

/* The agent refuses bytes that do not hash to what the caller expects. */
START_TEST (test_fetch_sha256_mismatch)
{
  g_autoptr (KithTestOrigin) origin = kith_test_origin_new ();
  g_autoptr (GBytes) content = kith_test_make_content (64 * 1024, 12);
  g_autoptr (GBytes) other = kith_test_make_content (64 * 1024, 13);
  g_autofree gchar *wrong = kith_test_sha256 (other);
  g_autofree gchar *url = kith_test_origin_url (origin, "/signed.bin");
  g_autoptr (Node) a = node_start ();
  g_autofree gchar *dest = node_path (a, "signed.bin");
  g_autoptr (KithClientTransfer) transfer = NULL;
  g_autoptr (GError) error = NULL;

  kith_test_origin_add (origin, "/signed.bin", content, 0);
  transfer = kith_client_fetch (a->client, url, dest, wrong, KITH_CLIENT_FETCH_FLAG_NONE,
                                NULL, NULL, NULL, &error);
  ck_assert_ptr_null (transfer);
  ck_assert (g_error_matches (error, KITH_CLIENT_ERROR, KITH_CLIENT_ERROR_FAILED));
  ck_assert_msg (strstr (error->message, "expected") != NULL && strstr (error->message, wrong) != NULL,
                 "unclear error: %s", error->message);
  ck_assert_msg (strstr (error->message, url) != NULL, "error names no URL: %s", error->message);
  /* the file this call created is gone again */
  ck_assert (!g_file_test (dest, G_FILE_TEST_EXISTS));
}
END_TEST

/* Cancelling mid-download cancels the agent's transfer too. */
START_TEST (test_fetch_cancel)
{
  g_autoptr (KithTestOrigin) origin = kith_test_origin_new ();
  g_autoptr (GBytes) content = kith_test_make_content (2 * 1024 * 1024, 14);
  g_autofree gchar *url = kith_test_origin_url (origin, "/big.iso");
  g_autoptr (Node) a = node_start ();
  g_autofree gchar *dest = node_path (a, "big.iso");
  g_autoptr (GCancellable) cancellable = g_cancellable_new ();
  Progress progress = { .cancel_when_downloading = cancellable };

  kith_test_origin_add (origin, "/big.iso", content, 100 * 1024); /* 20 s if left alone */
  fetch_start (a, url, dest, cancellable, &progress);
  fetch_wait (&progress);
  ck_assert_ptr_null (progress.result);
  ck_assert_msg (g_error_matches (progress.error, KITH_CLIENT_ERROR, KITH_CLIENT_ERROR_CANCELLED),
                 "%s", progress.error->message);
  ck_assert (g_cancellable_is_cancelled (cancellable));
  /* the agent said so: its transfer failed (not just our side giving up) */
  ck_assert_ptr_nonnull (progress.transfer);
  ck_assert_int_eq (kith_client_transfer_get_state (progress.transfer), KITH_CLIENT_TRANSFER_STATE_FAILED);
  ck_assert_ptr_nonnull (kith_client_transfer_get_error (progress.transfer));
  ck_assert_uint_lt (kith_client_transfer_get_bytes_done (progress.transfer), g_bytes_get_size (content));
  ck_assert (!g_file_test (dest, G_FILE_TEST_EXISTS));
  progress_clear (&progress);
}
END_TEST

/* An agent that dies mid-fetch sends no last state: the fetch still ends, with a clear error. */
START_TEST (test_fetch_agent_gone)
{
  g_autoptr (KithTestOrigin) origin = kith_test_origin_new ();
  g_autoptr (GBytes) content = kith_test_make_content (2 * 1024 * 1024, 18);
  g_autofree gchar *url = kith_test_origin_url (origin, "/crash.bin");
  g_autoptr (KithTestAgent) agent = NULL;
  g_autoptr (KithClient) client = NULL;
  g_autofree gchar *dest = NULL;
  Node *a = node_start ();
  Progress progress = { 0 };

  kith_test_origin_add (origin, "/crash.bin", content, 100 * 1024);
  dest = node_path (a, "crash.bin");
  fetch_start (a, url, dest, NULL, &progress);
  ck_assert (kith_test_wait_until (progress_is_downloading, &progress, 10000));
  /* take the node apart by hand: its agent will not stop cleanly */
  agent = g_steal_pointer (&a->agent);
  client = g_steal_pointer (&a->client);
  g_free (a);
  kith_test_agent_kill (agent);
  fetch_wait (&progress);
  ck_assert_ptr_null (progress.result);
  ck_assert_msg (g_error_matches (progress.error, KITH_CLIENT_ERROR, KITH_CLIENT_ERROR_AGENT_NOT_RUNNING),
                 "%s", progress.error->message);
  ck_assert_msg (strstr (progress.error->message, url) != NULL, "%s", progress.error->message);
  ck_assert (!g_file_test (dest, G_FILE_TEST_EXISTS));
  progress_clear (&progress);
}
END_TEST

/* `kith fetch --pieces FILE`: the hashes one per line, with --sha256 and --size; a list
 * that does not fit the size fails with a message naming the pieces. */
START_TEST (test_cli_fetch_pieces)
{
  g_autoptr (KithTestOrigin) origin = kith_test_origin_new ();
  g_autoptr (GBytes) content = kith_test_make_content (3 * 65536 + 5, 18);
  g_autofree gchar *url = kith_test_origin_url (origin, "/cli-pieces.bin");
  g_autofree gchar *sha = kith_test_sha256 (content);
  g_autofree gchar *size = g_strdup_printf ("%" G_GSIZE_FORMAT, g_bytes_get_size (content));
  g_autoptr (Node) a = node_start ();
  g_autoptr (Node) b = node_start ();
  g_autofree gchar *dest_a = node_path (a, "cli-pieces.bin");
  g_autofree gchar *dest_b = node_path (b, "cli-pieces.bin");
  g_autofree gchar *list = node_path (b, "pieces.txt");
  g_autofree gchar *short_list = node_path (b, "short.txt");
  g_autoptr (GString) hashes = g_string_new (NULL);
  g_autoptr (KithClientTransfer) transfer = NULL;
  g_autoptr (GError) error = NULL;
  g_autofree gchar *out = NULL;
  g_autofree gchar *err = NULL;
  gsize len = g_bytes_get_size (content);

  for (gsize offset = 0; offset < len; offset += 65536) {
    g_autoptr (GBytes) piece = g_bytes_new_from_bytes (content, offset, MIN (65536, len - offset));
    g_autofree gchar *piece_sha = kith_test_sha256 (piece);
    g_string_append_printf (hashes, "%s\n", piece_sha);
  }
  ck_assert (g_file_set_contents (list, hashes->str, -1, NULL));
  ck_assert (g_file_set_contents (short_list, hashes->str + 65, -1, NULL));
  kith_test_origin_add (origin, "/cli-pieces.bin", content, 0);
  transfer = kith_client_fetch (a->client, url, dest_a, sha, KITH_CLIENT_FETCH_FLAG_NONE, NULL, NULL, NULL, &error);
  g_assert_no_error (error);
  ck_assert_int_ne (kith_test_run_cli (b->agent,
                                       (const gchar *const[]) { "fetch", "--sha256", sha, "--size", size,
                                                               "--pieces", short_list, "--piece-size",
                                                               "65536", "-o", dest_b, url, NULL },
                                       NULL, &out, &err),
                    0);
  ck_assert_msg (strstr (err, "pieces") != NULL, "%s", err);
  g_clear_pointer (&out, g_free);
  g_clear_pointer (&err, g_free);
  ck_assert_msg (
      kith_test_run_cli (b->agent,
                         (const gchar *const[]) { "fetch", "--sha256", sha, "--size", size, "--pieces", list,
                                                 "--piece-size", "65536", "-o", dest_b, url, NULL },
                         NULL, &out, &err) == 0,
      "%s", err);
  assert_file_equals (dest_b, content);
  ck_assert_uint_eq (kith_test_origin_get_requests (origin, "/cli-pieces.bin"), 1);
}
END_TEST

/* `kith fetch` as a process, output to a pipe: plain lines naming the source. */
START_TEST (test_cli_fetch)
{
  g_autoptr (KithTestOrigin) origin = kith_test_origin_new ();
  g_autoptr (GBytes) content = kith_test_make_content (400 * 1024, 15);
  g_autofree gchar *url = kith_test_origin_url (origin, "/cli.tar");
  g_autofree gchar *sha = kith_test_sha256 (content);
  g_autoptr (Node) a = node_start ();
  g_autoptr (Node) b = node_start ();
  g_autofree gchar *dest_a = node_path (a, "cli.tar");
  g_autofree gchar *dest_b = node_path (b, "cli.tar");
  g_autofree gchar *out = NULL;
  g_autofree gchar *err = NULL;
  g_autofree gchar *json_out = NULL;
  g_autofree gchar *json_err = NULL;
  g_autoptr (JsonParser) parser = json_parser_new ();
  JsonObject *object;
  gint rc;

  kith_test_origin_add (origin, "/cli.tar", content, 0);
  rc = kith_test_run_cli (a->agent, (const gchar *[]) { "fetch", url, "-o", dest_a, "--sha256", sha, NULL },
                          NULL, &out, &err);
  ck_assert_msg (rc == 0, "rc %d: %s", rc, err);
  assert_file_equals (dest_a, content);
  /* progress and summary on stderr; stdout stays for data */
  ck_assert_str_eq (out, "");
  ck_assert_msg (strstr (err, "from-origin: origin") != NULL, "no state line: %s", err);
  ck_assert_msg (strstr (err, "Fetched ") != NULL && strstr (err, "from origin") != NULL,
                 "no summary: %s", err);
  ck_assert_msg (strchr (err, '\r') == NULL && strstr (err, "\033[") == NULL,
                 "terminal codes in plain output: %s", err);

  /* --json: one object, the source is A */
  rc = kith_test_run_cli (b->agent, (const gchar *[]) { "--json", "fetch", url, "-o", dest_b, NULL }, NULL,
                          &json_out, &json_err);
  ck_assert_msg (rc == 0, "rc %d: %s", rc, json_err);
  assert_file_equals (dest_b, content);
  ck_assert_msg (json_parser_load_from_data (parser, json_out, -1, NULL), "not JSON: %s", json_out);
  object = json_node_get_object (json_parser_get_root (parser));
  ck_assert_str_eq (json_object_get_string_member (object, "source"), kith_test_agent_get_node_id (a->agent));
  ck_assert_str_eq (json_object_get_string_member (object, "state"), "done");
  ck_assert_int_eq (json_object_get_int_member (object, "bytes"), (gint64) g_bytes_get_size (content));
  ck_assert_uint_eq (kith_test_origin_get_requests (origin, "/cli.tar"), 1);

  /* kith peers on B lists A, heard answering: its address, when, and what it holds */
  {
    g_autofree gchar *peers_out = NULL, *peers_err = NULL, *human = NULL, *human_err = NULL;
    g_autoptr (JsonParser) peers_parser = json_parser_new ();
    JsonArray *peers;
    JsonObject *peer = NULL;

    rc = kith_test_run_cli (b->agent, (const gchar *[]) { "--json", "peers", NULL }, NULL, &peers_out,
                            &peers_err);
    ck_assert_msg (rc == 0, "kith peers: rc %d: %s", rc, peers_err);
    ck_assert_msg (json_parser_load_from_data (peers_parser, peers_out, -1, NULL), "not JSON: %s", peers_out);
    peers = json_node_get_array (json_parser_get_root (peers_parser));
    for (guint i = 0; i < json_array_get_length (peers); i++) {
      JsonObject *p = json_array_get_object_element (peers, i);
      if (g_strcmp0 (json_object_get_string_member (p, "node"), kith_test_agent_get_node_id (a->agent)) == 0)
        peer = p;
    }
    ck_assert_msg (peer != NULL, "A not among the peers B heard: %s", peers_out);
    ck_assert (g_str_has_prefix (json_object_get_string_member (peer, "address"), "127."));
    ck_assert_int_gt (json_object_get_int_member (peer, "last-seen"), 0);
    ck_assert_str_eq (json_object_get_string_member (peer, "href"), url);
    rc = kith_test_run_cli (b->agent, (const gchar *[]) { "peers", NULL }, NULL, &human, &human_err);
    ck_assert_int_eq (rc, 0);
    ck_assert_msg (strstr (human, "LAST SEEN") != NULL && strstr (human, " ago") != NULL, "%s", human);
  }
}
END_TEST

/* -o - writes the data (and only the data) to stdout; -O names the file after the URL. */
START_TEST (test_cli_fetch_stdout_and_remote_name)
{
  g_autoptr (KithTestOrigin) origin = kith_test_origin_new ();
  static const gchar text[] = "kith: the data, and only the data, on standard output\n";
  g_autoptr (GBytes) content = g_bytes_new_static (text, sizeof text - 1);
  g_autofree gchar *url = kith_test_origin_url (origin, "/dir/notes-v1.txt");
  g_autoptr (Node) a = node_start ();
  g_autofree gchar *named = node_path (a, "notes-v1.txt");
  g_autofree gchar *root_url = kith_test_origin_url (origin, "/");
  g_autofree gchar *out = NULL, *err = NULL, *out2 = NULL, *err2 = NULL, *out3 = NULL, *err3 = NULL;
  const gchar *argv_remote[] = { "env", "-C", kith_test_agent_get_dir (a->agent), g_getenv ("KITH_CLI_BIN"),
                                 "--address", kith_test_agent_get_dbus_address (a->agent), "fetch", url, "-O",
                                 NULL };
  gint rc;

  kith_test_origin_add (origin, "/dir/notes-v1.txt", content, 0);
  rc = kith_test_run_cli (a->agent, (const gchar *[]) { "fetch", url, "-o", "-", NULL }, NULL, &out, &err);
  ck_assert_msg (rc == 0, "rc %d: %s", rc, err);
  ck_assert_str_eq (out, text);
  ck_assert_msg (strstr (err, "Fetched ") != NULL && strstr (err, "standard output") != NULL, "summary: %s", err);
  ck_assert_msg (!g_file_test ("-", G_FILE_TEST_EXISTS), "-o - created a file named -");
  rc = kith_test_run (argv_remote, NULL, &out2, &err2);
  ck_assert_msg (rc == 0, "rc %d: %s", rc, err2);
  assert_file_equals (named, content);
  rc = kith_test_run_cli (a->agent, (const gchar *[]) { "fetch", root_url, "-O", NULL }, NULL, &out3, &err3);
  ck_assert_int_eq (rc, 64);
  ck_assert_msg (strstr (err3, "names no file") != NULL, "%s", err3);
  /* a person's --sha256 in capitals names the same bytes */
  {
    g_autofree gchar *sha = kith_test_sha256 (content);
    g_autofree gchar *upper = g_ascii_strup (sha, -1);
    g_autofree gchar *out4 = NULL, *err4 = NULL;
    rc = kith_test_run_cli (a->agent, (const gchar *[]) { "fetch", url, "-o", "-", "--sha256", upper, NULL }, NULL,
                            &out4, &err4);
    ck_assert_msg (rc == 0, "rc %d: %s", rc, err4);
    ck_assert_str_eq (out4, text);
  }
}
END_TEST

/* Bad URLs: a non-zero exit and a message that says what went wrong. */
START_TEST (test_cli_fetch_bad_url)
{
  g_autoptr (KithTestOrigin) origin = kith_test_origin_new ();
  g_autofree gchar *missing = kith_test_origin_url (origin, "/nothing-here");
  g_autoptr (Node) a = node_start ();
  g_autofree gchar *dest = node_path (a, "out");
  g_autofree gchar *out = NULL;
  g_autofree gchar *err = NULL;
  g_autofree gchar *out2 = NULL;
  g_autofree gchar *err2 = NULL;
  g_autofree gchar *out3 = NULL;
  g_autofree gchar *err3 = NULL;
  gint rc;

  rc = kith_test_run_cli (a->agent, (const gchar *[]) { "fetch", "ftp://example.invalid/x", "-o", dest, NULL },
                          NULL, &out, &err);
  ck_assert_int_eq (rc, 1);
  ck_assert_msg (strstr (err, "ftp://example.invalid/x") != NULL && strstr (err, "http") != NULL,
                 "unclear: %s", err);
  ck_assert (!g_file_test (dest, G_FILE_TEST_EXISTS));

  /* a URL the origin does not have */
  rc = kith_test_run_cli (a->agent, (const gchar *[]) { "fetch", missing, "-o", dest, NULL }, NULL, &out2,
                          &err2);
  ck_assert_int_ne (rc, 0);
  ck_assert_msg (strstr (err2, "Fetching") != NULL && strstr (err2, missing) != NULL, "unclear: %s", err2);
  ck_assert (!g_file_test (dest, G_FILE_TEST_EXISTS));

  /* no -o: a usage error */
  rc = kith_test_run_cli (a->agent, (const gchar *[]) { "fetch", missing, NULL }, NULL, &out3, &err3);
  ck_assert_int_eq (rc, 64);
  ck_assert_msg (strstr (err3, "--output") != NULL, "unclear: %s", err3);

  /* a --sha256 that is not 64 hex digits, in either case: a usage error */
  {
    const gchar *bad[] = { "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdeg",
                           "0123456789ABCDEF0123456789ABCDEF0123456789ABCDEF0123456789ABCDE" };
    for (guint i = 0; i < G_N_ELEMENTS (bad); i++) {
      g_autofree gchar *out4 = NULL, *err4 = NULL;
      rc = kith_test_run_cli (a->agent, (const gchar *[]) { "fetch", missing, "-o", dest, "--sha256", bad[i], NULL },
                              NULL, &out4, &err4);
      ck_assert_int_eq (rc, 64);
      ck_assert_msg (strstr (err4, "--sha256 needs 64 hex digits") != NULL, "unclear: %s", err4);
      ck_assert (!g_file_test (dest, G_FILE_TEST_EXISTS));
    }
  }
}
END_TEST

typedef struct {
  const gchar *href;
  const gchar *node;
  guint seen;
  guint64 last_done;
} PeerWatch;

static void
peer_download_cb (KithClient *client, const gchar *href, const gchar *node, guint64 done,
                  guint64 total, PeerWatch *watch)
{
  if (g_strcmp0 (href, watch->href) != 0 || g_strcmp0 (node, watch->node) != 0)
    return;
  watch->seen++;
  watch->last_done = done;
}

static gboolean
peer_download_seen (gpointer user_data)
{
  PeerWatch *watch = user_data;
  return watch->seen > 0 && watch->last_done > 0;
}

/* W hears A's download announcements: through libkith, then through `kith watch`. */
START_TEST (test_watch_peer_downloads)
{
  g_autoptr (KithTestOrigin) origin = kith_test_origin_new ();
  g_autoptr (GBytes) content = kith_test_make_content (1024 * 1024, 16);
  g_autofree gchar *url = kith_test_origin_url (origin, "/watched.img");
  g_autoptr (Node) w = node_start ();
  g_autoptr (Node) a = node_start ();
  g_autofree gchar *dest = node_path (a, "watched.img");
  g_autoptr (GCancellable) cancellable = g_cancellable_new ();
  g_autoptr (GError) error = NULL;
  g_autofree gchar *out = NULL;
  g_autofree gchar *err = NULL;
  PeerWatch watch = { .href = url, .node = kith_test_agent_get_node_id (a->agent) };
  Progress progress = { 0 };
  gint rc;

  kith_test_origin_add (origin, "/watched.img", content, 200 * 1024); /* about 5 s */
  ck_assert (kith_client_watch_peers (w->client, &error));
  ck_assert (kith_client_watch_peers (w->client, &error)); /* again: no second subscription */
  g_signal_connect (w->client, "peer-download", G_CALLBACK (peer_download_cb), &watch);
  fetch_start (a, url, dest, cancellable, &progress);
  ck_assert (kith_test_wait_until (progress_is_downloading, &progress, 10000));
  ck_assert_msg (kith_test_wait_until (peer_download_seen, &watch, 5000), "no PeerDownload for %s", url);

  /* A still downloads (announcing every 250 ms) while the command watches for a second */
  rc = kith_test_run_cli (w->agent, (const gchar *[]) { "watch", "--duration", "1", NULL }, NULL, &out, &err);
  ck_assert_msg (rc == 0, "rc %d: %s", rc, err);
  ck_assert_msg (strstr (out, url) != NULL, "href not in output: %s", out);
  ck_assert_msg (strstr (out, kith_test_agent_get_node_id (a->agent)) != NULL, "node not in output: %s", out);
  ck_assert_msg (strstr (out, "counters: ") != NULL && strstr (out, "misses") != NULL,
                 "no counters: %s", out);
  ck_assert (!progress.finished); /* it really watched a download in progress */

  g_cancellable_cancel (cancellable);
  fetch_wait (&progress);
  g_signal_handlers_disconnect_by_data (w->client, &watch);
  progress_clear (&progress);
}
END_TEST

/* A `kith watch` in a tmux session of its own (private server socket). */
typedef struct {
  gchar *socket;
  const gchar *want[3]; /* what the screen must show, all of it */
  const gchar *row_node; /* the node whose download's row must show, or NULL */
  const gchar *row_want; /* and what that row must show, or NULL */
  gchar *screen;        /* the last capture */
} Tmux;

/* A download's row starts with ↓ (or ✓ when done) and the node. */
static gchar *screen_row (const gchar *screen, const gchar *node);

static gboolean
tmux_run (Tmux *tmux, const gchar *const *args, gchar **out)
{
  g_autoptr (GPtrArray) argv = g_ptr_array_new ();
  g_autofree gchar *err = NULL;

  g_ptr_array_add (argv, (gpointer) "tmux");
  g_ptr_array_add (argv, (gpointer) "-u"); /* UTF-8 whatever the locale */
  g_ptr_array_add (argv, (gpointer) "-S");
  g_ptr_array_add (argv, tmux->socket);
  for (guint i = 0; args[i] != NULL; i++)
    g_ptr_array_add (argv, (gpointer) args[i]);
  g_ptr_array_add (argv, NULL);
  return kith_test_run ((const gchar *const *) argv->pdata, NULL, out, &err) == 0;
}

static gboolean
tmux_shows (gpointer user_data)
{
  Tmux *tmux = user_data;

  g_clear_pointer (&tmux->screen, g_free);
  if (!tmux_run (tmux, (const gchar *[]) { "capture-pane", "-p", "-t", "watch", NULL }, &tmux->screen))
    return FALSE;
  for (guint i = 0; i < G_N_ELEMENTS (tmux->want) && tmux->want[i] != NULL; i++)
    if (strstr (tmux->screen, tmux->want[i]) == NULL)
      return FALSE;
  if (tmux->row_node != NULL) {
    g_autofree gchar *row = screen_row (tmux->screen, tmux->row_node);
    return row != NULL && (tmux->row_want == NULL || strstr (row, tmux->row_want) != NULL);
  }
  return TRUE;
}

static gboolean
tmux_poll_tick (gpointer user_data)
{
  return G_SOURCE_CONTINUE; /* wakes the waiting loop up to look at the screen again */
}

/* Waits (bounded) until the pane shows every string of @want. */
static gboolean
tmux_wait_for (Tmux *tmux, const gchar *a, const gchar *b, const gchar *c)
{
  guint tick = g_timeout_add (100, tmux_poll_tick, NULL);
  gboolean shown;

  tmux->want[0] = a;
  tmux->want[1] = b;
  tmux->want[2] = c;
  shown = kith_test_wait_until (tmux_shows, tmux, 15000);
  g_source_remove (tick);
  return shown;
}

static gboolean
file_exists (gpointer user_data)
{
  return g_file_test (user_data, G_FILE_TEST_EXISTS);
}

static gchar *
screen_row (const gchar *screen, const gchar *node)
{
  g_auto (GStrv) lines = g_strsplit (screen, "\n", -1);

  for (guint i = 0; lines[i] != NULL; i++)
    if ((g_str_has_prefix (lines[i], "↓ ") || g_str_has_prefix (lines[i], "✓ ")) &&
        g_str_has_prefix (lines[i] + strlen ("↓ "), node))
      return g_strdup (lines[i]);
  return NULL;
}

/* The longest line of @screen in display columns. */
static guint
screen_widest (const gchar *screen)
{
  g_auto (GStrv) lines = g_strsplit (screen, "\n", -1);
  guint widest = 0;

  for (guint i = 0; lines[i] != NULL; i++) {
    const gchar *p = lines[i];
    guint cols = 0;
    for (; *p != '\0'; p = g_utf8_next_char (p))
      cols += g_unichar_iswide (g_utf8_get_char (p)) ? 2 : 1;
    widest = MAX (widest, cols);
  }
  return widest;
}

/* `kith watch` on a real terminal: the dashboard on the alternate screen at 80×24 and, after
 * a resize, 120×40, with A's download and the savings line; q quits with 0 and leaves it. */
START_TEST (test_watch_dashboard)
{
  g_autoptr (KithTestOrigin) origin = kith_test_origin_new ();
  g_autoptr (GBytes) content = kith_test_make_content (1024 * 1024, 18);
  g_autofree gchar *url = kith_test_origin_url (origin, "/dashboard.img");
  g_autoptr (Node) w = node_start ();
  g_autoptr (Node) a = node_start ();
  g_autofree gchar *dest = node_path (a, "dashboard.img");
  g_autofree gchar *rc_file = node_path (w, "watch.rc");
  g_autofree gchar *short_a = g_strndup (kith_test_agent_get_node_id (a->agent), 8);
  g_autoptr (GCancellable) cancellable = g_cancellable_new ();
  g_autofree gchar *bin = g_find_program_in_path ("tmux");
  g_autofree gchar *command = NULL;
  g_autofree gchar *alternate = NULL;
  g_autofree gchar *rc = NULL;
  g_autofree gchar *row = NULL;
  Tmux tmux = { .socket = node_path (w, "tmux.sock") };
  Progress progress = { 0 };
  guint tick;

  if (bin == NULL) {
    g_printerr ("tmux not installed: dashboard not checked\n");
    return;
  }
  /* the shell stays (reading) after kith exits, so the screen it left can be read; all of
   * it, and with it the tmux server, ends within 90 s even if the test fails */
  command = g_strdup_printf ("exec timeout 90 sh -c 'KITH_AGENT_ADDRESS=\"%s\" \"%s\" watch; echo $? > \"%s\"; read line'",
                             kith_test_agent_get_dbus_address (w->agent), g_getenv ("KITH_CLI_BIN"), rc_file);
  ck_assert (tmux_run (&tmux, (const gchar *[]) { "-f", "/dev/null", "new-session", "-d", "-s", "watch",
                                                 "-x", "80", "-y", "24", command, NULL }, NULL));
  ck_assert_msg (tmux_wait_for (&tmux, "kith watch", "Savings:", NULL), "no dashboard: %s", tmux.screen);

  kith_test_origin_add (origin, "/dashboard.img", content, 200 * 1024); /* about 5 s */
  fetch_start (a, url, dest, cancellable, &progress);
  /* the row: A's node, its progress; at 80 columns the href is cut to what is left */
  tmux.row_node = short_a;
  ck_assert_msg (tmux_wait_for (&tmux, "Savings:", NULL, NULL), "no row for A: %s", tmux.screen);
  row = screen_row (tmux.screen, short_a);
  ck_assert_msg (strstr (row, url) == NULL && g_str_has_suffix (row, "…"), "row not fitted to 80 columns: %s", row);
  ck_assert_msg (screen_widest (tmux.screen) <= 80, "wider than 80 columns: %s", tmux.screen);
  ck_assert (tmux_run (&tmux, (const gchar *[]) { "display-message", "-p", "-t", "watch", "#{alternate_on}", NULL },
                       &alternate));
  ck_assert_str_eq (g_strstrip (alternate), "1");

  /* bigger: redrawn to the new size, the whole href now fits */
  ck_assert (tmux_run (&tmux, (const gchar *[]) { "resize-window", "-t", "watch", "-x", "120", "-y", "40", NULL }, NULL));
  tmux.row_want = url;
  ck_assert_msg (tmux_wait_for (&tmux, "Savings:", NULL, NULL), "row not redrawn at 120x40: %s", tmux.screen);
  tmux.row_node = NULL;
  ck_assert_msg (screen_widest (tmux.screen) <= 120, "wider than 120 columns: %s", tmux.screen);

  ck_assert (tmux_run (&tmux, (const gchar *[]) { "send-keys", "-t", "watch", "q", NULL }, NULL));
  tick = g_timeout_add (100, tmux_poll_tick, NULL);
  ck_assert_msg (kith_test_wait_until (file_exists, rc_file, 10000), "kith watch did not quit on q: %s", tmux.screen);
  g_source_remove (tick);
  ck_assert (g_file_get_contents (rc_file, &rc, NULL, NULL));
  ck_assert_str_eq (g_strstrip (rc), "0");
  g_clear_pointer (&alternate, g_free);
  ck_assert (tmux_run (&tmux, (const gchar *[]) { "display-message", "-p", "-t", "watch", "#{alternate_on}", NULL },
                       &alternate));
  ck_assert_str_eq (g_strstrip (alternate), "0");
  tmux_run (&tmux, (const gchar *[]) { "kill-server", NULL }, NULL);

  g_cancellable_cancel (cancellable);
  fetch_wait (&progress);
  progress_clear (&progress);
  g_free (tmux.screen);
  g_free (tmux.socket);
}
END_TEST

/* An agent without the peering plugin: watching says so at once. */
START_TEST (test_watch_without_peering)
{
  g_autoptr (KithTestAgent) agent = kith_test_agent_new ("", NULL);
  g_autoptr (KithClient) client = kith_client_new ();
  g_autoptr (GError) error = NULL;

  ck_assert_msg (kith_test_agent_start (agent, &error), "%s", error ? error->message : "");
  kith_client_set_address (client, kith_test_agent_get_dbus_address (agent));
  ck_assert (kith_client_connect (client, NULL, &error));
  ck_assert (!kith_client_watch_peers (client, &error));
  ck_assert (g_error_matches (error, KITH_CLIENT_ERROR, KITH_CLIENT_ERROR_PLUGIN_MISSING));
}
END_TEST

/* The Error property of a failed transfer becomes a KITH_CLIENT_ERROR code. */
START_TEST (test_transfer_error_mapping)
{
  static const struct {
    const gchar *reason;
    KithClientError code;
    const gchar *message_part;
  } cases[] = {
    { "org.kith.Error.NotFound: nobody has it", KITH_CLIENT_ERROR_NOT_FOUND, "nobody has it" },
    { "org.kith.Error.InvalidArgs: bad sha256", KITH_CLIENT_ERROR_INVALID_ARGS, "bad sha256" },
    { "org.kith.Error.Cancelled: stopped", KITH_CLIENT_ERROR_CANCELLED, "stopped" },
    /* what the agent sends for a GIO cancel */
    { "org.gtk.GDBus.UnmappedGError.Quark._g_2dio_2derror_2dquark.Code19: the transfer was cancelled",
      KITH_CLIENT_ERROR_CANCELLED, "the transfer was cancelled" },
    { "org.example.Unknown: odd", KITH_CLIENT_ERROR_FAILED, "odd" },
    { "no name here", KITH_CLIENT_ERROR_FAILED, "no name here" },
    { "", KITH_CLIENT_ERROR_FAILED, "no reason" },
    { NULL, KITH_CLIENT_ERROR_FAILED, "no reason" },
  };

  for (gsize i = 0; i < G_N_ELEMENTS (cases); i++) {
    g_autoptr (GError) error = kith_client_error_new_for_transfer ("http://o/x", cases[i].reason);
    ck_assert_msg (g_error_matches (error, KITH_CLIENT_ERROR, cases[i].code), "%s: got %s",
                   cases[i].reason, error->message);
    ck_assert_msg (strstr (error->message, cases[i].message_part) != NULL &&
                   strstr (error->message, "http://o/x") != NULL, "%s", error->message);
    ck_assert_msg (strstr (error->message, "GDBus") == NULL, "%s", error->message);
  }
}
END_TEST

#ifdef KITH_TEST_DBUS_DAEMON
/* On a bus, calls and signals are routed by the daemon: fds must pass through it, and the
 * transfer's and PeerDownload's signals come from the agent's unique name. */
START_TEST (test_fetch_on_session_bus)
{
  g_autoptr (KithTestBus) bus = kith_test_bus_new (KITH_TEST_DBUS_DAEMON);
  g_autoptr (KithTestOrigin) origin = kith_test_origin_new ();
  g_autoptr (GBytes) content = kith_test_make_content (800 * 1024, 17);
  g_autofree gchar *url = kith_test_origin_url (origin, "/bus.bin");
  g_autoptr (GError) error = NULL;
  g_autofree gchar *dest = NULL;
  g_autofree gchar *dest_b = NULL;
  Node *a, *b;
  PeerWatch watch = { .href = url };
  Progress progress = { 0 }, progress_b = { 0 };

  ck_assert_ptr_nonnull (bus); /* DBUS_SESSION_BUS_ADDRESS now names it */

  g_unsetenv ("KITH_AGENT_ADDRESS");

  kith_test_origin_add (origin, "/bus.bin", content, 400 * 1024);
  a = node_start_full (TRUE);
  b = node_start ();
  dest = node_path (a, "bus.bin");
  dest_b = node_path (b, "bus.bin");
  watch.node = kith_test_agent_get_node_id (b->agent);
  ck_assert (kith_client_watch_peers (a->client, &error));
  g_signal_connect (a->client, "peer-download", G_CALLBACK (peer_download_cb), &watch);

  /* B downloads from origin: A's bus client hears about it; then A gets it from B */
  fetch_start (b, url, dest_b, NULL, &progress_b);
  ck_assert_msg (kith_test_wait_until (peer_download_seen, &watch, 10000), "no PeerDownload on the bus");
  fetch_start (a, url, dest, NULL, &progress);
  fetch_wait (&progress);
  ck_assert_msg (progress.result != NULL, "%s", progress.error->message);
  assert_file_equals (dest, content);
  ck_assert_str_eq (kith_client_transfer_get_source (progress.result), kith_test_agent_get_node_id (b->agent));
  ck_assert_int_eq (progress.last_state, KITH_CLIENT_TRANSFER_STATE_DONE);
  fetch_wait (&progress_b);
  ck_assert_uint_eq (kith_test_origin_get_requests (origin, "/bus.bin"), 1);

  g_signal_handlers_disconnect_by_data (a->client, &watch);
  progress_clear (&progress);
  progress_clear (&progress_b);
  node_free (a);
  node_free (b);
}
END_TEST
#endif

static Suite *
fetch_cli_suite (void)
{
  Suite *suite = suite_create ("fetch-cli");
  TCase *tc = tcase_create ("fetch-cli");

  tcase_set_timeout (tc, 120);
  tcase_add_test (tc, test_transfer_error_mapping);
  tcase_add_test (tc, test_fetch_origin_then_peer);
  tcase_add_test (tc, test_fetch_sha256_mismatch);
  tcase_add_test (tc, test_fetch_pieces);
  tcase_add_test (tc, test_fetch_cancel);
  tcase_add_test (tc, test_fetch_agent_gone);
  tcase_add_test (tc, test_cli_fetch);
  tcase_add_test (tc, test_cli_fetch_pieces);
  tcase_add_test (tc, test_cli_fetch_bad_url);
  tcase_add_test (tc, test_cli_fetch_stdout_and_remote_name);
  tcase_add_test (tc, test_watch_peer_downloads);
  tcase_add_test (tc, test_watch_dashboard);
  tcase_add_test (tc, test_watch_without_peering);
#ifdef KITH_TEST_DBUS_DAEMON
  tcase_add_test (tc, test_fetch_on_session_bus);
#endif
  suite_add_tcase (suite, tc);
  return suite;
}

int
main (void)
{
  /* our own port: other suites' agents on this host must not answer ours */
  test_port = g_random_int_range (20000, 60000);
  return kith_test_run_suite (fetch_cli_suite ());
}
