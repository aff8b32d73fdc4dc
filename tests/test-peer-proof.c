/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* test-peer-proof.c — the enrolled-peer check (agent/kith-peer-proof.h), rule by rule */
#include <check.h>
#include <string.h>

#include "kith-test-suite.h"

#include "kith-crypto.h"
#include "kith-peer-proof.h"

#define NODE "5f0c1d2e3a4b5c6d7e8f90a1b2c3d4e5"
#define OTHER "00000000000000000000000000000001"
#define ALIAS "http://127.0.0.1:4711/alias/abc"

typedef struct {
  gchar *ca_key, *ca_cert;
  gchar *node_key, *node_cert_b64;
} Pki;

static gchar *
make_ca (gchar **key)
{
  KithCertSpec spec = { .common_name = "test CA", .not_after = g_get_real_time () / G_USEC_PER_SEC + 3600,
                        .is_ca = TRUE };
  *key = kith_crypto_key_generate (NULL);
  return kith_crypto_cert_self_signed (*key, &spec, NULL);
}

/* A node certificate from @pki's CA for @node, permitting @roles, valid until @not_after. */
static gchar *
issue (Pki *pki, const gchar *node, const gchar *roles, gint64 not_after)
{
  const gchar *sans[] = { "http://127.0.0.1:4711/upload/", NULL };
  KithCertExtension ext[] = { { KITH_CRYPTO_OID_NODE_ID, node }, { KITH_CRYPTO_OID_TASKS, roles }, { NULL, NULL } };
  KithCertSpec spec = { .common_name = node, .not_after = not_after, .san_uris = sans, .extensions = ext };
  g_autofree gchar *pub = kith_crypto_key_get_public (pki->node_key, NULL);
  g_autofree gchar *pem = kith_crypto_cert_issue (pub, &spec, pki->ca_cert, pki->ca_key, NULL);
  ck_assert_ptr_nonnull (pem);
  return kith_peer_cert_base64_from_pem (pem);
}

static void
pki_init (Pki *pki)
{
  pki->ca_cert = make_ca (&pki->ca_key);
  pki->node_key = kith_crypto_key_generate (NULL);
  pki->node_cert_b64 = issue (pki, NODE, "upload,relay,serve", g_get_real_time () / G_USEC_PER_SEC + 3600);
}

static void
pki_clear (Pki *pki)
{
  g_free (pki->ca_key);
  g_free (pki->ca_cert);
  g_free (pki->node_key);
  g_free (pki->node_cert_b64);
}

/* Verifies a claim for request 7 by NODE from @source; NULL when it passes, else the reason. */
static gchar *
check (Pki *pki, const gchar *role, const gchar *cert, const gchar *node, const gchar *alias, const gchar *sig,
       const gchar *source)
{
  g_autoptr (GInetAddress) addr = g_inet_address_new_from_string (source);
  g_autoptr (GSocketAddress) from = g_inet_socket_address_new (addr, 1967);
  KithPeerClaim claim = { .id = 7, .node = node, .cert = cert, .alias = alias, .sig = sig, .from = from };
  gchar *reason = NULL;

  if (kith_peer_proof_verify (pki->ca_cert, role, &claim, g_get_real_time () / G_USEC_PER_SEC, &reason)) {
    ck_assert_ptr_null (reason);
    return NULL;
  }
  ck_assert_ptr_nonnull (reason);
  return reason;
}

static void
assert_refused (gchar *reason, const gchar *expected)
{
  ck_assert_msg (reason != NULL, "passed, expected \"%s\"", expected);
  ck_assert_msg (strstr (reason, expected) != NULL, "\"%s\" does not say \"%s\"", reason, expected);
  g_free (reason);
}

START_TEST (test_passes)
{
  Pki pki;
  g_autofree gchar *sig = NULL;

  pki_init (&pki);
  sig = kith_peer_proof_sign (pki.node_key, 7, ALIAS, NULL);
  ck_assert_ptr_null (check (&pki, KITH_PEER_ROLE_SERVE, pki.node_cert_b64, NODE, ALIAS, sig, "127.0.0.1"));
  ck_assert_ptr_null (check (&pki, KITH_PEER_ROLE_UPLOAD, pki.node_cert_b64, NODE, ALIAS, sig, "127.0.0.1"));
  pki_clear (&pki);
}
END_TEST

