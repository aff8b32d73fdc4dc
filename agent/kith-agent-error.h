/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* kith-agent-error.h — the agent's error domain: the org.kith.Error.* codes */
#pragma once

#include <gio/gio.h>

G_BEGIN_DECLS

#define KITH_AGENT_ERROR (kith_agent_error_quark ())

/**
 * KithAgentError:
 * @KITH_AGENT_ERROR_FAILED: anything not covered below
 * @KITH_AGENT_ERROR_CONFIG: the configuration file is missing or wrong
 * @KITH_AGENT_ERROR_PLUGIN: a plugin could not be loaded or started
 * @KITH_AGENT_ERROR_PLUGIN_MISSING: a plugin or service asked for is not running
 * @KITH_AGENT_ERROR_INVALID_ARGS: a caller passed a malformed argument
 * @KITH_AGENT_ERROR_NOT_FOUND: the object asked for does not exist
 * @KITH_AGENT_ERROR_CANCELLED: the operation was cancelled (or its service stopped)
 * @KITH_AGENT_ERROR_PERMISSION_DENIED: the caller may not do this
 * @KITH_AGENT_ERROR_NOT_CONFIGURED: the service lacks configuration it needs for this call
 * @KITH_AGENT_ERROR_OFFLINE: [agent] offline=true forbids what the call needs
 *
 * Each code is one D-Bus error name org.kith.Error.* (the table in
 * data/kith-error-names.c, shared with libkith), so clients receive the same
 * codes. Plugins with an error domain of their own translate it into these
 * at their D-Bus face (kith_agent_error_return()).
 */
typedef enum {
  KITH_AGENT_ERROR_FAILED,
  KITH_AGENT_ERROR_CONFIG,
  KITH_AGENT_ERROR_PLUGIN,
  KITH_AGENT_ERROR_PLUGIN_MISSING,
  KITH_AGENT_ERROR_INVALID_ARGS,
  KITH_AGENT_ERROR_NOT_FOUND,
  KITH_AGENT_ERROR_CANCELLED,
  KITH_AGENT_ERROR_PERMISSION_DENIED,
  KITH_AGENT_ERROR_NOT_CONFIGURED,
  KITH_AGENT_ERROR_OFFLINE,
  KITH_AGENT_ERROR_LAST /*< skip >*/
} KithAgentError;

/* The error quark; also registers the org.kith.Error.* D-Bus names. */
GQuark kith_agent_error_quark (void);
/* The code @error is told to clients with: KITH_AGENT_ERROR codes as they are; G_IO_ERROR
 * cancelled, not-found, invalid-argument and permission-denied as their namesakes; anything
 * else FAILED. */
KithAgentError kith_agent_error_code_for (const GError *error);
/* Returns @error's message on @invocation as org.kith.Error.NAME of @code; a plugin passes
 * the code its own domain translates to, or kith_agent_error_code_for (@error). */
void kith_agent_error_return (GDBusMethodInvocation *invocation, KithAgentError code, const GError *error);
/* "org.kith.Error.NAME: message", how a failure is told in a property (Transfer1.Error). */
gchar *kith_agent_error_to_reason (KithAgentError code, const gchar *message);

G_END_DECLS
