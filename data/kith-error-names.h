/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* kith-error-names.h — the org.kith.Error.* names: the one error contract of every kith
 * D-Bus interface. Compiled into libkith-agent (which sends them: KithAgentError has one code
 * per name, in this order) and libkith (which maps each to a KithClientError). Not installed.
 *
 * A new name goes at the end (before LAST), with its KITH_AGENT_ERROR_ code, its entry in
 * libkith's mapping (client-lib/kith-client-error.c), its line in docs/writing-plugins.md ("Errors") and in the
 * XML of each method that returns it. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

typedef enum {
  KITH_ERROR_NAME_FAILED,            /* org.kith.Error.Failed */
  KITH_ERROR_NAME_CONFIG,            /* org.kith.Error.Config */
  KITH_ERROR_NAME_PLUGIN,            /* org.kith.Error.Plugin */
  KITH_ERROR_NAME_PLUGIN_MISSING,    /* org.kith.Error.PluginMissing */
  KITH_ERROR_NAME_INVALID_ARGS,      /* org.kith.Error.InvalidArgs */
  KITH_ERROR_NAME_NOT_FOUND,         /* org.kith.Error.NotFound */
  KITH_ERROR_NAME_CANCELLED,         /* org.kith.Error.Cancelled */
  KITH_ERROR_NAME_PERMISSION_DENIED, /* org.kith.Error.PermissionDenied */
  KITH_ERROR_NAME_NOT_CONFIGURED,    /* org.kith.Error.NotConfigured */
  KITH_ERROR_NAME_OFFLINE,           /* org.kith.Error.Offline */
  KITH_ERROR_NAME_LAST
} KithErrorName;

/* "org.kith.Error.Failed" for KITH_ERROR_NAME_FAILED, …; NULL out of range. Static. */
const gchar *kith_error_name_to_dbus (KithErrorName code);
/* The code of D-Bus error name @dbus_name, or -1 when it is not an org.kith.Error.* name. */
gint kith_error_name_from_dbus (const gchar *dbus_name);

G_END_DECLS
