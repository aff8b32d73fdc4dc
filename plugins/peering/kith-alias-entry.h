/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* kith-alias-entry.h — one href of the alias store, as callers see it */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/**
 * KithAliasTrust:
 * How a stored copy was verified, weakest first; recorded in index.json ("verified") and
 * deciding how far the node announces, serves and vouches for it (docs/protocol.md):
 * @KITH_ALIAS_TRUST_LAN: taken from a peer nothing vouched for (`trust=lan`), or of
 *   unknown history (an index without the record, an adopted file): "lan"
 * @KITH_ALIAS_TRUST_PEER: taken from a peer that proved it is enrolled with the vendor
 *   backend, no hash of ours checked: "peer"
 * @KITH_ALIAS_TRUST_ORIGIN: fetched from the origin itself: "origin"
 * @KITH_ALIAS_TRUST_HASH: checked against a hash this node trusted (the caller's, the signed
 *   catalog's, the origin's digest): "hash"
 */
typedef enum {
  KITH_ALIAS_TRUST_LAN,
  KITH_ALIAS_TRUST_PEER,
  KITH_ALIAS_TRUST_ORIGIN,
  KITH_ALIAS_TRUST_HASH,
} KithAliasTrust;

/* The index name of @trust ("lan", …). */
const gchar *kith_alias_trust_to_string (KithAliasTrust trust);
/* The trust named @name; KITH_ALIAS_TRUST_LAN for NULL or an unknown name. */
KithAliasTrust kith_alias_trust_from_string (const gchar *name);
/* Whether a node vouches for a copy verified so (to peers that have no hash): it fetched
 * it from the origin or checked it against a trusted hash. */
#define KITH_ALIAS_TRUST_VOUCHES(trust) ((trust) >= KITH_ALIAS_TRUST_ORIGIN)

/**
 * KithAliasEntry:
 * @href: the origin URL this file is a copy of
 * @sha256: lower-case hex digest of the content; also its file name
 * @size: size in bytes
 * @created: when the copy was stored (ms since the epoch, store clock)
 * @last_access: when the copy was last served or committed (ms, store clock)
 * @path: absolute path of the file in the cache directory
 * @trust: how the file was verified
 *
 * A value describing one href of the store; several hrefs may share a sha256
 * (and one file). Read-only for callers.
 */
typedef struct {
  gchar *href;
  gchar *sha256;
  guint64 size;
  gint64 created;
  gint64 last_access;
  gchar *path;
  KithAliasTrust trust;
} KithAliasEntry;

/* Deep copy of @entry; free with kith_alias_entry_free(). */
KithAliasEntry *kith_alias_entry_copy (const KithAliasEntry *entry);
/* Frees @entry; NULL is ignored. */
void kith_alias_entry_free (KithAliasEntry *entry);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (KithAliasEntry, kith_alias_entry_free)

G_END_DECLS
