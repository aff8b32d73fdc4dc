/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* kith-config.c — typed, validated access to kith-agent.conf
 *
 * Every error names the file, the group and the key, so an operator can fix
 * the config without reading code.
 */
#include "kith-config.h"

#include "kith-agent-error.h"

struct _KithConfig {
  GObject parent_instance;
  GKeyFile *keyfile;
  gchar *filename;
};

G_DEFINE_TYPE (KithConfig, kith_config, G_TYPE_OBJECT)

static void
kith_config_finalize (GObject *object)
{
  KithConfig *self = KITH_CONFIG (object);
  g_key_file_unref (self->keyfile);
  g_free (self->filename);
  G_OBJECT_CLASS (kith_config_parent_class)->finalize (object);
}

static void
kith_config_class_init (KithConfigClass *klass)
{
  G_OBJECT_CLASS (klass)->finalize = kith_config_finalize;
}

static void
kith_config_init (KithConfig *self)
{
  self->keyfile = g_key_file_new ();
}

void
kith_config_set_error (KithConfig *self, GError **error, const gchar *group,
                       const gchar *key, const gchar *format, ...)
{
  va_list args;
  g_autofree gchar *what = NULL;

  va_start (args, format);
  what = g_strdup_vprintf (format, args);
  va_end (args);
  if (key != NULL)
    g_set_error (error, KITH_AGENT_ERROR, KITH_AGENT_ERROR_CONFIG,
                 "%s: [%s] %s: %s", self->filename, group, key, what);
  else
    g_set_error (error, KITH_AGENT_ERROR, KITH_AGENT_ERROR_CONFIG,
                 "%s: [%s]: %s", self->filename, group, what);
}

KithConfig *
kith_config_new_from_data (const gchar *data, const gchar *filename, GError **error)
{
  g_autoptr (KithConfig) self = g_object_new (KITH_TYPE_CONFIG, NULL);
  g_autoptr (GError) error_local = NULL;

  self->filename = g_strdup (filename);
  if (!g_key_file_load_from_data (self->keyfile, data, -1, G_KEY_FILE_NONE, &error_local)) {
    g_set_error (error, KITH_AGENT_ERROR, KITH_AGENT_ERROR_CONFIG,
                 "%s: %s", filename, error_local->message);
    return NULL;
  }
  return g_steal_pointer (&self);
}

KithConfig *
kith_config_new_from_file (const gchar *filename, GError **error)
{
  g_autofree gchar *data = NULL;
  g_autoptr (GError) error_local = NULL;

  if (!g_file_get_contents (filename, &data, NULL, &error_local)) {
    g_set_error (error, KITH_AGENT_ERROR, KITH_AGENT_ERROR_CONFIG,
                 "%s: cannot read the configuration: %s", filename, error_local->message);
    return NULL;
  }
  return kith_config_new_from_data (data, filename, error);
}

const gchar *
kith_config_get_filename (KithConfig *self)
{
  return self->filename;
}

gboolean
kith_config_has_group (KithConfig *self, const gchar *group)
{
  return g_key_file_has_group (self->keyfile, group);
}

gboolean
kith_config_check_keys (KithConfig *self, const gchar *group,
                        const gchar *const *known, GError **error)
{
  g_auto (GStrv) keys = g_key_file_get_keys (self->keyfile, group, NULL, NULL);

  for (guint i = 0; keys != NULL && keys[i] != NULL; i++) {
    if (!g_strv_contains (known, keys[i])) {
      g_autofree gchar *list = g_strjoinv (", ", (gchar **) known);
      kith_config_set_error (self, error, group, keys[i],
                             "unknown key (known keys: %s)", list);
      return FALSE;
    }
  }
  return TRUE;
}

/* The raw value, or NULL when absent; an empty value counts as present. */
static gchar *
kith_config_get_raw (KithConfig *self, const gchar *group, const gchar *key)
{
  g_autofree gchar *value = g_key_file_get_value (self->keyfile, group, key, NULL);
  if (value == NULL)
    return NULL;
  return g_strstrip (g_steal_pointer (&value));
}

gchar *
kith_config_get_string (KithConfig *self, const gchar *group, const gchar *key,
                        const gchar *default_value, GError **error)
{
  g_autoptr (GError) error_local = NULL;
  g_autofree gchar *value = NULL;

  if (!g_key_file_has_key (self->keyfile, group, key, NULL))
    return g_strdup (default_value);
  value = g_key_file_get_string (self->keyfile, group, key, &error_local);
  if (value == NULL) {
    kith_config_set_error (self, error, group, key, "%s", error_local->message);
    return NULL;
  }
  return g_strstrip (g_steal_pointer (&value));
}

