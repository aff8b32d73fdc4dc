/* kith-error.h — the agent's error domain and its D-Bus names */
#pragma once

#include <glib.h>

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
 * @KITH_AGENT_ERROR_CANCELLED: the operation was cancelled
 *
 * Each code maps to a D-Bus error name org.kith.Error.* (see
 * data/org.kith.Agent1.xml), so clients receive the same codes.
 */
typedef enum {
  KITH_AGENT_ERROR_FAILED,
  KITH_AGENT_ERROR_CONFIG,
  KITH_AGENT_ERROR_PLUGIN,
  KITH_AGENT_ERROR_PLUGIN_MISSING,
  KITH_AGENT_ERROR_INVALID_ARGS,
  KITH_AGENT_ERROR_NOT_FOUND,
  KITH_AGENT_ERROR_CANCELLED,
} KithAgentError;

/* The error quark; also registers the org.kith.Error.* D-Bus names. */
GQuark kith_agent_error_quark (void);

G_END_DECLS
