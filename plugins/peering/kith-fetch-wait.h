/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* kith-fetch-wait.h — the downloader a fetch job waits for (FIG. 7; docs/architecture.md):
 * a node that announced "downloading", or the one elected to fetch from the origin (the
 * lowest id among those that asked at the same time, kith-peer-table.h); what it announced,
 * and how long it has before it is given up on, never past the job's deadline */
#pragma once

#include "kith-fetch-deadline.h"

G_BEGIN_DECLS

/* leaders waited for before this node fetches from the origin itself (or gives up) */
#define KITH_FETCH_WAIT_MAX_ELECTIONS 3

typedef struct _KithFetchWait KithFetchWait;

/* @node stayed silent past its time; it is no longer waited for. */
typedef void (*KithFetchWaitSilentFunc) (const gchar *node, gpointer user_data);

/* Who fetches the file when nobody answered "I have" (kith_fetch_wait_choose()). */
typedef enum {
  KITH_FETCH_WAIT_DOWNLOADER, /* a node announced it downloads it: it is waited for */
  KITH_FETCH_WAIT_LEADER,     /* another node is elected: wait for its first word */
  KITH_FETCH_WAIT_SELF,       /* this node is elected */
  KITH_FETCH_WAIT_NOBODY,     /* no node may fetch it */
  KITH_FETCH_WAIT_NO_LEADER,  /* the nodes elected so far stayed silent: this node goes, if it may */
} KithFetchWaitChoice;

/* The wait of a job for @href with @context and @deadline (borrowed: they outlive it);
 * @silent is called from the main context. Caller owns. */
KithFetchWait *kith_fetch_wait_new (const KithPeeringContext *context, const gchar *href,
                                    KithFetchDeadline *deadline, KithFetchWaitSilentFunc silent,
                                    gpointer user_data);
void kith_fetch_wait_free (KithFetchWait *self);
/* The node waited for, or NULL; owned by @self. */
const gchar *kith_fetch_wait_get_node (KithFetchWait *self);
/* @node is waited for from now on (a node new to the wait has not announced yet); no timer. */
void kith_fetch_wait_follow (KithFetchWait *self, const gchar *node);
/* @node, if it is the one waited for, is not waited for any more. */
void kith_fetch_wait_forget (KithFetchWait *self, const gchar *node);
/* Follows @node and gives it @timeout_ms, but never past the deadline (@moving: the longer
 * bound for a downloader that makes progress), before @silent; replaces the timer in force. */
void kith_fetch_wait_arm (KithFetchWait *self, const gchar *node, guint timeout_ms, gboolean moving);
/* Stops the timer: no @silent. */
void kith_fetch_wait_stop (KithFetchWait *self);
/* A "downloading": TRUE when it renews the wait — from the node waited for, its first or
 * progress that moved (@moved) — FALSE for the same progress again, or another node. */
gboolean kith_fetch_wait_heard (KithFetchWait *self, const KithPacket *packet, gboolean *moved);
/* The progress the node waited for announced, 0 of 0 after kith_fetch_wait_clear_progress(). */
void kith_fetch_wait_get_progress (KithFetchWait *self, guint64 *done, guint64 *total);
void kith_fetch_wait_clear_progress (KithFetchWait *self);
/* Whether a bare "complete" of @node (no proof) is worth asking again: from the node waited
 * for, once per node. */
gboolean kith_fetch_wait_reask (KithFetchWait *self, const gchar *node);
/* How long a leader has for its first word: once elected (the others asked at about the same
 * time; their wait may end a little later), and after its partial copy ended (as long, not
 * stall-ms: one that went on would say so at once, one that died says nothing). */
guint kith_fetch_wait_get_leader_ms (KithFetchWait *self);
guint kith_fetch_wait_get_reannounce_ms (KithFetchWait *self);
/* Nobody answered "I have": the node waited for, else a downloader the peer table knows of
 * (waited for from now on), else the election among the requesters not in @left_out (this
 * node too if @may_use_origin); @node (owned by the peer table or @self) names the one. */
KithFetchWaitChoice kith_fetch_wait_choose (KithFetchWait *self, GHashTable *left_out,
                                            gboolean may_use_origin, const gchar **node);

G_END_DECLS
