/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* kith-upload-blacklist.h — nodes that failed us (claims 2, 4, 10, 12): persisted as JSON
 * (written atomically), each entry expiring after a configured time, and listed in the next
 * report we upload (header X-Kith-Blacklist) so the vendor learns of them. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

typedef struct {
  gchar *node;
  gchar *address; /* NULL: the node wherever it speaks from; else only offers from "IP:PORT" */
  gchar *reason;
  gint64 since; /* unix seconds */
  gint64 until;
} KithBlacklistEntry;

typedef struct _KithUploadBlacklist KithUploadBlacklist;

/* The most entries kept: offers are fed by the network, so a new entry past this many
 * evicts the one blacklisted longest ago (also when loading a larger file). */
#define KITH_UPLOAD_BLACKLIST_MAX 1024

/* The blacklist kept in @path (loaded if it exists; a damaged file is logged and replaced);
 * entries last @ttl seconds. Caller frees. */
KithUploadBlacklist *kith_upload_blacklist_new (const gchar *path, gint64 ttl);
void kith_upload_blacklist_free (KithUploadBlacklist *self);
/* Adds (or renews) @node with @reason at @now and saves. @address (nullable) limits the entry
 * to offers from that "IP:PORT": an offer whose identity was never proven (no valid
 * certificate and proof of possession) may carry another node's id, and must not get the
 * real node ignored. */
gboolean kith_upload_blacklist_add (KithUploadBlacklist *self, const gchar *node, const gchar *address,
                                    const gchar *reason, gint64 now, GError **error);
/* Whether an offer from @node at @address (nullable) is blacklisted at @now. */
gboolean kith_upload_blacklist_contains (KithUploadBlacklist *self, const gchar *node, const gchar *address,
                                         gint64 now);
/* The entries alive at @now (borrowed KithBlacklistEntry*), oldest first; caller unrefs. */
GPtrArray *kith_upload_blacklist_list (KithUploadBlacklist *self, gint64 now);
/* "NODE=REASON;…" ("NODE@IP:PORT=REASON" for an entry limited to one source) of the live entries (reasons without ';' and '='), or NULL when empty;
 * caller frees. This is the X-Kith-Blacklist header of the next report. */
gchar *kith_upload_blacklist_to_header (KithUploadBlacklist *self, gint64 now);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (KithUploadBlacklist, kith_upload_blacklist_free)

G_END_DECLS
