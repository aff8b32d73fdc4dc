/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* kith-update-state.h — what the update service remembers across restarts
 * (STATE_DIR/update/state.json); the installed set itself is the truth for what is
 * installed, this file only records when the service last looked and what it found */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

typedef struct {
  gint64 catalog_version; /* installed, as of the last write */
  GHashTable *installed;  /* name → version, as of the last write */
  gint64 last_check;      /* unix seconds, 0: never */
  gchar *last_result;     /* "" when never checked */
  gint64 next_check;      /* unix seconds */
} KithUpdateState;

/* An empty state; free with kith_update_state_free(). */
KithUpdateState *kith_update_state_new (void);
void kith_update_state_free (KithUpdateState *state);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (KithUpdateState, kith_update_state_free)

/* Reads @path; a missing file gives an empty state; caller frees. */
KithUpdateState *kith_update_state_load (const gchar *path, GError **error);
/* Writes @state to @path atomically (temp, fsync, rename, fsync of the directory). */
gboolean kith_update_state_save (const KithUpdateState *state, const gchar *path, GError **error);

G_END_DECLS
