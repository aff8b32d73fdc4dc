/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* kith-test-tls.c — the CA a test's own HTTPS clients trust */
#include "kith-test-tls.h"

static GTlsDatabase *kith_test_tls_database;

void
kith_test_tls_trust (const gchar *ca_path)
{
  g_autoptr (GError) error = NULL;

  g_clear_object (&kith_test_tls_database);
  kith_test_tls_database = g_tls_file_database_new (ca_path, &error);
  g_assert_no_error (error);
}

/* Checked when the request is made, against the CA trusted then: a session may be made
 * before the backend it talks to starts. */
static gboolean
kith_test_tls_accept (SoupMessage *msg, GTlsCertificate *certificate, GTlsCertificateFlags errors,
                      gpointer user_data)
{
  GUri *uri = soup_message_get_uri (msg);
  g_autoptr (GSocketConnectable) identity = NULL;

  if (kith_test_tls_database == NULL)
    return FALSE;
  identity = g_network_address_new (g_uri_get_host (uri), (guint16) g_uri_get_port (uri));
  return g_tls_database_verify_chain (kith_test_tls_database, certificate,
                                      G_TLS_DATABASE_PURPOSE_AUTHENTICATE_SERVER, identity, NULL,
                                      G_TLS_DATABASE_VERIFY_NONE, NULL, NULL) == 0;
}

static void
kith_test_tls_queued (SoupSession *session, SoupMessage *msg, gpointer user_data)
{
  g_signal_connect (msg, "accept-certificate", G_CALLBACK (kith_test_tls_accept), NULL);
}

SoupSession *
kith_test_session_new (void)
{
  SoupSession *session = soup_session_new ();

  g_signal_connect (session, "request-queued", G_CALLBACK (kith_test_tls_queued), NULL);
  return session;
}
