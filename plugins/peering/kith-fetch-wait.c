/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* kith-fetch-wait.c — the downloader a fetch job waits for */
#include "kith-fetch-wait.h"

struct _KithFetchWait {
  const KithPeeringContext *ctx;
  gchar *href;
  KithFetchDeadline *deadline; /* borrowed from the job */
  KithFetchWaitSilentFunc silent;
  gpointer user_data;
  gchar *node;    /* announcing or elected to download */
  gboolean heard; /* @node has announced since we began waiting for it */
  guint64 done;   /* what it announced */
  guint64 total;
  guint timer_id;
  guint elections;     /* leaders waited for so far */
  GHashTable *reasked; /* nodes whose bare "complete" made us ask again (once each) */
};

KithFetchWait *
kith_fetch_wait_new (const KithPeeringContext *context, const gchar *href, KithFetchDeadline *deadline,
                     KithFetchWaitSilentFunc silent, gpointer user_data)
{
  KithFetchWait *self = g_new0 (KithFetchWait, 1);

  self->ctx = context;
  self->href = g_strdup (href);
  self->deadline = deadline;
  self->silent = silent;
  self->user_data = user_data;
  self->reasked = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  return self;
}

void
kith_fetch_wait_free (KithFetchWait *self)
{
  kith_fetch_wait_stop (self);
  g_hash_table_unref (self->reasked);
  g_free (self->node);
  g_free (self->href);
  g_free (self);
}

const gchar *
kith_fetch_wait_get_node (KithFetchWait *self)
{
  return self->node;
}

void
kith_fetch_wait_follow (KithFetchWait *self, const gchar *node)
{
  if (g_strcmp0 (self->node, node) == 0)
    return;
  g_free (self->node);
  self->node = g_strdup (node);
  self->heard = FALSE;
}

void
kith_fetch_wait_forget (KithFetchWait *self, const gchar *node)
{
  if (g_strcmp0 (self->node, node) == 0)
    g_clear_pointer (&self->node, g_free);
}

static gboolean
kith_fetch_wait_timeout (gpointer user_data)
{
  KithFetchWait *self = user_data;
  g_autofree gchar *node = g_steal_pointer (&self->node);

  self->timer_id = 0;
  g_debug ("%s: %s went silent", self->href, node);
  self->silent (node, self->user_data);
  return G_SOURCE_REMOVE;
}

void
kith_fetch_wait_arm (KithFetchWait *self, const gchar *node, guint timeout_ms, gboolean moving)
{
  guint left_ms = G_MAXUINT;

  kith_fetch_wait_follow (self, node);
  kith_fetch_deadline_passed (self->deadline, moving, &left_ms);
  kith_fetch_wait_stop (self);
  self->timer_id = g_timeout_add (MIN (timeout_ms, left_ms), kith_fetch_wait_timeout, self);
}

void
kith_fetch_wait_stop (KithFetchWait *self)
{
  g_clear_handle_id (&self->timer_id, g_source_remove);
}

gboolean
kith_fetch_wait_heard (KithFetchWait *self, const KithPacket *packet, gboolean *moved)
{
  *moved = self->heard && packet->done > self->done;
  if (g_strcmp0 (packet->node, self->node) != 0)
    return FALSE; /* we follow one downloader at a time */
  if (self->heard && !*moved)
    return FALSE;
  self->heard = TRUE;
  self->done = packet->done;
  self->total = packet->total;
  return TRUE;
}

void
kith_fetch_wait_get_progress (KithFetchWait *self, guint64 *done, guint64 *total)
{
  *done = self->done;
  *total = self->total;
}

void
kith_fetch_wait_clear_progress (KithFetchWait *self)
{
  self->done = self->total = 0;
}

gboolean
kith_fetch_wait_reask (KithFetchWait *self, const gchar *node)
{
  return g_strcmp0 (node, self->node) == 0 && g_hash_table_add (self->reasked, g_strdup (node));
}

guint
kith_fetch_wait_get_leader_ms (KithFetchWait *self)
{
  return 2 * self->ctx->timings->client_wait_ms + self->ctx->timings->max_delay_ms;
}

guint
kith_fetch_wait_get_reannounce_ms (KithFetchWait *self)
{
  return MIN (self->ctx->timings->stall_ms, kith_fetch_wait_get_leader_ms (self));
}

KithFetchWaitChoice
kith_fetch_wait_choose (KithFetchWait *self, GHashTable *left_out, gboolean may_use_origin,
                        const gchar **node)
{
  if (self->node == NULL)
    self->node = g_strdup (kith_peer_table_find_downloader (self->ctx->peers, self->href, left_out));
  *node = self->node;
  if (self->node != NULL)
    return KITH_FETCH_WAIT_DOWNLOADER;
  *node = kith_peer_table_elect (self->ctx->peers, self->href, left_out, may_use_origin);
  if (*node == NULL)
    return KITH_FETCH_WAIT_NOBODY;
  if (g_strcmp0 (*node, self->ctx->node_id) == 0)
    return KITH_FETCH_WAIT_SELF;
  /* requesters that never download must not hold the election: after a few leaders that
   * stayed silent, this node goes itself */
  if (++self->elections > KITH_FETCH_WAIT_MAX_ELECTIONS)
    return KITH_FETCH_WAIT_NO_LEADER;
  return KITH_FETCH_WAIT_LEADER;
}
