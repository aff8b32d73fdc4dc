/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* kith-update.c — the update service: schedule, file transactions, install
 *
 * A check runs in three steps: the catalog check (kith-update-check.c: the signed catalog
 * from [agent] backend-url, never through peers, verified, and the files to fetch), then one
 * KithFetcher transaction per file whose version differs from the installed one or that is
 * damaged (kith-update-fetch.c: so one set may come from several peers and the origin), then
 * the installer switches the whole set in from a worker thread.
 */
#include "kith-update.h"
#include "kith-backend-trust.h"

#include "kith-catalog.h"
#include "kith-update-check.h"
#include "kith-update-error.h"
#include "kith-update-fetch.h"
#include "kith-update-installer.h"
#include "kith-update-schedule.h"
#include "kith-update-state.h"

#include <errno.h>
#include <glib/gstdio.h>
#include <libsoup/soup.h>

/* A check as the service runs it: the catalog check, the files, the install. */
typedef struct {
  KithUpdate *self;   /* a ref */
  GPtrArray *waiters; /* GTask, each completed with the result */
  GCancellable *cancellable;
  KithCatalog *catalog;   /* the verified one, once the catalog check has answered */
  KithUpdateFetch *fetch; /* its files, once chosen */
  gboolean repair;        /* the installed catalog again, with its damaged files fetched anew */
  gboolean ended; /* the waiters have their answer; late callbacks only drop their ref */
} KithUpdateRun;

struct _KithUpdate {
  GObject parent_instance;
  KithAgent *agent; /* borrowed: the agent outlives its services */
  KithFetcher *fetcher;
  gchar *signatures_dir;
  gchar *state_path;
  KithUpdateSchedule schedule;
  SoupSession *session;
  KithCatalog *installed;
  KithUpdateState *state;
  KithUpdateStage stage;
  KithUpdateRun *run;
  guint timer_id;
  gboolean stopped;
};

G_DEFINE_TYPE (KithUpdate, kith_update, G_TYPE_OBJECT)

enum { SIGNAL_CHANGED, SIGNAL_FILE_PROGRESS, SIGNAL_SET_INSTALLED, N_SIGNALS };
static guint signals[N_SIGNALS];

static void kith_update_run_start (KithUpdate *self);

const gchar *
kith_update_stage_to_string (KithUpdateStage status)
{
  static const gchar *const names[] = { "idle", "checking", "downloading", "installing" };
  return status < G_N_ELEMENTS (names) ? names[status] : "unknown";
}

static void
kith_update_set_stage (KithUpdate *self, KithUpdateStage status)
{
  if (self->stage == status)
    return;
  self->stage = status;
  g_signal_emit (self, signals[SIGNAL_CHANGED], 0);
}

/* ---- schedule ---- */

static gboolean
kith_update_timer_cb (gpointer user_data)
{
  KithUpdate *self = user_data;
  self->timer_id = 0;
  g_debug ("scheduled check");
  kith_update_run_start (self);
  return G_SOURCE_REMOVE;
}

/* Arms the timer for the check after @event, which happened at @now (unix seconds). */
static void
kith_update_schedule_after (KithUpdate *self, KithUpdateScheduleEvent event, gint64 now)
{
  guint64 delay = kith_update_schedule_delay_ms (&self->schedule, event, g_random_double ());

  g_clear_handle_id (&self->timer_id, g_source_remove);
  self->state->next_check = now + (gint64) (delay / 1000);
  self->timer_id = g_timeout_add_full (G_PRIORITY_DEFAULT, (guint) MIN (delay, G_MAXUINT),
                                       kith_update_timer_cb, self, NULL);
}

/* ---- the end of a check ---- */

static void
kith_update_run_clear (KithUpdateRun *run)
{
  g_clear_pointer (&run->fetch, kith_update_fetch_free);
  g_clear_pointer (&run->catalog, kith_catalog_free);
  g_clear_object (&run->cancellable);
  g_ptr_array_unref (run->waiters);
  g_object_unref (run->self);
}

/* Runs are shared by the service and each callback in flight (catalog check, installer thread). */
static KithUpdateRun *
kith_update_run_ref (KithUpdateRun *run)
{
  return g_rc_box_acquire (run);
}

static void
kith_update_run_unref (KithUpdateRun *run)
{
  g_rc_box_release_full (run, (GDestroyNotify) kith_update_run_clear);
}

