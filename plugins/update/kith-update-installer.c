/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* kith-update-installer.c — writing a set, switching current, recovering after a kill
 *
 * Order of an install (each numbered step is a test crash point, see
 * kith_update_installer_crash_point()):
 *   .sets/<v>.partial/NAME written, hashed against the catalog, fsync   (1 after the first)
 *   .sets/<v>.partial/.manifest.json, fsync of the directory            (2)
 *   rename .sets/<v>.partial → .sets/<v>, fsync .sets                    (3)
 *   symlink current.tmp → .sets/<v>                                      (4)
 *   rename current.tmp → current, fsync DIR                              (5)
 *   remove the superseded sets
 */
#include "kith-update-installer.h"

#include "kith-crypto.h"
#include "kith-file.h"
#include "kith-update-error.h"

#include <errno.h>
#include <fcntl.h>
#include <glib/gstdio.h>
#include <string.h>

#define KITH_UPDATE_MANIFEST ".manifest.json"
#define KITH_UPDATE_COPY_CHUNK (64 * 1024)

KithCatalog *
kith_update_installer_get_installed (const gchar *dir, GError **error)
{
  g_autofree gchar *path = g_build_filename (dir, "current", KITH_UPDATE_MANIFEST, NULL);
  g_autofree gchar *data = NULL;
  g_autoptr (GBytes) bytes = NULL;
  gsize size = 0;

  if (!g_file_test (path, G_FILE_TEST_EXISTS))
    return kith_catalog_new ();
  if (!g_file_get_contents (path, &data, &size, error))
    return NULL;
  bytes = g_bytes_new_take (g_steal_pointer (&data), size);
  return kith_catalog_parse (bytes, error);
}

#ifdef G_OS_UNIX
#include <signal.h>
#include <unistd.h>

/* Test hook: KITH_UPDATE_TEST_CRASH_POINT=N kills the agent with SIGKILL at step N of an
 * install, so tests can check that a kill there leaves a whole set (docs/operations.md). */
static void
kith_update_installer_crash_point (guint step)
{
  const gchar *value = g_getenv ("KITH_UPDATE_TEST_CRASH_POINT");

  if (value != NULL && g_ascii_strtoull (value, NULL, 10) == step) {
    g_warning ("KITH_UPDATE_TEST_CRASH_POINT=%u: killing myself during install", step);
    kill (getpid (), SIGKILL);
  }
}

static gboolean
kith_update_installer_set_errno (GError **error, const gchar *what, const gchar *path)
{
  int saved = errno;
  g_set_error (error, KITH_UPDATE_ERROR, KITH_UPDATE_ERROR_INSTALL, "cannot %s %s: %s", what, path,
               g_strerror (saved));
  return FALSE;
}

static gboolean
kith_update_installer_fsync_dir (const gchar *path, GError **error)
{
  g_autoptr (GError) local = NULL;

  if (kith_file_sync_dir (path, &local))
    return TRUE;
  g_set_error_literal (error, KITH_UPDATE_ERROR, KITH_UPDATE_ERROR_INSTALL, local->message);
  return FALSE;
}

/* Removes @path and everything under it, never following symlinks. */
static void
kith_update_installer_remove_tree (const gchar *path)
{
  GStatBuf st;
  g_autoptr (GDir) dir = NULL;
  const gchar *name;

  if (g_lstat (path, &st) != 0)
    return;
  if (S_ISDIR (st.st_mode) && (dir = g_dir_open (path, 0, NULL)) != NULL) {
    while ((name = g_dir_read_name (dir)) != NULL) {
      g_autofree gchar *child = g_build_filename (path, name, NULL);
      kith_update_installer_remove_tree (child);
    }
    g_rmdir (path);
    return;
  }
  g_unlink (path);
}

/* Reads @in to its end in chunks, hashing each into @checksum and writing it to @out (-1:
 * nowhere); stops at the chunk that takes the count past @limit, neither hashed nor written.
 * *@total counts every byte read, that chunk too. FALSE with errno set when a read (*@failed
 * "read") or a write ("write") failed. */
static gboolean
kith_update_installer_pump (int in, int out, guint64 limit, GChecksum *checksum, guint64 *total,
                            const gchar **failed)
{
  g_autofree guint8 *buffer = g_malloc (KITH_UPDATE_COPY_CHUNK);

  *total = 0;
  for (;;) {
    gssize n = read (in, buffer, KITH_UPDATE_COPY_CHUNK);
    if (n < 0 && errno == EINTR)
      continue;
    if (n < 0) {
      *failed = "read";
      return FALSE;
    }
    if (n == 0)
      return TRUE;
    *total += (guint64) n;
    if (*total > limit)
      return TRUE; /* never take more than was promised */
    g_checksum_update (checksum, buffer, n);
    for (gssize off = 0; out >= 0 && off < n;) {
      gssize w = write (out, buffer + off, (gsize) (n - off));
      if (w < 0 && errno == EINTR)
        continue;
      if (w < 0) {
        *failed = "write";
        return FALSE;
      }
      off += w;
    }
  }
}

