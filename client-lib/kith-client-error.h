/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* kith-client-error.h — the one error domain every libkith call reports in */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

#define KITH_CLIENT_ERROR (kith_client_error_quark ())

/**
 * KithClientError:
 * @KITH_CLIENT_ERROR_FAILED: anything not covered below; the message says what
 * @KITH_CLIENT_ERROR_AGENT_NOT_RUNNING: no agent answers at the address or on the bus
 * @KITH_CLIENT_ERROR_PLUGIN_MISSING: the plugin a call needs is not running in the agent
 * @KITH_CLIENT_ERROR_INVALID_ARGS: an argument (or the agent address) is malformed
 * @KITH_CLIENT_ERROR_NOT_FOUND: the thing asked for does not exist
 * @KITH_CLIENT_ERROR_CANCELLED: the operation was cancelled (by the caller or the agent)
 * @KITH_CLIENT_ERROR_PERMISSION_DENIED: the bus or the agent refused the caller
 * @KITH_CLIENT_ERROR_NOT_CONFIGURED: the service lacks configuration it needs for the call
 *   (e.g. the update service without [agent] backend-url)
 * @KITH_CLIENT_ERROR_OFFLINE: the agent runs with [agent] offline=true, which forbids the call
 *
 * Errors the agent returns (every org.kith.Error.* name, and any other error a
 * service sent back) keep the agent's message and get the code that names them;
 * they are never AGENT_NOT_RUNNING. Transport errors (no socket, no bus, the bus
 * refused us, no reply) are converted too, with a sentence naming the agent's
 * address and what to do, so callers only ever see this domain.
 */
typedef enum {
  KITH_CLIENT_ERROR_FAILED,
  KITH_CLIENT_ERROR_AGENT_NOT_RUNNING,
  KITH_CLIENT_ERROR_PLUGIN_MISSING,
  KITH_CLIENT_ERROR_INVALID_ARGS,
  KITH_CLIENT_ERROR_NOT_FOUND,
  KITH_CLIENT_ERROR_CANCELLED,
  KITH_CLIENT_ERROR_PERMISSION_DENIED,
  KITH_CLIENT_ERROR_NOT_CONFIGURED,
  KITH_CLIENT_ERROR_OFFLINE,
  KITH_CLIENT_ERROR_LAST /*< skip >*/
} KithClientError;

/**
 * kith_client_error_quark:
 *
 * The error quark.
 */
GQuark kith_client_error_quark (void);
/**
 * kith_client_error_to_string:
 *
 * A stable lowercase name for @code ("agent-not-running"); static string.
 */
const gchar *kith_client_error_to_string (KithClientError code);

G_END_DECLS
