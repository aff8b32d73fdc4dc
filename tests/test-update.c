/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* test-update.c — the update plugin: the schedule as arithmetic, then a real kith-backend
 * process and real agents on loopback: one release reaches four nodes with each file
 * leaving the backend once; lying peers, bad catalogs and kills during install never
 * leave anything but a whole set */
#include "kith-catalog.h"
#include "kith-crypto.h"
#include "kith-test-attacker.h"
#include "kith-test-node.h"
#include "kith-test-backend.h"
#include "kith-update-schedule.h"

#include <check.h>

#include "kith-test-suite.h"
#include <gio/gio.h>
#include <glib/gstdio.h>
#include <json-glib/json-glib.h>
#include <stdio.h>
#include <string.h>

static guint16 test_port;

/* ---- the schedule, with an injected clock and random draw ---- */

START_TEST (test_schedule)
{
  KithUpdateSchedule schedule;
  const gint64 now = 1795000000000; /* any clock: the schedule only adds to it */

  kith_update_schedule_init (&schedule);
  ck_assert_uint_eq (schedule.first_check_ms, 5 * 60 * 1000);
  ck_assert_uint_eq (schedule.interval_ms, 12 * 3600 * 1000ULL);
  ck_assert_uint_eq (schedule.retry_interval_ms, 6 * 3600 * 1000ULL);
  ck_assert_uint_eq (schedule.jitter_percent, 10);

  /* the middle draw is the base delay; the extremes are base ± 10 % */
  ck_assert_int_eq (kith_update_schedule_next_ms (&schedule, KITH_UPDATE_SCHEDULE_START, now, 0.5),
                    now + 5 * 60 * 1000);
  ck_assert_int_eq (kith_update_schedule_next_ms (&schedule, KITH_UPDATE_SCHEDULE_SUCCESS, now, 0.5),
                    now + 12 * 3600 * 1000LL);
  ck_assert_int_eq (kith_update_schedule_next_ms (&schedule, KITH_UPDATE_SCHEDULE_FAILURE, now, 0.5),
                    now + 6 * 3600 * 1000LL);
  ck_assert_uint_eq (kith_update_schedule_delay_ms (&schedule, KITH_UPDATE_SCHEDULE_START, 0.0), 270000);
  ck_assert_uint_eq (kith_update_schedule_delay_ms (&schedule, KITH_UPDATE_SCHEDULE_SUCCESS, 0.0),
                     12 * 3600 * 900ULL);
  ck_assert_uint_eq (kith_update_schedule_delay_ms (&schedule, KITH_UPDATE_SCHEDULE_FAILURE, 1.0),
                     6 * 3600 * 1100ULL);
  /* every draw stays inside the bounds */
  for (guint i = 0; i <= 1000; i++) {
    guint64 delay = kith_update_schedule_delay_ms (&schedule, KITH_UPDATE_SCHEDULE_SUCCESS, i / 1000.0);
    ck_assert_uint_ge (delay, 12 * 3600 * 900ULL);
    ck_assert_uint_le (delay, 12 * 3600 * 1100ULL);
  }
  /* out-of-range draws are clamped; no jitter means exactly the base */
  ck_assert_uint_eq (kith_update_schedule_delay_ms (&schedule, KITH_UPDATE_SCHEDULE_START, 7.0), 330000);
  schedule.jitter_percent = 0;
  ck_assert_uint_eq (kith_update_schedule_delay_ms (&schedule, KITH_UPDATE_SCHEDULE_FAILURE, 0.99),
                     6 * 3600 * 1000ULL);
  /* configured values are used as given (a 90 s first check, ±20 %) */
  schedule.first_check_ms = 90000;
  schedule.jitter_percent = 20;
  ck_assert_uint_eq (kith_update_schedule_delay_ms (&schedule, KITH_UPDATE_SCHEDULE_START, 0.0), 72000);
  ck_assert_uint_eq (kith_update_schedule_delay_ms (&schedule, KITH_UPDATE_SCHEDULE_START, 1.0), 108000);
}
END_TEST

/* ---- agents ---- */

/* the [peering] keys of a node of these cases */
#define NODE_PEERING "max-delay-ms=300\nclient-wait-ms=400"

/* A node of @backend that trusts the CA of @anchor (another vendor's, in the TLS test), with
 * @peering_keys in its [peering] group. */
static KithTestNode *
node_new_full (KithTestBackend *backend, KithTestBackend *anchor, const gchar *peering_keys,
               const gchar *agent_extra, const gchar *update_extra)
{
  g_autofree gchar *peering = kith_test_node_peering_config (test_port, peering_keys);
  g_autofree gchar *config = NULL;

  config = g_strdup_printf ("backend-url=%s\n"
                            "trust-anchor=%s\n"
                            "%s\n"
                            "%s"
                            "[update]\n"
                            "first-check=1h\n"
                            "%s\n",
                            kith_test_backend_get_url (backend), kith_test_backend_get_ca (anchor),
                            agent_extra != NULL ? agent_extra : "", peering,
                            update_extra != NULL ? update_extra : "");
  return kith_test_node_new ("peering;update", config);
}

