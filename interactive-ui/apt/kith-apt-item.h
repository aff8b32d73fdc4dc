/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* kith-apt-item.h — one file apt asks for (600 URI Acquire), from the request to its
 * answer: 200 URI Start, then 201 URI Done, 103 Redirect or 400 URI Failure. A file with
 * a SHA256 goes through the kith agent, and to the origin when the agent declines or
 * fails it; a file without one (InRelease, Release) goes to the origin directly. */
#pragma once

#include "kith-apt-kith.h"
#include "kith-apt-message.h"

#include <libsoup/soup.h>

G_BEGIN_DECLS

typedef struct _KithAptItem KithAptItem;

/* What the items of one method share. The method fills it in (again when apt's
 * configuration arrives), owns what it points to, and outlives its items. */
typedef struct {
  /* writes @message to apt (not taken) */
  void (*send) (KithAptMessage *message, gpointer user_data);
  /* @item has sent its last message and touches nothing after: the callee may free it */
  void (*answered) (KithAptItem *item, gpointer user_data);
  gpointer user_data;         /* of send and answered */
  SoupSession *session;       /* for downloads from the origin */
  KithAptKith *kith;          /* for downloads through the agent */
  gboolean direct_only;       /* Acquire::kith::Direct: never the agent */
  GCancellable *cancellable;  /* cancelled when apt goes away */
} KithAptItemContext;

/* The item for @request (taken), with @context; nothing is sent yet. Free it with
 * kith_apt_item_free() once it is answered or apt went away. */
KithAptItem *kith_apt_item_new (const KithAptItemContext *context, KithAptMessage *request);
/* Starts answering apt. A request without URI or Filename, or not for kith+http(s),
 * fails at once: context->answered may run before this returns. */
void kith_apt_item_run (KithAptItem *self);
/* apt went away: stops a fetch through the agent (the context's cancellable stops the rest). */
void kith_apt_item_cancel (KithAptItem *self);
void kith_apt_item_free (KithAptItem *self);

G_END_DECLS
