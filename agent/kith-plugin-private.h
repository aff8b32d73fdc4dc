/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* kith-plugin-private.h — one loaded plugin module, as the agent and its loader see it.
 * Not installed: plugins only describe themselves (kith-plugin.h). */
#pragma once

#include "kith-plugin.h"

G_BEGIN_DECLS

typedef enum {
  KITH_PLUGIN_STATE_LOADED,
  KITH_PLUGIN_STATE_RUNNING,
  KITH_PLUGIN_STATE_FAILED,
  KITH_PLUGIN_STATE_STOPPED,
} KithPluginState;

#define KITH_TYPE_PLUGIN (kith_plugin_get_type ())
G_DECLARE_FINAL_TYPE (KithPlugin, kith_plugin, KITH, PLUGIN, GObject)

/* Opens the module for @name from the first of @dirs that has it; caller owns the result.
 * On failure returns a plugin in state FAILED whose error says why (never NULL). */
KithPlugin *kith_plugin_load (const gchar *name, const gchar *const *dirs);
/* Calls the plugin's start(); on failure the plugin is FAILED with the error kept. */
gboolean kith_plugin_start (KithPlugin *self, KithAgent *agent, GError **error);
/* Calls stop() and drops the service object; a no-op unless RUNNING. */
void kith_plugin_stop (KithPlugin *self);
/* Marks the plugin FAILED with a one-line @message (e.g. a missing dependency). */
void kith_plugin_set_failed (KithPlugin *self, const gchar *message);
const gchar *kith_plugin_get_name (KithPlugin *self);
/* The plugin's version, or "" before it loaded. */
const gchar *kith_plugin_get_version (KithPlugin *self);
/* NULL-terminated required services; owned by the plugin (empty if it did not load). */
const gchar *const *kith_plugin_get_requires (KithPlugin *self);
KithPluginState kith_plugin_get_state (KithPlugin *self);
/* "loaded", "running", "failed" or "stopped". */
const gchar *kith_plugin_state_to_string (KithPluginState state);
/* Why it failed, or NULL; owned by the plugin. */
const gchar *kith_plugin_get_error (KithPlugin *self);
/* The running service object, or NULL; owned by the plugin. */
GObject *kith_plugin_get_service (KithPlugin *self);
/* The plugin's status section (a{sv}); floating; empty dict when it has none. */
GVariant *kith_plugin_get_status (KithPlugin *self);

G_END_DECLS
