/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* kith-partial-table.h — the partial copies this node serves, by token: its own downloads
 * in progress (docs/protocol.md "Streaming"). A finished copy stays a short while, so that
 * a reader who heard of it just before the end still gets it; a failed one goes at once. */
#pragma once

#include "kith-partial-copy.h"

G_BEGIN_DECLS

/* Partial copies held at most; when full, the oldest finished one (else the oldest) goes. */
#define KITH_PARTIAL_TABLE_MAX 64

typedef struct _KithPartialTable KithPartialTable;

/* A table that keeps a complete copy @linger_ms after it completed. */
KithPartialTable *kith_partial_table_new (guint linger_ms);
void kith_partial_table_free (KithPartialTable *self);
/* Adds @copy (referenced) under its token. */
void kith_partial_table_add (KithPartialTable *self, KithPartialCopy *copy);
/* The copy named @token, or NULL; caller owns a reference. */
KithPartialCopy *kith_partial_table_lookup (KithPartialTable *self, const gchar *token);
/* Copies held now. */
guint kith_partial_table_get_size (KithPartialTable *self);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (KithPartialTable, kith_partial_table_free)

G_END_DECLS
