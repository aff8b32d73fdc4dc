/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* kith-test-bus.h — a private session bus daemon for tests of bus mode */
#pragma once

#include <gio/gio.h>

G_BEGIN_DECLS

typedef struct _KithTestBus KithTestBus;

/* Starts @daemon_path (dbus-daemon) on a socket in a private directory, bounded to 60 s,
 * and exports its address as DBUS_SESSION_BUS_ADDRESS. Caller frees. */
KithTestBus *kith_test_bus_new (const gchar *daemon_path);
/* Stops the daemon (SIGTERM, waits) and removes its directory. */
void kith_test_bus_free (KithTestBus *self);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (KithTestBus, kith_test_bus_free)

G_END_DECLS
