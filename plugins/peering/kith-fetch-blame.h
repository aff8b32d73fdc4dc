/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* kith-fetch-blame.h — what a peer that failed a fetch costs it in the peer table */
#pragma once

#include "kith-peering-context.h"

G_BEGIN_DECLS

/* @node failed a download with @error: one that lied (KITH_PEERING_ERROR_HASH_MISMATCH:
 * bytes that do not match what it promised) is skipped for bad-peer-time, one whose
 * download merely failed (refused, broken, timed out, an HTTP error) for a short, growing
 * back-off; counted and logged. */
void kith_fetch_blame_peer (const KithPeeringContext *context, const gchar *node, const GError *error);
/* The same for the one source of a download of @href (not one of many in pieces): it is no
 * longer taken for a holder of @href either. */
void kith_fetch_blame_source (const KithPeeringContext *context, const gchar *href, const gchar *node,
                              const GError *error);

G_END_DECLS