gchar **
kith_config_get_strv (KithConfig *self, const gchar *group, const gchar *key,
                      const gchar *const *default_value, GError **error)
{
  g_autoptr (GError) error_local = NULL;
  g_auto (GStrv) value = NULL;
  g_autoptr (GStrvBuilder) builder = g_strv_builder_new ();

  if (!g_key_file_has_key (self->keyfile, group, key, NULL))
    return g_strdupv ((gchar **) default_value);
  value = g_key_file_get_string_list (self->keyfile, group, key, NULL, &error_local);
  if (value == NULL) {
    kith_config_set_error (self, error, group, key, "%s", error_local->message);
    return NULL;
  }
  for (guint i = 0; value[i] != NULL; i++) {
    g_strstrip (value[i]);
    if (value[i][0] != '\0')
      g_strv_builder_add (builder, value[i]);
  }
  return g_strv_builder_end (builder);
}

/* @value made absolute against the configuration file's directory. */
static gchar *
kith_config_resolve (KithConfig *self, const gchar *value)
{
  g_autofree gchar *file = g_canonicalize_filename (self->filename, NULL);
  g_autofree gchar *dir = g_path_get_dirname (file);

  return g_canonicalize_filename (value, dir);
}

gchar *
kith_config_get_path (KithConfig *self, const gchar *group, const gchar *key,
                      const gchar *default_value, GError **error)
{
  g_autofree gchar *value = NULL;

  if (!g_key_file_has_key (self->keyfile, group, key, NULL))
    return g_strdup (default_value);
  value = kith_config_get_string (self, group, key, NULL, error);
  if (value == NULL)
    return NULL;
  if (value[0] == '\0') {
    kith_config_set_error (self, error, group, key, "empty; give a file or directory name");
    return NULL;
  }
  return kith_config_resolve (self, value);
}

gchar **
kith_config_get_paths (KithConfig *self, const gchar *group, const gchar *key,
                       const gchar *const *default_value, GError **error)
{
  g_auto (GStrv) values = NULL;

  if (!g_key_file_has_key (self->keyfile, group, key, NULL))
    return g_strdupv ((gchar **) default_value);
  values = kith_config_get_strv (self, group, key, NULL, error);
  for (guint i = 0; values != NULL && values[i] != NULL; i++) {
    gchar *resolved = kith_config_resolve (self, values[i]);
    g_free (values[i]);
    values[i] = resolved;
  }
  return g_steal_pointer (&values);
}

gchar **
kith_config_get_groups (KithConfig *self)
{
  return g_key_file_get_groups (self->keyfile, NULL);
}

gboolean
kith_config_get_uint64 (KithConfig *self, const gchar *group, const gchar *key,
                        guint64 default_value, guint64 min, guint64 max,
                        guint64 *out, GError **error)
{
  g_autofree gchar *raw = kith_config_get_raw (self, group, key);
  g_autoptr (GError) error_local = NULL;

  if (raw == NULL) {
    *out = default_value;
    return TRUE;
  }
  if (!g_ascii_string_to_unsigned (raw, 10, min, max, out, &error_local)) {
    kith_config_set_error (self, error, group, key,
                           "'%s' is not a whole number from %" G_GUINT64_FORMAT
                           " to %" G_GUINT64_FORMAT, raw, min, max);
    return FALSE;
  }
  return TRUE;
}

gboolean
kith_config_get_boolean (KithConfig *self, const gchar *group, const gchar *key,
                         gboolean default_value, gboolean *out, GError **error)
{
  g_autofree gchar *raw = kith_config_get_raw (self, group, key);

  if (raw == NULL) {
    *out = default_value;
    return TRUE;
  }
  if (g_strcmp0 (raw, "true") == 0) {
    *out = TRUE;
  } else if (g_strcmp0 (raw, "false") == 0) {
    *out = FALSE;
  } else {
    kith_config_set_error (self, error, group, key,
                           "'%s' is not a boolean (use true or false)", raw);
    return FALSE;
  }
  return TRUE;
}

static gboolean
kith_config_parse_duration (const gchar *raw, guint64 *out_ms)
{
  static const struct {
    const gchar *suffix;
    guint64 ms;
  } units[] = {
    { "ms", 1 }, { "s", 1000 }, { "m", 60 * 1000 },
    { "h", 60 * 60 * 1000 }, { "d", 24 * 60 * 60 * 1000 }, { "", 1000 },
  };
  gchar *end = NULL;
  guint64 value;

  if (!g_ascii_isdigit (raw[0]))
    return FALSE;
  value = g_ascii_strtoull (raw, &end, 10);
  for (guint i = 0; i < G_N_ELEMENTS (units); i++) {
    if (g_strcmp0 (end, units[i].suffix) != 0)
      continue;
    if (value > G_MAXUINT64 / units[i].ms)
      return FALSE;
    *out_ms = value * units[i].ms;
    return TRUE;
  }
  return FALSE;
}

gboolean
kith_config_get_duration_ms (KithConfig *self, const gchar *group, const gchar *key,
                             guint64 default_ms, guint64 *out, GError **error)
{
  g_autofree gchar *raw = kith_config_get_raw (self, group, key);

  if (raw == NULL) {
    *out = default_ms;
    return TRUE;
  }
  if (!kith_config_parse_duration (raw, out)) {
    kith_config_set_error (self, error, group, key,
                           "'%s' is not a duration (examples: 250ms, 30s, 5m, 12h, 7d)", raw);
    return FALSE;
  }
  return TRUE;
}
