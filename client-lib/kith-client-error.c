/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* kith-client-error.c — KITH_CLIENT_ERROR and the conversion of transport errors into it */
#include "kith-client-error.h"
#include "kith-client-private.h"

#include "kith-error-names.h"

#include <string.h>

G_DEFINE_QUARK (kith-client-error-quark, kith_client_error)

/* What each org.kith.Error.* name (data/kith-error-names.h) means to a client. */
static const KithClientError kith_client_error_from_name[] = {
  [KITH_ERROR_NAME_FAILED] = KITH_CLIENT_ERROR_FAILED,
  [KITH_ERROR_NAME_CONFIG] = KITH_CLIENT_ERROR_FAILED,
  [KITH_ERROR_NAME_PLUGIN] = KITH_CLIENT_ERROR_PLUGIN_MISSING,
  [KITH_ERROR_NAME_PLUGIN_MISSING] = KITH_CLIENT_ERROR_PLUGIN_MISSING,
  [KITH_ERROR_NAME_INVALID_ARGS] = KITH_CLIENT_ERROR_INVALID_ARGS,
  [KITH_ERROR_NAME_NOT_FOUND] = KITH_CLIENT_ERROR_NOT_FOUND,
  [KITH_ERROR_NAME_CANCELLED] = KITH_CLIENT_ERROR_CANCELLED,
  [KITH_ERROR_NAME_PERMISSION_DENIED] = KITH_CLIENT_ERROR_PERMISSION_DENIED,
  [KITH_ERROR_NAME_NOT_CONFIGURED] = KITH_CLIENT_ERROR_NOT_CONFIGURED,
  [KITH_ERROR_NAME_OFFLINE] = KITH_CLIENT_ERROR_OFFLINE,
};
G_STATIC_ASSERT (G_N_ELEMENTS (kith_client_error_from_name) == KITH_ERROR_NAME_LAST);

const gchar *
kith_client_error_to_string (KithClientError code)
{
  switch (code) {
  case KITH_CLIENT_ERROR_FAILED: return "failed";
  case KITH_CLIENT_ERROR_AGENT_NOT_RUNNING: return "agent-not-running";
  case KITH_CLIENT_ERROR_PLUGIN_MISSING: return "plugin-missing";
  case KITH_CLIENT_ERROR_INVALID_ARGS: return "invalid-args";
  case KITH_CLIENT_ERROR_NOT_FOUND: return "not-found";
  case KITH_CLIENT_ERROR_CANCELLED: return "cancelled";
  case KITH_CLIENT_ERROR_PERMISSION_DENIED: return "permission-denied";
  case KITH_CLIENT_ERROR_NOT_CONFIGURED: return "not-configured";
  case KITH_CLIENT_ERROR_OFFLINE: return "offline";
  case KITH_CLIENT_ERROR_LAST: break;
  }
  return "unknown";
}

static const gchar *
bus_type_to_string (GBusType bus_type)
{
  return bus_type == G_BUS_TYPE_SESSION ? "session" : "system";
}

/* "at unix:path=/x" or "on the system bus", for messages. */
static gchar *
describe_target (const gchar *address, GBusType bus_type)
{
  if (address != NULL)
    return g_strdup_printf ("at %s", address);
  return g_strdup_printf ("on the %s bus", bus_type_to_string (bus_type));
}

/* What a person should do when nothing answers. */
static gchar *
describe_remedy (const gchar *address, GBusType bus_type)
{
  if (address != NULL)
    return g_strdup_printf ("is kith-agent running? Start one with: "
                            "kith-agent --config FILE (with dbus=%s in its [agent] group)",
                            address);
  if (bus_type == G_BUS_TYPE_SYSTEM)
    return g_strdup ("is kith-agent running? Start it with: systemctl start kith-agent, "
                     "or set KITH_AGENT_ADDRESS to an agent listening peer-to-peer");
  return g_strdup ("is kith-agent running? Start one with: kith-agent --config FILE "
                   "(with dbus=session in its [agent] group)");
}

