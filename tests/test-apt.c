/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* test-apt.c — real apt through kith+http
 *
 * A signed flat repository is made once per run (packages built with dpkg-deb, indexed
 * with apt-ftparchive, signed with a throwaway gpg key) and served on loopback by the
 * counting test origin. Each node is a real kith-agent and an apt instance of its own
 * (Dir::State, Dir::Cache, Dir::Etc, Dir::Bin::Methods pointing at the build's
 * kith+http); `apt-get update` and `apt-get install --download-only` run as processes.
 * A hostile peer is kith-lan-attacker, a separate process.
 */
#include "kith-apt-message.h"
#include "kith-test-attacker.h"
#include "kith-test-node.h"
#include "kith-test-origin.h"
#include "kith-test-suite.h"

#include <glib/gstdio.h>
#include <pwd.h>
#include <signal.h>
#include <string.h>
#include <unistd.h>

#define N_PACKAGES 4
#define REPO_PATH "/debian"

static guint16 test_port;

typedef struct {
  gchar *dir;      /* the repository (flat: every file at the top) */
  gchar *keyring;  /* the public key apt trusts (signed-by) */
  gchar *names[N_PACKAGES];
  gchar *debs[N_PACKAGES]; /* file names of the .deb files */
  GBytes *deb_bytes[N_PACKAGES];
} Repo;

static Repo repo;

/* ---- the repository ---- */

static void
run_ok (const gchar *const *argv)
{
  g_autofree gchar *out = NULL;
  g_autofree gchar *err = NULL;
  gint rc = kith_test_run (argv, NULL, &out, &err);

  if (rc != 0)
    g_printerr ("%s failed (%d): %s%s\n", argv[0], rc, out, err);
  g_assert_cmpint (rc, ==, 0);
}

static gchar *
write_file (const gchar *dir, const gchar *name, const gchar *contents, gsize len)
{
  gchar *path = g_build_filename (dir, name, NULL);
  g_autoptr (GError) error = NULL;

  g_file_set_contents (path, contents, len, &error);
  g_assert_no_error (error);
  return path;
}

static void
repo_add_package (const gchar *root, guint i)
{
  g_autofree gchar *name = g_strdup_printf ("kith-apt-test-%u", i);
  g_autofree gchar *pkg = g_build_filename (root, "build", name, NULL);
  g_autofree gchar *debian = g_build_filename (pkg, "DEBIAN", NULL);
  g_autofree gchar *share = g_build_filename (pkg, "usr", "share", name, NULL);
  g_autofree gchar *control = g_strdup_printf ("Package: %s\nVersion: 1.%u\nArchitecture: all\n"
                                               "Maintainer: kith tests <tests@kith.invalid>\n"
                                               "Description: kith apt test package %u\n", name, i, i);
  g_autoptr (GBytes) data = kith_test_make_content (96 * 1024 + i * 16 * 1024, 100 + i);
  g_autofree gchar *deb = g_strdup_printf ("%s_1.%u_all.deb", name, i);
  g_autofree gchar *deb_path = g_build_filename (repo.dir, deb, NULL);
  g_autofree gchar *control_path = NULL;
  g_autofree gchar *data_path = NULL;
  g_autoptr (GError) error = NULL;
  gchar *contents = NULL;
  gsize len = 0;

  g_assert_cmpint (g_mkdir_with_parents (debian, 0755), ==, 0);
  g_assert_cmpint (g_mkdir_with_parents (share, 0755), ==, 0);
  control_path = write_file (debian, "control", control, strlen (control));
  data_path = write_file (share, "data", g_bytes_get_data (data, NULL), g_bytes_get_size (data));
  run_ok ((const gchar *[]) { "dpkg-deb", "--root-owner-group", "-Znone", "--build", pkg, deb_path, NULL });
  g_file_get_contents (deb_path, &contents, &len, &error);
  g_assert_no_error (error);
  repo.names[i] = g_steal_pointer (&name);
  repo.debs[i] = g_steal_pointer (&deb);
  repo.deb_bytes[i] = g_bytes_new_take (contents, len);
}

