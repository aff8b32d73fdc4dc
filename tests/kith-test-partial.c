/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* kith-test-partial.c — the fixture of the partial-copy suites */
#include "kith-test-partial.h"

#include <check.h>

#include "kith-test-util.h"

static void
kith_test_partial_refused_cb (KithPartialHandler *handler, const gchar *reason, gpointer user_data)
{
  KithTestPartial *self = user_data;

  g_ptr_array_add (self->refusals, g_strdup (reason));
}

KithTestPartial *
kith_test_partial_new (const gchar *name, guint stall_ms)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GSocketAddress) address = g_inet_socket_address_new_from_string ("127.0.0.1", 0);
  g_autofree gchar *template = g_strdup_printf ("kith-%s-XXXXXX", name);
  KithTestPartial *self = g_new0 (KithTestPartial, 1);
  GSList *uris;

  self->dir = g_dir_make_tmp (template, &error);
  g_assert_no_error (error);
  self->file_path = g_build_filename (self->dir, ".partial", NULL);
  self->table = kith_partial_table_new (100);
  self->handler = kith_partial_handler_new (self->table, stall_ms);
  self->refusals = g_ptr_array_new_with_free_func (g_free);
  g_signal_connect (self->handler, "refused", G_CALLBACK (kith_test_partial_refused_cb), self);
  self->server = soup_server_new (NULL, NULL);
  kith_partial_handler_add_to_server (self->handler, self->server);
  ck_assert_msg (soup_server_listen (self->server, address, 0, &error), "%s", error->message);
  uris = soup_server_get_uris (self->server);
  self->port = (guint16) g_uri_get_port (uris->data);
  g_slist_free_full (uris, (GDestroyNotify) g_uri_unref);
  self->session = soup_session_new_with_options ("max-conns-per-host", 16, NULL);
  return self;
}

gchar *
kith_test_partial_url (KithTestPartial *self, const gchar *token)
{
  return g_strdup_printf ("http://127.0.0.1:%u" KITH_PARTIAL_HANDLER_PREFIX "%s", self->port, token);
}

void
kith_test_partial_stop (KithTestPartial *self)
{
  kith_partial_handler_stop (self->handler);
  soup_server_disconnect (self->server);
}

void
kith_test_partial_free (KithTestPartial *self)
{
  g_clear_object (&self->session);
  soup_server_disconnect (self->server);
  g_clear_object (&self->server);
  /* the connections' last callbacks still hold the handler */
  while (g_main_context_iteration (NULL, FALSE))
    ;
  g_signal_handlers_disconnect_by_data (self->handler, self);
  g_clear_object (&self->handler);
  g_clear_pointer (&self->table, kith_partial_table_free);
  g_clear_pointer (&self->refusals, g_ptr_array_unref);
  kith_test_rm_rf (self->dir);
  g_free (self->dir);
  g_free (self->file_path);
  g_free (self);
}
