/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* kith-deadline.c — a cancellable cancelled by the caller's or by a timeout */
#include "kith-deadline.h"

struct _KithDeadline {
  GCancellable *cancellable; /* ours */
  GCancellable *caller;      /* a ref, or NULL */
  gulong caller_id;
  GSource *timeout;
  gboolean expired;
};

static gboolean
kith_deadline_timeout_cb (gpointer user_data)
{
  KithDeadline *self = user_data;

  self->expired = TRUE;
  g_cancellable_cancel (self->cancellable);
  return G_SOURCE_REMOVE;
}

static void
kith_deadline_caller_cancelled (GCancellable *caller, gpointer user_data)
{
  g_cancellable_cancel (user_data);
}

KithDeadline *
kith_deadline_new (GCancellable *caller, guint timeout_ms)
{
  KithDeadline *self = g_new0 (KithDeadline, 1);

  self->cancellable = g_cancellable_new ();
  if (caller != NULL) {
    self->caller = g_object_ref (caller);
    self->caller_id = g_cancellable_connect (caller, G_CALLBACK (kith_deadline_caller_cancelled),
                                             self->cancellable, NULL);
  }
  self->timeout = g_timeout_source_new (timeout_ms);
  g_source_set_callback (self->timeout, kith_deadline_timeout_cb, self, NULL);
  g_source_attach (self->timeout, g_main_context_get_thread_default ());
  return self;
}

void
kith_deadline_free (KithDeadline *self)
{
  if (self == NULL)
    return;
  g_source_destroy (self->timeout);
  g_source_unref (self->timeout);
  if (self->caller != NULL) {
    g_cancellable_disconnect (self->caller, self->caller_id);
    g_object_unref (self->caller);
  }
  g_object_unref (self->cancellable);
  g_free (self);
}

GCancellable *
kith_deadline_get_cancellable (KithDeadline *self)
{
  return self->cancellable;
}

gboolean
kith_deadline_has_expired (KithDeadline *self)
{
  return self->expired;
}