/* The code of a GIO error a service sent back as it was (not one of ours): what it says
 * about the request, never about the transport. */
static KithClientError
code_from_agent_gio (const GError *error)
{
  if (error->domain != G_IO_ERROR)
    return KITH_CLIENT_ERROR_FAILED;
  switch (error->code) {
  case G_IO_ERROR_CANCELLED: return KITH_CLIENT_ERROR_CANCELLED;
  case G_IO_ERROR_NOT_FOUND: return KITH_CLIENT_ERROR_NOT_FOUND;
  case G_IO_ERROR_INVALID_ARGUMENT: return KITH_CLIENT_ERROR_INVALID_ARGS;
  default: return KITH_CLIENT_ERROR_FAILED;
  }
}

/* The client code for a reply the agent sent with D-Bus error @name (decoded into
 * @error), or -1 when the name is not the agent's but the bus's or GDBus's own
 * (org.freedesktop.DBus.Error.*): those are about the transport. */
static gint
code_from_remote (const gchar *name, const GError *error)
{
  gint wire = kith_error_name_from_dbus (name);

  if (wire >= 0)
    return kith_client_error_from_name[wire];
  if (g_str_has_prefix (name, "org.gtk.GDBus.UnmappedGError."))
    return code_from_agent_gio (error);
  return -1;
}

/* Rewrites an error the agent returned into KITH_CLIENT_ERROR, keeping the agent's
 * message; FALSE (and @error untouched) when it is not one. */
static gboolean
convert_remote (GError **error)
{
  g_autofree gchar *name = g_dbus_error_get_remote_error (*error);
  g_autofree gchar *message = NULL;
  gint code;

  if (name == NULL || (code = code_from_remote (name, *error)) < 0)
    return FALSE;
  g_dbus_error_strip_remote_error (*error);
  message = g_strdup ((*error)->message);
  g_clear_error (error);
  g_set_error_literal (error, KITH_CLIENT_ERROR, code, message);
  return TRUE;
}

/* Maps a GIO or GDBus error to a client code; FAILED when nothing fits. */
static KithClientError
code_from_transport (const GError *error)
{
  if (error->domain == G_IO_ERROR) {
    switch (error->code) {
    case G_IO_ERROR_CANCELLED: return KITH_CLIENT_ERROR_CANCELLED;
    case G_IO_ERROR_NOT_FOUND:
    case G_IO_ERROR_CONNECTION_REFUSED:
    case G_IO_ERROR_CLOSED:
    case G_IO_ERROR_BROKEN_PIPE: /* == G_IO_ERROR_CONNECTION_CLOSED */
      return KITH_CLIENT_ERROR_AGENT_NOT_RUNNING;
    case G_IO_ERROR_PERMISSION_DENIED: return KITH_CLIENT_ERROR_PERMISSION_DENIED;
    case G_IO_ERROR_INVALID_ARGUMENT: return KITH_CLIENT_ERROR_INVALID_ARGS;
    default: return KITH_CLIENT_ERROR_FAILED;
    }
  }
  if (error->domain == G_DBUS_ERROR) {
    switch (error->code) {
    case G_DBUS_ERROR_SERVICE_UNKNOWN:
    case G_DBUS_ERROR_NAME_HAS_NO_OWNER:
    case G_DBUS_ERROR_NO_SERVER:
    case G_DBUS_ERROR_DISCONNECTED:
    case G_DBUS_ERROR_FILE_NOT_FOUND: return KITH_CLIENT_ERROR_AGENT_NOT_RUNNING;
    case G_DBUS_ERROR_ACCESS_DENIED:
    case G_DBUS_ERROR_AUTH_FAILED: return KITH_CLIENT_ERROR_PERMISSION_DENIED;
    case G_DBUS_ERROR_INVALID_ARGS:
    case G_DBUS_ERROR_BAD_ADDRESS: return KITH_CLIENT_ERROR_INVALID_ARGS;
    default: return KITH_CLIENT_ERROR_FAILED;
    }
  }
  return KITH_CLIENT_ERROR_FAILED;
}

