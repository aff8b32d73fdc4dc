/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* kith-plugin-loader.c — loads the configured plugins and orders them by dependency */
#include "kith-plugin-loader.h"

typedef enum {
  KITH_VISIT_NONE,
  KITH_VISIT_ACTIVE,
  KITH_VISIT_DONE,
} KithVisit;

typedef struct {
  GHashTable *by_name; /* name → KithPlugin* (borrowed) */
  GHashTable *visit;   /* KithPlugin* → KithVisit */
  GPtrArray *path;     /* plugins on the current DFS path, for cycle messages */
  GPtrArray *order;    /* result */
} KithLoaderSort;

static void kith_plugin_loader_visit (KithLoaderSort *sort, KithPlugin *plugin);

static void
kith_plugin_loader_fail_cycle (KithLoaderSort *sort, KithPlugin *start)
{
  g_autoptr (GString) cycle = g_string_new (NULL);
  guint first = 0;

  g_ptr_array_find (sort->path, start, &first);
  for (guint i = first; i < sort->path->len; i++)
    g_string_append_printf (cycle, "%s → ", kith_plugin_get_name (g_ptr_array_index (sort->path, i)));
  g_string_append (cycle, kith_plugin_get_name (start));
  for (guint i = first; i < sort->path->len; i++) {
    g_autofree gchar *message = g_strdup_printf ("dependency cycle: %s", cycle->str);
    kith_plugin_set_failed (g_ptr_array_index (sort->path, i), message);
  }
}

/* Visits @plugin's requirements, failing it when one is absent or failed. */
static void
kith_plugin_loader_visit_requires (KithLoaderSort *sort, KithPlugin *plugin)
{
  const gchar *const *requires = kith_plugin_get_requires (plugin);

  for (guint i = 0; requires[i] != NULL; i++) {
    KithPlugin *dep = g_hash_table_lookup (sort->by_name, requires[i]);
    g_autofree gchar *message = NULL;

    if (dep == NULL) {
      message = g_strdup_printf ("requires service '%s', which is not in the plugins list",
                                 requires[i]);
    } else {
      kith_plugin_loader_visit (sort, dep);
      if (kith_plugin_get_state (plugin) == KITH_PLUGIN_STATE_FAILED)
        return; /* failed on a cycle through @dep */
      if (kith_plugin_get_state (dep) == KITH_PLUGIN_STATE_FAILED)
        message = g_strdup_printf ("requires service '%s', which cannot run: %s",
                                   requires[i], kith_plugin_get_error (dep));
    }
    if (message != NULL) {
      kith_plugin_set_failed (plugin, message);
      return;
    }
  }
}

static void
kith_plugin_loader_visit (KithLoaderSort *sort, KithPlugin *plugin)
{
  KithVisit state = GPOINTER_TO_UINT (g_hash_table_lookup (sort->visit, plugin));

  if (state == KITH_VISIT_DONE)
    return;
  if (state == KITH_VISIT_ACTIVE) {
    kith_plugin_loader_fail_cycle (sort, plugin);
    return;
  }
  g_hash_table_insert (sort->visit, plugin, GUINT_TO_POINTER (KITH_VISIT_ACTIVE));
  g_ptr_array_add (sort->path, plugin);
  if (kith_plugin_get_state (plugin) != KITH_PLUGIN_STATE_FAILED)
    kith_plugin_loader_visit_requires (sort, plugin);
  g_ptr_array_remove_index (sort->path, sort->path->len - 1);
  g_hash_table_insert (sort->visit, plugin, GUINT_TO_POINTER (KITH_VISIT_DONE));
  g_ptr_array_add (sort->order, g_object_ref (plugin));
}

GPtrArray *
kith_plugin_loader_load (const gchar *const *names, const gchar *const *dirs)
{
  g_autoptr (GPtrArray) loaded = g_ptr_array_new_with_free_func (g_object_unref);
  KithLoaderSort sort = {
    .by_name = g_hash_table_new (g_str_hash, g_str_equal),
    .visit = g_hash_table_new (NULL, NULL),
    .path = g_ptr_array_new (),
    .order = g_ptr_array_new_with_free_func (g_object_unref),
  };

  for (guint i = 0; names != NULL && names[i] != NULL; i++) {
    KithPlugin *plugin;
    if (g_hash_table_contains (sort.by_name, names[i]))
      continue;
    plugin = kith_plugin_load (names[i], dirs);
    g_ptr_array_add (loaded, plugin);
    g_hash_table_insert (sort.by_name, (gpointer) kith_plugin_get_name (plugin), plugin);
  }
  for (guint i = 0; i < loaded->len; i++)
    kith_plugin_loader_visit (&sort, g_ptr_array_index (loaded, i));
  g_hash_table_unref (sort.by_name);
  g_hash_table_unref (sort.visit);
  g_ptr_array_unref (sort.path);
  return sort.order;
}

static KithPlugin *
kith_plugin_loader_find (GPtrArray *plugins, const gchar *name)
{
  for (guint i = 0; i < plugins->len; i++) {
    KithPlugin *plugin = g_ptr_array_index (plugins, i);
    if (g_strcmp0 (kith_plugin_get_name (plugin), name) == 0)
      return plugin;
  }
  return NULL;
}

void
kith_plugin_loader_start (GPtrArray *plugins, KithAgent *agent, KithPluginStartedFunc started,
                          gpointer user_data)
{
  for (guint i = 0; i < plugins->len; i++) {
    KithPlugin *plugin = g_ptr_array_index (plugins, i);
    const gchar *const *requires = kith_plugin_get_requires (plugin);
    gboolean ready = TRUE;

    if (kith_plugin_get_state (plugin) != KITH_PLUGIN_STATE_LOADED)
      continue;
    for (guint j = 0; requires[j] != NULL && ready; j++) {
      KithPlugin *dep = kith_plugin_loader_find (plugins, requires[j]);
      if (dep == NULL || kith_plugin_get_state (dep) != KITH_PLUGIN_STATE_RUNNING) {
        g_autofree gchar *message =
            g_strdup_printf ("not started: required service '%s' failed to start", requires[j]);
        kith_plugin_set_failed (plugin, message);
        ready = FALSE;
      }
    }
    if (!ready || !kith_plugin_start (plugin, agent, NULL))
      continue;
    started (plugin, user_data);
    g_message ("plugin %s %s running", kith_plugin_get_name (plugin),
               kith_plugin_get_version (plugin));
  }
}

void
kith_plugin_loader_stop (GPtrArray *plugins)
{
  for (guint i = plugins->len; i > 0; i--)
    kith_plugin_stop (g_ptr_array_index (plugins, i - 1));
}
