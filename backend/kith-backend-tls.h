/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* kith-backend-tls.h — the backend's own TLS server certificate, issued by its CA */
#pragma once

#include <gio/gio.h>

G_BEGIN_DECLS

/* A fresh key and a certificate for @hosts (IP addresses or DNS names, at least one),
 * valid @validity seconds, signed by the CA of the store @dir — the CA agents already
 * trust as their trust-anchor. The key lives only in memory. */
/* The same as PEM text: the certificate, then its private key (caller frees) — for a web
 * server in front of the backend (kith-backend tls-cert). */
gchar *kith_backend_tls_issue_pem (const gchar *dir, const gchar *const *hosts, gint64 validity, GError **error);
GTlsCertificate *kith_backend_tls_certificate (const gchar *dir, const gchar *const *hosts, gint64 validity,
                                               GError **error);

G_END_DECLS
