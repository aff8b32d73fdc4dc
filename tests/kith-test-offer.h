/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* kith-test-offer.h — the offering side of a fake peer or relay, in a child process of a
 * suite: on the loopback LAN's peering port it answers every "I need" for one task at
 * once (before any honest node), with an alias, a certificate and a proof signed by its
 * own key — whatever the certificate's worth */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

typedef struct _KithTestOffer KithTestOffer;

/* Answers each request for @want on peering @port in the name of @node, offering @alias
 * (@per_request: @alias followed by the request id in 8 hex digits), @cert_pem (NULL: no
 * certificate) and a proof of possession signed with @key_pem. Caller frees. */
KithTestOffer *kith_test_offer_new (guint16 port, const gchar *want, const gchar *node, const gchar *alias,
                                    gboolean per_request, const gchar *cert_pem, const gchar *key_pem);
void kith_test_offer_free (KithTestOffer *self);

/* A node certificate for @pub_pem issued by the CA @ca_pem with @ca_key_pem: node id @node,
 * the tasks @tasks ("upload,relay"), @alias as its URI, valid from @not_before (0: at once)
 * to @not_after. Caller frees. */
gchar *kith_test_offer_issue (const gchar *ca_pem, const gchar *ca_key_pem, const gchar *pub_pem, const gchar *node,
                              const gchar *tasks, const gchar *alias, gint64 not_before, gint64 not_after);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (KithTestOffer, kith_test_offer_free)

G_END_DECLS
