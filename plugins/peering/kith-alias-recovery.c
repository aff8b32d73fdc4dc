/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* kith-alias-recovery.c — healing the alias store's directory at startup
 *
 * After a crash, a full disk or a hand that edited the cache, the index and the files may
 * disagree. Only what the files say is believed: a record whose file is gone or has another
 * size is dropped at once, a content file the index lost is adopted, partial writes are
 * deleted, and every file is re-hashed in a worker thread before the store shows it. The
 * store owns the table; this file only reads the directory and reports what it found.
 */
#include "kith-alias-recovery.h"

#include <errno.h>

#include <glib/gstdio.h>

#include "kith-alias-verifier.h"
#include "kith-alias-writer.h"
#include "kith-hex.h"

/* Keeps of @record's hrefs those no record before it claimed (@claimed: href → itself,
 * borrowed from the records kept); FALSE when none is left. */
static gboolean
claim_hrefs (KithAliasRecord *record, GHashTable *claimed)
{
  for (guint i = 0; i < record->hrefs->len;) {
    const gchar *href = g_ptr_array_index (record->hrefs, i);

    if (g_hash_table_contains (claimed, href)) {
      g_ptr_array_remove_index (record->hrefs, i);
      continue;
    }
    g_hash_table_add (claimed, (gpointer) href);
    i++;
  }
  return record->hrefs->len > 0;
}

/* Checks one index record (taken) against its file; the record, or NULL if it is dropped. */
static KithAliasRecord *
load_one (const gchar *dir, KithAliasRecord *record, GHashTable *claimed, gboolean *stale)
{
  g_autofree gchar *path = g_build_filename (dir, record->sha256, NULL);
  GStatBuf st;

  if (g_stat (path, &st) != 0 || (guint64) st.st_size != record->size) {
    g_message ("alias index: %s is missing or has the wrong size, dropped", record->sha256);
    g_unlink (path);
    *stale = TRUE;
    kith_alias_record_free (record);
    return NULL;
  }
  if (!claim_hrefs (record, claimed)) {
    g_debug ("dropping %s (no usable href)", record->sha256);
    if (g_unlink (path) != 0 && errno != ENOENT)
      g_warning ("cannot delete %s: %s", path, g_strerror (errno));
    kith_alias_record_free (record);
    return NULL;
  }
  return record;
}

GPtrArray *
kith_alias_recovery_load (const gchar *dir, const gchar *index_path, gboolean *stale)
{
  gboolean damaged = FALSE;
  g_autoptr (GPtrArray) records = kith_alias_index_load (index_path, &damaged);
  g_autoptr (GHashTable) claimed = g_hash_table_new (g_str_hash, g_str_equal);
  GPtrArray *kept = g_ptr_array_new_with_free_func ((GDestroyNotify) kith_alias_record_free);

  g_ptr_array_set_free_func (records, NULL);
  for (guint i = 0; i < records->len; i++) {
    KithAliasRecord *record = load_one (dir, g_ptr_array_index (records, i), claimed, stale);
    if (record != NULL)
      g_ptr_array_add (kept, record);
  }
  return kept;
}

GPtrArray *
kith_alias_recovery_scan_strays (const gchar *dir, GHashTable *known)
{
  GPtrArray *strays = g_ptr_array_new_with_free_func ((GDestroyNotify) kith_alias_record_free);
  g_autoptr (GDir) gdir = g_dir_open (dir, 0, NULL);
  const gchar *name;

  if (gdir == NULL)
    return strays;
  while ((name = g_dir_read_name (gdir)) != NULL) {
    g_autofree gchar *path = g_build_filename (dir, name, NULL);
    GStatBuf st;

    if (g_str_has_prefix (name, KITH_ALIAS_WRITER_PARTIAL_PREFIX)) {
      g_debug ("removing stray %s", path);
      g_unlink (path);
    } else if (kith_hex_is_valid (name, 64, 64) && !g_hash_table_contains (known, name)) {
      /* a damaged index, or a crash before it was saved: the re-hash keeps the file
       * only if its bytes match its name */
      if (g_stat (path, &st) != 0 || !S_ISREG (st.st_mode)) {
        g_unlink (path);
        continue;
      }
      g_message ("alias %s is not in the index: adopted, to be re-hashed", name);
      g_ptr_array_add (strays, kith_alias_record_new (name, (guint64) st.st_size));
    }
  }
  return strays;
}

typedef struct {
  GWeakRef owner;
  KithAliasRecoveryVerifiedFunc done;
} VerifyCall;

static void
verify_done_cb (GObject *source, GAsyncResult *res, gpointer user_data)
{
  VerifyCall *call = user_data;
  g_autoptr (GObject) owner = g_weak_ref_get (&call->owner);
  g_autoptr (GPtrArray) bad = kith_alias_verifier_run_finish (res, NULL);
  KithAliasRecoveryVerifiedFunc done = call->done;

  g_weak_ref_clear (&call->owner);
  g_free (call);
  if (owner == NULL || bad == NULL)
    return;
  done (owner, bad);
}

void
kith_alias_recovery_verify (const gchar *dir, GPtrArray *sha256s, GCancellable *cancellable,
                            KithAliasRecoveryVerifiedFunc done, GObject *owner)
{
  VerifyCall *call;

  g_return_if_fail (done != NULL && G_IS_OBJECT (owner));
  call = g_new0 (VerifyCall, 1);
  g_weak_ref_init (&call->owner, owner);
  call->done = done;
  kith_alias_verifier_run_async (dir, sha256s, cancellable, verify_done_cb, call);
}
