/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* kith-alias-index.c — reading and writing index.json; it knows the format, not the store */
#include "kith-alias-index.h"

#include <json-glib/json-glib.h>

#include "kith-hex.h"
#include "kith-json.h"

#define INDEX_VERSION 1

KithAliasRecord *
kith_alias_record_new (const gchar *sha256, guint64 size)
{
  KithAliasRecord *record = g_new0 (KithAliasRecord, 1);
  record->sha256 = g_strdup (sha256);
  record->size = size;
  record->hrefs = g_ptr_array_new_with_free_func (g_free);
  return record;
}

void
kith_alias_record_free (KithAliasRecord *record)
{
  if (record == NULL)
    return;
  g_free (record->sha256);
  g_ptr_array_unref (record->hrefs);
  g_free (record);
}

/* The integer member @name, or @fallback if absent or of another type. */
static gint64
json_get_int (JsonObject *obj, const gchar *name, gint64 fallback)
{
  gint64 value = fallback;
  kith_json_get_int (obj, name, &value);
  return value;
}

/* One record, or NULL if malformed. */
static KithAliasRecord *
record_from_json (JsonObject *obj)
{
  const gchar *sha256 = kith_json_get_string (obj, "sha256");
  gint64 size = json_get_int (obj, "size", -1);
  JsonNode *hrefs_node = json_object_get_member (obj, "hrefs");
  JsonArray *hrefs = hrefs_node != NULL && JSON_NODE_HOLDS_ARRAY (hrefs_node)
                         ? json_node_get_array (hrefs_node)
                         : NULL;
  KithAliasRecord *record;

  /* kith writes every sha256 lower-case (kith-hex.h), and the files are named by it: a
   * record spelt otherwise was not written by kith and is malformed like any other */
  if (!kith_hex_is_valid (sha256, 64, 64) || size < 0 || hrefs == NULL || json_array_get_length (hrefs) == 0)
    return NULL;
  record = kith_alias_record_new (sha256, (guint64) size);
  record->created = json_get_int (obj, "created", 0);
  record->last_access = json_get_int (obj, "last-access", 0);
  record->trust = kith_alias_trust_from_string (kith_json_get_string (obj, "verified"));
  for (guint i = 0; i < json_array_get_length (hrefs); i++) {
    JsonNode *node = json_array_get_element (hrefs, i);
    const gchar *href = JSON_NODE_HOLDS_VALUE (node) && json_node_get_value_type (node) == G_TYPE_STRING
                            ? json_node_get_string (node)
                            : NULL;
    if (href != NULL && *href != '\0')
      g_ptr_array_add (record->hrefs, g_strdup (href));
  }
  return record;
}

/* The "files" array of a well-formed index, or NULL (with a message). */
static JsonArray *
index_files (JsonParser *parser, const gchar *path)
{
  JsonNode *root = json_parser_get_root (parser);
  JsonObject *obj;

  if (root == NULL || !JSON_NODE_HOLDS_OBJECT (root)) {
    g_warning ("alias index %s is not an object", path);
    return NULL;
  }
  obj = json_node_get_object (root);
  if (json_get_int (obj, "version", 0) != INDEX_VERSION ||
      !json_object_has_member (obj, "files") ||
      !JSON_NODE_HOLDS_ARRAY (json_object_get_member (obj, "files"))) {
    g_warning ("alias index %s has an unknown format", path);
    return NULL;
  }
  return json_object_get_array_member (obj, "files");
}

/* The end of the JSON object starting at @p (just past its closing brace), or NULL. */
static const gchar *
object_end (const gchar *p, const gchar *end)
{
  gint depth = 0;
  gboolean in_string = FALSE;

  for (; p < end; p++) {
    if (in_string) {
      if (*p == '\\' && p + 1 < end)
        p++;
      else if (*p == '"')
        in_string = FALSE;
    } else if (*p == '"') {
      in_string = TRUE;
    } else if (*p == '{' || *p == '[') {
      depth++;
    } else if ((*p == '}' || *p == ']') && --depth == 0) {
      return p + 1;
    }
  }
  return NULL;
}

