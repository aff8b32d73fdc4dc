/* kith-error.c — KITH_AGENT_ERROR and its D-Bus names */
#include "kith-error.h"

#include <gio/gio.h>

static const GDBusErrorEntry kith_agent_error_entries[] = {
  { KITH_AGENT_ERROR_FAILED, "org.kith.Error.Failed" },
  { KITH_AGENT_ERROR_CONFIG, "org.kith.Error.Config" },
  { KITH_AGENT_ERROR_PLUGIN, "org.kith.Error.Plugin" },
  { KITH_AGENT_ERROR_PLUGIN_MISSING, "org.kith.Error.PluginMissing" },
  { KITH_AGENT_ERROR_INVALID_ARGS, "org.kith.Error.InvalidArgs" },
  { KITH_AGENT_ERROR_NOT_FOUND, "org.kith.Error.NotFound" },
  { KITH_AGENT_ERROR_CANCELLED, "org.kith.Error.Cancelled" },
};

GQuark
kith_agent_error_quark (void)
{
  static gsize quark = 0;
  g_dbus_error_register_error_domain ("kith-agent-error-quark", &quark,
                                      kith_agent_error_entries,
                                      G_N_ELEMENTS (kith_agent_error_entries));
  return (GQuark) quark;
}
