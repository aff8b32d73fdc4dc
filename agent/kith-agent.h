/* kith-agent.h — the service manager: what every plugin is given */
#pragma once

#include <glib-object.h>

#include "kith-config.h"
#include "kith-dbus.h"
#include "kith-agent-error.h"
#include "kith-fetcher.h"
#include "kith-http.h"
#include "kith-metrics.h"
#include "kith-plugin.h"
#include "kith-task-broker.h"
#include "kith-transfer.h"

G_BEGIN_DECLS

#define KITH_TYPE_AGENT (kith_agent_get_type ())
G_DECLARE_FINAL_TYPE (KithAgent, kith_agent, KITH, AGENT, GObject)

/* An agent for @config (a ref is taken); nothing runs until kith_agent_start(). */
KithAgent *kith_agent_new (KithConfig *config);
/* Reads [agent], makes the state dir and node id, opens HTTP and D-Bus, loads and starts
 * the plugins. Fails when a plugin named in plugins= cannot run; one named in
 * optional-plugins= is logged and skipped. */
gboolean kith_agent_start (KithAgent *self, GError **error);
/* Validates the configuration without starting anything (`kith-agent --check-config`):
 * [agent] keys and values, groups, and that every required plugin loads with its
 * dependencies. A plugin's own group is checked when it starts. */
gboolean kith_agent_check_config (KithAgent *self, GError **error);
/* Stops plugins in reverse start order, then D-Bus and HTTP. Idempotent. */
void kith_agent_stop (KithAgent *self);

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
/* The plugins in start order (KithPlugin*); owned by the agent. */
GPtrArray *kith_agent_get_plugins (KithAgent *self);

/* Registers @service under @name (a ref is taken); plugins are registered by the loader. */
void kith_agent_add_service (KithAgent *self, const gchar *name, GObject *service);
/* The service registered under @name, or NULL; borrowed. */
GObject *kith_agent_get_service (KithAgent *self, const gchar *name);
/* The agent's GetStatus answer: {"agent": a{sv}, PLUGIN: a{sv}, ...}; floating. */
GVariant *kith_agent_get_status (KithAgent *self);

G_END_DECLS
