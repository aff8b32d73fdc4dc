/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* kith-client-plugin.c — KithClientPlugin, a plain value record */
#include "kith-client-plugin.h"

G_DEFINE_BOXED_TYPE (KithClientPlugin, kith_client_plugin,
                     kith_client_plugin_copy, kith_client_plugin_free)

KithClientPlugin *
kith_client_plugin_new (const gchar *name, const gchar *version, const gchar *state)
{
  KithClientPlugin *plugin = g_new0 (KithClientPlugin, 1);
  plugin->name = g_strdup (name);
  plugin->version = g_strdup (version);
  plugin->state = g_strdup (state);
  return plugin;
}

KithClientPlugin *
kith_client_plugin_copy (const KithClientPlugin *plugin)
{
  g_return_val_if_fail (plugin != NULL, NULL);
  return kith_client_plugin_new (plugin->name, plugin->version, plugin->state);
}

void
kith_client_plugin_free (KithClientPlugin *plugin)
{
  if (plugin == NULL)
    return;
  g_free (plugin->name);
  g_free (plugin->version);
  g_free (plugin->state);
  g_free (plugin);
}

gboolean
kith_client_plugin_is_running (const KithClientPlugin *plugin)
{
  g_return_val_if_fail (plugin != NULL, FALSE);
  return g_strcmp0 (plugin->state, "running") == 0;
}
