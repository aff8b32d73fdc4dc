/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* kith-update-plugin.c — the update GModule: the service plus its D-Bus face */
#include "kith-update-dbus.h"

static const gchar *const kith_update_requires[] = { "peering", NULL };

KITH_PLUGIN_DEFINE_SERVICE ("update", "1.0", kith_update_requires, kith_update, KithUpdate)
