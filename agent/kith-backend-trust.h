/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* kith-backend-trust.h — HTTPS to the vendor backend, verified against the trust-anchor */
#pragma once

#include <libsoup/soup.h>

#include "kith-agent.h"

G_BEGIN_DECLS

/* Every message @session sends to the host and port of @agent's backend-url accepts the
 * server certificate only when it verifies against the trust-anchor (chain, validity,
 * the host as identity) — the vendor CA the system store does not know. Other servers
 * keep the system's verification. The session also takes the agent's backend route as
 * its proxy resolver (kith-backend-route.h: through a relay when one is in use). Call once
 * per session, before it sends. */
void kith_backend_trust_session (KithAgent *agent, SoupSession *session);

G_END_DECLS
