/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* kith-partial-table.c — the partial copies served by token, bounded */
#include "kith-partial-table.h"

struct _KithPartialTable {
  GHashTable *copies; /* token → KithPartialTableSlot* */
  guint linger_ms;
  guint64 next_serial;
};

typedef struct {
  KithPartialTable *table;
  KithPartialCopy *copy;
  guint64 serial; /* age order */
  gulong changed_id;
  guint linger_id;
} KithPartialTableSlot;

static void
kith_partial_table_slot_free (KithPartialTableSlot *slot)
{
  if (slot->linger_id != 0)
    g_source_remove (slot->linger_id);
  g_signal_handler_disconnect (slot->copy, slot->changed_id);
  g_object_unref (slot->copy);
  g_free (slot);
}

KithPartialTable *
kith_partial_table_new (guint linger_ms)
{
  KithPartialTable *self = g_new0 (KithPartialTable, 1);

  self->linger_ms = linger_ms;
  self->copies = g_hash_table_new_full (g_str_hash, g_str_equal, g_free,
                                        (GDestroyNotify) kith_partial_table_slot_free);
  return self;
}

void
kith_partial_table_free (KithPartialTable *self)
{
  if (self == NULL)
    return;
  g_hash_table_unref (self->copies);
  g_free (self);
}

static gboolean
kith_partial_table_linger_done (gpointer user_data)
{
  KithPartialTableSlot *slot = user_data;

  slot->linger_id = 0;
  g_hash_table_remove (slot->table->copies, kith_partial_copy_get_token (slot->copy));
  return G_SOURCE_REMOVE;
}

static void
kith_partial_table_copy_changed (KithPartialCopy *copy, KithPartialTableSlot *slot)
{
  switch (kith_partial_copy_get_state (copy)) {
  case KITH_PARTIAL_COPY_FAILED:
    if (slot->linger_id == 0)
      slot->linger_id = g_idle_add (kith_partial_table_linger_done, slot);
    break;
  case KITH_PARTIAL_COPY_COMPLETE:
    if (slot->linger_id == 0)
      slot->linger_id = g_timeout_add (slot->table->linger_ms, kith_partial_table_linger_done, slot);
    break;
  default:
    break;
  }
}

/* Keeps the table within its bound: the oldest finished copy goes, else the oldest. */
static void
kith_partial_table_make_room (KithPartialTable *self)
{
  GHashTableIter iter;
  KithPartialTableSlot *slot, *victim = NULL;

  if (g_hash_table_size (self->copies) < KITH_PARTIAL_TABLE_MAX)
    return;
  g_hash_table_iter_init (&iter, self->copies);
  while (g_hash_table_iter_next (&iter, NULL, (gpointer *) &slot)) {
    gboolean finished = kith_partial_copy_get_state (slot->copy) != KITH_PARTIAL_COPY_GROWING;
    gboolean victim_finished = victim != NULL &&
                               kith_partial_copy_get_state (victim->copy) != KITH_PARTIAL_COPY_GROWING;
    if (victim == NULL || (finished && !victim_finished) ||
        (finished == victim_finished && slot->serial < victim->serial))
      victim = slot;
  }
  g_hash_table_remove (self->copies, kith_partial_copy_get_token (victim->copy));
}

void
kith_partial_table_add (KithPartialTable *self, KithPartialCopy *copy)
{
  KithPartialTableSlot *slot;

  g_return_if_fail (KITH_IS_PARTIAL_COPY (copy));
  kith_partial_table_make_room (self);
  slot = g_new0 (KithPartialTableSlot, 1);
  slot->table = self;
  slot->copy = g_object_ref (copy);
  slot->serial = self->next_serial++;
  slot->changed_id = g_signal_connect (copy, "changed", G_CALLBACK (kith_partial_table_copy_changed), slot);
  g_hash_table_replace (self->copies, g_strdup (kith_partial_copy_get_token (copy)), slot);
  kith_partial_table_copy_changed (copy, slot);
}

KithPartialCopy *
kith_partial_table_lookup (KithPartialTable *self, const gchar *token)
{
  KithPartialTableSlot *slot = token != NULL ? g_hash_table_lookup (self->copies, token) : NULL;

  return slot != NULL ? g_object_ref (slot->copy) : NULL;
}

guint
kith_partial_table_get_size (KithPartialTable *self)
{
  return g_hash_table_size (self->copies);
}
