/* kith-update-plugin.c — the update GModule: the service plus its D-Bus face */
#include "kith-update-dbus.h"

static const gchar kith_update_dbus_key[] = "kith-update-dbus";

static GObject *
kith_update_plugin_start (KithAgent *agent, GError **error)
{
  KithUpdate *update = kith_update_new (agent, error);

  if (update == NULL)
    return NULL;
  g_object_set_data_full (G_OBJECT (update), kith_update_dbus_key,
                          kith_update_dbus_new (update, kith_agent_get_dbus (agent)),
                          (GDestroyNotify) kith_update_dbus_free);
  return G_OBJECT (update);
}

static void
kith_update_plugin_stop (GObject *service)
{
  /* the D-Bus face holds a ref on the service: drop it first */
  g_object_set_data (service, kith_update_dbus_key, NULL);
  kith_update_stop (KITH_UPDATE (service));
}

static GVariant *
kith_update_plugin_get_status (GObject *service)
{
  return kith_update_get_status_variant (KITH_UPDATE (service));
}

const KithPluginInfo *
kith_plugin_describe (void)
{
  static const gchar *const requires[] = { "peering", NULL };
  static const KithPluginInfo info = {
    .sdk_version = KITH_PLUGIN_SDK_VERSION,
    .name = "update",
    .version = "1.0",
    .requires = requires,
    .start = kith_update_plugin_start,
    .stop = kith_update_plugin_stop,
    .get_status = kith_update_plugin_get_status,
  };
  return &info;
}
