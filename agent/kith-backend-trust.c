/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* kith-backend-trust.c — the backend's TLS certificate checked against the trust-anchor */
#include "kith-backend-trust.h"

typedef struct {
  gchar *host;
  gint port;
  GTlsDatabase *anchor; /* NULL: the anchor could not be read; nothing extra is accepted */
  KithBackendRoute *route; /* borrowed: the agent's, outliving its sessions */
} KithBackendTrust;

static void
kith_backend_trust_free (gpointer data)
{
  KithBackendTrust *trust = data;

  g_free (trust->host);
  g_clear_object (&trust->anchor);
  g_free (trust);
}

static gboolean
kith_backend_trust_accept (SoupMessage *msg, GTlsCertificate *certificate, GTlsCertificateFlags errors,
                           KithBackendTrust *trust)
{
  g_autoptr (GSocketConnectable) identity = g_network_address_new (trust->host, (guint16) trust->port);
  g_autoptr (GError) error = NULL;
  GTlsCertificateFlags flags;

  if (trust->anchor == NULL)
    return FALSE;
  flags = g_tls_database_verify_chain (trust->anchor, certificate, G_TLS_DATABASE_PURPOSE_AUTHENTICATE_SERVER,
                                       identity, NULL, G_TLS_DATABASE_VERIFY_NONE, NULL, &error);
  if (error != NULL || flags != 0) {
    g_warning ("%s: the backend's certificate does not verify against the trust-anchor (flags 0x%x%s%s)",
               trust->host, flags, error != NULL ? ": " : "", error != NULL ? error->message : "");
    return FALSE;
  }
  return TRUE;
}

static void
kith_backend_trust_queued (SoupSession *session, SoupMessage *msg, KithBackendTrust *trust)
{
  GUri *uri = soup_message_get_uri (msg);

  if (g_strcmp0 (g_uri_get_scheme (uri), "https") != 0 ||
      g_ascii_strcasecmp (g_uri_get_host (uri), trust->host) != 0 ||
      (g_uri_get_port (uri) == -1 ? 443 : g_uri_get_port (uri)) != trust->port)
    return;
  g_signal_connect (msg, "accept-certificate", G_CALLBACK (kith_backend_trust_accept), trust);
}

/* A backend request that got no answer at all while relayed: the relay may be gone. */
static void
kith_backend_trust_unqueued (SoupSession *session, SoupMessage *msg, KithBackendRoute *route)
{
  g_autofree gchar *uri = g_uri_to_string (soup_message_get_uri (msg));

  if (soup_message_get_status (msg) == SOUP_STATUS_NONE && kith_backend_route_get_relay_url (route) != NULL &&
      kith_backend_route_is_backend (route, uri))
    kith_backend_route_report_failure (route);
}

void
kith_backend_trust_session (KithAgent *agent, SoupSession *session)
{
  const gchar *url = kith_agent_get_backend_url (agent);
  const gchar *anchor = kith_agent_get_trust_anchor (agent);
  g_autoptr (GUri) uri = url != NULL ? g_uri_parse (url, G_URI_FLAGS_NONE, NULL) : NULL;
  g_autoptr (GError) error = NULL;
  KithBackendTrust *trust;

  if (uri == NULL || g_strcmp0 (g_uri_get_scheme (uri), "https") != 0 || anchor == NULL)
    return;
  /* through a relay when the relay plugin set one; TLS still ends at the backend */
  g_object_set (session, "proxy-resolver", kith_agent_get_backend_route (agent), NULL);
  g_signal_connect (session, "request-unqueued", G_CALLBACK (kith_backend_trust_unqueued),
                    kith_agent_get_backend_route (agent));
  trust = g_new0 (KithBackendTrust, 1);
  trust->host = g_strdup (g_uri_get_host (uri));
  trust->port = g_uri_get_port (uri) == -1 ? 443 : g_uri_get_port (uri);
  trust->anchor = g_tls_file_database_new (anchor, &error);
  if (trust->anchor == NULL)
    g_warning ("trust-anchor %s: %s", anchor, error->message);
  /* the messages hold no reference: the trust lives as long as the session */
  g_object_set_data_full (G_OBJECT (session), "kith-backend-trust", trust, kith_backend_trust_free);
  g_signal_connect (session, "request-queued", G_CALLBACK (kith_backend_trust_queued), trust);
}
