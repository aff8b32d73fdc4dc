/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* kith-alias-url.c — the alias URL rule: http(s), the packet's source host, /alias/; and
 * the host an alias from an any-address listener stands for */
#include "kith-alias-url.h"

#include <string.h>

#include "kith-alias-handler.h"

static gboolean
kith_alias_url_fail (const gchar **reason, const gchar *why)
{
  *reason = why;
  return FALSE;
}

/* TRUE when @host is the IP literal @source (brackets of IPv6 literals already gone). */
static gboolean
kith_alias_url_same_host (const gchar *host, GInetAddress *source)
{
  g_autoptr (GInetAddress) address = g_inet_address_new_from_string (host);
  return address != NULL && g_inet_address_equal (address, source);
}

gboolean
kith_alias_url_check (const gchar *alias, GSocketAddress *from, const gchar **reason)
{
  g_autoptr (GUri) uri = NULL;
  const gchar *scheme, *host, *path;

  g_return_val_if_fail (reason != NULL, FALSE);
  if (alias == NULL || strlen (alias) > 1024)
    return kith_alias_url_fail (reason, "syntax");
  /* the scheme first, textually: nothing but http(s) reaches the URL parser or libsoup */
  if (g_ascii_strncasecmp (alias, "http://", 7) != 0 && g_ascii_strncasecmp (alias, "https://", 8) != 0)
    return kith_alias_url_fail (reason, "scheme");
  uri = g_uri_parse (alias, G_URI_FLAGS_ENCODED, NULL);
  if (uri == NULL)
    return kith_alias_url_fail (reason, "syntax");
  scheme = g_uri_get_scheme (uri);
  if (g_ascii_strcasecmp (scheme, "http") != 0 && g_ascii_strcasecmp (scheme, "https") != 0)
    return kith_alias_url_fail (reason, "scheme");
  host = g_uri_get_host (uri);
  if (host == NULL || g_uri_get_userinfo (uri) != NULL || from == NULL || !G_IS_INET_SOCKET_ADDRESS (from) ||
      !kith_alias_url_same_host (host, g_inet_socket_address_get_address (G_INET_SOCKET_ADDRESS (from))))
    return kith_alias_url_fail (reason, "host");
  path = g_uri_get_path (uri);
  if (!g_str_has_prefix (path, KITH_ALIAS_HANDLER_PREFIX) || strstr (path, "/../") != NULL ||
      g_str_has_suffix (path, "/..") || strchr (path, '%') != NULL || g_uri_get_query (uri) != NULL ||
      g_uri_get_fragment (uri) != NULL)
    return kith_alias_url_fail (reason, "path");
  return TRUE;
}

void
kith_alias_url_fix_host (gchar **alias, GSocketAddress *from)
{
  g_autoptr (GUri) uri = NULL;
  g_autoptr (GInetAddress) host = NULL;
  g_autofree gchar *source = NULL;
  GUri *fixed;

  if (*alias == NULL || (*alias)[0] == '\0' || !G_IS_INET_SOCKET_ADDRESS (from))
    return;
  uri = g_uri_parse (*alias, G_URI_FLAGS_NONE, NULL);
  if (uri == NULL || g_uri_get_host (uri) == NULL)
    return;
  host = g_inet_address_new_from_string (g_uri_get_host (uri));
  if (host == NULL || !g_inet_address_get_is_any (host))
    return;
  source = g_inet_address_to_string (g_inet_socket_address_get_address (G_INET_SOCKET_ADDRESS (from)));
  fixed = g_uri_build (G_URI_FLAGS_NONE, g_uri_get_scheme (uri), NULL, source, g_uri_get_port (uri),
                       g_uri_get_path (uri), NULL, NULL);
  g_free (*alias);
  *alias = g_uri_to_string (fixed);
  g_uri_unref (fixed);
}
