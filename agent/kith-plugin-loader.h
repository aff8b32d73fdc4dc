/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* kith-plugin-loader.h — loads the configured plugins and orders them by dependency */
#pragma once

#include "kith-plugin-private.h"

G_BEGIN_DECLS

/* Loads every plugin in @names from @dirs. Returns all of them (KithPlugin*, caller owns the
 * array) with every dependency before its dependents; plugins that failed to load, need a
 * service that is not loaded, or sit on a dependency cycle are in state FAILED with the reason. */
GPtrArray *kith_plugin_loader_load (const gchar *const *names, const gchar *const *dirs);
/* Called with each plugin as soon as it runs, before the next one starts. */
typedef void (*KithPluginStartedFunc) (KithPlugin *plugin, gpointer user_data);

/* Starts the LOADED plugins of @plugins in order, giving each @agent; one whose requirement
 * is not RUNNING is failed instead, so a failed start takes its dependents with it. The
 * loader only loads, orders and stops: @started is where the caller registers the service. */
void kith_plugin_loader_start (GPtrArray *plugins, KithAgent *agent, KithPluginStartedFunc started,
                               gpointer user_data);
/* Stops the plugins in reverse order. */
void kith_plugin_loader_stop (GPtrArray *plugins);

G_END_DECLS
