/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* kith-http-range.h — the one Range header parser of the peering servers: a single
 * "bytes=a-b", "bytes=a-" or "bytes=-n" against a known size (RFC 9110) */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

typedef enum {
  KITH_HTTP_RANGE_NONE,          /* no usable range: serve everything */
  KITH_HTTP_RANGE_OK,            /* serve [start, end] */
  KITH_HTTP_RANGE_UNSATISFIABLE, /* answer 416 */
} KithHttpRangeResult;

/* Parses the Range header @value (nullable) against a file of @size bytes and fills
 * @start and @end (inclusive) on KITH_HTTP_RANGE_OK. Several ranges or a malformed
 * header are KITH_HTTP_RANGE_NONE: the whole file is served, as RFC 9110 allows. */
KithHttpRangeResult kith_http_range_parse (const gchar *value, guint64 size, guint64 *start,
                                           guint64 *end);

G_END_DECLS
