/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* kith-agent-private.h — what only kith-agent itself calls: making, starting and stopping
 * the agent, and registering the services the plugins start. Not installed: a plugin is
 * given a running agent and never drives it. */
#pragma once

#include "kith-agent.h"
#include "kith-plugin-private.h"

G_BEGIN_DECLS

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

/* The plugins in start order (KithPlugin*); owned by the agent. */
GPtrArray *kith_agent_get_plugins (KithAgent *self);
/* Registers @service under @name (a ref is taken); the agent does it for each plugin as
 * the loader starts it, so a plugin finds the services it requires. */
void kith_agent_add_service (KithAgent *self, const gchar *name, GObject *service);
/* The agent's GetStatus answer: {"agent": a{sv}, PLUGIN: a{sv}, ...}; floating. */
GVariant *kith_agent_get_status (KithAgent *self);

G_END_DECLS