/* Copies @src to the new file @dst in bounded chunks, checks size and sha256, syncs it. */
static gboolean
kith_update_installer_copy (const gchar *src, const gchar *dst, const KithCatalogFile *entry,
                            GError **error)
{
  g_autoptr (GChecksum) checksum = g_checksum_new (G_CHECKSUM_SHA256);
  const gchar *failed = NULL;
  guint64 total = 0;
  gboolean ok = FALSE;
  int in = g_open (src, O_RDONLY, 0);
  int out = -1;

  if (in < 0)
    return kith_update_installer_set_errno (error, "open", src);
  out = g_open (dst, O_WRONLY | O_CREAT | O_EXCL, 0644);
  if (out < 0) {
    kith_update_installer_set_errno (error, "create", dst);
    goto out;
  }
  if (!kith_update_installer_pump (in, out, entry->size, checksum, &total, &failed)) {
    kith_update_installer_set_errno (error, failed, g_strcmp0 (failed, "read") == 0 ? src : dst);
    goto out;
  }
  /* more than the catalog promised was never copied: the pump stopped there */
  if (total != entry->size) {
    g_set_error (error, KITH_UPDATE_ERROR, KITH_UPDATE_ERROR_FILE,
                 "%s: %s bytes where the catalog says %" G_GUINT64_FORMAT, entry->name,
                 total > entry->size ? "more" : "fewer", entry->size);
    goto out;
  }
  if (g_strcmp0 (g_checksum_get_string (checksum), entry->sha256) != 0) {
    g_set_error (error, KITH_UPDATE_ERROR, KITH_UPDATE_ERROR_FILE,
                 "%s: sha256 %s where the catalog says %s", entry->name,
                 g_checksum_get_string (checksum), entry->sha256);
    goto out;
  }
  if (g_fsync (out) != 0) {
    kith_update_installer_set_errno (error, "sync", dst);
    goto out;
  }
  ok = TRUE;
out:
  g_close (in, NULL);
  if (out >= 0 && !g_close (out, NULL) && ok)
    ok = kith_update_installer_set_errno (error, "close", dst);
  return ok;
}

/* Whether @path holds exactly @entry's bytes (size and sha256), read in bounded chunks. */
static gboolean
kith_update_installer_file_matches (const gchar *path, const KithCatalogFile *entry)
{
  g_autoptr (GChecksum) checksum = g_checksum_new (G_CHECKSUM_SHA256);
  const gchar *failed = NULL;
  guint64 total = 0;
  gboolean read_all;
  int fd = g_open (path, O_RDONLY | O_NOFOLLOW, 0);

  if (fd < 0)
    return FALSE;
  read_all = kith_update_installer_pump (fd, -1, entry->size, checksum, &total, &failed);
  g_close (fd, NULL);
  return read_all && total == entry->size && g_strcmp0 (g_checksum_get_string (checksum), entry->sha256) == 0;
}

GPtrArray *
kith_update_installer_find_damaged (const gchar *dir, KithCatalog *installed)
{
  GPtrArray *damaged = g_ptr_array_new_with_free_func (g_free);

  for (guint i = 0; installed != NULL && i < installed->files->len; i++) {
    const KithCatalogFile *entry = g_ptr_array_index (installed->files, i);
    g_autofree gchar *path = g_build_filename (dir, "current", entry->name, NULL);
    if (!kith_update_installer_file_matches (path, entry))
      g_ptr_array_add (damaged, g_strdup (entry->name));
  }
  return damaged;
}

/* The version current points to (".sets/<v>"), or NULL; caller frees. */
static gchar *
kith_update_installer_current_name (const gchar *dir)
{
  g_autofree gchar *link = g_build_filename (dir, "current", NULL);
  g_autofree gchar *target = g_file_read_link (link, NULL);

  if (target == NULL || !g_str_has_prefix (target, ".sets/"))
    return NULL;
  return g_strdup (target + strlen (".sets/"));
}

gboolean
kith_update_installer_recover (const gchar *dir, GError **error)
{
  g_autofree gchar *sets = g_build_filename (dir, ".sets", NULL);
  g_autofree gchar *tmp = g_build_filename (dir, "current.tmp", NULL);
  g_autofree gchar *current = kith_update_installer_current_name (dir);
  g_autoptr (GDir) listing = NULL;
  const gchar *name;

  if (g_mkdir_with_parents (sets, 0755) != 0)
    return kith_update_installer_set_errno (error, "create", sets);
  g_unlink (tmp);
  listing = g_dir_open (sets, 0, error);
  if (listing == NULL)
    return FALSE;
  while ((name = g_dir_read_name (listing)) != NULL) {
    g_autofree gchar *path = NULL;
    if (g_strcmp0 (name, current) == 0)
      continue;
    path = g_build_filename (sets, name, NULL);
    g_message ("removing %s: %s", path,
               g_str_has_suffix (name, ".partial") ? "an install that did not finish" : "superseded");
    kith_update_installer_remove_tree (path);
  }
  return TRUE;
}

