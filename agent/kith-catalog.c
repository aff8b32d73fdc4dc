/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* kith-catalog.c — the vendor's signed update catalog */
#include "kith-catalog.h"

#include <json-glib/json-glib.h>
#include <string.h>

#include "kith-crypto.h"
#include "kith-hex.h"
#include "kith-json.h"

KithCatalogFile *
kith_catalog_file_new (const gchar *name, const gchar *version, guint64 size, const gchar *sha256,
                       const gchar *url)
{
  KithCatalogFile *file = g_new0 (KithCatalogFile, 1);
  file->name = g_strdup (name);
  file->version = g_strdup (version);
  file->size = size;
  file->sha256 = g_strdup (sha256);
  file->url = g_strdup (url);
  return file;
}

void
kith_catalog_file_free (KithCatalogFile *file)
{
  if (file == NULL)
    return;
  g_free (file->name);
  g_free (file->version);
  g_free (file->sha256);
  g_free (file->url);
  kith_piece_list_free (file->pieces);
  g_free (file);
}

KithCatalog *
kith_catalog_new (void)
{
  KithCatalog *catalog = g_new0 (KithCatalog, 1);
  catalog->files = g_ptr_array_new_with_free_func ((GDestroyNotify) kith_catalog_file_free);
  return catalog;
}

void
kith_catalog_free (KithCatalog *catalog)
{
  if (catalog == NULL)
    return;
  g_ptr_array_unref (catalog->files);
  g_free (catalog);
}

const KithCatalogFile *
kith_catalog_get_file (KithCatalog *catalog, const gchar *name)
{
  for (guint i = 0; i < catalog->files->len; i++) {
    const KithCatalogFile *file = g_ptr_array_index (catalog->files, i);
    if (g_strcmp0 (file->name, name) == 0)
      return file;
  }
  return NULL;
}

static void
kith_catalog_add_time (JsonBuilder *builder, const gchar *member, gint64 when)
{
  g_autoptr (GDateTime) dt = g_date_time_new_from_unix_utc (when);
  g_autofree gchar *iso = g_date_time_format (dt, "%Y-%m-%dT%H:%M:%SZ");
  kith_json_add_string (builder, member, iso);
}

static void
kith_catalog_add_pieces (JsonBuilder *builder, const KithPieceList *pieces)
{
  json_builder_set_member_name (builder, "pieces");
  json_builder_begin_object (builder);
  kith_json_add_int (builder, "size", (gint64) kith_piece_list_get_piece_size (pieces));
  kith_json_add_string (builder, "sha256", kith_piece_list_get_hashes (pieces));
  json_builder_end_object (builder);
}

GBytes *
kith_catalog_to_json (KithCatalog *catalog)
{
  g_autoptr (JsonBuilder) builder = json_builder_new ();
  gsize length = 0;
  gchar *text;

  json_builder_begin_object (builder);
  kith_json_add_int (builder, "version", catalog->version);
  kith_catalog_add_time (builder, "issued", catalog->issued);
  kith_catalog_add_time (builder, "expires", catalog->expires);
  json_builder_set_member_name (builder, "files");
  json_builder_begin_array (builder);
  for (guint i = 0; i < catalog->files->len; i++) {
    const KithCatalogFile *file = g_ptr_array_index (catalog->files, i);
    json_builder_begin_object (builder);
    kith_json_add_string (builder, "name", file->name);
    kith_json_add_string (builder, "version", file->version);
    kith_json_add_int (builder, "size", (gint64) file->size);
    kith_json_add_string (builder, "sha256", file->sha256);
    kith_json_add_string (builder, "url", file->url);
    if (file->pieces != NULL)
      kith_catalog_add_pieces (builder, file->pieces);
    json_builder_end_object (builder);
  }
  json_builder_end_array (builder);
  json_builder_end_object (builder);
  text = kith_json_builder_to_data (builder, TRUE, &length);
  return g_bytes_new_take (text, length);
}

static gboolean
kith_catalog_bad (GError **error, const gchar *what)
{
  g_set_error (error, KITH_CRYPTO_ERROR, KITH_CRYPTO_ERROR_BAD_FORMAT, "catalog: %s", what);
  return FALSE;
}