/* Packages, Packages.gz, Release, InRelease signed by a key made for this run only. */
static void
repo_make (void)
{
  g_autoptr (GError) error = NULL;
  g_autofree gchar *root = g_dir_make_tmp ("kith-apt-XXXXXX", &error);
  g_autofree gchar *gnupg = NULL;
  g_autofree gchar *index = NULL;
  g_autofree gchar *sign = NULL;

  g_assert_no_error (error);
  /* apt's sandbox user reads the keyring */
  g_assert_cmpint (g_chmod (root, 0755), ==, 0);
  repo.dir = g_build_filename (root, "repo", NULL);
  gnupg = g_build_filename (root, "gnupg", NULL);
  repo.keyring = g_build_filename (root, "key.gpg", NULL);
  g_assert_cmpint (g_mkdir_with_parents (repo.dir, 0755), ==, 0);
  g_assert_cmpint (g_mkdir_with_parents (gnupg, 0700), ==, 0);
  for (guint i = 0; i < N_PACKAGES; i++)
    repo_add_package (root, i);
  index = g_strdup_printf ("cd '%s' && apt-ftparchive packages . > Packages && gzip -9kn Packages && "
                           "apt-ftparchive release . > ../Release && mv ../Release Release", repo.dir);
  run_ok ((const gchar *[]) { "sh", "-c", index, NULL });
  run_ok ((const gchar *[]) { "gpg", "--homedir", gnupg, "--batch", "--quiet", "--passphrase", "",
                              "--quick-gen-key", "kith apt test <tests@kith.invalid>", "ed25519", "sign",
                              "never", NULL });
  sign = g_strdup_printf ("gpg --homedir '%s' --batch --quiet --yes --clearsign -o '%s/InRelease' '%s/Release' && "
                          "gpg --homedir '%s' --batch --quiet --export > '%s'",
                          gnupg, repo.dir, repo.dir, gnupg, repo.keyring);
  run_ok ((const gchar *[]) { "sh", "-c", sign, NULL });
  /* the key's agent goes with the key */
  run_ok ((const gchar *[]) { "gpgconf", "--homedir", gnupg, "--kill", "gpg-agent", NULL });
}

/* An origin serving the repository under REPO_PATH; caller frees. */
static KithTestOrigin *
origin_new (void)
{
  KithTestOrigin *origin = kith_test_origin_new ();
  g_autoptr (GDir) dir = g_dir_open (repo.dir, 0, NULL);
  const gchar *name;

  while ((name = g_dir_read_name (dir)) != NULL) {
    g_autofree gchar *path = g_build_filename (repo.dir, name, NULL);
    g_autofree gchar *url_path = g_strconcat (REPO_PATH "/", name, NULL);
    g_autoptr (GMappedFile) file = g_mapped_file_new (path, FALSE, NULL);
    g_autoptr (GBytes) bytes = g_mapped_file_get_bytes (file);

    kith_test_origin_add (origin, url_path, bytes, 0);
  }
  return origin;
}

static guint
origin_deb_requests (KithTestOrigin *origin, guint i)
{
  g_autofree gchar *path = g_strconcat (REPO_PATH "/", repo.debs[i], NULL);
  return kith_test_origin_get_requests (origin, path);
}

/* ---- nodes: an agent and an apt of their own ---- */

typedef struct {
  KithTestNode *kith; /* its agent; NULL when the test has none */
  gchar *dir;
  gchar *apt_conf;
} Node;

static void
node_free (Node *node)
{
  if (node->kith != NULL)
    kith_test_node_free (node->kith);
  if (node->dir != NULL) {
    g_autofree gchar *cmd = g_strdup_printf ("rm -rf '%s'", node->dir);
    run_ok ((const gchar *[]) { "sh", "-c", cmd, NULL });
  }
  g_free (node->apt_conf);
  g_free (node->dir);
  g_free (node);
}
G_DEFINE_AUTOPTR_CLEANUP_FUNC (Node, node_free)

/* apt's methods, with kith+http from this build in front of the system's own. */
static void
node_make_methods (const gchar *methods)
{
  const gchar *ours = g_getenv ("KITH_APT_METHOD");
  g_autoptr (GDir) dir = g_dir_open ("/usr/lib/apt/methods", 0, NULL);
  g_autofree gchar *kith_http = g_build_filename (methods, "kith+http", NULL);
  g_autofree gchar *kith_https = g_build_filename (methods, "kith+https", NULL);
  const gchar *name;

  ck_assert_msg (ours != NULL, "KITH_APT_METHOD must name the build's kith+http");
  ck_assert_ptr_nonnull (dir);
  g_assert_cmpint (g_mkdir_with_parents (methods, 0755), ==, 0);
  while ((name = g_dir_read_name (dir)) != NULL) {
    g_autofree gchar *target = g_build_filename ("/usr/lib/apt/methods", name, NULL);
    g_autofree gchar *link = g_build_filename (methods, name, NULL);
    g_assert_cmpint (symlink (target, link), ==, 0);
  }
  g_assert_cmpint (symlink (ours, kith_http), ==, 0);
  g_assert_cmpint (symlink (ours, kith_https), ==, 0);
}

