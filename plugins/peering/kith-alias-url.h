/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* kith-alias-url.h — which alias URLs a node follows. An alias in a "response",
 * "downloading" or "complete" must be an http(s) URL on the host the packet came from,
 * under the kith alias path: anything else (another host, another path on it, file://,
 * credentials) would make the node fetch what the sender chose — the sender's way to
 * reach internal URLs through us (SSRF) — and is dropped before any HTTP library sees it. */
#pragma once

#include <gio/gio.h>

G_BEGIN_DECLS

/* TRUE when @alias is acceptable from a packet sent by @from; else FALSE and *@reason is
 * a static metric label: "syntax", "scheme", "host" or "path". */
gboolean kith_alias_url_check (const gchar *alias, GSocketAddress *from, const gchar **reason);
/* An alias on the any address (a node listening on all of its addresses names no host of
 * its own) gets the host of @from, the packet's source; *@alias is replaced. Any other
 * alias, or none, is left as it is. */
void kith_alias_url_fix_host (gchar **alias, GSocketAddress *from);

G_END_DECLS