static gboolean
kith_catalog_get_string (JsonObject *obj, const gchar *member, const gchar **out, GError **error)
{
  const gchar *value = kith_json_get_string (obj, member);
  if (value == NULL || *value == '\0') {
    g_autofree gchar *what = g_strdup_printf ("member \"%s\" must be a non-empty string", member);
    return kith_catalog_bad (error, what);
  }
  *out = value;
  return TRUE;
}

static gboolean
kith_catalog_get_int (JsonObject *obj, const gchar *member, gint64 min, gint64 *out, GError **error)
{
  gint64 value = 0;
  if (!kith_json_get_int (obj, member, &value) || value < min) {
    g_autofree gchar *what =
        g_strdup_printf ("member \"%s\" must be an integer >= %" G_GINT64_FORMAT, member, min);
    return kith_catalog_bad (error, what);
  }
  *out = value;
  return TRUE;
}

static gboolean
kith_catalog_get_time (JsonObject *obj, const gchar *member, gint64 *out, GError **error)
{
  const gchar *text = NULL;
  g_autoptr (GDateTime) dt = NULL;

  if (!kith_catalog_get_string (obj, member, &text, error))
    return FALSE;
  dt = g_date_time_new_from_iso8601 (text, NULL);
  if (dt == NULL) {
    g_autofree gchar *what = g_strdup_printf ("member \"%s\" is not an ISO 8601 time with a zone", member);
    return kith_catalog_bad (error, what);
  }
  *out = g_date_time_to_unix (dt);
  return TRUE;
}

/* The optional "pieces" member of the entry @name of @size bytes: *@out stays NULL
 * without one; one that breaks a bound (kith-piece-list.h) refuses the catalog. */
static gboolean
kith_catalog_parse_pieces (JsonObject *obj, const gchar *name, guint64 size, KithPieceList **out,
                           GError **error)
{
  JsonNode *node = json_object_get_member (obj, "pieces");
  g_autoptr (GError) local = NULL;
  g_autofree gchar *what = NULL;
  JsonObject *pieces;
  gint64 piece_size = 0;

  *out = NULL;
  if (node == NULL)
    return TRUE;
  pieces = JSON_NODE_HOLDS_OBJECT (node) ? json_node_get_object (node) : NULL;
  if (pieces != NULL && kith_json_get_int (pieces, "size", &piece_size) && piece_size > 0)
    *out = kith_piece_list_new (size, (guint64) piece_size, kith_json_get_string (pieces, "sha256"), &local);
  if (*out != NULL)
    return TRUE;
  what = g_strdup_printf ("pieces of \"%s\" are not {\"size\": piece size, \"sha256\": one hash per piece}%s%s",
                          name, local != NULL ? ": " : "", local != NULL ? local->message : "");
  return kith_catalog_bad (error, what);
}

static KithCatalogFile *
kith_catalog_parse_file (JsonNode *node, KithCatalog *catalog, GError **error)
{
  JsonObject *obj;
  const gchar *name = NULL, *version = NULL, *sha256 = NULL, *url = NULL;
  KithPieceList *pieces = NULL;
  KithCatalogFile *file;
  gint64 size = 0;

  if (!JSON_NODE_HOLDS_OBJECT (node)) {
    kith_catalog_bad (error, "every entry of \"files\" must be an object");
    return NULL;
  }
  obj = json_node_get_object (node);
  if (!kith_catalog_get_string (obj, "name", &name, error) ||
      !kith_catalog_get_string (obj, "version", &version, error) ||
      !kith_catalog_get_int (obj, "size", 0, &size, error) ||
      !kith_catalog_get_string (obj, "sha256", &sha256, error) ||
      !kith_catalog_get_string (obj, "url", &url, error))
    return NULL;
  /* names become file names on every node: keep them out of other directories */
  if (strchr (name, '/') != NULL || strchr (name, '\\') != NULL || name[0] == '.') {
    g_autofree gchar *what = g_strdup_printf ("file name \"%s\" is not a plain file name", name);
    kith_catalog_bad (error, what);
    return NULL;
  }
  if (!kith_hex_is_valid (sha256, 64, 64)) {
    g_autofree gchar *what = g_strdup_printf ("sha256 of \"%s\" is not 64 lowercase hex digits", name);
    kith_catalog_bad (error, what);
    return NULL;
  }
  if (kith_catalog_get_file (catalog, name) != NULL) {
    g_autofree gchar *what = g_strdup_printf ("file \"%s\" is listed twice", name);
    kith_catalog_bad (error, what);
    return NULL;
  }
  if (!kith_catalog_parse_pieces (obj, name, (guint64) size, &pieces, error))
    return NULL;
  file = kith_catalog_file_new (name, version, (guint64) size, sha256, url);
  file->pieces = pieces;
  return file;
}