static void
kith_update_save_state (KithUpdate *self)
{
  g_autoptr (GError) error = NULL;

  self->state->catalog_version = self->installed->version;
  g_hash_table_remove_all (self->state->installed);
  for (guint i = 0; i < self->installed->files->len; i++) {
    KithCatalogFile *file = g_ptr_array_index (self->installed->files, i);
    g_hash_table_insert (self->state->installed, g_strdup (file->name), g_strdup (file->version));
  }
  if (!kith_update_state_save (self->state, self->state_path, &error))
    g_warning ("cannot save the update state: %s", error->message);
}

/* Ends the running check with @result or @error (one of them NULL). */
static void
kith_update_run_end (KithUpdateRun *run, const gchar *result, const GError *error)
{
  KithUpdate *self = run->self;

  g_return_if_fail (!run->ended);
  run->ended = TRUE;
  if (run->fetch != NULL)
    kith_update_fetch_detach (run->fetch);
  if (error != NULL)
    g_warning ("update check failed: %s", error->message);
  else
    g_message ("update check: %s", result);
  self->run = NULL;
  if (!self->stopped) {
    g_free (self->state->last_result);
    self->state->last_result = error != NULL ? g_strdup_printf ("error: %s", error->message)
                                             : g_strdup (result);
    self->state->last_check = g_get_real_time () / G_USEC_PER_SEC;
    kith_update_schedule_after (self, error != NULL ? KITH_UPDATE_SCHEDULE_FAILURE
                                                    : KITH_UPDATE_SCHEDULE_SUCCESS,
                                self->state->last_check);
    kith_update_save_state (self);
    kith_metrics_add (kith_agent_get_metrics (self->agent), "kith_update_checks_total",
                      error != NULL ? "result=\"failed\"" : "result=\"ok\"", 1);
    self->stage = KITH_UPDATE_STAGE_IDLE;
    g_signal_emit (self, signals[SIGNAL_CHANGED], 0);
  }
  for (guint i = 0; i < run->waiters->len; i++) {
    GTask *task = g_ptr_array_index (run->waiters, i);
    if (error != NULL)
      g_task_return_error (task, g_error_copy (error));
    else
      g_task_return_pointer (task, g_strdup (result), g_free);
  }
  g_ptr_array_set_size (run->waiters, 0);
  kith_update_run_unref (run); /* the service's ref */
}

static void
kith_update_run_fail (KithUpdateRun *run, GQuark domain, gint code, const gchar *format, ...)
    G_GNUC_PRINTF (4, 5);

static void
kith_update_run_fail (KithUpdateRun *run, GQuark domain, gint code, const gchar *format, ...)
{
  g_autoptr (GError) error = NULL;
  va_list args;

  va_start (args, format);
  error = g_error_new_valist (domain, code, format, args);
  va_end (args);
  kith_update_run_end (run, NULL, error);
}

/* ---- install ---- */

static GVariant *
kith_update_files_variant (KithCatalog *catalog)
{
  GVariantBuilder builder;

  g_variant_builder_init (&builder, G_VARIANT_TYPE ("a{ss}"));
  for (guint i = 0; catalog != NULL && i < catalog->files->len; i++) {
    KithCatalogFile *file = g_ptr_array_index (catalog->files, i);
    g_variant_builder_add (&builder, "{ss}", file->name, file->version);
  }
  return g_variant_builder_end (&builder);
}

static void
kith_update_install_thread (GTask *task, gpointer source, gpointer task_data, GCancellable *cancellable)
{
  KithUpdateRun *run = task_data;
  GError *error = NULL;

  if (!kith_update_installer_install (run->self->signatures_dir, run->catalog,
                                      kith_update_fetch_get_sources (run->fetch), &error))
    g_task_return_error (task, error);
  else
    g_task_return_boolean (task, TRUE);
}

static void
kith_update_install_done (GObject *source, GAsyncResult *result, gpointer user_data)
{
  KithUpdateRun *run = user_data;
  KithUpdate *self = run->self;
  g_autoptr (GError) error = NULL;
  g_autofree gchar *message = NULL;
  guint fetched;

  if (run->ended) {
    kith_update_run_unref (run);
    return;
  }
  if (!g_task_propagate_boolean (G_TASK (result), &error)) {
    kith_update_run_fail (run, KITH_UPDATE_ERROR, KITH_UPDATE_ERROR_INSTALL,
                          "installing catalog %" G_GINT64_FORMAT ": %s", run->catalog->version,
                          error->message);
    kith_update_run_unref (run);
    return;
  }
  kith_catalog_free (self->installed);
  self->installed = g_steal_pointer (&run->catalog);
  fetched = g_hash_table_size (kith_update_fetch_get_sources (run->fetch));
  if (run->repair)
    message = g_strdup_printf ("repaired catalog %" G_GINT64_FORMAT " (%u damaged files fetched again)",
                               self->installed->version, fetched);
  else
    message = g_strdup_printf ("installed catalog %" G_GINT64_FORMAT " (%u files, %u fetched)",
                               self->installed->version, self->installed->files->len, fetched);
  if (!self->stopped)
    g_signal_emit (self, signals[SIGNAL_SET_INSTALLED], 0, self->installed->version,
                   kith_update_files_variant (self->installed));
  kith_update_run_end (run, message, NULL);
  kith_update_run_unref (run);
}

