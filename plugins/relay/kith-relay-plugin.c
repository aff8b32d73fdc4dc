/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* kith-relay-plugin.c — the relay GModule: the service (no D-Bus interface of its own: its
 * state is in GetStatus and /metrics) */
#include "kith-relay.h"

static const gchar *const kith_relay_requires[] = { "peering", "upload", NULL };

static GObject *
kith_relay_plugin_start (KithAgent *agent, GError **error)
{
  return G_OBJECT (kith_relay_new (agent, error));
}

static void
kith_relay_plugin_stop (GObject *service, KithAgent *agent)
{
  kith_relay_stop (KITH_RELAY (service));
}

static GVariant *
kith_relay_plugin_get_status (GObject *service)
{
  return kith_relay_get_status (KITH_RELAY (service));
}

const KithPluginInfo *
kith_plugin_describe (void)
{
  static const KithPluginInfo info = {
    .sdk_version = KITH_PLUGIN_SDK_VERSION,
    .name = "relay",
    .version = "1.0",
    .requires = kith_relay_requires,
    .start = kith_relay_plugin_start,
    .stop = kith_relay_plugin_stop,
    .get_status = kith_relay_plugin_get_status,
  };
  return &info;
}
