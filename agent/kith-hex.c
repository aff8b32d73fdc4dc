/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* kith-hex.c — the one rule for hex strings */
#include "kith-hex.h"

gboolean
kith_hex_is_valid (const gchar *text, gsize min_len, gsize max_len)
{
  gsize len = 0;

  if (text == NULL)
    return FALSE;
  for (; text[len] != '\0'; len++) {
    if (len >= max_len || !(g_ascii_isdigit (text[len]) || (text[len] >= 'a' && text[len] <= 'f')))
      return FALSE;
  }
  return len >= min_len;
}