/* The node's source: the one-line form, or the deb822 form with URIs:. */
static void
node_write_sources (Node *node, KithTestOrigin *origin, gboolean deb822)
{
  g_autofree gchar *base = kith_test_origin_url (origin, REPO_PATH);
  g_autofree gchar *etc = g_build_filename (node->dir, "etc", NULL);
  g_autofree gchar *parts = g_build_filename (etc, "sources.list.d", NULL);
  g_autofree gchar *text = NULL;
  g_autofree gchar *path = NULL;

  g_assert_cmpint (g_mkdir_with_parents (parts, 0755), ==, 0);
  if (deb822) {
    text = g_strdup_printf ("Types: deb\nURIs: kith+%s\nSuites: ./\nSigned-By: %s\n", base, repo.keyring);
    path = write_file (parts, "kith.sources", text, strlen (text));
  } else {
    text = g_strdup_printf ("deb [signed-by=%s] kith+%s ./\n", repo.keyring, base);
    path = write_file (etc, "sources.list", text, strlen (text));
  }
}

/* An apt instance in a directory of its own, talking to @agent_address (may be NULL). */
static void
node_make_apt (Node *node, KithTestOrigin *origin, gboolean deb822, const gchar *sandbox_user)
{
  static const gchar *const dirs[] = { "state/lists/partial", "cache/archives/partial", "log", "etc/apt.conf.d",
                                       "etc/preferences.d", "etc/trusted.gpg.d", NULL };
  g_autofree gchar *methods = g_build_filename (node->dir, "methods", NULL);
  g_autofree gchar *status = NULL;
  g_autofree gchar *conf = NULL;
  const gchar *address = node->kith != NULL ? kith_test_agent_get_dbus_address (node->kith->agent) : NULL;

  for (guint i = 0; dirs[i] != NULL; i++) {
    g_autofree gchar *path = g_build_filename (node->dir, dirs[i], NULL);
    g_assert_cmpint (g_mkdir_with_parents (path, 0755), ==, 0);
  }
  node_make_methods (methods);
  node_write_sources (node, origin, deb822);
  status = write_file (node->dir, "status", "", 0);
  /* the test's agents listen peer-to-peer for their own user: apt's methods stay that user,
   * unless the agent is on a bus (then Acquire::kith::Address is empty: the system bus) */
  conf = g_strdup_printf ("Dir::State \"%1$s/state\";\n"
                          "Dir::State::status \"%1$s/status\";\n"
                          "Dir::Cache \"%1$s/cache\";\n"
                          "Dir::Etc \"%1$s/etc\";\n"
                          "Dir::Log \"%1$s/log\";\n"
                          "Dir::Bin::Methods \"%1$s/methods\";\n"
                          "APT::Sandbox::User \"%3$s\";\n"
                          "Acquire::Languages \"none\";\n"
                          "Acquire::kith::Address \"%2$s\";\n",
                          node->dir, sandbox_user != NULL ? "" : address != NULL ? address : "unix:path=/nonexistent/kith-apt-test",
                          sandbox_user != NULL ? sandbox_user : "root");
  node->apt_conf = write_file (node->dir, "apt.conf", conf, strlen (conf));
}

/* A node; with @sandbox_user, its agent is on the bus of DBUS_SYSTEM_BUS_ADDRESS and apt's
 * methods run as that user. */
static Node *
node_new_full (KithTestOrigin *origin, const gchar *peering_extra, gboolean deb822, const gchar *sandbox_user)
{
  g_autofree gchar *peering = kith_test_node_peering_config (test_port, peering_extra);
  g_autofree gchar *config = g_strconcat (sandbox_user != NULL ? "dbus=system\n" : "", peering, NULL);
  g_autoptr (GError) error = NULL;
  Node *node = g_new0 (Node, 1);

  node->dir = g_dir_make_tmp ("kith-apt-node-XXXXXX", &error);
  g_assert_no_error (error);
  g_assert_cmpint (g_chmod (node->dir, 0755), ==, 0);
  node->kith = kith_test_node_new ("peering", config);
  if (sandbox_user == NULL)
    kith_test_node_start (node->kith);
  else
    kith_test_node_start_unconnected (node->kith);
  node_make_apt (node, origin, deb822, sandbox_user);
  return node;
}