static void
kith_update_install (KithUpdateRun *run)
{
  g_autoptr (GTask) task = g_task_new (NULL, NULL, kith_update_install_done, kith_update_run_ref (run));

  kith_update_set_stage (run->self, KITH_UPDATE_STAGE_INSTALLING);
  g_task_set_task_data (task, run, NULL);
  g_task_run_in_thread (task, kith_update_install_thread);
}

/* ---- files: kith-update-fetch.c fetches them ---- */

static void
kith_update_file_progress (const gchar *name, const gchar *source, guint64 done, guint64 total, gpointer user_data)
{
  KithUpdateRun *run = user_data;

  g_signal_emit (run->self, signals[SIGNAL_FILE_PROGRESS], 0, name, source, done, total);
}

static void
kith_update_files_done (const GError *error, gpointer user_data)
{
  KithUpdateRun *run = user_data;

  if (error != NULL)
    kith_update_run_end (run, NULL, error);
  else
    kith_update_install (run);
}

/* Fetches each entry of @fetch (files of run->catalog), then installs the set. */
static void
kith_update_fetch_files (KithUpdateRun *run, GPtrArray *fetch)
{
  KithUpdate *self = run->self;
  guint count;

  run->fetch = kith_update_fetch_new (self->fetcher, kith_agent_get_backend_url (self->agent), fetch, run->catalog);
  count = kith_update_fetch_get_count (run->fetch);
  kith_update_set_stage (self, count > 0 ? KITH_UPDATE_STAGE_DOWNLOADING : KITH_UPDATE_STAGE_INSTALLING);
  if (count == 0)
    kith_update_install (run);
  else
    kith_update_fetch_start (run->fetch, kith_update_file_progress, kith_update_files_done, run);
}

/* The catalog check answered: end the run, or fetch what it chose. */
static void
kith_update_checked (GObject *source, GAsyncResult *result, gpointer user_data)
{
  KithUpdateRun *run = user_data;
  g_autoptr (GError) error = NULL;
  g_autoptr (KithUpdateCheckResult) found = kith_update_check_catalog_finish (result, &error);

  if (run->ended)
    ;
  else if (found == NULL)
    kith_update_run_end (run, NULL, error);
  else if (found->up_to_date) {
    g_autofree gchar *message = g_strdup_printf ("up to date (catalog %" G_GINT64_FORMAT ")",
                                                 found->catalog->version);
    kith_update_run_end (run, message, NULL);
  } else {
    run->catalog = g_steal_pointer (&found->catalog);
    run->repair = found->repair;
    kith_update_fetch_files (run, found->fetch);
  }
  kith_update_run_unref (run);
}

/* A new run, registered as the running one; nothing happens until kith_update_run_begin(). */
static KithUpdateRun *
kith_update_run_new (KithUpdate *self)
{
  KithUpdateRun *run = g_rc_box_new0 (KithUpdateRun);

  run->self = g_object_ref (self);
  run->waiters = g_ptr_array_new_with_free_func (g_object_unref);
  run->cancellable = g_cancellable_new ();
  self->run = run;
  g_clear_handle_id (&self->timer_id, g_source_remove);
  return run;
}

static void
kith_update_run_begin (KithUpdateRun *run)
{
  KithUpdate *self = run->self;
  g_autoptr (GError) error = NULL;

  kith_update_set_stage (self, KITH_UPDATE_STAGE_CHECKING);
  if (!kith_update_check_ready (self->agent, &error)) {
    kith_update_run_end (run, NULL, error);
    return;
  }
  kith_update_check_catalog_async (self->agent, self->session, self->signatures_dir, self->installed,
                                   run->cancellable, kith_update_checked, kith_update_run_ref (run));
}

static void
kith_update_run_start (KithUpdate *self)
{
  if (self->run == NULL && !self->stopped)
    kith_update_run_begin (kith_update_run_new (self));
}

