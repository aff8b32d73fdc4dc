/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* kith-update.h — the update service (docs/architecture.md, "Trust" and "Update schedule"): fetch the signed catalog from the
 * backend, every changed file through peering, switch the new set in as a whole */
#pragma once

#include "kith-agent.h"

G_BEGIN_DECLS

typedef enum {
  KITH_UPDATE_STAGE_IDLE,
  KITH_UPDATE_STAGE_CHECKING,
  KITH_UPDATE_STAGE_DOWNLOADING,
  KITH_UPDATE_STAGE_INSTALLING,
} KithUpdateStage;

#define KITH_TYPE_UPDATE (kith_update_get_type ())
G_DECLARE_FINAL_TYPE (KithUpdate, kith_update, KITH, UPDATE, GObject)

/* Reads [update], recovers the signatures directory, schedules the first check. */
KithUpdate *kith_update_new (KithAgent *agent, GError **error);
/* Cancels the running check and the timer. */
void kith_update_stop (KithUpdate *self);

/* Starts a check now, or joins the one running; the result is the new last result. */
void kith_update_check_async (KithUpdate *self, GAsyncReadyCallback callback, gpointer user_data);
/* The one-line result; caller frees. NULL with a KITH_UPDATE_ERROR when the check failed. */
gchar *kith_update_check_finish (KithUpdate *self, GAsyncResult *result, GError **error);

/* "idle", "checking", "downloading", "installing". */
const gchar *kith_update_stage_to_string (KithUpdateStage status);
/* What the service is doing now: the State property. */
KithUpdateStage kith_update_get_state (KithUpdate *self);
/* The version of the installed catalog, 0 when none. */
gint64 kith_update_get_catalog_version (KithUpdate *self);
/* The installed set as a{ss} (name → version); floating. */
GVariant *kith_update_get_installed (KithUpdate *self);
/* Unix seconds; 0 when never. */
gint64 kith_update_get_last_check (KithUpdate *self);
/* Owned by @self; "" before the first check. */
const gchar *kith_update_get_last_result (KithUpdate *self);
gint64 kith_update_get_next_check (KithUpdate *self);
/* The GetStatus section; floating. */
GVariant *kith_update_get_status (KithUpdate *self);

/* Signals:
 *   "changed" ()                                   any getter above may answer differently
 *   "file-progress" (name, source, done, total)    a file of the running check moved
 *   "set-installed" (gint64 version, GVariant a{ss}) a new set was switched in */

G_END_DECLS
