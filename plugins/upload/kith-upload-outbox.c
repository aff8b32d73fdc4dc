/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* kith-upload-outbox.c — the outbox directory and its pending reports */
#include "kith-upload-outbox.h"

#include <errno.h>
#include <fcntl.h>
#include <glib/gstdio.h>
#include <string.h>
#ifdef G_OS_UNIX
#include <unistd.h>
#endif

#include "kith-agent.h"
#include "kith-crypto.h"
#include "kith-file.h"
#include "kith-upload-error.h"

struct _KithUploadOutbox {
  gchar *dir;
  guint64 max_size;
  GHashTable *pending; /* name → KithOutboxReport* */
  GHashTable *refused; /* names already refused with a message */
};

static void
kith_upload_outbox_report_free (KithOutboxReport *report)
{
  g_free (report->name);
  g_free (report->last_error);
  g_free (report);
}

KithUploadOutbox *
kith_upload_outbox_new (const gchar *dir, guint64 max_size)
{
  KithUploadOutbox *self = g_new0 (KithUploadOutbox, 1);

  self->dir = g_strdup (dir);
  self->max_size = max_size;
  self->pending = g_hash_table_new_full (g_str_hash, g_str_equal, NULL,
                                         (GDestroyNotify) kith_upload_outbox_report_free);
  self->refused = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  return self;
}

void
kith_upload_outbox_free (KithUploadOutbox *self)
{
  if (self == NULL)
    return;
  g_hash_table_unref (self->pending);
  g_hash_table_unref (self->refused);
  g_free (self->dir);
  g_free (self);
}

/* Whether @name is a report: a regular file itself, not a link to one. Anything else is
 * refused once with a message. */
static gboolean
kith_upload_outbox_is_report (KithUploadOutbox *self, const gchar *name, GHashTable *refused_now)
{
  g_autofree gchar *path = g_build_filename (self->dir, name, NULL);
  const gchar *why = NULL;
  GStatBuf st;

  if (g_lstat (path, &st) != 0)
    return FALSE; /* gone since the listing */
  if (S_ISLNK (st.st_mode))
    why = "is a symbolic link";
  else if (!S_ISREG (st.st_mode))
    why = "is not a regular file";
  if (why == NULL)
    return TRUE;
  g_hash_table_add (refused_now, (gpointer) name);
  if (!g_hash_table_contains (self->refused, name)) {
    g_warning ("outbox entry %s %s: refused, not sent (put the report itself there)", path, why);
    g_hash_table_add (self->refused, g_strdup (name));
  }
  return FALSE;
}

gboolean
kith_upload_outbox_scan (KithUploadOutbox *self)
{
  g_autoptr (GDir) dir = g_dir_open (self->dir, 0, NULL);
  g_autoptr (GHashTable) seen = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  g_autoptr (GHashTable) refused_now = g_hash_table_new (g_str_hash, g_str_equal);
  GHashTableIter iter;
  gpointer key, value;
  const gchar *name;
  gboolean changed = FALSE;

  while (dir != NULL && (name = g_dir_read_name (dir)) != NULL) {
    if (name[0] == '.' || !kith_upload_outbox_is_report (self, name, refused_now))
      continue;
    g_hash_table_add (seen, g_strdup (name));
    if (!g_hash_table_contains (self->pending, name)) {
      KithOutboxReport *report = g_new0 (KithOutboxReport, 1);
      report->name = g_strdup (name);
      g_hash_table_insert (self->pending, report->name, report);
      changed = TRUE;
    }
  }
  g_hash_table_iter_init (&iter, self->pending);
  while (g_hash_table_iter_next (&iter, &key, &value)) {
    KithOutboxReport *report = value;
    if (!report->sending && !g_hash_table_contains (seen, key)) {
      g_hash_table_iter_remove (&iter);
      changed = TRUE;
    }
  }
  /* a refused name that went away (or became a report) is refused again next time */
  g_hash_table_iter_init (&iter, self->refused);
  while (g_hash_table_iter_next (&iter, &key, NULL)) {
    if (!g_hash_table_contains (refused_now, key))
      g_hash_table_iter_remove (&iter);
  }
  return changed;
}

static gint
kith_upload_outbox_compare (gconstpointer a, gconstpointer b)
{
  const KithOutboxReport *ra = *(KithOutboxReport *const *) a;
  const KithOutboxReport *rb = *(KithOutboxReport *const *) b;
  return g_strcmp0 (ra->name, rb->name);
}

GPtrArray *
kith_upload_outbox_list (KithUploadOutbox *self)
{
  GPtrArray *list = g_ptr_array_new ();
  GHashTableIter iter;
  gpointer value;

  g_hash_table_iter_init (&iter, self->pending);
  while (g_hash_table_iter_next (&iter, NULL, &value))
    g_ptr_array_add (list, value);
  g_ptr_array_sort (list, kith_upload_outbox_compare);
  return list;
}

guint
kith_upload_outbox_get_count (KithUploadOutbox *self)
{
  return g_hash_table_size (self->pending);
}

GVariant *
kith_upload_outbox_to_variant (KithUploadOutbox *self, gint64 now)
{
  g_autoptr (GPtrArray) list = kith_upload_outbox_list (self);
  GVariantBuilder builder;

  g_variant_builder_init (&builder, G_VARIANT_TYPE ("a(ssus)"));
  for (guint i = 0; i < list->len; i++) {
    KithOutboxReport *report = g_ptr_array_index (list, i);
    const gchar *state = report->sending ? "sending" : report->next_try > now ? "backoff" : "waiting";
    g_variant_builder_add (&builder, "(ssus)", report->name, state, report->attempts,
                           report->last_error != NULL ? report->last_error : "");
  }
  return g_variant_builder_end (&builder);
}

