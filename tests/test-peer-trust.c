/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* test-peer-trust.c — the rules a node applies before it trusts what a peer announces:
 * which alias URLs it follows (kith-alias-url.h) and which hash an origin states for its
 * own file (kith-origin-digest.h), and the record of how each stored copy was verified
 * (KithAliasTrust in the alias store's index) */
#include <check.h>
#include <glib/gstdio.h>
#include <string.h>

#include "kith-test-suite.h"

#include "kith-alias-store.h"
#include "kith-alias-url.h"
#include "kith-origin-digest.h"

static const gchar *
check_from (const gchar *alias, const gchar *source)
{
  g_autoptr (GSocketAddress) from = g_inet_socket_address_new_from_string (source, 1967);
  const gchar *reason = NULL;

  if (kith_alias_url_check (alias, from, &reason))
    return NULL;
  ck_assert_ptr_nonnull (reason);
  return reason;
}

START_TEST (test_alias_url)
{
  const gchar *sha = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";
  g_autofree gchar *good = g_strdup_printf ("http://127.0.0.1:4711/alias/%s/a.cab", sha);
  g_autofree gchar *good_s = g_strdup_printf ("https://10.0.0.7/alias/%s", sha);
  g_autofree gchar *good6 = g_strdup_printf ("http://[fe80::1]:80/alias/%s", sha);
  g_autofree gchar *other_host = g_strdup_printf ("http://127.0.0.2:4711/alias/%s", sha);
  g_autofree gchar *dotdot = g_strdup_printf ("http://127.0.0.1:4711/alias/../secret");
  g_autofree gchar *escaped = g_strdup_printf ("http://127.0.0.1:4711/alias/%%2e%%2e/secret");
  g_autofree gchar *userinfo = g_strdup_printf ("http://me@127.0.0.1:4711/alias/%s", sha);
  g_autofree gchar *query = g_strdup_printf ("http://127.0.0.1:4711/alias/%s?x=1", sha);
  g_autofree gchar *name = g_strdup_printf ("http://localhost:4711/alias/%s", sha);

  ck_assert_ptr_null (check_from (good, "127.0.0.1"));
  ck_assert_ptr_null (check_from (good_s, "10.0.0.7"));
  ck_assert_ptr_null (check_from (good6, "fe80::1"));
  ck_assert_ptr_null (check_from ("http://127.0.0.1:4711/alias/", "127.0.0.1")); /* "downloading" */
  ck_assert_str_eq (check_from (other_host, "127.0.0.1"), "host");
  ck_assert_str_eq (check_from (name, "127.0.0.1"), "host");
  ck_assert_str_eq (check_from ("http://127.0.0.1:4712/secret", "127.0.0.1"), "path");
  ck_assert_str_eq (check_from ("http://127.0.0.1:4712/", "127.0.0.1"), "path");
  ck_assert_str_eq (check_from (dotdot, "127.0.0.1"), "path");
  ck_assert_str_eq (check_from (escaped, "127.0.0.1"), "path");
  ck_assert_str_eq (check_from (query, "127.0.0.1"), "path");
  ck_assert_str_eq (check_from (userinfo, "127.0.0.1"), "host");
  ck_assert_str_eq (check_from ("file:///etc/passwd", "127.0.0.1"), "scheme");
  ck_assert_str_eq (check_from ("ftp://127.0.0.1/alias/x", "127.0.0.1"), "scheme");
  ck_assert_str_eq (check_from ("data:,hello", "127.0.0.1"), "scheme");
  ck_assert_str_eq (check_from ("http://", "127.0.0.1"), "host");
  ck_assert_str_eq (check_from ("http://[::1/alias/", "127.0.0.1"), "syntax");
  ck_assert (!kith_alias_url_check (good, NULL, &(const gchar *) { NULL }));
}
END_TEST

static gchar *
digest_of (const gchar *name, const gchar *value, const gchar *name2, const gchar *value2)
{
  g_autoptr (SoupMessageHeaders) headers = soup_message_headers_new (SOUP_MESSAGE_HEADERS_RESPONSE);

  if (name != NULL)
    soup_message_headers_append (headers, name, value);
  if (name2 != NULL)
    soup_message_headers_append (headers, name2, value2);
  return kith_origin_digest_from_headers (headers);
}

START_TEST (test_origin_digest)
{
  /* sha-256 of the empty string */
  const gchar *hex = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";
  const gchar *b64 = "47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=";
  const gchar *other = "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=";
  g_autofree gchar *repr = g_strdup_printf ("sha-256=:%s:", b64);
  g_autofree gchar *repr_list = g_strdup_printf ("sha-512=:AAAA:, sha-256=:%s:", b64);
  g_autofree gchar *legacy = g_strdup_printf ("SHA-256=%s", b64);
  g_autofree gchar *legacy_list = g_strdup_printf ("md5=AAAA,sha-256=%s", b64);
  g_autofree gchar *repr_other = g_strdup_printf ("sha-256=:%s:", other);
  g_autofree gchar *a = digest_of ("Repr-Digest", repr, NULL, NULL);
  g_autofree gchar *b = digest_of ("Repr-Digest", repr_list, NULL, NULL);
  g_autofree gchar *c = digest_of ("Digest", legacy, NULL, NULL);
  g_autofree gchar *d = digest_of ("Digest", legacy_list, NULL, NULL);
  g_autofree gchar *e = digest_of ("Repr-Digest", repr, "Digest", "sha-256=" "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=");
  g_autofree gchar *f = digest_of ("Repr-Digest", repr_other, NULL, NULL);

  ck_assert_str_eq (a, hex);
  ck_assert_str_eq (b, hex);
  ck_assert_str_eq (c, hex);
  ck_assert_str_eq (d, hex);
  ck_assert_str_eq (e, hex); /* Repr-Digest wins */
  ck_assert_str_eq (f, "0000000000000000000000000000000000000000000000000000000000000000");
  ck_assert_ptr_null (digest_of (NULL, NULL, NULL, NULL));
  ck_assert_ptr_null (digest_of ("Repr-Digest", "sha-512=:AAAA:", NULL, NULL));
  ck_assert_ptr_null (digest_of ("Repr-Digest", "sha-256=47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=", NULL, NULL));
  ck_assert_ptr_null (digest_of ("Repr-Digest", "sha-256=:AAAA:", NULL, NULL));
  ck_assert_ptr_null (digest_of ("Digest", "sha-256=not base64 at all, really not!!!!!!!", NULL, NULL));
  ck_assert_ptr_null (digest_of ("Content-Digest", repr, NULL, NULL));
}
END_TEST

static gboolean
store_is_verifying (gpointer store)
{
  return kith_alias_store_is_verifying (store);
}

static gboolean
timed_out_cb (gpointer flag)
{
  *(gboolean *) flag = TRUE;
  return G_SOURCE_REMOVE;
}

static KithAliasStore *
open_store (const gchar *dir)
{
  g_autoptr (GError) error = NULL;
  KithAliasStore *store = kith_alias_store_new (dir, 0, 0, &error);
  gboolean timed_out = FALSE;
  guint id = g_timeout_add_seconds (20, timed_out_cb, &timed_out);

  ck_assert_msg (store != NULL, "%s", error != NULL ? error->message : "");
  while (store_is_verifying (store) && !timed_out)
    g_main_context_iteration (NULL, TRUE);
  ck_assert (!timed_out);
  g_source_remove (id);
  return store;
}

/* Stores @data as @href verified as @trust; returns the file's record after the commit. */
static KithAliasTrust
put (KithAliasStore *store, const gchar *href, const gchar *data, KithAliasTrust trust)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (KithAliasWriter) writer = kith_alias_store_begin (store, href, NULL, 0, &error);
  g_autoptr (KithAliasEntry) entry = NULL;

  ck_assert_ptr_nonnull (writer);
  kith_alias_writer_set_trust (writer, trust);
  ck_assert (kith_alias_writer_write (writer, (const guint8 *) data, strlen (data), &error));
  entry = kith_alias_writer_commit (writer, &error);
  ck_assert_msg (entry != NULL, "%s", error != NULL ? error->message : "");
  return entry->trust;
}

