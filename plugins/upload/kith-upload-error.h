/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* kith-upload-error.h — the upload plugin's error domain */
#pragma once

#include "kith-agent-error.h"

G_BEGIN_DECLS

#define KITH_UPLOAD_ERROR (kith_upload_error_quark ())

/**
 * KithUploadError:
 * @KITH_UPLOAD_ERROR_FAILED: anything not covered below
 * @KITH_UPLOAD_ERROR_TOO_LARGE: the report is larger than [upload] max-size
 * @KITH_UPLOAD_ERROR_DUPLICATE: a report of that name is already in the outbox
 * @KITH_UPLOAD_ERROR_NO_RECEIPT: no receipt for that upload (yet)
 * @KITH_UPLOAD_ERROR_UNSUPPORTED: the platform cannot do it (no fd passing)
 * @KITH_UPLOAD_ERROR_NOT_PENDING: no report of that name is in the outbox
 */
typedef enum {
  KITH_UPLOAD_ERROR_FAILED,
  KITH_UPLOAD_ERROR_TOO_LARGE,
  KITH_UPLOAD_ERROR_DUPLICATE,
  KITH_UPLOAD_ERROR_NO_RECEIPT,
  KITH_UPLOAD_ERROR_UNSUPPORTED,
  KITH_UPLOAD_ERROR_NOT_PENDING,
} KithUploadError;

GQuark kith_upload_error_quark (void);
/* The org.kith.Error.* code clients get for @error (any domain). */
KithAgentError kith_upload_error_to_agent (const GError *error);

G_END_DECLS
