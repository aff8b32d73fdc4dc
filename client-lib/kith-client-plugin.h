/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* kith-client-plugin.h — one plugin as the agent reports it: name, version, state */
#pragma once

#include <glib-object.h>

G_BEGIN_DECLS

/**
 * KithClientPlugin:
 * @name: the plugin's name, as in the agent's plugins= key ("peering")
 * @version: the plugin's version string
 * @state: "loaded", "running", "failed" or "stopped"; why a plugin failed is
 *         in its section of kith_client_get_status()
 */
typedef struct {
  gchar *name;
  gchar *version;
  gchar *state;
} KithClientPlugin;

#define KITH_TYPE_CLIENT_PLUGIN (kith_client_plugin_get_type ())
GType kith_client_plugin_get_type (void);

/**
 * kith_client_plugin_new:
 *
 * A new plugin record with copies of the strings; free with kith_client_plugin_free().
 */
KithClientPlugin *kith_client_plugin_new (const gchar *name, const gchar *version, const gchar *state);
/**
 * kith_client_plugin_copy:
 *
 * A deep copy; caller owns it.
 */
KithClientPlugin *kith_client_plugin_copy (const KithClientPlugin *plugin);
/**
 * kith_client_plugin_free:
 *
 * Frees @plugin and its strings.
 */
void kith_client_plugin_free (KithClientPlugin *plugin);
/**
 * kith_client_plugin_is_running:
 *
 * TRUE when the agent reports the plugin as running.
 */
gboolean kith_client_plugin_is_running (const KithClientPlugin *plugin);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (KithClientPlugin, kith_client_plugin_free)

G_END_DECLS