/* What can be read of a damaged (e.g. truncated) index: every file record that is whole. */
static void
index_salvage (const gchar *path, GPtrArray *records, GHashTable *seen)
{
  static const gchar marker[] = "{\"sha256\"";
  g_autofree gchar *data = NULL;
  gsize len = 0;
  const gchar *p, *end;

  if (!g_file_get_contents (path, &data, &len, NULL))
    return;
  end = data + len;
  for (p = g_strstr_len (data, len, marker); p != NULL;
       p = g_strstr_len (p + 1, end - p - 1, marker)) {
    g_autoptr (JsonParser) parser = json_parser_new ();
    const gchar *stop = object_end (p, end);
    KithAliasRecord *record = NULL;
    JsonNode *root;

    if (stop == NULL)
      break;
    if (json_parser_load_from_data (parser, p, stop - p, NULL) &&
        (root = json_parser_get_root (parser)) != NULL && JSON_NODE_HOLDS_OBJECT (root))
      record = record_from_json (json_node_get_object (root));
    if (record == NULL || g_hash_table_contains (seen, record->sha256)) {
      kith_alias_record_free (record);
      continue;
    }
    g_hash_table_add (seen, record->sha256);
    g_ptr_array_add (records, record);
  }
  if (records->len > 0)
    g_message ("alias index %s: %u whole records salvaged", path, records->len);
}

GPtrArray *
kith_alias_index_load (const gchar *path, gboolean *damaged)
{
  GPtrArray *records = g_ptr_array_new_with_free_func ((GDestroyNotify) kith_alias_record_free);
  g_autoptr (GHashTable) seen = g_hash_table_new (g_str_hash, g_str_equal);
  g_autoptr (JsonParser) parser = json_parser_new ();
  g_autoptr (GError) error = NULL;
  JsonArray *files;

  *damaged = FALSE;
  if (!g_file_test (path, G_FILE_TEST_EXISTS))
    return records;
  if (!json_parser_load_from_mapped_file (parser, path, &error)) {
    g_warning ("alias index %s unreadable: %s", path, error->message);
    *damaged = TRUE;
    index_salvage (path, records, seen);
    return records;
  }
  files = index_files (parser, path);
  if (files == NULL) {
    *damaged = TRUE;
    return records;
  }
  for (guint i = 0; i < json_array_get_length (files); i++) {
    JsonNode *node = json_array_get_element (files, i);
    KithAliasRecord *record = JSON_NODE_HOLDS_OBJECT (node) ? record_from_json (json_node_get_object (node))
                                                            : NULL;
    if (record == NULL || g_hash_table_contains (seen, record->sha256)) {
      g_message ("alias index: skipping a malformed record");
      kith_alias_record_free (record);
      *damaged = TRUE;
      continue;
    }
    g_hash_table_add (seen, record->sha256);
    g_ptr_array_add (records, record);
  }
  return records;
}

static gchar *
index_to_data (GPtrArray *records, gsize *len)
{
  g_autoptr (JsonBuilder) builder = json_builder_new ();

  json_builder_begin_object (builder);
  kith_json_add_int (builder, "version", INDEX_VERSION);
  json_builder_set_member_name (builder, "files");
  json_builder_begin_array (builder);
  for (guint r = 0; r < records->len; r++) {
    KithAliasRecord *file = g_ptr_array_index (records, r);
    json_builder_begin_object (builder);
    kith_json_add_string (builder, "sha256", file->sha256);
    kith_json_add_int (builder, "size", (gint64) file->size);
    kith_json_add_int (builder, "created", file->created);
    kith_json_add_int (builder, "last-access", file->last_access);
    kith_json_add_string (builder, "verified", kith_alias_trust_to_string (file->trust));
    json_builder_set_member_name (builder, "hrefs");
    json_builder_begin_array (builder);
    for (guint i = 0; i < file->hrefs->len; i++)
      json_builder_add_string_value (builder, g_ptr_array_index (file->hrefs, i));
    json_builder_end_array (builder);
    json_builder_end_object (builder);
  }
  json_builder_end_array (builder);
  json_builder_end_object (builder);

  return kith_json_builder_to_data (builder, FALSE, len);
}

gboolean
kith_alias_index_save (const gchar *path, GPtrArray *records, GError **error)
{
  gsize len = 0;
  g_autofree gchar *data = index_to_data (records, &len);

  return g_file_set_contents_full (path, data, (gssize) len,
                                   G_FILE_SET_CONTENTS_CONSISTENT | G_FILE_SET_CONTENTS_DURABLE,
                                   0644, error);
}
