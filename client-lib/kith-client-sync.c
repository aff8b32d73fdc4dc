/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* kith-client-sync.c — the blocking form of every libkith call: its async call, waited for
 * in a private main context */
#include "kith-client-private.h"

void
kith_client_sync_init (KithClientSync *sync)
{
  sync->context = g_main_context_new ();
  sync->result = NULL;
  /* a private context: only this call's callbacks run while the caller blocks */
  g_main_context_push_thread_default (sync->context);
}

void
kith_client_sync_done (GObject *source, GAsyncResult *res, gpointer user_data)
{
  KithClientSync *sync = user_data;
  sync->result = g_object_ref (res);
}

GAsyncResult *
kith_client_sync_wait (KithClientSync *sync)
{
  while (sync->result == NULL)
    g_main_context_iteration (sync->context, TRUE);
  return sync->result;
}

void
kith_client_sync_clear (KithClientSync *sync)
{
  g_clear_object (&sync->result);
  /* the proxies' signal subscriptions free their data from idles in this context: let them run */
  while (g_main_context_iteration (sync->context, FALSE))
    ;
  g_main_context_pop_thread_default (sync->context);
  g_clear_pointer (&sync->context, g_main_context_unref);
}
