/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* kith-upload-blacklist.c — the persisted, expiring blacklist */
#include "kith-upload-blacklist.h"

#include <json-glib/json-glib.h>
#include <string.h>

#include "kith-crypto.h"
#include "kith-file.h"
#include "kith-json.h"

/* 16 × (32 + 1 + 21 + 1 + 120 + 1) < 4096 */
#define KITH_BLACKLIST_HEADER_ENTRIES 16

struct _KithUploadBlacklist {
  gchar *path;
  gint64 ttl;
  GPtrArray *entries; /* KithBlacklistEntry* */
};

static void
kith_upload_blacklist_entry_free (KithBlacklistEntry *entry)
{
  g_free (entry->node);
  g_free (entry->address);
  g_free (entry->reason);
  g_free (entry);
}

static void
kith_upload_blacklist_load (KithUploadBlacklist *self)
{
  g_autoptr (JsonParser) parser = json_parser_new ();
  g_autoptr (GError) error = NULL;
  JsonArray *array;

  if (!g_file_test (self->path, G_FILE_TEST_EXISTS))
    return;
  if (!json_parser_load_from_file (parser, self->path, &error) ||
      !JSON_NODE_HOLDS_ARRAY (json_parser_get_root (parser))) {
    g_warning ("%s: unreadable blacklist, starting empty: %s", self->path,
               error != NULL ? error->message : "not a JSON array");
    return;
  }
  array = json_node_get_array (json_parser_get_root (parser));
  for (guint i = 0; i < json_array_get_length (array); i++) {
    JsonNode *element = json_array_get_element (array, i);
    JsonObject *obj = JSON_NODE_HOLDS_OBJECT (element) ? json_node_get_object (element) : NULL;
    const gchar *node = obj != NULL ? json_object_get_string_member_with_default (obj, "node", NULL) : NULL;
    const gchar *reason = obj != NULL ? json_object_get_string_member_with_default (obj, "reason", NULL) : NULL;
    KithBlacklistEntry *entry;
    if (node == NULL || reason == NULL)
      continue;
    entry = g_new0 (KithBlacklistEntry, 1);
    entry->node = g_strdup (node);
    entry->address = g_strdup (json_object_get_string_member_with_default (obj, "address", NULL));
    entry->reason = g_strdup (reason);
    entry->since = json_object_get_int_member_with_default (obj, "since", 0);
    entry->until = json_object_get_int_member_with_default (obj, "until", 0);
    g_ptr_array_add (self->entries, entry);
  }
  /* the file lists the oldest first: keep the newest */
  if (self->entries->len > KITH_UPLOAD_BLACKLIST_MAX)
    g_ptr_array_remove_range (self->entries, 0, self->entries->len - KITH_UPLOAD_BLACKLIST_MAX);
}

static gboolean
kith_upload_blacklist_save (KithUploadBlacklist *self, GError **error)
{
  g_autoptr (JsonBuilder) builder = json_builder_new ();
  g_autofree gchar *text = NULL;
  gsize len = 0;

  json_builder_begin_array (builder);
  for (guint i = 0; i < self->entries->len; i++) {
    KithBlacklistEntry *entry = g_ptr_array_index (self->entries, i);
    json_builder_begin_object (builder);
    kith_json_add_string (builder, "node", entry->node);
    if (entry->address != NULL) {
      kith_json_add_string (builder, "address", entry->address);
    }
    kith_json_add_string (builder, "reason", entry->reason);
    kith_json_add_int (builder, "since", entry->since);
    kith_json_add_int (builder, "until", entry->until);
    json_builder_end_object (builder);
  }
  json_builder_end_array (builder);
  text = kith_json_builder_to_data (builder, TRUE, &len);
  return kith_file_write_atomic (self->path, text, len, 0644, error);
}

KithUploadBlacklist *
kith_upload_blacklist_new (const gchar *path, gint64 ttl)
{
  KithUploadBlacklist *self = g_new0 (KithUploadBlacklist, 1);

  self->path = g_strdup (path);
  self->ttl = ttl;
  self->entries = g_ptr_array_new_with_free_func ((GDestroyNotify) kith_upload_blacklist_entry_free);
  kith_upload_blacklist_load (self);
  return self;
}

void
kith_upload_blacklist_free (KithUploadBlacklist *self)
{
  if (self == NULL)
    return;
  g_ptr_array_unref (self->entries);
  g_free (self->path);
  g_free (self);
}

