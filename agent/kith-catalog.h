/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* kith-catalog.h — the vendor's signed update catalog (docs/architecture.md, "Trust")
 *
 * catalog.json:
 *   {"version": 3,                          monotonic integer >= 1
 *    "issued": "2026-11-22T03:00:00Z",      ISO 8601, UTC
 *    "expires": "2026-11-29T03:00:00Z",     ISO 8601, UTC
 *    "files": [{"name": "avdat", "version": "2611211200", "size": 931840,
 *               "sha256": "<64 lowercase hex>", "url": "/files/avdat-2611211200.cab",
 *               "pieces": {"size": 1048576, "sha256": "<64 hex per piece>"}}]}
 * url is relative to the backend's base URL. pieces (optional; kith-backend publish writes it
 * for files of at least KITH_PIECE_LIST_MIN_FILE_SIZE) is the file's piece list
 * (kith-piece-list.h): signed with the rest, so each piece is trusted like the file hash. catalog.json.sig is the detached signature
 * document of kith_crypto_detached_sign() over the exact bytes of catalog.json. */
#pragma once

#include <glib.h>

#include "kith-piece-list.h"

G_BEGIN_DECLS

typedef struct {
  gchar *name;    /* unique in a catalog, no '/' */
  gchar *version; /* opaque; "differs from the installed one" is all that matters */
  guint64 size;
  gchar *sha256; /* lowercase hex */
  gchar *url;    /* relative to the backend base URL, e.g. /files/avdat-2611211200.cab */
  KithPieceList *pieces; /* its piece hashes, or NULL; owned */
} KithCatalogFile;

typedef struct {
  gint64 version;
  gint64 issued;  /* unix seconds */
  gint64 expires; /* unix seconds */
  GPtrArray *files; /* KithCatalogFile, owned */
} KithCatalog;

/* A new file entry copying its strings; free with kith_catalog_file_free(). */
KithCatalogFile *kith_catalog_file_new (const gchar *name, const gchar *version, guint64 size,
                                        const gchar *sha256, const gchar *url);
void kith_catalog_file_free (KithCatalogFile *file);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (KithCatalogFile, kith_catalog_file_free)

/* An empty catalog (version 0, no files); free with kith_catalog_free(). */
KithCatalog *kith_catalog_new (void);
void kith_catalog_free (KithCatalog *catalog);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (KithCatalog, kith_catalog_free)

/* The entry named @name, or NULL; borrowed. */
const KithCatalogFile *kith_catalog_get_file (KithCatalog *catalog, const gchar *name);
/* The catalog as pretty-printed JSON (the bytes that get signed); caller unrefs. */
GBytes *kith_catalog_to_json (KithCatalog *catalog);
/* Parses catalog JSON; NULL and KITH_CRYPTO_ERROR_BAD_FORMAT naming the bad member. */
KithCatalog *kith_catalog_parse (GBytes *bytes, GError **error);
/* Accepts @catalog_bytes only if @signature_bytes signs them with a certificate chaining to
 * the CA in @trust_anchor_path, valid at @now (unix seconds), the catalog has not expired at
 * @now and its version is >= @installed_version (0: nothing installed). Returns the parsed
 * catalog (caller frees) or NULL with a KITH_CRYPTO_ERROR: BAD_FORMAT, UNTRUSTED,
 * BAD_SIGNATURE, EXPIRED, NOT_YET_VALID or ROLLBACK. */
KithCatalog *kith_catalog_verify (GBytes *catalog_bytes, GBytes *signature_bytes,
                                  const gchar *trust_anchor_path, gint64 now, gint64 installed_version,
                                  GError **error);

G_END_DECLS
