/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* kith-agent-error.c — KITH_AGENT_ERROR and its D-Bus names */
#include "kith-agent-error.h"

#include "kith-error-names.h"

/* the codes are the indices of the shared table of names */
G_STATIC_ASSERT ((gint) KITH_AGENT_ERROR_LAST == (gint) KITH_ERROR_NAME_LAST);
G_STATIC_ASSERT ((gint) KITH_AGENT_ERROR_OFFLINE == (gint) KITH_ERROR_NAME_OFFLINE);
G_STATIC_ASSERT ((gint) KITH_AGENT_ERROR_PERMISSION_DENIED == (gint) KITH_ERROR_NAME_PERMISSION_DENIED);
G_STATIC_ASSERT ((gint) KITH_AGENT_ERROR_CANCELLED == (gint) KITH_ERROR_NAME_CANCELLED);
G_STATIC_ASSERT ((gint) KITH_AGENT_ERROR_INVALID_ARGS == (gint) KITH_ERROR_NAME_INVALID_ARGS);

GQuark
kith_agent_error_quark (void)
{
  static gsize quark = 0;
  static GDBusErrorEntry entries[KITH_AGENT_ERROR_LAST];

  if (g_once_init_enter (&quark)) {
    gsize registered = 0;
    for (guint i = 0; i < KITH_AGENT_ERROR_LAST; i++) {
      entries[i].error_code = (gint) i;
      entries[i].dbus_error_name = kith_error_name_to_dbus ((KithErrorName) i);
    }
    g_dbus_error_register_error_domain ("kith-agent-error-quark", &registered, entries,
                                        G_N_ELEMENTS (entries));
    g_once_init_leave (&quark, registered);
  }
  return (GQuark) quark;
}

KithAgentError
kith_agent_error_code_for (const GError *error)
{
  if (error->domain == KITH_AGENT_ERROR && error->code >= 0 && error->code < KITH_AGENT_ERROR_LAST)
    return (KithAgentError) error->code;
  if (error->domain != G_IO_ERROR)
    return KITH_AGENT_ERROR_FAILED;
  switch (error->code) {
  case G_IO_ERROR_CANCELLED:
    return KITH_AGENT_ERROR_CANCELLED;
  case G_IO_ERROR_NOT_FOUND:
    return KITH_AGENT_ERROR_NOT_FOUND;
  case G_IO_ERROR_INVALID_ARGUMENT:
    return KITH_AGENT_ERROR_INVALID_ARGS;
  case G_IO_ERROR_PERMISSION_DENIED:
    return KITH_AGENT_ERROR_PERMISSION_DENIED;
  default:
    return KITH_AGENT_ERROR_FAILED;
  }
}

void
kith_agent_error_return (GDBusMethodInvocation *invocation, KithAgentError code, const GError *error)
{
  g_dbus_method_invocation_return_error_literal (invocation, KITH_AGENT_ERROR, code, error->message);
}

gchar *
kith_agent_error_to_reason (KithAgentError code, const gchar *message)
{
  return g_strdup_printf ("%s: %s", kith_error_name_to_dbus ((KithErrorName) code), message);
}
