/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* kith-test-util.h — small things every suite needs: scratch directories, timeout flags */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* Removes @path and everything under it; never follows a symlink out of it. */
void kith_test_rm_rf (const gchar *path);
/* A GSourceFunc that sets the gboolean @user_data points to and removes itself: the bound
 * of a `while (!done && !timed_out) g_main_context_iteration (...)` loop. */
gboolean kith_test_timeout_cb (gpointer user_data);

G_END_DECLS
