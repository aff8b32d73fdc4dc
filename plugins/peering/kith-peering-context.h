/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* kith-peering-context.h — what the peering service gives its jobs and its server:
 * the shared objects they work with (owned by the service, outliving them all) */
#pragma once

#include <libsoup/soup.h>

#include "kith-agent.h"
#include "kith-alias-store.h"
#include "kith-partial-table.h"
#include "kith-peer-table.h"
#include "kith-peering-sender.h"
#include "kith-peering-timings.h"
#include "kith-peering-trust.h"
#include "kith-resume-table.h"

G_BEGIN_DECLS

typedef struct {
  const KithPeeringTimings *timings;
  const gchar *node_id;
  KithMetrics *metrics;
  KithAliasStore *store;
  SoupSession *session;
  KithPeerTable *peers;
  KithPeeringSender *sender;
  gboolean can_reach_origin; /* [agent] offline=false: this node may fetch from origins */
  KithPeeringTrust *trust;   /* [peering] trust=: whose copies are taken, which are vouched for */
  KithPartialTable *partials; /* our downloads in progress, served to peers while they grow */
  KithResumeTable *resumes;   /* whole-file downloads that broke mid-way, for the next attempt */
  KithAgent *agent;          /* for the services looked up when needed (the relay, for origin misses) */
} KithPeeringContext;

G_END_DECLS
