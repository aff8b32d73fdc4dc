/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* kith-test-thread.c — a thread running a main context of its own */
#include "kith-test-thread.h"

struct _KithTestThread {
  GThread *thread;
  GMainContext *context;
  GMainLoop *loop;
  KithTestThreadFunc start;
  KithTestThreadFunc stop;
  gpointer user_data;
  GMutex mutex;
  GCond cond;
  gboolean ready;
  /* kith_test_thread_new_service() */
  GSocketService *service;
  gint max_threads;
  GCallback run;
  gpointer run_data;
  guint16 port;
};

static gpointer
kith_test_thread_main (gpointer data)
{
  KithTestThread *self = data;

  g_main_context_push_thread_default (self->context);
  if (self->start != NULL)
    self->start (self->user_data);
  g_mutex_lock (&self->mutex);
  self->ready = TRUE;
  g_cond_signal (&self->cond);
  g_mutex_unlock (&self->mutex);
  g_main_loop_run (self->loop);
  if (self->stop != NULL)
    self->stop (self->user_data);
  while (g_main_context_iteration (self->context, FALSE))
    ;
  g_main_context_pop_thread_default (self->context);
  return NULL;
}

/* Starts @self's thread and waits until its start function has run. */
static KithTestThread *
kith_test_thread_launch (KithTestThread *self, const gchar *name)
{
  g_mutex_init (&self->mutex);
  g_cond_init (&self->cond);
  self->context = g_main_context_new ();
  self->loop = g_main_loop_new (self->context, FALSE);
  self->thread = g_thread_new (name, kith_test_thread_main, self);
  g_mutex_lock (&self->mutex);
  while (!self->ready)
    g_cond_wait (&self->cond, &self->mutex);
  g_mutex_unlock (&self->mutex);
  return self;
}

KithTestThread *
kith_test_thread_new (const gchar *name, KithTestThreadFunc start, KithTestThreadFunc stop, gpointer user_data)
{
  KithTestThread *self = g_new0 (KithTestThread, 1);

  self->start = start;
  self->stop = stop;
  self->user_data = user_data;
  return kith_test_thread_launch (self, name);
}

static void
kith_test_thread_service_start (gpointer data)
{
  KithTestThread *self = data;
  g_autoptr (GSocketAddress) address = g_inet_socket_address_new_from_string ("127.0.0.1", 0);
  g_autoptr (GSocketAddress) effective = NULL;
  g_autoptr (GError) error = NULL;

  self->service = g_threaded_socket_service_new (self->max_threads);
  g_assert_true (g_socket_listener_add_address (G_SOCKET_LISTENER (self->service), address, G_SOCKET_TYPE_STREAM,
                                                G_SOCKET_PROTOCOL_TCP, NULL, &effective, &error));
  g_signal_connect (self->service, "run", self->run, self->run_data);
  g_socket_service_start (self->service);
  self->port = g_inet_socket_address_get_port (G_INET_SOCKET_ADDRESS (effective));
}

static void
kith_test_thread_service_stop (gpointer data)
{
  KithTestThread *self = data;

  g_socket_service_stop (self->service);
  g_socket_listener_close (G_SOCKET_LISTENER (self->service));
}

KithTestThread *
kith_test_thread_new_service (const gchar *name, gint max_threads, GCallback run, gpointer user_data)
{
  KithTestThread *self = g_new0 (KithTestThread, 1);

  self->start = kith_test_thread_service_start;
  self->stop = kith_test_thread_service_stop;
  self->user_data = self;
  self->max_threads = max_threads;
  self->run = run;
  self->run_data = user_data;
  return kith_test_thread_launch (self, name);
}

guint16
kith_test_thread_get_port (KithTestThread *self)
{
  return self->port;
}

GMainContext *
kith_test_thread_get_context (KithTestThread *self)
{
  return self->context;
}

static gboolean
kith_test_thread_quit (gpointer loop)
{
  g_main_loop_quit (loop);
  return G_SOURCE_REMOVE;
}

void
kith_test_thread_free (KithTestThread *self)
{
  g_main_context_invoke (self->context, kith_test_thread_quit, self->loop);
  g_thread_join (self->thread);
  g_clear_object (&self->service);
  g_main_loop_unref (self->loop);
  g_main_context_unref (self->context);
  g_mutex_clear (&self->mutex);
  g_cond_clear (&self->cond);
  g_free (self);
}
