/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* kith-alias-store.c — the node's verified copies of files, named by sha256: the table
 * of files and hrefs, eviction, expiry and queries. The index format lives in
 * kith-alias-index.c, healing the directory at startup in kith-alias-recovery.c, writing in
 * kith-alias-writer.c.
 *
 * Layout of the cache directory:
 *   <sha256>          a complete, verified file
 *   .partial-XXXXXX   a file being written (deleted on abort and at startup)
 *   index.json        {"version":1,"files":[{"sha256","size","created",
 *                      "last-access","hrefs":[...]}]}, replaced atomically
 *
 * Several hrefs may name the same content, so the index is keyed by file
 * (sha256) and each file lists its hrefs. At startup a file that is missing
 * or has the wrong size is dropped at once; the others are re-hashed in a
 * worker thread (so a large cache does not delay startup) and stay invisible
 * until their digest is confirmed: only verified bytes are ever served.
 */
#include "kith-alias-store.h"

#include <errno.h>
#include <string.h>

#include <gio/gio.h>
#include <glib/gstdio.h>

#include "kith-alias-index.h"
#include "kith-alias-recovery.h"
#include "kith-peering-error.h"

#define INDEX_NAME "index.json"
#define SAVE_DELAY_S 2
#define COPY_BUFFER_SIZE (256 * 1024)

typedef KithAliasRecord KithAliasFile;

struct _KithAliasStore {
  GObject parent_instance;
  gchar *cache_dir;
  gchar *index_path;
  guint64 max_bytes;
  guint64 max_age_ms;
  GHashTable *files; /* sha256 → KithAliasFile (owned) */
  GHashTable *hrefs; /* href → KithAliasFile (borrowed) */
  guint64 total_bytes;
  KithAliasClockFunc clock_func;
  gpointer clock_data;
  GCancellable *cancellable;
  gboolean verifying;
  gboolean dirty;
  guint save_id;
};

enum { SIGNAL_CHANGED, SIGNAL_LAST };
static guint signals[SIGNAL_LAST];

G_DEFINE_TYPE (KithAliasStore, kith_alias_store, G_TYPE_OBJECT)

/* ---------------------------------------------------------------- entries */

static gchar *
file_path (KithAliasStore *self, const gchar *sha256)
{
  return g_build_filename (self->cache_dir, sha256, NULL);
}

static gint64
store_now (KithAliasStore *self)
{
  if (self->clock_func != NULL)
    return self->clock_func (self->clock_data);
  return g_get_real_time () / 1000;
}

static gboolean
file_is_expired (KithAliasStore *self, KithAliasFile *file, gint64 now)
{
  return self->max_age_ms > 0 && now - file->created >= (gint64) self->max_age_ms;
}

static gboolean
file_is_visible (KithAliasStore *self, KithAliasFile *file)
{
  return file->verified && !file_is_expired (self, file, store_now (self));
}

static KithAliasEntry *
entry_for (KithAliasStore *self, KithAliasFile *file, const gchar *href)
{
  KithAliasEntry *entry = g_new0 (KithAliasEntry, 1);
  entry->href = g_strdup (href);
  entry->sha256 = g_strdup (file->sha256);
  entry->size = file->size;
  entry->created = file->created;
  entry->last_access = file->last_access;
  entry->path = file_path (self, file->sha256);
  entry->trust = file->trust;
  return entry;
}

/* ------------------------------------------------------------ index table */

/* Takes @file into the table; none of its hrefs may be another file's. */
static void
store_insert (KithAliasStore *self, KithAliasFile *file)
{
  g_hash_table_insert (self->files, file->sha256, file);
  self->total_bytes += file->size;
  for (guint i = 0; i < file->hrefs->len; i++)
    g_hash_table_insert (self->hrefs, g_ptr_array_index (file->hrefs, i), file);
}

static KithAliasFile *
store_insert_file (KithAliasStore *self, const gchar *sha256, guint64 size)
{
  KithAliasFile *file = kith_alias_record_new (sha256, size);
  store_insert (self, file);
  return file;
}

/* Forgets @file and deletes it from disk; @file is freed. */
static void
store_drop_file (KithAliasStore *self, KithAliasFile *file, const gchar *why)
{
  g_autofree gchar *path = file_path (self, file->sha256);

  g_debug ("dropping %s (%s)", file->sha256, why);
  if (g_unlink (path) != 0 && errno != ENOENT)
    g_warning ("cannot delete %s: %s", path, g_strerror (errno));
  for (guint i = 0; i < file->hrefs->len; i++)
    g_hash_table_remove (self->hrefs, g_ptr_array_index (file->hrefs, i));
  self->total_bytes -= file->size;
  g_hash_table_remove (self->files, file->sha256);
}

