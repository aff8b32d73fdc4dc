/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* kith-deadline.h — a cancellable of one's own that the caller's cancellable or a timeout
 * cancels: an operation on a peer, an origin or a writer that must end in time, whoever
 * else may also cancel it. Shared by the origin HEAD, the upload report reader, the upload
 * server's enrollment and forwards of reports, and the relay client's fetch requests. */
#pragma once

#include <gio/gio.h>

G_BEGIN_DECLS

typedef struct _KithDeadline KithDeadline;

/* Cancelled when @caller (may be NULL) is, or @timeout_ms after now on the thread-default
 * main context. Caller frees. */
KithDeadline *kith_deadline_new (GCancellable *caller, guint timeout_ms);
/* Disconnects from the caller's cancellable and removes the timer. */
void kith_deadline_free (KithDeadline *self);
/* The cancellable to hand to the operation; owned by @self. */
GCancellable *kith_deadline_get_cancellable (KithDeadline *self);
/* Whether the timeout has passed (the cancellable then is cancelled). */
gboolean kith_deadline_has_expired (KithDeadline *self);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (KithDeadline, kith_deadline_free)

G_END_DECLS