/* The entry for exactly (@node, @address). */
static KithBlacklistEntry *
kith_upload_blacklist_find (KithUploadBlacklist *self, const gchar *node, const gchar *address)
{
  for (guint i = 0; i < self->entries->len; i++) {
    KithBlacklistEntry *entry = g_ptr_array_index (self->entries, i);
    if (g_strcmp0 (entry->node, node) == 0 && g_strcmp0 (entry->address, address) == 0)
      return entry;
  }
  return NULL;
}

/* Makes room: the entry blacklisted longest ago goes. */
static void
kith_upload_blacklist_evict_oldest (KithUploadBlacklist *self)
{
  guint oldest = 0;

  for (guint i = 1; i < self->entries->len; i++) {
    KithBlacklistEntry *entry = g_ptr_array_index (self->entries, i);
    if (entry->since < ((KithBlacklistEntry *) g_ptr_array_index (self->entries, oldest))->since)
      oldest = i;
  }
  if (self->entries->len > 0)
    g_ptr_array_remove_index (self->entries, oldest);
}

gboolean
kith_upload_blacklist_add (KithUploadBlacklist *self, const gchar *node, const gchar *address, const gchar *reason,
                           gint64 now, GError **error)
{
  KithBlacklistEntry *entry = kith_upload_blacklist_find (self, node, address);

  /* expired entries are dropped when the file is next written */
  for (guint i = self->entries->len; i > 0; i--) {
    KithBlacklistEntry *old = g_ptr_array_index (self->entries, i - 1);
    if (old != entry && old->until <= now)
      g_ptr_array_remove_index (self->entries, i - 1);
  }
  if (entry == NULL) {
    if (self->entries->len >= KITH_UPLOAD_BLACKLIST_MAX)
      kith_upload_blacklist_evict_oldest (self);
    entry = g_new0 (KithBlacklistEntry, 1);
    entry->node = g_strdup (node);
    entry->address = g_strdup (address);
    g_ptr_array_add (self->entries, entry);
  }
  g_free (entry->reason);
  entry->reason = g_strdup (reason);
  entry->since = now;
  entry->until = now + self->ttl;
  g_message ("blacklisted node %s%s%s until %" G_GINT64_FORMAT ": %s", node, address != NULL ? " at " : "",
             address != NULL ? address : "", entry->until, reason);
  return kith_upload_blacklist_save (self, error);
}

gboolean
kith_upload_blacklist_contains (KithUploadBlacklist *self, const gchar *node, const gchar *address, gint64 now)
{
  for (guint i = 0; i < self->entries->len; i++) {
    KithBlacklistEntry *entry = g_ptr_array_index (self->entries, i);
    if (g_strcmp0 (entry->node, node) == 0 && entry->until > now &&
        (entry->address == NULL || g_strcmp0 (entry->address, address) == 0))
      return TRUE;
  }
  return FALSE;
}

GPtrArray *
kith_upload_blacklist_list (KithUploadBlacklist *self, gint64 now)
{
  GPtrArray *live = g_ptr_array_new ();

  for (guint i = 0; i < self->entries->len; i++) {
    KithBlacklistEntry *entry = g_ptr_array_index (self->entries, i);
    if (entry->until > now)
      g_ptr_array_add (live, entry);
  }
  return live;
}

gchar *
kith_upload_blacklist_to_header (KithUploadBlacklist *self, gint64 now)
{
  g_autoptr (GPtrArray) live = kith_upload_blacklist_list (self, now);
  GString *header;

  if (live->len == 0)
    return NULL;
  header = g_string_new (NULL);
  /* newest last; a bounded header (the backend takes up to 4096 bytes): the oldest go first */
  for (guint i = live->len > KITH_BLACKLIST_HEADER_ENTRIES ? live->len - KITH_BLACKLIST_HEADER_ENTRIES : 0;
       i < live->len; i++) {
    KithBlacklistEntry *entry = g_ptr_array_index (live, i);
    g_autofree gchar *reason = g_strdup (entry->reason);
    g_strdelimit (reason, ";=\r\n", ' ');
    if (g_utf8_validate (reason, -1, NULL) && g_utf8_strlen (reason, -1) > 120)
      *g_utf8_offset_to_pointer (reason, 120) = '\0';
    g_string_append_printf (header, "%s%s%s%s=%s", header->len > 0 ? ";" : "", entry->node, entry->address != NULL ? "@" : "",
                            entry->address != NULL ? entry->address : "", reason);
  }
  return g_string_free (header, FALSE);
}