/* Points @href at @file, detaching it from any other file (dropped if left without hrefs). */
static void
store_link_href (KithAliasStore *self, KithAliasFile *file, const gchar *href)
{
  KithAliasFile *old = g_hash_table_lookup (self->hrefs, href);

  if (old == file)
    return;
  if (old != NULL) {
    /* the table's key is the string in old->hrefs: unhook it before freeing that */
    g_hash_table_remove (self->hrefs, href);
    for (guint i = 0; i < old->hrefs->len; i++) {
      if (g_strcmp0 (g_ptr_array_index (old->hrefs, i), href) == 0) {
        g_ptr_array_remove_index (old->hrefs, i);
        break;
      }
    }
    if (old->hrefs->len == 0)
      store_drop_file (self, old, "its href now names other content");
  }
  g_ptr_array_add (file->hrefs, g_strdup (href));
  g_hash_table_insert (self->hrefs, g_ptr_array_index (file->hrefs, file->hrefs->len - 1), file);
}

/* The least recently used file other than @keep, or NULL. */
static KithAliasFile *
store_find_lru (KithAliasStore *self, const gchar *keep)
{
  GHashTableIter iter;
  KithAliasFile *file, *lru = NULL;

  g_hash_table_iter_init (&iter, self->files);
  while (g_hash_table_iter_next (&iter, NULL, (gpointer *) &file)) {
    if (g_strcmp0 (file->sha256, keep) == 0)
      continue;
    if (lru == NULL || file->last_access < lru->last_access)
      lru = file;
  }
  return lru;
}

/* Evicts LRU files until within budget; @keep (just added) is never evicted,
 * so a single file larger than the budget stays alone. Returns TRUE if any. */
static gboolean
store_evict (KithAliasStore *self, const gchar *keep)
{
  gboolean evicted = FALSE;

  while (self->max_bytes > 0 && self->total_bytes > self->max_bytes) {
    KithAliasFile *lru = store_find_lru (self, keep);
    if (lru == NULL)
      break;
    store_drop_file (self, lru, "evicted, over cache-max-mb");
    evicted = TRUE;
  }
  return evicted;
}

/* Drops every expired file; returns how many (the caller saves). */
static guint
store_drop_expired (KithAliasStore *self)
{
  g_autoptr (GPtrArray) expired = g_ptr_array_new ();
  gint64 now = store_now (self);
  GHashTableIter iter;
  KithAliasFile *file;

  g_hash_table_iter_init (&iter, self->files);
  while (g_hash_table_iter_next (&iter, NULL, (gpointer *) &file)) {
    if (file_is_expired (self, file, now))
      g_ptr_array_add (expired, file);
  }
  for (guint i = 0; i < expired->len; i++)
    store_drop_file (self, g_ptr_array_index (expired, i), "expired, over cache-max-age");
  return expired->len;
}

/* ------------------------------------------------------------ persistence */

/* The keys (sha256s) or the values (files) of @files, borrowed. */
static GPtrArray *
store_list (GHashTable *files, gboolean keys)
{
  GPtrArray *list = g_ptr_array_sized_new (g_hash_table_size (files));
  GHashTableIter iter;
  gpointer key, value;

  g_hash_table_iter_init (&iter, files);
  while (g_hash_table_iter_next (&iter, &key, &value))
    g_ptr_array_add (list, keys ? key : value);
  return list;
}

gboolean
kith_alias_store_save (KithAliasStore *self, GError **error)
{
  g_autoptr (GPtrArray) records = store_list (self->files, FALSE);

  g_return_val_if_fail (KITH_IS_ALIAS_STORE (self), FALSE);
  g_clear_handle_id (&self->save_id, g_source_remove);
  if (!kith_alias_index_save (self->index_path, records, error))
    return FALSE;
  self->dirty = FALSE;
  return TRUE;
}

/* Saves after a change; a failure is logged, the in-memory state stays authoritative. */
static void
store_changed (KithAliasStore *self)
{
  g_autoptr (GError) error = NULL;

  if (!kith_alias_store_save (self, &error))
    g_warning ("cannot save alias index %s: %s", self->index_path, error->message);
  g_signal_emit (self, signals[SIGNAL_CHANGED], 0);
}