static KithAliasTrust
trust_of (KithAliasStore *store, const gchar *href)
{
  g_autoptr (KithAliasEntry) entry = kith_alias_store_lookup_href (store, href);
  ck_assert_ptr_nonnull (entry);
  return entry->trust;
}

START_TEST (test_trust_record)
{
  g_autoptr (GError) error = NULL;
  g_autofree gchar *dir = g_dir_make_tmp ("kith-trust-XXXXXX", &error);
  g_autofree gchar *index = g_build_filename (dir, "index.json", NULL);
  g_autofree gchar *text = NULL;
  g_autoptr (GRegex) member = g_regex_new ("\"verified\" *: *\"[a-z]+\" *,?", 0, 0, NULL);
  g_autofree gchar *stripped = NULL;
  KithAliasStore *store;

  ck_assert_ptr_nonnull (dir);
  store = open_store (dir);
  ck_assert_int_eq (put (store, "http://o.example/a", "from the origin", KITH_ALIAS_TRUST_ORIGIN),
                    KITH_ALIAS_TRUST_ORIGIN);
  ck_assert_int_eq (put (store, "http://o.example/b", "checked against a hash", KITH_ALIAS_TRUST_HASH),
                    KITH_ALIAS_TRUST_HASH);
  ck_assert_int_eq (put (store, "http://o.example/c", "from an enrolled peer", KITH_ALIAS_TRUST_PEER),
                    KITH_ALIAS_TRUST_PEER);
  /* the same href verified again, better: the record strengthens */
  ck_assert_int_eq (put (store, "http://o.example/c", "from an enrolled peer", KITH_ALIAS_TRUST_HASH),
                    KITH_ALIAS_TRUST_HASH);
  ck_assert_int_eq (put (store, "http://o.example/c", "from an enrolled peer", KITH_ALIAS_TRUST_PEER),
                    KITH_ALIAS_TRUST_HASH);
  /* one record for all hrefs of a file: the same bytes under another href, believed from
   * the LAN, weaken it for every href (never vouch for more than was checked) */
  ck_assert_int_eq (put (store, "http://o.example/e", "checked against a hash", KITH_ALIAS_TRUST_LAN),
                    KITH_ALIAS_TRUST_LAN);
  ck_assert_int_eq (trust_of (store, "http://o.example/b"), KITH_ALIAS_TRUST_LAN);
  ck_assert (kith_alias_store_save (store, &error));
  g_object_unref (store);

  /* the record survives a restart */
  store = open_store (dir);
  ck_assert_int_eq (trust_of (store, "http://o.example/a"), KITH_ALIAS_TRUST_ORIGIN);
  ck_assert_int_eq (trust_of (store, "http://o.example/c"), KITH_ALIAS_TRUST_HASH);
  ck_assert_int_eq (trust_of (store, "http://o.example/e"), KITH_ALIAS_TRUST_LAN);
  g_object_unref (store);

  /* an index from before the record knew nothing: nothing is vouched for */
  ck_assert (g_file_get_contents (index, &text, NULL, NULL));
  ck_assert_ptr_nonnull (strstr (text, "\"verified\""));
  stripped = g_regex_replace_literal (member, text, -1, 0, "", 0, NULL);
  ck_assert_ptr_null (strstr (stripped, "\"verified\""));
  ck_assert (g_file_set_contents (index, stripped, -1, NULL));
  store = open_store (dir);
  ck_assert_int_eq (trust_of (store, "http://o.example/a"), KITH_ALIAS_TRUST_LAN);
  ck_assert_int_eq (trust_of (store, "http://o.example/c"), KITH_ALIAS_TRUST_LAN);
  g_object_unref (store);

  ck_assert_str_eq (kith_alias_trust_to_string (KITH_ALIAS_TRUST_HASH), "hash");
  ck_assert_int_eq (kith_alias_trust_from_string ("origin"), KITH_ALIAS_TRUST_ORIGIN);
  ck_assert_int_eq (kith_alias_trust_from_string ("bogus"), KITH_ALIAS_TRUST_LAN);
  ck_assert (KITH_ALIAS_TRUST_VOUCHES (KITH_ALIAS_TRUST_ORIGIN) && !KITH_ALIAS_TRUST_VOUCHES (KITH_ALIAS_TRUST_PEER));
  {
    g_autoptr (GDir) listing = g_dir_open (dir, 0, NULL);
    const gchar *name;
    while (listing != NULL && (name = g_dir_read_name (listing)) != NULL) {
      g_autofree gchar *path = g_build_filename (dir, name, NULL);
      g_unlink (path);
    }
    g_rmdir (dir);
  }
}
END_TEST

static Suite *
peer_trust_suite (void)
{
  Suite *s = suite_create ("peer-trust");
  TCase *tc = tcase_create ("rules");
  tcase_set_timeout (tc, 30);
  tcase_add_test (tc, test_alias_url);
  tcase_add_test (tc, test_origin_digest);
  tcase_add_test (tc, test_trust_record);
  suite_add_tcase (s, tc);
  return s;
}

int
main (void)
{
  return kith_test_run_suite (peer_trust_suite ());
}
