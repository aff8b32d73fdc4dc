/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* kith-hex.h — the one rule for hex strings (hashes, node ids, upload ids) */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* TRUE if @text is between @min_len and @max_len characters long and every one of them
 * is 0-9 or a-f. Upper-case digits are refused: every hex string kith writes, sends or
 * stores is lower-case, so one spelling names one thing. A caller that accepts input from
 * a person lower-cases it first. NULL is not valid. */
gboolean kith_hex_is_valid (const gchar *text, gsize min_len, gsize max_len);

G_END_DECLS
