/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* kith-error-names.c — the org.kith.Error.* names */
#include "kith-error-names.h"

static const gchar *const kith_error_names[] = {
  [KITH_ERROR_NAME_FAILED] = "org.kith.Error.Failed",
  [KITH_ERROR_NAME_CONFIG] = "org.kith.Error.Config",
  [KITH_ERROR_NAME_PLUGIN] = "org.kith.Error.Plugin",
  [KITH_ERROR_NAME_PLUGIN_MISSING] = "org.kith.Error.PluginMissing",
  [KITH_ERROR_NAME_INVALID_ARGS] = "org.kith.Error.InvalidArgs",
  [KITH_ERROR_NAME_NOT_FOUND] = "org.kith.Error.NotFound",
  [KITH_ERROR_NAME_CANCELLED] = "org.kith.Error.Cancelled",
  [KITH_ERROR_NAME_PERMISSION_DENIED] = "org.kith.Error.PermissionDenied",
  [KITH_ERROR_NAME_NOT_CONFIGURED] = "org.kith.Error.NotConfigured",
  [KITH_ERROR_NAME_OFFLINE] = "org.kith.Error.Offline",
};
G_STATIC_ASSERT (G_N_ELEMENTS (kith_error_names) == KITH_ERROR_NAME_LAST);

const gchar *
kith_error_name_to_dbus (KithErrorName code)
{
  if ((guint) code >= KITH_ERROR_NAME_LAST)
    return NULL;
  return kith_error_names[code];
}

gint
kith_error_name_from_dbus (const gchar *dbus_name)
{
  for (guint i = 0; dbus_name != NULL && i < KITH_ERROR_NAME_LAST; i++) {
    if (g_strcmp0 (kith_error_names[i], dbus_name) == 0)
      return (gint) i;
  }
  return -1;
}
