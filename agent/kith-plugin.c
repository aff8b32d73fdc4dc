/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* kith-plugin.c — one plugin module: loaded, started, stopped, or failed and why */
#include "kith-plugin-private.h"

#include "kith-agent-error.h"

struct _KithPlugin {
  GObject parent_instance;
  gchar *name;
  GModule *module;
  const KithPluginInfo *info;
  KithPluginState state;
  gchar *error;
  GObject *service;
  KithAgent *agent; /* the agent it was started with; it outlives its plugins */
};

G_DEFINE_TYPE (KithPlugin, kith_plugin, G_TYPE_OBJECT)

static const gchar *const kith_plugin_no_requires[] = { NULL };

static void
kith_plugin_finalize (GObject *object)
{
  KithPlugin *self = KITH_PLUGIN (object);
  kith_plugin_stop (self);
  /* modules stay resident: a plugin may have registered GTypes */
  if (self->module != NULL)
    g_module_close (self->module);
  g_free (self->name);
  g_free (self->error);
  G_OBJECT_CLASS (kith_plugin_parent_class)->finalize (object);
}

static void
kith_plugin_class_init (KithPluginClass *klass)
{
  G_OBJECT_CLASS (klass)->finalize = kith_plugin_finalize;
}

static void
kith_plugin_init (KithPlugin *self)
{
}

void
kith_plugin_set_failed (KithPlugin *self, const gchar *message)
{
  g_return_if_fail (KITH_IS_PLUGIN (self));
  self->state = KITH_PLUGIN_STATE_FAILED;
  g_free (self->error);
  self->error = g_strdup (message);
  g_warning ("plugin %s: %s", self->name, message);
}

/* The module file for @name in the first directory that has one, or NULL. */
static gchar *
kith_plugin_find_module (const gchar *name, const gchar *const *dirs)
{
  g_autofree gchar *basename = g_strdup_printf ("kith-%s", name);

  for (guint i = 0; dirs != NULL && dirs[i] != NULL; i++) {
    g_autofree gchar *path = g_module_build_path (dirs[i], basename);
    if (g_file_test (path, G_FILE_TEST_EXISTS))
      return g_steal_pointer (&path);
  }
  return NULL;
}

static gboolean
kith_plugin_check_info (KithPlugin *self, const gchar *path, const KithPluginInfo *info)
{
  g_autofree gchar *message = NULL;

  if (info == NULL)
    message = g_strdup_printf ("%s returned no description", KITH_PLUGIN_ENTRY_SYMBOL);
  else if (info->sdk_version != KITH_PLUGIN_SDK_VERSION)
    message = g_strdup_printf ("%s was built for plugin SDK version %u, this agent has version %u; "
                               "rebuild it against this agent's SDK headers (kith-agent-1)",
                               path, info->sdk_version, (guint) KITH_PLUGIN_SDK_VERSION);
  else if (g_strcmp0 (info->name, self->name) != 0)
    message = g_strdup_printf ("%s describes itself as '%s'", path, info->name);
  else if (info->start == NULL)
    message = g_strdup_printf ("%s has no start function", path);
  if (message != NULL) {
    kith_plugin_set_failed (self, message);
    return FALSE;
  }
  return TRUE;
}

