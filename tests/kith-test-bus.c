/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* kith-test-bus.c — a private session bus daemon for tests of bus mode */
#include "kith-test-bus.h"

#include <glib/gstdio.h>
#include <signal.h>

struct _KithTestBus {
  gchar *dir;
  gchar *socket_path;
  GSubprocess *daemon;
};

KithTestBus *
kith_test_bus_new (const gchar *daemon_path)
{
  KithTestBus *self = g_new0 (KithTestBus, 1);
  g_autofree gchar *listen = NULL;
  g_autoptr (GDataInputStream) input = NULL;
  g_autofree gchar *address = NULL;
  g_autoptr (GError) error = NULL;

  self->dir = g_dir_make_tmp ("kith-bus-XXXXXX", &error);
  g_assert_no_error (error);
  self->socket_path = g_build_filename (self->dir, "bus", NULL);
  listen = g_strdup_printf ("--address=unix:path=%s", self->socket_path);
  self->daemon = g_subprocess_new (G_SUBPROCESS_FLAGS_STDOUT_PIPE | G_SUBPROCESS_FLAGS_STDERR_SILENCE,
                                   &error, "timeout", "60", /* bounded even if the test dies */
                                   daemon_path, "--session", "--nofork", "--print-address=1",
                                   listen, NULL);
  g_assert_no_error (error);
  /* the daemon prints its address once it listens (or exits: EOF) */
  input = g_data_input_stream_new (g_subprocess_get_stdout_pipe (self->daemon));
  address = g_data_input_stream_read_line_utf8 (input, NULL, NULL, &error);
  g_assert_no_error (error);
  g_assert_nonnull (address);
  g_setenv ("DBUS_SESSION_BUS_ADDRESS", address, TRUE);
  return self;
}

void
kith_test_bus_free (KithTestBus *self)
{
  g_subprocess_send_signal (self->daemon, SIGTERM);
  g_subprocess_wait (self->daemon, NULL, NULL);
  g_object_unref (self->daemon);
  g_unlink (self->socket_path);
  g_rmdir (self->dir);
  g_free (self->socket_path);
  g_free (self->dir);
  g_free (self);
}
