/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* kith-apt-message.h — one message of apt's acquire-method protocol: a status line
 * ("600 URI Acquire") and "Name: value" fields, ended by an empty line. */
#pragma once

#include <gio/gio.h>

G_BEGIN_DECLS

typedef struct _KithAptMessage KithAptMessage;

/* An empty message with status @code and @text ("URI Start"); caller frees. */
KithAptMessage *kith_apt_message_new (guint code, const gchar *text);
/* Parses the lines of one message (without the empty line that ended it); NULL with
 * @error when the first line is not "NNN text". Lines without a colon are ignored. */
KithAptMessage *kith_apt_message_parse (const gchar *const *lines, GError **error);
void kith_apt_message_free (KithAptMessage *self);

guint kith_apt_message_get_code (KithAptMessage *self);
/* The value of the first field called @name (case-insensitive, as apt looks tags up), or NULL. */
const gchar *kith_apt_message_get (KithAptMessage *self, const gchar *name);
/* Appends a field; a NULL or empty @value adds nothing (apt skips empty fields). */
void kith_apt_message_add (KithAptMessage *self, const gchar *name, const gchar *value);
/* Appends a field with a printf-formatted value. */
void kith_apt_message_addf (KithAptMessage *self, const gchar *name, const gchar *format, ...)
  G_GNUC_PRINTF (3, 4);
/* Every "Config-Item: Key=Value" of a 601 Configuration, unquoted (%XX), into @config
 * (key → value, keys as apt writes them); FALSE when an item has no '='. */
gboolean kith_apt_message_get_config (KithAptMessage *self, GHashTable *config);

/* The wire form: status line, fields, empty line. Control characters in values become
 * spaces, so a value can never start a message of its own; caller frees. */
gchar *kith_apt_message_to_string (KithAptMessage *self);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (KithAptMessage, kith_apt_message_free)

G_END_DECLS
