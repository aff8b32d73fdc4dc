/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* kith-peering-error.h — the peering component's error domain */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

#define KITH_PEERING_ERROR (kith_peering_error_quark ())

/**
 * KithPeeringError:
 * @KITH_PEERING_ERROR_FAILED: anything not covered below
 * @KITH_PEERING_ERROR_PACKET_TOO_LARGE: a packet is longer than KITH_PACKET_MAX_SIZE
 * @KITH_PEERING_ERROR_PACKET_MALFORMED: not one well-formed `<service/>` element: bad XML,
 *   truncated, children, text content, DOCTYPE, comments, unknown entities
 * @KITH_PEERING_ERROR_PACKET_NOT_UTF8: the bytes are not valid UTF-8 (or contain NUL)
 * @KITH_PEERING_ERROR_PACKET_VERSION: the protocol major version is not ours
 * @KITH_PEERING_ERROR_PACKET_UNKNOWN_TYPE: the `type` attribute names no packet we know
 * @KITH_PEERING_ERROR_PACKET_MISSING_ATTRIBUTE: an attribute required for the type is absent
 * @KITH_PEERING_ERROR_PACKET_BAD_VALUE: a known attribute has a value of the wrong form
 * @KITH_PEERING_ERROR_PACKET_TOO_MANY_ATTRIBUTES: more than KITH_PACKET_MAX_ATTRIBUTES
 * @KITH_PEERING_ERROR_PACKET_DUPLICATE_ATTRIBUTE: the same attribute appears twice
 * @KITH_PEERING_ERROR_NOT_FOUND: nobody on the LAN has it, and origin was not allowed
 * @KITH_PEERING_ERROR_HASH_MISMATCH: the bytes received do not match the expected sha256
 * @KITH_PEERING_ERROR_NO_SOURCE: every peer failed and origin failed or was not allowed
 * @KITH_PEERING_ERROR_CANCELLED: the caller cancelled the operation
 * @KITH_PEERING_ERROR_OFFLINE: origin cannot be reached and no peer or relay can help
 *
 * The PACKET_* codes are the reasons a received packet is dropped; each maps to a
 * short label for the drop counters, see kith_peering_error_to_reason().
 */
typedef enum {
  KITH_PEERING_ERROR_FAILED,
  KITH_PEERING_ERROR_PACKET_TOO_LARGE,
  KITH_PEERING_ERROR_PACKET_MALFORMED,
  KITH_PEERING_ERROR_PACKET_NOT_UTF8,
  KITH_PEERING_ERROR_PACKET_VERSION,
  KITH_PEERING_ERROR_PACKET_UNKNOWN_TYPE,
  KITH_PEERING_ERROR_PACKET_MISSING_ATTRIBUTE,
  KITH_PEERING_ERROR_PACKET_BAD_VALUE,
  KITH_PEERING_ERROR_PACKET_TOO_MANY_ATTRIBUTES,
  KITH_PEERING_ERROR_PACKET_DUPLICATE_ATTRIBUTE,
  KITH_PEERING_ERROR_NOT_FOUND,
  KITH_PEERING_ERROR_HASH_MISMATCH,
  KITH_PEERING_ERROR_NO_SOURCE,
  KITH_PEERING_ERROR_CANCELLED,
  KITH_PEERING_ERROR_OFFLINE,
  KITH_PEERING_ERROR_LAST /*< skip >*/
} KithPeeringError;

/* The error quark of the peering component. */
GQuark kith_peering_error_quark (void);
/* A short static label for @code ("too-large", "malformed", …), used as the metric label
 * of dropped packets; "unknown" for a code out of range. Never NULL, never freed. */
const gchar *kith_peering_error_to_reason (gint code);

G_END_DECLS
