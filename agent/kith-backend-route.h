/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* kith-backend-route.h — how this node reaches its vendor backend: directly, or through a
 * relay on the LAN (docs/relay.md). A GProxyResolver that every session talking to the
 * backend uses (kith_backend_trust_session()): https:// URLs on the backend's host and port
 * go through the relay's HTTP CONNECT while one is set, so TLS runs end to end to the
 * backend and the relay carries only ciphertext; every other URL resolves as the system
 * says. The relay plugin sets and clears the relay; the SDK never picks one itself. */
#pragma once

#include <gio/gio.h>

G_BEGIN_DECLS

#define KITH_TYPE_BACKEND_ROUTE (kith_backend_route_get_type ())
G_DECLARE_FINAL_TYPE (KithBackendRoute, kith_backend_route, KITH, BACKEND_ROUTE, GObject)

/* The route to @backend_url (may be NULL: nothing is ever relayed); caller owns it. */
KithBackendRoute *kith_backend_route_new (const gchar *backend_url);
/* Sends the backend's traffic through relay @node's CONNECT endpoint @proxy_url
 * ("http://HOST:PORT"); NULL for both goes direct again. Emits "changed" when it changes. */
void kith_backend_route_set_relay (KithBackendRoute *self, const gchar *node, const gchar *proxy_url);
/* The relay in use (node id and "http://HOST:PORT"), or NULL when direct; owned by @self. */
const gchar *kith_backend_route_get_relay_node (KithBackendRoute *self);
const gchar *kith_backend_route_get_relay_url (KithBackendRoute *self);
/* Whether the backend was found unreachable directly (the relay plugin probes it): while
 * set and no relay is in use, the node is between relays. Emits "changed" when it changes. */
void kith_backend_route_set_unreachable (KithBackendRoute *self, gboolean unreachable);
/* TRUE when this node talks to its backend directly: not found unreachable, no relay in
 * use. A node between two relays is not direct: origins are out of its reach too. */
gboolean kith_backend_route_get_direct (KithBackendRoute *self);
/* A request to the backend through the relay failed without an answer (the connection
 * was refused, reset, timed out): emits "relay-failed", so that whoever set the relay
 * checks it now instead of at its next probe. Called by the sessions' trust hook. */
void kith_backend_route_report_failure (KithBackendRoute *self);
/* Whether @uri (an absolute URL) is one the relay would carry: https on the backend's host
 * and port. */
gboolean kith_backend_route_is_backend (KithBackendRoute *self, const gchar *uri);

G_END_DECLS