KithCatalog *
kith_catalog_parse (GBytes *bytes, GError **error)
{
  g_autoptr (JsonParser) parser = json_parser_new ();
  g_autoptr (KithCatalog) catalog = kith_catalog_new ();
  g_autoptr (GError) json_error = NULL;
  JsonNode *root;
  JsonObject *obj;
  JsonNode *files;

  if (!json_parser_load_from_data (parser, g_bytes_get_data (bytes, NULL), (gssize) g_bytes_get_size (bytes),
                                   &json_error)) {
    g_set_error (error, KITH_CRYPTO_ERROR, KITH_CRYPTO_ERROR_BAD_FORMAT, "catalog is not JSON: %s",
                 json_error->message);
    return NULL;
  }
  root = json_parser_get_root (parser);
  if (root == NULL || !JSON_NODE_HOLDS_OBJECT (root)) {
    kith_catalog_bad (error, "not a JSON object");
    return NULL;
  }
  obj = json_node_get_object (root);
  if (!kith_catalog_get_int (obj, "version", 1, &catalog->version, error) ||
      !kith_catalog_get_time (obj, "issued", &catalog->issued, error) ||
      !kith_catalog_get_time (obj, "expires", &catalog->expires, error))
    return NULL;
  files = json_object_get_member (obj, "files");
  if (files == NULL || !JSON_NODE_HOLDS_ARRAY (files)) {
    kith_catalog_bad (error, "member \"files\" must be an array");
    return NULL;
  }
  for (guint i = 0; i < json_array_get_length (json_node_get_array (files)); i++) {
    KithCatalogFile *file =
        kith_catalog_parse_file (json_array_get_element (json_node_get_array (files), i), catalog, error);
    if (file == NULL)
      return NULL;
    g_ptr_array_add (catalog->files, file);
  }
  return g_steal_pointer (&catalog);
}

KithCatalog *
kith_catalog_verify (GBytes *catalog_bytes, GBytes *signature_bytes, const gchar *trust_anchor_path,
                     gint64 now, gint64 installed_version, GError **error)
{
  g_autofree gchar *anchor_pem = NULL;
  g_autofree gchar *signer = NULL;
  g_autoptr (KithCatalog) catalog = NULL;
  g_autoptr (GError) read_error = NULL;

  if (!g_file_get_contents (trust_anchor_path, &anchor_pem, NULL, &read_error)) {
    g_set_error (error, KITH_CRYPTO_ERROR, KITH_CRYPTO_ERROR_UNTRUSTED, "cannot read trust anchor: %s",
                 read_error->message);
    return NULL;
  }
  signer = kith_crypto_detached_verify (catalog_bytes, signature_bytes, anchor_pem, now, error);
  if (signer == NULL) {
    g_prefix_error (error, "catalog signature: ");
    return NULL;
  }
  catalog = kith_catalog_parse (catalog_bytes, error);
  if (catalog == NULL)
    return NULL;
  if (now >= catalog->expires) {
    g_autoptr (GDateTime) dt = g_date_time_new_from_unix_utc (catalog->expires);
    g_autofree gchar *iso = g_date_time_format (dt, "%Y-%m-%dT%H:%M:%SZ");
    g_set_error (error, KITH_CRYPTO_ERROR, KITH_CRYPTO_ERROR_EXPIRED,
                 "catalog version %" G_GINT64_FORMAT " expired on %s", catalog->version, iso);
    return NULL;
  }
  if (catalog->version < installed_version) {
    g_set_error (error, KITH_CRYPTO_ERROR, KITH_CRYPTO_ERROR_ROLLBACK,
                 "catalog version %" G_GINT64_FORMAT " is older than the installed version %" G_GINT64_FORMAT,
                 catalog->version, installed_version);
    return NULL;
  }
  return g_steal_pointer (&catalog);
}