static KithTestNode *
node_new_anchored (KithTestBackend *backend, KithTestBackend *anchor, const gchar *agent_extra,
                   const gchar *update_extra)
{
  return node_new_full (backend, anchor, NODE_PEERING, agent_extra, update_extra);
}

/* A path under @node's installed signature sets (state/update/signatures); caller frees. */
static gchar *
node_signatures_path (KithTestNode *node, const gchar *name, const gchar *child)
{
  return g_build_filename (kith_test_agent_get_dir (node->agent), "state", "update", "signatures", name,
                           child, NULL);
}

static KithTestNode *
node_new (KithTestBackend *backend, const gchar *agent_extra, const gchar *update_extra)
{
  return node_new_anchored (backend, backend, agent_extra, update_extra);
}

static KithTestNode *
node_start_new (KithTestBackend *backend, const gchar *agent_extra, const gchar *update_extra)
{
  KithTestNode *node = node_new (backend, agent_extra, update_extra);
  kith_test_node_start (node);
  return node;
}

typedef struct {
  gchar *result;
  GError *error;
  gboolean done;
} CheckCall;

static void
check_call_free (CheckCall *call)
{
  g_free (call->result);
  g_clear_error (&call->error);
  g_free (call);
}
G_DEFINE_AUTOPTR_CLEANUP_FUNC (CheckCall, check_call_free)

static void
check_call_cb (GObject *source, GAsyncResult *result, gpointer user_data)
{
  CheckCall *call = user_data;
  g_autoptr (GVariant) reply = g_dbus_connection_call_finish (G_DBUS_CONNECTION (source), result,
                                                             &call->error);
  if (reply != NULL)
    g_variant_get (reply, "(s)", &call->result);
  if (call->error != NULL)
    g_dbus_error_strip_remote_error (call->error);
  call->done = TRUE;
}

static CheckCall *
check_begin (KithTestNode *node)
{
  CheckCall *call = g_new0 (CheckCall, 1);
  g_dbus_connection_call (node->connection, NULL, "/org/kith/Agent1/Update", "org.kith.Update1", "Check",
                          NULL, G_VARIANT_TYPE ("(s)"), G_DBUS_CALL_FLAGS_NONE, 120000, NULL,
                          check_call_cb, call);
  return call;
}

static gboolean
check_is_done (gpointer user_data)
{
  return ((CheckCall *) user_data)->done;
}

/* Check() from start to end; the reply (or the error) is in the result. */
static CheckCall *
check_sync (KithTestNode *node)
{
  CheckCall *call = check_begin (node);
  ck_assert_msg (kith_test_wait_until (check_is_done, call, 60000), "Check() did not return");
  return call;
}

static GVariant *
update_property (KithTestNode *node, const gchar *name)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GVariant) reply = g_dbus_connection_call_sync (
      node->connection, NULL, "/org/kith/Agent1/Update", "org.freedesktop.DBus.Properties", "Get",
      g_variant_new ("(ss)", "org.kith.Update1", name), G_VARIANT_TYPE ("(v)"),
      G_DBUS_CALL_FLAGS_NONE, -1, NULL, &error);
  GVariant *value = NULL;

  g_assert_no_error (error);
  g_variant_get (reply, "(v)", &value);
  return value;
}

static guint64
node_catalog_version (KithTestNode *node)
{
  g_autoptr (GVariant) value = update_property (node, "CatalogVersion");
  return g_variant_get_uint64 (value);
}

static gchar *
read_file (const gchar *path)
{
  gchar *data = NULL;
  ck_assert_msg (g_file_get_contents (path, &data, NULL, NULL), "cannot read %s", path);
  return data;
}