void
kith_update_check_async (KithUpdate *self, GAsyncReadyCallback callback, gpointer user_data)
{
  g_autoptr (GTask) task = g_task_new (self, NULL, callback, user_data);
  KithUpdateRun *run = self->run;

  if (self->stopped) {
    g_task_return_new_error (task, KITH_UPDATE_ERROR, KITH_UPDATE_ERROR_STOPPED,
                             "the update service is stopping");
    return;
  }
  if (run != NULL) {
    g_ptr_array_add (run->waiters, g_steal_pointer (&task));
    return;
  }
  run = kith_update_run_new (self);
  g_ptr_array_add (run->waiters, g_steal_pointer (&task));
  kith_update_run_begin (run);
}

gchar *
kith_update_check_finish (KithUpdate *self, GAsyncResult *result, GError **error)
{
  return g_task_propagate_pointer (G_TASK (result), error);
}

/* ---- the service ---- */

KithUpdateStage
kith_update_get_state (KithUpdate *self)
{
  return self->stage;
}

gint64
kith_update_get_catalog_version (KithUpdate *self)
{
  return self->installed->version;
}

GVariant *
kith_update_get_installed (KithUpdate *self)
{
  return kith_update_files_variant (self->installed);
}

gint64
kith_update_get_last_check (KithUpdate *self)
{
  return self->state->last_check;
}

const gchar *
kith_update_get_last_result (KithUpdate *self)
{
  return self->state->last_result;
}

gint64
kith_update_get_next_check (KithUpdate *self)
{
  return self->state->next_check;
}

GVariant *
kith_update_get_status (KithUpdate *self)
{
  GVariantDict dict;

  g_variant_dict_init (&dict, NULL);
  g_variant_dict_insert (&dict, "state", "s", kith_update_stage_to_string (self->stage));
  g_variant_dict_insert (&dict, "catalog-version", "x", self->installed->version);
  g_variant_dict_insert (&dict, "files", "u", self->installed->files->len);
  g_variant_dict_insert (&dict, "last-check", "x", self->state->last_check);
  g_variant_dict_insert (&dict, "last-result", "s", self->state->last_result);
  g_variant_dict_insert (&dict, "next-check", "x", self->state->next_check);
  g_variant_dict_insert (&dict, "signatures-dir", "s", self->signatures_dir);
  return g_variant_dict_end (&dict);
}

/* [update]: every duration through kith_config_get_duration_ms, jitter in percent. */
static gboolean
kith_update_read_config (KithUpdate *self, gboolean *check_on_start, GError **error)
{
  static const gchar *const keys[] = { "signatures-dir", "first-check", "interval", "retry-interval",
                                       "jitter", "check-on-start", NULL };
  KithConfig *config = kith_agent_get_config (self->agent);
  g_autofree gchar *default_dir = g_build_filename (kith_agent_get_state_dir (self->agent), "update",
                                                    "signatures", NULL);
  guint64 jitter = 0;

  kith_update_schedule_init (&self->schedule);
  if (!kith_config_check_keys (config, "update", keys, error))
    return FALSE;
  self->signatures_dir = kith_config_get_path (config, "update", "signatures-dir", default_dir, error);
  return self->signatures_dir != NULL &&
         kith_config_get_duration_ms (config, "update", "first-check", self->schedule.first_check_ms,
                                      &self->schedule.first_check_ms, error) &&
         kith_config_get_duration_ms (config, "update", "interval", self->schedule.interval_ms,
                                      &self->schedule.interval_ms, error) &&
         kith_config_get_duration_ms (config, "update", "retry-interval", self->schedule.retry_interval_ms,
                                      &self->schedule.retry_interval_ms, error) &&
         kith_config_get_uint64 (config, "update", "jitter", self->schedule.jitter_percent, 0, 50,
                                 &jitter, error) &&
         kith_config_get_boolean (config, "update", "check-on-start", FALSE, check_on_start, error) &&
         ((self->schedule.jitter_percent = (guint) jitter), TRUE);
}

