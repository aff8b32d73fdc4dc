/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* kith-plugin.h — the plugin SDK: what a service plugin exports (the loaded plugin, which
 * only the agent handles, is in kith-plugin-private.h) */
#pragma once

#include <gmodule.h>
#include <glib-object.h>

G_BEGIN_DECLS

/* Bumped whenever KithPluginInfo or the agent API changes incompatibly.
 * 2: stop() receives the agent. */
#define KITH_PLUGIN_SDK_VERSION 2
/* The one symbol a plugin module exports. */
#define KITH_PLUGIN_ENTRY_SYMBOL "kith_plugin_describe"

typedef struct _KithAgent KithAgent;

/**
 * KithPluginInfo:
 * @sdk_version: always %KITH_PLUGIN_SDK_VERSION
 * @name: the plugin's name; also the name of the service it provides
 * @version: the plugin's version string
 * @requires: NULL-terminated names of the services (plugins) it needs, or NULL
 * @start: creates and starts the service object; it is registered under @name
 * @stop: stops it, given the agent it was started with (the loader then drops its
 *   reference); may be NULL
 * @get_status: returns a floating a{sv} for GetStatus; may be NULL
 *
 * Static, constant data returned by the plugin's entry point.
 */
typedef struct {
  guint sdk_version;
  const gchar *name;
  const gchar *version;
  const gchar *const *requires;
  GObject *(*start) (KithAgent *agent, GError **error);
  void (*stop) (GObject *service, KithAgent *agent);
  GVariant *(*get_status) (GObject *service);
  /*< private >*/
  gpointer padding[8];
} KithPluginInfo;

typedef const KithPluginInfo *(*KithPluginDescribeFunc) (void);

/* The entry point every plugin defines (declared here so plugins need no prototype). */
#define KITH_PLUGIN_EXPORT G_MODULE_EXPORT
KITH_PLUGIN_EXPORT const KithPluginInfo *kith_plugin_describe (void);

/**
 * KITH_PLUGIN_DEFINE_SERVICE:
 * @NAME: the plugin's name (a string literal)
 * @VERSION: its version (a string literal)
 * @REQUIRES: a NULL-terminated `const gchar *const[]` of required services, or NULL
 * @PREFIX: the prefix of the service's functions, e.g. kith_update
 * @TYPE: the service's type, e.g. KithUpdate
 *
 * Defines kith_plugin_describe() for the usual plugin: a service object and its D-Bus
 * face, built from these functions of the plugin:
 *
 *   TYPE *PREFIX_new (KithAgent *agent, GError **error);   the service, started
 *   void PREFIX_stop (TYPE *self);                          stops it
 *   GVariant *PREFIX_get_status (TYPE *self);               its GetStatus section, floating
 *   FACE *PREFIX_dbus_new (TYPE *self, KithDbus *dbus);     exports its interface
 *   void PREFIX_dbus_free (FACE *face);                     withdraws it
 *
 * The face lives as long as the service runs and is dropped before PREFIX_stop (it holds
 * a reference on the service). Use it in one file of the plugin (kith-NAME-plugin.c).
 */
#define KITH_PLUGIN_DEFINE_SERVICE(NAME, VERSION, REQUIRES, PREFIX, TYPE)                           \
  static GObject *PREFIX##_plugin_start (KithAgent *agent, GError **error)                         \
  {                                                                                                \
    TYPE *service = PREFIX##_new (agent, error);                                                   \
    if (service == NULL)                                                                           \
      return NULL;                                                                                 \
    g_object_set_data_full (G_OBJECT (service), "kith-plugin-dbus-face",                           \
                            PREFIX##_dbus_new (service, kith_agent_get_dbus (agent)),              \
                            (GDestroyNotify) PREFIX##_dbus_free);                                  \
    return G_OBJECT (service);                                                                     \
  }                                                                                                \
  static void PREFIX##_plugin_stop (GObject *service, KithAgent *agent)                            \
  {                                                                                                \
    g_object_set_data (service, "kith-plugin-dbus-face", NULL);                                    \
    PREFIX##_stop ((TYPE *) service);                                                              \
  }                                                                                                \
  static GVariant *PREFIX##_plugin_get_status (GObject *service)                                   \
  {                                                                                                \
    return PREFIX##_get_status ((TYPE *) service);                                                 \
  }                                                                                                \
  const KithPluginInfo *kith_plugin_describe (void)                                                \
  {                                                                                                \
    static const KithPluginInfo info = {                                                           \
      .sdk_version = KITH_PLUGIN_SDK_VERSION,                                                      \
      .name = NAME,                                                                                \
      .version = VERSION,                                                                          \
      .requires = REQUIRES,                                                                        \
      .start = PREFIX##_plugin_start,                                                              \
      .stop = PREFIX##_plugin_stop,                                                                \
      .get_status = PREFIX##_plugin_get_status,                                                    \
    };                                                                                             \
    return &info;                                                                                  \
  }

G_END_DECLS
