/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* kith-http.h — the agent's embedded HTTP server (libsoup 3), hardened for a hostile LAN
 *
 * Every connection is counted from its accept to its close: a cap in total and per source
 * address (further connections are closed at once), a deadline for the request head, an
 * inactivity timeout on the socket, one request per connection ("Connection: close": libsoup
 * 3.2 leaks a kept-alive connection that its client closes while idle), and request bodies
 * only where a handler declared it takes one, up to the size it declared.
 */
#pragma once

#include <libsoup/soup.h>

G_BEGIN_DECLS

#define KITH_TYPE_HTTP (kith_http_get_type ())
G_DECLARE_FINAL_TYPE (KithHttp, kith_http, KITH, HTTP, GObject)

/* Defaults of KithHttpLimits. */
#define KITH_HTTP_HEADER_TIMEOUT_MS 10000
#define KITH_HTTP_IDLE_TIMEOUT_MS 60000
#define KITH_HTTP_MAX_PER_SOURCE 64
#define KITH_HTTP_MAX_CONNECTIONS 1024

typedef struct {
  guint64 header_timeout_ms; /* accept → end of the request head; 0: the default */
  guint64 idle_timeout_ms;   /* a connection that moves no byte for this long is closed */
  guint max_connections;     /* open at once, all sources; 0: the default, below the fd limit */
  guint max_per_source;      /* open at once from one address; 0: the default */
} KithHttpLimits;

/* What the server refused since it started (for metrics and tests). */
typedef struct {
  guint64 accepted;          /* connections taken */
  guint64 refused;           /* connections closed at once: over a cap */
  guint64 header_timeouts;   /* connections closed: the request head took too long */
  guint64 bodies_refused;    /* requests answered 413 before their body was read */
  guint open;                /* connections open now */
} KithHttpCounters;

/* A server that answers 404 to everything until handlers are added; caller owns it. */
KithHttp *kith_http_new (void);
/* Replaces the limits (before or after listening); zero fields take their defaults. */
void kith_http_set_limits (KithHttp *self, const KithHttpLimits *limits);
/* The limits in force, defaults filled in. */
void kith_http_get_limits (KithHttp *self, KithHttpLimits *limits);
void kith_http_get_counters (KithHttp *self, KithHttpCounters *counters);
/* Listens on "ADDR:PORT" or "[ADDR6]:PORT"; port 0 picks a free one. HTTPS when the
 * SoupServer has a tls-certificate. Socket errors keep their G_IO_ERROR code. */
gboolean kith_http_listen (KithHttp *self, const gchar *listen, GError **error);
/* Routes requests whose path starts with @path (e.g. "/alias/") to @callback. */
void kith_http_add_handler (KithHttp *self, const gchar *path, SoupServerCallback callback,
                            gpointer user_data, GDestroyNotify destroy);
/* CONNECT requests (they name a host:port, no path) go to @callback (NULL: answered 405,
 * the default); one such handler at a time. It may take the connection over with
 * soup_server_message_steal_connection() (from "wrote-body"); what it does with it then,
 * caps included, is its own business. */
void kith_http_set_connect_handler (KithHttp *self, SoupServerCallback callback, gpointer user_data);
/* Removes the handler added for @path (and its body limit). */
void kith_http_remove_handler (KithHttp *self, const gchar *path);
/*
 * Requests whose path starts with @path may carry a body of up to @max_size bytes. Every
 * other request with a body is answered 413 and closed before its body is read; so is one
 * here whose Content-Length is larger, or whose chunked body grows past @max_size. The body
 * still accumulates in the request unless the handler turns that off (to stream it).
 */
void kith_http_set_body_limit (KithHttp *self, const gchar *path, guint64 max_size);
/*
 * Refuses the body of @msg (from a handler's got-headers or got-chunk, or an early handler):
 * answers @status and closes. Up to 256 KiB more of the body are read and dropped so that
 * the client sees the answer; past that the answer goes out at once and nothing more is read.
 */
void kith_http_refuse_body (KithHttp *self, SoupServerMessage *msg, guint status);
/* Whether @address is on the LAN: loopback, private IPv4 ranges, IPv6 site-local or
 * link-local — where the services that act for peers (upload, relay) take requests from. */
gboolean kith_http_is_lan (GSocketAddress *address);
/* The port actually listened on (0 before listening). */
guint16 kith_http_get_port (KithHttp *self);
/* "http://HOST:PORT" for the first listen address; owned by @self. */
const gchar *kith_http_get_base_url (KithHttp *self);
/* The libsoup server, for plugins that need more; owned by @self. */
SoupServer *kith_http_get_server (KithHttp *self);

/* Raises the soft limit on open files to the hard one (G_OS_UNIX); returns the soft limit
 * now in force, 0 where there is none. Call once at start. */
guint64 kith_http_raise_fd_limit (void);

G_END_DECLS
