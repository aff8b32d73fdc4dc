/* kith-update-error.c — the error quark and its D-Bus names (org.kith.Update.Error.*) */
#include "kith-update-error.h"

#include <gio/gio.h>

static const GDBusErrorEntry kith_update_error_entries[] = {
  { KITH_UPDATE_ERROR_FAILED, "org.kith.Update.Error.Failed" },
  { KITH_UPDATE_ERROR_NOT_CONFIGURED, "org.kith.Update.Error.NotConfigured" },
  { KITH_UPDATE_ERROR_OFFLINE, "org.kith.Update.Error.Offline" },
  { KITH_UPDATE_ERROR_CATALOG, "org.kith.Update.Error.Catalog" },
  { KITH_UPDATE_ERROR_FILE, "org.kith.Update.Error.File" },
  { KITH_UPDATE_ERROR_INSTALL, "org.kith.Update.Error.Install" },
  { KITH_UPDATE_ERROR_STOPPED, "org.kith.Update.Error.Stopped" },
};

GQuark
kith_update_error_quark (void)
{
  static gsize quark = 0;
  g_dbus_error_register_error_domain ("kith-update-error-quark", &quark, kith_update_error_entries,
                                      G_N_ELEMENTS (kith_update_error_entries));
  return (GQuark) quark;
}