START_TEST (test_refuses)
{
  Pki pki, other;
  g_autofree gchar *sig = NULL;
  g_autofree gchar *sig_other_id = NULL;
  g_autofree gchar *sig_other_key = NULL;
  g_autofree gchar *foreign = NULL;
  g_autofree gchar *expired = NULL;
  g_autofree gchar *upload_only = NULL;
  const gchar *elsewhere = "http://127.0.0.1:4712/alias/abc";

  pki_init (&pki);
  pki_init (&other);
  sig = kith_peer_proof_sign (pki.node_key, 7, ALIAS, NULL);
  sig_other_id = kith_peer_proof_sign (pki.node_key, 8, ALIAS, NULL);
  sig_other_key = kith_peer_proof_sign (other.node_key, 7, ALIAS, NULL);
  foreign = g_strdup (other.node_cert_b64);
  expired = issue (&pki, NODE, "serve", g_get_real_time () / G_USEC_PER_SEC - 60);
  upload_only = issue (&pki, NODE, "upload", g_get_real_time () / G_USEC_PER_SEC + 3600);

  assert_refused (check (&pki, "serve", NULL, NODE, ALIAS, sig, "127.0.0.1"), "no certificate");
  assert_refused (check (&pki, "serve", foreign, NODE, ALIAS, sig, "127.0.0.1"), "certificate refused");
  assert_refused (check (&pki, "serve", expired, NODE, ALIAS, sig, "127.0.0.1"), "certificate refused");
  assert_refused (check (&pki, "serve", upload_only, NODE, ALIAS, sig, "127.0.0.1"), "does not permit serve");
  assert_refused (check (&pki, "serve", pki.node_cert_b64, OTHER, ALIAS, sig, "127.0.0.1"), "certificate of node");
  assert_refused (check (&pki, "serve", pki.node_cert_b64, NODE, ALIAS, sig, "127.0.0.2"), "not the packet source");
  assert_refused (check (&pki, "serve", pki.node_cert_b64, NODE, elsewhere, sig, "127.0.0.1"), "not in the certificate");
  assert_refused (check (&pki, "serve", pki.node_cert_b64, NODE, ALIAS, NULL, "127.0.0.1"), "no proof of possession");
  assert_refused (check (&pki, "serve", pki.node_cert_b64, NODE, ALIAS, sig_other_id, "127.0.0.1"), "does not verify");
  assert_refused (check (&pki, "serve", pki.node_cert_b64, NODE, ALIAS, sig_other_key, "127.0.0.1"), "does not verify");
  pki_clear (&pki);
  pki_clear (&other);
}
END_TEST

START_TEST (test_cert_encoding)
{
  Pki pki;
  g_autofree gchar *pem = NULL;
  g_autofree gchar *again = NULL;

  pki_init (&pki);
  pem = kith_peer_cert_pem_from_base64 (pki.node_cert_b64);
  ck_assert_ptr_nonnull (pem);
  again = kith_peer_cert_base64_from_pem (pem);
  ck_assert_str_eq (again, pki.node_cert_b64);
  ck_assert_ptr_null (kith_peer_cert_pem_from_base64 (""));
  ck_assert_ptr_null (kith_peer_cert_base64_from_pem ("no certificate here"));
  pki_clear (&pki);
}
END_TEST

static Suite *
peer_proof_suite (void)
{
  Suite *s = suite_create ("peer-proof");
  TCase *tc = tcase_create ("core");
  tcase_set_timeout (tc, 30);
  tcase_add_test (tc, test_passes);
  tcase_add_test (tc, test_refuses);
  tcase_add_test (tc, test_cert_encoding);
  suite_add_tcase (s, tc);
  return s;
}

int
main (void)
{
  return kith_test_run_suite (peer_proof_suite ());
}
