/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* kith-backend-store.h — the backend directory: the vendor CA, the catalog signing key,
 * the enrollment token, the published files and the signed catalog.
 *
 * DIR/ca.pem               the CA certificate agents trust ([agent] trust-anchor)
 * DIR/ca-key.pem           its private key (0600); issues signing and node certificates
 * DIR/signing.pem          the catalog signing certificate, issued by the CA
 * DIR/signing-key.pem      its private key (0600)
 * DIR/enrollment-token     128-bit hex token nodes present to enroll (0600)
 * DIR/uploads/             reports and their receipts (kith-backend-upload.h)
 * DIR/public/              the update origin and nothing else, served as it is by
 *                          kith-backend serve or any static web server:
 *   files/NAME             every published file, served at /files/NAME
 *   catalog.json           the current catalog, served at /catalog.json
 *   catalog.json.sig       its detached signature, served at /catalog.json.sig
 */
#pragma once

#include <glib.h>

#include "kith-catalog.h"

G_BEGIN_DECLS

#define KITH_BACKEND_CA_FILE "ca.pem"
#define KITH_BACKEND_CA_KEY_FILE "ca-key.pem"
#define KITH_BACKEND_SIGNING_FILE "signing.pem"
#define KITH_BACKEND_SIGNING_KEY_FILE "signing-key.pem"
#define KITH_BACKEND_TOKEN_FILE "enrollment-token"
#define KITH_BACKEND_PUBLIC_DIR "public"
#define KITH_BACKEND_FILES_DIR "files"
#define KITH_BACKEND_CATALOG_FILE "catalog.json"
#define KITH_BACKEND_SIGNATURE_FILE "catalog.json.sig"

/* Creates @dir (or fills it if empty) with a new CA, signing key and certificate, token and
 * public/files/. Returns the path of the CA certificate (caller frees). */
gchar *kith_backend_store_init (const gchar *dir, GError **error);
/* Checks that @dir was made by kith_backend_store_init() and its keys and certificates are
 * readable and consistent: NOT_FOUND or CORRUPT otherwise. */
gboolean kith_backend_store_check (const gchar *dir, GError **error);
/* Publishes the regular files of @src_dir into public/ (made when missing) as the next
 * catalog version, expiring @expires_in seconds after now; returns the new catalog (caller
 * frees). A file named NAME-DIGITS.EXT gets name NAME and version DIGITS, any other file keeps its whole file
 * name and gets the first 16 hex digits of its sha256 as version. */
KithCatalog *kith_backend_store_publish (const gchar *dir, const gchar *src_dir, gint64 expires_in,
                                         GError **error);
/* Sets *@catalog to the current catalog of @dir (public/) verified against its own CA at @now (caller
 * frees), or to NULL when nothing was published yet. FALSE with KITH_CRYPTO_ERROR_EXPIRED
 * when it has expired (publish again), with CORRUPT when it is damaged. */
gboolean kith_backend_store_load_catalog (const gchar *dir, gint64 now, KithCatalog **catalog,
                                          GError **error);
/* DIR/public/@name (@name relative, e.g. "files/NAME"); caller frees. */
gchar *kith_backend_store_public_path (const gchar *dir, const gchar *name);
/* Whether @name may appear under files/ (and in a URL): [A-Za-z0-9._+-], not starting with '.'. */
gboolean kith_backend_store_is_safe_name (const gchar *name);

G_END_DECLS