static gboolean
save_timeout_cb (gpointer user_data)
{
  KithAliasStore *self = KITH_ALIAS_STORE (user_data);
  g_autoptr (GError) error = NULL;

  self->save_id = 0;
  if (self->dirty && !kith_alias_store_save (self, &error))
    g_warning ("cannot save alias index %s: %s", self->index_path, error->message);
  return G_SOURCE_REMOVE;
}

/* ------------------------------------------------------------- startup */

/* The index, checked against the files, and the content files it lost (adopted unverified,
 * with no href: served by sha256 until a fetch of their URL links them again). */
static void
store_load (KithAliasStore *self)
{
  gboolean stale = FALSE;
  g_autoptr (GPtrArray) records = kith_alias_recovery_load (self->cache_dir, self->index_path, &stale);
  g_autoptr (GPtrArray) strays = NULL;

  g_ptr_array_set_free_func (records, NULL);
  for (guint i = 0; i < records->len; i++)
    store_insert (self, g_ptr_array_index (records, i));
  if (stale)
    self->dirty = TRUE;
  if (store_drop_expired (self) > 0) /* by the wall clock: no test clock is set yet */
    self->dirty = TRUE;
  strays = kith_alias_recovery_scan_strays (self->cache_dir, self->files);
  g_ptr_array_set_free_func (strays, NULL);
  for (guint i = 0; i < strays->len; i++) {
    KithAliasFile *file = g_ptr_array_index (strays, i);
    file->created = store_now (self);
    file->last_access = 0; /* first to go when space is short */
    store_insert (self, file);
    self->dirty = TRUE;
  }
}

static void
store_verified (GObject *owner, GPtrArray *bad)
{
  KithAliasStore *self = KITH_ALIAS_STORE (owner);
  GHashTableIter iter;
  KithAliasFile *file;

  for (guint i = 0; i < bad->len; i++) {
    file = g_hash_table_lookup (self->files, g_ptr_array_index (bad, i));
    if (file != NULL && !file->verified) {
      g_message ("alias %s is corrupt, dropped", file->sha256);
      store_drop_file (self, file, "corrupt");
    }
  }
  /* anything still unverified was in the worker's list and is good, or was
   * re-committed meanwhile (and then already verified) */
  g_hash_table_iter_init (&iter, self->files);
  while (g_hash_table_iter_next (&iter, NULL, (gpointer *) &file))
    file->verified = TRUE;
  self->verifying = FALSE;
  store_changed (self);
}

static void
store_start_verify (KithAliasStore *self)
{
  g_autoptr (GPtrArray) sha256s = store_list (self->files, TRUE);

  self->verifying = TRUE;
  kith_alias_recovery_verify (self->cache_dir, sha256s, self->cancellable, store_verified,
                              G_OBJECT (self));
}

/* ------------------------------------------------------------ the GObject */

static void
kith_alias_store_dispose (GObject *object)
{
  KithAliasStore *self = KITH_ALIAS_STORE (object);

  g_cancellable_cancel (self->cancellable);
  g_clear_handle_id (&self->save_id, g_source_remove);
  if (self->dirty && self->files != NULL) {
    g_autoptr (GError) error = NULL;
    if (!kith_alias_store_save (self, &error))
      g_warning ("cannot save alias index: %s", error->message);
  }
  G_OBJECT_CLASS (kith_alias_store_parent_class)->dispose (object);
}

static void
kith_alias_store_finalize (GObject *object)
{
  KithAliasStore *self = KITH_ALIAS_STORE (object);

  g_hash_table_unref (self->hrefs);
  g_hash_table_unref (self->files);
  g_object_unref (self->cancellable);
  g_free (self->cache_dir);
  g_free (self->index_path);
  G_OBJECT_CLASS (kith_alias_store_parent_class)->finalize (object);
}

static void
kith_alias_store_class_init (KithAliasStoreClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->dispose = kith_alias_store_dispose;
  object_class->finalize = kith_alias_store_finalize;
  /* emitted after any entry appears, disappears or becomes visible */
  signals[SIGNAL_CHANGED] = g_signal_new ("changed", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST,
                                          0, NULL, NULL, NULL, G_TYPE_NONE, 0);
}

static void
kith_alias_store_init (KithAliasStore *self)
{
  self->files = g_hash_table_new_full (g_str_hash, g_str_equal, NULL,
                                       (GDestroyNotify) kith_alias_record_free);
  self->hrefs = g_hash_table_new (g_str_hash, g_str_equal);
  self->cancellable = g_cancellable_new ();
}

