/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* kith-update-error.h — the update plugin's error domain */
#pragma once

#include "kith-agent-error.h"

G_BEGIN_DECLS

#define KITH_UPDATE_ERROR (kith_update_error_quark ())

/**
 * KithUpdateError:
 * @KITH_UPDATE_ERROR_FAILED: anything not covered below
 * @KITH_UPDATE_ERROR_NOT_CONFIGURED: no [agent] backend-url or trust-anchor
 * @KITH_UPDATE_ERROR_OFFLINE: [agent] offline=true: this node may not fetch the catalog
 * @KITH_UPDATE_ERROR_CATALOG: the catalog could not be fetched or was rejected
 * @KITH_UPDATE_ERROR_FILE: a file could not be fetched or did not match the catalog
 * @KITH_UPDATE_ERROR_INSTALL: the new set could not be written or switched in
 * @KITH_UPDATE_ERROR_STOPPED: the service stopped while the check ran
 */
typedef enum {
  KITH_UPDATE_ERROR_FAILED,
  KITH_UPDATE_ERROR_NOT_CONFIGURED,
  KITH_UPDATE_ERROR_OFFLINE,
  KITH_UPDATE_ERROR_CATALOG,
  KITH_UPDATE_ERROR_FILE,
  KITH_UPDATE_ERROR_INSTALL,
  KITH_UPDATE_ERROR_STOPPED,
} KithUpdateError;

GQuark kith_update_error_quark (void);
/* The org.kith.Error.* code clients get for @error (any domain). */
KithAgentError kith_update_error_to_agent (const GError *error);

G_END_DECLS
