/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* kith-test-offer.c — a fake node's offers for a task */
#include "kith-test-offer.h"

#include "kith-crypto.h"
#include "kith-packet.h"
#include "kith-peer-proof.h"
#include "kith-transport.h"

struct _KithTestOffer {
  KithTransport *transport;
  gchar *want;
  gchar *node;
  gchar *alias;
  gboolean per_request;
  gchar *cert_b64; /* NULL: none offered */
  gchar *key;
};

static void
kith_test_offer_datagram_cb (KithTransport *transport, GBytes *data, GSocketAddress *from, gpointer user_data)
{
  KithTestOffer *self = user_data;
  gsize len = 0;
  const guint8 *raw = g_bytes_get_data (data, &len);
  g_autoptr (KithPacket) request = kith_packet_parse (raw, len, NULL);
  g_autoptr (KithPacket) reply = NULL;
  g_autoptr (GBytes) bytes = NULL;

  if (request == NULL || request->type != KITH_PACKET_TYPE_REQUEST || g_strcmp0 (request->want, self->want) != 0)
    return;
  reply = kith_packet_new (KITH_PACKET_TYPE_RESPONSE);
  reply->id = request->id;
  reply->node = g_strdup (self->node);
  reply->method = KITH_PACKET_METHOD_POST;
  reply->want = g_strdup (self->want);
  reply->alias = self->per_request ? g_strdup_printf ("%s%08x", self->alias, request->id) : g_strdup (self->alias);
  reply->cert = g_strdup (self->cert_b64);
  reply->sig = kith_peer_proof_sign (self->key, request->id, reply->alias, NULL);
  bytes = kith_packet_write (reply, NULL);
  g_assert_nonnull (bytes);
  kith_transport_send_to (transport, bytes, from, NULL);
}

KithTestOffer *
kith_test_offer_new (guint16 port, const gchar *want, const gchar *node, const gchar *alias, gboolean per_request,
                     const gchar *cert_pem, const gchar *key_pem)
{
  static const gchar *const broadcast[] = { "127.255.255.255", NULL };
  g_autoptr (GError) error = NULL;
  KithTestOffer *self = g_new0 (KithTestOffer, 1);

  self->want = g_strdup (want);
  self->node = g_strdup (node);
  self->alias = g_strdup (alias);
  self->per_request = per_request;
  self->cert_b64 = cert_pem != NULL ? kith_peer_cert_base64_from_pem (cert_pem) : NULL;
  self->key = g_strdup (key_pem);
  self->transport = kith_transport_new (port, "127.255.255.255", "127.0.0.1", broadcast, NULL);
  g_assert_true (kith_transport_start (self->transport, &error));
  g_signal_connect (self->transport, "datagram", G_CALLBACK (kith_test_offer_datagram_cb), self);
  return self;
}

void
kith_test_offer_free (KithTestOffer *self)
{
  kith_transport_stop (self->transport);
  g_signal_handlers_disconnect_by_data (self->transport, self);
  g_object_unref (self->transport);
  g_free (self->want);
  g_free (self->node);
  g_free (self->alias);
  g_free (self->cert_b64);
  g_free (self->key);
  g_free (self);
}

gchar *
kith_test_offer_issue (const gchar *ca_pem, const gchar *ca_key_pem, const gchar *pub_pem, const gchar *node,
                       const gchar *tasks, const gchar *alias, gint64 not_before, gint64 not_after)
{
  const gchar *sans[] = { alias, NULL };
  KithCertExtension ext[] = { { KITH_CRYPTO_OID_NODE_ID, node }, { KITH_CRYPTO_OID_TASKS, tasks }, { NULL, NULL } };
  KithCertSpec spec = { .common_name = "kith node", .not_before = not_before, .not_after = not_after,
                        .san_uris = sans, .extensions = ext };
  g_autoptr (GError) error = NULL;
  gchar *cert = kith_crypto_cert_issue (pub_pem, &spec, ca_pem, ca_key_pem, &error);

  g_assert_no_error (error);
  return cert;
}
