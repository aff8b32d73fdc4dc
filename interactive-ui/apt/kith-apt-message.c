/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* kith-apt-message.c — parsing and writing apt acquire-method messages */
#include "kith-apt-message.h"

#include <stdlib.h>
#include <string.h>

struct _KithAptMessage {
  guint code;
  gchar *text;
  GPtrArray *names;  /* gchar*, parallel to values */
  GPtrArray *values; /* gchar* */
};

KithAptMessage *
kith_apt_message_new (guint code, const gchar *text)
{
  KithAptMessage *self = g_new0 (KithAptMessage, 1);

  self->code = code;
  self->text = g_strdup (text);
  self->names = g_ptr_array_new_with_free_func (g_free);
  self->values = g_ptr_array_new_with_free_func (g_free);
  return self;
}

void
kith_apt_message_free (KithAptMessage *self)
{
  if (self == NULL)
    return;
  g_ptr_array_unref (self->names);
  g_ptr_array_unref (self->values);
  g_free (self->text);
  g_free (self);
}

KithAptMessage *
kith_apt_message_parse (const gchar *const *lines, GError **error)
{
  g_autoptr (KithAptMessage) self = NULL;
  const gchar *first = lines != NULL ? lines[0] : NULL;
  gchar *end = NULL;
  guint64 code;

  if (first == NULL || !g_ascii_isdigit (first[0])) {
    g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA, "malformed message: '%s'",
                 first != NULL ? first : "");
    return NULL;
  }
  code = g_ascii_strtoull (first, &end, 10);
  if (code < 100 || code > 999 || (*end != ' ' && *end != '\0')) {
    g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA, "malformed message: '%s'", first);
    return NULL;
  }
  self = kith_apt_message_new ((guint) code, NULL);
  self->text = g_strstrip (g_strdup (end));
  for (guint i = 1; lines[i] != NULL; i++) {
    const gchar *colon = strchr (lines[i], ':');
    g_autofree gchar *name = NULL;
    g_autofree gchar *value = NULL;

    if (colon == NULL || colon == lines[i])
      continue;
    name = g_strstrip (g_strndup (lines[i], colon - lines[i]));
    value = g_strstrip (g_strdup (colon + 1));
    g_ptr_array_add (self->names, g_steal_pointer (&name));
    g_ptr_array_add (self->values, g_steal_pointer (&value));
  }
  return g_steal_pointer (&self);
}

guint
kith_apt_message_get_code (KithAptMessage *self)
{
  return self->code;
}

const gchar *
kith_apt_message_get (KithAptMessage *self, const gchar *name)
{
  for (guint i = 0; i < self->names->len; i++)
    if (g_ascii_strcasecmp (g_ptr_array_index (self->names, i), name) == 0)
      return g_ptr_array_index (self->values, i);
  return NULL;
}

void
kith_apt_message_add (KithAptMessage *self, const gchar *name, const gchar *value)
{
  if (value == NULL || *value == '\0')
    return;
  g_ptr_array_add (self->names, g_strdup (name));
  g_ptr_array_add (self->values, g_strdup (value));
}

void
kith_apt_message_addf (KithAptMessage *self, const gchar *name, const gchar *format, ...)
{
  va_list args;
  g_autofree gchar *value = NULL;

  va_start (args, format);
  value = g_strdup_vprintf (format, args);
  va_end (args);
  kith_apt_message_add (self, name, value);
}

/* apt quotes config values with %XX for anything unsafe in a message. */
static gchar *
kith_apt_message_unquote (const gchar *start, gsize len)
{
  g_autofree gchar *raw = g_strndup (start, len);
  gchar *unquoted = g_uri_unescape_string (raw, NULL);

  return unquoted != NULL ? unquoted : g_steal_pointer (&raw);
}

gboolean
kith_apt_message_get_config (KithAptMessage *self, GHashTable *config)
{
  for (guint i = 0; i < self->names->len; i++) {
    const gchar *value = g_ptr_array_index (self->values, i);
    const gchar *equals;

    if (g_ascii_strcasecmp (g_ptr_array_index (self->names, i), "Config-Item") != 0)
      continue;
    equals = strchr (value, '=');
    if (equals == NULL)
      return FALSE;
    g_hash_table_replace (config, kith_apt_message_unquote (value, equals - value),
                          kith_apt_message_unquote (equals + 1, strlen (equals + 1)));
  }
  return TRUE;
}

gchar *
kith_apt_message_to_string (KithAptMessage *self)
{
  GString *out = g_string_new (NULL);

  g_string_append_printf (out, "%03u %s\n", self->code, self->text);
  for (guint i = 0; i < self->names->len; i++) {
    const gchar *value = g_ptr_array_index (self->values, i);

    g_string_append_printf (out, "%s: ", (const gchar *) g_ptr_array_index (self->names, i));
    for (const gchar *c = value; *c != '\0'; c++)
      g_string_append_c (out, (guchar) *c < 0x20 || *c == 0x7f ? ' ' : *c);
    g_string_append_c (out, '\n');
  }
  g_string_append_c (out, '\n');
  return g_string_free (out, FALSE);
}
