/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* kith-update-check.c — one catalog check: GET /catalog.json and /catalog.json.sig from
 * [agent] backend-url, kith_catalog_verify() against the trust anchor and the installed
 * version, the installed files hashed against their manifest from a worker thread, then
 * the list of files whose version differs from the installed one or that are damaged.
 */
#include "kith-update-check.h"

#include "kith-http-request.h"
#include "kith-update-error.h"
#include "kith-update-installer.h"

/* The largest catalog.json or catalog.json.sig accepted, in bytes. */
#define KITH_UPDATE_CHECK_CATALOG_MAX (4 * 1024 * 1024)

typedef struct {
  KithAgent *agent;     /* borrowed: the agent outlives its services */
  SoupSession *session; /* a ref */
  gchar *signatures_dir;
  KithCatalog *installed; /* borrowed: the caller keeps it until the callback */
  GBytes *catalog_bytes;
  KithCatalog *catalog;
} KithUpdateCheckData;

static void
kith_update_check_data_free (KithUpdateCheckData *data)
{
  g_clear_object (&data->session);
  g_free (data->signatures_dir);
  g_clear_pointer (&data->catalog_bytes, g_bytes_unref);
  g_clear_pointer (&data->catalog, kith_catalog_free);
  g_free (data);
}

void
kith_update_check_result_free (KithUpdateCheckResult *result)
{
  g_clear_pointer (&result->fetch, g_ptr_array_unref);
  g_clear_pointer (&result->catalog, kith_catalog_free);
  g_free (result);
}

gboolean
kith_update_check_ready (KithAgent *agent, GError **error)
{
  if (!kith_agent_can_reach_backend (agent)) {
    /* the catalog only ever comes from the vendor: directly or through a relay's tunnel */
    g_set_error_literal (error, KITH_UPDATE_ERROR, KITH_UPDATE_ERROR_OFFLINE,
                         "offline: no catalog ([agent] offline=true: this node never contacts "
                         "the backend directly, and no relay on the LAN is in use)");
    return FALSE;
  }
  if (kith_agent_get_backend_url (agent) == NULL || kith_agent_get_trust_anchor (agent) == NULL) {
    g_set_error_literal (error, KITH_UPDATE_ERROR, KITH_UPDATE_ERROR_NOT_CONFIGURED,
                         "no catalog: [agent] backend-url and trust-anchor must both be set");
    return FALSE;
  }
  return TRUE;
}

/* ---- what to fetch ---- */

/* The files of @catalog not installed as they are in @installed, or damaged. */
static GPtrArray *
kith_update_check_choose (KithCatalog *catalog, KithCatalog *installed, GHashTable *damaged)
{
  GPtrArray *fetch = g_ptr_array_new ();

  for (guint i = 0; i < catalog->files->len; i++) {
    KithCatalogFile *entry = g_ptr_array_index (catalog->files, i);
    const KithCatalogFile *old = kith_catalog_get_file (installed, entry->name);

    if (old != NULL && g_strcmp0 (old->version, entry->version) == 0 &&
        g_strcmp0 (old->sha256, entry->sha256) == 0 && !g_hash_table_contains (damaged, entry->name))
      continue;
    g_ptr_array_add (fetch, entry);
  }
  return fetch;
}

/* ---- the installed files, re-verified at every check ---- */

static void
kith_update_check_verify_thread (GTask *task, gpointer source, gpointer task_data, GCancellable *cancellable)
{
  KithUpdateCheckData *data = task_data;

  g_task_return_pointer (task, kith_update_installer_find_damaged (data->signatures_dir, data->installed),
                         (GDestroyNotify) g_ptr_array_unref);
}

static void
kith_update_check_verify_done (GObject *source, GAsyncResult *result, gpointer user_data)
{
  g_autoptr (GTask) task = user_data;
  KithUpdateCheckData *data = g_task_get_task_data (task);
  g_autoptr (GPtrArray) damaged = g_task_propagate_pointer (G_TASK (result), NULL);
  g_autoptr (GHashTable) damaged_names = g_hash_table_new (g_str_hash, g_str_equal);
  KithUpdateCheckResult *answer;

  if (g_task_return_error_if_cancelled (task))
    return;
  answer = g_new0 (KithUpdateCheckResult, 1);
  for (guint i = 0; damaged != NULL && i < damaged->len; i++) {
    const gchar *name = g_ptr_array_index (damaged, i);
    g_warning ("installed file %s/current/%s does not match its catalog: fetching it again",
               data->signatures_dir, name);
    g_hash_table_add (damaged_names, (gpointer) name);
  }
  answer->catalog = g_steal_pointer (&data->catalog);
  answer->n_damaged = g_hash_table_size (damaged_names);
  if (answer->catalog->version == data->installed->version && answer->n_damaged == 0) {
    answer->up_to_date = TRUE;
  } else {
    answer->repair = answer->catalog->version == data->installed->version;
    g_message ("catalog %" G_GINT64_FORMAT " verified (installed: %" G_GINT64_FORMAT ", %u damaged)",
               answer->catalog->version, data->installed->version, answer->n_damaged);
    answer->fetch = kith_update_check_choose (answer->catalog, data->installed, damaged_names);
  }
  g_task_return_pointer (task, answer, (GDestroyNotify) kith_update_check_result_free);
}

