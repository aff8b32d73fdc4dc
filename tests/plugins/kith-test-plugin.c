/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* kith-test-plugin.c — one source, built many times with -D flags, to give
 * the loader every kind of plugin it must accept or refuse. Each start and
 * stop is appended to STATE_DIR/plugin-events so tests can check the order. */
#include "kith-agent.h"

#include <stdio.h>

#ifndef TEST_REQUIRES
#define TEST_REQUIRES
#endif
#ifndef TEST_SDK_VERSION
#define TEST_SDK_VERSION KITH_PLUGIN_SDK_VERSION
#endif

G_GNUC_UNUSED static void
kith_test_plugin_record (KithAgent *agent, const gchar *event)
{
  g_autofree gchar *path = g_build_filename (kith_agent_get_state_dir (agent), "plugin-events", NULL);
  FILE *file = fopen (path, "a");
  if (file == NULL)
    return;
  fprintf (file, "%s:%s\n", event, TEST_NAME);
  fclose (file);
}

G_GNUC_UNUSED static GObject *
kith_test_plugin_start (KithAgent *agent, GError **error)
{
#ifdef TEST_START_FAILS
  g_set_error_literal (error, KITH_AGENT_ERROR, KITH_AGENT_ERROR_FAILED,
                       "this plugin always fails to start");
  return NULL;
#else
  GObject *service = g_object_new (G_TYPE_OBJECT, NULL);
  kith_test_plugin_record (agent, "start");
  return service;
#endif
}

G_GNUC_UNUSED static void
kith_test_plugin_stop (GObject *service, KithAgent *agent)
{
  kith_test_plugin_record (agent, "stop");
}

#ifndef TEST_NO_SYMBOL
const KithPluginInfo *
kith_plugin_describe (void)
{
  static const gchar *const requires[] = { TEST_REQUIRES NULL };
  static const KithPluginInfo info = {
    .sdk_version = TEST_SDK_VERSION,
    .name = TEST_NAME,
    .version = "0.1",
    .requires = requires,
    .start = kith_test_plugin_start,
    .stop = kith_test_plugin_stop,
  };
  return &info;
}
#else
KITH_PLUGIN_EXPORT int kith_plugin_something_else (void);
int
kith_plugin_something_else (void)
{
  return 0;
}
#endif
