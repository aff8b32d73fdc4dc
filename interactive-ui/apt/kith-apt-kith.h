/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* kith-apt-kith.h — apt's files through the kith agent: one connection to the agent,
 * made when the first file needs it; a number of fetches at once while the rest wait
 * their turn; for each fetch a stall timer and the progress apt shows. Once the agent
 * proves missing (no answer, no peering plugin, no permission) every file after it is
 * declined, to be downloaded from the origin. Knows nothing of apt's messages: what
 * apt should see is handed back as text. */
#pragma once

#include <kith.h>

G_BEGIN_DECLS

typedef struct _KithAptKith KithAptKith;

/* A line for apt's log (not tied to one file). */
typedef void (*KithAptKithLogFunc) (const gchar *text, gpointer user_data);

/* What one fetch reports, each with the user_data given to kith_apt_kith_fetch(). */
typedef struct {
  /* what to show next to the file while no bytes flow yet ("Searching the LAN") */
  void (*status) (const gchar *text, gpointer user_data);
  /* bytes flow (from a peer or the origin); @size is the file's, or 0; may run again */
  void (*started) (guint64 size, gpointer user_data);
  /* the agent is missing: the fetch never started; the last call for this fetch */
  void (*declined) (gpointer user_data);
  /* the fetch ended: @transfer (not the callee's) on success, else @error and @stalled
   * (TRUE when it was given up for lack of progress); the last call for this fetch */
  void (*done) (KithClientTransfer *transfer, const GError *error, gboolean stalled,
                gpointer user_data);
} KithAptKithCallbacks;

/* No agent contacted yet; kith_apt_kith_configure() before the first fetch. @log
 * receives the line saying the agent did not answer; @cancellable (apt went away) stops
 * everything: once it is cancelled no fetch ends (done, declined). The caller frees the
 * result with kith_apt_kith_free(). */
KithAptKith *kith_apt_kith_new (KithAptKithLogFunc log, gpointer log_data, GCancellable *cancellable);
/* Forgets every fetch not ended yet (none of its callbacks runs again: call it once the
 * main loop is left) and the connection. */
void kith_apt_kith_free (KithAptKith *self);

/* apt's configuration: @address (NULL or "": org.kith.Agent1 on the system bus) is used
 * when the connection is made, @parallel (fetches at once) and @timeout_s (seconds
 * without progress before a fetch is given up) whenever a fetch starts. */
void kith_apt_kith_configure (KithAptKith *self, const gchar *address, guint parallel, guint timeout_s);

/* Fetches @url (SHA256 @sha256, lowercase; @size bytes, or 0 when unknown) into
 * @filename through the agent, once it answers and a slot is free. The strings are
 * copied. @callbacks (static) report with @user_data; @cancellable stops the fetch, and
 * the stall timer cancels it. */
void kith_apt_kith_fetch (KithAptKith *self, const gchar *url, const gchar *filename,
                          const gchar *sha256, guint64 size, const KithAptKithCallbacks *callbacks,
                          gpointer user_data, GCancellable *cancellable);

G_END_DECLS
