/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* kith-config.h — typed, validated access to kith-agent.conf */
#pragma once

#include <glib-object.h>

G_BEGIN_DECLS

#define KITH_TYPE_CONFIG (kith_config_get_type ())
G_DECLARE_FINAL_TYPE (KithConfig, kith_config, KITH, CONFIG, GObject)

/*
 * Every getter returns the default when the key is absent and fails with
 * KITH_AGENT_ERROR_CONFIG, naming file, group, key and the problem, when the
 * value is present but wrong.
 */

/* Loads @filename; caller owns the result. */
KithConfig *kith_config_new_from_file (const gchar *filename, GError **error);
/* Parses @data as if read from @filename (used in messages); caller owns the result. */
KithConfig *kith_config_new_from_data (const gchar *data, const gchar *filename, GError **error);
/* The file name given at load time; owned by @self. */
const gchar *kith_config_get_filename (KithConfig *self);
/* TRUE if @group exists in the file. */
gboolean kith_config_has_group (KithConfig *self, const gchar *group);
/* Fails if @group holds a key not in the NULL-terminated @known (catches typos). */
gboolean kith_config_check_keys (KithConfig *self, const gchar *group,
                                 const gchar *const *known, GError **error);
/* A string, or a copy of @default_value; caller frees. NULL only on error (or NULL default). */
gchar *kith_config_get_string (KithConfig *self, const gchar *group, const gchar *key,
                               const gchar *default_value, GError **error);
/* A file or directory name: a relative value is taken relative to the directory holding
 * the configuration file, so a config works from any working directory. Caller frees;
 * NULL on error or when absent with a NULL @default_value (taken as is). */
gchar *kith_config_get_path (KithConfig *self, const gchar *group, const gchar *key,
                             const gchar *default_value, GError **error);
/* A ;-separated list of names resolved as kith_config_get_path() does; caller frees. */
gchar **kith_config_get_paths (KithConfig *self, const gchar *group, const gchar *key,
                               const gchar *const *default_value, GError **error);
/* The groups of the file in order; caller frees with g_strfreev. */
gchar **kith_config_get_groups (KithConfig *self);
/* A ;-separated list, or a copy of @default_value; caller frees with g_strfreev. */
gchar **kith_config_get_strv (KithConfig *self, const gchar *group, const gchar *key,
                              const gchar *const *default_value, GError **error);
/* An unsigned integer in [@min, @max]. */
gboolean kith_config_get_uint64 (KithConfig *self, const gchar *group, const gchar *key,
                                 guint64 default_value, guint64 min, guint64 max,
                                 guint64 *out, GError **error);
/* true/false. */
gboolean kith_config_get_boolean (KithConfig *self, const gchar *group, const gchar *key,
                                  gboolean default_value, gboolean *out, GError **error);
/* A duration such as 250ms, 30s, 5m, 12h, 7d (a bare number is seconds), in milliseconds. */
gboolean kith_config_get_duration_ms (KithConfig *self, const gchar *group, const gchar *key,
                                      guint64 default_ms, guint64 *out, GError **error);
/* Fills @error with the standard "FILE: [group] key: message" wording. */
void kith_config_set_error (KithConfig *self, GError **error, const gchar *group,
                            const gchar *key, const gchar *format, ...) G_GNUC_PRINTF (5, 6);

G_END_DECLS
