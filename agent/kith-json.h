/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* kith-json.h — typed members of a JSON object, read and built, and a built document as text */
#pragma once

#include <json-glib/json-glib.h>

G_BEGIN_DECLS

/* The value node of member @name of @obj if it holds a value of @type (G_TYPE_STRING,
 * G_TYPE_INT64, G_TYPE_BOOLEAN, G_TYPE_DOUBLE); NULL when @obj is NULL, the member is
 * absent, or it is of another type. Borrowed. */
JsonNode *kith_json_get_member (JsonObject *obj, const gchar *name, GType type);
/* The string member @name, or NULL (see kith_json_get_member()); borrowed. */
const gchar *kith_json_get_string (JsonObject *obj, const gchar *name);
/* The integer member @name into @out; FALSE (and @out untouched) when there is none. */
gboolean kith_json_get_int (JsonObject *obj, const gchar *name, gint64 *out);

/* In the object @builder is building: member @name with the value @value. */
void kith_json_add_string (JsonBuilder *builder, const gchar *name, const gchar *value);
void kith_json_add_int (JsonBuilder *builder, const gchar *name, gint64 value);
void kith_json_add_boolean (JsonBuilder *builder, const gchar *name, gboolean value);
void kith_json_add_double (JsonBuilder *builder, const gchar *name, gdouble value);

/* The document @builder built (its root), as text, indented when @pretty; its length in
 * @length (may be NULL). Caller frees. */
gchar *kith_json_builder_to_data (JsonBuilder *builder, gboolean pretty, gsize *length);

G_END_DECLS
