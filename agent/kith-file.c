/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* kith-file.c — files that survive a crash: atomic replacement and directory sync */
#include "kith-file.h"

#include <errno.h>
#include <fcntl.h>
#include <glib/gstdio.h>
#ifdef G_OS_UNIX
#include <sys/stat.h>
#include <unistd.h>
#endif

static gboolean
kith_file_fail (GError **error, int saved_errno, const gchar *what, const gchar *path)
{
  g_set_error (error, G_IO_ERROR, g_io_error_from_errno (saved_errno), "cannot %s %s: %s", what, path,
               g_strerror (saved_errno));
  return FALSE;
}

gboolean
kith_file_sync_dir (const gchar *path, GError **error)
{
#ifdef G_OS_UNIX
  int fd = g_open (path, O_RDONLY | O_DIRECTORY | O_CLOEXEC, 0);
  int saved;

  if (fd < 0)
    return kith_file_fail (error, errno, "open directory", path);
  if (fsync (fd) == 0) {
    close (fd);
    return TRUE;
  }
  saved = errno;
  close (fd);
  return kith_file_fail (error, saved, "sync directory", path);
#else
  return TRUE;
#endif
}

static gboolean
kith_file_write_all (int fd, const gchar *contents, gsize length)
{
  gsize done = 0;

  while (done < length) {
    gssize n = write (fd, contents + done, length - done);
    if (n < 0 && errno == EINTR)
      continue;
    if (n < 0)
      return FALSE;
    done += (gsize) n;
  }
  return TRUE;
}

gboolean
kith_file_write_atomic (const gchar *path, const gchar *contents, gsize length, int mode,
                        GError **error)
{
  g_autofree gchar *tmp = g_strdup_printf ("%s.tmp-XXXXXX", path);
  g_autofree gchar *dir = NULL;
  g_autoptr (GError) sync_error = NULL;
  int fd = g_mkstemp_full (tmp, O_RDWR | O_CLOEXEC, mode);

  if (fd < 0)
    return kith_file_fail (error, errno, "create", tmp);
  /* fchmod: the umask must not widen or narrow what the caller asked for */
  if (!kith_file_write_all (fd, contents, length) || fchmod (fd, mode) != 0 || fsync (fd) != 0) {
    int saved = errno;
    close (fd);
    g_unlink (tmp);
    return kith_file_fail (error, saved, "write", tmp);
  }
  close (fd);
  if (g_rename (tmp, path) != 0) {
    int saved = errno;
    g_autofree gchar *what = g_strdup_printf ("rename %s to", tmp);
    g_unlink (tmp);
    return kith_file_fail (error, saved, what, path);
  }
  /* best effort: the new contents are in place either way */
  dir = g_path_get_dirname (path);
  if (!kith_file_sync_dir (dir, &sync_error))
    g_debug ("%s", sync_error->message);
  return TRUE;
}