/* current/ of @node is exactly the release in @src (NAME-STAMP.cab → NAME), nothing else. */
static void
assert_set_is (KithTestNode *node, const gchar *src)
{
  g_autoptr (GDir) dir = g_dir_open (src, 0, NULL);
  g_autofree gchar *current = node_signatures_path (node, "current", NULL);
  g_autoptr (GDir) installed = g_dir_open (current, 0, NULL);
  const gchar *name;
  guint expected = 0, found = 0;

  ck_assert_ptr_nonnull (dir);
  ck_assert_msg (installed != NULL, "no %s", current);
  while ((name = g_dir_read_name (dir)) != NULL) {
    g_autofree gchar *short_name = g_strndup (name, strchr (name, '-') - name);
    g_autofree gchar *src_path = g_build_filename (src, name, NULL);
    g_autofree gchar *dst_path = g_build_filename (current, short_name, NULL);
    g_autofree gchar *want = NULL;
    g_autofree gchar *have = NULL;
    gsize want_len = 0, have_len = 0;

    g_assert_true (g_file_get_contents (src_path, &want, &want_len, NULL));
    ck_assert_msg (g_file_get_contents (dst_path, &have, &have_len, NULL), "%s missing", dst_path);
    ck_assert_uint_eq (have_len, want_len);
    ck_assert_msg (memcmp (have, want, want_len) == 0, "%s differs from %s", dst_path, src_path);
    expected++;
  }
  while ((name = g_dir_read_name (installed)) != NULL)
    if (name[0] != '.')
      found++;
  ck_assert_uint_eq (found, expected);
}

/* current/ is a whole set: every file of its manifest, with the manifest's size and sha256. */
static gint64
assert_set_whole (KithTestNode *node)
{
  g_autofree gchar *manifest_path = node_signatures_path (node, "current", ".manifest.json");
  g_autofree gchar *text = read_file (manifest_path);
  g_autoptr (GBytes) bytes = g_bytes_new (text, strlen (text));
  g_autoptr (KithCatalog) manifest = kith_catalog_parse (bytes, NULL);

  ck_assert_ptr_nonnull (manifest);
  for (guint i = 0; i < manifest->files->len; i++) {
    KithCatalogFile *file = g_ptr_array_index (manifest->files, i);
    g_autofree gchar *path = node_signatures_path (node, "current", file->name);
    gchar *data = NULL;
    gsize len = 0;
    g_autoptr (GBytes) content = NULL;
    g_autofree gchar *sha = NULL;

    ck_assert_msg (g_file_get_contents (path, &data, &len, NULL), "%s missing", path);
    content = g_bytes_new_take (data, len);
    sha = kith_crypto_sha256_hex (content);
    ck_assert_uint_eq (len, file->size);
    ck_assert_str_eq (sha, file->sha256);
  }
  return manifest->version;
}

/* `kith update @what --json` against @node succeeds and prints @expected somewhere. */
static void
assert_cli (KithTestNode *node, const gchar *what, const gchar *expected)
{
  const gchar *args[] = { "update", what, "--json", NULL };
  g_autofree gchar *out = NULL;
  g_autofree gchar *err = NULL;

  ck_assert_msg (kith_test_run_cli (node->agent, args, NULL, &out, &err) == 0, "kith update %s: %s", what, err);
  ck_assert_msg (strstr (out, expected) != NULL, "kith update %s printed %s", what, out);
}

/* ---- four agents, one release ---- */