static void
kith_client_error_convert_full (GError **error, const gchar *address, GBusType bus_type,
                                gboolean connecting)
{
  KithClientError code;
  g_autofree gchar *cause = NULL;
  g_autofree gchar *target = NULL;
  g_autofree gchar *remedy = NULL;

  if (error == NULL || *error == NULL)
    return;

  /* the agent's own errors: the message is already the agent's sentence */
  if ((*error)->domain == KITH_CLIENT_ERROR || convert_remote (error))
    return;
  if (g_dbus_error_is_remote_error (*error))
    g_dbus_error_strip_remote_error (*error);

  code = code_from_transport (*error);
  /* while connecting, any failure to reach the bus or socket means nobody answers */
  if (connecting && code == KITH_CLIENT_ERROR_FAILED)
    code = KITH_CLIENT_ERROR_AGENT_NOT_RUNNING;
  cause = g_strdup ((*error)->message);
  target = describe_target (address, bus_type);
  g_clear_error (error);

  switch (code) {
  case KITH_CLIENT_ERROR_AGENT_NOT_RUNNING:
    remedy = describe_remedy (address, bus_type);
    g_set_error (error, KITH_CLIENT_ERROR, code,
                 "No kith agent answers %s (%s): %s", target, cause, remedy);
    break;
  case KITH_CLIENT_ERROR_PERMISSION_DENIED:
    g_set_error (error, KITH_CLIENT_ERROR, code,
                 "Not allowed to talk to the kith agent %s (%s): run as a user the "
                 "D-Bus policy org.kith.Agent1.conf allows, or use the agent's "
                 "peer-to-peer address", target, cause);
    break;
  case KITH_CLIENT_ERROR_INVALID_ARGS:
    g_set_error (error, KITH_CLIENT_ERROR, code,
                 "Invalid request to the kith agent %s: %s", target, cause);
    break;
  case KITH_CLIENT_ERROR_CANCELLED:
    g_set_error (error, KITH_CLIENT_ERROR, code, "Cancelled: %s", cause);
    break;
  default:
    g_set_error (error, KITH_CLIENT_ERROR, code,
                 "Talking to the kith agent %s failed: %s", target, cause);
    break;
  }
}

void
kith_client_error_convert (GError **error, const gchar *address, GBusType bus_type)
{
  kith_client_error_convert_full (error, address, bus_type, FALSE);
}

void
kith_client_error_convert_connect (GError **error, const gchar *address, GBusType bus_type)
{
  kith_client_error_convert_full (error, address, bus_type, TRUE);
}

GError *
kith_client_error_new_for_transfer (const gchar *url, const gchar *reason)
{
  g_autoptr (GError) remote = NULL;
  g_autofree gchar *name = NULL;
  const gchar *sep = reason != NULL ? strstr (reason, ": ") : NULL;
  gint code;

  if (reason == NULL || reason[0] == '\0')
    return g_error_new (KITH_CLIENT_ERROR, KITH_CLIENT_ERROR_FAILED,
                        "Fetching %s failed, the agent gave no reason", url);
  if (sep != NULL)
    name = g_strndup (reason, sep - reason);
  if (name == NULL || !g_dbus_is_error_name (name))
    return g_error_new (KITH_CLIENT_ERROR, KITH_CLIENT_ERROR_FAILED,
                        "Fetching %s failed: %s", url, reason);
  /* the name is a D-Bus error name: ours map by the table, GIO's come back as themselves */
  remote = g_dbus_error_new_for_dbus_error (name, sep + 2);
  code = code_from_remote (name, remote);
  g_dbus_error_strip_remote_error (remote);
  return g_error_new (KITH_CLIENT_ERROR, code >= 0 ? code : KITH_CLIENT_ERROR_FAILED,
                      "Fetching %s failed: %s", url, remote->message);
}
