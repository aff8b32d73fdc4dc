/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* kith-update-error.c — the update plugin's error domain, and the org.kith.Error.* code of each */
#include "kith-update-error.h"

G_DEFINE_QUARK (kith-update-error-quark, kith_update_error)

KithAgentError
kith_update_error_to_agent (const GError *error)
{
  if (error->domain != KITH_UPDATE_ERROR)
    return kith_agent_error_code_for (error);
  switch (error->code) {
  case KITH_UPDATE_ERROR_NOT_CONFIGURED:
    return KITH_AGENT_ERROR_NOT_CONFIGURED;
  case KITH_UPDATE_ERROR_OFFLINE:
    return KITH_AGENT_ERROR_OFFLINE;
  case KITH_UPDATE_ERROR_STOPPED:
    return KITH_AGENT_ERROR_CANCELLED;
  default:
    /* catalog, file and install failures: the message says which */
    return KITH_AGENT_ERROR_FAILED;
  }
}
