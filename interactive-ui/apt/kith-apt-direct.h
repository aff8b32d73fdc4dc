/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* kith-apt-direct.h — one download straight from the origin, the way apt's own http
 * method does it: If-Modified-Since, redirects handed back to apt, a size cap, the
 * file's time set from Last-Modified, every hash computed on the way. */
#pragma once

#include "kith-apt-hashes.h"

#include <libsoup/soup.h>

G_BEGIN_DECLS

typedef enum {
  KITH_APT_DIRECT_DONE,         /* the file is written; hashes and size are set */
  KITH_APT_DIRECT_NOT_MODIFIED, /* 304: the copy apt has is current (the file was removed) */
  KITH_APT_DIRECT_REDIRECT,     /* location is where the origin sends us; apt re-queues */
  KITH_APT_DIRECT_FAILED,       /* message (and fail_reason, transient) say why */
} KithAptDirectOutcome;

typedef struct {
  KithAptDirectOutcome outcome;
  KithAptHashes *hashes;
  GDateTime *last_modified; /* from the response, or NULL */
  gchar *location;
  gchar *message;
  gchar *fail_reason;       /* apt's FailReason ("HttpError404", "Timeout"…), or NULL */
  gboolean transient;
} KithAptDirectResult;

void kith_apt_direct_result_free (KithAptDirectResult *result);

/* GETs @url into @destination (created, or truncated in place so apt's ownership stays).
 * @maximum_size (0: none) caps the body; @expected_size (0: unknown) must equal a
 * Content-Length the origin announces; @if_modified_since may be NULL. Never fails: the
 * result says what happened. @started runs with @user_data too. */
/* Called once the origin starts sending the file (@size: its Content-Length, or 0). */
typedef void (*KithAptDirectStartedFunc) (guint64 size, gpointer user_data);

void kith_apt_direct_fetch_async (SoupSession *session, const gchar *url, const gchar *destination,
                                  guint64 maximum_size, guint64 expected_size,
                                  GDateTime *if_modified_since, KithAptDirectStartedFunc started,
                                  GCancellable *cancellable,
                                  GAsyncReadyCallback callback, gpointer user_data);
/* The result of kith_apt_direct_fetch_async(); the caller's. */
KithAptDirectResult *kith_apt_direct_fetch_finish (GAsyncResult *res);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (KithAptDirectResult, kith_apt_direct_result_free)

G_END_DECLS
