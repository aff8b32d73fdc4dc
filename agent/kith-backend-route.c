/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* kith-backend-route.c — the backend's URLs through a relay's CONNECT, the rest as the system says */
#include "kith-backend-route.h"

struct _KithBackendRoute {
  GObject parent_instance;
  gchar *host; /* the backend's, NULL: none configured */
  gint port;
  gchar *relay_node;
  gchar *relay_url;
  gboolean unreachable; /* the last direct attempt failed: neither direct nor relayed yet */
};

static void kith_backend_route_resolver_init (GProxyResolverInterface *iface);

G_DEFINE_TYPE_WITH_CODE (KithBackendRoute, kith_backend_route, G_TYPE_OBJECT,
                         G_IMPLEMENT_INTERFACE (G_TYPE_PROXY_RESOLVER, kith_backend_route_resolver_init))

enum { SIGNAL_CHANGED, SIGNAL_RELAY_FAILED, SIGNAL_LAST };
static guint signals[SIGNAL_LAST];

static gint
kith_backend_route_default_port (const gchar *scheme)
{
  return g_ascii_strcasecmp (scheme, "https") == 0 ? 443 : 80;
}

gboolean
kith_backend_route_is_backend (KithBackendRoute *self, const gchar *uri)
{
  g_autoptr (GUri) parsed = g_uri_parse (uri, G_URI_FLAGS_NONE, NULL);
  gint port;

  if (parsed == NULL || self->host == NULL || g_uri_get_host (parsed) == NULL)
    return FALSE;
  /* plain http would be proxied as absolute URIs, which a relay never does */
  if (g_ascii_strcasecmp (g_uri_get_scheme (parsed), "https") != 0)
    return FALSE;
  port = g_uri_get_port (parsed) == -1 ? 443 : g_uri_get_port (parsed);
  return g_ascii_strcasecmp (g_uri_get_host (parsed), self->host) == 0 && port == self->port;
}

/* The relay for the backend, else whatever the system's resolver says. */
static gchar **
kith_backend_route_lookup (GProxyResolver *resolver, const gchar *uri, GCancellable *cancellable, GError **error)
{
  KithBackendRoute *self = KITH_BACKEND_ROUTE (resolver);

  if (self->relay_url != NULL && kith_backend_route_is_backend (self, uri)) {
    gchar **proxies = g_new0 (gchar *, 2);
    proxies[0] = g_strdup (self->relay_url);
    return proxies;
  }
  return g_proxy_resolver_lookup (g_proxy_resolver_get_default (), uri, cancellable, error);
}

static void
kith_backend_route_lookup_async (GProxyResolver *resolver, const gchar *uri, GCancellable *cancellable,
                                 GAsyncReadyCallback callback, gpointer user_data)
{
  g_autoptr (GTask) task = g_task_new (resolver, cancellable, callback, user_data);
  GError *error = NULL;
  gchar **proxies = kith_backend_route_lookup (resolver, uri, cancellable, &error);

  if (proxies == NULL)
    g_task_return_error (task, error);
  else
    g_task_return_pointer (task, proxies, (GDestroyNotify) g_strfreev);
}

static gchar **
kith_backend_route_lookup_finish (GProxyResolver *resolver, GAsyncResult *result, GError **error)
{
  return g_task_propagate_pointer (G_TASK (result), error);
}

static gboolean
kith_backend_route_is_supported (GProxyResolver *resolver)
{
  return TRUE;
}

static void
kith_backend_route_resolver_init (GProxyResolverInterface *iface)
{
  iface->is_supported = kith_backend_route_is_supported;
  iface->lookup = kith_backend_route_lookup;
  iface->lookup_async = kith_backend_route_lookup_async;
  iface->lookup_finish = kith_backend_route_lookup_finish;
}

static void
kith_backend_route_finalize (GObject *object)
{
  KithBackendRoute *self = KITH_BACKEND_ROUTE (object);

  g_free (self->host);
  g_free (self->relay_node);
  g_free (self->relay_url);
  G_OBJECT_CLASS (kith_backend_route_parent_class)->finalize (object);
}

static void
kith_backend_route_class_init (KithBackendRouteClass *klass)
{
  G_OBJECT_CLASS (klass)->finalize = kith_backend_route_finalize;
  signals[SIGNAL_CHANGED] = g_signal_new ("changed", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0, NULL, NULL,
                                          NULL, G_TYPE_NONE, 0);
  signals[SIGNAL_RELAY_FAILED] = g_signal_new ("relay-failed", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0, NULL,
                                               NULL, NULL, G_TYPE_NONE, 0);
}

static void
kith_backend_route_init (KithBackendRoute *self)
{
}

KithBackendRoute *
kith_backend_route_new (const gchar *backend_url)
{
  KithBackendRoute *self = g_object_new (KITH_TYPE_BACKEND_ROUTE, NULL);
  g_autoptr (GUri) uri = backend_url != NULL ? g_uri_parse (backend_url, G_URI_FLAGS_NONE, NULL) : NULL;

  if (uri != NULL && g_uri_get_host (uri) != NULL) {
    self->host = g_strdup (g_uri_get_host (uri));
    self->port = g_uri_get_port (uri) == -1 ? kith_backend_route_default_port (g_uri_get_scheme (uri))
                                            : g_uri_get_port (uri);
  }
  return self;
}

void
kith_backend_route_set_relay (KithBackendRoute *self, const gchar *node, const gchar *proxy_url)
{
  g_return_if_fail (KITH_IS_BACKEND_ROUTE (self));
  if (g_strcmp0 (node, self->relay_node) == 0 && g_strcmp0 (proxy_url, self->relay_url) == 0)
    return;
  g_free (self->relay_node);
  g_free (self->relay_url);
  self->relay_node = g_strdup (node);
  self->relay_url = g_strdup (proxy_url);
  g_signal_emit (self, signals[SIGNAL_CHANGED], 0);
}

void
kith_backend_route_set_unreachable (KithBackendRoute *self, gboolean unreachable)
{
  g_return_if_fail (KITH_IS_BACKEND_ROUTE (self));
  if (self->unreachable == unreachable)
    return;
  self->unreachable = unreachable;
  g_signal_emit (self, signals[SIGNAL_CHANGED], 0);
}

gboolean
kith_backend_route_get_direct (KithBackendRoute *self)
{
  return !self->unreachable && self->relay_url == NULL;
}

void
kith_backend_route_report_failure (KithBackendRoute *self)
{
  g_return_if_fail (KITH_IS_BACKEND_ROUTE (self));
  if (self->relay_url != NULL)
    g_signal_emit (self, signals[SIGNAL_RELAY_FAILED], 0);
}

const gchar *
kith_backend_route_get_relay_node (KithBackendRoute *self)
{
  return self->relay_node;
}

const gchar *
kith_backend_route_get_relay_url (KithBackendRoute *self)
{
  return self->relay_url;
}
