/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* kith-hello.c — the smallest useful plugin: one D-Bus method and a status section.
 * docs/writing-plugins.md walks through this file. */
#include "kith-agent.h"
#include "kith-dbus-generated.h"

#define KITH_HELLO_PATH KITH_AGENT_DBUS_PATH "/Hello"

static gboolean
kith_hello_handle_greet (KithDbusHello1 *hello, GDBusMethodInvocation *invocation,
                         const gchar *name, KithAgent *agent)
{
  g_autofree gchar *greeting = NULL;

  if (name[0] == '\0') {
    g_dbus_method_invocation_return_error_literal (invocation, KITH_AGENT_ERROR,
                                                   KITH_AGENT_ERROR_INVALID_ARGS,
                                                   "say whom to greet");
    return G_DBUS_METHOD_INVOCATION_HANDLED;
  }
  greeting = g_strdup_printf ("Hello %s from node %s", name, kith_agent_get_node_id (agent));
  kith_dbus_hello1_set_greetings (hello, kith_dbus_hello1_get_greetings (hello) + 1);
  kith_metrics_add (kith_agent_get_metrics (agent), "kith_hello_greetings_total", NULL, 1);
  kith_dbus_hello1_complete_greet (hello, invocation, greeting);
  return G_DBUS_METHOD_INVOCATION_HANDLED;
}

/* The service object is the D-Bus skeleton itself: a plugin needs no more state. */
static GObject *
kith_hello_start (KithAgent *agent, GError **error)
{
  g_autoptr (KithDbusHello1) hello = kith_dbus_hello1_skeleton_new ();

  if (!kith_config_check_keys (kith_agent_get_config (agent), "hello",
                               (const gchar *const[]) { NULL }, error))
    return NULL;
  kith_metrics_register (kith_agent_get_metrics (agent), "kith_hello_greetings_total",
                         KITH_METRIC_COUNTER, "Greetings made");
  g_signal_connect_object (hello, "handle-greet", G_CALLBACK (kith_hello_handle_greet), agent, 0);
  kith_dbus_export (kith_agent_get_dbus (agent), G_DBUS_INTERFACE_SKELETON (hello), KITH_HELLO_PATH);
  return G_OBJECT (g_steal_pointer (&hello));
}

static void
kith_hello_stop (GObject *service, KithAgent *agent)
{
  kith_dbus_unexport (kith_agent_get_dbus (agent), G_DBUS_INTERFACE_SKELETON (service));
}

static GVariant *
kith_hello_get_status (GObject *service)
{
  GVariantDict dict;
  g_variant_dict_init (&dict, NULL);
  g_variant_dict_insert (&dict, "greetings", "u",
                         kith_dbus_hello1_get_greetings (KITH_DBUS_HELLO1 (service)));
  return g_variant_dict_end (&dict);
}

const KithPluginInfo *
kith_plugin_describe (void)
{
  static const KithPluginInfo info = {
    .sdk_version = KITH_PLUGIN_SDK_VERSION,
    .name = "hello",
    .version = "1.0",
    .requires = NULL,
    .start = kith_hello_start,
    .stop = kith_hello_stop,
    .get_status = kith_hello_get_status,
  };
  return &info;
}