KithPlugin *
kith_plugin_load (const gchar *name, const gchar *const *dirs)
{
  g_autoptr (KithPlugin) self = g_object_new (KITH_TYPE_PLUGIN, NULL);
  g_autofree gchar *path = kith_plugin_find_module (name, dirs);
  g_autofree gchar *message = NULL;
  KithPluginDescribeFunc describe = NULL;
  const KithPluginInfo *info;

  self->name = g_strdup (name);
  if (path == NULL) {
    g_autofree gchar *searched = g_strjoinv (", ", (gchar **) dirs);
    message = g_strdup_printf ("no module found (searched %s)", searched);
    kith_plugin_set_failed (self, message);
    return g_steal_pointer (&self);
  }
  self->module = g_module_open (path, G_MODULE_BIND_LOCAL);
  if (self->module == NULL) {
    message = g_strdup_printf ("%s is not a loadable module: %s", path, g_module_error ());
    kith_plugin_set_failed (self, message);
    return g_steal_pointer (&self);
  }
  if (!g_module_symbol (self->module, KITH_PLUGIN_ENTRY_SYMBOL, (gpointer *) &describe) ||
      describe == NULL) {
    message = g_strdup_printf ("%s does not export %s", path, KITH_PLUGIN_ENTRY_SYMBOL);
    kith_plugin_set_failed (self, message);
    return g_steal_pointer (&self);
  }
  info = describe ();
  if (!kith_plugin_check_info (self, path, info))
    return g_steal_pointer (&self);
  g_module_make_resident (self->module);
  self->info = info;
  self->state = KITH_PLUGIN_STATE_LOADED;
  g_debug ("plugin %s %s loaded from %s", name, info->version, path);
  return g_steal_pointer (&self);
}

gboolean
kith_plugin_start (KithPlugin *self, KithAgent *agent, GError **error)
{
  g_autoptr (GError) error_local = NULL;

  g_return_val_if_fail (KITH_IS_PLUGIN (self), FALSE);
  g_return_val_if_fail (self->state == KITH_PLUGIN_STATE_LOADED, FALSE);
  self->service = self->info->start (agent, &error_local);
  if (self->service == NULL) {
    g_autofree gchar *message =
        g_strdup_printf ("start failed: %s",
                         error_local != NULL ? error_local->message : "no reason given");
    kith_plugin_set_failed (self, message);
    g_set_error (error, KITH_AGENT_ERROR, KITH_AGENT_ERROR_PLUGIN, "plugin %s: %s",
                 self->name, message);
    return FALSE;
  }
  self->agent = agent;
  self->state = KITH_PLUGIN_STATE_RUNNING;
  return TRUE;
}

void
kith_plugin_stop (KithPlugin *self)
{
  g_return_if_fail (KITH_IS_PLUGIN (self));
  if (self->state != KITH_PLUGIN_STATE_RUNNING)
    return;
  if (self->info->stop != NULL)
    self->info->stop (self->service, self->agent);
  g_clear_object (&self->service);
  self->state = KITH_PLUGIN_STATE_STOPPED;
  g_debug ("plugin %s stopped", self->name);
}

const gchar *
kith_plugin_get_name (KithPlugin *self)
{
  return self->name;
}

const gchar *
kith_plugin_get_version (KithPlugin *self)
{
  return self->info != NULL && self->info->version != NULL ? self->info->version : "";
}

const gchar *const *
kith_plugin_get_requires (KithPlugin *self)
{
  if (self->info == NULL || self->info->requires == NULL)
    return kith_plugin_no_requires;
  return self->info->requires;
}

KithPluginState
kith_plugin_get_state (KithPlugin *self)
{
  return self->state;
}

const gchar *
kith_plugin_state_to_string (KithPluginState state)
{
  switch (state) {
  case KITH_PLUGIN_STATE_LOADED:
    return "loaded";
  case KITH_PLUGIN_STATE_RUNNING:
    return "running";
  case KITH_PLUGIN_STATE_FAILED:
    return "failed";
  case KITH_PLUGIN_STATE_STOPPED:
    return "stopped";
  default:
    return "unknown";
  }
}

const gchar *
kith_plugin_get_error (KithPlugin *self)
{
  return self->error;
}

GObject *
kith_plugin_get_service (KithPlugin *self)
{
  return self->service;
}

GVariant *
kith_plugin_get_status (KithPlugin *self)
{
  if (self->state == KITH_PLUGIN_STATE_RUNNING && self->info->get_status != NULL)
    return self->info->get_status (self->service);
  return g_variant_new ("a{sv}", NULL);
}
