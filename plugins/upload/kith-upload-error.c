/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* kith-upload-error.c — the upload plugin's error domain, and the org.kith.Error.* code of each */
#include "kith-upload-error.h"

G_DEFINE_QUARK (kith-upload-error-quark, kith_upload_error)

KithAgentError
kith_upload_error_to_agent (const GError *error)
{
  if (error->domain != KITH_UPLOAD_ERROR)
    return kith_agent_error_code_for (error);
  switch (error->code) {
  case KITH_UPLOAD_ERROR_TOO_LARGE:
  case KITH_UPLOAD_ERROR_DUPLICATE:
    return KITH_AGENT_ERROR_INVALID_ARGS;
  case KITH_UPLOAD_ERROR_NO_RECEIPT:
  case KITH_UPLOAD_ERROR_NOT_PENDING:
    return KITH_AGENT_ERROR_NOT_FOUND;
  default:
    return KITH_AGENT_ERROR_FAILED;
  }
}
