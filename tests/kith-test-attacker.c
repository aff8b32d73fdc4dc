/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* kith-test-attacker.c — tests/kith-lan-attacker.c as a child process of a suite */
#include "kith-test-attacker.h"

#include <check.h>

KithTestAttacker *
kith_test_attacker_spawn (guint16 port, const gchar *mode, const gchar *arg1, const gchar *arg2)
{
  g_autofree gchar *port_text = g_strdup_printf ("%u", port);
  const gchar *bin = g_getenv ("KITH_LAN_ATTACKER");
  g_autoptr (GError) error = NULL;
  g_autofree gchar *line = NULL;
  g_auto (GStrv) words = NULL;
  KithTestAttacker *self = g_new0 (KithTestAttacker, 1);

  ck_assert_msg (bin != NULL, "KITH_LAN_ATTACKER must name the build's kith-lan-attacker");
  self->process = g_subprocess_new (G_SUBPROCESS_FLAGS_STDIN_PIPE | G_SUBPROCESS_FLAGS_STDOUT_PIPE, &error,
                                    bin, port_text, mode, arg1, arg2, NULL);
  g_assert_no_error (error);
  self->out = g_data_input_stream_new (g_subprocess_get_stdout_pipe (self->process));
  line = g_data_input_stream_read_line_utf8 (self->out, NULL, NULL, &error);
  ck_assert_msg (line != NULL, "kith-lan-attacker %s did not start", mode);
  words = g_strsplit (line, " ", 3);
  ck_assert_str_eq (words[0], "ready");
  ck_assert_uint_eq (g_strv_length (words), 3);
  self->alias_base = g_strdup (words[1]);
  self->sha256 = g_strcmp0 (words[2], "-") != 0 ? g_strdup (words[2]) : NULL;
  return self;
}

KithTestAttacker *
kith_test_attacker_spawn_liar (guint16 port, const gchar *sha256, guint64 size)
{
  g_autofree gchar *size_text = g_strdup_printf ("%" G_GUINT64_FORMAT, size);

  return kith_test_attacker_spawn (port, "have", size_text, sha256);
}

gchar *
kith_test_attacker_read_line (KithTestAttacker *self)
{
  return g_data_input_stream_read_line_utf8 (self->out, NULL, NULL, NULL);
}

guint64
kith_test_attacker_stop (KithTestAttacker *self)
{
  g_autoptr (GError) error = NULL;
  gchar *line;

  if (self->out == NULL)
    return self->sent;
  g_output_stream_close (g_subprocess_get_stdin_pipe (self->process), NULL, NULL);
  while ((line = kith_test_attacker_read_line (self)) != NULL) {
    if (g_str_has_prefix (line, "sent ")) {
      self->sent = MAX (self->sent, g_ascii_strtoull (line + 5, NULL, 10));
      self->connections++;
    }
    g_free (line);
  }
  g_clear_object (&self->out);
  ck_assert_msg (g_subprocess_wait_check (self->process, NULL, &error), "kith-lan-attacker: %s",
                 error != NULL ? error->message : "");
  return self->sent;
}

void
kith_test_attacker_free (KithTestAttacker *self)
{
  kith_test_attacker_stop (self);
  g_object_unref (self->process);
  g_free (self->alias_base);
  g_free (self->sha256);
  g_free (self);
}
