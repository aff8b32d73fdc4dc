/* kith-upload-blacklist.h — nodes that failed us (claims 2, 4, 10, 12): persisted as JSON
 * (written atomically), each entry expiring after a configured time, and listed in the next
 * report we upload (header X-Kith-Blacklist) so the vendor learns of them. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

typedef struct {
  gchar *node;
  gchar *reason;
  gint64 since; /* unix seconds */
  gint64 until;
} KithBlacklistEntry;

typedef struct _KithUploadBlacklist KithUploadBlacklist;

/* The blacklist kept in @path (loaded if it exists; a damaged file is logged and replaced);
 * entries last @ttl seconds. Caller frees. */
KithUploadBlacklist *kith_upload_blacklist_new (const gchar *path, gint64 ttl);
void kith_upload_blacklist_free (KithUploadBlacklist *self);
/* Adds (or renews) @node with @reason at @now and saves. */
gboolean kith_upload_blacklist_add (KithUploadBlacklist *self, const gchar *node, const gchar *reason, gint64 now,
                                    GError **error);
/* Whether @node is listed and not expired at @now. */
gboolean kith_upload_blacklist_contains (KithUploadBlacklist *self, const gchar *node, gint64 now);
/* The entries alive at @now (borrowed KithBlacklistEntry*), oldest first; caller unrefs. */
GPtrArray *kith_upload_blacklist_list (KithUploadBlacklist *self, gint64 now);
/* "NODE=REASON;…" of the live entries (reasons without ';' and '='), or NULL when empty;
 * caller frees. This is the X-Kith-Blacklist header of the next report. */
gchar *kith_upload_blacklist_to_header (KithUploadBlacklist *self, gint64 now);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (KithUploadBlacklist, kith_upload_blacklist_free)

G_END_DECLS