/* Hashes every installed file against the installed manifest (which the new catalog's
 * unchanged entries equal) from a worker thread. */
static void
kith_update_check_verify_installed (GTask *task)
{
  KithUpdateCheckData *data = g_task_get_task_data (task);
  g_autoptr (GTask) verify = g_task_new (NULL, NULL, kith_update_check_verify_done, g_object_ref (task));

  g_task_set_task_data (verify, data, NULL);
  g_task_run_in_thread (verify, kith_update_check_verify_thread);
}

/* ---- catalog ---- */

static void
kith_update_check_catalog_verify (GTask *task, GBytes *signature)
{
  KithUpdateCheckData *data = g_task_get_task_data (task);
  g_autoptr (GError) error = NULL;

  data->catalog = kith_catalog_verify (data->catalog_bytes, signature,
                                       kith_agent_get_trust_anchor (data->agent),
                                       g_get_real_time () / G_USEC_PER_SEC, data->installed->version, &error);
  if (data->catalog == NULL) {
    g_task_return_new_error (task, KITH_UPDATE_ERROR, KITH_UPDATE_ERROR_CATALOG, "catalog rejected: %s",
                             error->message);
    return;
  }
  kith_update_check_verify_installed (task);
}

/* The whole body of a GET (read no further than the maximum); NULL with an error naming @what. */
static GBytes *
kith_update_check_get_finish (SoupMessage *msg, GAsyncResult *result, const gchar *what, GError **error)
{
  g_autoptr (GError) local = NULL;
  g_autoptr (GBytes) body = kith_http_request_send_finish (result, &local);
  gboolean too_large = g_error_matches (local, G_IO_ERROR, G_IO_ERROR_MESSAGE_TOO_LARGE);

  if (body == NULL && !too_large) {
    g_propagate_prefixed_error (error, g_steal_pointer (&local), "cannot fetch %s: ", what);
    return NULL;
  }
  if (soup_message_get_status (msg) != SOUP_STATUS_OK) {
    g_set_error (error, KITH_UPDATE_ERROR, KITH_UPDATE_ERROR_CATALOG, "cannot fetch %s: HTTP %u %s",
                 what, soup_message_get_status (msg), soup_message_get_reason_phrase (msg));
    return NULL;
  }
  if (too_large) {
    g_set_error (error, KITH_UPDATE_ERROR, KITH_UPDATE_ERROR_CATALOG, "%s is larger than %u bytes",
                 what, KITH_UPDATE_CHECK_CATALOG_MAX);
    return NULL;
  }
  return g_steal_pointer (&body);
}

static void
kith_update_check_get (GTask *task, const gchar *path, GAsyncReadyCallback callback)
{
  KithUpdateCheckData *data = g_task_get_task_data (task);
  const gchar *base = kith_agent_get_backend_url (data->agent);
  g_autofree gchar *url = g_strconcat (base, g_str_has_suffix (base, "/") ? path + 1 : path, NULL);
  g_autoptr (SoupMessage) msg = soup_message_new (SOUP_METHOD_GET, url);

  kith_http_request_send_async (data->session, msg, KITH_UPDATE_CHECK_CATALOG_MAX,
                                g_task_get_cancellable (task), callback, g_object_ref (task));
}

static void
kith_update_check_signature_cb (GObject *source, GAsyncResult *result, gpointer user_data)
{
  g_autoptr (GTask) task = user_data;
  GError *error = NULL;
  g_autoptr (GBytes) signature =
      kith_update_check_get_finish (SOUP_MESSAGE (source), result, "catalog.json.sig", &error);

  if (g_task_return_error_if_cancelled (task))
    g_clear_error (&error);
  else if (signature == NULL)
    g_task_return_error (task, error);
  else
    kith_update_check_catalog_verify (task, signature);
}

static void
kith_update_check_catalog_cb (GObject *source, GAsyncResult *result, gpointer user_data)
{
  g_autoptr (GTask) task = user_data;
  KithUpdateCheckData *data = g_task_get_task_data (task);
  GError *error = NULL;

  data->catalog_bytes = kith_update_check_get_finish (SOUP_MESSAGE (source), result, "catalog.json", &error);
  if (g_task_return_error_if_cancelled (task))
    g_clear_error (&error);
  else if (data->catalog_bytes == NULL)
    g_task_return_error (task, error);
  else
    kith_update_check_get (task, "/catalog.json.sig", kith_update_check_signature_cb);
}

void
kith_update_check_catalog_async (KithAgent *agent, SoupSession *session, const gchar *signatures_dir,
                                 KithCatalog *installed, GCancellable *cancellable,
                                 GAsyncReadyCallback callback, gpointer user_data)
{
  g_autoptr (GTask) task = g_task_new (NULL, cancellable, callback, user_data);
  KithUpdateCheckData *data = g_new0 (KithUpdateCheckData, 1);

  data->agent = agent;
  data->session = g_object_ref (session);
  data->signatures_dir = g_strdup (signatures_dir);
  data->installed = installed;
  g_task_set_task_data (task, data, (GDestroyNotify) kith_update_check_data_free);
  kith_update_check_get (task, "/catalog.json", kith_update_check_catalog_cb);
}

KithUpdateCheckResult *
kith_update_check_catalog_finish (GAsyncResult *result, GError **error)
{
  return g_task_propagate_pointer (G_TASK (result), error);
}
