/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* kith-reply-rank.c — FNV-1a over (requester, id, holder), then a 64-bit finaliser: FNV alone
 * leaves the high bits of strings that differ only at the end poorly mixed, and node ids of
 * one request differ anywhere */
#include "kith-reply-rank.h"

#include <string.h>

#define KITH_REPLY_RANK_FNV_OFFSET G_GUINT64_CONSTANT (0xcbf29ce484222325)
#define KITH_REPLY_RANK_FNV_PRIME G_GUINT64_CONSTANT (0x100000001b3)

static guint64
kith_reply_rank_fnv (guint64 hash, const guchar *data, gsize len)
{
  for (gsize i = 0; i < len; i++) {
    hash ^= data[i];
    hash *= KITH_REPLY_RANK_FNV_PRIME;
  }
  return hash;
}

/* a 64-bit avalanche finaliser (the constants of MurmurHash3's fmix64): every input bit
 * moves about half of the output bits */
static guint64
kith_reply_rank_mix (guint64 x)
{
  x ^= x >> 33;
  x *= G_GUINT64_CONSTANT (0xff51afd7ed558ccd);
  x ^= x >> 33;
  x *= G_GUINT64_CONSTANT (0xc4ceb9fe1a85ec53);
  x ^= x >> 33;
  return x;
}

guint64
kith_reply_rank_score (const gchar *requester, guint32 id, const gchar *holder)
{
  guchar id_bytes[4] = { id >> 24, (id >> 16) & 0xff, (id >> 8) & 0xff, id & 0xff };
  guint64 hash = KITH_REPLY_RANK_FNV_OFFSET;

  /* the separators keep ("ab", "c") and ("a", "bc") apart */
  hash = kith_reply_rank_fnv (hash, (const guchar *) requester, strlen (requester) + 1);
  hash = kith_reply_rank_fnv (hash, id_bytes, sizeof id_bytes);
  hash = kith_reply_rank_fnv (hash, (const guchar *) holder, strlen (holder) + 1);
  return kith_reply_rank_mix (hash);
}

guint
kith_reply_rank_of (const gchar *requester, guint32 id, const gchar *self, const gchar *hint,
                    GPtrArray *holders)
{
  guint64 mine = kith_reply_rank_score (requester, id, self);
  gboolean hinted_other = hint != NULL && g_strcmp0 (hint, self) != 0;
  guint rank = hinted_other ? 1 : 0;

  if (hint != NULL && !hinted_other)
    return 0;
  for (guint i = 0; holders != NULL && i < holders->len; i++) {
    const gchar *node = g_ptr_array_index (holders, i);
    /* the requester may still be listed as a holder (it let its copy go): it is not one */
    if (g_strcmp0 (node, self) == 0 || g_strcmp0 (node, hint) == 0 || g_strcmp0 (node, requester) == 0)
      continue;
    /* ties (a 2^-64 chance) are broken by the id itself, so that no two share a rank */
    if (kith_reply_rank_score (requester, id, node) < mine ||
        (kith_reply_rank_score (requester, id, node) == mine && g_strcmp0 (node, self) < 0))
      rank++;
  }
  return rank;
}

const gchar *
kith_reply_rank_first (const gchar *requester, guint32 id, GPtrArray *holders)
{
  const gchar *first = NULL;
  guint64 best = 0;

  for (guint i = 0; holders != NULL && i < holders->len; i++) {
    const gchar *node = g_ptr_array_index (holders, i);
    guint64 score = kith_reply_rank_score (requester, id, node);
    if (first == NULL || score < best || (score == best && g_strcmp0 (node, first) < 0)) {
      first = node;
      best = score;
    }
  }
  return first;
}