START_TEST (test_four_agents_one_release)
{
  g_autoptr (KithTestBackend) backend = kith_test_backend_new ();
  const gchar *src = kith_test_backend_publish_sample (backend, "2611211200");
  KithTestNode *nodes[4] = { NULL };
  KithTestNode *late;
  CheckCall *calls[4];
  const gchar *args[] = { "update", "check", NULL };
  g_autofree gchar *out = NULL;
  g_autofree gchar *err = NULL;
  g_autoptr (GDir) dir = NULL;
  const gchar *name;

  kith_test_backend_serve (backend, NULL);
  for (guint i = 0; i < 4; i++)
    nodes[i] = node_start_new (backend, NULL, NULL);
  /* the four at once: the boot storm of the patent */
  for (guint i = 0; i < 4; i++)
    calls[i] = check_begin (nodes[i]);
  for (guint i = 0; i < 4; i++) {
    ck_assert_msg (kith_test_wait_until (check_is_done, calls[i], 60000), "Check() did not return");
    ck_assert_msg (calls[i]->error == NULL, "node %u: %s", i, calls[i]->error->message);
    ck_assert_msg (g_str_has_prefix (calls[i]->result, "installed catalog 1 (6 files, 6 fetched)"),
                   "%s", calls[i]->result);
    check_call_free (calls[i]);
  }
  for (guint i = 0; i < 4; i++) {
    g_autoptr (GVariant) installed = update_property (nodes[i], "Installed");
    const gchar *version = NULL;
    assert_set_is (nodes[i], src);
    ck_assert_uint_eq (node_catalog_version (nodes[i]), 1);
    ck_assert_uint_eq (g_variant_n_children (installed), 6);
    ck_assert (g_variant_lookup (installed, "avdat", "&s", &version));
    ck_assert_str_eq (version, "2611211200");
  }
  /* each file left the backend once, whole; each node asked for the catalog itself */
  dir = g_dir_open (src, 0, NULL);
  while ((name = g_dir_read_name (dir)) != NULL) {
    g_autofree gchar *path = g_strconcat ("/files/", name, NULL);
    g_autofree gchar *local = g_build_filename (src, name, NULL);
    GStatBuf st;
    g_assert_true (g_stat (local, &st) == 0);
    ck_assert_msg (kith_test_backend_get_requests (backend, path) == 1, "%s requested %" G_GUINT64_FORMAT
                   " times", path, kith_test_backend_get_requests (backend, path));
    ck_assert_uint_eq (kith_test_backend_get_bytes (backend, path), (guint64) st.st_size);
  }
  ck_assert_uint_eq (kith_test_backend_get_bytes (backend, "/files/"), 2236 * 1024);
  ck_assert_uint_eq (kith_test_backend_get_requests (backend, "/catalog.json"), 4);
  ck_assert_uint_eq (kith_test_backend_get_requests (backend, "/catalog.json.sig"), 4);

  /* checking again: up to date, nothing fetched */
  calls[0] = check_sync (nodes[0]);
  ck_assert_str_eq (calls[0]->result, "up to date (catalog 1)");
  check_call_free (calls[0]);
  ck_assert_uint_eq (kith_test_backend_get_bytes (backend, "/files/"), 2236 * 1024);
  /* the CLI sees the same: kith update status --json, then kith update check */
  assert_cli (nodes[1], "status", "\"catalog-version\" : 1");
  assert_cli (nodes[1], "status", "\"avdat\" : \"2611211200\"");
  assert_cli (nodes[2], "check", "\"result\" : \"up to date (catalog 1)\"");

  /* a fifth node, late: `kith update check` shows every file coming from a peer, and
   * not one more byte leaves the backend */
  late = node_start_new (backend, NULL, NULL);
  ck_assert_msg (kith_test_run_cli (late->agent, args, NULL, &out, &err) == 0, "kith update check: %s", err);
  ck_assert_msg (strstr (out, "avdat") != NULL && strstr (out, "from peer ") != NULL &&
                 strstr (out, "from origin") == NULL && strstr (out, "installed catalog 1") != NULL,
                 "kith update check printed:\n%s", out);
  assert_set_is (late, src);
  ck_assert_uint_eq (kith_test_backend_get_bytes (backend, "/files/"), 2236 * 1024);
  kith_test_node_free (late);
  for (guint i = 0; i < 4; i++)
    kith_test_node_free (nodes[i]);
}
END_TEST

/* ---- catalogs that must be refused ---- */

static void
write_backend_file (KithTestBackend *backend, const gchar *name, GBytes *bytes)
{
  g_autofree gchar *path = g_build_filename (kith_test_backend_get_dir (backend), "public", name, NULL);
  g_autofree gchar *tmp = g_strconcat (path, ".test-tmp", NULL);
  /* renamed into place: the backend never serves half a file */
  ck_assert (g_file_set_contents (tmp, g_bytes_get_data (bytes, NULL), (gssize) g_bytes_get_size (bytes), NULL));
  ck_assert_int_eq (g_rename (tmp, path), 0);
}

static GBytes *
backend_file (const gchar *dir, const gchar *name)
{
  g_autofree gchar *path = g_build_filename (dir, name, NULL);
  gchar *data = NULL;
  gsize len = 0;
  ck_assert (g_file_get_contents (path, &data, &len, NULL));
  return g_bytes_new_take (data, len);
}

/* The backend's current catalog with its expiry moved to @expires, signed by the vendor. */
static void
serve_resigned (KithTestBackend *backend, gint64 expires)
{
  const gchar *dir = kith_test_backend_get_dir (backend);
  g_autoptr (GBytes) json = backend_file (dir, "public/catalog.json");
  g_autoptr (KithCatalog) catalog = kith_catalog_parse (json, NULL);
  g_autoptr (GBytes) cert = backend_file (dir, "signing.pem");
  g_autoptr (GBytes) key = backend_file (dir, "signing-key.pem");
  g_autofree gchar *cert_pem = g_strndup (g_bytes_get_data (cert, NULL), g_bytes_get_size (cert));
  g_autofree gchar *key_pem = g_strndup (g_bytes_get_data (key, NULL), g_bytes_get_size (key));
  g_autoptr (GBytes) new_json = NULL;
  g_autoptr (GBytes) sig = NULL;
  g_autoptr (GError) error = NULL;

  ck_assert_ptr_nonnull (catalog);
  catalog->expires = expires;
  new_json = kith_catalog_to_json (catalog);
  sig = kith_crypto_detached_sign (new_json, cert_pem, key_pem, &error);
  g_assert_no_error (error);
  write_backend_file (backend, "catalog.json", new_json);
  write_backend_file (backend, "catalog.json.sig", sig);
}