GBytes *
kith_upload_outbox_read (KithUploadOutbox *self, const gchar *name, GError **error)
{
  g_autofree gchar *path = g_build_filename (self->dir, name, NULL);
  g_autoptr (GMappedFile) mapped = NULL;
  GStatBuf st;
  int fd;

#ifdef O_NOFOLLOW
  fd = g_open (path, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC, 0);
#else
  fd = g_open (path, O_RDONLY, 0);
#endif
  if (fd < 0) {
    int saved = errno;
    g_set_error (error, G_FILE_ERROR, g_file_error_from_errno (saved), "cannot open %s: %s", path,
                 saved == ELOOP ? "it is a symbolic link" : g_strerror (saved));
    return NULL;
  }
  /* fstat of what was opened: a name swapped after the scan cannot bring in another file */
  if (fstat (fd, &st) != 0 || !S_ISREG (st.st_mode)) {
    g_set_error (error, G_FILE_ERROR, G_FILE_ERROR_INVAL, "%s is not a regular file", path);
    g_close (fd, NULL);
    return NULL;
  }
  if ((guint64) st.st_size > self->max_size) {
    g_set_error (error, G_FILE_ERROR, G_FILE_ERROR_FAILED, "%s is larger than [upload] max-size", path);
    g_close (fd, NULL);
    return NULL;
  }
  if (st.st_size == 0) {
    g_close (fd, NULL);
    return g_bytes_new (NULL, 0);
  }
  mapped = g_mapped_file_new_from_fd (fd, FALSE, error);
  g_close (fd, NULL);
  if (mapped == NULL)
    return NULL;
  return g_bytes_new (g_mapped_file_get_contents (mapped), g_mapped_file_get_length (mapped));
}

gchar *
kith_upload_outbox_add (KithUploadOutbox *self, const gchar *name, GBytes *content, GError **error)
{
  g_autofree gchar *stamp = NULL;
  g_autofree gchar *path = NULL;

  if (name == NULL || *name == '\0' || name[0] == '.' || strchr (name, '/') != NULL) {
    g_autoptr (GDateTime) now = g_date_time_new_now_utc ();
    g_autofree gchar *random = kith_crypto_random_hex (4, NULL);
    g_autofree gchar *when = g_date_time_format (now, "%Y%m%dT%H%M%S");
    stamp = g_strdup_printf ("%s-%s.report", when, random);
    name = stamp;
  }
  path = g_build_filename (self->dir, name, NULL);
  if (g_file_test (path, G_FILE_TEST_EXISTS) || g_file_test (path, G_FILE_TEST_IS_SYMLINK)) {
    g_set_error (error, KITH_UPLOAD_ERROR, KITH_UPLOAD_ERROR_DUPLICATE, "%s is already in the outbox", name);
    return NULL;
  }
  if (!kith_file_write_atomic (path, g_bytes_get_data (content, NULL), g_bytes_get_size (content), 0644, error))
    return NULL;
  return g_strdup (name);
}

void
kith_upload_outbox_remove (KithUploadOutbox *self, const gchar *name)
{
  g_autofree gchar *path = g_build_filename (self->dir, name, NULL);

  if (g_unlink (path) != 0 && errno != ENOENT)
    g_warning ("cannot remove %s from the outbox: %s", path, g_strerror (errno));
  g_hash_table_remove (self->pending, name);
}

gboolean
kith_upload_outbox_cancel (KithUploadOutbox *self, const gchar *name, GError **error)
{
  g_autofree gchar *path = NULL;

  if (name == NULL || name[0] == '.' || strchr (name, '/') != NULL || !g_hash_table_contains (self->pending, name)) {
    g_set_error (error, KITH_UPLOAD_ERROR, KITH_UPLOAD_ERROR_NOT_PENDING, "no report named %s is pending",
                 name != NULL ? name : "(null)");
    return FALSE;
  }
  path = g_build_filename (self->dir, name, NULL);
  if (g_unlink (path) != 0 && errno != ENOENT) {
    int saved = errno;
    g_set_error (error, G_FILE_ERROR, g_file_error_from_errno (saved), "cannot remove %s from the outbox: %s", path,
                 g_strerror (saved));
    return FALSE;
  }
  /* the unlink is durable before anyone hears it is gone */
  if (!kith_file_sync_dir (self->dir, error))
    return FALSE;
  g_hash_table_remove (self->pending, name);
  return TRUE;
}

void
kith_upload_outbox_report_set_error (KithOutboxReport *report, const gchar *why)
{
  gsize len = strcspn (why, "\r\n");
  const gchar *end = NULL;

  if (len > KITH_OUTBOX_ERROR_MAX)
    len = KITH_OUTBOX_ERROR_MAX;
  /* never half a character: the text goes out as a D-Bus string */
  g_utf8_validate (why, (gssize) len, &end);
  g_free (report->last_error);
  report->last_error = g_strndup (why, (gsize) (end - why));
}

gchar *
kith_upload_outbox_report_id (const gchar *node, const gchar *name, const gchar *sha256)
{
  /* the node first: the backend keeps one report (and one receipt) per id */
  g_autofree gchar *text = g_strdup_printf ("kith-upload\n%s\n%s\n%s", node, name, sha256);
  g_autoptr (GBytes) bytes = g_bytes_new (text, strlen (text));
  g_autofree gchar *id = kith_crypto_sha256_hex (bytes);

  return g_strndup (id, 32);
}
