/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* kith-http-range.c — parsing one byte range; shared by the alias and partial handlers */
#include "kith-http-range.h"

#include <string.h>

/* Parses a decimal without sign or overflow; FALSE otherwise. */
static gboolean
kith_http_range_parse_u64 (const gchar *s, gsize len, guint64 *out)
{
  guint64 v = 0;

  if (len == 0 || len > 19)
    return FALSE;
  for (gsize i = 0; i < len; i++) {
    if (!g_ascii_isdigit (s[i]))
      return FALSE;
    v = v * 10 + (guint64) (s[i] - '0');
  }
  *out = v;
  return TRUE;
}

KithHttpRangeResult
kith_http_range_parse (const gchar *value, guint64 size, guint64 *start, guint64 *end)
{
  const gchar *spec, *dash;
  guint64 a = 0, b = 0;
  gboolean has_a, has_b;

  if (value == NULL || !g_str_has_prefix (value, "bytes="))
    return KITH_HTTP_RANGE_NONE;
  spec = value + strlen ("bytes=");
  dash = strchr (spec, '-');
  if (dash == NULL || strchr (spec, ',') != NULL)
    return KITH_HTTP_RANGE_NONE;
  has_a = dash > spec;
  has_b = dash[1] != '\0';
  if ((has_a && !kith_http_range_parse_u64 (spec, (gsize) (dash - spec), &a)) ||
      (has_b && !kith_http_range_parse_u64 (dash + 1, strlen (dash + 1), &b)) || (!has_a && !has_b) ||
      (has_a && has_b && b < a))
    return KITH_HTTP_RANGE_NONE;

  if (!has_a) { /* suffix: the last b bytes */
    if (b == 0 || size == 0)
      return KITH_HTTP_RANGE_UNSATISFIABLE;
    *start = b >= size ? 0 : size - b;
    *end = size - 1;
    return KITH_HTTP_RANGE_OK;
  }
  if (a >= size)
    return KITH_HTTP_RANGE_UNSATISFIABLE;
  *start = a;
  *end = has_b && b < size ? b : size - 1;
  return KITH_HTTP_RANGE_OK;
}
