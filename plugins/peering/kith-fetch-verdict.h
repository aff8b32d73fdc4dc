/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* kith-fetch-verdict.h — who answers for a whole-file copy whose bytes came from several
 * senders (bytes kept of a broken download, kith-resume-table.h, then the rest from the
 * source that resumed it) when the whole does not match. One peer that sent kept bytes
 * answers for it alone, as any source would. Of several, the copy does not say which sent
 * the wrong bytes: each has a fault's back-off, the copy is kept (the suspect) while one
 * source sends the whole file again, and once that copy verifies, each sender's range of the
 * suspect is compared with it; whose bytes differ lied.
 *
 * The verdict holds who sent which kept bytes (the spans) and the suspect. It knows nothing
 * of the download that owns it (kith-fetch-download.h): the download passes in what it
 * knows now (the bytes in, its source) and hears through the callbacks whom to blame and
 * when a comparison is over. */
#pragma once

#include "kith-alias-writer.h"
#include "kith-metrics.h"

G_BEGIN_DECLS

typedef struct _KithFetchVerdict KithFetchVerdict;

typedef struct {
  /* @node sent bytes of the copy and answers for @error: KITH_PEERING_ERROR_HASH_MISMATCH
   * (the error the copy failed with, or bytes of it that differ from the verified copy's),
   * it lied; KITH_PEERING_ERROR_FAILED, it is one of several senders of a copy that did
   * not match, a fault. */
  void (*blame) (KithFetchVerdict *verdict, const gchar *node, const GError *error, gpointer user_data);
  /* The comparison kith_fetch_verdict_judge() began is over and the liars were blamed:
   * @entry (taken) is the verified copy it was handed. The verdict may be freed from here. */
  void (*judged) (KithFetchVerdict *verdict, KithAliasEntry *entry, gpointer user_data);
} KithFetchVerdictFuncs;

/* The verdict on a copy of @href (named in the log) whose first bytes, kept from before,
 * were sent as @span_nodes and @span_ends say (as in KithResumePoint; both referenced, or
 * both NULL: none kept); copies of several senders that did not match are counted in
 * @metrics (borrowed: it outlives the verdict). Caller owns. */
KithFetchVerdict *kith_fetch_verdict_new (const gchar *href, GPtrArray *span_nodes, GArray *span_ends,
                                          KithMetrics *metrics, const KithFetchVerdictFuncs *funcs,
                                          gpointer user_data);
/* Frees the verdict and the suspect; a comparison under way is cancelled (no callback after
 * this). */
void kith_fetch_verdict_free (KithFetchVerdict *self);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (KithFetchVerdict, kith_fetch_verdict_free)

/* The kept bytes are gone: nobody sent any. */
void kith_fetch_verdict_forget_kept (KithFetchVerdict *self);
/* The peers (not the origin) that sent kept bytes, each once, in the order they sent them.
 * Caller owns the array; the names are borrowed from @self. */
GPtrArray *kith_fetch_verdict_get_kept_senders (KithFetchVerdict *self);
guint kith_fetch_verdict_get_n_kept_senders (KithFetchVerdict *self);
/* Of the kept bytes, those the origin sent. */
guint64 kith_fetch_verdict_get_kept_origin (KithFetchVerdict *self);
/* The peers whose bytes are in the copy, each once: those of the kept bytes, and @source
 * (the source now, nullable) when it is a peer, not the origin, that sent @own_bytes > 0. */
guint kith_fetch_verdict_count_senders (KithFetchVerdict *self, const gchar *source, guint64 own_bytes);
/* Appends to @nodes (which frees its strings) and @ends (guint64) the spans of the copy's
 * @in bytes: the kept ones (the first @kept bytes), then @source's up to @in when it is set
 * and sent any. */
void kith_fetch_verdict_copy_spans (KithFetchVerdict *self, guint64 kept, guint64 in, const gchar *source,
                                    GPtrArray *nodes, GArray *ends);

/* A copy resumed from the kept bytes did not match (@why, a HASH_MISMATCH). @source, when
 * set, is the source now, which sent @own_bytes of it too. A single peer that sent kept
 * bytes, and no source now, is blamed with @why; otherwise each of the senders (and
 * @source) is blamed with a fault, and the copy is counted and logged: the next copy comes
 * from a single source, and the suspect (kith_fetch_verdict_suspect()) is judged by it. */
void kith_fetch_verdict_blame (KithFetchVerdict *self, const GError *why, const gchar *source,
                               guint64 own_bytes);
/* The whole copy, which @source completed, did not match (@error): each peer but @source
 * that sent kept bytes is blamed with @error too. */
void kith_fetch_verdict_blame_kept (KithFetchVerdict *self, const GError *error, const gchar *source);
/* Keeps @writer (taken), a copy of several senders that did not match, with its spans (the
 * kept ones, first @kept bytes, then @source's up to the writer's size) until it is judged;
 * when a suspect is kept already, that one stays and @writer is freed. */
void kith_fetch_verdict_suspect (KithFetchVerdict *self, KithAliasWriter *writer, guint64 kept,
                                 const gchar *source);
gboolean kith_fetch_verdict_has_suspect (KithFetchVerdict *self);
/* Judges the suspect by @entry (taken), the verified file a single source sent in its place:
 * each peer whose range of the suspect differs from @entry's bytes is blamed with a
 * HASH_MISMATCH (a range that cannot be read is logged, not blamed). Both files are read
 * once, in a worker thread; then the suspect goes and judged has @entry. With no peer's
 * range to compare (no suspect, or the origin sent all of it) judged is called before this
 * returns. */
void kith_fetch_verdict_judge (KithFetchVerdict *self, KithAliasEntry *entry);

G_END_DECLS
