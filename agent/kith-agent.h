/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* kith-agent.h — the service manager: what every plugin is given (the daemon's own calls
 * are in kith-agent-private.h, not installed) */
#pragma once

#include <glib-object.h>

#include "kith-backend-route.h"
#include "kith-config.h"
#include "kith-dbus.h"
#include "kith-agent-error.h"
#include "kith-fetcher.h"
#include "kith-http.h"
#include "kith-metrics.h"
#include "kith-origin-relay.h"
#include "kith-plugin.h"
#include "kith-task-broker.h"
#include "kith-transfer.h"

G_BEGIN_DECLS

#define KITH_TYPE_AGENT (kith_agent_get_type ())
G_DECLARE_FINAL_TYPE (KithAgent, kith_agent, KITH, AGENT, GObject)

/* Borrowed accessors, valid while the agent lives. */
KithConfig *kith_agent_get_config (KithAgent *self);
KithHttp *kith_agent_get_http (KithAgent *self);
KithDbus *kith_agent_get_dbus (KithAgent *self);
KithMetrics *kith_agent_get_metrics (KithAgent *self);
/* 32 lowercase hex digits. */
const gchar *kith_agent_get_node_id (KithAgent *self);
const gchar *kith_agent_get_state_dir (KithAgent *self);
/* [agent] backend-url, or NULL when none is configured. */
const gchar *kith_agent_get_backend_url (KithAgent *self);
/* [agent] trust-anchor (a PEM file path), or NULL. */
const gchar *kith_agent_get_trust_anchor (KithAgent *self);
/* [agent] enrollment-token, or NULL. */
const gchar *kith_agent_get_enrollment_token (KithAgent *self);
/* [agent] offline: never contact the backend or any origin directly. */
gboolean kith_agent_get_offline (KithAgent *self);
/* How this node reaches its backend: direct, or through a relay (docs/relay.md); borrowed,
 * never NULL once the config is loaded. */
KithBackendRoute *kith_agent_get_backend_route (KithAgent *self);
/* Whether the backend may be contacted now: not offline, or through a relay. */
gboolean kith_agent_can_reach_backend (KithAgent *self);

/* The service registered under @name, or NULL; borrowed. */
GObject *kith_agent_get_service (KithAgent *self, const gchar *name);

G_END_DECLS
