/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* kith-peering-plugin.c — the peering GModule: the service plus its D-Bus face */
#include "kith-peering-dbus.h"

KITH_PLUGIN_DEFINE_SERVICE ("peering", "1.0", NULL, kith_peering, KithPeering)