KithUpdate *
kith_update_new (KithAgent *agent, GError **error)
{
  g_autoptr (KithUpdate) self = g_object_new (KITH_TYPE_UPDATE, NULL);
  GObject *peering = kith_agent_get_service (agent, "peering");
  g_autofree gchar *state_dir = g_build_filename (kith_agent_get_state_dir (agent), "update", NULL);
  g_autoptr (GError) local_error = NULL;
  gboolean check_on_start = FALSE;
  gboolean rebuilt = FALSE;

  self->agent = agent;
  if (peering == NULL || !KITH_IS_FETCHER (peering)) {
    g_set_error_literal (error, KITH_AGENT_ERROR, KITH_AGENT_ERROR_PLUGIN_MISSING,
                         "the update plugin needs the peering service (KithFetcher)");
    return NULL;
  }
  self->fetcher = g_object_ref (KITH_FETCHER (peering));
  if (!kith_update_read_config (self, &check_on_start, error))
    return NULL;
  if (g_mkdir_with_parents (state_dir, 0755) != 0) {
    g_set_error (error, KITH_UPDATE_ERROR, KITH_UPDATE_ERROR_FAILED, "cannot create %s: %s",
                 state_dir, g_strerror (errno));
    return NULL;
  }
  self->state_path = g_build_filename (state_dir, "state.json", NULL);
  /* damaged state heals: the installed set says what is installed, the rest is bookkeeping */
  self->state = kith_update_state_load (self->state_path, &local_error);
  if (self->state == NULL) {
    g_warning ("%s; rebuilding it from the installed set", local_error->message);
    g_clear_error (&local_error);
    self->state = kith_update_state_new ();
    rebuilt = TRUE;
  }
  if (!kith_update_installer_recover (self->signatures_dir, error))
    return NULL;
  /* the set current points to is the truth, whatever the state file says */
  self->installed = kith_update_installer_get_installed (self->signatures_dir, &local_error);
  if (self->installed == NULL) {
    /* nothing in it can be trusted: the next check installs the whole catalog again */
    g_warning ("the installed set in %s has no readable manifest (%s): taken as empty", self->signatures_dir,
               local_error->message);
    self->installed = kith_catalog_new ();
    rebuilt = TRUE;
  }
  self->session = soup_session_new_with_options ("timeout", 60, "user-agent", "kith-update/1.0", NULL);
  kith_backend_trust_session (self->agent, self->session);
  kith_metrics_register (kith_agent_get_metrics (agent), "kith_update_checks_total", KITH_METRIC_COUNTER,
                         "Update checks, by result");
  if (check_on_start) {
    self->state->next_check = g_get_real_time () / G_USEC_PER_SEC;
    self->timer_id = g_idle_add (kith_update_timer_cb, self);
  } else {
    kith_update_schedule_after (self, KITH_UPDATE_SCHEDULE_START, g_get_real_time () / G_USEC_PER_SEC);
  }
  if (rebuilt)
    kith_update_save_state (self);
  g_message ("signatures in %s: catalog %" G_GINT64_FORMAT ", %u files%s", self->signatures_dir,
             self->installed->version, self->installed->files->len, rebuilt ? " (state rebuilt)" : "");
  return g_steal_pointer (&self);
}

void
kith_update_stop (KithUpdate *self)
{
  KithUpdateRun *run = self->run;

  self->stopped = TRUE;
  g_clear_handle_id (&self->timer_id, g_source_remove);
  if (run == NULL || self->stage == KITH_UPDATE_STAGE_INSTALLING)
    return; /* an install runs to its end: it is atomic, not cancellable */
  g_cancellable_cancel (run->cancellable);
  if (run->fetch != NULL)
    kith_update_fetch_cancel (run->fetch);
  kith_update_run_fail (run, KITH_UPDATE_ERROR, KITH_UPDATE_ERROR_STOPPED,
                        "the update service stopped during the check");
}

static void
kith_update_finalize (GObject *object)
{
  KithUpdate *self = KITH_UPDATE (object);

  g_clear_handle_id (&self->timer_id, g_source_remove);
  g_clear_object (&self->fetcher);
  g_clear_object (&self->session);
  g_clear_pointer (&self->installed, kith_catalog_free);
  g_clear_pointer (&self->state, kith_update_state_free);
  g_free (self->signatures_dir);
  g_free (self->state_path);
  G_OBJECT_CLASS (kith_update_parent_class)->finalize (object);
}

static void
kith_update_class_init (KithUpdateClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->finalize = kith_update_finalize;
  signals[SIGNAL_CHANGED] = g_signal_new ("changed", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0,
                                          NULL, NULL, NULL, G_TYPE_NONE, 0);
  signals[SIGNAL_FILE_PROGRESS] = g_signal_new ("file-progress", G_TYPE_FROM_CLASS (klass),
                                                G_SIGNAL_RUN_LAST, 0, NULL, NULL, NULL, G_TYPE_NONE, 4,
                                                G_TYPE_STRING, G_TYPE_STRING, G_TYPE_UINT64,
                                                G_TYPE_UINT64);
  signals[SIGNAL_SET_INSTALLED] = g_signal_new ("set-installed", G_TYPE_FROM_CLASS (klass),
                                                G_SIGNAL_RUN_LAST, 0, NULL, NULL, NULL, G_TYPE_NONE, 2,
                                                G_TYPE_INT64, G_TYPE_VARIANT);
}

static void
kith_update_init (KithUpdate *self)
{
}
