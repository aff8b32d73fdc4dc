/* kith-http.h — the agent's embedded HTTP server (libsoup 3) */
#pragma once

#include <libsoup/soup.h>

G_BEGIN_DECLS

#define KITH_TYPE_HTTP (kith_http_get_type ())
G_DECLARE_FINAL_TYPE (KithHttp, kith_http, KITH, HTTP, GObject)

/* A server that answers 404 to everything until handlers are added; caller owns it. */
KithHttp *kith_http_new (void);
/* Listens on "ADDR:PORT" or "[ADDR6]:PORT"; port 0 picks a free one. */
gboolean kith_http_listen (KithHttp *self, const gchar *listen, GError **error);
/* Routes requests whose path starts with @path (e.g. "/alias/") to @callback. */
void kith_http_add_handler (KithHttp *self, const gchar *path, SoupServerCallback callback,
                            gpointer user_data, GDestroyNotify destroy);
/* Removes the handler added for @path. */
void kith_http_remove_handler (KithHttp *self, const gchar *path);
/* The port actually listened on (0 before listening). */
guint16 kith_http_get_port (KithHttp *self);
/* "http://HOST:PORT" for the first listen address; owned by @self. */
const gchar *kith_http_get_base_url (KithHttp *self);
/* The libsoup server, for plugins that need more; owned by @self. */
SoupServer *kith_http_get_server (KithHttp *self);

G_END_DECLS
