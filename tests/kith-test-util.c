/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* kith-test-util.c — small things every suite needs */
#include "kith-test-util.h"

#include <glib/gstdio.h>

void
kith_test_rm_rf (const gchar *path)
{
  g_autoptr (GDir) dir = g_dir_open (path, 0, NULL);
  const gchar *name;

  while (dir != NULL && (name = g_dir_read_name (dir)) != NULL) {
    g_autofree gchar *child = g_build_filename (path, name, NULL);
    if (g_file_test (child, G_FILE_TEST_IS_DIR) && !g_file_test (child, G_FILE_TEST_IS_SYMLINK))
      kith_test_rm_rf (child);
    else
      g_unlink (child);
  }
  g_rmdir (path);
}

gboolean
kith_test_timeout_cb (gpointer user_data)
{
  *(gboolean *) user_data = TRUE;
  return G_SOURCE_REMOVE;
}
