/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* kith-cli-format.c — status values for people (times, sizes, counter tables) and for
 * scripts (JSON with integer counts and plain keys) */
#include "kith-cli.h"

#include <math.h>
#include <string.h>

/* `type="response"` → `response`; a key with several labels stays as it is. */
static gchar *
kith_cli_label_key (const gchar *key)
{
  const gchar *eq = strchr (key, '=');
  gsize len = strlen (key);

  if (eq == NULL || eq[1] != '"' || len < 4 || key[len - 1] != '"' || strchr (eq + 2, '"') != key + len - 1)
    return g_strdup (key);
  return g_strndup (eq + 2, len - (gsize) (eq + 2 - key) - 1);
}

JsonNode *
kith_cli_variant_to_json (GVariant *value)
{
  g_autoptr (GVariant) inner = NULL;
  JsonNode *node;

  if (g_variant_is_of_type (value, G_VARIANT_TYPE_VARIANT)) {
    inner = g_variant_get_variant (value);
    return kith_cli_variant_to_json (inner);
  }
  if (g_variant_is_of_type (value, G_VARIANT_TYPE_DICTIONARY) &&
      g_variant_type_equal (g_variant_type_key (g_variant_type_element (g_variant_get_type (value))), G_VARIANT_TYPE_STRING)) {
    JsonObject *object = json_object_new ();
    for (gsize i = 0; i < g_variant_n_children (value); i++) {
      g_autoptr (GVariant) entry = g_variant_get_child_value (value, i);
      g_autoptr (GVariant) key = g_variant_get_child_value (entry, 0);
      g_autoptr (GVariant) member = g_variant_get_child_value (entry, 1);
      g_autofree gchar *name = kith_cli_label_key (g_variant_get_string (key, NULL));
      json_object_set_member (object, name, kith_cli_variant_to_json (member));
    }
    node = json_node_new (JSON_NODE_OBJECT);
    json_node_take_object (node, object);
    return node;
  }
  if (g_variant_is_of_type (value, G_VARIANT_TYPE_DOUBLE)) {
    gdouble d = g_variant_get_double (value);
    node = json_node_new (JSON_NODE_VALUE);
    /* counters travel as doubles: whole numbers are integers */
    if (floor (d) == d && fabs (d) < 9007199254740992.0)
      json_node_set_int (node, (gint64) d);
    else
      json_node_set_double (node, d);
    return node;
  }
  if (g_variant_is_container (value) && !g_variant_is_of_type (value, G_VARIANT_TYPE_BYTESTRING)) {
    JsonArray *array = json_array_new ();
    for (gsize i = 0; i < g_variant_n_children (value); i++) {
      g_autoptr (GVariant) child = g_variant_get_child_value (value, i);
      json_array_add_element (array, kith_cli_variant_to_json (child));
    }
    node = json_node_new (JSON_NODE_ARRAY);
    json_node_take_array (node, array);
    return node;
  }
  return json_gvariant_serialize (value);
}

static gboolean
kith_cli_get_integer (GVariant *value, gint64 *out)
{
  if (g_variant_is_of_type (value, G_VARIANT_TYPE_UINT64))
    *out = (gint64) g_variant_get_uint64 (value);
  else if (g_variant_is_of_type (value, G_VARIANT_TYPE_INT64))
    *out = g_variant_get_int64 (value);
  else if (g_variant_is_of_type (value, G_VARIANT_TYPE_UINT32))
    *out = g_variant_get_uint32 (value);
  else if (g_variant_is_of_type (value, G_VARIANT_TYPE_INT32))
    *out = g_variant_get_int32 (value);
  else
    return FALSE;
  return TRUE;
}

gchar *
kith_cli_format_duration (gint64 seconds)
{
  if (seconds < 60)
    return g_strdup_printf ("%" G_GINT64_FORMAT " s", seconds);
  if (seconds < 3600)
    return g_strdup_printf ("%" G_GINT64_FORMAT " min %" G_GINT64_FORMAT " s", seconds / 60, seconds % 60);
  if (seconds < 86400)
    return g_strdup_printf ("%" G_GINT64_FORMAT " h %" G_GINT64_FORMAT " min", seconds / 3600, seconds / 60 % 60);
  return g_strdup_printf ("%" G_GINT64_FORMAT " d %" G_GINT64_FORMAT " h", seconds / 86400, seconds / 3600 % 24);
}

/* "2026-12-01 22:40 (5 min ago)" in local time; "never" for 0. */
static gchar *
kith_cli_format_when (gint64 unix_seconds)
{
  g_autoptr (GDateTime) time = NULL;
  g_autofree gchar *date = NULL;
  g_autofree gchar *span = NULL;
  gint64 delta = unix_seconds - g_get_real_time () / G_USEC_PER_SEC;

  if (unix_seconds <= 0)
    return g_strdup ("never");
  time = g_date_time_new_from_unix_local (unix_seconds);
  if (time == NULL)
    return g_strdup_printf ("%" G_GINT64_FORMAT, unix_seconds);
  date = g_date_time_format (time, "%Y-%m-%d %H:%M:%S");
  span = kith_cli_format_duration (ABS (delta));
  if (delta < 0)
    return g_strdup_printf ("%s (%s ago)", date, span);
  return g_strdup_printf ("%s (in %s)", date, span);
}

/* A counter table (a{sd}) as "response 3, request 1"; "none" when empty. */
static gchar *
kith_cli_format_counters (GVariant *value)
{
  g_autoptr (GString) out = g_string_new (NULL);
  GVariantIter iter;
  const gchar *key;
  gdouble count;

  g_variant_iter_init (&iter, value);
  while (g_variant_iter_next (&iter, "{&sd}", &key, &count)) {
    g_autofree gchar *label = kith_cli_label_key (key);
    g_string_append_printf (out, "%s%s %.0f", out->len > 0 ? ", " : "", label, count);
  }
  return out->len > 0 ? g_string_free (g_steal_pointer (&out), FALSE) : g_strdup ("none");
}

gchar *
kith_cli_format_field (const gchar *key, GVariant *value)
{
  g_autoptr (GVariant) inner = NULL;
  gint64 number;

  if (g_variant_is_of_type (value, G_VARIANT_TYPE_VARIANT)) {
    inner = g_variant_get_variant (value);
    return kith_cli_format_field (key, inner);
  }
  if (g_variant_is_of_type (value, G_VARIANT_TYPE ("a{sd}")))
    return kith_cli_format_counters (value);
  if (g_variant_is_of_type (value, G_VARIANT_TYPE ("aa{sv}")))
    return g_strdup_printf ("%" G_GSIZE_FORMAT " (kith %s lists them)", g_variant_n_children (value), key);
  if (!kith_cli_get_integer (value, &number))
    return kith_cli_format_value (value);
  if (g_str_has_suffix (key, "-seconds"))
    return kith_cli_format_duration (number);
  if (g_str_has_prefix (key, "last-") || g_str_has_prefix (key, "next-") || g_str_has_suffix (key, "-time") ||
      g_str_has_suffix (key, "-since") || g_str_has_suffix (key, "-at"))
    return number > 100000000 || number == 0 ? kith_cli_format_when (number) : g_strdup_printf ("%" G_GINT64_FORMAT, number);
  if (strstr (key, "bytes") != NULL || g_str_has_suffix (key, "-size") || g_str_equal (key, "size"))
    return g_format_size ((guint64) MAX (number, 0));
  return g_strdup_printf ("%" G_GINT64_FORMAT, number);
}
