/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* kith-resume-table.c — broken downloads kept for the next attempt at the same file
 *
 * A kept point holds a temporary file in the store's directory: the bound in number keeps
 * what a LAN of faulty peers can make us hold to KITH_RESUME_TABLE_MAX partial files, and
 * the one in time deletes those nobody came back for.
 */
#include "kith-resume-table.h"

#include <string.h>

typedef struct {
  gchar *key;
  KithResumePoint *point;
  gint64 kept_us;
} KithResumeEntry;

struct _KithResumeTable {
  GPtrArray *entries; /* KithResumeEntry*, oldest first */
  guint keep_ms;
  guint expire_id;
};

KithResumePoint *
kith_resume_point_new (KithAliasWriter *writer)
{
  KithResumePoint *point = g_new0 (KithResumePoint, 1);

  point->writer = writer;
  point->span_nodes = g_ptr_array_new_with_free_func (g_free);
  point->span_ends = g_array_new (FALSE, FALSE, sizeof (guint64));
  return point;
}

void
kith_resume_point_free (KithResumePoint *point)
{
  if (point == NULL)
    return;
  kith_alias_writer_free (point->writer);
  g_ptr_array_unref (point->span_nodes);
  g_array_unref (point->span_ends);
  g_free (point);
}

static void
kith_resume_entry_free (KithResumeEntry *entry)
{
  kith_resume_point_free (entry->point);
  g_free (entry->key);
  g_free (entry);
}

/* The URL, the lower-case hash and the size: another version of the file is another key. */
static gchar *
kith_resume_table_key (const gchar *href, const gchar *sha256, guint64 size)
{
  g_autofree gchar *lower = g_ascii_strdown (sha256, -1);

  return g_strdup_printf ("%s\n%s\n%" G_GUINT64_FORMAT, lower, href, size);
}

KithResumeTable *
kith_resume_table_new (guint keep_ms)
{
  KithResumeTable *self = g_new0 (KithResumeTable, 1);

  self->entries = g_ptr_array_new_with_free_func ((GDestroyNotify) kith_resume_entry_free);
  self->keep_ms = keep_ms;
  return self;
}

void
kith_resume_table_free (KithResumeTable *self)
{
  if (self == NULL)
    return;
  g_clear_handle_id (&self->expire_id, g_source_remove);
  g_ptr_array_unref (self->entries);
  g_free (self);
}

guint
kith_resume_table_get_count (KithResumeTable *self)
{
  return self->entries->len;
}

static void kith_resume_table_schedule (KithResumeTable *self);

/* The points nobody came back for in time go, and their files with them. */
static gboolean
kith_resume_table_expire (gpointer user_data)
{
  KithResumeTable *self = user_data;
  gint64 now = g_get_monotonic_time ();

  self->expire_id = 0;
  while (self->entries->len > 0) {
    KithResumeEntry *oldest = g_ptr_array_index (self->entries, 0);
    if (now - oldest->kept_us < (gint64) self->keep_ms * 1000)
      break;
    g_debug ("dropping the %" G_GUINT64_FORMAT " bytes kept of a broken download: nobody came back for them",
             kith_alias_writer_get_size (oldest->point->writer));
    g_ptr_array_remove_index (self->entries, 0);
  }
  kith_resume_table_schedule (self);
  return G_SOURCE_REMOVE;
}

static void
kith_resume_table_schedule (KithResumeTable *self)
{
  KithResumeEntry *oldest;
  gint64 due_us;

  g_clear_handle_id (&self->expire_id, g_source_remove);
  if (self->entries->len == 0)
    return;
  oldest = g_ptr_array_index (self->entries, 0);
  due_us = oldest->kept_us + (gint64) self->keep_ms * 1000 - g_get_monotonic_time ();
  self->expire_id = g_timeout_add ((guint) CLAMP (due_us / 1000 + 1, 1, (gint64) self->keep_ms + 1),
                                   kith_resume_table_expire, self);
}

/* The index of @key's entry (@prefix: of the first whose key begins with it), or -1. */
static gint
kith_resume_table_find (KithResumeTable *self, const gchar *key, gboolean prefix)
{
  for (guint i = 0; i < self->entries->len; i++) {
    KithResumeEntry *entry = g_ptr_array_index (self->entries, i);
    if (prefix ? g_str_has_prefix (entry->key, key) : g_strcmp0 (entry->key, key) == 0)
      return (gint) i;
  }
  return -1;
}

void
kith_resume_table_park (KithResumeTable *self, const gchar *href, const gchar *sha256, guint64 size,
                        KithResumePoint *point)
{
  KithResumeEntry *entry = g_new0 (KithResumeEntry, 1);
  gint old;

  entry->key = kith_resume_table_key (href, sha256, size);
  point->size = size;
  entry->point = point;
  entry->kept_us = g_get_monotonic_time ();
  if ((old = kith_resume_table_find (self, entry->key, FALSE)) >= 0)
    g_ptr_array_remove_index (self->entries, (guint) old);
  if (self->entries->len >= KITH_RESUME_TABLE_MAX)
    g_ptr_array_remove_index (self->entries, 0);
  g_ptr_array_add (self->entries, entry);
  kith_resume_table_schedule (self);
}

KithResumePoint *
kith_resume_table_take (KithResumeTable *self, const gchar *href, const gchar *sha256, guint64 size)
{
  g_autofree gchar *key = NULL;
  KithResumeEntry *entry;
  KithResumePoint *point;
  gint index;

  if (sha256 == NULL)
    return NULL;
  key = kith_resume_table_key (href, sha256, size);
  /* of any size: the key up to its size */
  if (size == 0)
    key[strlen (key) - 1] = '\0';
  if ((index = kith_resume_table_find (self, key, size == 0)) < 0)
    return NULL;
  entry = g_ptr_array_steal_index (self->entries, (guint) index);
  point = g_steal_pointer (&entry->point);
  g_free (entry->key);
  g_free (entry);
  kith_resume_table_schedule (self);
  return point;
}