static Node *
node_new (KithTestOrigin *origin, const gchar *peering_extra, gboolean deb822)
{
  return node_new_full (origin, peering_extra, deb822, NULL);
}

/* Runs apt-get @args… for @node; fails the test unless it exits 0 without errors or warnings. */
static void
node_apt_get (Node *node, const gchar *const *args)
{
  g_autofree gchar *env_conf = g_strconcat ("APT_CONFIG=", node->apt_conf, NULL);
  const gchar *env[] = { env_conf, "LC_ALL=C", "DEBIAN_FRONTEND=noninteractive", NULL };
  g_autoptr (GPtrArray) argv = g_ptr_array_new ();
  g_autofree gchar *out = NULL;
  g_autofree gchar *err = NULL;
  gint rc;

  g_ptr_array_add (argv, (gpointer) "apt-get");
  g_ptr_array_add (argv, (gpointer) "-q");
  for (guint i = 0; args[i] != NULL; i++)
    g_ptr_array_add (argv, (gpointer) args[i]);
  g_ptr_array_add (argv, NULL);
  rc = kith_test_run ((const gchar *const *) argv->pdata, env, &out, &err);
  ck_assert_msg (rc == 0, "apt-get %s exited %d:\n%s\n%s", args[0], rc, out, err);
  ck_assert_msg (strstr (err, "E:") == NULL && strstr (err, "W:") == NULL, "apt-get %s:\n%s\n%s", args[0], out, err);
}

/* apt-get update, then every package downloaded into the node's archive. */
static void
node_update_and_download (Node *node)
{
  const gchar *install[4 + N_PACKAGES] = { "-y", "install", "--download-only" };

  node_apt_get (node, (const gchar *[]) { "update", NULL });
  for (guint i = 0; i < N_PACKAGES; i++)
    install[3 + i] = repo.names[i];
  install[3 + N_PACKAGES] = NULL;
  node_apt_get (node, install);
}

/* Every package is in the node's archive, byte for byte what the repository has. */
static void
node_assert_packages (Node *node)
{
  for (guint i = 0; i < N_PACKAGES; i++) {
    g_autofree gchar *path = g_build_filename (node->dir, "cache", "archives", repo.debs[i], NULL);
    g_autofree gchar *partial = g_build_filename (node->dir, "cache", "archives", "partial", repo.debs[i], NULL);
    g_autoptr (GError) error = NULL;
    gchar *contents = NULL;
    gsize len = 0;
    g_autoptr (GBytes) got = NULL;

    ck_assert_msg (g_file_get_contents (path, &contents, &len, &error), "%s: %s", path,
                   error ? error->message : "");
    got = g_bytes_new_take (contents, len);
    ck_assert_msg (g_bytes_equal (got, repo.deb_bytes[i]), "%s differs from the repository's", path);
    ck_assert (!g_file_test (partial, G_FILE_TEST_EXISTS));
  }
}

/* ---- tests ---- */

START_TEST (test_three_nodes_each_deb_once)
{
  g_autoptr (KithTestOrigin) origin = origin_new ();
  g_autoptr (Node) a = node_new (origin, NULL, FALSE);
  g_autoptr (Node) b = node_new (origin, NULL, FALSE);
  g_autoptr (Node) c = node_new (origin, NULL, TRUE); /* deb822 sources */

  node_update_and_download (a);
  node_update_and_download (b);
  node_update_and_download (c);
  node_assert_packages (a);
  node_assert_packages (b);
  node_assert_packages (c);
  for (guint i = 0; i < N_PACKAGES; i++)
    ck_assert_uint_eq (origin_deb_requests (origin, i), 1);
  /* the index has a hash in InRelease: through kith too; InRelease itself is signed and
   * has no hash to check a peer's copy against: each node gets it from the origin */
  ck_assert_uint_eq (kith_test_origin_get_requests (origin, REPO_PATH "/Packages.gz"), 1);
  ck_assert_uint_eq (kith_test_origin_get_requests (origin, REPO_PATH "/InRelease"), 3);
  ck_assert_uint_eq (kith_test_node_peering_status (b->kith, "bad-peers"), 0);
}
END_TEST

