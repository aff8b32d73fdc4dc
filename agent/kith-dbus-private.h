/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* kith-dbus-private.h — making, starting and stopping the agent's D-Bus side. Not installed:
 * the agent makes and drives it; plugins are given it running. */
#pragma once

#include "kith-dbus.h"

G_BEGIN_DECLS

/* Not yet connected; caller owns it. */
KithDbus *kith_dbus_new (void);
/* "session", "system" (owns org.kith.Agent1) or an address to listen on (unix:path=…). */
gboolean kith_dbus_start (KithDbus *self, const gchar *mode, GError **error);
/* Stops listening, drops connections, releases the name. */
void kith_dbus_stop (KithDbus *self);

G_END_DECLS
