/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* kith-test-node.h — a node of the multi-agent suites: a real kith-agent with its D-Bus
 * connection, its peering status, and Peering1.Fetch() calls watched to their end */
#pragma once

#include "kith-dbus-generated.h"
#include "kith-test-agent.h"

G_BEGIN_DECLS

typedef struct {
  KithTestAgent *agent;
  GDBusConnection *connection; /* NULL while stopped, or when started without one */
  gboolean running;            /* started, and not stopped or killed since */
} KithTestNode;

/* The [peering] group for loopback: listeners on lo's broadcast address, senders on
 * 127.0.0.1, on @port; @extra (more keys of the group, may be NULL) follows. Caller frees. */
gchar *kith_test_node_peering_config (guint16 port, const gchar *extra);

/* [peering] keys for a node of a case that asserts it met a hostile process — the LAN
 * attacker (kith-lan-attacker), a suite's fake leader — that it does not know yet as a
 * holder: it waits up to a second for that process's answer. The process runs on its own,
 * and on a loaded machine its answer can come after the default miss wait (15 ms; 80 ms,
 * client-wait-ms, when a holder or downloader is known), when the node has already gone to
 * the origin or elsewhere without meeting it. An offer the node takes ends the wait at
 * once; one it refuses (left out, a hash that does not match), and a "downloading" answer,
 * which does not end a search, cost up to that second. With them a node also waits longer
 * for a leader it elected (2 × client-wait-ms + max-delay-ms). Part of @extra above; none
 * of its keys may be given there again. */
#define KITH_TEST_MEET_THE_ATTACKER "miss-wait-ms=1000\nclient-wait-ms=1000\n"

/* A node whose agent runs @plugins with @config (see kith_test_agent_new); not started. */
KithTestNode *kith_test_node_new (const gchar *plugins, const gchar *config);
/* Starts the agent (again, after a stop) and connects to it; fails the test otherwise. */
void kith_test_node_start (KithTestNode *self);
/* Starts the agent without connecting (an agent on a bus the test does not own). */
void kith_test_node_start_unconnected (KithTestNode *self);
/* kith_test_node_new() and kith_test_node_start(). */
KithTestNode *kith_test_node_start_new (const gchar *plugins, const gchar *config);
/* A peering-only node on @port with @extra in its [peering] group, started and connected. */
KithTestNode *kith_test_node_start_peering (guint16 port, const gchar *extra);
/* Drops the connection and stops the agent; fails the test unless it exits cleanly. */
void kith_test_node_stop (KithTestNode *self);
/* Drops the connection and kills the agent (SIGKILL), for crash tests. */
void kith_test_node_kill (KithTestNode *self);
/* Stops a running agent (failing the test unless it exits cleanly) and removes its directory. */
void kith_test_node_free (KithTestNode *self);

/* A counter (type t) of the peering section of GetStatus; fails the test if it is missing. */
guint64 kith_test_node_peering_status (KithTestNode *self, const gchar *key);
/* One series of an a{sd} map of the peering status (e.g. "packets-out", "type=\"response\"");
 * with @labels NULL, all its series summed; 0 when the map is absent. */
gdouble kith_test_node_peering_counter (KithTestNode *self, const gchar *map, const gchar *labels);
/* A kith_test_wait_until() condition on a KithTestNode: its store no longer re-hashes. */
gboolean kith_test_node_cache_verified (gpointer node);

typedef struct {
  KithDbusTransfer1 *proxy;
  gchar *dest;       /* the file the agent writes into, removed on free; NULL for a caller's fd */
  gint64 started_us; /* monotonic time of the Fetch() call */
  gint64 ended_us;   /* when kith_test_fetch_wait_done() saw it end */
  guint64 max_done;  /* the most BytesDone ever seen: what was written */
} KithTestFetch;

/* Asks @node for @url over D-Bus into a fresh file of its directory, with the options
 * sha256 (@sha256, may be NULL), size (@size, 0 for none) and cached-only. Caller frees. */
KithTestFetch *kith_test_fetch_start (KithTestNode *node, const gchar *url, const gchar *sha256, guint64 size,
                                      gboolean cached_only);
/* The same into @fd (not closed; the caller reads what lands there). */
KithTestFetch *kith_test_fetch_start_fd (KithTestNode *node, const gchar *url, const gchar *sha256,
                                         guint64 size, gboolean cached_only, gint fd);
/* Asks @node for @url over D-Bus into @fd (not closed) with the Fetch() options @options
 * (an a{sv}; a floating reference is taken). Caller frees. */
KithTestFetch *kith_test_fetch_start_options_fd (KithTestNode *node, const gchar *url, GVariant *options,
                                                 gint fd);
/* The same into a fresh file of the node's directory. */
KithTestFetch *kith_test_fetch_start_options (KithTestNode *node, const gchar *url, GVariant *options);
/* A kith_test_wait_until() condition on a KithTestFetch: done or failed. */
gboolean kith_test_fetch_is_finished (gpointer fetch);
/* Waits up to @timeout_ms for the transfer to end, fails the test unless it is done and
 * (when @content is not NULL and the file is the fetch's own) the file holds @content.
 * Returns its Source (borrowed from the proxy). */
const gchar *kith_test_fetch_wait_done (KithTestFetch *self, GBytes *content, guint timeout_ms);
/* The ms from the Fetch() call to the end kith_test_fetch_wait_done() saw. */
gint64 kith_test_fetch_get_elapsed_ms (KithTestFetch *self);
/* One fetch from start to end (30 s at most) that must deliver @content; returns the
 * source, which the caller frees. */
gchar *kith_test_fetch_sync (KithTestNode *node, const gchar *url, const gchar *sha256, gboolean cached_only,
                             GBytes *content);
void kith_test_fetch_free (KithTestFetch *self);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (KithTestNode, kith_test_node_free)
G_DEFINE_AUTOPTR_CLEANUP_FUNC (KithTestFetch, kith_test_fetch_free)

G_END_DECLS