START_TEST (test_hostile_peer_refused)
{
  g_autoptr (KithTestOrigin) origin = origin_new ();
  /* the honest holder answers after a random delay of up to 2 s (reply-order=random: not at
   * once, as the holder b would name), the liar at once: the liar's copy is the one tried
   * first (unless a's delay beats the liar's reply, ~1 in 100) */
  g_autoptr (Node) a = node_new (origin, "reply-order=random\nmax-delay-ms=2000\nclient-wait-ms=2500\n", FALSE);
  g_autoptr (Node) b = node_new (origin, "reply-order=random\nmax-delay-ms=2000\nclient-wait-ms=2500\n", FALSE);
  g_autofree gchar *liar_sha256 = kith_test_sha256 (repo.deb_bytes[0]);
  g_autoptr (KithTestAttacker) liar = NULL;

  node_update_and_download (a);
  /* the liar (kith-lan-attacker) claims the first package's sha256 and serves other bytes */
  liar = kith_test_attacker_spawn_liar (test_port, liar_sha256, g_bytes_get_size (repo.deb_bytes[0]));
  node_update_and_download (b);
  /* the tampered copy was refused by kith; apt got the right bytes, from a, not the origin */
  ck_assert_uint_ge (kith_test_node_peering_status (b->kith, "bad-peers"), 1);
  node_assert_packages (b);
  for (guint i = 0; i < N_PACKAGES; i++)
    ck_assert_uint_eq (origin_deb_requests (origin, i), 1);
  kith_test_attacker_stop (liar);
}
END_TEST

START_TEST (test_agent_stopped_fallback)
{
  g_autoptr (KithTestOrigin) origin = origin_new ();
  g_autoptr (Node) a = node_new (origin, NULL, FALSE);

  kith_test_node_stop (a->kith);
  node_update_and_download (a);
  node_assert_packages (a);
  /* every file straight from the origin, as apt's http method would have it */
  for (guint i = 0; i < N_PACKAGES; i++)
    ck_assert_uint_eq (origin_deb_requests (origin, i), 1);
  ck_assert_uint_eq (kith_test_origin_get_requests (origin, REPO_PATH "/Packages.gz"), 1);
}
END_TEST

static void
repo_free (void)
{
  g_autofree gchar *root = g_path_get_dirname (repo.dir);
  g_autofree gchar *cmd = g_strdup_printf ("rm -rf '%s'", root);

  run_ok ((const gchar *[]) { "sh", "-c", cmd, NULL });
  for (guint i = 0; i < N_PACKAGES; i++) {
    g_free (repo.names[i]);
    g_free (repo.debs[i]);
    g_bytes_unref (repo.deb_bytes[i]);
  }
  g_free (repo.keyring);
  g_free (repo.dir);
  memset (&repo, 0, sizeof repo);
}

/* ---- apt's default sandbox against an agent on a system bus ---- */

typedef struct {
  gchar *dir;
  GSubprocess *daemon;
} SystemBus;

/* A dbus-daemon configured like Debian's system bus (method calls denied unless a policy
 * allows them), with the project's own data/org.kith.Agent1.conf; its address goes into
 * DBUS_SYSTEM_BUS_ADDRESS for the agent and for apt. */