KithAliasStore *
kith_alias_store_new (const gchar *cache_dir, guint64 max_bytes, guint64 max_age_ms,
                      GError **error)
{
  g_autoptr (KithAliasStore) self = NULL;

  g_return_val_if_fail (cache_dir != NULL, NULL);
  if (g_mkdir_with_parents (cache_dir, 0755) != 0) {
    g_set_error (error, G_IO_ERROR, g_io_error_from_errno (errno), "cannot create %s: %s",
                 cache_dir, g_strerror (errno));
    return NULL;
  }
  self = g_object_new (KITH_TYPE_ALIAS_STORE, NULL);
  self->cache_dir = g_canonicalize_filename (cache_dir, NULL);
  self->index_path = g_build_filename (self->cache_dir, INDEX_NAME, NULL);
  self->max_bytes = max_bytes;
  self->max_age_ms = max_age_ms;
  store_load (self);
  if (self->dirty && !kith_alias_store_save (self, error))
    return NULL;
  if (g_hash_table_size (self->files) > 0)
    store_start_verify (self);
  return g_steal_pointer (&self);
}

void
kith_alias_store_set_clock (KithAliasStore *self, KithAliasClockFunc func, gpointer user_data)
{
  g_return_if_fail (KITH_IS_ALIAS_STORE (self));
  self->clock_func = func;
  self->clock_data = user_data;
}

gboolean
kith_alias_store_is_verifying (KithAliasStore *self)
{
  g_return_val_if_fail (KITH_IS_ALIAS_STORE (self), FALSE);
  return self->verifying;
}

const gchar *
kith_alias_store_get_cache_dir (KithAliasStore *self)
{
  g_return_val_if_fail (KITH_IS_ALIAS_STORE (self), NULL);
  return self->cache_dir;
}

/* ---------------------------------------------------------------- queries */

KithAliasEntry *
kith_alias_store_lookup_href (KithAliasStore *self, const gchar *href)
{
  KithAliasFile *file;

  g_return_val_if_fail (KITH_IS_ALIAS_STORE (self), NULL);
  g_return_val_if_fail (href != NULL, NULL);
  file = g_hash_table_lookup (self->hrefs, href);
  if (file == NULL || !file_is_visible (self, file))
    return NULL;
  return entry_for (self, file, href);
}

KithAliasEntry *
kith_alias_store_lookup_sha256 (KithAliasStore *self, const gchar *sha256)
{
  KithAliasFile *file;

  g_return_val_if_fail (KITH_IS_ALIAS_STORE (self), NULL);
  if (sha256 == NULL)
    return NULL;
  file = g_hash_table_lookup (self->files, sha256);
  if (file == NULL || !file_is_visible (self, file))
    return NULL;
  return entry_for (self, file, file->hrefs->len > 0 ? g_ptr_array_index (file->hrefs, 0) : NULL);
}

void
kith_alias_store_touch (KithAliasStore *self, const gchar *sha256)
{
  KithAliasFile *file;

  g_return_if_fail (KITH_IS_ALIAS_STORE (self));
  file = g_hash_table_lookup (self->files, sha256);
  if (file == NULL)
    return;
  file->last_access = store_now (self);
  self->dirty = TRUE;
  /* serving is hot: batch the writes of last-access */
  if (self->save_id == 0)
    self->save_id = g_timeout_add_seconds (SAVE_DELAY_S, save_timeout_cb, self);
}

gboolean
kith_alias_store_remove (KithAliasStore *self, const gchar *sha256, GError **error)
{
  KithAliasFile *file;

  g_return_val_if_fail (KITH_IS_ALIAS_STORE (self), FALSE);
  file = sha256 != NULL ? g_hash_table_lookup (self->files, sha256) : NULL;
  if (file == NULL) {
    g_set_error (error, KITH_PEERING_ERROR, KITH_PEERING_ERROR_NOT_FOUND,
                 "no alias %s in the store", sha256);
    return FALSE;
  }
  store_drop_file (self, file, "removed");
  store_changed (self);
  return TRUE;
}

guint
kith_alias_store_expire (KithAliasStore *self)
{
  guint n;

  g_return_val_if_fail (KITH_IS_ALIAS_STORE (self), 0);
  n = store_drop_expired (self);
  if (n > 0)
    store_changed (self);
  return n;
}

guint64
kith_alias_store_get_total_bytes (KithAliasStore *self)
{
  g_return_val_if_fail (KITH_IS_ALIAS_STORE (self), 0);
  return self->total_bytes;
}

