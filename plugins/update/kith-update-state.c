/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* kith-update-state.c — state.json:
 *   {"catalog-version": 2, "installed": {"avdat": "2611211200", …},
 *    "last-check": 1795000000, "last-result": "installed catalog 2 (6 files)",
 *    "next-check": 1795043200} */
#include "kith-update-state.h"

#include "kith-crypto.h"
#include "kith-file.h"
#include "kith-update-error.h"

#include "kith-json.h"

#include <json-glib/json-glib.h>

KithUpdateState *
kith_update_state_new (void)
{
  KithUpdateState *state = g_new0 (KithUpdateState, 1);
  state->installed = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
  state->last_result = g_strdup ("");
  return state;
}

void
kith_update_state_free (KithUpdateState *state)
{
  if (state == NULL)
    return;
  g_hash_table_unref (state->installed);
  g_free (state->last_result);
  g_free (state);
}

KithUpdateState *
kith_update_state_load (const gchar *path, GError **error)
{
  g_autoptr (KithUpdateState) state = kith_update_state_new ();
  g_autoptr (JsonParser) parser = json_parser_new ();
  g_autoptr (GError) error_local = NULL;
  JsonObject *root;
  JsonNode *installed;
  const gchar *last_result;

  if (!g_file_test (path, G_FILE_TEST_EXISTS))
    return g_steal_pointer (&state);
  if (!json_parser_load_from_mapped_file (parser, path, &error_local) ||
      !JSON_NODE_HOLDS_OBJECT (json_parser_get_root (parser))) {
    g_set_error (error, KITH_UPDATE_ERROR, KITH_UPDATE_ERROR_FAILED, "%s: not a state file: %s",
                 path, error_local != NULL ? error_local->message : "not a JSON object");
    return NULL;
  }
  root = json_node_get_object (json_parser_get_root (parser));
  /* members of the wrong type count as absent: a damaged file must not upset the loader */
  kith_json_get_int (root, "catalog-version", &state->catalog_version);
  kith_json_get_int (root, "last-check", &state->last_check);
  kith_json_get_int (root, "next-check", &state->next_check);
  last_result = kith_json_get_string (root, "last-result");
  g_free (state->last_result);
  state->last_result = g_strdup (last_result != NULL ? last_result : "");
  installed = json_object_get_member (root, "installed");
  if (installed != NULL && JSON_NODE_HOLDS_OBJECT (installed)) {
    JsonObject *set = json_node_get_object (installed);
    g_autoptr (GList) names = json_object_get_members (set);
    for (GList *l = names; l != NULL; l = l->next) {
      const gchar *version = kith_json_get_string (set, l->data);
      if (version != NULL)
        g_hash_table_insert (state->installed, g_strdup (l->data), g_strdup (version));
    }
  }
  return g_steal_pointer (&state);
}

gboolean
kith_update_state_save (const KithUpdateState *state, const gchar *path, GError **error)
{
  g_autoptr (JsonBuilder) builder = json_builder_new ();
  g_autoptr (GList) names = g_hash_table_get_keys (state->installed);
  g_autofree gchar *text = NULL;
  gsize length = 0;

  names = g_list_sort (names, (GCompareFunc) g_strcmp0);
  json_builder_begin_object (builder);
  kith_json_add_int (builder, "catalog-version", state->catalog_version);
  json_builder_set_member_name (builder, "installed");
  json_builder_begin_object (builder);
  for (GList *l = names; l != NULL; l = l->next) {
    kith_json_add_string (builder, l->data, g_hash_table_lookup (state->installed, l->data));
  }
  json_builder_end_object (builder);
  kith_json_add_int (builder, "last-check", state->last_check);
  kith_json_add_string (builder, "last-result", state->last_result);
  kith_json_add_int (builder, "next-check", state->next_check);
  json_builder_end_object (builder);
  text = kith_json_builder_to_data (builder, TRUE, &length);
  return kith_file_write_atomic (path, text, length, 0644, error);
}
