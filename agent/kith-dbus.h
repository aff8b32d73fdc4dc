/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* kith-dbus.h — the agent's D-Bus presence: a bus name or a peer-to-peer server */
#pragma once

#include <gio/gio.h>

G_BEGIN_DECLS

#define KITH_AGENT_DBUS_NAME "org.kith.Agent1"
#define KITH_AGENT_DBUS_PATH "/org/kith/Agent1"

#define KITH_TYPE_DBUS (kith_dbus_get_type ())
G_DECLARE_FINAL_TYPE (KithDbus, kith_dbus, KITH, DBUS, GObject)

/* Exports @skeleton at @object_path on every connection, now and future. */
void kith_dbus_export (KithDbus *self, GDBusInterfaceSkeleton *skeleton, const gchar *object_path);
/* Withdraws @skeleton from every connection. */
void kith_dbus_unexport (KithDbus *self, GDBusInterfaceSkeleton *skeleton);
/* The address clients use (the listen address in peer-to-peer mode); owned by @self. */
const gchar *kith_dbus_get_address (KithDbus *self);

G_END_DECLS
