/* kith-upload-plugin.c — the upload GModule: the service plus its D-Bus face */
#include "kith-upload-dbus.h"

static const gchar kith_upload_dbus_key[] = "kith-upload-dbus";

static GObject *
kith_upload_plugin_start (KithAgent *agent, GError **error)
{
  KithUpload *upload = kith_upload_new (agent, error);

  if (upload == NULL)
    return NULL;
  g_object_set_data_full (G_OBJECT (upload), kith_upload_dbus_key,
                          kith_upload_dbus_new (upload, kith_agent_get_dbus (agent)),
                          (GDestroyNotify) kith_upload_dbus_free);
  return G_OBJECT (upload);
}

static void
kith_upload_plugin_stop (GObject *service)
{
  /* the D-Bus face holds a ref on the service: drop it first */
  g_object_set_data (service, kith_upload_dbus_key, NULL);
  kith_upload_stop (KITH_UPLOAD (service));
}

static GVariant *
kith_upload_plugin_get_status (GObject *service)
{
  return kith_upload_get_status (KITH_UPLOAD (service));
}

const KithPluginInfo *
kith_plugin_describe (void)
{
  static const gchar *const requires[] = { "peering", NULL };
  static const KithPluginInfo info = {
    .sdk_version = KITH_PLUGIN_SDK_VERSION,
    .name = "upload",
    .version = "1.0",
    .requires = requires,
    .start = kith_upload_plugin_start,
    .stop = kith_upload_plugin_stop,
    .get_status = kith_upload_plugin_get_status,
  };
  return &info;
}