static SystemBus *
system_bus_new (void)
{
  SystemBus *bus = g_new0 (SystemBus, 1);
  const gchar *policy = g_getenv ("KITH_DBUS_POLICY");
  g_autoptr (GError) error = NULL;
  g_autoptr (GDataInputStream) input = NULL;
  g_autofree gchar *address = NULL;
  g_autofree gchar *config = NULL;
  g_autofree gchar *config_path = NULL;

  ck_assert_msg (policy != NULL, "KITH_DBUS_POLICY must name data/org.kith.Agent1.conf");
  bus->dir = g_dir_make_tmp ("kith-sysbus-XXXXXX", &error);
  g_assert_no_error (error);
  g_assert_cmpint (g_chmod (bus->dir, 0755), ==, 0);
  config = g_strdup_printf (
      "<!DOCTYPE busconfig PUBLIC \"-//freedesktop//DTD D-BUS Bus Configuration 1.0//EN\"\n"
      " \"http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd\">\n"
      "<busconfig>\n"
      "  <type>system</type>\n"
      "  <listen>unix:path=%s/system_bus_socket</listen>\n"
      "  <auth>EXTERNAL</auth>\n"
      "  <policy context=\"default\">\n"
      "    <allow user=\"*\"/>\n"
      "    <deny own=\"*\"/>\n"
      "    <deny send_type=\"method_call\"/>\n"
      "    <allow send_type=\"signal\"/>\n"
      "    <allow send_requested_reply=\"true\" send_type=\"method_return\"/>\n"
      "    <allow send_requested_reply=\"true\" send_type=\"error\"/>\n"
      "    <allow receive_type=\"method_call\"/>\n"
      "    <allow receive_type=\"method_return\"/>\n"
      "    <allow receive_type=\"error\"/>\n"
      "    <allow receive_type=\"signal\"/>\n"
      "    <allow send_destination=\"org.freedesktop.DBus\" send_interface=\"org.freedesktop.DBus\"/>\n"
      "    <allow send_destination=\"org.freedesktop.DBus\" send_interface=\"org.freedesktop.DBus.Introspectable\"/>\n"
      "    <allow send_destination=\"org.freedesktop.DBus\" send_interface=\"org.freedesktop.DBus.Properties\"/>\n"
      "  </policy>\n"
      "  <include>%s</include>\n"
      "</busconfig>\n", bus->dir, policy);
  config_path = write_file (bus->dir, "system.conf", config, strlen (config));
  bus->daemon = g_subprocess_new (G_SUBPROCESS_FLAGS_STDOUT_PIPE, &error, "timeout", "170",
                                  KITH_TEST_DBUS_DAEMON, "--nofork", "--print-address=1",
                                  "--config-file", config_path, NULL);
  g_assert_no_error (error);
  input = g_data_input_stream_new (g_subprocess_get_stdout_pipe (bus->daemon));
  address = g_data_input_stream_read_line_utf8 (input, NULL, NULL, &error);
  g_assert_no_error (error);
  ck_assert_ptr_nonnull (address);
  g_setenv ("DBUS_SYSTEM_BUS_ADDRESS", address, TRUE);
  return bus;
}

static void
system_bus_free (SystemBus *bus)
{
  g_autofree gchar *cmd = g_strdup_printf ("rm -rf '%s'", bus->dir);

  g_unsetenv ("DBUS_SYSTEM_BUS_ADDRESS");
  g_subprocess_send_signal (bus->daemon, SIGTERM);
  g_subprocess_wait (bus->daemon, NULL, NULL);
  g_object_unref (bus->daemon);
  run_ok ((const gchar *[]) { "sh", "-c", cmd, NULL });
  g_free (bus->dir);
  g_free (bus);
}
G_DEFINE_AUTOPTR_CLEANUP_FUNC (SystemBus, system_bus_free)

START_TEST (test_sandbox_user_through_system_bus)
{
  /* declared first, freed last: the agent on it must stop before the bus goes (an agent
   * that loses its bus ends itself) */
  g_autoptr (SystemBus) bus = NULL;
  g_autoptr (KithTestOrigin) origin = NULL;
  g_autoptr (Node) a = NULL;
  g_autoptr (Node) b = NULL;

  if (getuid () != 0 || getpwnam ("_apt") == NULL) {
    g_print ("test_sandbox_user_through_system_bus: needs root and the user _apt; not run\n");
    return;
  }
  origin = origin_new ();
  bus = system_bus_new ();
  a = node_new (origin, NULL, FALSE);
  /* b: apt as usual (its methods drop to _apt), the agent owning org.kith.Agent1 on the bus */
  b = node_new_full (origin, NULL, FALSE, "_apt");
  node_update_and_download (a);
  node_update_and_download (b);
  node_assert_packages (b);
  /* b's packages came through its agent (from a): the sandboxed method reached it */
  for (guint i = 0; i < N_PACKAGES; i++)
    ck_assert_uint_eq (origin_deb_requests (origin, i), 1);
  ck_assert_uint_eq (kith_test_origin_get_requests (origin, REPO_PATH "/Packages.gz"), 1);
}
END_TEST

/* ---- the method alone, driven the way apt drives it ---- */

typedef struct {
  GSubprocess *process;
  GDataInputStream *out;
  GOutputStream *in;
} Method;

