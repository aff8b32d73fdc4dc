/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* kith-test-partial.h — the fixture of the partial-copy suites: a scratch directory, a
 * partial table and its handler on a loopback SoupServer, a session to read it with, and
 * the reasons the handler refused readers for */
#pragma once

#include <libsoup/soup.h>

#include "kith-partial-handler.h"

G_BEGIN_DECLS

typedef struct {
  gchar *dir;                  /* scratch directory, removed with the fixture */
  gchar *file_path;            /* where a test puts its copy's file, in @dir; not created */
  KithPartialTable *table;
  KithPartialHandler *handler; /* serves @table, cuts readers of a copy stalled for stall_ms */
  SoupServer *server;          /* listens on 127.0.0.1:@port */
  SoupSession *session;        /* up to 16 connections: every reader of a test its own */
  guint16 port;
  GPtrArray *refusals;         /* the handler's "refused" reasons (gchar *), in order */
} KithTestPartial;

/* Makes the fixture in a scratch directory named after @name. Caller frees. */
KithTestPartial *kith_test_partial_new (const gchar *name, guint stall_ms);
/* "http://127.0.0.1:PORT" KITH_PARTIAL_HANDLER_PREFIX @token; caller frees. */
gchar *kith_test_partial_url (KithTestPartial *self, const gchar *token);
/* Stops as the agent does: the handler (peering's stop), then the server lets every
 * connection go (the agent's), with nothing of the main loop run in between. */
void kith_test_partial_stop (KithTestPartial *self);
/* Stops the server, lets its last callbacks run, frees everything and removes the directory. */
void kith_test_partial_free (KithTestPartial *self);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (KithTestPartial, kith_test_partial_free)

G_END_DECLS