/* Check() fails naming @what, and the set of @src (catalog @version) is untouched. */
static void
assert_rejected (KithTestNode *node, const gchar *what, const gchar *src, guint64 version)
{
  g_autoptr (CheckCall) call = check_sync (node);
  g_autoptr (GVariant) last = update_property (node, "LastResult");

  ck_assert_msg (call->error != NULL, "accepted: %s", call->result);
  ck_assert_msg (strstr (call->error->message, "catalog rejected") != NULL &&
                 strstr (call->error->message, what) != NULL, "'%s' does not say '%s'",
                 call->error->message, what);
  ck_assert (g_str_has_prefix (g_variant_get_string (last, NULL), "error: catalog rejected"));
  ck_assert_uint_eq (node_catalog_version (node), version);
  assert_set_is (node, src);
  ck_assert_int_eq (assert_set_whole (node), (gint64) version);
}

START_TEST (test_catalog_rejected)
{
  g_autoptr (KithTestBackend) backend = kith_test_backend_new ();
  g_autoptr (KithTestBackend) impostor = kith_test_backend_new ();
  const gchar *first = kith_test_backend_publish_sample (backend, "2611211200");
  const gchar *second = NULL;
  const gchar *dir = kith_test_backend_get_dir (backend);
  g_autoptr (GBytes) v1_json = backend_file (dir, "public/catalog.json");
  g_autoptr (GBytes) v1_sig = backend_file (dir, "public/catalog.json.sig");
  g_autoptr (GBytes) v2_json = NULL;
  g_autoptr (GBytes) v2_sig = NULL;
  g_autoptr (KithTestNode) node = NULL;
  g_autoptr (CheckCall) call = NULL;
  g_autofree gchar *text = NULL;
  g_autoptr (GBytes) tampered = NULL;
  gchar *p;

  kith_test_backend_serve (backend, NULL);
  node = node_start_new (backend, NULL, NULL);
  call = check_sync (node);
  ck_assert_msg (call->error == NULL, "%s", call->error ? call->error->message : "");
  assert_set_is (node, first);
  second = kith_test_backend_publish_sample (backend, "2611221200");
  v2_json = backend_file (dir, "public/catalog.json");
  v2_sig = backend_file (dir, "public/catalog.json.sig");

  /* one byte of catalog 2 changed after signing */
  text = g_strndup (g_bytes_get_data (v2_json, NULL), g_bytes_get_size (v2_json));
  p = strstr (text, "2611221200");
  ck_assert_ptr_nonnull (p);
  p[0] = '3';
  tampered = g_bytes_new (text, strlen (text));
  write_backend_file (backend, "catalog.json", tampered);
  assert_rejected (node, "signature does not match", first, 1);

  /* a well-signed catalog from another vendor's CA */
  kith_test_backend_publish_sample (impostor, "2611221200");
  write_backend_file (backend, "catalog.json", backend_file (kith_test_backend_get_dir (impostor), "public/catalog.json"));
  write_backend_file (backend, "catalog.json.sig", backend_file (kith_test_backend_get_dir (impostor), "public/catalog.json.sig"));
  assert_rejected (node, "does not chain to the trust anchor", first, 1);

  /* catalog 2, signed by the vendor, but expired an hour ago */
  write_backend_file (backend, "catalog.json", v2_json);
  write_backend_file (backend, "catalog.json.sig", v2_sig);
  serve_resigned (backend, g_get_real_time () / G_USEC_PER_SEC - 3600);
  assert_rejected (node, "catalog version 2 expired", first, 1);

  /* the genuine catalog 2 installs; catalog 1 afterwards is a rollback */
  write_backend_file (backend, "catalog.json", v2_json);
  write_backend_file (backend, "catalog.json.sig", v2_sig);
  g_clear_pointer (&call, check_call_free);
  call = check_sync (node);
  ck_assert_msg (call->error == NULL, "%s", call->error ? call->error->message : "");
  assert_set_is (node, second);
  write_backend_file (backend, "catalog.json", v1_json);
  write_backend_file (backend, "catalog.json.sig", v1_sig);
  assert_rejected (node, "catalog version 1 is older than the installed version 2", second, 2);
  /* nothing but the two sets' files ever left the backend */
  ck_assert_uint_eq (kith_test_backend_get_bytes (backend, "/files/"), 2 * 2236 * 1024);
}
END_TEST

/* HTTPS to the backend: a certificate its CA did not issue is refused before a byte of
 * the check goes out; the vendor's own certificate verifies against the trust-anchor. */