/* Writes every file and the manifest into @partial. */
static gboolean
kith_update_installer_fill (const gchar *dir, const gchar *partial, KithCatalog *catalog,
                            GHashTable *sources, GError **error)
{
  g_autoptr (GBytes) manifest = kith_catalog_to_json (catalog);
  g_autofree gchar *manifest_path = g_build_filename (partial, KITH_UPDATE_MANIFEST, NULL);
  gsize size = 0;
  const gchar *data;

  for (guint i = 0; i < catalog->files->len; i++) {
    const KithCatalogFile *entry = g_ptr_array_index (catalog->files, i);
    const gchar *source = g_hash_table_lookup (sources, entry->name);
    g_autofree gchar *installed = g_build_filename (dir, "current", entry->name, NULL);
    g_autofree gchar *dest = g_build_filename (partial, entry->name, NULL);

    if (!kith_update_installer_copy (source != NULL ? source : installed, dest, entry, error))
      return FALSE;
    if (i == 0)
      kith_update_installer_crash_point (1);
  }
  data = g_bytes_get_data (manifest, &size);
  if (!kith_file_write_atomic (manifest_path, data, size, 0644, error))
    return FALSE;
  return kith_update_installer_fsync_dir (partial, error);
}

/* The directory name of the next set of @version: "<v>", or "<v>-<n+1>" when current is
 * already "<v>" or "<v>-<n>" (the same catalog installed again, repaired). */
static gchar *
kith_update_installer_set_name (const gchar *previous, gint64 version)
{
  g_autofree gchar *plain = g_strdup_printf ("%" G_GINT64_FORMAT, version);
  gsize len = strlen (plain);
  guint64 generation = 0;

  if (previous == NULL || !g_str_has_prefix (previous, plain) ||
      (previous[len] != '\0' && previous[len] != '-'))
    return g_steal_pointer (&plain);
  if (previous[len] == '-')
    generation = g_ascii_strtoull (previous + len + 1, NULL, 10);
  return g_strdup_printf ("%s-%" G_GUINT64_FORMAT, plain, generation + 1);
}

gboolean
kith_update_installer_install (const gchar *dir, KithCatalog *catalog, GHashTable *sources,
                               GError **error)
{
  g_autofree gchar *previous = kith_update_installer_current_name (dir);
  g_autofree gchar *version = kith_update_installer_set_name (previous, catalog->version);
  g_autofree gchar *sets = g_build_filename (dir, ".sets", NULL);
  g_autofree gchar *final = g_build_filename (sets, version, NULL);
  g_autofree gchar *partial = g_strconcat (final, ".partial", NULL);
  g_autofree gchar *target = g_build_filename (".sets", version, NULL);
  g_autofree gchar *tmp = g_build_filename (dir, "current.tmp", NULL);
  g_autofree gchar *current = g_build_filename (dir, "current", NULL);

  if (!kith_update_installer_recover (dir, error))
    return FALSE;
  if (g_mkdir (partial, 0755) != 0)
    return kith_update_installer_set_errno (error, "create", partial);
  if (!kith_update_installer_fill (dir, partial, catalog, sources, error)) {
    kith_update_installer_remove_tree (partial);
    return FALSE;
  }
  kith_update_installer_crash_point (2);
  if (g_rename (partial, final) != 0)
    return kith_update_installer_set_errno (error, "rename", partial);
  if (!kith_update_installer_fsync_dir (sets, error))
    return FALSE;
  kith_update_installer_crash_point (3);
  if (symlink (target, tmp) != 0)
    return kith_update_installer_set_errno (error, "create symlink", tmp);
  kith_update_installer_crash_point (4);
  if (g_rename (tmp, current) != 0)
    return kith_update_installer_set_errno (error, "rename", tmp);
  if (!kith_update_installer_fsync_dir (dir, error))
    return FALSE;
  kith_update_installer_crash_point (5);
  /* the old set is no longer reachable: remove it (and anything else left over) */
  return kith_update_installer_recover (dir, error);
}

#else /* !G_OS_UNIX */

gboolean
kith_update_installer_recover (const gchar *dir, GError **error)
{
  g_set_error_literal (error, KITH_UPDATE_ERROR, KITH_UPDATE_ERROR_INSTALL,
                       "the signatures directory needs symlinks and fsync (a POSIX system)");
  return FALSE;
}

gboolean
kith_update_installer_install (const gchar *dir, KithCatalog *catalog, GHashTable *sources,
                               GError **error)
{
  return kith_update_installer_recover (dir, error);
}

GPtrArray *
kith_update_installer_find_damaged (const gchar *dir, KithCatalog *installed)
{
  return g_ptr_array_new_with_free_func (g_free);
}

#endif
