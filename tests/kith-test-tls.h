/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* kith-test-tls.h — a test process talks HTTPS to the kith-backend it started */
#pragma once

#include <libsoup/soup.h>

G_BEGIN_DECLS

/* From now on, sessions from kith_test_session_new() trust the CA in @ca_path (a backend's
 * ca.pem) instead of the system's. */
void kith_test_tls_trust (const gchar *ca_path);
/* soup_session_new(), trusting the CA given to kith_test_tls_trust(). */
SoupSession *kith_test_session_new (void);

G_END_DECLS