START_TEST (test_backend_tls)
{
  g_autoptr (KithTestBackend) backend = kith_test_backend_new ();
  g_autoptr (KithTestBackend) other = kith_test_backend_new ();
  g_autoptr (KithTestNode) stranger = NULL;
  g_autoptr (KithTestNode) node = NULL;
  g_autoptr (CheckCall) refused = NULL;
  g_autoptr (CheckCall) call = NULL;
  const gchar *src = kith_test_backend_publish_sample (backend, "2611211200");

  kith_test_backend_serve (backend, NULL);
  ck_assert (g_str_has_prefix (kith_test_backend_get_url (backend), "https://"));
  stranger = node_new_anchored (backend, other, NULL, NULL);
  kith_test_node_start (stranger);
  refused = check_sync (stranger);
  ck_assert_msg (refused->error != NULL, "a certificate of another CA was accepted: %s", refused->result);
  ck_assert_uint_eq (kith_test_backend_get_requests (backend, "/catalog.json"), 0);
  node = node_start_new (backend, NULL, NULL);
  call = check_sync (node);
  ck_assert_msg (call->error == NULL, "%s", call->error ? call->error->message : "");
  assert_set_is (node, src);
}
END_TEST

/* ---- a lying peer ---- */

START_TEST (test_lying_peer_never_installed)
{
  g_autoptr (KithTestBackend) backend = kith_test_backend_new ();
  const gchar *src = kith_test_backend_publish_sample (backend, "2611211200");
  g_autoptr (GBytes) json = backend_file (kith_test_backend_get_dir (backend), "public/catalog.json");
  g_autoptr (KithCatalog) catalog = kith_catalog_parse (json, NULL);
  const KithCatalogFile *avdat = kith_catalog_get_file (catalog, "avdat");
  g_autoptr (KithTestAttacker) liar = NULL;
  g_autoptr (KithTestNode) node = NULL;
  g_autoptr (CheckCall) call = NULL;
  g_autofree gchar *path = g_strconcat ("/files/avdat-2611211200.cab", NULL);

  ck_assert_ptr_nonnull (avdat);
  kith_test_backend_serve (backend, NULL);
  /* a liar (kith-lan-attacker): answers every "I need" for avdat at once, serves wrong bytes */
  liar = kith_test_attacker_spawn_liar (test_port, avdat->sha256, avdat->size);
  /* it knows no holder of avdat, and must hear the liar: it waits for its answer */
  node = node_new_full (backend, backend, "max-delay-ms=300\n" KITH_TEST_MEET_THE_ATTACKER, NULL, NULL);
  kith_test_node_start (node);
  call = check_sync (node);
  ck_assert_msg (call->error == NULL, "%s", call->error ? call->error->message : "");
  /* the liar's bytes were refused, the file came from the backend, the set is the release */
  ck_assert_uint_eq (kith_test_node_peering_status (node, "bad-peers"), 1);
  ck_assert_uint_eq (kith_test_backend_get_requests (backend, path), 1);
  assert_set_is (node, src);
  ck_assert_int_eq (assert_set_whole (node), 1);
  kith_test_attacker_stop (liar);
}
END_TEST

/* ---- kills during install ---- */

/* After recovery only the set current points to is left: no partial set, no current.tmp. */
static void
assert_recovered (KithTestNode *node, gint64 version)
{
  g_autofree gchar *sets = node_signatures_path (node, ".sets", NULL);
  g_autofree gchar *tmp = node_signatures_path (node, "current.tmp", NULL);
  g_autofree gchar *want = g_strdup_printf ("%" G_GINT64_FORMAT, version);
  g_autoptr (GDir) dir = g_dir_open (sets, 0, NULL);
  const gchar *name;
  guint count = 0;

  ck_assert_ptr_nonnull (dir);
  while ((name = g_dir_read_name (dir)) != NULL) {
    ck_assert_str_eq (name, want);
    count++;
  }
  ck_assert_uint_eq (count, 1);
  ck_assert (!g_file_test (tmp, G_FILE_TEST_EXISTS) && !g_file_test (tmp, G_FILE_TEST_IS_SYMLINK));
}