static Method *
method_start (void)
{
  Method *method = g_new0 (Method, 1);
  g_autoptr (GError) error = NULL;

  method->process = g_subprocess_new (G_SUBPROCESS_FLAGS_STDIN_PIPE | G_SUBPROCESS_FLAGS_STDOUT_PIPE, &error,
                                      "timeout", "60", g_getenv ("KITH_APT_METHOD"), NULL);
  g_assert_no_error (error);
  method->out = g_data_input_stream_new (g_subprocess_get_stdout_pipe (method->process));
  method->in = g_subprocess_get_stdin_pipe (method->process);
  return method;
}

static void
method_send (Method *method, const gchar *text)
{
  g_autoptr (GError) error = NULL;

  g_output_stream_write_all (method->in, text, strlen (text), NULL, NULL, &error);
  g_assert_no_error (error);
}

/* The next message other than 101 Log / 102 Status; fails the test at EOF. */
static KithAptMessage *
method_read (Method *method)
{
  for (;;) {
    g_autoptr (GPtrArray) lines = g_ptr_array_new_with_free_func (g_free);
    g_autoptr (GError) error = NULL;
    KithAptMessage *message;
    gchar *line;

    while ((line = g_data_input_stream_read_line_utf8 (method->out, NULL, NULL, &error)) != NULL && *line != '\0')
      g_ptr_array_add (lines, line);
    g_free (line);
    g_assert_no_error (error);
    ck_assert_msg (lines->len > 0, "the method closed its output");
    g_ptr_array_add (lines, NULL);
    message = kith_apt_message_parse ((const gchar *const *) lines->pdata, &error);
    g_assert_no_error (error);
    if (kith_apt_message_get_code (message) != 101 && kith_apt_message_get_code (message) != 102)
      return message;
    kith_apt_message_free (message);
  }
}

/* The next message, which must be @code (a 200 URI Start before it is skipped). */
static KithAptMessage *
method_expect (Method *method, guint code)
{
  KithAptMessage *message = method_read (method);

  if (kith_apt_message_get_code (message) == 200 && code != 200) {
    kith_apt_message_free (message);
    message = method_read (method);
  }
  ck_assert_uint_eq (kith_apt_message_get_code (message), code);
  return message;
}

static void
method_acquire (Method *method, const gchar *uri, const gchar *filename, const gchar *extra)
{
  g_autofree gchar *text = g_strdup_printf ("600 URI Acquire\nURI: %s\nFilename: %s\n%s\n", uri, filename,
                                            extra != NULL ? extra : "");
  method_send (method, text);
}

static void
method_stop (Method *method)
{
  g_autoptr (GError) error = NULL;

  g_output_stream_close (method->in, NULL, NULL);
  ck_assert (g_subprocess_wait_check (method->process, NULL, &error));
  g_object_unref (method->out);
  g_object_unref (method->process);
  g_free (method);
}

