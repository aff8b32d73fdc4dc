/* kith-upload-plugin.c — the upload GModule: the service plus its D-Bus face */
#include "kith-upload.h"

static GObject *
kith_upload_plugin_start (KithAgent *agent, GError **error)
{
  return G_OBJECT (kith_upload_new (agent, error));
}

static void
kith_upload_plugin_stop (GObject *service)
{
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
