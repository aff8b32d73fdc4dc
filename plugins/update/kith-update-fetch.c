/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* kith-update-fetch.c — one transfer per file of a check, each checked against the catalog */
#include "kith-update-fetch.h"

#include "kith-update-error.h"

#include <glib/gstdio.h>

struct _KithUpdateFetch {
  KithCatalog *catalog; /* borrowed: the run's */
  GPtrArray *transfers; /* KithTransfer */
  GHashTable *sources;  /* name → verified path in peering's cache */
  GHashTable *names;    /* KithTransfer → name (borrowed from catalog) */
  guint pending;
  gboolean ended; /* @done was called */
  KithUpdateFetchProgress progress;
  KithUpdateFetchDone done;
  gpointer user_data;
};

KithUpdateFetch *
kith_update_fetch_new (KithFetcher *fetcher, const gchar *base_url, GPtrArray *files, KithCatalog *catalog)
{
  KithUpdateFetch *self = g_new0 (KithUpdateFetch, 1);

  self->catalog = catalog;
  self->transfers = g_ptr_array_new_with_free_func (g_object_unref);
  self->sources = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
  self->names = g_hash_table_new (g_direct_hash, g_direct_equal);
  for (guint i = 0; i < files->len; i++) {
    KithCatalogFile *entry = g_ptr_array_index (files, i);
    g_autofree gchar *url = NULL;
    KithTransfer *transfer;

    url = g_strconcat (base_url, g_str_has_suffix (base_url, "/") && entry->url[0] == '/' ? entry->url + 1
                                                                                          : entry->url, NULL);
    transfer = kith_fetcher_fetch_pieces (fetcher, url, entry->sha256, entry->size, entry->pieces,
                                          KITH_FETCH_FLAG_NONE);
    g_ptr_array_add (self->transfers, transfer);
    g_hash_table_insert (self->names, transfer, entry->name);
    self->pending++;
  }
  return self;
}

guint
kith_update_fetch_get_count (KithUpdateFetch *self)
{
  return self->transfers->len;
}

GHashTable *
kith_update_fetch_get_sources (KithUpdateFetch *self)
{
  return self->sources;
}

static void
kith_update_fetch_transfer_notify (KithTransfer *transfer, GParamSpec *pspec, KithUpdateFetch *self)
{
  const gchar *name = g_hash_table_lookup (self->names, transfer);
  const gchar *source = kith_transfer_get_source (transfer);

  if (kith_transfer_is_finished (transfer))
    return; /* reported once verified */
  self->progress (name, source != NULL ? source : "", kith_transfer_get_bytes_done (transfer),
                  kith_transfer_get_bytes_total (transfer), self->user_data);
}

/* The size on disk, which the catalog must match before the installer even looks. */
static gboolean
kith_update_fetch_check_size (KithTransfer *transfer, const KithCatalogFile *entry, GError **error)
{
  GStatBuf st;

  if (g_strcmp0 (kith_transfer_get_sha256 (transfer), entry->sha256) != 0) {
    g_set_error (error, KITH_UPDATE_ERROR, KITH_UPDATE_ERROR_FILE,
                 "%s: sha256 %s where the catalog says %s", entry->name,
                 kith_transfer_get_sha256 (transfer), entry->sha256);
    return FALSE;
  }
  if (g_stat (kith_transfer_get_path (transfer), &st) != 0 || (guint64) st.st_size != entry->size) {
    g_set_error (error, KITH_UPDATE_ERROR, KITH_UPDATE_ERROR_FILE,
                 "%s: the fetched file is not the %" G_GUINT64_FORMAT " bytes the catalog says",
                 entry->name, entry->size);
    return FALSE;
  }
  return TRUE;
}

static void
kith_update_fetch_transfer_finished (KithTransfer *transfer, KithUpdateFetch *self)
{
  const gchar *name = g_hash_table_lookup (self->names, transfer);
  const KithCatalogFile *entry = kith_catalog_get_file (self->catalog, name);
  g_autoptr (GError) error = NULL;

  self->pending--;
  if (kith_transfer_get_state (transfer) == KITH_TRANSFER_STATE_FAILED) {
    error = g_error_new (KITH_UPDATE_ERROR, KITH_UPDATE_ERROR_FILE, "%s: %s", name,
                         kith_transfer_get_error (transfer)->message);
  } else if (kith_update_fetch_check_size (transfer, entry, &error)) {
    g_hash_table_insert (self->sources, g_strdup (name), g_strdup (kith_transfer_get_path (transfer)));
    const gchar *source = kith_transfer_get_source (transfer);
    self->progress (name, source != NULL ? source : "", entry->size, entry->size, self->user_data);
  }
  if (error != NULL) {
    /* one bad file fails the set: stop the others, keep the installed set */
    kith_update_fetch_cancel (self);
    self->ended = TRUE;
    self->done (error, self->user_data);
    return;
  }
  if (self->pending == 0) {
    self->ended = TRUE;
    self->done (NULL, self->user_data);
  }
}

void
kith_update_fetch_start (KithUpdateFetch *self, KithUpdateFetchProgress progress, KithUpdateFetchDone done,
                         gpointer user_data)
{
  self->progress = progress;
  self->done = done;
  self->user_data = user_data;
  /* connect only now: a transfer served from the cache may finish at once */
  for (guint i = 0; i < self->transfers->len; i++) {
    KithTransfer *transfer = g_ptr_array_index (self->transfers, i);
    g_signal_connect (transfer, "notify", G_CALLBACK (kith_update_fetch_transfer_notify), self);
    g_signal_connect (transfer, "finished", G_CALLBACK (kith_update_fetch_transfer_finished), self);
  }
  for (guint i = 0; i < self->transfers->len; i++) {
    KithTransfer *transfer = g_ptr_array_index (self->transfers, i);
    if (kith_transfer_is_finished (transfer)) {
      g_signal_handlers_disconnect_by_data (transfer, self);
      kith_update_fetch_transfer_finished (transfer, self);
      if (self->ended)
        return; /* failed, or every file is in */
    }
  }
}

void
kith_update_fetch_detach (KithUpdateFetch *self)
{
  for (guint i = 0; i < self->transfers->len; i++)
    g_signal_handlers_disconnect_by_data (g_ptr_array_index (self->transfers, i), self);
}

void
kith_update_fetch_cancel (KithUpdateFetch *self)
{
  for (guint i = 0; i < self->transfers->len; i++) {
    KithTransfer *transfer = g_ptr_array_index (self->transfers, i);
    g_signal_handlers_disconnect_by_data (transfer, self);
    kith_transfer_cancel (transfer);
  }
}

void
kith_update_fetch_free (KithUpdateFetch *self)
{
  if (self == NULL)
    return;
  kith_update_fetch_detach (self);
  g_ptr_array_unref (self->transfers);
  g_hash_table_unref (self->sources);
  g_hash_table_unref (self->names);
  g_free (self);
}