START_TEST (test_method_protocol)
{
  g_autoptr (KithTestOrigin) origin = kith_test_origin_new ();
  g_autoptr (GBytes) content = kith_test_make_content (70000, 7);
  g_autofree gchar *sha256 = kith_test_sha256 (content);
  g_autofree gchar *url = kith_test_origin_url (origin, "/pool/f.deb");
  g_autofree gchar *missing = kith_test_origin_url (origin, "/pool/missing.deb");
  g_autofree gchar *uri = g_strconcat ("kith+", url, NULL);
  g_autofree gchar *missing_uri = g_strconcat ("kith+", missing, NULL);
  g_autoptr (GError) error = NULL;
  g_autofree gchar *dir = g_dir_make_tmp ("kith-apt-method-XXXXXX", &error);
  g_autofree gchar *file = g_build_filename (dir, "f.deb", NULL);
  g_autofree gchar *expect = g_strdup_printf ("Expected-SHA256: %s\nExpected-Checksum-FileSize: %" G_GSIZE_FORMAT "\n",
                                              sha256, g_bytes_get_size (content));
  g_autofree gchar *wrong_size = g_strdup_printf ("Expected-SHA256: %s\nExpected-Checksum-FileSize: %" G_GSIZE_FORMAT "\n",
                                                  sha256, g_bytes_get_size (content) + 1);
  g_autofree gchar *size = g_strdup_printf ("%" G_GSIZE_FORMAT, g_bytes_get_size (content));
  Method *method;
  gchar *got = NULL;
  gsize got_len = 0;

  g_assert_no_error (error);
  kith_test_origin_add (origin, "/pool/f.deb", content, 0);
  method = method_start ();
  {
    g_autoptr (KithAptMessage) caps = method_expect (method, 100);
    ck_assert_str_eq (kith_apt_message_get (caps, "Send-Config"), "true");
    ck_assert_str_eq (kith_apt_message_get (caps, "Pipeline"), "true");
    ck_assert_str_eq (kith_apt_message_get (caps, "Version"), "1.2");
  }
  /* no agent answers there: everything comes from the origin directly */
  method_send (method, "601 Configuration\nConfig-Item: APT::Sandbox::User=root\n"
                       "Config-Item: Acquire::kith::Address=unix:path%3d/nonexistent/kith\n\n");
  method_acquire (method, missing_uri, file, expect);
  {
    g_autoptr (KithAptMessage) failure = method_expect (method, 400);
    ck_assert_str_eq (kith_apt_message_get (failure, "URI"), missing_uri);
    ck_assert_str_eq (kith_apt_message_get (failure, "FailReason"), "HttpError404");
    ck_assert (g_str_has_prefix (kith_apt_message_get (failure, "Message"), "404 "));
  }
  method_acquire (method, uri, file, expect);
  {
    g_autoptr (KithAptMessage) done = method_expect (method, 201);
    ck_assert_str_eq (kith_apt_message_get (done, "URI"), uri);
    ck_assert_str_eq (kith_apt_message_get (done, "Filename"), file);
    ck_assert_str_eq (kith_apt_message_get (done, "SHA256-Hash"), sha256);
    ck_assert_str_eq (kith_apt_message_get (done, "Checksum-FileSize-Hash"), size);
    ck_assert_str_eq (kith_apt_message_get (done, "Size"), size);
    ck_assert_uint_eq (strlen (kith_apt_message_get (done, "SHA512-Hash")), 128);
    ck_assert_str_eq (kith_apt_message_get (done, "MD5-Hash"), kith_apt_message_get (done, "MD5Sum-Hash"));
    ck_assert (g_file_get_contents (file, &got, &got_len, NULL));
    ck_assert (got_len == g_bytes_get_size (content) && memcmp (got, g_bytes_get_data (content, NULL), got_len) == 0);
    g_free (got);
    g_unlink (file);
  }
  /* a file of another size than apt expects is refused before it is written */
  method_acquire (method, uri, file, wrong_size);
  {
    g_autoptr (KithAptMessage) failure = method_expect (method, 400);
    ck_assert_str_eq (kith_apt_message_get (failure, "FailReason"), "MaximumSizeExceeded");
    ck_assert (!g_file_test (file, G_FILE_TEST_EXISTS));
  }
  /* only its own schemes */
  method_acquire (method, url, file, NULL);
  {
    g_autoptr (KithAptMessage) failure = method_expect (method, 400);
    ck_assert_str_eq (kith_apt_message_get (failure, "URI"), url);
  }
  ck_assert_uint_eq (kith_test_origin_get_requests (origin, "/pool/f.deb"), 2);
  method_stop (method);
  g_rmdir (dir);
}
END_TEST

static Suite *
apt_suite (void)
{
  Suite *suite = suite_create ("apt");
  TCase *tc = tcase_create ("apt");

  tcase_set_timeout (tc, 180);
  /* made in each test's own process: GLib's child watching does not survive check's fork */
  tcase_add_checked_fixture (tc, repo_make, repo_free);
  tcase_add_test (tc, test_method_protocol);
  tcase_add_test (tc, test_three_nodes_each_deb_once);
  tcase_add_test (tc, test_hostile_peer_refused);
  tcase_add_test (tc, test_agent_stopped_fallback);
#ifdef KITH_TEST_DBUS_DAEMON
  tcase_add_test (tc, test_sandbox_user_through_system_bus);
#endif
  suite_add_tcase (suite, tc);
  return suite;
}

int
main (int argc, char **argv)
{
  static const gchar *const tools[] = { "apt-get", "apt-ftparchive", "dpkg-deb", "gpg", "gpgconf", NULL };

  for (guint i = 0; tools[i] != NULL; i++) {
    g_autofree gchar *path = g_find_program_in_path (tools[i]);
    if (path == NULL || !g_file_test ("/usr/lib/apt/methods", G_FILE_TEST_IS_DIR)) {
      g_print ("SKIP: apt tests need %s (data/debian-packages.txt lists the packages)\n", tools[i]);
      return 77;
    }
  }
  test_port = g_random_int_range (20000, 60000);
  return kith_test_run_suite (apt_suite ());
}
