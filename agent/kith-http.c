/* kith-http.c — the agent's embedded HTTP server
 *
 * Only what plugins register exists; every other path is 404, so the server
 * can never be used to browse the node.
 */
#include "kith-http.h"

#include "kith-agent-error.h"

#include <string.h>

struct _KithHttp {
  GObject parent_instance;
  SoupServer *server;
  gchar *base_url;
  guint16 port;
};

G_DEFINE_TYPE (KithHttp, kith_http, G_TYPE_OBJECT)

static void
kith_http_not_found (SoupServer *server, SoupServerMessage *msg, const char *path,
                     GHashTable *query, gpointer user_data)
{
  soup_server_message_set_status (msg, SOUP_STATUS_NOT_FOUND, NULL);
}

static void
kith_http_dispose (GObject *object)
{
  KithHttp *self = KITH_HTTP (object);
  if (self->server != NULL)
    soup_server_disconnect (self->server);
  g_clear_object (&self->server);
  G_OBJECT_CLASS (kith_http_parent_class)->dispose (object);
}

static void
kith_http_finalize (GObject *object)
{
  g_free (KITH_HTTP (object)->base_url);
  G_OBJECT_CLASS (kith_http_parent_class)->finalize (object);
}

static void
kith_http_class_init (KithHttpClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  object_class->dispose = kith_http_dispose;
  object_class->finalize = kith_http_finalize;
}

static void
kith_http_init (KithHttp *self)
{
  self->server = soup_server_new ("server-header", "kith ", NULL);
  soup_server_add_handler (self->server, NULL, kith_http_not_found, NULL, NULL);
}

KithHttp *
kith_http_new (void)
{
  return g_object_new (KITH_TYPE_HTTP, NULL);
}

/* "ADDR:PORT" or "[ADDR6]:PORT" → socket address. */
static GSocketAddress *
kith_http_parse_listen (const gchar *listen, GError **error)
{
  g_autofree gchar *host = NULL;
  const gchar *colon = strrchr (listen, ':');
  guint64 port = 0;
  g_autoptr(GInetAddress) address = NULL;

  if (colon == NULL || !g_ascii_string_to_unsigned (colon + 1, 10, 0, G_MAXUINT16, &port, NULL)) {
    g_set_error (error, KITH_AGENT_ERROR, KITH_AGENT_ERROR_CONFIG,
                 "'%s' is not ADDRESS:PORT (for example 127.0.0.1:6515 or [::1]:6515)", listen);
    return NULL;
  }
  if (listen[0] == '[' && colon > listen && colon[-1] == ']')
    host = g_strndup (listen + 1, colon - listen - 2);
  else
    host = g_strndup (listen, colon - listen);
  address = g_inet_address_new_from_string (host);
  if (address == NULL) {
    g_set_error (error, KITH_AGENT_ERROR, KITH_AGENT_ERROR_CONFIG,
                 "'%s' is not a numeric IP address", host);
    return NULL;
  }
  return g_inet_socket_address_new (address, (guint16) port);
}

gboolean
kith_http_listen (KithHttp *self, const gchar *listen, GError **error)
{
  g_autoptr(GSocketAddress) address = kith_http_parse_listen (listen, error);
  g_autoptr(GError) error_local = NULL;
  GSList *uris;

  if (address == NULL)
    return FALSE;
  if (!soup_server_listen (self->server, address, 0, &error_local)) {
    g_set_error (error, KITH_AGENT_ERROR, KITH_AGENT_ERROR_FAILED,
                 "cannot listen for HTTP on %s: %s", listen, error_local->message);
    return FALSE;
  }
  uris = soup_server_get_uris (self->server);
  if (uris != NULL && self->base_url == NULL) {
    GUri *uri = uris->data;
    self->port = (guint16) g_uri_get_port (uri);
    self->base_url = g_strdup_printf ("http://%s%s%s:%u",
                                      strchr (g_uri_get_host (uri), ':') ? "[" : "",
                                      g_uri_get_host (uri),
                                      strchr (g_uri_get_host (uri), ':') ? "]" : "",
                                      self->port);
  }
  g_slist_free_full (uris, (GDestroyNotify) g_uri_unref);
  return TRUE;
}

void
kith_http_add_handler (KithHttp *self, const gchar *path, SoupServerCallback callback,
                       gpointer user_data, GDestroyNotify destroy)
{
  g_return_if_fail (KITH_IS_HTTP (self));
  g_return_if_fail (path != NULL && path[0] == '/');
  soup_server_add_handler (self->server, path, callback, user_data, destroy);
}

void
kith_http_remove_handler (KithHttp *self, const gchar *path)
{
  g_return_if_fail (KITH_IS_HTTP (self));
  soup_server_remove_handler (self->server, path);
}

guint16
kith_http_get_port (KithHttp *self)
{
  return self->port;
}

const gchar *
kith_http_get_base_url (KithHttp *self)
{
  return self->base_url;
}

SoupServer *
kith_http_get_server (KithHttp *self)
{
  return self->server;
}