START_TEST (test_kill_during_install)
{
  g_autoptr (KithTestBackend) backend = kith_test_backend_new ();
  const gchar *old_src = kith_test_backend_publish_sample (backend, "2611200000");
  g_autoptr (KithTestNode) node = NULL;
  g_autoptr (CheckCall) first = NULL;

  kith_test_backend_serve (backend, NULL);
  node = node_start_new (backend, NULL, NULL);
  first = check_sync (node);
  ck_assert_msg (first->error == NULL, "%s", first->error ? first->error->message : "");

  /* crash point N: 1 after the first file, 2 before the set gets its name, 3 before the new
   * symlink, 4 before it replaces current, 5 right after (see kith-update-installer.c) */
  for (guint point = 1; point <= 5; point++) {
    g_autofree gchar *stamp = g_strdup_printf ("26112%u0000", point);
    g_autofree gchar *value = g_strdup_printf ("%u", point);
    const gchar *new_src = kith_test_backend_publish_sample (backend, stamp);
    gint64 old_version = (gint64) point, new_version = (gint64) point + 1;
    g_autoptr (CheckCall) crash = NULL;
    g_autoptr (CheckCall) again = NULL;
    gint64 survivor;

    /* restart the agent with the crash point armed, then check: it dies mid-install */
    kith_test_node_stop (node);
    g_setenv ("KITH_UPDATE_TEST_CRASH_POINT", value, TRUE);
    kith_test_node_start (node);
    g_unsetenv ("KITH_UPDATE_TEST_CRASH_POINT");
    crash = check_sync (node);
    ck_assert_msg (crash->error != NULL, "point %u: the agent did not die", point);
    kith_test_node_kill (node);

    /* before anything runs again, on disk: current is one whole set, old or new */
    survivor = assert_set_whole (node);
    ck_assert_int_eq (survivor, point < 5 ? old_version : new_version);
    assert_set_is (node, point < 5 ? old_src : new_src);

    /* restarted: recovery leaves only that set; a check brings the new one */
    kith_test_node_start (node);
    assert_recovered (node, survivor);
    ck_assert_uint_eq (node_catalog_version (node), (guint64) survivor);
    again = check_sync (node);
    ck_assert_msg (again->error == NULL, "%s", again->error ? again->error->message : "");
    assert_set_is (node, new_src);
    assert_recovered (node, new_version);
    old_src = new_src;
  }
}
END_TEST

START_TEST (test_offline_no_catalog)
{
  g_autoptr (KithTestBackend) backend = kith_test_backend_new ();
  g_autoptr (KithTestNode) node = NULL;
  g_autoptr (CheckCall) call = NULL;

  kith_test_backend_publish_sample (backend, "2611211200");
  kith_test_backend_serve (backend, NULL);
  node = node_start_new (backend, "offline=true", NULL);
  call = check_sync (node);
  ck_assert_ptr_nonnull (call->error);
  ck_assert_msg (strstr (call->error->message, "offline: no catalog") != NULL, "%s", call->error->message);
  ck_assert_uint_eq (node_catalog_version (node), 0);
  ck_assert_uint_eq (kith_test_backend_get_requests (backend, "/catalog.json"), 0);
}
END_TEST

/* ---- the schedule, wired: a check at start, the next one an interval later ---- */

static gboolean
node_has_catalog (gpointer user_data)
{
  return node_catalog_version (user_data) == 1;
}

static void
properties_changed (GDBusConnection *connection, const gchar *sender, const gchar *path,
                    const gchar *interface_name, const gchar *signal_name, GVariant *parameters,
                    gpointer user_data)
{
  /* nothing to do: its dispatch wakes the waiting main loop, which then looks again */
}

START_TEST (test_scheduled_check)
{
  g_autoptr (KithTestBackend) backend = kith_test_backend_new ();
  const gchar *src = kith_test_backend_publish_sample (backend, "2611211200");
  g_autoptr (KithTestNode) node = NULL;
  g_autoptr (GVariant) last = NULL;
  g_autoptr (GVariant) next = NULL;
  g_autoptr (GVariant) result = NULL;
  guint subscription;

  kith_test_backend_serve (backend, NULL);
  node = node_start_new (backend, NULL, "check-on-start=true\ninterval=2h\njitter=0\n");
  subscription = g_dbus_connection_signal_subscribe (node->connection, NULL, "org.freedesktop.DBus.Properties",
                                                     "PropertiesChanged", "/org/kith/Agent1/Update", NULL,
                                                     G_DBUS_SIGNAL_FLAGS_NONE, properties_changed, NULL, NULL);
  /* nobody calls Check(): the start-up check installs the release by itself */
  ck_assert_msg (kith_test_wait_until (node_has_catalog, node, 60000), "no check at start");
  g_dbus_connection_signal_unsubscribe (node->connection, subscription);
  assert_set_is (node, src);
  result = update_property (node, "LastResult");
  ck_assert_str_eq (g_variant_get_string (result, NULL), "installed catalog 1 (6 files, 6 fetched)");
  last = update_property (node, "LastCheck");
  next = update_property (node, "NextCheck");
  ck_assert_int_gt (g_variant_get_int64 (last), 0);
  ck_assert_int_eq (g_variant_get_int64 (next) - g_variant_get_int64 (last), 2 * 3600);
}
END_TEST

/* ---- state that heals ---- */

/* A damaged state.json is rebuilt from the installed set's manifest: the plugin starts, says
 * what is installed, and goes on updating. */
