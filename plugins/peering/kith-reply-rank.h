/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* kith-reply-rank.h — the order in which the holders of a file answer one request
 * (docs/protocol.md, "Reply order"): a pure function every node computes alike, so that
 * without any exchange one holder goes first, the next one slot later, and so on — and a
 * different holder goes first for each request, which spreads the load. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* The score of @holder for the request (@requester, @id): 64 well-mixed bits of FNV-1a over
 * the three; lower answers first. Node ids are compared as given (lowercase hex). */
guint64 kith_reply_rank_score (const gchar *requester, guint32 id, const gchar *holder);

/* The rank of @self for the request (0 = first): a @hint naming another node goes first,
 * then every node of @holders (node ids, @self and @hint among them or not; @requester is
 * left out) with a lower score than @self. A @hint naming @self makes it first. */
guint kith_reply_rank_of (const gchar *requester, guint32 id, const gchar *self, const gchar *hint,
                          GPtrArray *holders);

/* The node of @holders (node ids) with the lowest score for the request, or NULL if empty;
 * borrowed from @holders. */
const gchar *kith_reply_rank_first (const gchar *requester, guint32 id, GPtrArray *holders);

G_END_DECLS
