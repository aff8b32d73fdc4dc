/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* kith-test-child.c — a suite's own binary run again as a child process */
#include "kith-test-child.h"

#include <check.h>

static gboolean
kith_test_child_quit (gpointer loop)
{
  g_main_loop_quit (loop);
  return G_SOURCE_REMOVE;
}

static gboolean
kith_test_child_stdin_closed (GIOChannel *channel, GIOCondition condition, gpointer loop)
{
  return kith_test_child_quit (loop);
}

void
kith_test_child_run (GMainLoop *loop, const gchar *ready_line)
{
  g_autoptr (GIOChannel) input = g_io_channel_unix_new (0);

  g_io_add_watch (input, G_IO_IN | G_IO_HUP | G_IO_ERR, kith_test_child_stdin_closed, loop);
  g_timeout_add_seconds (120, kith_test_child_quit, loop);
  g_print ("%s\n", ready_line);
  g_main_loop_run (loop);
}

GSubprocess *
kith_test_child_spawn (const gchar *first_arg, ...)
{
  g_autoptr (GPtrArray) argv = g_ptr_array_new_with_free_func (g_free);
  g_autoptr (GError) error = NULL;
  g_autoptr (GDataInputStream) out = NULL;
  g_autofree gchar *line = NULL;
  GSubprocess *process;
  va_list args;

  g_ptr_array_add (argv, g_file_read_link ("/proc/self/exe", NULL));
  va_start (args, first_arg);
  for (const gchar *arg = first_arg; arg != NULL; arg = va_arg (args, const gchar *))
    g_ptr_array_add (argv, g_strdup (arg));
  va_end (args);
  g_ptr_array_add (argv, NULL);
  process = g_subprocess_newv ((const gchar *const *) argv->pdata,
                               G_SUBPROCESS_FLAGS_STDIN_PIPE | G_SUBPROCESS_FLAGS_STDOUT_PIPE, &error);
  g_assert_no_error (error);
  out = g_data_input_stream_new (g_subprocess_get_stdout_pipe (process));
  g_filter_input_stream_set_close_base_stream (G_FILTER_INPUT_STREAM (out), FALSE);
  line = g_data_input_stream_read_line_utf8 (out, NULL, NULL, NULL);
  ck_assert_str_eq (line, "ready");
  return process;
}

void
kith_test_child_stop (GSubprocess *child, void (*on_line) (const gchar *line, gpointer user_data),
                      gpointer user_data)
{
  g_output_stream_close (g_subprocess_get_stdin_pipe (child), NULL, NULL);
  if (on_line != NULL) {
    g_autoptr (GDataInputStream) out = g_data_input_stream_new (g_subprocess_get_stdout_pipe (child));

    for (;;) {
      g_autofree gchar *line = g_data_input_stream_read_line_utf8 (out, NULL, NULL, NULL);
      if (line == NULL)
        break;
      on_line (line, user_data);
    }
  }
  ck_assert (g_subprocess_wait (child, NULL, NULL));
  g_object_unref (child);
}
