/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* kith-fetch-blame.c — a peer that failed a fetch is skipped for a while */
#include "kith-fetch-blame.h"

#include "kith-peering-error.h"

void
kith_fetch_blame_peer (const KithPeeringContext *context, const gchar *node, const GError *error)
{
  guint backoff_ms;

  if (g_error_matches (error, KITH_PEERING_ERROR, KITH_PEERING_ERROR_HASH_MISMATCH)) {
    if (!kith_peer_table_mark_bad (context->peers, node))
      return;
    kith_metrics_add (context->metrics, "kith_peering_bad_peers_total", NULL, 1);
    g_message ("skipping peer %s for %u s: %s", node, context->timings->bad_peer_ms / 1000, error->message);
    return;
  }
  backoff_ms = kith_peer_table_back_off (context->peers, node);
  if (backoff_ms == 0)
    return;
  kith_metrics_add (context->metrics, "kith_peering_peer_backoffs_total", NULL, 1);
  g_message ("backing off peer %s for %u ms: %s", node, backoff_ms, error->message);
}

void
kith_fetch_blame_source (const KithPeeringContext *context, const gchar *href, const gchar *node,
                         const GError *error)
{
  kith_fetch_blame_peer (context, node, error);
  kith_peer_table_forget_holder (context->peers, href, node);
}
