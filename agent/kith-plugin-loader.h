/* kith-plugin-loader.h — loads the configured plugins and orders them by dependency */
#pragma once

#include "kith-plugin.h"

G_BEGIN_DECLS

/* Loads every plugin in @names from @dirs. Returns all of them (KithPlugin*, caller owns the
 * array) with every dependency before its dependents; plugins that failed to load, need a
 * service that is not loaded, or sit on a dependency cycle are in state FAILED with the reason. */
GPtrArray *kith_plugin_loader_load (const gchar *const *names, const gchar *const *dirs);
/* Starts the LOADED plugins of @plugins in order; one whose requirement is not RUNNING is
 * failed instead, so a failed start takes its dependents with it. */
void kith_plugin_loader_start (GPtrArray *plugins, KithAgent *agent);
/* Stops the plugins in reverse order. */
void kith_plugin_loader_stop (GPtrArray *plugins);

G_END_DECLS
