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
 *
 * Errors the agent returns as org.kith.Error.* arrive with the matching
 * code; transport errors (GIO, GDBus) are converted too, so callers only
 * ever see this domain.
 */
typedef enum {
  KITH_CLIENT_ERROR_FAILED,
  KITH_CLIENT_ERROR_AGENT_NOT_RUNNING,
  KITH_CLIENT_ERROR_PLUGIN_MISSING,
  KITH_CLIENT_ERROR_INVALID_ARGS,
  KITH_CLIENT_ERROR_NOT_FOUND,
  KITH_CLIENT_ERROR_CANCELLED,
  KITH_CLIENT_ERROR_PERMISSION_DENIED,
  KITH_CLIENT_ERROR_LAST /*< skip >*/
} KithClientError;

/* The error quark; also registers the org.kith.Error.* D-Bus names. */
GQuark kith_client_error_quark (void);
/* A stable lowercase name for @code ("agent-not-running"); static string. */
const gchar *kith_client_error_to_string (KithClientError code);

G_END_DECLS
