/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* kith-peering-error.c — the peering component's error domain */
#include "kith-peering-error.h"

G_DEFINE_QUARK (kith-peering-error-quark, kith_peering_error)

/* Indexed by KithPeeringError; these strings are metric labels, so they are part of
 * the /metrics interface and must not change once released. */
static const gchar *const reasons[] = {
  [KITH_PEERING_ERROR_FAILED] = "failed",
  [KITH_PEERING_ERROR_PACKET_TOO_LARGE] = "too-large",
  [KITH_PEERING_ERROR_PACKET_MALFORMED] = "malformed",
  [KITH_PEERING_ERROR_PACKET_NOT_UTF8] = "not-utf8",
  [KITH_PEERING_ERROR_PACKET_VERSION] = "version",
  [KITH_PEERING_ERROR_PACKET_UNKNOWN_TYPE] = "unknown-type",
  [KITH_PEERING_ERROR_PACKET_MISSING_ATTRIBUTE] = "missing-attribute",
  [KITH_PEERING_ERROR_PACKET_BAD_VALUE] = "bad-value",
  [KITH_PEERING_ERROR_PACKET_TOO_MANY_ATTRIBUTES] = "too-many-attributes",
  [KITH_PEERING_ERROR_PACKET_DUPLICATE_ATTRIBUTE] = "duplicate-attribute",
  [KITH_PEERING_ERROR_NOT_FOUND] = "not-found",
  [KITH_PEERING_ERROR_HASH_MISMATCH] = "hash-mismatch",
  [KITH_PEERING_ERROR_NO_SOURCE] = "no-source",
  [KITH_PEERING_ERROR_CANCELLED] = "cancelled",
  [KITH_PEERING_ERROR_OFFLINE] = "offline",
};
G_STATIC_ASSERT (G_N_ELEMENTS (reasons) == KITH_PEERING_ERROR_LAST);

const gchar *
kith_peering_error_to_reason (gint code)
{
  if (code < 0 || code >= KITH_PEERING_ERROR_LAST)
    return "unknown";
  return reasons[code];
}
