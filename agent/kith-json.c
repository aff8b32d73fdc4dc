/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* kith-json.c — typed members of a JSON object, read and built, and a built document as text */
#include "kith-json.h"

JsonNode *
kith_json_get_member (JsonObject *obj, const gchar *name, GType type)
{
  JsonNode *node = obj != NULL ? json_object_get_member (obj, name) : NULL;

  if (node == NULL || !JSON_NODE_HOLDS_VALUE (node) || json_node_get_value_type (node) != type)
    return NULL;
  return node;
}

const gchar *
kith_json_get_string (JsonObject *obj, const gchar *name)
{
  JsonNode *node = kith_json_get_member (obj, name, G_TYPE_STRING);
  return node != NULL ? json_node_get_string (node) : NULL;
}

gboolean
kith_json_get_int (JsonObject *obj, const gchar *name, gint64 *out)
{
  JsonNode *node = kith_json_get_member (obj, name, G_TYPE_INT64);

  if (node == NULL)
    return FALSE;
  *out = json_node_get_int (node);
  return TRUE;
}

void
kith_json_add_string (JsonBuilder *builder, const gchar *name, const gchar *value)
{
  json_builder_set_member_name (builder, name);
  json_builder_add_string_value (builder, value);
}

void
kith_json_add_int (JsonBuilder *builder, const gchar *name, gint64 value)
{
  json_builder_set_member_name (builder, name);
  json_builder_add_int_value (builder, value);
}

void
kith_json_add_boolean (JsonBuilder *builder, const gchar *name, gboolean value)
{
  json_builder_set_member_name (builder, name);
  json_builder_add_boolean_value (builder, value);
}

void
kith_json_add_double (JsonBuilder *builder, const gchar *name, gdouble value)
{
  json_builder_set_member_name (builder, name);
  json_builder_add_double_value (builder, value);
}

gchar *
kith_json_builder_to_data (JsonBuilder *builder, gboolean pretty, gsize *length)
{
  g_autoptr (JsonGenerator) generator = json_generator_new ();
  g_autoptr (JsonNode) root = json_builder_get_root (builder);

  json_generator_set_root (generator, root);
  json_generator_set_pretty (generator, pretty);
  return json_generator_to_data (generator, length);
}