static gint
entry_cmp_access (gconstpointer a, gconstpointer b)
{
  const KithAliasEntry *ea = *(const KithAliasEntry **) a;
  const KithAliasEntry *eb = *(const KithAliasEntry **) b;
  if (ea->last_access != eb->last_access)
    return ea->last_access < eb->last_access ? -1 : 1;
  return g_strcmp0 (ea->href, eb->href);
}

GPtrArray *
kith_alias_store_get_entries (KithAliasStore *self)
{
  GPtrArray *entries = g_ptr_array_new_with_free_func ((GDestroyNotify) kith_alias_entry_free);
  GHashTableIter iter;
  KithAliasFile *file;

  g_return_val_if_fail (KITH_IS_ALIAS_STORE (self), entries);
  g_hash_table_iter_init (&iter, self->files);
  while (g_hash_table_iter_next (&iter, NULL, (gpointer *) &file)) {
    if (!file_is_visible (self, file))
      continue;
    for (guint i = 0; i < file->hrefs->len; i++)
      g_ptr_array_add (entries, entry_for (self, file, g_ptr_array_index (file->hrefs, i)));
  }
  g_ptr_array_sort (entries, entry_cmp_access);
  return entries;
}

/* ---------------------------------------------------------------- writing */

/* The writer's commit: the checked temp file becomes <sha256> and @href points at it. */
static KithAliasEntry *
store_publish (GObject *owner, const gchar *tmp_path, const gchar *href, const gchar *digest,
               guint64 size, KithAliasTrust trust, GError **error)
{
  KithAliasStore *self = KITH_ALIAS_STORE (owner);
  g_autofree gchar *path = file_path (self, digest);
  KithAliasFile *file;
  gint64 now;

  if (g_rename (tmp_path, path) != 0) {
    g_set_error (error, G_IO_ERROR, g_io_error_from_errno (errno), "cannot rename %s to %s: %s",
                 tmp_path, path, g_strerror (errno));
    return NULL;
  }
  file = g_hash_table_lookup (self->files, digest);
  if (file == NULL) {
    file = store_insert_file (self, digest, size);
    file->trust = trust;
  } else if (file->hrefs->len == 1 && g_strcmp0 (g_ptr_array_index (file->hrefs, 0), href) == 0) {
    file->trust = MAX (file->trust, trust); /* the same copy verified again */
  } else {
    file->trust = MIN (file->trust, trust); /* one record for every href: the weakest holds */
  }
  now = store_now (self);
  file->created = now;
  file->last_access = now;
  file->verified = TRUE;
  store_link_href (self, file, href);
  /* expired copies are invisible already; reclaim their space before evicting live ones */
  store_drop_expired (self);
  store_evict (self, digest);
  store_changed (self);
  g_debug ("stored %s as %s (%" G_GUINT64_FORMAT " bytes)", href, digest, size);
  return entry_for (self, file, href);
}

KithAliasWriter *
kith_alias_store_begin (KithAliasStore *self, const gchar *href, const gchar *expected_sha256,
                        guint64 expected_size, GError **error)
{
  g_return_val_if_fail (KITH_IS_ALIAS_STORE (self), NULL);
  return kith_alias_writer_new (self->cache_dir, href, expected_sha256, expected_size,
                                store_publish, G_OBJECT (self), error);
}

KithAliasEntry *
kith_alias_store_add_file (KithAliasStore *self, const gchar *href, const gchar *path,
                           const gchar *expected_sha256, GError **error)
{
  g_autoptr (GFile) gfile = g_file_new_for_path (path);
  g_autoptr (GFileInputStream) stream = NULL;
  g_autoptr (KithAliasWriter) writer = NULL;
  g_autofree guint8 *buf = g_malloc (COPY_BUFFER_SIZE);

  g_return_val_if_fail (KITH_IS_ALIAS_STORE (self), NULL);
  stream = g_file_read (gfile, NULL, error);
  if (stream == NULL)
    return NULL;
  writer = kith_alias_store_begin (self, href, expected_sha256, 0, error);
  if (writer == NULL)
    return NULL;
  kith_alias_writer_set_trust (writer, expected_sha256 != NULL ? KITH_ALIAS_TRUST_HASH : KITH_ALIAS_TRUST_LAN);
  for (;;) {
    gssize n = g_input_stream_read (G_INPUT_STREAM (stream), buf, COPY_BUFFER_SIZE, NULL, error);
    if (n < 0)
      return NULL;
    if (n == 0)
      break;
    if (!kith_alias_writer_write (writer, buf, (gsize) n, error))
      return NULL;
  }
  return kith_alias_writer_commit (writer, error);
}
