/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* kith-test-thread.h — a thread running a main context of its own, for the servers of a
 * test (an origin, a tap, a sink) that must answer while the test blocks on a call. */
#pragma once

#include <gio/gio.h>

G_BEGIN_DECLS

typedef struct _KithTestThread KithTestThread;

/* Runs in the thread with its context pushed as the thread default. */
typedef void (*KithTestThreadFunc) (gpointer user_data);

/* Starts the thread @name: @start (may be NULL) runs in it first, and this returns once it
 * has; @stop (may be NULL) runs in it when the thread is freed, before the sources still
 * pending are dispatched. Caller frees. */
KithTestThread *kith_test_thread_new (const gchar *name, KithTestThreadFunc start, KithTestThreadFunc stop,
                                      gpointer user_data);
/* A TCP service on 127.0.0.1, a free port, accepting in the thread @name: each connection
 * goes to @run, a GThreadedSocketService::run handler, in one of at most @max_threads
 * workers. Freeing the thread stops and closes the service. Caller frees. */
KithTestThread *kith_test_thread_new_service (const gchar *name, gint max_threads, GCallback run,
                                              gpointer user_data);
/* The service's port (0 for a thread made by kith_test_thread_new()). */
guint16 kith_test_thread_get_port (KithTestThread *self);
/* The thread's context, owned by it: where sources for it are attached. */
GMainContext *kith_test_thread_get_context (KithTestThread *self);
/* Quits the thread's loop, runs its @stop and waits for it to end. */
void kith_test_thread_free (KithTestThread *self);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (KithTestThread, kith_test_thread_free)

G_END_DECLS
