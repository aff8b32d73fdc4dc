/* kith-peering-plugin.c — the peering GModule: the service plus its D-Bus face */
#include "kith-peering-dbus.h"

static const gchar kith_peering_dbus_key[] = "kith-peering-dbus";

static GObject *
kith_peering_plugin_start (KithAgent *agent, GError **error)
{
  KithPeering *peering = kith_peering_new (agent, error);

  if (peering == NULL)
    return NULL;
  g_object_set_data_full (G_OBJECT (peering), kith_peering_dbus_key,
                          kith_peering_dbus_new (peering, kith_agent_get_dbus (agent)),
                          (GDestroyNotify) kith_peering_dbus_free);
  return G_OBJECT (peering);
}

static void
kith_peering_plugin_stop (GObject *service)
{
  /* the D-Bus face holds a ref on the service: drop it first */
  g_object_set_data (service, kith_peering_dbus_key, NULL);
  kith_peering_stop (KITH_PEERING (service));
}

static GVariant *
kith_peering_plugin_get_status (GObject *service)
{
  return kith_peering_get_status (KITH_PEERING (service));
}

const KithPluginInfo *
kith_plugin_describe (void)
{
  static const KithPluginInfo info = {
    .sdk_version = KITH_PLUGIN_SDK_VERSION,
    .name = "peering",
    .version = "1.0",
    .requires = NULL,
    .start = kith_peering_plugin_start,
    .stop = kith_peering_plugin_stop,
    .get_status = kith_peering_plugin_get_status,
  };
  return &info;
}