START_TEST (test_damaged_state_rebuilt)
{
  g_autoptr (KithTestBackend) backend = kith_test_backend_new ();
  g_autoptr (KithTestNode) node = NULL;
  g_autoptr (CheckCall) first = NULL;
  g_autoptr (CheckCall) again = NULL;
  g_autofree gchar *state_path = NULL;
  g_autofree gchar *text = NULL;
  g_autoptr (JsonParser) parser = json_parser_new ();

  kith_test_backend_publish_sample (backend, "2611211200");
  kith_test_backend_serve (backend, NULL);
  node = node_start_new (backend, NULL, NULL);
  first = check_sync (node);
  ck_assert_msg (first->error == NULL, "%s", first->error ? first->error->message : "");
  kith_test_node_stop (node);
  state_path = g_build_filename (kith_test_agent_get_dir (node->agent), "state", "update", "state.json", NULL);
  ck_assert (g_file_set_contents (state_path, "{\"catalog-version\": \"two\", \"installed\": 5, tru", -1, NULL));

  kith_test_node_start (node);
  ck_assert_uint_eq (node_catalog_version (node), 1);
  text = read_file (state_path);
  ck_assert_msg (json_parser_load_from_data (parser, text, -1, NULL), "state.json not rebuilt: %s", text);
  ck_assert_int_eq (json_object_get_int_member (json_node_get_object (json_parser_get_root (parser)),
                                                "catalog-version"), 1);
  ck_assert_msg (strstr (text, "\"avdat\" : \"2611211200\"") != NULL, "%s", text);
  /* and it keeps updating: a new release is installed */
  kith_test_backend_publish_sample (backend, "2611221200");
  again = check_sync (node);
  ck_assert_msg (again->error == NULL, "%s", again->error ? again->error->message : "");
  ck_assert_uint_eq (node_catalog_version (node), 2);
  assert_set_whole (node);
}
END_TEST

/* An installed file corrupted in place (same size, other bytes) is found by the next check,
 * fetched again through peering and the set rebuilt: current verifies against its manifest. */
START_TEST (test_damaged_file_repaired)
{
  g_autoptr (KithTestBackend) backend = kith_test_backend_new ();
  const gchar *src = kith_test_backend_publish_sample (backend, "2611211200");
  g_autoptr (KithTestNode) node = NULL;
  g_autoptr (CheckCall) first = NULL;
  g_autoptr (CheckCall) again = NULL;
  g_autofree gchar *path = NULL;
  g_autofree gchar *data = NULL;
  gsize len = 0;

  kith_test_backend_serve (backend, NULL);
  node = node_start_new (backend, NULL, NULL);
  first = check_sync (node);
  ck_assert_msg (first->error == NULL, "%s", first->error ? first->error->message : "");
  path = node_signatures_path (node, "current", "avdat");
  ck_assert (g_file_get_contents (path, &data, &len, NULL));
  ck_assert_uint_gt (len, 100);
  /* in place: the same inode, the same size */
  {
    FILE *f = fopen (path, "r+b");
    ck_assert_ptr_nonnull (f);
    ck_assert_int_eq (fseek (f, (long) len / 2, SEEK_SET), 0);
    ck_assert_int_eq (fputc (data[len / 2] ^ 0x5a, f), (unsigned char) (data[len / 2] ^ 0x5a));
    ck_assert_int_eq (fclose (f), 0);
  }
  assert_cli (node, "check", "repaired catalog 1 (1 damaged files fetched again)");
  assert_set_whole (node);
  assert_set_is (node, src);
  ck_assert_uint_eq (node_catalog_version (node), 1);
  /* and then it is up to date again */
  again = check_sync (node);
  ck_assert_msg (again->error == NULL, "%s", again->error ? again->error->message : "");
  ck_assert_str_eq (again->result, "up to date (catalog 1)");
}
END_TEST

static Suite *
update_suite (void)
{
  Suite *suite = suite_create ("update");
  TCase *unit = tcase_create ("schedule");
  TCase *agents = tcase_create ("agents");

  tcase_add_test (unit, test_schedule);
  suite_add_tcase (suite, unit);
  tcase_set_timeout (agents, 150);
  tcase_add_test (agents, test_four_agents_one_release);
  tcase_add_test (agents, test_catalog_rejected);
  tcase_add_test (agents, test_backend_tls);
  tcase_add_test (agents, test_lying_peer_never_installed);
  tcase_add_test (agents, test_kill_during_install);
  tcase_add_test (agents, test_offline_no_catalog);
  tcase_add_test (agents, test_scheduled_check);
  tcase_add_test (agents, test_damaged_state_rebuilt);
  tcase_add_test (agents, test_damaged_file_repaired);
  suite_add_tcase (suite, agents);
  return suite;
}

int
main (void)
{
  test_port = g_random_int_range (20000, 60000);
  return kith_test_run_suite (update_suite ());
}
